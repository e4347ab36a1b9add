#!/usr/bin/env python3
"""`make test-cluster`: three API nodes on one PostgreSQL primary and a
streaming replica, checked for what only a cluster can get wrong.

    python3 tests/cluster/run.py BINARY [--changes 100] [--out FILE] [--bench SECONDS] [--keep]

Everything runs on loopback in a temporary folder: a private PostgreSQL
primary (initdb, free port, socket in the folder) and a hot standby made
with `pg_basebackup -R`, streaming from it; `BINARY migrate`, an editor, a
legal and an admin account with tokens from `BINARY token`, a generated
newsroom (`dev seed`) and the sample page; then three nodes (`BINARY serve`)
with DATABASE_URL = the primary, DATABASE_READ_URL = the replica, the
response cache on and NEWSDESK_CACHE_MAX_AGE=300, so that a fresh answer
within seconds can only come from cross-node invalidation, never from expiry.
Every process started here is stopped on exit, on failure and on Ctrl-C.

What is checked, and why:
  edit propagation  B and C serve an article from their response cache
                    (`X-Cache: hit`); it is edited on A; both serve the new
                    title within 1 s of A's reply, for every one of --changes
                    edits. A reader must not see an edit on one node and the
                    old text on the next page load from another.
  invalidations     B and C count invalidations received from other nodes
                    (`newsdesk_invalidations_received_total` in /metrics).
  replica reads     the replica ran read transactions while the nodes served
                    anonymous reads: the read URL is really used.
  takedown          A and C serve an article from their cache; a takedown is
                    filed and accepted on B; within 1 s neither A nor C shows
                    the article. A withdrawal for legal reasons must reach
                    every node, not only the one that made it.
  node loss         writers send createArticle to all three nodes while one
                    node is SIGKILLed: every acknowledged write (HTTP 200, no
                    errors) is in the primary afterwards, and the two other
                    nodes answer every request, reads and writes, throughout.
  scheduling        ~20 articles are scheduled 2 s ahead on the three nodes;
                    once due, each is `published` in the database, with
                    exactly one audit event `article.publish` by the
                    `scheduler`, and the script's webhook receiver got exactly
                    one `article.published` delivery for it. Three schedulers
                    and three webhook workers must not do anything twice.
  read throughput   with --bench: wrk on an anonymous article-page query
                    (cache warm), one node with 32 connections, then three
                    nodes at once with 11 each. Printed with the ratio; on a
                    machine with few cores the three share them, so the ratio
                    shows the cost of the cluster, not a speed-up.

The figures are printed as they are measured; --out writes them with the
result of every check as JSON. Exit status 0 only when every check passed.
"""

import argparse
import concurrent.futures
import datetime
import http.client
import http.server
import json
import math
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
import pgcluster  # noqa: E402
from server import Server, die_with_parent, free_port, run_cli  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED_PAGE = ROOT / "tests/data/seed/000_a15393c2ad8b6a45.txt"
JWT_SECRET = "cluster-secret-0123456789abcdef0123456789"
PASSWORD = "cluster-password-123"
HOOK_SECRET = "cluster-hook-secret-0123456789"
SECTION = "ji-qun-ce-shi"
ACCOUNTS = [("cluster-editor", "editor"), ("cluster-legal", "legal"), ("cluster-admin", "admin")]

PROPAGATION_LIMIT_MS = 1000
# How long a node is watched for a change before it counts as never arrived,
# and after how many such changes the edit check stops (each costs this long).
GIVE_UP_S = 3.0
MAX_MISSED_EDITS = 3
POLL_S = 0.005
REQUEST_TIMEOUT_S = 10
NODE_LOSS_SECONDS = 6.0
KILL_AFTER_S = 2.0
WRITERS_PER_NODE = 2
SCHEDULED_ARTICLES = 20
SCHEDULE_AHEAD_S = 2.0
SCHEDULER_POLL_MS = 200
WEBHOOK_POLL_MS = 200
DELIVERY_TIMEOUT_S = 20
DUPLICATE_GRACE_S = 3.0

ARTICLE_TITLE = "query($id: ID!) { article(id: $id) { title revision } }"
ARTICLE_PAGE = """query($id: ID!) { article(id: $id) { title summary paragraphs publishedAt
  section { name slug } breadcrumb { name slug } source { name } byline { name role } editor { name }
  copyrightNotice { kind text } related(first: 5) { title url } } }"""
CREATE_SECTION = ("mutation($input: CreateSectionInput!) { createSection(input: $input) { slug } }")
CREATE = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId revision } }"
UPDATE = ("mutation($id: ID!, $revision: Int!, $input: UpdateArticleInput!) {"
          " updateArticle(id: $id, expectedRevision: $revision, input: $input) { revision title } }")
PUBLISH = "mutation($id: ID!) { publishArticle(id: $id) { revision status } }"
UNPUBLISH = "mutation($id: ID!) { unpublishArticle(id: $id) { status } }"
SCHEDULE = "mutation($id: ID!, $at: DateTime!) { publishArticle(id: $id, at: $at) { status publishedAt } }"
SUBMIT_TAKEDOWN = "mutation($input: TakedownInput!) { submitTakedownRequest(input: $input) { id state } }"
START_REVIEW = "mutation($id: ID!) { startTakedownReview(id: $id) { state } }"
ACCEPT_TAKEDOWN = "mutation($id: ID!) { acceptTakedownRequest(id: $id, note: \"權屬清楚\") { state } }"
COUNTER_NOTICE = ("mutation($id: ID!) { fileCounterNotice(id: $id, input: {name: \"經濟導報\","
                  " contact: \"0531-85196503\", address: \"濟南市濼源大街2號\","
                  " statement: \"持有轉載授權\"}) { state } }")
