#!/usr/bin/env python3
"""Durability harness (SECURITY.md, I. Durability: T-DUR-1, 4 and 5): an
acknowledged-write ledger checked against the database after the server (or
its PostgreSQL) was killed with SIGKILL, K times, under concurrent writes.

    python3 tests/durability/run.py BINARY --engine sqlite|postgres --cycles K
        [--writers 8] [--kill api|postgres] [--seed N] [--out summary.json]
        [--settle 60] [--keep] [--no-idempotency-key]

`--engine sqlite,postgres` runs both, one after the other. The temporary
folder (ledger.jsonl, server.log, the database) is removed after a passing
run and kept after a failing one. `--no-idempotency-key` is a control run:
retries go without the header, and the checks must then find duplicates.

Each engine runs on a database of its own in a temporary folder: an SQLite
file, or a private PostgreSQL cluster (initdb, a free loopback port, its
durable defaults fsync=on and synchronous_commit=on). C writer threads send
createArticle, updateArticle (of articles they created and saw acknowledged)
and a takedown flow (publishArticle, submitTakedownRequest as a claimant,
acceptTakedownRequest), each step its own operation. Every operation carries
a fresh `Idempotency-Key`, a marker in its content (title, summary, body,
takedown reason or note) and `X-Request-Id: MARKER.ATTEMPT`, which the server
stores on every audit event: so each effect can be found in the database and
each attempt that took effect can be counted. createArticle lets the server
make the slug, so a retried create without idempotency could make a second
article and "one article per key" is a real check.

Every attempt is appended to a ledger (JSON lines, flushed and fsync'd) in a
folder apart from the database's, with its outcome:
  ok       HTTP 200 without GraphQL errors (a replay, `Idempotent-Replayed:
           true`, included), or the error IDEMPOTENT_REPLY_LOST (the original
           committed, its reply was not kept);
  fail     a definite refusal: 4xx, or a GraphQL error such as BAD_USER_INPUT,
           CONFLICT, NOT_FOUND;
  unknown  no answer (timeout, reset, refused), 5xx/503, SERVICE_UNAVAILABLE
           or INTERNAL, or 409 IDEMPOTENCY_KEY_IN_USE (the original may still
           be running).
Unknown operations are sent again, same key and same bytes, concurrently with
the next cycles and at the end, until they get a definite answer.

A killer waits a random 0.2-2 s (seeded), SIGKILLs the API (`--kill api`,
then restarts it) or the postmaster (`--kill postgres`, then restarts
PostgreSQL; the API must come back by itself, without a restart), K times.

What is checked, and why:
  crash image    after every kill, every create acknowledged so far is in the
                 database (for SQLite: a copy of the files as the crash left
                 them, with PRAGMA integrity_check = ok and the time of
                 quick_check). An acknowledgement is a promise that the write
                 survives a crash (T-DUR-1, T-DUR-4).
  no ok lost     at the end, every ok operation's effect is there: the created
                 article (by marker), the update's title in the article's
                 revision history, the publish and acceptance in the audit
                 log, the takedown request and its ACCEPTED state with the
                 article held. Each ok operation has an audit event
                 from one of its attempts.
  fail absent    no operation whose final answer was `fail` took effect (no
                 audit event with its request id, no row with its marker). A
                 definite error must mean "nothing happened", or a client
                 cannot act on it.
  one per key    no operation took effect twice (two attempts with audit
                 events, two articles or takedown requests with its marker):
                 T-DUR-5, retries with the same Idempotency-Key create nothing
                 twice.
  current state  each article's title is that of its last ok update (or of a
                 later update whose outcome stayed unknown), its status is
                 what its ok publish/acceptance made it.
  whole rows     every article has its revision row at articles.revision
                 (with the same title and status), a search index row and
                 audit events; every takedown request has events and a
                 submit audit event. A crash must not leave half a write
                 (unknown operations are all or nothing).
  engine         SQLite: integrity_check ok after every cycle and at the end,
                 quick_check under 1 s. PostgreSQL: fsync and
                 synchronous_commit are on; after each postmaster kill the
                 API answers /readyz again by itself.
  retries end    no operation is still unknown after `--settle` seconds of
                 retrying once the last cycle is over.

Exit status 0 only when every check passed. One summary line per engine on
stdout; the full summary as JSON with `--out`.
"""

import argparse
import concurrent.futures
import heapq
import http.client
import itertools
import json
import math
import os
import pathlib
import random
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
import pgcluster  # noqa: E402
from server import Server, free_port, run_cli  # noqa: E402

JWT_SECRET = "durability-secret-0123456789abcdef0123456789"
ADMIN = "durability-admin"
PASSWORD = "durability-password-123"
SECTION_SLUG = "durability"
REQUEST_TIMEOUT_S = 15
PG_RECOVERY_TIMEOUT_S = 30
KILL_DELAY_S = (0.2, 2.0)
# Takedown requests an account may file an hour is 20; a writer uses each of
# its claimant accounts for at most this many first attempts (retries that
# the server does not recognise as such would file again).
FILINGS_PER_ACCOUNT = 10
FLOWS_PER_CYCLE = 2
EXAMPLES = 10

CREATE = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId revision } }"
UPDATE = ("mutation($id: ID!, $revision: Int!, $input: UpdateArticleInput!) {"
          " updateArticle(id: $id, expectedRevision: $revision, input: $input) { databaseId revision } }")
PUBLISH = "mutation($id: ID!) { publishArticle(id: $id) { databaseId revision status } }"
SUBMIT = "mutation($input: TakedownInput!) { submitTakedownRequest(input: $input) { id state } }"
ACCEPT = "mutation($id: ID!, $note: String) { acceptTakedownRequest(id: $id, note: $note) { id state } }"
CREATE_SECTION = ('mutation { createSection(input: {name: "耐久測試", slug: "%s", kind: TOPIC}) { slug } }'
                  % SECTION_SLUG)

