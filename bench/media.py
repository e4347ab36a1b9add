#!/usr/bin/env python3
"""Pictures, for `make bench`: the release server on SQLite with its media
in a folder.

- upload to first rendition: a 2,400 x 1,600 PNG posted to /v1/media, then
  its 1280.jpg rendition asked for (made on that first request); the time of
  each part and of both, over BENCH_MEDIA_UPLOADS (10) distinct pictures;
- renditions per second, warm: wrk cycling through the 320.jpg renditions
  already made, against /healthz in the same run (the ratio is what to
  compare between machines).

Usage: python3 bench/media.py BINARY. Writes bench/results/media.json.
"""

import json
import os
import pathlib
import shutil
import struct
import sys
import tempfile
import time
import urllib.request
import zlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as bench  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
UPLOADS = int(os.environ.get("BENCH_MEDIA_UPLOADS", "10"))
WIDTH, HEIGHT = 2400, 1600


def png(seed):
    """A WIDTH x HEIGHT gradient, different for every seed."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = bytes((x * 7 + seed) % 256 for x in range(WIDTH * 3))
    rows = b"".join(b"\0" + row[y % 3:] + row[:y % 3] for y in range(HEIGHT))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def upload(server, token, picture):
    boundary = "bench-boundary"
    body = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"content-type: image/png\r\n\r\n").encode() + picture + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.base + "/v1/media", data=body, method="POST", headers={
        "content-type": f"multipart/form-data; boundary={boundary}", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        if answer.status != 201:
            raise SystemExit(f"media bench: upload answered {answer.status}")
        return json.load(answer)["id"]


def get(server, path):
    with urllib.request.urlopen(server.base + path, timeout=120) as answer:
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"media bench: {path} answered {answer.status}")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    binary = sys.argv[1]
    bench.ensure_wrk()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsdesk-media-"))
    url = f"sqlite://{work}/media.db"
    bench.run(binary, url, "migrate")
    token = bench.editor_token(binary, url)
    pictures = [png(seed) for seed in range(UPLOADS)]
    server = bench.Server(binary, url, cache=False, search_dir=work / "search")
    try:
        uploads, firsts, totals, ids = [], [], [], []
        for picture in pictures:
            start = time.monotonic()
            media = upload(server, token, picture)
            uploaded = time.monotonic()
            get(server, f"/media/{media}/1280.jpg")
            done = time.monotonic()
            ids.append(media)
            uploads.append((uploaded - start) * 1000)
            firsts.append((done - uploaded) * 1000)
            totals.append((done - start) * 1000)
        for media in ids:
            get(server, f"/media/{media}/320.jpg")
        script = bench.lua_requests("renditions", [("GET", f"/media/{m}/320.jpg", None) for m in ids])
        warm = bench.wrk(server, script)
        health = bench.wrk(server, bench.lua_requests("health", [("GET", "/healthz", None)]))
        if warm["errors"] or health["errors"]:
            raise SystemExit(f"media bench: non-2xx answers: {warm} {health}")
        peak = server.peak_rss_mb()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def spread(values):
        return {"p50": round(percentile(values, 0.5), 1), "p99": round(percentile(values, 0.99), 1)}
    report = {
        "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
        "picture": f"{WIDTH}x{HEIGHT} PNG, {round(sum(map(len, pictures)) / len(pictures) / 1e6, 1)} MB",
        "uploads": UPLOADS, "upload_ms": spread(uploads), "first_rendition_1280_jpg_ms": spread(firsts),
        "upload_to_first_rendition_ms": spread(totals),
        "warm_renditions_320_jpg": warm, "healthz": health,
        "warm_renditions_share_of_healthz": round(warm["rps"] / health["rps"], 2),
        "peak_rss_mb": round(peak, 1),
    }
    bench.log(f"media: upload to first rendition p50 {report['upload_to_first_rendition_ms']['p50']} ms, "
              f"warm renditions {warm['rps']:.0f} r/s ({report['warm_renditions_share_of_healthz']:.0%} of /healthz)")
    out = ROOT / "bench" / "results" / "media.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
