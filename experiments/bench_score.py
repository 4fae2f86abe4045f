"""Batch scoring throughput: items/s on one core for `imr_ml.scoring.score.score_rows` (the
engine of `imr-ml score`: probability, top reasons with evidence, hints), and the latency
of one new request after the model is loaded.

Usage: python experiments/bench_score.py [--train-letters 1500] [--score-letters 3000] [--repeat 3]
Writes experiments/bench_score.md. Each repeat starts cold (every cache cleared); the VM this
runs on varies by 15% or more from run to run, so the best and the slowest run are both shown.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-letters", type=int, default=1500)
    ap.add_argument("--score-letters", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # one core
    from imr_ml.cli._app import fewer_gc_pauses
    from imr_ml.featurize import feature_blocks
    from imr_ml.letters.ingest import parse_text
    from imr_ml.modeling.fitting import TrainOptions
    from imr_ml.modeling.model import fitted_pipeline
    from imr_ml.modeling.modelio import load_model_dir
    from imr_ml.modeling.train import save, train
    from imr_ml.scoring.examples import EXAMPLES
    from imr_ml.scoring.score import request_row, score_rows
    from imr_ml.synth.generate import iter_letters

    def rows_of(n, seed):
        out = []
        for lid, text, _ in iter_letters(n, seed=seed):
            out += parse_text(text, lid)
        return out

    model_dir = Path(tempfile.mkdtemp()) / "model"
    save(train(rows_of(args.train_letters, 1), TrainOptions(estimate=False, baselines=False)), model_dir)
    loaded = load_model_dir(model_dir)
    signal_step = feature_blocks(fitted_pipeline(loaded.model)["features"])["structured"]
    rows = rows_of(args.score_letters, 2)
    runs = []
    for _ in range(args.repeat):
        signal_step.clear_cache()  # remembered rows and text analyses: a cold run
        t = time.process_time()
        with fewer_gc_pauses():  # as `imr-ml score` does around its scoring
            n = sum(1 for _ in score_rows(loaded, rows))
        runs.append(time.process_time() - t)
    secs, slow = min(runs), max(runs)
    os.sched_setaffinity(0, cores)  # every core, for `imr-ml score --jobs 0`
    walls = []
    for _ in range(args.repeat):
        signal_step.clear_cache()  # remembered rows and text analyses: a cold run
        t = time.perf_counter()
        with fewer_gc_pauses():
            sum(1 for _ in score_rows(loaded, rows, n_jobs=len(cores)))
        walls.append(time.perf_counter() - t)
    os.sched_setaffinity(0, {min(cores)})
    ex = EXAMPLES[0]
    req = request_row(ex["summary"], ex["item"], ex["claims_admin_guideline"], ex["date_of_injury"], ex["ur_denial_date"])
    signal_step.clear_cache()  # remembered rows and text analyses: a cold run
    t = time.perf_counter()
    with fewer_gc_pauses():
        list(score_rows(loaded, [req]))
    single = time.perf_counter() - t
    lines = ["# Scoring throughput", "",
             f"One core (process pinned), Python {platform.python_version()}, {platform.machine()}; model trained on "
             f"{args.train_letters} synthetic letters; {n} items of {args.score_letters} other synthetic letters scored "
             f"with the 90% interval, every contribution from the baseline with its evidence, and hints (every cache cleared first: a cold start). CPU time; {len(runs)} runs.", "",
             "| what | measured |", "|---|---|",
             f"| batch scoring | {n / secs:,.0f} items/s best, {n / slow:,.0f} slowest ({secs:.1f}-{slow:.1f} s for {n:,} items) |",
             f"| batch scoring with {len(cores)} processes on {len(cores)} cores (`--jobs 0`), wall clock | "
             f"{n / min(walls):,.0f} items/s best, {n / max(walls):,.0f} slowest |",
             f"| one new request, model already loaded | {single * 1000:.0f} ms |", ""]
    (HERE / "bench_score.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