# Codes of a GraphQL error that do not say whether the write happened.
UNDECIDED_CODES = {"SERVICE_UNAVAILABLE", "INTERNAL", "IDEMPOTENCY_KEY_IN_USE"}
REPLY_LOST = "IDEMPOTENT_REPLY_LOST"
# dur<run>-w<writer>-<sequence>: in the content of every write, and (with
# ".<attempt>") its X-Request-Id, which the audit log keeps.
MARKER_RE = re.compile(r"dur[0-9a-f]{6}-w\d{2}-\d{6}")
# T-DUR-1: quick_check must take less than this.
QUICK_CHECK_LIMIT_MS = 1000


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ledger


class Ledger:
    """Append-only JSON lines; each line is on disk before the caller goes on."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8")

    def append(self, record):
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()
            os.fsync(self.file.fileno())

    def close(self):
        with self.lock:
            if not self.file.closed:
                self.file.close()


def fold_ledger(path):
    """Reads the ledger back: one entry per operation key, in the order of first attempts."""
    ops = {}
    with open(path, encoding="utf-8") as f:
        for position, line in enumerate(f):
            r = json.loads(line)
            op = ops.get(r["key"])
            if op is None:
                op = ops[r["key"]] = {
                    "key": r["key"], "kind": r["kind"], "writer": r["writer"], "marker": r["marker"],
                    "account": r["account"], "article": r.get("article"), "takedown": r.get("takedown"),
                    "position": position, "attempts": [], "answers": [], "ids": {}, "reply_lost": False,
                    "replayed": False}
            op["attempts"].append(r["outcome"])
            op["answers"].append(r.get("code") or r.get("error")
                                 or (r.get("http") if r["outcome"] != "ok" else None))
            if r["outcome"] == "ok":
                op["ids"].update(r.get("ids") or {})
                op["reply_lost"] |= bool(r.get("reply_lost"))
                op["replayed"] |= bool(r.get("replayed"))
    for op in ops.values():
        op["final"] = op["attempts"][-1]
        op["ever_unknown"] = "unknown" in op["attempts"]
        if op["article"] is None:
            op["article"] = op["ids"].get("article")
    return sorted(ops.values(), key=lambda o: o["position"])


# ---------------------------------------------------------------- HTTP


class Answer:
    """What one attempt got back, sorted into ok / fail / unknown."""

    def __init__(self, outcome, status=None, code=None, data=None, replayed=False, reply_lost=False,
                 retry_after=None, error=None):
        self.outcome = outcome
        self.status = status
        self.code = code
        self.data = data
        self.replayed = replayed
        self.reply_lost = reply_lost
        self.retry_after = retry_after
        self.error = error


def error_codes(body):
    if not isinstance(body, dict):
        return []
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    if isinstance(body.get("error"), dict):
        codes.append(body["error"].get("code"))
    return codes


def classify(status, headers, raw):
    """Sorts an HTTP answer into ok, fail or unknown (see the module docstring)."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    codes = error_codes(body)
    code = next((c for c in codes if c), None)
    retry_after = headers.get("Retry-After")
    retry_after = float(retry_after) if retry_after and retry_after.isdigit() else None
    replayed = (headers.get("Idempotent-Replayed") or "").lower() == "true"
    if status == 200 and body is not None:
        if not codes:
            return Answer("ok", status, data=body.get("data"), replayed=replayed)
        if REPLY_LOST in codes:
            return Answer("ok", status, code=REPLY_LOST, reply_lost=True)
        if None in codes or UNDECIDED_CODES.intersection(codes):
            return Answer("unknown", status, code=code, retry_after=retry_after)
        return Answer("fail", status, code=code)
    if status >= 500 or status == 409 and code == "IDEMPOTENCY_KEY_IN_USE" or body is None:
        return Answer("unknown", status, code=code, retry_after=retry_after)
    if 400 <= status < 500:
        return Answer("fail", status, code=code)
    return Answer("unknown", status, code=code)


def post_graphql(port, token, body, key=None, request_id=None, timeout=REQUEST_TIMEOUT_S):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    if request_id:
        headers["X-Request-Id"] = request_id
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/graphql", body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return classify(response.status, response.headers, raw)
    except (OSError, http.client.HTTPException) as e:
        return Answer("unknown", error=type(e).__name__)
    finally:
        conn.close()


# ---------------------------------------------------------------- processes


# ---------------------------------------------------------------- engines


def rows_from_sqlite(path, sql):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [["" if v is None else str(v) for v in row] for row in conn.execute(sql)]
    finally:
        conn.close()


class SqliteEngine:
    name = "sqlite"

    def __init__(self, folder):
        self.db_folder = folder / "db"
        self.db_folder.mkdir()
        self.path = self.db_folder / "news.db"
        self.url = f"sqlite://{self.path}"
        self.image = folder / "crash-image"

    def start(self):
        pass

    def stop(self):
        pass

    def rows(self, sql):
        return rows_from_sqlite(self.path, sql)

    def check_file(self, path):
        """integrity_check and the time of quick_check on a database file."""
        conn = sqlite3.connect(str(path), timeout=10)
        try:
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            started = time.perf_counter()
            quick = [r[0] for r in conn.execute("PRAGMA quick_check")]
            quick_ms = (time.perf_counter() - started) * 1000
        finally:
            conn.close()
        return {"integrity": "ok" if integrity == ["ok"] else "; ".join(integrity[:5]),
                "quick_check": "ok" if quick == ["ok"] else "; ".join(quick[:5]),
                "quick_check_ms": round(quick_ms, 2)}

    def crash_image(self):
        """Copies the files as the crash left them (WAL included, not the shared-memory index),
        checks the copy; returns the check and the summaries of its articles."""
        if self.image.exists():
            shutil.rmtree(self.image)
        self.image.mkdir()
        for suffix in ("", "-wal"):
            source = pathlib.Path(f"{self.path}{suffix}")
            if source.exists():
                shutil.copyfile(source, self.image / f"news.db{suffix}")
        check = self.check_file(self.image / "news.db")
        summaries = [r[0] for r in rows_from_sqlite(self.image / "news.db", "SELECT summary FROM articles")]
        shutil.rmtree(self.image)
        return check, summaries


