#!/usr/bin/env python3
"""`make bench`: read and write throughput of the release server on a
generated newsroom, on SQLite and on PostgreSQL, cold (response cache off)
and warm (cache on), each figure also as a ratio to a fixed-response baseline
(`/healthz`) measured by the same server in the same run.

Environment: BENCH_ARTICLES (100000), BENCH_SECONDS per measurement (10),
BENCH_CONNECTIONS (32), BENCH_ENGINES ("sqlite,postgres"), BENCH_REUSE=1 keeps
a dataset generated earlier with the same size, DATABASE_URL_PG (admin URL),
BENCH_ONLY (a comma-separated list of row-name parts: only those rows, and
the baseline, are measured).
The cold run starts without a search index folder, so the server rebuilds
it in the background; the run waits for it and reports the time taken
("search index rebuilt in"), then measures.
Results: bench/results/latest.json and latest.md (a BENCH_ONLY run: rows-DATE,
then rows-DATEb, -DATEc… for later runs of the same day); the table in
docs/performance.md is the Markdown file's content.
"""

import datetime
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTICLES = int(os.environ.get("BENCH_ARTICLES", "100000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ENGINES = os.environ.get("BENCH_ENGINES", "sqlite,postgres").split(",")
REUSE = os.environ.get("BENCH_REUSE") == "1"
ONLY = [part for part in os.environ.get("BENCH_ONLY", "").split(",") if part]
PG_ADMIN = os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/postgres")
WORK = pathlib.Path(os.environ.get("BENCH_DIR", pathlib.Path.home() / ".cache/newsdesk/bench"))
SEED_PAGE = ROOT / "tests/data/seed/000_a15393c2ad8b6a45.txt"
JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123"

PREFIXES = ["临", "IP", "扶贫", "沂水", "数字经", "社会工作", "物流", "募", "鲁南", "新能", "潍坊", "跨境",
            "净利", "乡村振", "半导体"]
SEARCHES = ["临沂", "IPO", "扶贫", "沂水县", "数字经济 临沂", "\"社会工作服务中心\"", "物流 -临沂",
            "募资", "鲁南制药", "新能源", "潍坊", "跨境电商", "净利润", "乡村振兴", "半导体 ETF"]

Q1 = """query($slug: String!) { article(slug: $slug) { title summary paragraphs publishedAt
  section { name slug } source { name } byline { name role } copyrightNotice { text } } }"""
Q2 = """query($section: String!, $after: String) { articles(filter: {section: $section}, first: 20, after: $after) {
  edges { cursor node { title slug summary publishedAt byline { name } } } pageInfo { hasNextPage endCursor } } }"""
Q3 = "{ sections { name slug kind children { name slug } } }"
Q4 = "query($q: String!) { search(query: $q, first: 20) { totalCount nodes { snippet score article { title slug } } } }"
BY_ID = "query($id: ID!) { article(id: $id) { title summary } }"
WRITES_PER_RUN = 5000
DATASET = {}
MUTATION = """mutation($id: ID!) { updateArticle(id: $id, expectedRevision: 1,
  input: {summary: "bench: summary changed under load"}) { revision } }"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("installing wrk from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(name):
    base, _, _ = PG_ADMIN.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + "?sslmode=disable"


def psql(sql):
    subprocess.run(["psql", "-q", PG_ADMIN, "-c", sql], check=True, capture_output=True)


def run(binary, url, *args, stdin=None, env=None):
    full = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", NEWSDESK_JWT_SECRET=JWT_SECRET)
    full.update(env or {})
    done = subprocess.run([binary, *args], env=full, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"newsdesk {' '.join(args)}: {done.stderr.strip()[-500:]}")
    return done.stdout


def add_editor(binary, url):
    """Adds the account `bench-editor` to the database at `url`."""
    run(binary, url, "user", "add", "--username", "bench-editor", "--role", "editor",
        stdin="bench-password-123\n")


def editor_token(binary, url):
    """Adds `bench-editor` and returns a token of theirs, good for an hour."""
    add_editor(binary, url)
    return run(binary, url, "token", "--sub", "bench-editor", "--role", "editor",
               "--ttl", "1h").strip().splitlines()[-1]


def dataset(binary, engine):
    """A fresh generated newsroom plus the sample page; returns (url, seconds)."""
    marker = WORK / f"{engine}-{ARTICLES}.ready"
    if engine == "sqlite":
        path = WORK / f"bench-{ARTICLES}.db"
        url = f"sqlite://{path}"
    else:
        url = pg_url(f"newsdesk_bench_{ARTICLES}")
    if REUSE and marker.exists():
        return url, json.loads(marker.read_text())
    # A generation cut short must not be taken for a complete one.
    marker.unlink(missing_ok=True)
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = f"newsdesk_bench_{ARTICLES}"
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
    log(f"{engine}: generating {ARTICLES} articles")
    started = time.monotonic()
    run(binary, url, "dev", "seed", "--articles", str(ARTICLES), "--sections", "40",
        "--contributors", "500")
    seconds = time.monotonic() - started
    run(binary, url, "import", str(SEED_PAGE))
    add_editor(binary, url)
    if engine == "postgres":
        subprocess.run(["psql", "-q", url, "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
    state = {"seed_seconds": round(seconds, 1), "next_write_id": 1}
    marker.write_text(json.dumps(state))
    return url, state


class Server:
    def __init__(self, binary, url, cache, search_dir):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", NEWSDESK_JWT_SECRET=JWT_SECRET,
                   NEWSDESK_SEARCH_DIR=str(search_dir),
                   NEWSDESK_BIND=f"127.0.0.1:{self.port}",
                   NEWSDESK_RESPONSE_CACHE_MB="64" if cache else "0",
                   NEWSDESK_MAX_COMPLEXITY="100000", NEWSDESK_RATE_LIMIT_PER_MINUTE="0",
                   NEWSDESK_MUTATIONS_PER_MINUTE="0")
        self.process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not become ready")

    def metric(self, name):
        text = urllib.request.urlopen(self.base + "/metrics", timeout=5).read().decode()
        return float(re.search(rf"^{name} ([\d.]+)", text, re.M).group(1))

    def wait_for_search_index(self):
        """Seconds from the server's start until its search index is complete and has applied
        the whole change log (a catch-up after a new dataset would otherwise share the cores
        with the load being measured)."""
        while (self.metric("newsdesk_search_index_complete") != 1
               or self.metric("newsdesk_search_index_lag_entries") != 0):
            if time.monotonic() - self.started > 600:
                raise SystemExit("the search index was not rebuilt within 10 minutes")
            time.sleep(0.2)
        return round(time.monotonic() - self.started, 1)

    def graphql(self, query, variables=None, token=None):
        request = urllib.request.Request(
            self.base + "/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
        body = json.load(urllib.request.urlopen(request, timeout=30))
        if body.get("errors"):
            raise SystemExit(f"bench query failed: {body['errors']}")
        return body["data"]

    def statements(self):
        text = urllib.request.urlopen(self.base + "/metrics", timeout=5).read().decode()
        return int(re.search(r"^newsdesk_sql_statements_total (\d+)", text, re.M).group(1))

    def peak_rss_mb(self):
        status = pathlib.Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def unused_stem(folder, stem):
    """`stem`, or `stem` with the first free letter from b on: a second run of
    the day keeps its figures beside the first run's instead of over them."""
    for suffix in [""] + [chr(c) for c in range(ord("b"), ord("z") + 1)]:
        if not (folder / f"{stem}{suffix}.json").exists():
            return stem + suffix
    raise SystemExit(f"{folder}: every name from {stem} to {stem}z is taken")


def lua_string(text):
    """A Lua string literal of `text`, its UTF-8 bytes as they are: LuaJIT
    (wrk's) reads no `\\uXXXX` escapes, so JSON's would send other bytes."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def lua_requests(name, requests):
    """A wrk script cycling through prepared requests (method, path, body)."""
    lines = ["local reqs = {}", "local i = 0", "init = function(args)"]
    for method, path, body in requests:
        headers = '{["content-type"] = "application/json"}' if body else "nil"
        lines.append(f"  table.insert(reqs, wrk.format({json.dumps(method)}, {json.dumps(path)}, "
                     f"{headers}, {lua_string(body) if body else 'nil'}))")
    lines += ["end", "request = function()", "  i = i + 1", "  return reqs[(i % #reqs) + 1]", "end"]
    path = WORK / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wrk(server, script, connections=None):
    out = subprocess.run(["wrk", "-t1", f"-c{connections or CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script),
                          server.base], capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": ms(50),
            "p99_ms": ms(99), "requests": total, "errors": int(bad.group(1)) if bad else 0}


def gql(query, variables):
    return json.dumps({"query": query, "variables": variables}, ensure_ascii=False)


def workloads(server, rng):
    """Request sets of Q1-Q7 on this dataset."""
    sections = [s["slug"] for s in server.graphql("{ sections { slug } }")["sections"]]
    slugs = []
    for section in sections[:20]:
        page = server.graphql(Q2, {"section": section})["articles"]["edges"]
        slugs += [e["node"]["slug"] for e in page]
    rng.shuffle(slugs)
    deep = []
    for section in sections[:5]:
        after = None
        for _ in range(10):
            after = server.graphql(Q2, {"section": section, "after": after})["articles"]["pageInfo"]["endCursor"]
        deep.append((section, after))
    q1 = [("POST", "/graphql", gql(Q1, {"slug": s})) for s in slugs[:200]]
    token = run_token()
    # Each write edits an article no earlier run edited (revision 1 still).
    first = DATASET["next_write_id"]
    writes = [("POST", "/graphql", gql(MUTATION, {"id": str(k)}), token)
              for k in range(first, min(first + WRITES_PER_RUN, ARTICLES + 1))]
    DATASET["next_write_id"] = first + WRITES_PER_RUN
    DATASET["marker"].write_text(json.dumps({k: v for k, v in DATASET.items() if k != "marker"}))
    return {
        "baseline /healthz": [("GET", "/healthz", None)],
        "Q1 article by slug": q1,
        "Q2 section page 1": [("POST", "/graphql", gql(Q2, {"section": s})) for s in sections],
        "Q2 section page 11 (cursor)": [("POST", "/graphql", gql(Q2, {"section": s, "after": a})) for s, a in deep],
        "Q3 section tree": [("POST", "/graphql", gql(Q3, {}))],
        "Q4 search": [("GET", "/v1/search?" + urllib.parse.urlencode({"q": q}), None) for q in SEARCHES],
        "article by id, 1 connection": [("POST", "/graphql", gql(BY_ID, {"id": str(k)})) for k in range(1, 201)],
        "Q4 search, 1 connection": [("GET", "/v1/search?" + urllib.parse.urlencode({"q": q}), None)
                                    for q in SEARCHES],
        "Q4 search, newest first, facets": [
            ("GET", "/v1/search?" + urllib.parse.urlencode({"q": q, "sort": "newest", "facets": "true"}), None)
            for q in SEARCHES],
        # Every request a different search (the same words from a different
        # day on): the index's kept hits never answer, so this row is the
        # cost of ranking every match.
        "Q4 search, 3,000 distinct": [
            ("GET", "/v1/search?" + urllib.parse.urlencode(
                {"q": SEARCHES[i % len(SEARCHES)],
                 "from": (datetime.date(2000, 1, 1) + datetime.timedelta(days=i)).isoformat()}), None)
            for i in range(3000)],
        "Q8 suggest": [("GET", "/v1/suggest?" + urllib.parse.urlencode({"q": p}), None) for p in PREFIXES],
        "Q5 REST JSON page": [("GET", f"/v1/articles?section={s}&limit=20", None) for s in sections],
        "Q6 RSS feed": [("GET", f"/feeds/{s}.rss", None) for s in sections[:10]],
        "Q7 5% updateArticle under Q1 load": (q1, writes),
    }


TOKEN = {}


def run_token():
    return TOKEN["value"]


def mixed_script(reads, writes):
    """95 % reads, 5 % writes, each write on an article not written before."""
    lines = ["local reads, writes = {}, {}", "local i, w = 0, 0", "init = function(args)"]
    for method, path, body in reads:
        lines.append(f"  table.insert(reads, wrk.format({json.dumps(method)}, {json.dumps(path)}, "
                     f'{{["content-type"] = "application/json"}}, {json.dumps(body)}))')
    for method, path, body, token in writes:
        lines.append(f"  table.insert(writes, wrk.format({json.dumps(method)}, {json.dumps(path)}, "
                     f'{{["content-type"] = "application/json", ["authorization"] = "Bearer {token}"}}, '
                     f"{json.dumps(body)}))")
    lines += ["end", "request = function()", "  i = i + 1", "  if i % 20 == 0 then",
              "    w = w + 1", "    return writes[(w % #writes) + 1]", "  end",
              "  return reads[(i % #reads) + 1]", "end"]
    path = WORK / "q7.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(binary, engine, url, cache, rng):
    search_dir = WORK / f"{engine}-{ARTICLES}-search"
    results = {}
    if not cache:
        # The index is rebuilt from nothing by a server of its own, so that
        # the measured server opens it as a restarted node does and its
        # peak RSS is that of serving with the index open.
        shutil.rmtree(search_dir, ignore_errors=True)
        indexer = Server(binary, url, cache, search_dir)
        try:
            rebuilt = indexer.wait_for_search_index()
            results["search index rebuilt in"] = {"seconds": rebuilt,
                                                  "peak_rss_mb": round(indexer.peak_rss_mb(), 1)}
            log(f"{engine}: search index rebuilt in {rebuilt} s, peak RSS {indexer.peak_rss_mb():.0f} MB")
        finally:
            indexer.stop()
    server = Server(binary, url, cache, search_dir)
    try:
        server.wait_for_search_index()
        TOKEN["value"] = run(binary, url, "token", "--sub", "bench-editor", "--role", "editor",
                             "--ttl", "1h").strip().splitlines()[-1]
        loads = workloads(server, rng)
        for name, requests in loads.items():
            if ONLY and name != "baseline /healthz" and not any(part in name for part in ONLY):
                continue
            if name.startswith("Q7"):
                script = mixed_script(*requests)
            else:
                script = lua_requests(re.sub(r"\W+", "_", name), requests)
            before = server.statements()
            figures = wrk(server, script, 1 if name.endswith("1 connection") else None)
            figures["statements_per_request"] = round((server.statements() - before) / max(figures["requests"], 1), 2)
            figures["peak_rss_mb"] = round(server.peak_rss_mb(), 1)
            results[name] = figures
            log(f"{engine} {'warm' if cache else 'cold'} {name}: {figures['rps']:.0f} req/s, "
                f"p99 {figures['p99_ms']:.1f} ms, {figures['statements_per_request']} statements/req")
    finally:
        server.stop()
    baseline = results["baseline /healthz"]["rps"]
    for figures in results.values():
        if "rps" in figures:
            figures["ratio_to_baseline"] = round(figures["rps"] / baseline, 3)
    return results


def import_rate(binary):
    done = subprocess.run([sys.executable, str(ROOT / "bench/import_rate.py"), binary], capture_output=True,
                          text=True, check=True)
    return json.loads((ROOT / "bench/results/import.json").read_text())


def markdown(report):
    lines = [f"`make bench`, {report['articles']:,} generated articles, wrk -t1 -c{CONNECTIONS} "
             f"-d{SECONDS}s per row, {report['cores']} cores, {report['date']}.", "",
             "| engine | cache | query | req/s | p50 ms | p99 ms | × baseline | SQL/req | peak RSS MB |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for engine, modes in report["engines"].items():
        for mode, results in modes["runs"].items():
            for name, f in results.items():
                if "rps" not in f:
                    continue
                lines.append(f"| {engine} | {mode} | {name} | {f['rps']:,.0f} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | "
                             f"{f['ratio_to_baseline']:.2f} | {f['statements_per_request']} | {f['peak_rss_mb']} |")
    lines.append("")
    for engine, modes in report["engines"].items():
        cold = modes["runs"]["cold"]
        rebuilt = cold["search index rebuilt in"]
        line = (f"- {engine}: dataset generated in {modes['seed_seconds']:.0f} s; search index rebuilt "
                f"from nothing in {rebuilt['seconds']} s by a server of its own (peak RSS {rebuilt['peak_rss_mb']} MB; "
                f"the measured cold server opened that index)")
        if "Q4 search, 1 connection" in cold and "article by id, 1 connection" in cold:
            search = cold["Q4 search, 1 connection"]
            ratio = modes["search_latency_ratio_to_article_by_id"]
            line += (f"; search alone (1 connection) p50 {search['p50_ms']:.1f} ms, p99 {search['p99_ms']:.1f} ms = "
                     f"{ratio['p50']}× / {ratio['p99']}× the article-by-id query")
        lines.append(line + ".")
    if "import" in report:
        lines.append(f"- Import of legacy pages (SQLite): {report['import']['pages_per_second']:,} pages/s.")
    return "\n".join(lines) + "\n"


def main():
    binary = sys.argv[1]
    ensure_wrk()
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    report = {"articles": ARTICLES, "seconds": SECONDS, "connections": CONNECTIONS, "cores": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d"), "engines": {}}
    for engine in ENGINES:
        url, state = dataset(binary, engine)
        DATASET.clear()
        DATASET.update(state)
        DATASET["marker"] = WORK / f"{engine}-{ARTICLES}.ready"
        runs = {mode: measure(binary, engine, url, mode == "warm", rng) for mode in ("cold", "warm")}
        cold = runs["cold"]
        report["engines"][engine] = {"seed_seconds": state["seed_seconds"], "runs": runs}
        if "Q4 search, 1 connection" in cold and "article by id, 1 connection" in cold:
            report["engines"][engine]["search_latency_ratio_to_article_by_id"] = {
                "p50": round(cold["Q4 search, 1 connection"]["p50_ms"] / cold["article by id, 1 connection"]["p50_ms"], 1),
                "p99": round(cold["Q4 search, 1 connection"]["p99_ms"] / cold["article by id, 1 connection"]["p99_ms"], 1),
            }
    if not ONLY:
        report["import"] = import_rate(binary)
    out = ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    # A run of some rows only keeps its figures beside the full run's.
    name = "latest" if not ONLY else unused_stem(out, f"rows-{report['date']}")
    report["only"] = ONLY
    (out / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
