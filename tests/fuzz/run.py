#!/usr/bin/env python3
"""Runs each property-test fuzz target for a fixed time (T-FZ-3, T-FZ-4).

The targets are the proptest properties of the importer, the search query
parser, the cursor and id parsers and the webhook URL check. Proptest picks
a fresh random seed on every run, so running a target again and again for
`--seconds` explores new inputs each time. A case that panics, fails its
property, or takes longer than `--case-timeout-ms` fails the target;
proptest prints the smallest failing input it could shrink to. The peak
resident memory of each run is read from the kernel (wait4) and must stay
under `--rss-limit-mb`.

Usage: tests/fuzz/run.py [--seconds 300] [--jobs 2] [--cases-per-run 5000] [TARGET ...]
Prints one line per target and exits non-zero when any target failed.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

TARGETS = [
    "import::page::tests::any_text_is_a_page_or_an_error_on_a_line",
    "import::page::tests::a_damaged_sample_page_never_panics",
    "search::query::tests::any_text_is_a_query_or_bad_input",
    "graphql::ids::tests::any_cursor_text_is_a_position_or_bad_input",
    "graphql::ids::tests::positions_and_ids_round_trip",
    "webhooks::target::tests::any_text_is_a_url_or_bad_input",
    "webhooks::target::tests::no_internal_address_is_ever_allowed_t_fz_4",
]

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_binary():
    """Builds the library's unit tests and returns their executable."""
    out = subprocess.run(
        ["cargo", "test", "--lib", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        target = message.get("target", {})
        if message.get("executable") and message.get("profile", {}).get("test") \
                and "lib" in target.get("kind", []):
            return message["executable"]
    sys.exit("fuzz: no unit-test executable found in cargo's output")


def run_once(binary, target, cases, timeout_ms):
    """One run of `cases` cases; returns (ok, seconds, peak RSS in MB, output)."""
    env = dict(os.environ, PROPTEST_CASES=str(cases), PROPTEST_TIMEOUT=str(timeout_ms),
               RUST_BACKTRACE="0")
    started = time.monotonic()
    child = subprocess.Popen([binary, "--exact", target, "--test-threads", "1", "-q"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    ran = " 1 passed" in output or "1 failed" in output
    if not ran:
        output += f"\nfuzz: {target} is not a test of this binary"
    return child.returncode == 0 and ran, seconds, usage.ru_maxrss / 1024, output


def fuzz(binary, target, args):
    """Runs one target until its time is up or a run fails; prints and returns its record."""
    deadline = time.monotonic() + args.seconds
    runs = cases = 0
    peak = spent = 0.0
    verdict = "ok"
    while True:
        ok, seconds, rss, output = run_once(binary, target, args.cases_per_run,
                                            args.case_timeout_ms)
        runs += 1
        spent += seconds
        peak = max(peak, rss)
        if not ok:
            verdict = "FAILED"
            print(output[-4000:], file=sys.stderr, flush=True)
            break
        cases += args.cases_per_run
        if peak > args.rss_limit_mb:
            verdict = f"FAILED (RSS {peak:.0f} MB over {args.rss_limit_mb:.0f} MB)"
            break
        if time.monotonic() >= deadline:
            break
    print(f"{target}: {cases:,} cases in {runs} runs, {spent:.0f} s, "
          f"peak RSS {peak:.0f} MB, no case over {args.case_timeout_ms} ms: {verdict}",
          flush=True)
    return {"target": target, "runs": runs, "cases": cases, "seconds": round(spent, 1),
            "peak_rss_mb": round(peak, 1), "result": verdict}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="*", default=TARGETS)
    p.add_argument("--seconds", type=float, default=300, help="time per target")
    p.add_argument("--jobs", type=int, default=1, help="targets run at once")
    p.add_argument("--cases-per-run", type=int, default=5000)
    p.add_argument("--case-timeout-ms", type=int, default=2000)
    p.add_argument("--rss-limit-mb", type=float, default=512)
    p.add_argument("--binary", help="the unit-test executable (built when not given)")
    p.add_argument("--out", help="write a JSON summary here")
    args = p.parse_args()
    binary = args.binary or test_binary()

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda target: fuzz(binary, target, args), args.targets))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["result"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
