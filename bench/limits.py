#!/usr/bin/env python3
"""The timing figures of SECURITY.md section 8, measured by `make bench`
rather than asserted by tests (timings on this machine are noisy):

- how fast hostile documents are refused (depth 50, 1,000 aliases, 50,000
  directives), as wrk latency over one connection, next to the `/healthz`
  baseline of the same server;
- whether a hidden article can be told from a missing one by timing
  (T-AUTHZ-3): 200 alternating requests for each, medians compared;
- what an oversized body costs in memory: 20 bodies of 10 MiB, peak RSS
  before and after;
- what callers whose identity is not verified can make the server hold
  (T-WF-3): 1,000 POSTs of a 1 MiB query with its APQ hash and the token
  `Bearer not-a-token`, then 200 concurrent logins for unknown accounts;
  RSS before, at its highest, right after and each second for 10 s
  (target: under 150 MB, back near the start within 10 s).

Usage: python3 bench/limits.py BINARY. Writes bench/results/limits.json.
"""

import concurrent.futures
import hashlib
import http.client
import json
import pathlib
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BODY_LIMIT = 65_536


def deep(levels):
    query = "slug"
    for _ in range(levels):
        query = f"articles(first: 1) {{ nodes {{ section {{ {query} }} }} }}"
    return f"{{ {query} }}"


def aliases(n):
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"


# 1,000 aliases are longer than the 15,000 characters a query may have, and
# 50,000 directives longer than the 64 KiB an anonymous body may have, so
# both are refused before parsing; 100 aliases show the alias count itself.
REJECTIONS = [
    ("depth 50", deep(50), "QUERY_TOO_DEEP"),
    ("100 aliases", aliases(100), "TOO_MANY_ALIASES"),
    ("1,000 aliases", aliases(1000), "QUERY_TOO_LONG"),
    ("50,000 directives", "{ __typename " + "@aa" * 50_000 + " }", "PAYLOAD_TOO_LARGE"),
]