class PostgresEngine:
    name = "postgres"

    def __init__(self, folder):
        self.log = open(folder / "postgres.log", "ab")
        self.cluster = pgcluster.PrivateCluster(folder / "pg", free_port(), self.log)
        self.url = self.cluster.url

    def start(self):
        self.cluster.initdb()

    def stop(self):
        self.cluster.stop()

    def rows(self, sql):
        return self.cluster.psql(sql)

    def settings(self):
        return {name: self.cluster.setting(name) for name in ("fsync", "synchronous_commit", "full_page_writes")}

    def crash_image(self):
        return None, [r[0] for r in self.rows("SELECT summary FROM articles")]


# ---------------------------------------------------------------- operations


class Op:
    """One write as the client sees it: a key, a marker and the exact bytes to (re)send."""

    def __init__(self, kind, writer, marker, account, token, query, variables, article=None,
                 takedown=None):
        self.key = str(uuid.uuid4())
        self.kind = kind
        self.writer = writer
        self.marker = marker
        self.account = account
        self.token = token
        self.body = json.dumps({"query": query, "variables": variables}, ensure_ascii=False).encode()
        self.article = article
        self.takedown = takedown
        self.attempts = 0
        self.not_before = 0.0


def returned_ids(kind, data):
    """The ids an ok answer carries, for the ledger."""
    if not data:
        return {}
    if kind == "create":
        a = data["createArticle"]
        return {"article": a["databaseId"], "revision": a["revision"]}
    if kind == "update":
        return {"revision": data["updateArticle"]["revision"]}
    if kind == "publish":
        return {"revision": data["publishArticle"]["revision"], "status": data["publishArticle"]["status"]}
    if kind == "takedown_submit":
        return {"takedown": data["submitTakedownRequest"]["id"]}
    if kind == "takedown_accept":
        return {"state": data["acceptTakedownRequest"]["state"]}
    return {}


class Workload:
    """What writers, the retry workers and the killer share."""

    def __init__(self, port, ledger, send_keys=True):
        self.port = port
        self.ledger = ledger
        self.send_keys = send_keys
        self.up = threading.Event()
        self.stopping = threading.Event()
        self.cycle = 0
        self.lock = threading.Lock()
        self.acked_creates = []
        self.latencies_ms = []
        self.retry_heap = []
        self.retry_seq = itertools.count()
        self.retry_cv = threading.Condition()
        self.in_retry = 0
        self.counts = {"attempts": 0, "replayed": 0, "reply_lost": 0, "in_use": 0}
        self.errors = []

    def wait_up(self):
        """Blocks while the server is down; False once the run is stopping."""
        while not self.stopping.is_set():
            if self.up.wait(0.2):
                return True
        return False

    def execute(self, op):
        """Sends one attempt of `op` and appends it to the ledger."""
        op.attempts += 1
        request_id = f"{op.marker}.{op.attempts}"
        started = time.perf_counter()
        answer = post_graphql(self.port, op.token, op.body, key=op.key if self.send_keys else None,
                              request_id=request_id)
        elapsed_ms = (time.perf_counter() - started) * 1000
        ids = returned_ids(op.kind, answer.data) if answer.outcome == "ok" else {}
        record = {"t": round(time.time(), 3), "cycle": self.cycle, "key": op.key, "kind": op.kind,
                  "writer": op.writer, "account": op.account, "marker": op.marker,
                  "attempt": op.attempts, "request_id": request_id, "outcome": answer.outcome,
                  "http": answer.status, "code": answer.code, "error": answer.error,
                  "replayed": answer.replayed, "reply_lost": answer.reply_lost, "ids": ids,
                  "article": op.article, "takedown": op.takedown, "ms": round(elapsed_ms, 1)}
        if op.attempts == 1:
            record["body"] = op.body.decode()
        self.ledger.append(record)
        with self.lock:
            self.counts["attempts"] += 1
            self.counts["replayed"] += answer.replayed
            self.counts["reply_lost"] += answer.reply_lost
            self.counts["in_use"] += answer.code == "IDEMPOTENCY_KEY_IN_USE"
            if answer.outcome == "ok":
                self.latencies_ms.append(elapsed_ms)
                if op.kind == "create":
                    self.acked_creates.append(op.marker)
        if answer.outcome == "unknown":
            self.retry_later(op, answer)
        return answer

    def retry_later(self, op, answer):
        wait = answer.retry_after if answer.retry_after is not None else 0.5
        op.not_before = time.monotonic() + min(wait, 5.0)
        with self.retry_cv:
            heapq.heappush(self.retry_heap, (op.not_before, next(self.retry_seq), op))
            self.retry_cv.notify()

    def pending_retries(self):
        with self.retry_cv:
            return len(self.retry_heap) + self.in_retry

    def retry_worker(self, finished):
        """Sends unknown operations again (same key, same bytes) until they get a definite answer."""
        try:
            self.retry_until_finished(finished)
        except Exception as e:
            self.errors.append(f"retry worker: {type(e).__name__}: {e}")
            log(f"retry worker stopped: {type(e).__name__}: {e}")

    def retry_until_finished(self, finished):
        while not finished.is_set():
            with self.retry_cv:
                if not self.retry_heap:
                    self.retry_cv.wait(0.2)
                    continue
                due, _, op = self.retry_heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self.retry_cv.wait(min(delay, 0.2))
                    continue
                heapq.heappop(self.retry_heap)
                self.in_retry += 1
            try:
                while not self.up.wait(0.2):
                    if finished.is_set():
                        return
                self.execute(op)
            finally:
                with self.retry_cv:
                    self.in_retry -= 1


