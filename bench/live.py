#!/usr/bin/env python3
"""Live updates under load, for `make bench`: the release server on SQLite
with the sample page and 500 generated articles; subscribers are raw
graphql-transport-ws sockets of the `ws` package (tests/js/live_load.mjs),
each subscribed to `articlePublished`.

- idle subscribers: 10,000 sockets open and subscribed; the server's RSS
  before they open and while they are held (target: at most 300 MB);
- fan-out: 1,000 subscribers, 20 publications one after another; for each,
  the time from the publishing request's start (and from its answer, which
  comes after the commit) until the last subscriber has the event (target:
  p99 at most 200 ms).

Usage: python3 bench/live.py BINARY. Environment: BENCH_LIVE_IDLE (10000),
BENCH_LIVE_FANOUT (1000), BENCH_LIVE_PUBLISHES (20).
Writes bench/results/live.json.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402
from limits import rss_mb  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
IDLE = int(os.environ.get("BENCH_LIVE_IDLE", "10000"))
FANOUT = int(os.environ.get("BENCH_LIVE_FANOUT", "1000"))
PUBLISHES = int(os.environ.get("BENCH_LIVE_PUBLISHES", "20"))
LIVE_LIMITS = {"NEWSDESK_LIVE_CONNECTIONS_PER_ADDRESS": "0", "NEWSDESK_LIVE_CONNECTIONS": "0"}


def subscribers(server, count, publishes, token):
    """Holds `count` subscribers; returns (RSS MB while held, the client's reports)."""
    client = subprocess.Popen(
        ["node", str(ROOT / "tests/js/live_load.mjs"), server.base, str(count), str(publishes), token],
        cwd=ROOT / "tests/js", stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    held = json.loads(client.stdout.readline() or "{}")
    if held.get("held") != count:
        client.kill()
        raise SystemExit(f"live bench: could not hold {count} subscribers: {held}")
    time.sleep(1)
    rss = rss_mb(server)
    client.stdin.write("go\n")
    client.stdin.flush()
    reports = [json.loads(line) for line in client.stdout if line.strip()]
    client.wait(timeout=120)
    return held, rss, reports


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    binary = sys.argv[1]
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsdesk-live-"))
    url = f"sqlite://{work}/live.db"
    bench.run(binary, url, "migrate")
    bench.run(binary, url, "dev", "seed", "--articles", "500", "--sections", "10", "--contributors", "50")
    bench.run(binary, url, "import", str(bench.SEED_PAGE))
    token = bench.editor_token(binary, url)
    os.environ.update(LIVE_LIMITS)
    server = bench.Server(binary, url, cache=False, search_dir=work / "search")
    try:
        before = rss_mb(server)
        held, rss, _ = subscribers(server, IDLE, 0, token)
        bench.log(f"live: {IDLE} idle subscribers held, RSS {before:.0f} -> {rss:.0f} MB "
                  f"(opened in {held['open_ms']} ms)")
        idle = {"subscribers": IDLE, "rss_before_mb": round(before, 1), "rss_held_mb": round(rss, 1),
                "kib_per_subscriber": round((rss - before) * 1024 / IDLE, 1), "open_ms": held["open_ms"],
                "target_mb": 300}
        time.sleep(2)
        _, _, reports = subscribers(server, FANOUT, PUBLISHES, token)
        runs = next(r["publishes"] for r in reports if "publishes" in r)
        if any(run["subscribers"] != FANOUT for run in runs):
            raise SystemExit(f"live bench: an event did not reach every subscriber: {runs}")
        from_request = [run["from_request_ms"] for run in runs]
        from_answer = [run["from_answer_ms"] for run in runs]
        fanout = {"subscribers": FANOUT, "publishes": PUBLISHES,
                  "last_delivery_from_request_ms": {"p50": percentile(from_request, 0.5),
                                                    "p99": percentile(from_request, 0.99)},
                  "last_delivery_from_answer_ms": {"p50": percentile(from_answer, 0.5),
                                                   "p99": percentile(from_answer, 0.99)},
                  "target_p99_ms": 200}
        bench.log(f"live: one publication to {FANOUT} subscribers, last delivery p50 "
                  f"{fanout['last_delivery_from_request_ms']['p50']} ms, p99 "
                  f"{fanout['last_delivery_from_request_ms']['p99']} ms from the request")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "idle": idle, "fanout": fanout}
    out = ROOT / "bench" / "results" / "live.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
