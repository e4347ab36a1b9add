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
# A generated newsroom (every 97th article a draft) and the sample page.
"$binary" dev seed --articles 400 --sections 12 --contributors 40 > /dev/null
"$binary" import tests/data/seed/*.txt > /dev/null
# What the public must never see (T-FZ-2): slugs and global ids of every
# article that is not public; the hook fails any response that shows one.
python3 - "$work/fuzz.db" "$work/hidden.json" <<'PY'
import base64, datetime, json, sqlite3, sys
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT id, slug FROM articles WHERE NOT (status IN ('published', 'scheduled') "
    "AND published_at IS NOT NULL AND published_at <= ?)", (now,)).fetchall()
markers = [slug for _, slug in rows]
markers += [base64.urlsafe_b64encode(f"Article:{i}".encode()).decode().rstrip("=") for i, _ in rows]
json.dump(markers, open(sys.argv[2], "w"))
print(f"{len(rows)} hidden articles seeded")
PY
export NEWSDESK_HIDDEN_MARKERS="$work/hidden.json"
"$binary" serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
    sleep 0.2
done

SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=tests \
    "$venv/bin/st" run "http://127.0.0.1:$port/v1/openapi.json" \
    --checks not_a_server_error,no_hidden_article --max-examples "$examples" --no-color

# Typed GraphQL errors (UNAUTHENTICATED, BAD_USER_INPUT …) are answers, not
# failures: tests/schemathesis_hooks.py says what a server failure is here.
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=tests \
    "$venv/bin/st" run schema.graphql --url "http://127.0.0.1:$port/graphql" \
    --checks no_internal_error,no_hidden_article --max-examples "$examples" --no-color
