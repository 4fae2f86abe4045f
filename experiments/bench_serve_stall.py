"""Does one big request stall the others? `imr-ml serve builtin` (one worker, as it starts by
default) on 127.0.0.1; one client sends small `POST /v1/score` requests one after another
(keep-alive, one write per request) while another sends one big request, and the small
requests' latency is measured while the big one runs. Bounded: each big request has a
60-second client timeout.

    .venv/bin/python experiments/bench_serve_stall.py [--out experiments/bench_serve_stall.md] [--before DIR]

`--before DIR` first measures the server of another checkout (e.g. `git archive REV | tar -x -C DIR`),
run from DIR so that `python -m imr_ml` imports that tree, then this one.

Each big request is built from distinct summaries (a repeated one would be answered from the
signal block's row cache). The summaries are the demo requests' words shuffled, so they score
like real text.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from imr_ml.scoring.examples import EXAMPLES

SMALL = json.dumps({k: EXAMPLES[0][k] for k in ("summary", "item", "claims_admin_guideline")}).encode()
WORDS = " ".join(ex["summary"] for ex in EXAMPLES).split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summaries(n: int, words: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(WORDS) for _ in range(words)) for _ in range(n)]


def probe(port: int, stop: threading.Event, out: list[tuple[float, float]]) -> None:
    """Small scoring requests one after another until `stop`: (start time, latency ms)."""
    request = (f"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(SMALL)}\r\n\r\n").encode() + SMALL
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(600)
        f = s.makefile("rb")
        while not stop.is_set():
            t = time.perf_counter()
            s.sendall(request)
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += f.readline()
            f.read(int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)))
            out.append((t, 1000 * (time.perf_counter() - t)))
            time.sleep(0.01)


def form_token(client: httpx.Client, path: str) -> dict:
    """The CSRF field of the page's form, when the server has one."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    return {"csrf_token": m.group(1)} if m else {}


def big_requests(url: str) -> dict:
    """name -> a function sending the big request and returning its status."""
    def api(n, words, seed):
        body = json.dumps({"requests": [{"summary": s[:49_000], "item": "Acupuncture 2x6 lumbar"}
                                        for s in summaries(n, words, seed)]}).encode()
        return lambda c: (c.post(url + "/v1/score", content=body, headers={"content-type": "application/json"}),
                          len(body))

    def table(n, words, seed):
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["summary", "item"])
        w.writerows([s, "Physical therapy x12"] for s in summaries(n, words, seed))
        return buf.getvalue().encode("cp1252")

    def upload(data, encoding):
        def send(c):
            fields = form_token(c, url + "/batch") | {"encoding": encoding}
            return c.post(url + "/batch", files={"file": ("big.csv", data, "text/csv")}, data=fields), len(data)
        return send

    return {"/v1/score, 1000 requests of 100 words": api(1000, 100, 1),
            "/v1/score, 20 requests of 49,000 characters": api(20, 7000, 2),
            "/batch, 1000 rows of 100 words, cp1252": upload(table(1000, 100, 3), "cp1252"),
            # punycode decodes in quadratic time: 0.9 MB of it takes tens of seconds
            "/batch, 0.9 MB `a...a-a...a` with encoding=punycode": upload(b"a" * 450_000 + b"-" + b"a" * 450_000,
                                                                        "punycode")}


def stats(lat: list[float]) -> str:
    if not lat:
        return "| 0 | | | |"
    p50, p95 = np.percentile(lat, [50, 95])
    return f"| {len(lat)} | {p50:.1f} | {p95:.1f} | {max(lat):.1f} |"


def measure(port: int, url: str, name: str, send) -> str:
    stop, lat = threading.Event(), []
    prober = threading.Thread(target=probe, args=(port, stop, lat))
    with httpx.Client(timeout=60) as c:
        prober.start()
        time.sleep(1.0)
        t0 = time.perf_counter()
        try:
            r, size = send(c)
            status = str(r.status_code)
        except httpx.TimeoutException:
            status, size = "client timeout (60 s)", 0
        t1 = time.perf_counter()
        time.sleep(0.5)
    stop.set()
    prober.join()
    during = [ms for t, ms in lat if t <= t1 and t + ms / 1000 >= t0]  # overlapping the big request
    return f"| {name} | {size / 1e6:.2f} MB | {status} | {t1 - t0:.2f} s " + stats(during)


def run_server(cwd: str | None) -> list[str]:
    """The idle line and the table rows for the server run from `cwd` (None: this checkout)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "imr_ml", "serve", "builtin", "--port", str(port)], cwd=cwd,
                              env=os.environ | ({"PYTHONPATH": cwd} if cwd else {}),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        stop, idle = threading.Event(), []
        prober = threading.Thread(target=probe, args=(port, stop, idle))
        prober.start()
        time.sleep(3)
        stop.set()
        prober.join()
        rows = [measure(port, url, name, send) for name, send in big_requests(url).items()]
    finally:
        server.terminate()
        server.wait(120)
    return [f"Idle (no big request, 3 s): small requests {stats([ms for _, ms in idle])[2:-2].replace(' | ', ' / ')}"
            " (n / p50 / p95 / max ms)", "",
            "| big request | body | status | its time | small requests during it | p50 ms | p95 ms | max ms |",
            "|---|---:|---|---:|---:|---:|---:|---:|", *rows, ""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="experiments/bench_serve_stall.md")
    ap.add_argument("--before", metavar="DIR", help="a checkout to measure first, for comparison")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    lines = [
        "# Does one big request stall the others? (`imr-ml serve`)",
        "",
        "`python experiments/bench_serve_stall.py`: `imr-ml serve builtin` (one worker) on 127.0.0.1; one client",
        "sends small `POST /v1/score` requests one after another (10 ms apart) while another sends one big",
        "request. Latency of the small requests whose time overlapped the big one's "
        f"({os.cpu_count()} cores, shared with other work while measured: load average {load:.1f} at the start).",
        "",
    ]
    if args.before:
        lines += [f"## Before (`{args.before}`)", "", *run_server(os.path.abspath(args.before)), "## After", ""]
    lines += run_server(None)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
