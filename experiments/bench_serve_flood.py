"""A flood of idle connections against `imr-ml serve builtin` (one worker, default limits):
N connections opened and left silent, as a slowloris client would; meanwhile, normal requests
on new connections. Reports the server's open descriptors, the normal requests' status and
latency, how many flood connections the server closed, and the size of its log.

    .venv/bin/python experiments/bench_serve_flood.py [--n 15000] [--out experiments/bench_serve_flood.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def normal_request(url: str) -> tuple[str, float]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url + "/v1/model", timeout=30) as r:
            status = str(r.status)
    except urllib.error.HTTPError as exc:
        status = str(exc.code)
    except OSError as exc:
        status = type(exc).__name__
    return status, 1000 * (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=15_000)
    ap.add_argument("--out", default="experiments/bench_serve_flood.md")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp()) / "serve.log"
    with open(log, "wb") as err:
        server = subprocess.Popen([sys.executable, "-m", "imr_ml", "serve", "builtin", "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=err)
    try:
        while normal_request(url)[0] != "200":
            time.sleep(0.3)
        idle_fds = fds(server.pid)
        flood, during, most_fds = [], [], idle_fds
        t0 = time.perf_counter()
        for i in range(args.n):
            try:
                flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
            if i % 1000 == 999:
                during.append(normal_request(url))
                most_fds = max(most_fds, fds(server.pid))
        opened = time.perf_counter() - t0
        time.sleep(11)  # past the 10 s header timeout
        after = [normal_request(url) for _ in range(5)]
        closed = 0
        for s in flood:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            s.close()
    finally:
        server.terminate()
        server.wait(30)
    text = log.read_text(errors="replace")
    lat = [ms for _, ms in during]
    lines = [
        "# A flood of idle connections (`imr-ml serve`)",
        "",
        f"`python experiments/bench_serve_flood.py --n {args.n}`: `imr-ml serve builtin` (one worker, default",
        "`--max-connections 1000`, `--header-timeout 10`) on 127.0.0.1; one client opens connections that send",
        f"nothing, and after every 1,000 a normal `GET /v1/model` on a new connection ({os.cpu_count()} cores,",
        f"shared; open-file limit {hard:,}).",
        "",
        f"- idle connections opened: {len(flood):,} in {opened:.1f} s",
        f"- server's open descriptors: {idle_fds} idle, at most {most_fds} during the flood",
        f"- normal requests during the flood: {len(during)}, statuses {sorted(set(s for s, _ in during))}, "
        f"latency p50 {np.median(lat):.0f} ms, max {max(lat):.0f} ms" if lat else "- no normal request made",
        f"- flood connections closed by the server 11 s later: {closed:,} of {len(flood):,}",
        f"- normal requests after: statuses {[s for s, _ in after]}",
        f"- server log: {len(text.encode()):,} bytes, {text.count(chr(10))} lines, "
        f"{text.count('Traceback')} tracebacks",
        "",
        "The log's lines about the flood:",
        "",
        "```",
        *[line for line in text.splitlines() if "connections" in line][:10],
        "```",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
