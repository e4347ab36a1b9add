#!/usr/bin/env python3
"""What metrics and traces cost, for `make bench`: Q1 (an article by slug)
warm (response cache on) and cold (off) on SQLite with 500 generated
articles, against the release server started four ways:

- off: `NEWSDESK_METRICS=0` (no request counting, no /metrics);
- metrics: the default;
- metrics + traces: spans exported to the tests' OTLP receiver
  (tests/support/otlp_receiver.py, a real OTLP/HTTP endpoint on loopback,
  which decodes every span on the same cores);
- metrics + traces 1 %: the same, keeping one trace in a hundred
  (`OTEL_TRACES_SAMPLER=traceidratio`): the cost of the spans themselves.

The four are measured in turn, round after round (BENCH_TELEMETRY_ROUNDS,
5), so that a slow spell of the machine hits them alike; each round's
figures are ratios to that round's `off`, and the median ratio is
reported, for throughput and for the server's own CPU time per request
(read from /proc: steadier than req/s, which the load generator on the same
cores sways). Target: metrics cost at most 5 % of warm Q1.

Usage: python3 bench/telemetry.py BINARY. Writes bench/results/telemetry.json.
"""

import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_TELEMETRY_ROUNDS", "5"))
VENV = pathlib.Path(os.environ.get("NEWSDESK_VENV", pathlib.Path.home() / ".cache/newsdesk/venv"))


class Receiver:
    """The OTLP receiver of the tests, counting the spans it is sent."""

    def __init__(self):
        self.process = subprocess.Popen(
            [str(VENV / "bin/python"), str(ROOT / "tests/support/otlp_receiver.py")],
            stdout=subprocess.PIPE, text=True)
        port = self.process.stdout.readline().split()[-1]
        self.url = f"http://127.0.0.1:{port}"
        self.spans = 0
        threading.Thread(target=self._count, daemon=True).start()

    def _count(self):
        for _ in self.process.stdout:
            self.spans += 1

    def stop(self):
        self.process.kill()
        self.process.wait()


MODES = {
    "off": {"NEWSDESK_METRICS": "0"},
    "metrics": {"NEWSDESK_METRICS": "1"},
    "metrics + traces": {"NEWSDESK_METRICS": "1", "OTEL_BSP_SCHEDULE_DELAY": "1000"},
    "metrics + traces 1 %": {"NEWSDESK_METRICS": "1", "OTEL_BSP_SCHEDULE_DELAY": "1000",
                             "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"},
}


def cpu_seconds(server):
    """User and system CPU the server process has used."""
    fields = pathlib.Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(binary, url, work, env, cache, slugs):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        server = bench.Server(binary, url, cache, work / "search")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        requests = [("POST", "/graphql", bench.gql(bench.Q1, {"slug": s})) for s in slugs]
        script = bench.lua_requests("telemetry_q1", requests)
        bench.wrk(server, script)  # warm-up: connections, caches, page cache
        before = cpu_seconds(server)
        figures = bench.wrk(server, script)
        # The server's own CPU per answer: steadier than req/s, which the
        # load generator on the same cores sways.
        figures["server_cpu_us_per_request"] = round(
            (cpu_seconds(server) - before) * 1e6 / max(figures["requests"], 1), 2)
        return figures
    finally:
        server.stop()


def main():
    binary = sys.argv[1]
    bench.ensure_wrk()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsdesk-telemetry-"))
    url = f"sqlite://{work}/telemetry.db"
    bench.run(binary, url, "migrate")
    bench.run(binary, url, "dev", "seed", "--articles", "500", "--sections", "10", "--contributors", "50")
    receiver = Receiver()
    for mode in ("metrics + traces", "metrics + traces 1 %"):
        MODES[mode]["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url
    rounds = []
    try:
        probe = bench.Server(binary, url, False, work / "search")
        try:
            slugs = [n["slug"] for n in probe.graphql("{ articles(first: 100) { nodes { slug } } }")
                     ["articles"]["nodes"]]
        finally:
            probe.stop()
        for n in range(ROUNDS):
            figures = {}
            for cache in ("warm", "cold"):
                for mode, env in MODES.items():
                    result = measure(binary, url, work, env, cache == "warm", slugs)
                    if result["errors"]:
                        raise SystemExit(f"telemetry bench: errors under {mode}: {result}")
                    figures[f"{cache} {mode}"] = result
                    bench.log(f"round {n + 1} {cache} Q1, {mode}: {result['rps']:.0f} req/s, "
                              f"p99 {result['p99_ms']:.2f} ms, "
                              f"{result['server_cpu_us_per_request']} µs server CPU per request")
            rounds.append(figures)
    finally:
        receiver.stop()
        shutil.rmtree(work, ignore_errors=True)

    def median_ratio(cache, mode, figure="rps"):
        return round(statistics.median(r[f"{cache} {mode}"][figure] / r[f"{cache} off"][figure]
                                       for r in rounds), 3)

    summary = {
        f"{cache} Q1": {
            "off_rps_median": round(statistics.median(r[f"{cache} off"]["rps"] for r in rounds)),
            "off_cpu_us_per_request_median": statistics.median(
                r[f"{cache} off"]["server_cpu_us_per_request"] for r in rounds),
            **{f"{label}_to_off": {"rps": median_ratio(cache, mode),
                                   "cpu_per_request": median_ratio(cache, mode, "server_cpu_us_per_request")}
               for label, mode in (("metrics", "metrics"), ("metrics_and_traces", "metrics + traces"),
                                   ("metrics_and_1_percent_of_traces", "metrics + traces 1 %"))},
        }
        for cache in ("warm", "cold")
    }
    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "rounds": ROUNDS,
              "connections": bench.CONNECTIONS, "seconds": bench.SECONDS, "spans_received": receiver.spans,
              "summary": summary, "target": "warm Q1 with metrics: rps ratio >= 0.95, CPU per request ratio <= 1.05",
              "runs": rounds}
    out = ROOT / "bench" / "results" / "telemetry.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    if receiver.spans == 0:
        raise SystemExit("telemetry bench: the receiver got no span")


if __name__ == "__main__":
    main()
