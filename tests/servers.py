"""`imr-ml serve` as a real process on a free port, for the tests that need real sockets,
signals and logs (the browser test, the server's fault suite)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args: str, port: int | None = None, stderr: Path | None = None,
          timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """`imr-ml serve builtin --port PORT ARGS...` once it answers /v1/health: (process, url).
    Its stderr goes to the file `stderr` (else it is discarded)."""
    port = port or free_port()
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "imr_ml", "serve", "builtin", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/v1/health", timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                tail = stderr.read_text(errors="replace")[-500:] if stderr else ""
                raise RuntimeError(f"imr-ml serve did not start: {tail}") from None
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