def post(connection, body):
    connection.request("POST", "/graphql", body=body, headers={"content-type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def refusals(server):
    rows = []
    baseline = bench.wrk(server, bench.lua_requests("limits_baseline", [("GET", "/healthz", None)]), 1)
    rows.append({"case": "baseline /healthz", "p50_ms": baseline["p50_ms"], "p99_ms": baseline["p99_ms"],
                 "rps": baseline["rps"]})
    for name, document, code in REJECTIONS:
        body = bench.gql(document, {})
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        _, answer = post(connection, body)
        got = json.loads(answer)["errors"][0]["extensions"]["code"]
        if got != code:
            raise SystemExit(f"{name}: expected {code}, got {got}")
        measured = bench.wrk(server, bench.lua_requests("limits_" + name.replace(",", "").replace(" ", "_"),
                                                        [("POST", "/graphql", body)]), 1)
        rows.append({"case": name, "code": code, "p50_ms": measured["p50_ms"], "p99_ms": measured["p99_ms"],
                     "rps": measured["rps"]})
        bench.log(f"{name}: {code}, p50 {measured['p50_ms']:.2f} ms, p99 {measured['p99_ms']:.2f} ms")
    return rows


def existence_oracle(server, hidden, missing):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    query = "query($id: ID!) { article(id: $id) { title } }"
    times = {"hidden": [], "missing": []}
    answers = {}
    for _ in range(200):
        for kind, article in (("hidden", hidden), ("missing", missing)):
            started = time.perf_counter()
            _, answer = post(connection, bench.gql(query, {"id": str(article)}))
            times[kind].append((time.perf_counter() - started) * 1000)
            answers[kind] = answer
    if answers["hidden"] != answers["missing"]:
        raise SystemExit(f"hidden and missing answers differ: {answers}")
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    result = {"trials": 200, "median_hidden_ms": round(medians["hidden"], 3),
              "median_missing_ms": round(medians["missing"], 3),
              "difference_ms": round(abs(medians["hidden"] - medians["missing"]), 3)}
    bench.log(f"existence oracle: medians {result['median_hidden_ms']} / {result['median_missing_ms']} ms")
    return result


def oversized_bodies(server):
    before = server.peak_rss_mb()
    body = b'{"query":"' + b" " * (10 * 1024 * 1024) + b'"}'
    statuses = set()
    for _ in range(20):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            status, _ = post(connection, body)
        except (ConnectionError, http.client.HTTPException):
            status = "closed"
        statuses.add(status)
    after = server.peak_rss_mb()
    result = {"bodies": 20, "size_mib": 10, "answers": sorted(map(str, statuses)),
              "peak_rss_before_mb": round(before, 1), "peak_rss_after_mb": round(after, 1),
              "growth_mb": round(after - before, 2), "body_limit_kib": BODY_LIMIT // 1024}
    bench.log(f"oversized bodies: {statuses}, peak RSS {before:.1f} -> {after:.1f} MB")
    return result


def rss_mb(server):
    status = pathlib.Path(f"/proc/{server.process.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


class RssWatch:
    """Samples the server's RSS every 20 ms while a burst runs."""

    def __init__(self, server):
        self.server, self.highest, self.done = server, rss_mb(server), threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.done.is_set():
            self.highest = max(self.highest, rss_mb(self.server))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.done.set()
        self.thread.join()


def settle(server, before):
    """RSS each second for 10 s after a burst, and when it came back within 10 MB of `before`."""
    started = time.perf_counter()
    seconds, back_after = [], None
    for second in range(11):
        now = rss_mb(server)
        seconds.append(round(now, 1))
        if back_after is None and now <= before + 10:
            back_after = round(time.perf_counter() - started, 1)
        if second < 10:
            time.sleep(1)
    return seconds, back_after


def burst(server, requests, workers):
    """Sends (body, headers) pairs from `workers` threads; tallies the answers."""
    def send(request):
        body, headers = request
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request("POST", "/graphql", body=body,
                               headers={"content-type": "application/json", **headers})
            response = connection.getresponse()
            answer = response.read()
            try:
                code = json.loads(answer)["errors"][0]["extensions"]["code"]
            except (ValueError, KeyError, IndexError, TypeError):
                code = "OK"
            return f"{response.status} {code}"
        except (ConnectionError, http.client.HTTPException):
            return "closed"
        finally:
            connection.close()

    tally = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for answer in pool.map(send, requests):
            tally[answer] = tally.get(answer, 0) + 1
    return tally


def unverified_callers(server):
    rows = {}
    # 1 MiB of query (its text over every limit) with its APQ hash and a junk token.
    query = "{ site { name " + " " * (1024 * 1024 - 20) + " } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    body = json.dumps({"query": query, "extensions": {
        "persistedQuery": {"version": 1, "sha256Hash": digest}}}).encode()
    before = rss_mb(server)
    started = time.perf_counter()
    with RssWatch(server) as watch:
        answers = burst(server, [(body, {"authorization": "Bearer not-a-token"})] * 1000, 8)
    burst_s = time.perf_counter() - started
    after = rss_mb(server)
    _, stored = post(http.client.HTTPConnection("127.0.0.1", server.port, timeout=10),
                     json.dumps({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}))
    seconds, back_after = settle(server, before)
    rows["junk_token_posts"] = {
        "posts": 1000, "body_mib": 1, "senders": 8, "answers": answers, "burst_seconds": round(burst_s, 1),
        "by_hash_afterwards": json.loads(stored)["errors"][0]["extensions"]["code"],
        "rss_before_mb": round(before, 1), "rss_highest_mb": round(watch.highest, 1),
        "rss_after_mb": round(after, 1), "rss_each_second_mb": seconds,
        "back_within_10_mb_after_s": back_after}
    bench.log(f"1,000 junk-token 1 MiB posts: {answers}, RSS {before:.1f} -> highest {watch.highest:.1f} "
              f"-> {after:.1f} MB")

    logins = [(bench.gql("mutation($u: String!) { login(username: $u, password: \"not the password\") "
                         "{ token } }", {"u": f"nobody-{i}"}).encode(), {}) for i in range(200)]
    before = rss_mb(server)
    started = time.perf_counter()
    with RssWatch(server) as watch:
        answers = burst(server, logins, 200)
    burst_s = time.perf_counter() - started
    after = rss_mb(server)
    seconds, back_after = settle(server, before)
    rows["concurrent_logins"] = {
        "logins": 200, "at_once": 200, "answers": answers, "burst_seconds": round(burst_s, 1),
        "rss_before_mb": round(before, 1), "rss_highest_mb": round(watch.highest, 1),
        "rss_after_mb": round(after, 1), "rss_each_second_mb": seconds,
        "back_within_10_mb_after_s": back_after}
    bench.log(f"200 concurrent logins: {answers}, RSS {before:.1f} -> highest {watch.highest:.1f} "
              f"-> {after:.1f} MB, 10 s later {seconds[-1]} MB")
    return rows


def main():
    binary = sys.argv[1]
    bench.ensure_wrk()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsdesk-limits-"))
    url = f"sqlite://{work}/limits.db"
    bench.run(binary, url, "migrate")
    bench.run(binary, url, "dev", "seed", "--articles", "500", "--sections", "10", "--contributors", "50")
    db = sqlite3.connect(work / "limits.db")
    hidden = db.execute("SELECT id FROM articles WHERE status = 'draft' LIMIT 1").fetchone()[0]
    missing = db.execute("SELECT max(id) + 1000 FROM articles").fetchone()[0]
    server = bench.Server(binary, url, cache=False, search_dir=work / "search")
    try:
        report = {"refusals": refusals(server), "existence_oracle": existence_oracle(server, hidden, missing),
                  "oversized_bodies": oversized_bodies(server),
                  "unverified_callers": unverified_callers(server), "seconds_per_row": bench.SECONDS}
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results" / "limits.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
