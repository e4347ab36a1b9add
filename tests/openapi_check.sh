#!/usr/bin/env bash
# Checks the REST OpenAPI document against the server: openapi-spec-validator
# validates /v1/openapi.json as OpenAPI 3.1, then tests/openapi_check.py calls
# every documented route with valid and invalid input on a seeded database
# and validates each answer (status, headers, body) with openapi-core.
# Installs both into the virtualenv schema_fuzz.sh uses, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="$1"
venv="${NEWSDESK_VENV:-$HOME/.cache/newsdesk/venv}"
if ! "$venv/bin/python" -c 'import openapi_core, openapi_spec_validator' 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'openapi-core>=0.19,<0.20' 'openapi-spec-validator>=0.7,<0.8'
fi

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$work/openapi.db" NEWSDESK_BIND="127.0.0.1:$port" RUST_LOG=warn
export NEWSDESK_RATE_LIMIT_PER_MINUTE=0 NEWSDESK_JWT_SECRET=openapi-check-secret-0123456789abcdef
"$binary" dev seed --articles 40 --sections 4 --contributors 8 > /dev/null
sample="$("$binary" import tests/data/seed/000_a15393c2ad8b6a45.txt | sed -n 's/.*imported as article \([0-9]*\).*/\1/p')"
echo "openapi-check-password" | "$binary" user add --username legal --role legal > /dev/null
legal="$("$binary" token --sub legal --role legal --ttl 1h | tail -n 1)"
echo "openapi-check-password" | "$binary" user add --username editor --role editor > /dev/null
editor="$("$binary" token --sub editor --role editor --ttl 1h | tail -n 1)"
partner="$("$binary" partner add openapi-check | tail -n 1)"
# A key allowed one request a minute: its second request is a 429.
slow="$("$binary" partner add openapi-check-slow --requests-per-minute 1 | tail -n 1)"
export NEWSDESK_CHECK_SAMPLE="$sample" NEWSDESK_CHECK_LEGAL="$legal" NEWSDESK_CHECK_PARTNER="$partner" \
    NEWSDESK_CHECK_EDITOR="$editor" \
    NEWSDESK_CHECK_SLOW_PARTNER="$slow"
"$binary" serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
    sleep 0.2
done

"$venv/bin/python" tests/openapi_check.py "http://127.0.0.1:$port"
