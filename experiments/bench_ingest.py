"""Ingest throughput: `imr-ml ingest` on the real PDFs against a plain one-process pypdf
loop (decrypt, extract every page), and how it grows with the number of letters.

Usage: python experiments/bench_ingest.py [--real DIR] [--sizes 111,1110,11100] [--synthetic 100000]
Writes experiments/bench_ingest.md. Needs the `bench` extra (pypdf, cryptography).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from imr_ml.letters.ingest import ingest_paths

HERE = Path(__file__).parent


def pypdf_loop(files: list[Path]) -> float:
    import pypdf

    t = time.perf_counter()
    for f in files:
        r = pypdf.PdfReader(f)
        if r.is_encrypted:
            r.decrypt("")
        "\n".join(p.extract_text() or "" for p in r.pages)
    return time.perf_counter() - t


def timed_ingest(paths, jobs: int, out: Path) -> tuple[float, int]:
    t = time.perf_counter()
    rows, skipped = ingest_paths(paths, out=out, jobs=jobs)
    return time.perf_counter() - t, len(rows)


def replicate(files: list[Path], n: int, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = files[i % len(files)]
        os.link(src, into / f"{i:07d}-{src.name}")
    return into


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", default=str(HERE.parent.parent / "shared/data/dwc-imr-letters/pdf"))
    ap.add_argument("--sizes", default="111,1110,11100")
    ap.add_argument("--synthetic", type=int, default=100000, help="text letters from `imr-ml synth` (0 = skip)")
    args = ap.parse_args()
    files = sorted(Path(args.real).glob("*.pdf"))
    jobs = os.cpu_count() or 1
    lines = ["# Ingest benchmark", "",
             f"Machine: {platform.processor() or platform.machine()}, {jobs} cores, Python {platform.python_version()}.", ""]
    base = pypdf_loop(files)
    ours1, _ = timed_ingest([args.real], 1, Path(tempfile.mkdtemp()) / "c.jsonl")
    oursn, n_rows = timed_ingest([args.real], jobs, Path(tempfile.mkdtemp()) / "c.jsonl")
    lines += [f"## Real letters ({len(files)} PDFs, {n_rows} items)", "",
              "| reader | seconds | letters/s | × pypdf loop |", "|---|---|---|---|",
              f"| plain pypdf loop, 1 process (text only, no parsing) | {base:.2f} | {len(files) / base:.1f} | 1.0 |",
              f"| imr-ml ingest --jobs 1 (text + parse + write) | {ours1:.2f} | {len(files) / ours1:.1f} | {base / ours1:.1f} |",
              f"| imr-ml ingest --jobs {jobs} | {oursn:.2f} | {len(files) / oursn:.1f} | {base / oursn:.1f} |", ""]
    lines += ["## Growth (real PDFs replicated; each copy is read and parsed in full)", "",
              "| letters | seconds | letters/s |", "|---|---|---|"]
    for n in map(int, args.sizes.split(",")):
        tmp = Path(tempfile.mkdtemp())
        try:
            secs, _ = timed_ingest([replicate(files, n, tmp / "in")], jobs, tmp / "c.jsonl")
            lines.append(f"| {n:,} | {secs:.1f} | {n / secs:.0f} |")
        finally:
            shutil.rmtree(tmp)
    if args.synthetic:
        from imr_ml.synth.generate import generate_corpus

        tmp = Path(tempfile.mkdtemp())
        try:
            generate_corpus(args.synthetic, tmp / "letters", seed=1)
            secs, n_rows = timed_ingest([tmp / "letters"], jobs, tmp / "c.jsonl")
            lines += ["", f"Synthetic text letters: {args.synthetic:,} letters ({n_rows:,} items) in {secs:.1f} s"
                      f" = {args.synthetic / secs:.0f} letters/s with {jobs} processes."]
        finally:
            shutil.rmtree(tmp)
    (HERE / "bench_ingest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
