"""Wall time of the README's main command, `imr-ml demo`, on this machine.

Usage: python experiments/bench_demo.py   (writes experiments/bench_demo.md)
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    out = Path(tempfile.mkdtemp()) / "demo"
    cli = Path(sys.executable).with_name("imr-ml")
    t = time.perf_counter()
    subprocess.run([str(cli), "demo", "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    secs = time.perf_counter() - t
    lines = ["# `imr-ml demo` wall time", "",
             f"{os.cpu_count()} cores, Python {platform.python_version()}: `imr-ml demo` (1,500 synthetic letters: "
             f"synthesise, ingest, train with letter-grouped CV and calibration, evaluate, score two requests, "
             f"report) took **{secs:.0f} s** (goal: under two minutes).", ""]
    (HERE / "bench_demo.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