RESTORE = "mutation($id: ID!) { decideCounterNotice(id: $id, restore: true) { state } }"
REGISTER_WEBHOOK = ("mutation($url: String!, $secret: String!) { registerWebhook(url: $url,"
                    " events: [\"article.published\"], secret: $secret) { databaseId } }")


def log(message):
    print(message, file=sys.stderr, flush=True)


def say(message):
    """A figure or a result, on stdout."""
    print(message, flush=True)


def percentile(values, p):
    """Nearest-rank percentile; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rounded(value, digits=1):
    return None if value is None else round(value, digits)


def rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- HTTP


class Reply:
    """One HTTP answer: status, headers (lower-case names) and the JSON body if any."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.body = json.loads(raw)
        except ValueError:
            self.body = None

    @property
    def errors(self):
        if not isinstance(self.body, dict):
            return []
        return self.body.get("errors") or []

    @property
    def data(self):
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def ok(self):
        """HTTP 200 with data and no GraphQL errors: an acknowledged operation."""
        return self.status == 200 and self.data is not None and not self.errors

    @property
    def cache_hit(self):
        return self.headers.get("x-cache") == "hit"

    def describe(self):
        codes = [(e.get("extensions") or {}).get("code") or e.get("message") for e in self.errors]
        return f"HTTP {self.status}" + (f" {codes}" if codes else "")


