# newsdesk — the README's commands, one target each.
# Builds share a target folder outside the clone so a fresh clone does not
# rebuild everything from nothing.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/newsdesk/target
DATABASE_URL ?= sqlite://newsdesk.db
NEWSDESK_BIND ?= 127.0.0.1:8080
PG_URL := $(or $(DATABASE_URL_PG),postgres://postgres@127.0.0.1:5432/postgres)
RELEASE := $(CARGO_TARGET_DIR)/release/newsdesk
SEED := tests/data/seed/*.txt

.PHONY: docs-check run build test check-pg schema lint audit bench bench-peers fuzz fuzz-targets durability durability-ci test-cluster js-deps py-deps monitoring-deps xml-deps graphiql

DEV_SECRET := .newsdesk-dev-secret

## Build (release), migrate an SQLite file, import the sample page, serve with GraphiQL.
## Tokens are signed with NEWSDESK_JWT_SECRET, or a random secret kept in .newsdesk-dev-secret.
## RUN_BUILD= skips the build (the docs check runs this recipe with a debug binary as RELEASE).
RUN_BUILD ?= build
run: $(RUN_BUILD) $(DEV_SECRET)
	DATABASE_URL=$(DATABASE_URL) $(RELEASE) migrate
	DATABASE_URL=$(DATABASE_URL) $(RELEASE) import $(SEED)
	@echo "GraphiQL: http://$(NEWSDESK_BIND)/graphql"
	DATABASE_URL=$(DATABASE_URL) NEWSDESK_BIND=$(NEWSDESK_BIND) NEWSDESK_GRAPHIQL=1 \
		NEWSDESK_INTROSPECTION=1 NEWSDESK_JWT_SECRET=$${NEWSDESK_JWT_SECRET:-$$(cat $(DEV_SECRET))} \
		$(RELEASE) serve

$(DEV_SECRET):
	@python3 -c 'import secrets; print(secrets.token_hex(32))' > $@
	@echo "made a development JWT secret in $@"

## The release build, naming its commit in `newsdesk_build_info`.
build:
	NEWSDESK_GIT_SHA=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) cargo build --release

DEBUG := $(CARGO_TARGET_DIR)/debug/newsdesk

## Every test, on SQLite and on PostgreSQL (NEWSDESK_SKIP_PG=1 skips PostgreSQL, loudly):
## a time-boxed schemathesis run against the REST OpenAPI document, every REST answer
## validated against that document (openapi-core), every command and example of
## README.md and docs/ (tests/docs_check.py, against `make run`), the Rust tests (some run the
## Node clients of tests/js: graphql-js, graphql-http, codegen),
## the kill -9 durability harness (bounded) and the three-node cluster test.
test: check-pg audit js-deps py-deps browser-deps monitoring-deps xml-deps
	cargo build
	bash tests/schema_fuzz.sh $(DEBUG) 30
	bash tests/openapi_check.sh $(DEBUG)
	python3 tests/docs_check.py $(DEBUG)
	cargo test --all-targets
	$(MAKE) --no-print-directory durability-ci test-cluster

## The Node packages of the front-end contract tests (tests/js), installed from
## the lock file and kept until the lock file changes.
JS_DEPS := tests/js/node_modules/.package-lock.json
js-deps: $(JS_DEPS)
$(JS_DEPS): tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	@touch $@

## The Python clients of the tests (gql with its WebSocket transport) and
## moto's S3-compatible server (the media store's bucket tests start it on a
## loopback port), the OpenTelemetry protobuf definitions (the OTLP receiver
## of the trace tests), the Prometheus client's OpenMetrics parser and the
## JSON-LD processor PyLD (the structured-data tests), in the virtualenv the
## OpenAPI check and schemathesis use.
VENV := $(or $(NEWSDESK_VENV),$(HOME)/.cache/newsdesk/venv)
py-deps:
	@[ -x "$(VENV)/bin/python" ] || python3 -m venv "$(VENV)"
	@"$(VENV)/bin/python" -c 'import gql, websockets, moto.server, opentelemetry.proto, prometheus_client, pyld' 2>/dev/null || \
		"$(VENV)/bin/pip" install --quiet 'gql[websockets]>=3.5,<5' 'moto[server]>=5,<6' 'opentelemetry-proto>=1.30,<2' 'prometheus-client>=0.20,<1' 'PyLD>=2.0.4,<3'

## xmllint for the sitemap tests (Debian's libxml2-utils, through apt-get,
## as root or with sudo); the schemas are kept in tests/xsd.
xml-deps:
	@command -v xmllint >/dev/null || { \
		sudo=; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
		$$sudo apt-get update -qq && \
		$$sudo apt-get install -y --no-install-recommends libxml2-utils; } || { \
		echo "cannot install libxml2-utils (xmllint) with apt-get" >&2; exit 1; }

## promtool for the metrics tests (Debian's prometheus package, through
## apt-get, as root or with sudo); the package's own server is not used.
monitoring-deps:
	@command -v promtool >/dev/null || { \
		sudo=; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
		$$sudo apt-get update -qq && \
		$$sudo apt-get install -y --no-install-recommends prometheus; } || { \
		echo "cannot install prometheus (promtool) with apt-get" >&2; exit 1; }

## Chromium for the browser tests (Debian's package, through apt-get, as root or
## with sudo), unless NEWSDESK_CHROMIUM names one or NEWSDESK_SKIP_BROWSER=1.
browser-deps:
	@if [ "$$NEWSDESK_SKIP_BROWSER" = "1" ]; then \
		echo "!!! NEWSDESK_SKIP_BROWSER=1: the Chromium tests are SKIPPED !!!"; \
	elif [ -n "$$NEWSDESK_CHROMIUM" ] || command -v chromium >/dev/null; then :; \
	else \
		sudo=; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
		{ $$sudo apt-get update -qq && \
		  $$sudo apt-get install -y --no-install-recommends chromium; } || { \
			echo "cannot install chromium: set NEWSDESK_CHROMIUM, or NEWSDESK_SKIP_BROWSER=1" >&2; \
			exit 1; }; \
	fi

## Rebuild assets/graphiql/ (GraphiQL 5 and React, bundled by esbuild) from
## tools/graphiql; the built files are committed, so `make run` needs no npm.
graphiql:
	cd tools/graphiql && npm ci --no-audit --no-fund && node build.mjs

## kill -9 at random moments under 8 concurrent writers, then every acknowledged
## write is checked: 50 cycles on SQLite (synchronous FULL and NORMAL) and on
## PostgreSQL, 20 killing PostgreSQL itself, and 10 each stopping the server with
## SIGINT and SIGQUIT.
durability: build
	python3 tests/durability/run.py $(RELEASE) --engine sqlite,postgres --cycles 50 \
		--out bench/results/durability-api.json
	python3 tests/durability/run.py $(RELEASE) --engine sqlite --sqlite-synchronous normal \
		--cycles 50 --out bench/results/durability-sqlite-normal.json
	python3 tests/durability/run.py $(RELEASE) --engine postgres --kill postgres --cycles 20 \
		--out bench/results/durability-postgres.json
	python3 tests/durability/run.py $(RELEASE) --engine sqlite,postgres --signal int --cycles 10
	python3 tests/durability/run.py $(RELEASE) --engine sqlite,postgres --signal quit --cycles 10

## The bounded form run by `make test`.
durability-ci:
	@if [ "$$NEWSDESK_SKIP_PG" = "1" ]; then engines=sqlite; else engines=sqlite,postgres; fi; \
	python3 tests/durability/run.py $(DEBUG) --engine $$engines --cycles 20
	python3 tests/durability/run.py $(DEBUG) --engine sqlite --sqlite-synchronous normal --cycles 5
	python3 tests/durability/run.py $(DEBUG) --engine sqlite --signal int --cycles 3
	python3 tests/durability/run.py $(DEBUG) --engine sqlite --signal quit --cycles 3
	@if [ "$$NEWSDESK_SKIP_PG" != "1" ]; then \
		python3 tests/durability/run.py $(DEBUG) --engine postgres --kill postgres --cycles 5; fi

## A private PostgreSQL primary and streaming replica, three nodes: invalidation
## delays, takedowns across nodes, node loss, exactly-once scheduled publishing.
test-cluster:
	@if [ "$$NEWSDESK_SKIP_PG" = "1" ]; then \
		echo "!!! NEWSDESK_SKIP_PG=1: the cluster test is SKIPPED !!!"; \
	else python3 tests/cluster/run.py $(DEBUG) --changes 100; fi

## Longer generated runs: schemathesis with 500 examples per operation, and the
## fuzz targets for 10 minutes each (FUZZ_SECONDS=3600 for a nightly hour).
fuzz:
	cargo build
	bash tests/schema_fuzz.sh $(DEBUG) 500
	$(MAKE) --no-print-directory fuzz-targets FUZZ_SECONDS=$${FUZZ_SECONDS:-600}

## Each property-test fuzz target (importer, search query, cursors, webhook URLs)
## for FUZZ_SECONDS (5 minutes; CI runs this), two at a time, every case under 2 s
## and every run under 512 MB.
FUZZ_SECONDS ?= 300
fuzz-targets:
	python3 tests/fuzz/run.py --seconds $(FUZZ_SECONDS) --jobs 2 --out bench/results/fuzz.json

## Supply chain, with cargo-deny (installed on first use): licences, banned crates
## and sources; RustSec advisories from the live database, or, where github.com
## cannot be reached, from a snapshot of it (NEWSDESK_ADVISORY_DB, else
## ../shared/advisory-db, else /work/shared/advisory-db; tests/advisories.sh).
## With neither, a loud message (NEWSDESK_REQUIRE_ADVISORIES=1 makes it fail).
CARGO_DENY_VERSION := 0.20.2
audit:
	@cargo deny --version 2>/dev/null | grep -q "$(CARGO_DENY_VERSION)" || \
		cargo install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	cargo deny check licenses bans sources
	bash tests/advisories.sh

## Starts PostgreSQL and Redis when they are down, then checks PostgreSQL answers.
check-pg:
	@bash tests/services.sh
	@if [ "$$NEWSDESK_SKIP_PG" = "1" ]; then \
		echo "!!! NEWSDESK_SKIP_PG=1: PostgreSQL tests are SKIPPED; only SQLite is tested !!!"; \
	elif ! pg_isready -q -d "$(PG_URL)" 2>/dev/null; then \
		echo "PostgreSQL is not reachable at $(PG_URL): start it, set DATABASE_URL_PG, or set NEWSDESK_SKIP_PG=1" >&2; \
		exit 1; \
	fi

## Every link, command and example of README.md and docs/, run against `make run`.
docs-check:
	cargo build
	python3 tests/docs_check.py $(DEBUG)

## Regenerate schema.graphql and openapi.json from the code.
schema:
	cargo run --quiet -- schema > schema.graphql
	cargo run --quiet -- openapi > openapi.json

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

## Measurements (release build): Q1-Q7 on a generated 100,000-article newsroom on
## SQLite and PostgreSQL, cold and warm, against a /healthz baseline; the import rate;
## how fast hostile documents are refused and the other timings of SECURITY.md section 8;
## one node against three; live updates; pictures (upload to first rendition,
## warm renditions per second); what metrics and traces cost on Q1; a 50,000-URL sitemap page.
## BENCH_ARTICLES, BENCH_SECONDS, BENCH_ENGINES, BENCH_REUSE=1: see bench/run.py.
bench: build check-pg js-deps py-deps
	python3 bench/run.py $(RELEASE)
	python3 bench/limits.py $(RELEASE)
	python3 bench/live.py $(RELEASE)
	python3 bench/telemetry.py $(RELEASE)
	BENCH_REUSE=1 python3 bench/sitemap.py $(RELEASE)
	python3 bench/media.py $(RELEASE)
	python3 tests/cluster/run.py $(RELEASE) --changes 100 --bench 10 --out bench/results/cluster.json

## newsdesk's cold path against PostGraphile 5 on the same PostgreSQL and the same
## rows (installed from the npm registry, with Node 22 when the system's is older),
## and pgbench on the page's SQL: Q1 and Q2, bench/results/peers-DATE.md.
bench-peers: build check-pg
	python3 bench/peers.py $(RELEASE)
