"""Load benchmark of `imr-ml serve builtin --workers 2` on 127.0.0.1: single-request latency,
throughput and latency at 1, 8 and 32 concurrent clients, and worker memory (RSS from /proc)
before and after 10,000 requests. Bounded: fixed request counts, one client process.

    .venv/bin/python experiments/bench_serve.py [--out experiments/bench_serve.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from imr_ml.scoring.examples import EXAMPLES

FIELDS = ("summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date")
BODIES = [{k: ex[k] for k in FIELDS} for ex in EXAMPLES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, IndexError):
                pass
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(url: str, n: int, concurrency: int) -> tuple[list[float], int, float]:
    """`n` scoring requests by `concurrency` keep-alive clients: (latencies in ms, errors,
    seconds). Each request goes out in one write: a client that sends headers and body in two
    (httpx, http.client) meets Nagle's algorithm and delayed ACKs and measures a 40 ms stall."""
    host, port = url.rsplit("/", 1)[1].split(":")
    payloads = [json.dumps(b).encode() for b in BODIES]
    requests = [f"POST /v1/score HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(p)}\r\n\r\n".encode() + p for p in payloads]
    latencies, errors, next_i = [], 0, 0

    async def worker():
        nonlocal errors, next_i
        reader, writer = await asyncio.open_connection(host, int(port))
        while next_i < n:
            i, next_i = next_i, next_i + 1
            t = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            await reader.readexactly(length)
            latencies.append(1000 * (time.perf_counter() - t))
            errors += not head.startswith(b"HTTP/1.1 200")
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="experiments/bench_serve.md")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "imr_ml", "serve", "builtin", "--port", str(port),
                               "--workers", str(args.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        asyncio.run(run(url, 200, 4))  # warm up both workers
        workers = children(server.pid)
        rss_before = {p: rss_mb(p) for p in workers}
        rows, total_errors = [], 0
        single, e, _ = asyncio.run(run(url, 500, 1))
        total_errors += e
        for conc, n in ((1, 500), (8, 2000), (32, 2000)):
            lat, e, secs = asyncio.run(run(url, n, conc))
            total_errors += e
            rows.append((conc, n, n / secs, *np.percentile(lat, [50, 95, 99])))
        done = 500 + 500 + 2000 + 2000
        lat, e, _ = asyncio.run(run(url, 10_000, 8))
        total_errors += e
        rss_after = {p: rss_mb(p) for p in workers}
    finally:
        server.terminate()
        server.wait(20)
    p50, p95, p99 = np.percentile(single, [50, 95, 99])
    lines = [
        "# `imr-ml serve` load benchmark",
        "",
        f"`python experiments/bench_serve.py`: `imr-ml serve builtin --workers {args.workers}` on 127.0.0.1, one asyncio client",
        f"process (keep-alive, one write per request) on the same machine ({os.cpu_count()} cores, shared with other work while measured),",
        "`POST /v1/score` with one of the two demo requests (full result: interval, every contribution,",
        "evidence, hints).",
        "",
        f"Single request, one at a time (500): p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms.",
        "",
        "| concurrent clients | requests | requests/s | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|",
        *(f"| {c} | {n:,} | {rps:.0f} | {a:.1f} | {b:.1f} | {d:.1f} |" for c, n, rps, a, b, d in rows),
        "",
        f"Worker memory (RSS) before and after a further 10,000 requests at 8 clients "
        f"({done + 10_000:,} requests in all after warm-up):",
        "",
        "| worker | before MB | after MB |",
        "|---:|---:|---:|",
        *(f"| {i + 1} | {rss_before[p]:.1f} | {rss_after.get(p, 0):.1f} |" for i, p in enumerate(workers)),
        "",
        f"Errors: {total_errors} (any non-200 answer).",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
