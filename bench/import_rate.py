#!/usr/bin/env python3
"""Legacy-page import rate: 10,000 pages made from the sample page, imported
into a fresh SQLite file by the release binary in one `newsdesk import` run."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

PAGES = int(os.environ.get("BENCH_PAGES", "10000"))
ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = ROOT / "tests/data/seed/000_a15393c2ad8b6a45.txt"
TITLE = "臨沂山青社會(huì)工作服務(wù)中心累計(jì)服務(wù)群眾20余萬(wàn)人次"
TIME = "2023-3-21 17:13:59"


def main() -> int:
    binary = sys.argv[1]
    seed = SEED.read_text(encoding="utf-8")
    assert TITLE in seed and TIME in seed, "the sample page changed"
    with tempfile.TemporaryDirectory() as tmp:
        pages = pathlib.Path(tmp) / "pages"
        pages.mkdir()
        files = []
        for i in range(PAGES):
            day, minute = divmod(i, 600)
            text = seed.replace(TITLE, f"{TITLE}第{i}號").replace(
                TIME, f"2022-{1 + day % 12}-{1 + day % 28} {8 + minute // 60}:{minute % 60}:00"
            )
            path = pages / f"page{i:05}.txt"
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/bench.db", RUST_LOG="warn")
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
        started = time.monotonic()
        run = subprocess.run([binary, "import", *files], env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if run.returncode != 0:
            print(run.stderr[-2000:], file=sys.stderr)
            return 1
    rate = PAGES / elapsed
    result = {"pages": PAGES, "seconds": round(elapsed, 2), "pages_per_second": round(rate)}
    out = ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "import.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"import: {PAGES} pages in {elapsed:.2f} s = {rate:.0f} pages/s (SQLite, target >= 1000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
