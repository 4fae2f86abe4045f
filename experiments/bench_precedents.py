"""Benchmark the precedents index (SQLite FTS5): build time, size on disk and query latency
at 10k, 100k and 1M indexed items of synthetic letters.

    .venv/bin/python experiments/bench_precedents.py --corpus rows.jsonl          # writes bench_precedents.md
    .venv/bin/python experiments/bench_precedents.py --make-corpus 580000 --corpus rows.jsonl
    .venv/bin/python experiments/bench_precedents.py --indexes i10k.sqlite,i100k.sqlite --out x.md  # no build

The corpus is synthetic letters (`imr_ml.synth`) parsed by the real reader, one row per item
(`--make-corpus N` writes N letters' rows, over two processes). Each size indexes the first N
rows with two processes profiling the items (`imr-ml index --jobs 2`). Queries are items of
200 other synthetic letters (another seed), typed in as requests (summary, item, cited
guideline): `similar` is timed whole (the request's signals, the word queries, the ranking and
the highlighted display of 5 precedents), one query at a time on one core, with wall clock and
the thread's CPU time (the machine is shared: CPU time is the steadier figure); `search` is
timed for word queries with and without filters and for
each query's item typed as words.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imr_ml.cli.index import parallel_profiles  # noqa: E402
from imr_ml.letters.ingest import parse_text  # noqa: E402
from imr_ml.pool import ordered_map  # noqa: E402
from imr_ml.precedents.profile import Profile  # noqa: E402
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
    built = {"n_items": counts["n_items"], "n_letters": counts["n_letters"], "build_s": time.perf_counter() - t0,
             "build_cpu_parent_s": time.process_time() - c0}
    return built | bench_queries(path, queries)


def replicated_rows(index_path: Path, times: int):
    """The items of a built index, `times` over (letters renumbered "<id>#k"), each row with
    its stored profile under ``"_profile"``: an index of `times` as many items whose profiles
    are copied, not recomputed (profiling costs ~4.5 ms of CPU an item; inserting, tokenizing
    and indexing are what is measured). Its tables and posting lists have the size of a
    `times`-fold archive; its ranking, with every item `times` over, is no quality measure."""
    conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    query = ("SELECT l.letter_id, l.summary, l.date_of_injury, l.ur_denial_date, i.item_index, i.item, "
             "i.claims_admin_guideline, i.category, i.regions, i.rules, i.findings, o.decision, o.decision_date, "
             "o.reviewer_guideline, o.rationale FROM items i JOIN letters l ON l.id = i.letter "
             "JOIN outcomes o ON o.id = i.id ORDER BY l.id, i.item_index")
    keys = ("letter_id", "summary", "date_of_injury", "ur_denial_date", "item_index", "item", "claims_admin_guideline")
    for k in range(times):
        for r in conn.execute(query):
            row = dict(zip(keys, r[:7])) | {"decision": r[11], "decision_date": r[12], "reviewer_guideline": r[13],
                                            "rationale": r[14]}
            row["letter_id"] = f"{row['letter_id']}#{k}"
            row["_profile"] = Profile(r[7], tuple(r[8].split()), tuple(r[9].split()), tuple(r[10].split()))
            yield row


def bench_replicated(index_path: Path, times: int, work: Path, queries: list[dict]) -> dict:
    """Build the `times`-fold index of `index_path` (`replicated_rows`) and time queries on it."""
    path = work / f"replicated-{times}x.sqlite"
    t0, c0 = time.perf_counter(), time.process_time()
    counts = build_index(replicated_rows(index_path, times), path,
                         profiled=lambda batches: ((b, [r["_profile"] for r in b]) for b in batches))
    built = {"n_items": counts["n_items"], "n_letters": counts["n_letters"], "insert_s": time.perf_counter() - t0,
             "insert_cpu_s": time.process_time() - c0, "replicated": f"{index_path.name} x {times}"}
    return built | bench_queries(path, queries)


def bench_queries(path: Path, queries: list[dict]) -> dict:
    """Time `similar` for each query and `search` for the filtered word queries (`SEARCHES`, 5
    times each) and for each query's item typed as words, on the index at `path`."""
    index = Index(path)
    for q in queries[:10]:  # warm: rules compiled, pages cached
        similar(index, q)
        search(index, q["item"])
    lat = [_timed(lambda q=q: similar(index, q)) for q in queries[10:]]
    found = [search(index, text, f) for text, f in SEARCHES]
    srch = [_timed(lambda t=t, f=f: search(index, t, f)) for _ in range(5) for t, f in SEARCHES]
    typed = [_timed(lambda q=q: search(index, q["item"])) for q in queries[10:]]
    out = {"n_items": index.n_items, "n_letters": index.n_letters, "mb": path.stat().st_size / 2**20,
           "queries": len(lat), "search_typed": len(typed)}
    for name, times in (("similar", lat), ("search", srch), ("search_typed", typed)):
        for clock, k in (("wall", 0), ("cpu", 1)):
            for q in (0.5, 0.95):
                out[f"{name}_{clock}_p{int(q * 100)}"] = _pct([t[k] for t in times], q)
    return out | {"search_totals": [f["total"] for f in found], "search_more": [f.get("more") for f in found]}