def http_request(port, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT_S):
    """One request on a fresh connection; raises OSError or HTTPException when there is no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
    finally:
        conn.close()


def graphql_path(query, variables):
    """The GET URL of an anonymous, cacheable query."""
    return "/graphql?" + urllib.parse.urlencode(
        {"query": query, "variables": json.dumps(variables, separators=(",", ":"))})


# ---------------------------------------------------------------- processes


class Node(Server):
    """One `newsdesk serve` of the cluster, restartable after SIGKILL."""

    def __init__(self, name, binary, env, port, folder):
        super().__init__(binary, env, port, folder, log_name=f"node-{name}.log",
                         label=f"start node {name}")
        self.name = name

    def get(self, path, timeout=REQUEST_TIMEOUT_S):
        return http_request(self.port, "GET", path, timeout=timeout)

    def post(self, query, variables=None, token=None, timeout=REQUEST_TIMEOUT_S):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=False)
        return http_request(self.port, "POST", "/graphql", body.encode(), headers, timeout=timeout)

    def must(self, query, variables=None, token=None):
        """A set-up operation that has to succeed; returns its data."""
        reply = self.post(query, variables, token)
        if not reply.ok:
            raise RuntimeError(f"node {self.name}: {query.split('(')[0]}: {reply.describe()}: "
                               f"{reply.raw[:300]!r}")
        return reply.data

    def metric(self, name):
        """Sum of a Prometheus counter over its labels; None when /metrics does not have it."""
        text = self.get("/metrics").raw.decode(errors="replace")
        values = [float(m.group(1)) for m in
                  re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})?\s+([0-9.eE+-]+)\s*$", text, re.M)]
        return sum(values) if values else None


class WebhookReceiver:
    """An HTTP endpoint in this process that records every delivery and answers 200."""

    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    event = json.loads(raw)
                except ValueError:
                    event = None
                with receiver.lock:
                    receiver.deliveries.append({
                        "event": event, "received": time.monotonic(),
                        "delivery": self.headers.get("X-Newsdesk-Delivery"),
                        "name": self.headers.get("X-Newsdesk-Event")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- results


class Results:
    """Figures and pass/fail per check, printed as they come and written as JSON."""

    def __init__(self):
        self.checks = {}
        self.figures = {}

    def check(self, name, passed, detail):
        self.checks[name] = {"passed": bool(passed), "detail": detail}
        say(f"{'PASS' if passed else 'FAIL'} {name}: {detail}")

    def figure(self, name, value):
        self.figures[name] = value

    @property
    def passed(self):
        return bool(self.checks) and all(c["passed"] for c in self.checks.values())


# ---------------------------------------------------------------- set-up


class Cluster:
    """The PostgreSQL pair, the nodes and the newsroom they serve."""

    def __init__(self, binary, folder):
        self.binary = binary
        self.folder = folder
        self.pg_log = open(folder / "postgres.log", "ab")
        self.primary = None
        self.replica = None
        self.nodes = []
        self.tokens = {}
        self.env = None
        self.sample_article = None

    def start_postgres(self):
        log("starting a private PostgreSQL primary and a streaming replica")
        self.primary = pgcluster.make_primary(self.folder / "primary", free_port(), self.pg_log,
                                              preexec_fn=die_with_parent)
        self.replica = pgcluster.make_replica(self.primary, self.folder / "replica", free_port(),
                                              self.pg_log, preexec_fn=die_with_parent)
        pgcluster.wait_streaming(self.primary, self.replica)
        log(f"primary on port {self.primary.port}, replica on port {self.replica.port}, streaming")

    def node_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("NEWSDESK_", "DATABASE_", "PG", "RUST_LOG"))}
        env.update(
            DATABASE_URL=self.primary.url, DATABASE_READ_URL=self.replica.url,
            NEWSDESK_JWT_SECRET=JWT_SECRET, RUST_LOG="warn",
            NEWSDESK_PUBLIC_BASE_URL="https://news.example.test",
            NEWSDESK_MIGRATE_ON_START="0",
            NEWSDESK_CACHE_MAX_AGE="300", NEWSDESK_RESPONSE_CACHE_MB="64",
            NEWSDESK_RATE_LIMIT_PER_MINUTE="0", NEWSDESK_MUTATIONS_PER_MINUTE="0",
            NEWSDESK_WEBHOOK_ALLOW_PRIVATE="1", NEWSDESK_WEBHOOK_POLL_MS=str(WEBHOOK_POLL_MS),
            NEWSDESK_SCHEDULER_POLL_MS=str(SCHEDULER_POLL_MS))
        return env

    def prepare_database(self):
        """Migrations, accounts, tokens, a generated newsroom and the sample page."""
        self.env = self.node_env()
        cli_env = dict(self.env)
        cli_env.pop("DATABASE_READ_URL")
        log("migrating and creating accounts")
        run_cli(self.binary, cli_env, self.folder, "migrate")
        for name, role in ACCOUNTS:
            run_cli(self.binary, cli_env, self.folder, "user", "add", "--username", name,
                    "--role", role, stdin=PASSWORD + "\n")
            out = run_cli(self.binary, cli_env, self.folder, "token", "--sub", name, "--role", role,
                          "--ttl", "2h")
            self.tokens[role] = out.strip().splitlines()[-1]
        run_cli(self.binary, cli_env, self.folder, "dev", "seed", "--articles", "300",
                "--sections", "12", "--contributors", "60")
        out = run_cli(self.binary, cli_env, self.folder, "import", str(SEED_PAGE))
        self.sample_article = int(re.search(r"imported as article (\d+)", out).group(1))

    def start_nodes(self):
        self.nodes = [Node(name, self.binary, self.env, free_port(), self.folder) for name in "ABC"]
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            if not node.wait_ready():
                raise RuntimeError(f"node {node.name} did not become ready:\n{node.log_tail()}")
        log("nodes ready: " + ", ".join(f"{n.name} on {n.port}" for n in self.nodes))

    def create_section(self):
        self.nodes[0].must(CREATE_SECTION, {"input": {"name": "集群測試", "slug": SECTION}},
                           self.tokens["editor"])

    def draft(self, node, title):
        data = node.must(CREATE, {"input": {"title": title, "section": SECTION,
                                            "paragraphs": [f"{title}：正文。"]}},
                         self.tokens["editor"])
        return data["createArticle"]["databaseId"]

    def published_article(self, node, title):
        article = self.draft(node, title)
        node.must(PUBLISH, {"id": str(article)}, self.tokens["editor"])
        return article

    def stop(self):
        for node in self.nodes:
            try:
                node.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping node {node.name}: {e}")
        for cluster in (self.replica, self.primary):
            if cluster is not None:
                try:
                    cluster.stop()
                except Exception as e:
                    log(f"stopping PostgreSQL on {cluster.port}: {e}")


# ---------------------------------------------------------------- helpers of the checks


def warm(node, path, attempts=20):
    """Requests `path` until the node answers it from its response cache; returns that reply or None."""
    for _ in range(attempts):
        reply = node.get(path)
        if reply.status == 200 and reply.cache_hit:
            return reply
    return None


def watch_until(node, path, arrived, started, give_up=GIVE_UP_S):
    """Polls `path` every POLL_S until `arrived(reply)`; milliseconds since `started`, or None."""
    deadline = started + give_up
    while time.monotonic() < deadline:
        try:
            reply = node.get(path, timeout=give_up)
            if arrived(reply):
                return (time.monotonic() - started) * 1000
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(POLL_S)
    return None


def title_of(reply):
    article = (reply.data or {}).get("article") if reply.status == 200 else None
    return article.get("title") if article else None


def replica_read_transactions(cluster):
    """Committed transactions the replica has counted on the newsroom database."""
    value = cluster.replica.value(
        f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{pgcluster.DATABASE}'",
        database="postgres")
    return int(value or 0)


def distribution(values):
    return {"count": len(values), "p50_ms": rounded(percentile(values, 50)),
            "p99_ms": rounded(percentile(values, 99)), "max_ms": rounded(max(values) if values else None)}


# ---------------------------------------------------------------- checks


def check_edit_propagation(cluster, results, changes):
    """--changes edits on A, each watched arriving on B and C, whose caches held the old title."""
    a, b, c = cluster.nodes
    editor = cluster.tokens["editor"]
    article = cluster.published_article(a, "集群測試：編輯傳播")
    path = graphql_path(ARTICLE_TITLE, {"id": str(article)})
    revision = a.must("query($id: ID!) { article(id: $id) { revision } }", {"id": str(article)},
                      editor)["article"]["revision"]
    delays = {"B": [], "C": []}
    missed, stale_warm, cold, rejected = [], 0, 0, 0
    log(f"edit propagation: {changes} edits of article {article} on A, watched on B and C")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for i in range(1, changes + 1):
            new_title = f"集群測試：第{i}次修改"
            for node in (b, c):
                reply = warm(node, path)
                if reply is None:
                    cold += 1
                elif i > 1 and title_of(reply) != f"集群測試：第{i - 1}次修改":
                    stale_warm += 1
            reply = a.post(UPDATE, {"id": str(article), "revision": revision,
                                    "input": {"title": new_title}}, editor)
            acknowledged = time.monotonic()
            if not reply.ok:
                rejected += 1
                log(f"  edit {i} rejected by A: {reply.describe()}")
                continue
            revision = reply.data["updateArticle"]["revision"]
            watches = {node.name: pool.submit(watch_until, node, path,
                                              lambda r, t=new_title: title_of(r) == t, acknowledged)
                       for node in (b, c)}
            for name, watch in watches.items():
                delay = watch.result()
                if delay is None:
                    missed.append((i, name))
                else:
                    delays[name].append(delay)
            if len({i for i, _ in missed}) >= MAX_MISSED_EDITS:
                log(f"  stopping after edit {i}: {MAX_MISSED_EDITS} edits never arrived within "
                    f"{GIVE_UP_S:.0f} s")
                break
    every = delays["B"] + delays["C"]
    figures = {"edits": i, "article": article, **distribution(every),
               "max_ms_by_node": {k: rounded(max(v) if v else None) for k, v in delays.items()},
               "missed": [f"edit {n} on {name}" for n, name in missed],
               "rejected": rejected, "cache_not_warm": cold, "stale_when_warming": stale_warm}
    results.figure("edit_propagation", figures)
    say(f"edit propagation A -> B, C: {len(every)} arrivals of {i} edits; p50 "
        f"{figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms; "
        f"{len(missed)} never arrived within {GIVE_UP_S:.0f} s")
    problems = []
    if missed:
        problems.append(f"{len(missed)} arrivals missing after {GIVE_UP_S:.0f} s "
                        f"(first: {figures['missed'][0]})")
    if every and max(every) >= PROPAGATION_LIMIT_MS:
        problems.append(f"max {figures['max_ms']} ms >= {PROPAGATION_LIMIT_MS} ms")
    if rejected:
        problems.append(f"{rejected} edits rejected by A")
    if cold:
        problems.append(f"{cold} warm-ups never showed X-Cache: hit")
    if i < changes:
        problems.append(f"stopped after {i} of {changes} edits")
    results.check("edit_propagation", not problems,
                  "; ".join(problems) or f"{i} edits, every one on B and C within "
                                          f"{figures['max_ms']} ms (limit {PROPAGATION_LIMIT_MS} ms)")


def check_invalidations_counted(cluster, results):
    counts = {node.name: cluster_metric(node, "newsdesk_invalidations_received_total")
              for node in cluster.nodes}
    results.figure("invalidations_received", counts)
    say(f"invalidations received: {counts}")
    missing = [name for name in "BC" if not counts.get(name)]
    results.check("invalidations_received", not missing,
                  f"newsdesk_invalidations_received_total {counts}" +
                  (f"; absent or 0 on {', '.join(missing)}" if missing else ""))


def cluster_metric(node, name):
    try:
        return node.metric(name)
    except (OSError, http.client.HTTPException):
        return None


def check_takedown_propagation(cluster, results):
    """An article cached on A and C is taken down on B; both stop showing it within 1 s."""
    a, b, c = cluster.nodes
    legal = cluster.tokens["legal"]
    article = cluster.published_article(a, "集群測試：被投訴稿件")
    path = graphql_path(ARTICLE_TITLE, {"id": str(article)})
    cold = [node.name for node in (a, c) if warm(node, path) is None]
    filed = b.must(SUBMIT_TAKEDOWN, {"input": {
        "claimantName": "集群測試權利人", "contactEmail": "rights@example.test",
        "contactAddress": "濟南市測試路1號", "articles": [str(article)],
        "rightsStatement": "本社擁有該作品著作權", "evidenceLinks": ["https://example.test/proof"],
        "reason": "未經授權轉載", "goodFaithStatement": True}}, legal)
    request = filed["submitTakedownRequest"]["id"]
    b.must(START_REVIEW, {"id": request}, legal)
    reply = b.post(ACCEPT_TAKEDOWN, {"id": request}, legal)
    accepted = time.monotonic()
    if not reply.ok or reply.data["acceptTakedownRequest"]["state"] != "ACCEPTED":
        results.check("takedown_propagation", False, f"accepting on B failed: {reply.describe()}")
        return

    def gone(r):
        # A withdrawn article is `null`, with the error UNAVAILABLE_FOR_LEGAL_REASONS.
        return r.status == 200 and isinstance(r.body, dict) and not (r.data or {}).get("article")

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        watches = {node.name: pool.submit(watch_until, node, path, gone, accepted, 5.0)
                   for node in (a, c)}
        delays = {name: watch.result() for name, watch in watches.items()}
    figures = {name: rounded(d) for name, d in delays.items()}
    results.figure("takedown_propagation_ms", figures)
    say(f"takedown on B -> gone on A, C: " +
        ", ".join(f"{k} {v} ms" if v is not None else f"{k} still shown after 5 s"
                  for k, v in figures.items()))
    late = [k for k, v in delays.items() if v is None or v >= PROPAGATION_LIMIT_MS]
    detail = (f"article {article} gone on A in {figures['A']} ms, on C in {figures['C']} ms"
              if not late else f"still shown (or later than {PROPAGATION_LIMIT_MS} ms) on "
                               f"{', '.join(late)}: {figures}")
    if cold:
        detail += f"; cache never warm on {', '.join(cold)}"
    results.check("takedown_propagation", not late and not cold, detail)
    check_two_holds_across_nodes(cluster, results, article, request, path, gone)


def check_search_propagation(cluster, results):
    """An article published on A is found by search on B and C within 1 s
    (each node's index follows the shared search log), and gone from both
    within 1 s of its unpublishing on A."""
    a, b, c = cluster.nodes
    marker = f"clustersearch{os.urandom(4).hex()}"
    path = "/v1/search?" + urllib.parse.urlencode({"q": marker})

    def total(reply):
        return reply.body.get("total") if reply.status == 200 and isinstance(reply.body, dict) else None

    for node in (b, c):
        node.get(path)  # a cached empty answer must be dropped too
    article = cluster.published_article(a, f"集群搜索 {marker}")
    published = time.monotonic()
    found = {n.name: watch_until(n, path, lambda r: total(r) == 1, published) for n in (b, c)}
    a.must(UNPUBLISH, {"id": str(article)}, cluster.tokens["editor"])
    unpublished = time.monotonic()
    gone = {n.name: watch_until(n, path, lambda r: total(r) == 0, unpublished) for n in (b, c)}
    figures = {"found": {k: rounded(v) for k, v in found.items()},
               "gone": {k: rounded(v) for k, v in gone.items()}}
    results.figure("search_propagation_ms", figures)
    say("published on A -> found by search on B, C: "
        + ", ".join(f"{k} {v} ms" for k, v in figures["found"].items())
        + "; unpublished on A -> gone from search on B, C: "
        + ", ".join(f"{k} {v} ms" for k, v in figures["gone"].items()))
    late = [f"{what} on {k}" for what, d in (("found", found), ("gone", gone))
            for k, v in d.items() if v is None or v >= PROPAGATION_LIMIT_MS]
    results.check("search_propagation", not late,
                  f"{figures}" + (f"; late or never: {', '.join(late)}" if late else ""))


def stream_events(node, seen, stop):
    """Reads `/v1/stream` of `node` until `stop` is set, recording when each
    `published` event's article arrived: seen[article id] = monotonic time."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=1)
    conn.request("GET", "/v1/stream")
    response = conn.getresponse()
    buffer = b""
    while not stop.is_set():
        try:
            chunk = response.read1(65536)
        except (TimeoutError, OSError):
            continue
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            text = block.decode("utf-8", "replace")
            if "event: published" not in text:
                continue
            for line in text.splitlines():
                if line.startswith("data: "):
                    seen.setdefault(json.loads(line[6:])["id"], time.monotonic())
    conn.close()


def check_live_propagation(cluster, results, publishes=20):
    """Publications on A reach `/v1/stream` subscribers on B and C: the delay
    from sending each publication to its event, p99 within 1 s."""
    a, b, c = cluster.nodes
    stop = threading.Event()
    seen = {"B": {}, "C": {}}
    readers = [threading.Thread(target=stream_events, args=(n, seen[n.name], stop), daemon=True)
               for n in (b, c)]
    for reader in readers:
        reader.start()
    time.sleep(0.5)  # the streams are open
    sent = {}
    for i in range(publishes):
        article = cluster.draft(a, f"集群推送第{i}條")
        # From the moment the publication is sent: its event may well come
        # before A's answer does.
        sent[article] = time.monotonic()
        a.must(PUBLISH, {"id": str(article)}, cluster.tokens["editor"])
        time.sleep(0.05)
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline and not all(
            set(sent) <= set(seen[name]) for name in seen):
        time.sleep(0.05)
    stop.set()
    delays = [(seen[name][k] - t) * 1000 for name in seen for k, t in sent.items()
              if k in seen[name]]
    missed = sum(k not in seen[name] for name in seen for k in sent)
    figures = distribution(delays)
    results.figure("live_propagation_ms", figures)
    say(f"published on A -> event on B and C's /v1/stream: p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms over {len(delays)} events"
        + (f", {missed} never arrived" if missed else ""))
    results.check("live_propagation",
                  not missed and figures["p99_ms"] is not None and figures["p99_ms"] < PROPAGATION_LIMIT_MS,
                  f"{figures}, missed {missed}")


def check_two_holds_across_nodes(cluster, results, article, first, path, gone):
    """A second request accepted on C holds the article while the first is
    restored on B; when the second is restored on A, B and C show it within 1 s."""
    a, b, c = cluster.nodes
    legal, editor = cluster.tokens["legal"], cluster.tokens["editor"]
    second = c.must(SUBMIT_TAKEDOWN, {"input": {
        "claimantName": "另一權利人", "contactEmail": "other@example.test",
        "contactAddress": "濟南市測試路2號", "articles": [str(article)],
        "rightsStatement": "本社擁有該作品著作權", "evidenceLinks": [],
        "reason": "未經授權轉載", "goodFaithStatement": True}}, legal)["submitTakedownRequest"]["id"]
    c.must(ACCEPT_TAKEDOWN, {"id": second}, legal)
    b.must(COUNTER_NOTICE, {"id": first}, editor)
    b.must(RESTORE, {"id": first}, legal)
    shown = [node.name for node in cluster.nodes if not gone(node.get(path))]
    a.must(COUNTER_NOTICE, {"id": second}, editor)
    a.must(RESTORE, {"id": second}, legal)
    released = time.monotonic()

    def back(r):
        return r.status == 200 and bool((r.data or {}).get("article"))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        watches = {node.name: pool.submit(watch_until, node, path, back, released, 5.0)
                   for node in (b, c)}
        delays = {name: watch.result() for name, watch in watches.items()}
    figures = {name: rounded(d) for name, d in delays.items()}
    results.figure("last_hold_release_ms", figures)
    say("first of two holds released on B -> still withdrawn on "
        f"{3 - len(shown)} of 3 nodes; last released on A -> back on B, C: {figures}")
    late = [k for k, v in delays.items() if v is None or v >= PROPAGATION_LIMIT_MS]
    problems = []
    if shown:
        problems.append(f"shown while {second} still holds it on {', '.join(shown)}")
    if late:
        problems.append(f"not back within {PROPAGATION_LIMIT_MS} ms on {', '.join(late)}: {figures}")
    results.check("two_holds_across_nodes", not problems,
                  "; ".join(problems) or f"held by {second} on every node after {first} was "
                                          f"restored; back on B and C in {figures}")


class WriteLog:
    """Every attempt of the node-loss writers and readers, by node."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = {}  # article id -> title
        self.attempts = {}  # node -> {"ok": n, "failed": n}
        self.failures = {}  # node -> [(seconds since start, what)]

    def record(self, node, ok, started, what=None, article=None, title=None):
        with self.lock:
            counts = self.attempts.setdefault(node, {"ok": 0, "failed": 0})
            counts["ok" if ok else "failed"] += 1
            if ok and article is not None:
                self.acknowledged[article] = title
            if not ok:
                self.failures.setdefault(node, []).append(
                    (round(time.monotonic() - started, 3), what))


def write_until(node, token, stop, started, writes, number):
    """createArticle in a loop until `stop`; records every acknowledged article."""
    n = 0
    while not stop.is_set():
        n += 1
        title = f"集群測試：節點{node.name}寫入{number}-{n}"
        try:
            reply = node.post(CREATE, {"input": {"title": title, "section": SECTION,
                                                 "paragraphs": ["節點失效測試。"]}}, token, timeout=5)
        except (OSError, http.client.HTTPException) as e:
            writes.record(node.name, False, started, type(e).__name__)
            time.sleep(0.05)
            continue
        if reply.ok:
            writes.record(node.name, True, started, article=reply.data["createArticle"]["databaseId"],
                          title=title)
        else:
            writes.record(node.name, False, started, reply.describe())


def read_until(node, path, stop, started, reads):
    while not stop.is_set():
        try:
            reply = node.get(path, timeout=5)
            reads.record(node.name, reply.status == 200 and not reply.errors, started,
                         reply.describe())
        except (OSError, http.client.HTTPException) as e:
            reads.record(node.name, False, started, type(e).__name__)
        time.sleep(0.01)


def check_node_loss(cluster, results):
    """Writers on all nodes, C SIGKILLed mid-run: no acknowledged write lost, A and B unharmed."""
    a, b, c = cluster.nodes
    editor = cluster.tokens["editor"]
    read_path = graphql_path(
        "query($s: String!) { articles(filter: {section: $s}, first: 5) { nodes { title } } }",
        {"s": SECTION})
    writes, reads = WriteLog(), WriteLog()
    stop = threading.Event()
    started = time.monotonic()
    threads = [threading.Thread(target=write_until, args=(node, editor, stop, started, writes, k))
               for node in cluster.nodes for k in range(WRITERS_PER_NODE)]
    threads += [threading.Thread(target=read_until, args=(node, read_path, stop, started, reads))
                for node in (a, b)]
    log(f"node loss: {len(threads)} writers and readers for {NODE_LOSS_SECONDS:.0f} s, "
        f"SIGKILL of node C after {KILL_AFTER_S:.0f} s")
    try:
        for t in threads:
            t.start()
        time.sleep(KILL_AFTER_S)
        c.kill()
        killed_at = time.monotonic() - started
        time.sleep(NODE_LOSS_SECONDS - KILL_AFTER_S)
    finally:
        stop.set()
        for t in threads:
            t.join()

    acknowledged = writes.acknowledged
    stored = {}
    ids = sorted(acknowledged)
    for chunk in range(0, len(ids), 500):
        in_list = ",".join(str(i) for i in ids[chunk:chunk + 500])
        for article, title in cluster.primary.psql(
                f"SELECT id, title FROM articles WHERE id IN ({in_list})"):
            stored[int(article)] = title
    lost = [i for i in ids if stored.get(i) != acknowledged[i]]
    survivor_failures = {name: len(writes.failures.get(name, [])) + len(reads.failures.get(name, []))
                         for name in "AB"}
    figures = {"killed": "C", "killed_after_s": round(killed_at, 2),
               "writes": writes.attempts, "reads": reads.attempts,
               "acknowledged": len(acknowledged), "lost": len(lost),
               "survivor_failures": survivor_failures,
               "failure_examples": {k: v[:5] for k, v in
                                    {**writes.failures, **{f"{n} reads": f for n, f in
                                                           reads.failures.items()}}.items()}}
    results.figure("node_loss", figures)
    say(f"node loss: {len(acknowledged)} acknowledged writes ({writes.attempts}), {len(lost)} lost; "
        f"reads {reads.attempts}; failures on survivors {survivor_failures}")
    results.check("acknowledged_writes_kept", not lost and acknowledged,
                  f"{len(acknowledged)} acknowledged creates, all in the primary" if not lost else
                  f"{len(lost)} of {len(acknowledged)} acknowledged creates missing, e.g. {lost[:5]}")
    failed = {k: v for k, v in survivor_failures.items() if v}
    results.check("survivors_keep_answering", not failed,
                  "A and B answered every read and write while C died" if not failed else
                  f"failures on survivors {failed}: "
                  f"{ {k: writes.failures.get(k, [])[:3] + reads.failures.get(k, [])[:3] for k in failed} }")
    log("restarting node C")
    c.start()
    if not c.wait_ready():
        raise RuntimeError(f"node C did not come back:\n{c.log_tail()}")


def check_scheduled_publishing(cluster, results):
    """~20 articles scheduled on the three nodes: published once, audited once, announced once."""
    editor, admin = cluster.tokens["editor"], cluster.tokens["admin"]
    receiver = WebhookReceiver()
    try:
        cluster.nodes[0].must(REGISTER_WEBHOOK, {"url": receiver.url, "secret": HOOK_SECRET}, admin)
        articles = [cluster.draft(cluster.nodes[k % 3], f"集群測試：定時發佈{k}")
                    for k in range(SCHEDULED_ARTICLES)]
        due = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=SCHEDULE_AHEAD_S)
        due_monotonic = time.monotonic() + SCHEDULE_AHEAD_S
        log(f"scheduling {len(articles)} articles for {rfc3339(due)} on the three nodes")
        not_scheduled = []
        for k, article in enumerate(articles):
            reply = cluster.nodes[k % 3].post(SCHEDULE, {"id": str(article), "at": rfc3339(due)}, editor)
            if not reply.ok or reply.data["publishArticle"]["status"] != "SCHEDULED":
                not_scheduled.append((article, reply.describe() if not reply.ok
                                      else reply.data["publishArticle"]["status"]))
        if time.monotonic() > due_monotonic:
            log("  warning: scheduling took longer than the lead time")
        in_list = ",".join(map(str, articles))

        def statuses():
            return {int(i): s for i, s in cluster.primary.psql(
                f"SELECT id, status FROM articles WHERE id IN ({in_list})")}

        deadline = due_monotonic + 10
        while time.monotonic() < deadline and any(s != "published" for s in statuses().values()):
            time.sleep(0.1)
        published_after = time.monotonic() - due_monotonic
        final = statuses()
        unpublished = {i: s for i, s in final.items() if s != "published"}

        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while time.monotonic() < deadline and len(delivered_articles(receiver, articles)) < len(articles):
            time.sleep(0.1)
        time.sleep(DUPLICATE_GRACE_S)
        per_article = delivered_articles(receiver, articles)
        deliveries = receiver.snapshot()
        audit = {int(i): int(n) for i, n in cluster.primary.psql(
            "SELECT target_id, count(*) FROM audit_events WHERE action = 'article.publish' "
            f"AND actor_role = 'scheduler' AND target_id IN ({in_list}) GROUP BY target_id")}
    finally:
        receiver.stop()

    wrong_audit = {i: audit.get(i, 0) for i in articles if audit.get(i, 0) != 1}
    wrong_hooks = {i: per_article.get(i, 0) for i in articles if per_article.get(i, 0) != 1}
    latencies = [(d["received"] - due_monotonic) * 1000 for d in deliveries
                 if article_of(d) in per_article]
    figures = {"articles": len(articles), "not_scheduled": not_scheduled,
               "all_published_after_due_s": round(published_after, 2) if not unpublished else None,
               "unpublished": unpublished, "scheduler_audit_events": sum(audit.values()),
               "audit_not_once": wrong_audit, "deliveries": len(deliveries),
               "deliveries_not_once": wrong_hooks,
               "delivery_after_due_ms": distribution(latencies)}
    results.figure("scheduled_publishing", figures)
    when = (f"all within {figures['all_published_after_due_s']} s of due" if not unpublished
            else "not all after due + 10 s")
    say(f"scheduled publishing: {len(articles) - len(unpublished)}/{len(articles)} published ({when}); "
        f"{sum(audit.values())} scheduler audit events; {len(deliveries)} webhook deliveries "
        f"(max {figures['delivery_after_due_ms']['max_ms']} ms after due)")
    results.check("scheduled_articles_published", not unpublished and not not_scheduled,
                  f"all {len(articles)} published" if not unpublished and not not_scheduled else
                  f"not scheduled: {not_scheduled[:3]}; status after due + 10 s: "
                  f"{summarise_statuses(unpublished)}")
    results.check("scheduler_audit_once", not wrong_audit,
                  f"one scheduler audit event per article ({len(articles)})" if not wrong_audit else
                  f"{len(wrong_audit)} articles without exactly one scheduler audit event; "
                  f"counts {summarise_statuses(wrong_audit)}")
    results.check("webhook_once", not wrong_hooks,
                  f"one article.published delivery per article ({len(articles)})" if not wrong_hooks else
                  f"{len(wrong_hooks)} articles without exactly one delivery; "
                  f"counts {summarise_statuses(wrong_hooks)}")


def article_of(delivery):
    event = delivery.get("event") or {}
    return (event.get("article") or {}).get("id")


def delivered_articles(receiver, articles):
    """article.published deliveries received per scheduled article."""
    wanted = set(articles)
    counts = {}
    for d in receiver.snapshot():
        event = d.get("event") or {}
        if event.get("event") == "article.published" and article_of(d) in wanted:
            counts[article_of(d)] = counts.get(article_of(d), 0) + 1
    return counts


def summarise_statuses(by_article):
    """{value: how many articles} of an {article: value} map."""
    summary = {}
    for value in by_article.values():
        summary[value] = summary.get(value, 0) + 1
    return summary


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("installing wrk from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    installed = subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if installed.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def start_wrk(node, path, connections, seconds):
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
         f"http://127.0.0.1:{node.port}{path}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)


def wrk_result(process):
    out = process.communicate()[0]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if process.returncode != 0 or not rps:
        raise RuntimeError(f"wrk failed: {out.strip()[-300:]}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)),
            "errors": (int(bad.group(1)) if bad else 0)
            + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0)}


def measure_read_throughput(cluster, results, seconds):
    """wrk on the article page: one node with 32 connections, then three nodes with 11 each at once."""
    ensure_wrk()
    article = cluster.sample_article
    path = graphql_path(ARTICLE_PAGE, {"id": str(article)})
    cold = [node.name for node in cluster.nodes if warm(node, path) is None]
    log(f"read throughput: article {article}, {seconds} s per run")
    one = wrk_result(start_wrk(cluster.nodes[0], path, 32, seconds))
    runs = [start_wrk(node, path, 11, seconds) for node in cluster.nodes]
    three = [wrk_result(p) for p in runs]
    total = sum(r["rps"] for r in three)
    ratio = total / one["rps"] if one["rps"] else None
    cores = os.cpu_count()
    figures = {"article": article, "seconds": seconds, "cores": cores,
               "one_node_rps": round(one["rps"]), "three_nodes_rps": round(total),
               "per_node_rps": [round(r["rps"]) for r in three], "ratio": rounded(ratio, 2),
               "errors": one["errors"] + sum(r["errors"] for r in three)}
    results.figure("read_throughput", figures)
    say(f"read throughput (article page, cache warm, {cores} cores shared by wrk, nodes and "
        f"PostgreSQL): one node {figures['one_node_rps']} req/s; three nodes "
        f"{figures['three_nodes_rps']} req/s ({' + '.join(map(str, figures['per_node_rps']))}); "
        f"ratio {figures['ratio']}")
    results.check("read_throughput_errors", not figures["errors"] and not cold,
                  f"{figures['errors']} errors" + (f"; cache never warm on {cold}" if cold else ""))


# ---------------------------------------------------------------- main


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", help="the newsdesk binary")
    parser.add_argument("--changes", type=int, default=100, help="edits watched propagating (100)")
    parser.add_argument("--out", type=pathlib.Path, help="write the summary as JSON here")
    parser.add_argument("--bench", type=int, metavar="SECONDS",
                        help="also measure read throughput with wrk for this long per run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        parser.error(f"{args.binary} is not an executable")
    if args.changes < 1:
        parser.error("--changes must be at least 1")
    return args


def stop_on_sigterm():
    """SIGTERM ends the run like Ctrl-C: through the clean-up in main."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def run_check(results, name, check, *args):
    """Runs one check; an exception fails it (and is shown) without stopping the others."""
    try:
        check(*args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:
        results.check(name, False, f"{type(e).__name__}: {e}")


def main():
    args = parse_args()
    stop_on_sigterm()
    started = time.monotonic()
    results = Results()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="newsdesk-cluster-"))
    folder.chmod(0o755)
    # A copy, so that a rebuild during the run cannot change the binary under the nodes.
    binary = folder / "newsdesk"
    shutil.copy2(args.binary, binary)
    cluster = Cluster(str(binary), folder)
    try:
        try:
            cluster.start_postgres()
            cluster.prepare_database()
            cluster.start_nodes()
            cluster.create_section()
            pgcluster.wait_replayed(cluster.primary, cluster.replica)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
            results.check("cluster_starts", False, f"{type(e).__name__}: {e}")
            raise
        results.check("cluster_starts", True,
                      "primary and streaming replica up; nodes A, B, C ready")
        replica_before = replica_read_transactions(cluster)
        run_check(results, "edit_propagation", check_edit_propagation, cluster, results, args.changes)
        run_check(results, "invalidations_received", check_invalidations_counted, cluster, results)
        run_check(results, "takedown_propagation", check_takedown_propagation, cluster, results)
        run_check(results, "search_propagation", check_search_propagation, cluster, results)
        run_check(results, "live_propagation", check_live_propagation, cluster, results)
        # Backends report their counters about once a second.
        time.sleep(1.5)
        replica_reads = replica_read_transactions(cluster) - replica_before
        results.figure("replica_read_transactions", replica_reads)
        results.check("replica_serves_reads", replica_reads > 0,
                      f"{replica_reads} transactions on the replica during the edit and takedown checks")
        run_check(results, "node_loss", check_node_loss, cluster, results)
        run_check(results, "scheduled_publishing", check_scheduled_publishing, cluster, results)
        if args.bench:
            run_check(results, "read_throughput", measure_read_throughput, cluster, results, args.bench)
    except (RuntimeError, subprocess.CalledProcessError, OSError):
        pass
    except KeyboardInterrupt:
        results.check("interrupted", False, "stopped by Ctrl-C or SIGTERM")
    finally:
        log("stopping nodes and PostgreSQL")
        cluster.stop()
        seconds = round(time.monotonic() - started, 1)
        results.figure("seconds", seconds)
        if args.out:
            args.out.write_text(json.dumps(
                {"passed": results.passed, "binary": args.binary, "checks": results.checks,
                 "figures": results.figures}, ensure_ascii=False, indent=2) + "\n")
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
        failed = [name for name, c in results.checks.items() if not c["passed"]]
        say(f"cluster test {'passed' if results.passed else 'FAILED: ' + ', '.join(failed)} "
            f"in {seconds} s")
    return 0 if results.passed else 1


if __name__ == "__main__":
    sys.exit(main())
