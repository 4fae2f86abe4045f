"""Scoring throughput, measured two ways.

1. **Distinct typed requests**, as a claims file holds them: a CSV whose every summary is
   unique (`experiments/distinct_requests.py`), scored end to end through the command line
   as a user runs it, `imr-ml score builtin FILE.csv --out x.csv --jobs J`, at 10k, 40k,
   100k and 1M rows with 1 and 2 processes. Wall clock and CPU time of the whole command
   (start-up included); every 2 s the output's size (items done), the CPU time and the memory of the
   command and its workers (VmRSS, /proc). The longest runs are drawn over time in
   `bench_score_1m.png` (1M rows) or `bench_score_over_time.png` (until a 1M run is made).
   This is the claims-work speed.
2. **Items of synthetic letters** (the corpus figure): `imr_ml.scoring.score.score_rows`
   in-process on one core, every cache cleared first, as before; the items of a letter
   share its summary, so the analyses of a summary are reused here and never in (1).

Usage: python experiments/bench_score.py [--sizes 10000,40000,100000,1000000] [--jobs 1,2]
       [--label after] [--code DIR] [--data DIR] [--no-corpus] [--rep K]
`--code DIR` runs the command from another checkout (PYTHONPATH), to measure the code before
a change back to back with it under its own `--label`; call it alternately with `--rep 1`,
`--rep 2` ... for interleaved repeats (the table gives their median, range and n). Raw runs
accumulate in `bench_score_runs.json` (by label), with the machine's load average over each
run; `bench_score.md` is written from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
RUNS = HERE / "bench_score_runs.json"
SAMPLE_SECONDS = 2.0
sys.path.insert(0, str(HERE))


# ----------------------------------------------------------------------------- distinct requests


def _rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    """The process's children (its scoring workers)."""
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(k) for k in fh.read().split()]
    except OSError:
        pass
    return kids


def run_cli(csv_path: Path, jobs: int, code: str | None = None) -> dict:
    """`imr-ml score builtin CSV --out x.csv --jobs J` in a fresh folder, sampled every 2 s:
    wall and CPU seconds (the command and its workers), output bytes and memory over time."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    folder = Path(tempfile.mkdtemp(prefix="bench-score-"))
    out = folder / "scores.csv"
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "imr_ml", "score", "builtin", str(csv_path), "--out", str(out),
                             "--jobs", str(jobs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=folder)
    samples = []
    while proc.poll() is None:
        time.sleep(SAMPLE_SECONDS)
        written = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())  # the atomic write's temp file
        kids = _children(proc.pid)
        samples.append({"t": round(time.perf_counter() - t0, 2), "bytes": written, "parent_mb": _rss_mb(proc.pid),
                        "workers_mb": [m for m in map(_rss_mb, kids) if m is not None],
                        "cpu": round(_cpu_seconds(proc.pid) + sum(map(_cpu_seconds, kids)), 2)})
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"imr-ml score failed ({proc.returncode}): {err[-500:]}")
    size = out.stat().st_size
    out.unlink()
    folder.rmdir()
    return {"jobs": jobs, "wall": round(wall, 2),
            "cpu": round(cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime, 2),
            "bytes": size, "samples": samples, "load": [round(load0, 1), round(os.getloadavg()[0], 1)]}


def data_file(folder: Path, n: int) -> Path:
    """The CSV of the first `n` distinct requests (seed 0), written once into `folder`."""
    from distinct_requests import write_requests

    path = folder / f"distinct_{n}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write_requests(n, tmp)
        tmp.replace(path)
    return path


# ----------------------------------------------------------------------------- letters' items


def corpus_figure(train_letters: int = 1500, score_letters: int = 3000, repeat: int = 3) -> dict:
    """Items/s of `score_rows` on items of synthetic letters, one core, CPU time, cold caches;
    and with one process per core (wall clock)."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # one core
    from imr_ml.cli._app import fewer_gc_pauses
    from imr_ml.featurize import feature_blocks
    from imr_ml.letters.ingest import parse_text
    from imr_ml.modeling.estimator.model import fitted_pipeline
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import save, train
    from imr_ml.scoring.examples import EXAMPLES
    from imr_ml.scoring.score import request_row, score_rows
    from imr_ml.synth.generate import iter_letters

    def rows_of(n, seed):
        out = []
        for lid, text, _ in iter_letters(n, seed=seed):
            out += parse_text(text, lid)
        return out

    model_dir = Path(tempfile.mkdtemp()) / "model"
    save(train(rows_of(train_letters, 1), TrainOptions(estimate=False, baselines=False)), model_dir)
    loaded = load_model_dir(model_dir)
    signal_step = feature_blocks(fitted_pipeline(loaded.model)["features"])["structured"]
    rows = rows_of(score_letters, 2)
    runs = []
    for _ in range(repeat):
        signal_step.clear_cache()  # remembered rows and text analyses: a cold run
        t = time.process_time()
        with fewer_gc_pauses():  # as `imr-ml score` does around its scoring
            n = sum(1 for _ in score_rows(loaded, rows))
        runs.append(time.process_time() - t)
    os.sched_setaffinity(0, cores)  # every core, for `imr-ml score --jobs 0`
    walls = []
    for _ in range(repeat):
        signal_step.clear_cache()
        t = time.perf_counter()
        with fewer_gc_pauses():
            sum(1 for _ in score_rows(loaded, rows, n_jobs=len(cores)))
        walls.append(time.perf_counter() - t)
    ex = EXAMPLES[0]
    req = request_row(ex["summary"], ex["item"], ex["claims_admin_guideline"], ex["date_of_injury"],
                      ex["ur_denial_date"])
    signal_step.clear_cache()
    t = time.perf_counter()
    with fewer_gc_pauses():
        list(score_rows(loaded, [req]))
    return {"train_letters": train_letters, "score_letters": score_letters, "items": n, "cpu": runs, "walls": walls,
            "cores": len(cores), "single_ms": (time.perf_counter() - t) * 1000}


