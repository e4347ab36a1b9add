#!/usr/bin/env python3
"""Sitemaps for `make bench`: on the generated 100,000-article newsroom
(`bench/run.py`'s dataset, reused when BENCH_REUSE=1), the time to serve
the first page of article URLs (50,000 URLs) cold (response cache off,
each request written anew) and warm (cache on), the news sitemap, and the
server's peak RSS. Targets: a 50,000-URL page under 1 s cold, RSS under
100 MB.

Usage: python3 bench/sitemap.py BINARY. Environment: BENCH_ENGINES
("sqlite,postgres"), BENCH_SITEMAP_REQUESTS (5). Writes
bench/results/sitemap.json.
"""

import json
import os
import pathlib
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402
from limits import rss_mb  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_SITEMAP_REQUESTS", "5"))


def fetch(server, path):
    """Seconds to the last byte, and the body."""
    started = time.monotonic()
    with urllib.request.urlopen(server.base + path, timeout=60) as response:
        body = response.read()
    return time.monotonic() - started, body


def measure(binary, url, engine, cache):
    search_dir = bench.WORK / f"{engine}-{bench.ARTICLES}-search"
    # A missing index is rebuilt by a server of its own first: a rebuild's
    # memory and CPU are not what is measured here.
    server = bench.Server(binary, url, cache, search_dir)
    try:
        server.wait_for_search_index()
    finally:
        server.stop()
    server = bench.Server(binary, url, cache, search_dir)
    try:
        server.wait_for_search_index()
        before = rss_mb(server)
        times = []
        body = b""
        for _ in range(REQUESTS):
            seconds, body = fetch(server, "/sitemaps/articles-1.xml")
            times.append(seconds * 1000)
        index_ms, _ = fetch(server, "/sitemap.xml")
        news_ms, news = fetch(server, "/sitemaps/news.xml")
        return {
            "urls": body.count(b"<url>"),
            "bytes": len(body),
            "first_ms": round(times[0], 1),
            "p50_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "index_ms": round(index_ms * 1000, 1),
            "news_ms": round(news_ms * 1000, 1),
            "news_urls": news.count(b"<url>"),
            "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(server.peak_rss_mb(), 1),
        }
    finally:
        server.stop()


def main():
    binary = sys.argv[1]
    bench.WORK.mkdir(parents=True, exist_ok=True)
    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "articles": bench.ARTICLES,
              "requests": REQUESTS, "target": "cold 50,000-URL page under 1 s, peak RSS under 100 MB",
              "engines": {}}
    for engine in bench.ENGINES:
        url, _ = bench.dataset(binary, engine)
        report["engines"][engine] = {mode: measure(binary, url, engine, mode == "warm")
                                     for mode in ("cold", "warm")}
        cold = report["engines"][engine]["cold"]
        bench.log(f"{engine}: a {cold['urls']:,}-URL sitemap page ({cold['bytes'] / 1e6:.1f} MB) cold "
                  f"first {cold['first_ms']} ms, p50 {cold['p50_ms']} ms, max {cold['max_ms']} ms, "
                  f"RSS {cold['rss_before_mb']} MB before, peak {cold['peak_rss_mb']} MB")
    out = ROOT / "bench" / "results" / "sitemap.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
