#!/usr/bin/env bash
# Property-based tests of both APIs: schemathesis generates requests from
# /v1/openapi.json (REST) and from schema.graphql (GraphQL queries and
# mutations, sent anonymously) against a real server on the sample data, and
# fails on any server error. Installs schemathesis into a virtualenv outside
# the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="$1"
examples="${2:-30}"
venv="${NEWSDESK_VENV:-$HOME/.cache/newsdesk/venv}"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis
fi

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$work/fuzz.db" NEWSDESK_BIND="127.0.0.1:$port" RUST_LOG=warn
# The fuzzer sends thousands of requests from one address.
export NEWSDESK_RATE_LIMIT_PER_MINUTE=0
"$binary" import tests/data/seed/*.txt > /dev/null
"$binary" serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
    sleep 0.2
done

"$venv/bin/st" run "http://127.0.0.1:$port/v1/openapi.json" \
    --checks not_a_server_error --max-examples "$examples" --no-color

# Typed GraphQL errors (UNAUTHENTICATED, BAD_USER_INPUT …) are answers, not
# failures: tests/schemathesis_hooks.py says what a server failure is here.
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=tests \
    "$venv/bin/st" run schema.graphql --url "http://127.0.0.1:$port/graphql" \
    --checks no_internal_error --max-examples "$examples" --no-color