# ----------------------------------------------------------------------------- the report


def rate_over_time(run: dict, n: int, window: float = 30.0) -> list[tuple[float, float, float | None]]:
    """(seconds, items/s, items per CPU second or None) over successive stretches of at least
    `window` seconds, from the output's growth (its bytes per item over the whole run):
    results are written a batch at a time, so a 2-s sample sees a burst or nothing. Per CPU
    second is what the shared machine's load does not change."""
    per_item = run["bytes"] / n
    out: list[tuple[float, float, float | None]] = []
    prev_t, prev_b, prev_c = 0.0, 0, 0.0
    for s in run["samples"]:
        cpu = s.get("cpu")
        if s["bytes"] and s["t"] - prev_t >= window:
            items = (s["bytes"] - prev_b) / per_item
            per_cpu = items / (cpu - prev_c) if cpu is not None and cpu > prev_c else None
            out.append((s["t"], items / (s["t"] - prev_t), per_cpu))
            prev_t, prev_b, prev_c = s["t"], s["bytes"], cpu or 0.0
        elif not s["bytes"]:
            prev_t, prev_c = s["t"], cpu or 0.0  # start-up: nothing written yet
    return out


def plot_over_time(runs: dict, path: Path) -> None:
    """Items/s and memory over the longest runs (matplotlib's Figure API, no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.5), layout="constrained")
    speed, memory = fig.subplots(2, 1, sharex=True)
    for label, run in runs.items():
        n = run["rows"]
        pts = rate_over_time(run, n)
        line, = speed.plot([t / 60 for t, _, _ in pts], [r for _, r, _ in pts], lw=0.8, label=f"{label}: wall clock")
        if all(c is not None for _, _, c in pts):
            speed.plot([t / 60 for t, _, _ in pts], [c for _, _, c in pts], color=line.get_color(), lw=1.0, ls="--",
                       label=f"{label}: per CPU second")
        t = [s["t"] / 60 for s in run["samples"]]
        memory.plot(t, [s["parent_mb"] or 0 for s in run["samples"]], color=line.get_color(), lw=1.2,
                    label=f"{label}: command")
        if any(s["workers_mb"] for s in run["samples"]):
            memory.plot(t, [max(s["workers_mb"], default=0) for s in run["samples"]], color=line.get_color(),
                        lw=1.0, ls="--", label=f"{label}: largest worker")
    speed.set_ylabel("items/s (each 30 s)")
    speed.set_ylim(bottom=0)
    speed.legend(loc="lower right", fontsize=8)
    rows = max(run["rows"] for run in runs.values())
    speed.set_title(f"imr-ml score builtin ({rows:,} distinct typed requests, CSV in, CSV out)", fontsize=10)
    memory.set_ylabel("resident memory (MB)")
    memory.set_xlabel("minutes into the run")
    memory.set_ylim(bottom=0)
    memory.legend(loc="lower right", fontsize=8)
    for ax in (speed, memory):
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def _peak(run: dict, key: str) -> float:
    if key == "parent_mb":
        return max((s["parent_mb"] or 0 for s in run["samples"]), default=0)
    return max((max(s["workers_mb"], default=0) for s in run["samples"]), default=0)


def _steady(run: dict) -> str:
    """Items/s and command memory in the run's first and last tenths (flat is the goal)."""
    pts = rate_over_time(run, run["rows"])
    if len(pts) < 10:
        return ""
    k = len(pts) // 10
    first, last = sum(r for _, r, _ in pts[:k]) / k, sum(r for _, r, _ in pts[-k:]) / k
    mem = [s["parent_mb"] or 0 for s in run["samples"]]
    wmem = [max(s["workers_mb"], default=0) for s in run["samples"]]
    m = len(mem) // 10
    text = f"; first/last tenth of the run: {first:,.0f} / {last:,.0f} items/s (wall clock)"
    if all(c is not None for _, _, c in pts):
        text += (f", {sum(c for _, _, c in pts[:k]) / k:,.0f} / {sum(c for _, _, c in pts[-k:]) / k:,.0f} items per "
                 "CPU second")
    text += f", command {sum(mem[1:m + 1]) / m:,.0f} / {sum(mem[-m:]) / m:,.0f} MB"
    if any(wmem):
        text += f", largest worker {sum(wmem[1:m + 1]) / m:,.0f} / {sum(wmem[-m:]) / m:,.0f} MB"
    return text