class Writer(threading.Thread):
    """Creates articles, updates those it saw created, and runs takedown flows on some."""

    def __init__(self, number, workload, run_id, admin_token, filers, seed):
        super().__init__(name=f"writer-{number}", daemon=True)
        self.number = number
        self.workload = workload
        self.run_id = run_id
        self.admin_token = admin_token
        self.filers = filers
        self.filer_uses = 0
        self.rng = random.Random(seed * 1000 + number)
        self.sequence = itertools.count(1)
        # Articles this writer created and saw acknowledged, with the revision it last saw.
        self.editable = {}
        self.flows = {}

    def marker(self):
        return f"dur{self.run_id}-w{self.number:02d}-{next(self.sequence):06d}"

    def op(self, kind, query, variables, marker, account=ADMIN, token=None, **extra):
        return Op(kind, self.number, marker, account, token or self.admin_token, query, variables, **extra)

    def run(self):
        try:
            self.write_until_stopped()
        except Exception as e:  # a harness bug must fail the run, not end one writer quietly
            self.workload.errors.append(f"{self.name}: {type(e).__name__}: {e}")
            log(f"{self.name} stopped: {type(e).__name__}: {e}")

    def write_until_stopped(self):
        while self.workload.wait_up():
            roll = self.rng.random()
            if roll < 0.12 and self.editable and self.may_start_flow():
                self.takedown_flow(self.rng.choice(sorted(self.editable)))
            elif roll < 0.55 and self.editable:
                self.update(self.rng.choice(sorted(self.editable)))
            else:
                self.create()

    def create(self):
        marker = self.marker()
        op = self.op("create", CREATE, {"input": {
            "title": f"耐久測試 {marker}", "summary": f"耐久測試摘要 {marker}", "section": SECTION_SLUG,
            "paragraphs": [f"正文第一段 {marker}。", "經濟導報訊 臨沂市社會工作服務中心累計服務群眾。"]}},
            marker)
        answer = self.workload.execute(op)
        if answer.outcome == "ok" and answer.data:
            created = answer.data["createArticle"]
            self.editable[created["databaseId"]] = created["revision"]

    def update(self, article):
        marker = self.marker()
        op = self.op("update", UPDATE, {
            "id": str(article), "revision": self.editable[article],
            "input": {"title": f"耐久測試 {marker}", "paragraphs": [f"修訂正文 {marker}。"]}},
            marker, article=article)
        answer = self.workload.execute(op)
        if answer.outcome == "ok" and answer.data:
            self.editable[article] = answer.data["updateArticle"]["revision"]
        else:
            # Its revision is no longer known for sure: leave the article alone.
            del self.editable[article]

    def may_start_flow(self):
        cycle = self.workload.cycle
        return (self.flows.get(cycle, 0) < FLOWS_PER_CYCLE
                and self.filer_uses < len(self.filers) * FILINGS_PER_ACCOUNT)

    def takedown_flow(self, article):
        """publish, file a takedown request as a claimant, accept it: each step its own op."""
        self.flows[self.workload.cycle] = self.flows.get(self.workload.cycle, 0) + 1
        del self.editable[article]
        marker = self.marker()
        publish = self.op("publish", PUBLISH, {"id": str(article)}, marker, article=article)
        if self.workload.execute(publish).outcome != "ok":
            return
        account, token = self.filers[self.filer_uses // FILINGS_PER_ACCOUNT]
        self.filer_uses += 1
        marker = self.marker()
        submit = self.op("takedown_submit", SUBMIT, {"input": {
            "claimantName": "耐久測試權利人", "contactEmail": "rights@example.test",
            "contactAddress": "濟南市測試路1號", "articles": [str(article)],
            "rightsStatement": "本社擁有該作品著作權", "evidenceLinks": [f"https://example.test/{marker}"],
            "reason": f"未經授權轉載 {marker}", "goodFaithStatement": True}},
            marker, account=account, token=token, article=article)
        answer = self.workload.execute(submit)
        if answer.outcome != "ok" or not answer.data:
            return
        takedown = answer.data["submitTakedownRequest"]["id"]
        marker = self.marker()
        accept = self.op("takedown_accept", ACCEPT, {"id": takedown, "note": f"權屬清楚 {marker}"},
                         marker, article=article, takedown=takedown)
        self.workload.execute(accept)


# ---------------------------------------------------------------- set-up


def base_env(url, sqlite_synchronous="full"):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEWSDESK_", "DATABASE_URL", "PG", "RUST_LOG"))}
    env.update(DATABASE_URL=url, NEWSDESK_JWT_SECRET=JWT_SECRET, RUST_LOG="warn",
               NEWSDESK_RATE_LIMIT_PER_MINUTE="0", NEWSDESK_MUTATIONS_PER_MINUTE="0",
               NEWSDESK_PUBLIC_BASE_URL="https://news.example.test",
               NEWSDESK_SQLITE_SYNCHRONOUS=sqlite_synchronous)
    return env


def make_accounts(binary, env, folder, writers, cycles):
    """The admin who writes and decides, and per writer enough claimants to file takedowns."""
    per_writer = math.ceil(FLOWS_PER_CYCLE * (cycles + 1) / FILINGS_PER_ACCOUNT)
    names = [(ADMIN, "admin")] + [(f"durability-claimant-{w:02d}-{j:02d}", "claimant")
                                  for w in range(writers) for j in range(per_writer)]

    def make(entry):
        name, role = entry
        run_cli(binary, env, folder, "user", "add", "--username", name, "--role", role,
                stdin=PASSWORD + "\n")
        out = run_cli(binary, env, folder, "token", "--sub", name, "--role", role, "--ttl", "12h")
        return name, out.strip().splitlines()[-1]

    run_cli(binary, env, folder, "migrate")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tokens = dict(pool.map(make, names))
    filers = [[(name, tokens[name]) for name in tokens if name.startswith(f"durability-claimant-{w:02d}-")]
              for w in range(writers)]
    return tokens[ADMIN], filers


def create_section(port, token):
    for _ in range(50):
        answer = post_graphql(port, token, json.dumps({"query": CREATE_SECTION}).encode(),
                              key=str(uuid.uuid4()), request_id="durability-setup")
        if answer.outcome == "ok":
            return
        if answer.outcome == "fail":
            raise RuntimeError(f"createSection: {answer.code}")
        time.sleep(0.2)
    raise RuntimeError("createSection: no answer")


# ---------------------------------------------------------------- cycles


SIGNALS = {"kill": signal.SIGKILL, "int": signal.SIGINT, "quit": signal.SIGQUIT}


def kill_cycle(number, rng, workload, server, engine, kill, signal_name="kill"):
    """Waits a random time, stops the API with the signal (SIGKILL by default)
    or SIGKILLs PostgreSQL, checks the crash image, brings service back."""
    started = time.monotonic()
    delay = rng.uniform(*KILL_DELAY_S)
    time.sleep(delay)
    record = {"cycle": number, "delay_s": round(delay, 3)}
    down_at = time.monotonic()
    if kill == "api" and signal_name != "kill":
        record["signal"] = signal_name
        server.interrupt(SIGNALS[signal_name])
        workload.up.clear()
    elif kill == "api":
        server.sigkill()
        workload.up.clear()
        server.kill()
    else:
        record["postmaster_pid"] = engine.cluster.kill_postmaster()
        workload.up.clear()
    with workload.lock:
        acked = set(workload.acked_creates)
    if kill == "postgres":
        record["orphans_killed"] = len(engine.cluster.wait_for_orphans())
        engine.cluster.start()
        record["postgres_back_s"] = round(time.monotonic() - down_at, 3)
    check, summaries = engine.crash_image()
    if check:
        record.update(check)
    present = set()
    for summary in summaries:
        present.update(MARKER_RE.findall(summary))
    record["acked_creates"] = len(acked)
    record["lost_so_far"] = len(acked - present)
    if kill == "api":
        server.start()
        if not server.wait_ready():
            raise RuntimeError(f"the server did not become ready after restart {number}:\n{server.log_tail()}")
    else:
        api_started = time.monotonic()
        record["recovered_without_restart"] = server.wait_ready(PG_RECOVERY_TIMEOUT_S)
        record["api_recovery_s"] = round(time.monotonic() - api_started, 3)
        if not record["recovered_without_restart"]:
            log(f"cycle {number}: the API did not recover by itself; restarting it to go on")
            server.kill()
            server.start()
            if not server.wait_ready():
                raise RuntimeError(f"the server did not become ready:\n{server.log_tail()}")
    record["downtime_s"] = round(time.monotonic() - down_at, 3)
    workload.up.set()
    record["duration_s"] = round(time.monotonic() - started, 3)
    return record


# ---------------------------------------------------------------- verification


def load_database(engine):
    """Everything the checks need, read directly from the database."""
    q = engine.rows
    return {
        "articles": q("SELECT id, title, summary, status, revision, held_since FROM articles"),
        "holds": q("SELECT article_id, takedown_id FROM legal_holds WHERE released_at IS NULL"),
        "revisions": q("SELECT article_id, revision, snapshot FROM article_revisions"),
        "search": q("SELECT article_id FROM article_search"),
        "audit": q("SELECT action, target_type, target_id, request_id FROM audit_events"),
        "takedowns": q("SELECT id, reason, state FROM takedown_requests"),
        "targets": q("SELECT takedown_id, article_id FROM takedown_targets"),
        "events": q("SELECT takedown_id, to_state, note FROM takedown_events"),
    }


class Findings:
    """Violations by check, with a few examples each."""

    def __init__(self):
        self.counts = {}
        self.examples = {}

    def add(self, check, example):
        self.counts[check] = self.counts.get(check, 0) + 1
        bucket = self.examples.setdefault(check, [])
        if len(bucket) < EXAMPLES:
            bucket.append(example)

    def count(self, check):
        return self.counts.get(check, 0)


def index_database(db):
    """Where each marker's effects are."""
    idx = {"article": {}, "revision_markers": {}, "revision_at": {}, "search": set(),
           "audit_targets": {}, "attempts_applied": {}, "audit_actions": {}, "takedown_by_marker": {},
           "takedown": {}, "targets": {}, "accept_notes": {}, "events_of": {}, "submit_audits": set()}
    for id_, title, summary, status, revision, held_since in db["articles"]:
        idx["article"][int(id_)] = {"title": title, "summary": summary, "status": status,
                                    "revision": int(revision), "held": held_since not in (None, ""),
                                    "holds": set()}
    for article, takedown in db["holds"]:
        if int(article) in idx["article"] and takedown not in (None, ""):
            idx["article"][int(article)]["holds"].add(int(takedown))
    idx["by_create_marker"] = {}
    for id_, a in idx["article"].items():
        for m in set(MARKER_RE.findall(a["summary"])):
            idx["by_create_marker"].setdefault(m, []).append(id_)
    for article, revision, snapshot in db["revisions"]:
        snap = json.loads(snapshot)
        article, revision = int(article), int(revision)
        idx["revision_at"][(article, revision)] = snap
        for m in MARKER_RE.findall(snap.get("title", "")):
            idx["revision_markers"].setdefault(article, set()).add(m)
    idx["search"] = {int(r[0]) for r in db["search"]}
    for action, target_type, target_id, request_id in db["audit"]:
        if target_type == "article" and target_id:
            idx["audit_targets"].setdefault(int(target_id), 0)
            idx["audit_targets"][int(target_id)] += 1
        if target_type == "takedown" and action == "takedown.submit" and target_id:
            idx["submit_audits"].add(int(target_id))
        marker, _, attempt = (request_id or "").rpartition(".")
        if MARKER_RE.fullmatch(marker):
            idx["attempts_applied"].setdefault(marker, set()).add(attempt)
            idx["audit_actions"].setdefault(marker, []).append((action, target_type, target_id))
    for id_, reason, state in db["takedowns"]:
        idx["takedown"][int(id_)] = {"state": state, "reason": reason}
        for m in MARKER_RE.findall(reason):
            idx["takedown_by_marker"].setdefault(m, []).append(int(id_))
    for takedown, article in db["targets"]:
        if article:
            idx["targets"].setdefault(int(takedown), []).append(int(article))
    for takedown, to_state, note in db["events"]:
        idx["events_of"].setdefault(int(takedown), []).append(to_state)
        for m in MARKER_RE.findall(note):
            idx["accept_notes"].setdefault(m, []).append((int(takedown), to_state))
    return idx


def takedown_number(reference):
    return int(str(reference).removeprefix("TD-")) if reference else None


def effect_present(op, idx):
    """Whether the operation's own effect (its marker in a row) is in the database."""
    m, kind = op["marker"], op["kind"]
    if kind == "create":
        return bool(idx["by_create_marker"].get(m))
    if kind == "update":
        return m in idx["revision_markers"].get(op["article"], set())
    if kind == "publish":
        return any(a == "article.publish" for a, _, _ in idx["audit_actions"].get(m, []))
    if kind == "takedown_submit":
        return bool(idx["takedown_by_marker"].get(m))
    if kind == "takedown_accept":
        return any(state == "accepted" for _, state in idx["accept_notes"].get(m, []))
    return False


def times_applied(op, idx):
    """How many attempts of the operation took effect."""
    attempts = len(idx["attempts_applied"].get(op["marker"], ()))
    rows = {"create": len(idx["by_create_marker"].get(op["marker"], [])),
            "takedown_submit": len(idx["takedown_by_marker"].get(op["marker"], []))}.get(op["kind"], 0)
    return max(attempts, rows)


def check_operations(ops, idx, findings):
    """no ok lost, fail absent, one per key."""
    for op in ops:
        applied = times_applied(op, idx)
        present = effect_present(op, idx)
        brief = {"kind": op["kind"], "marker": op["marker"], "key": op["key"], "attempts": op["attempts"],
                 "article": op["article"]}
        if op["final"] == "ok":
            if not present or not idx["attempts_applied"].get(op["marker"]):
                findings.add("lost", brief)
            if op["kind"] == "takedown_accept":
                number = takedown_number(op["takedown"])
                state = idx["takedown"].get(number, {}).get("state")
                article = idx["article"].get(op["article"], {})
                if state != "accepted" or number not in article.get("holds", set()) \
                        or not article.get("held"):
                    findings.add("lost", dict(brief, takedown_state=state,
                                              holds=sorted(article.get("holds", set()))))
        elif op["final"] == "fail" and (present or applied):
            check = "fail_present_after_unknown" if op["ever_unknown"] else "fail_present"
            findings.add(check, brief)
        if applied > 1:
            findings.add("duplicates", dict(brief, applied=applied))


def expected_state(article_ops, create_marker):
    """The titles and statuses an article may have, from its operations in writer order."""
    titles = {create_marker}
    for op in article_ops:
        if op["kind"] != "update":
            continue
        if op["final"] == "ok":
            titles = {op["marker"]}
        elif op["ever_unknown"]:
            titles = titles | {op["marker"]}
    statuses = {"draft"}
    for op in article_ops:
        if op["kind"] == "publish":
            if op["final"] == "ok":
                statuses = {"published"}
            elif op["ever_unknown"]:
                statuses = statuses | {"published"}
        # A takedown places a legal hold and leaves the status as it was.
    return titles, statuses


def check_current_state(ops, idx, findings):
    by_article = {}
    for op in ops:
        if op["kind"] != "create" and op["article"] is not None:
            by_article.setdefault(op["article"], []).append(op)
    for op in ops:
        if op["kind"] != "create" or op["final"] != "ok":
            continue
        ids = idx["by_create_marker"].get(op["marker"], [])
        article = op["article"] if op["article"] in ids else (ids[0] if len(ids) == 1 else None)
        if article is None:
            continue  # reported as lost or duplicated
        titles, statuses = expected_state(by_article.get(article, []), op["marker"])
        row = idx["article"][article]
        current = set(MARKER_RE.findall(row["title"]))
        if not current & titles:
            findings.add("current_state", {"article": article, "title": row["title"],
                                           "expected_markers": sorted(titles)})
        if row["status"] not in statuses:
            findings.add("current_state", {"article": article, "status": row["status"],
                                           "expected_status": sorted(statuses)})


def check_whole_rows(idx, findings):
    """No half-written article or takedown request."""
    for article, row in idx["article"].items():
        snap = idx["revision_at"].get((article, row["revision"]))
        if snap is None:
            findings.add("half_written", {"article": article, "missing": f"revision {row['revision']}"})
        elif snap.get("title") != row["title"] or snap.get("status") != row["status"]:
            findings.add("half_written", {"article": article, "revision": row["revision"],
                                          "row": [row["title"], row["status"]],
                                          "snapshot": [snap.get("title"), snap.get("status")]})
        # Search indexes exactly the public articles (published, not held).
        public = row["status"] == "published" and not row["held"]
        if public != (article in idx["search"]):
            findings.add("half_written", {"article": article, "public": public,
                                          "indexed": article in idx["search"]})
        if row["held"] != bool(row["holds"]):
            findings.add("half_written", {"article": article, "held": row["held"],
                                          "active_holds": sorted(row["holds"])})
        if not idx["audit_targets"].get(article):
            findings.add("half_written", {"article": article, "missing": "audit events"})
    for number, takedown in idx["takedown"].items():
        if not idx["events_of"].get(number):
            findings.add("half_written", {"takedown": number, "missing": "takedown events"})
        if number not in idx["submit_audits"]:
            findings.add("half_written", {"takedown": number, "missing": "takedown.submit audit event"})
        if takedown["state"] == "accepted":
            for article in idx["targets"].get(number, []):
                row = idx["article"].get(article, {})
                if number not in row.get("holds", set()):
                    findings.add("half_written", {"takedown": number, "article": article,
                                                  "active_holds": sorted(row.get("holds", set()))})


def search_ids(port, text):
    """The article ids an anonymous search for `text` returns."""
    body = json.dumps({"query": "query($q: String!) { search(query: $q, first: 20) "
                                "{ nodes { article { databaseId } } } }", "variables": {"q": text}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("POST", "/graphql", body=body, headers={"Content-Type": "application/json"})
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if answer.get("errors"):
        raise RuntimeError(f"search for {text} failed: {answer['errors']}")
    return {int(n["article"]["databaseId"]) for n in answer["data"]["search"]["nodes"]}


def check_search(port, db, findings):
    """After the last restart, the server's search index (caught up from the
    search log at start) finds every public article by the marker of its
    current title, and no other."""
    idx = index_database(db)
    searched = 0
    for article, row in idx["article"].items():
        public = row["status"] == "published" and not row["held"]
        for marker in set(MARKER_RE.findall(row["title"])):
            searched += 1
            found = article in search_ids(port, marker)
            if found != public:
                findings.add("search", {"article": article, "marker": marker, "public": public,
                                        "found": found})
    return searched


def verify(ops, db):
    idx = index_database(db)
    findings = Findings()
    check_operations(ops, idx, findings)
    check_current_state(ops, idx, findings)
    check_whole_rows(idx, findings)
    return findings, idx


# ---------------------------------------------------------------- one engine


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


def run_engine(args, engine_name, folder):
    started = time.monotonic()
    rng = random.Random(args.seed)
    run_id = f"{rng.getrandbits(24):06x}"
    engine = SqliteEngine(folder) if engine_name == "sqlite" else PostgresEngine(folder)
    ledger_path = folder / "ledger.jsonl"
    ledger = Ledger(ledger_path)
    server = None
    workload = None
    finished = threading.Event()
    report = {"engine": engine_name, "kill": args.kill, "signal": args.signal, "cycles": args.cycles, "writers": args.writers,
              "seed": args.seed, "sqlite_synchronous": args.sqlite_synchronous,
              "idempotency_key": not args.no_idempotency_key, "folder": str(folder),
              "ledger": str(ledger_path)}
    try:
        engine.start()
        if engine_name == "postgres":
            report["postgres_settings"] = engine.settings()
        env = base_env(engine.url, args.sqlite_synchronous)
        log(f"{engine_name}: creating accounts")
        admin_token, filers = make_accounts(args.binary, env, folder, args.writers, args.cycles)
        server = Server(args.binary, env, free_port(), folder)
        server.start()
        if not server.wait_ready():
            raise RuntimeError(f"the server did not become ready:\n{server.log_tail()}")
        create_section(server.port, admin_token)

        workload = Workload(server.port, ledger, send_keys=not args.no_idempotency_key)
        workload.up.set()
        retriers = [threading.Thread(target=workload.retry_worker, args=(finished,), daemon=True)
                    for _ in range(2)]
        writers = [Writer(n, workload, run_id, admin_token, filers[n], args.seed)
                   for n in range(args.writers)]
        for thread in retriers + writers:
            thread.start()
        cycles = []
        writes_started = time.monotonic()
        report["setup_s"] = round(writes_started - started, 1)
        for number in range(1, args.cycles + 1):
            workload.cycle = number
            record = kill_cycle(number, rng, workload, server, engine, args.kill, args.signal)
            cycles.append(record)
            log(f"{engine_name} cycle {number}/{args.cycles}: {record['duration_s']:.2f} s, "
                f"acked creates {record['acked_creates']}, lost so far {record['lost_so_far']}"
                + (f", integrity {record['integrity']}, quick_check {record['quick_check_ms']} ms"
                   if "integrity" in record else "")
                + (f", recovered by itself: {record['recovered_without_restart']}"
                   if "recovered_without_restart" in record else ""))
        cycles_seconds = time.monotonic() - writes_started
        workload.stopping.set()
        for thread in writers:
            thread.join()
        settle_deadline = time.monotonic() + args.settle
        while workload.pending_retries() and time.monotonic() < settle_deadline:
            time.sleep(0.2)
        finished.set()
        for thread in retriers:
            thread.join()
        report["settle_s"] = round(time.monotonic() - settle_deadline + args.settle, 1)
        search_findings = Findings()
        report["search_checked"] = check_search(server.port, load_database(engine), search_findings)
        server.stop()
        ledger.close()

        final_check = engine.check_file(engine.path) if engine_name == "sqlite" else None
        ops = fold_ledger(ledger_path)
        findings, idx = verify(ops, load_database(engine))
        findings.counts["search"] = search_findings.count("search")
        findings.examples["search"] = search_findings.examples.get("search", [])
        report.update(summarise(ops, cycles, findings, workload, final_check, engine_name, report))
        report["duration_s"] = round(time.monotonic() - started, 1)
        report["cycles_s"] = round(cycles_seconds, 1)
        report["seconds_per_cycle"] = round(cycles_seconds / max(1, args.cycles), 2)
        report["articles_in_database"] = len(idx["article"])
        return report
    finally:
        if workload:
            workload.stopping.set()
        finished.set()
        if server:
            server.kill()
        engine.stop()
        ledger.close()


def summarise(ops, cycles, findings, workload, final_check, engine_name, report):
    finals = {"ok": 0, "fail": 0, "unknown": 0}
    by_kind = {}
    for op in ops:
        finals[op["final"]] += 1
        kind = by_kind.setdefault(op["kind"], {"ok": 0, "fail": 0, "unknown": 0})
        kind[op["final"]] += 1
    first_unknown = sum(op["attempts"][0] == "unknown" for op in ops)
    answers = {}
    for op in ops:
        for outcome, answer in zip(op["attempts"], op["answers"]):
            if outcome != "ok" or answer:
                label = f"{outcome} {answer}"
                answers[label] = answers.get(label, 0) + 1
    checks = {
        "lost": findings.count("lost"),
        "fail_present": findings.count("fail_present"),
        "fail_present_after_unknown": findings.count("fail_present_after_unknown"),
        "duplicates": findings.count("duplicates"),
        "current_state": findings.count("current_state"),
        "half_written": findings.count("half_written"),
        "search": findings.count("search"),
        "lost_in_crash_images": sum(c["lost_so_far"] for c in cycles),
        "unresolved_unknown": finals["unknown"],
        "harness_errors": len(workload.errors),
    }
    if engine_name == "sqlite":
        checked = [c for c in cycles if "integrity" in c]
        checks["integrity_failures"] = sum(c["integrity"] != "ok" for c in checked) + \
            (final_check["integrity"] != "ok")
        report["integrity_ok_cycles"] = f"{sum(c['integrity'] == 'ok' for c in checked)}/{len(checked)}"
        report["final_check"] = final_check
        quick = [c["quick_check_ms"] for c in checked] + [final_check["quick_check_ms"]]
        report["quick_check_ms"] = {"max": max(quick), "mean": round(statistics.mean(quick), 2)}
        checks["quick_check_slow"] = sum(ms >= QUICK_CHECK_LIMIT_MS for ms in quick)
    if engine_name == "postgres":
        settings = report.get("postgres_settings", {})
        checks["durability_settings_off"] = sum(settings.get(k) != "on" for k in ("fsync", "synchronous_commit"))
        if report["kill"] == "postgres":
            checks["api_needed_restart"] = sum(not c["recovered_without_restart"] for c in cycles)
    passed = all(v == 0 for v in checks.values())
    return {
        "passed": passed,
        "checks": checks,
        "examples": findings.examples,
        "ops": {"total": len(ops), **finals, "unknown_at_first_attempt": first_unknown, "by_kind": by_kind,
                **workload.counts},
        "non_ok_answers": dict(sorted(answers.items(), key=lambda kv: -kv[1])),
        "harness_errors": workload.errors,
        "writes_acknowledged": finals["ok"],
        "ok_latency_ms": {"p50": percentile(workload.latencies_ms, 50),
                          "p99": percentile(workload.latencies_ms, 99)},
        "cycle_records": cycles,
    }


def summary_line(r):
    if "checks" not in r:
        return f"{r['engine']}: ERROR {r.get('error')}"
    c, o = r["checks"], r["ops"]
    how = r['kill'] if r.get('signal', 'kill') == 'kill' else f"{r['kill']}, SIG{r['signal'].upper()}"
    parts = [f"{r['engine']} (kill {how}): {r['cycles']} cycles, {r['seconds_per_cycle']} s/cycle, "
             f"{r['duration_s']} s in all; {o['total']} ops: ok {o['ok']}, fail {o['fail']}, "
             f"unknown {o['unknown']} ({o['unknown_at_first_attempt']} unknown at first, "
             f"{o['replayed']} replays, {o['reply_lost']} reply lost)",
             f"lost {c['lost']} (crash images {c['lost_in_crash_images']}), "
             f"fail present {c['fail_present']} (+{c['fail_present_after_unknown']} after unknown), "
             f"duplicates {c['duplicates']}, current state {c['current_state']}, "
             f"half-written {c['half_written']}, "
             f"search {c['search']} wrong of {r.get('search_checked', 0)} markers searched"]
    if r["engine"] == "sqlite":
        parts.append(f"synchronous={r['sqlite_synchronous'].upper()}, integrity_check ok {r['integrity_ok_cycles']} cycles + final "
                     f"{r['final_check']['integrity']}, quick_check max {r['quick_check_ms']['max']} ms")
    if "api_needed_restart" in c:
        parts.append(f"API restarts needed {c['api_needed_restart']}")
    return "; ".join(parts) + (": PASS" if r["passed"] else ": FAIL")


# ---------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("binary", help="the newsdesk binary")
    p.add_argument("--engine", required=True,
                   help="sqlite or postgres (or both, comma-separated, run one after the other)")
    p.add_argument("--cycles", type=int, required=True, help="kills per engine")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--kill", choices=["api", "postgres"], default="api",
                   help="what is SIGKILLed: the API server, or PostgreSQL's postmaster")
    p.add_argument("--signal", choices=sorted(SIGNALS), default="kill",
                   help="how the API is stopped (--kill api): SIGKILL, or SIGINT / SIGQUIT (T-AV-4)")
    p.add_argument("--sqlite-synchronous", choices=["full", "normal"], default="full",
                   help="SQLite's synchronous level (T-DUR-2: a killed process loses nothing under either)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--settle", type=float, default=60,
                   help="seconds to keep retrying unknown operations after the last cycle")
    p.add_argument("--out", help="write the JSON summary here")
    p.add_argument("--no-idempotency-key", action="store_true",
                   help="control run: retry without the Idempotency-Key header, so the checks "
                        "must find duplicates and failed retries of applied writes")
    p.add_argument("--keep", action="store_true", help="keep the temporary folders (kept anyway on failure)")
    args = p.parse_args()
    args.binary = str(pathlib.Path(args.binary).resolve())
    args.engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    if any(e not in ("sqlite", "postgres") for e in args.engines) or not args.engines:
        p.error("--engine: sqlite, postgres, or both")
    if args.kill == "postgres" and args.engines != ["postgres"]:
        p.error("--kill postgres needs --engine postgres")
    if args.cycles < 1 or args.writers < 1:
        p.error("--cycles and --writers must be at least 1")
    return args


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C (even where the shell ignores SIGINT), so the
    # servers and PostgreSQL are stopped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    reports = []
    try:
        run_engines(args, reports)
    except KeyboardInterrupt:
        log("interrupted; servers and PostgreSQL stopped")
        return 130
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"engines": reports}, indent=2, ensure_ascii=False) + "\n")
    return 0 if all(r["passed"] for r in reports) else 1


def run_engines(args, reports):
    for engine in args.engines:
        folder = pathlib.Path(tempfile.mkdtemp(prefix=f"newsdesk-durability-{engine}-"))
        log(f"{engine}: working in {folder}")
        try:
            report = run_engine(args, engine, folder)
        except Exception as e:  # reported, then the other engine still runs
            traceback.print_exc()
            report = {"engine": engine, "kill": args.kill, "passed": False, "error": str(e),
                      "folder": str(folder)}
        reports.append(report)
        print(summary_line(report), flush=True)
        if report["passed"] and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            log(f"{engine}: kept {folder} (ledger.jsonl, server.log)")


if __name__ == "__main__":
    sys.exit(main())