def table(results: list[dict]) -> str:
    lines = ["| indexed items (letters) | build | file | similar p50 / p95 (wall) | similar p50 / p95 (CPU) "
             "| search p50 / p95 (wall) | search p50 / p95 (CPU) | typed item p50 / p95 (wall) "
             "| typed item p50 / p95 (CPU) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        build = (f"{r['build_s']:.0f} s" if "build_s" in r else
                 f"{r['insert_s']:.0f} s, profiles copied" if "insert_s" in r else "not rebuilt")
        cells = [f"{r[f'{k}_p50']:.0f} / {r[f'{k}_p95']:.0f} ms" for k in (
            "similar_wall", "similar_cpu", "search_wall", "search_cpu", "search_typed_wall", "search_typed_cpu")]
        head = f"| {r['n_items']:,} ({r['n_letters']:,}) | {build} | {r['mb']:.0f} MB | "
        lines.append(head + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--indexes", default="", metavar="FILE,...",
                    help="time queries on these index files (built before) instead of building")
    ap.add_argument("--make-corpus", type=int, default=0, metavar="LETTERS")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "bench_precedents.md")
    ap.add_argument("--keep", action="store_true", help="keep the index files in --work")
    ap.add_argument("--replicate", default="", metavar="INDEX:TIMES",
                    help="build an index of INDEX's items TIMES over, profiles copied (`replicated_rows`), and time it")
    args = ap.parse_args()
    if not args.corpus and not args.indexes and not args.replicate:
        ap.error("--corpus (to build), --indexes (to query) or --replicate is required")
    if args.make_corpus:
        make_corpus(args.make_corpus, args.corpus)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_precedents_"))
    queries = _queries()
    results = []
    for path in [Path(p) for p in args.indexes.split(",") if p]:
        results.append(bench_queries(path, queries))
        print(json.dumps(results[-1]), flush=True)
    if args.replicate:
        source, times = args.replicate.rsplit(":", 1)
        results.append(bench_replicated(Path(source), int(times), work, queries))
        print(json.dumps(results[-1]), flush=True)
    for n in [] if args.indexes or args.replicate else [int(s) for s in args.sizes.split(",")]:
        results.append(bench_size(args.corpus, n, work, queries))
        print(json.dumps(results[-1]), flush=True)
        if not args.keep:
            (work / f"index-{n}.sqlite").unlink()
    head = (f"# Precedents index: build, size and latency\n\n`python experiments/bench_precedents.py` on "
            f"{platform.platform()}, Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, {os.cpu_count()} cores shared with other work "
            f"(load average {os.getloadavg()[0]:.1f} at the end). Synthetic letters' items; {results[0]['queries']} "
            "queries (items of 200 other letters typed in as requests), one at a time; 5 precedents each. `search`: "
            "5 word queries with filters, 5 times each (n = 25), and each query's item typed as words "
            f"(n = {results[0]['search_typed']}); a page of 10 hits, highlighted.\n\n")
    args.out.write_text(head + table(results) + "\n\n```\n" + "\n".join(json.dumps(r) for r in results) + "\n```\n")


if __name__ == "__main__":
    main()