def _median_range(runs: list[dict], key: str) -> tuple[float, float, float]:
    values = sorted(r[key] for r in runs)
    return statistics.median(values), values[0], values[-1]


def report(results: dict) -> list[str]:
    """The markdown of every recorded label: a table of the distinct runs, the 40k/10k time
    ratio, and the corpus figure."""
    lines = ["# Scoring throughput", "",
             f"Python {platform.python_version()}, {platform.machine()}, a 2-core VM shared with other work while "
             "measured (its speed changes from hour to hour: compare runs of one label, and labels measured back to "
             "back). `python experiments/bench_score.py`; raw samples in `bench_score_runs.json`.", "",
             "## Distinct typed requests (claims work)", "",
             "Every summary unique (`experiments/distinct_requests.py`: half letter-style case summaries, half typed "
             "notes, each naming its physician from 65,600 made-up surnames), scored end to end as a user runs it: "
             "`imr-ml score builtin FILE.csv --out x.csv --jobs J`. Wall clock and CPU time (the command and its "
             "workers) of the whole command, start-up (about 2 s) included; memory is the largest VmRSS sampled every "
             "2 s.", ""]
    for label, res in results.items():
        runs = res.get("distinct", [])
        if not runs:
            continue
        lines += [f"### {label}", "", res.get("note", ""), "",
                  "| rows | processes | runs | wall (median, range) | items/s (wall) | CPU (median, range) "
                  "| items/s per CPU second | command MB | worker MB | load average |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        by = {}
        for key in sorted({(r["rows"], r["jobs"]) for r in runs}):
            same = [r for r in runs if (r["rows"], r["jobs"]) == key]
            wall, cpu = _median_range(same, "wall"), _median_range(same, "cpu")
            r = by[key] = {"rows": key[0], "jobs": key[1], "wall": wall[0], "cpu": cpu[0]}
            loads = [x for run in same for x in run.get("load", [])]
            lines.append(f"| {key[0]:,} | {key[1]} | {len(same)} | {wall[0]:,.1f} s ({wall[1]:,.1f}-{wall[2]:,.1f}) | "
                         f"{key[0] / wall[0]:,.0f} | {cpu[0]:,.1f} s ({cpu[1]:,.1f}-{cpu[2]:,.1f}) | "
                         f"{key[0] / cpu[0]:,.0f} | {max(_peak(x, 'parent_mb') for x in same):,.0f} | "
                         f"{max(_peak(x, 'workers_mb') for x in same):,.0f} | "
                         + (f"{min(loads):.1f}-{max(loads):.1f} |" if loads else "- |"))
        for jobs in (1, 2):
            if (10_000, jobs) in by and (40_000, jobs) in by:
                a, b = by[(10_000, jobs)], by[(40_000, jobs)]
                procs = f"{jobs} process{'es' if jobs > 1 else ''}"
                lines.append(f"\n40k / 10k rows, {procs}: {b['wall'] / a['wall']:.2f}x "
                             f"the wall time, {b['cpu'] / a['cpu']:.2f}x the CPU time (4.0x is linear).")
        for r in runs:
            if r["rows"] >= 40_000:
                lines.append(f"\n{r['rows']:,} rows, {r['jobs']} process{'es' if r['jobs'] > 1 else ''}{_steady(r)}.")
        lines.append("")
    corpus = next((res["corpus"] for res in reversed(list(results.values())) if res.get("corpus")), None)
    if corpus:
        n, cpu, walls = corpus["items"], corpus["cpu"], corpus["walls"]
        lines += ["## Items of synthetic letters (the corpus figure)", "",
                  f"`score_rows` in-process, one core (process pinned); model trained on {corpus['train_letters']} "
                  f"synthetic letters; {n:,} items of {corpus['score_letters']} other synthetic letters scored with "
                  "the 90% interval, every contribution with its evidence, and hints (every cache cleared first). The "
                  "items "
                  "of a letter share its summary, so its analysis is reused: faster than claims work.", "",
                  "| what | measured |", "|---|---|",
                  f"| batch scoring, CPU time | {n / min(cpu):,.0f} items/s best, {n / max(cpu):,.0f} slowest "
                  f"({len(cpu)} runs) |",
                  f"| {corpus['cores']} processes on {corpus['cores']} cores, wall clock | {n / min(walls):,.0f} "
                  "items/s "
                  f"best, {n / max(walls):,.0f} slowest |",
                  f"| one new request, model already loaded | {corpus['single_ms']:.0f} ms |", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,40000,100000,1000000")
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--label", default="this code")
    ap.add_argument("--note", default="", help="a line shown under the label's heading")
    ap.add_argument("--code", default=None, help="run the command from this checkout (PYTHONPATH)")
    ap.add_argument("--data", default=None, help="folder for the CSVs (kept for reuse; default: a temporary one)")
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--rep", type=int, default=1, help="which repeat this is (runs of another repeat are kept)")
    args = ap.parse_args()
    results = json.loads(RUNS.read_text()) if RUNS.exists() else {}
    res = results.setdefault(args.label, {})
    if args.note:
        res["note"] = args.note
    data = Path(args.data or tempfile.mkdtemp(prefix="distinct-requests-"))
    data.mkdir(parents=True, exist_ok=True)
    runs = [r for r in res.get("distinct", [])]
    for n in [int(s) for s in args.sizes.split(",") if s]:
        path = data_file(data, n)
        for jobs in [int(j) for j in args.jobs.split(",") if j]:
            run = run_cli(path, jobs, args.code) | {"rows": n, "rep": args.rep}
            runs = [r for r in runs if (r["rows"], r["jobs"], r.get("rep", 1)) != (n, jobs, args.rep)] + [run]
            print(f"{args.label}: {n:,} rows, {jobs} process(es): {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU",
                  flush=True)
            res["distinct"] = runs
            RUNS.write_text(json.dumps(results) + "\n")
    if not args.no_corpus:
        res["corpus"] = corpus_figure()
    RUNS.write_text(json.dumps(results) + "\n")
    longest = max((r["rows"] for lr in results.values() for r in lr.get("distinct", [])), default=0)
    runs = {f"{label}, {r['jobs']} process{'es' if r['jobs'] > 1 else ''}": r
            for label, lr in results.items() for r in lr.get("distinct", []) if r["rows"] == longest}
    if runs and longest >= 40_000:
        plot_over_time(runs, HERE / ("bench_score_1m.png" if longest >= 1_000_000 else "bench_score_over_time.png"))
    lines = report(results)
    (HERE / "bench_score.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
