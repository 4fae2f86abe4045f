"""Benchmark the precedents index (SQLite FTS5): build time, size on disk and query latency
at 10k, 100k and 1M indexed items of synthetic letters.

    .venv/bin/python experiments/bench_precedents.py --corpus rows.jsonl          # writes bench_precedents.md
    .venv/bin/python experiments/bench_precedents.py --make-corpus 580000 --corpus rows.jsonl

The corpus is synthetic letters (`imr_ml.synth`) parsed by the real reader, one row per item
(`--make-corpus N` writes N letters' rows, over two processes). Each size indexes the first N
rows with two processes profiling the items (`imr-ml index --jobs 2`). Queries are items of
200 other synthetic letters (another seed), typed in as requests (summary, item, cited
guideline): `similar` is timed whole (the request's signals, the word queries, the ranking and
the highlighted display of 5 precedents), one query at a time on one core, with wall clock and
the thread's CPU time (the machine is shared: CPU time is the steadier figure); `search` is
timed for typed word queries with and without filters.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imr_ml.cli.index import parallel_profiles  # noqa: E402
from imr_ml.letters.ingest import parse_text  # noqa: E402
from imr_ml.pool import ordered_map  # noqa: E402
from imr_ml.precedents.search import Filters, search  # noqa: E402
from imr_ml.precedents.similar import similar  # noqa: E402
from imr_ml.precedents.store import Index, build_index  # noqa: E402
from imr_ml.synth.generate import iter_letters  # noqa: E402

HERE = Path(__file__).parent
CHUNK = 500
SEARCHES = [("lumbar fusion spondylolisthesis", Filters()), ("acupuncture functional improvement", Filters()),
            ("epidural radiculopathy", Filters(outcome="overturned")),
            ("knee arthroscopy meniscus", Filters(category="surgery", since="2016-01-01")),
            ("norco urine drug screen", Filters(region="lumbar"))]


def _letters_rows(start: int, seed: int = 11) -> list[str]:
    return [json.dumps(r) for lid, text, _ in iter_letters(CHUNK, seed=seed, start=start)
            for r in parse_text(text, lid)]


def make_corpus(n_letters: int, path: Path) -> None:
    """The rows of `n_letters` synthetic letters, as JSON lines."""
    with open(path, "w") as fh:
        for lines in ordered_map(_letters_rows, range(0, n_letters, CHUNK), 2):
            fh.write("\n".join(lines) + "\n")


def _rows(path: Path, n: int):
    with open(path) as fh:
        for line in itertools.islice(fh, n):
            yield json.loads(line)


def _queries(n_letters: int = 200) -> list[dict]:
    fields = ("summary", "item", "claims_admin_guideline")
    return [{k: r.get(k) for k in fields} for lid, text, _ in iter_letters(n_letters, seed=99)
            for r in parse_text(text, lid)]


def _timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - t0, time.thread_time() - c0


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def bench_size(corpus: Path, n: int, work: Path, queries: list[dict]) -> dict:
    """Build an index of the first `n` rows and time queries on it."""
    path = work / f"index-{n}.sqlite"
    t0, c0 = time.perf_counter(), time.process_time()
    counts = build_index(_rows(corpus, n), path, profiled=parallel_profiles(2))
    build = time.perf_counter() - t0
    index = Index(path)
    for q in queries[:10]:  # warm: rules compiled, pages cached
        similar(index, q)
    lat = [_timed(lambda q=q: similar(index, q)) for q in queries[10:]]
    found = [search(index, text, f) for text, f in SEARCHES]
    srch = [_timed(lambda t=t, f=f: search(index, t, f)) for _ in range(5) for t, f in SEARCHES]
    return {"n_items": counts["n_items"], "n_letters": counts["n_letters"], "build_s": build,
            "build_cpu_parent_s": time.process_time() - c0, "mb": path.stat().st_size / 2**20,
            "queries": len(lat), "similar_wall_p50": _pct([w for w, _ in lat], 0.5),
            "similar_wall_p95": _pct([w for w, _ in lat], 0.95), "similar_cpu_p50": _pct([c for _, c in lat], 0.5),
            "similar_cpu_p95": _pct([c for _, c in lat], 0.95),
            "search_wall_p50": _pct([w for w, _ in srch], 0.5), "search_wall_p95": _pct([w for w, _ in srch], 0.95),
            "search_cpu_p95": _pct([c for _, c in srch], 0.95), "search_totals": [f["total"] for f in found]}


def table(results: list[dict]) -> str:
    lines = ["| indexed items (letters) | build | file | similar p50 / p95 (wall) | similar p50 / p95 (CPU) "
             "| search p50 / p95 (wall) | search p95 (CPU) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['n_items']:,} ({r['n_letters']:,}) | {r['build_s']:.0f} s | {r['mb']:.0f} MB "
                     f"| {r['similar_wall_p50']:.0f} / {r['similar_wall_p95']:.0f} ms "
                     f"| {r['similar_cpu_p50']:.0f} / {r['similar_cpu_p95']:.0f} ms "
                     f"| {r['search_wall_p50']:.0f} / {r['search_wall_p95']:.0f} ms | {r['search_cpu_p95']:.0f} ms |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--make-corpus", type=int, default=0, metavar="LETTERS")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "bench_precedents.md")
    ap.add_argument("--keep", action="store_true", help="keep the index files in --work")
    args = ap.parse_args()
    if args.make_corpus:
        make_corpus(args.make_corpus, args.corpus)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_precedents_"))
    queries = _queries()
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        results.append(bench_size(args.corpus, n, work, queries))
        print(json.dumps(results[-1]), flush=True)
        if not args.keep:
            (work / f"index-{n}.sqlite").unlink()
    head = (f"# Precedents index: build, size and latency\n\n`python experiments/bench_precedents.py` on "
            f"{platform.platform()}, Python {platform.python_version()}, SQLite "
            f"{__import__('sqlite3').sqlite_version}, {os.cpu_count()} cores shared with other work "
            f"(load average {os.getloadavg()[0]:.1f} at the end). Synthetic letters' items; {results[0]['queries']} "
            "queries (items of 200 other letters typed in as requests), one at a time; 5 precedents each.\n\n")
    args.out.write_text(head + table(results) + "\n\n```\n" + "\n".join(json.dumps(r) for r in results) + "\n```\n")


if __name__ == "__main__":
    main()
