"""Training time and peak memory at 10k / 100k / 1M items (writes bench_train.md).

    .venv/bin/python experiments/bench_train.py [--sizes 10000,100000] [--pool-letters 5000]

A pool of synthetic letters (`imr_ml.synth.generate`, parsed back with `imr_ml.letters.ingest.parse_text`)
is generated once and cached in /tmp; a run of N items replicates the pool under new
letter ids (each copy's summary made distinct by a trailing "Ref k.") until it has N rows (text volume and feature work per item are those of real
synthetic letters; only the vocabulary stops growing after the pool). Each size runs in a
fresh subprocess, so ``ru_maxrss`` is that run's peak resident memory. No caching of
signal extraction here: these are the library's own costs.

Measurements per size (`--modes`):
* ``fit``   — one `build_pipeline()` fit (features + logistic regression with guideline priors);
* ``train`` — `imr_ml.modeling.training.train.train` as `imr-ml train --no-estimate --prior-weight 1` runs it:
  the pipeline fitted on all rows (calibration "auto": a sigmoid map from out-of-fold scores
  over 5 letter-grouped folds from 100 overturned items) and the baselines;
* ``stream`` — what `imr-ml train` does from 200k items (`imr_ml.modeling.training.streaming`);
* ``agree``  — the streaming model against the in-memory fit on the same 80% of the letters,
  compared on the other 20% (`agreement`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
POOL = "/tmp/imr_bench_pool_{letters}_{seed}.jsonl"


def make_pool(letters: int, seed: int) -> str:
    path = POOL.format(letters=letters, seed=seed)
    if Path(path).exists():
        return path
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    t = time.perf_counter()
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        for letter_id, text, _ in iter_letters(letters, seed=seed):
            for r in parse_text(text, source=f"{letter_id}.txt"):
                fh.write(json.dumps(r) + "\n")
    os.replace(path + ".tmp", path)
    print(f"pool of {letters} letters in {time.perf_counter() - t:.0f} s -> {path}", file=sys.stderr)
    return path


def rows_of_size(pool: str, n: int) -> list[dict]:
    from imr_ml.letters.ingest import read_corpus

    base = read_corpus(pool)
    out, k = [], 0
    while len(out) < n:
        for r in base:
            # a copy gets a new letter id and a distinct summary (a neutral trailing reference), so
            # that per-text caches in the feature code cannot make copies free
            out.append({**r, "letter_id": f"{r['letter_id']}-r{k}",
                        "summary": f"{r.get('summary') or ''} Ref {k}."} if k else r)
            if len(out) >= n:
                break
        k += 1
    return out


def child(pool: str, n: int, mode: str) -> dict:
    """One measurement in this (fresh) process."""
    from imr_ml.cli._app import fewer_gc_pauses
    from imr_ml.featurize import to_frame
    from imr_ml.modeling.training.data import canonical_rows, labels
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import train

    t0 = time.perf_counter()
    rows = rows_of_size(pool, n)
    t_load = time.perf_counter() - t0
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pss = PssPeak()
    t1 = time.perf_counter()
    with fewer_gc_pauses():  # as `imr-ml train` runs it: the CLI, not the library, tunes the GC
        if mode == "fit":
            from imr_ml.modeling.estimator.pipeline import build_pipeline

            crow = canonical_rows(rows)
            X, y = to_frame(crow), labels(crow)
            model = build_pipeline().fit(X, y)
            n_features = len(model[:-1].get_feature_names_out())
        elif mode == "train":
            opts = TrainOptions(estimate=False, grid=({"prior_weight": 1.0},), streaming=False)
            res = train(rows, opts)
            n_features = res.manifest["features"]["n_features"]
        elif mode == "agree":
            return agreement(rows)
        else:  # stream: what `imr-ml train` does from 200k items on, default prior-weight grid, every core
            log = StageLog()
            res = train(rows, TrainOptions(streaming=True), reporter=log)
            n_features = res.manifest["features"]["n_features"]
    t_fit = time.perf_counter() - t1
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "n_items": n, "mode": mode, "load_s": round(t_load, 1), "fit_s": round(t_fit, 1),
        "us_per_item": round(1e6 * t_fit / n, 1), "n_features": n_features,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_data_mb": round(rss_data),
        # feature workers: the largest one's peak, once per core (an upper bound on their sum)
        "workers_peak_rss_mb": round(children * (os.cpu_count() or 1)) if mode == "stream" else 0,
        "stages": log.lines if mode == "stream" else [],
        "pss_peak_mb": round(pss.peak),
    }


def agreement(rows: list[dict]) -> dict:
    """The streaming model against the in-memory fit on the same training letters: both trained
    on 80% of the letters (the in-memory one with the prior weight the streaming one chose),
    compared on the other 20% (P agreement, and each one's ROC AUC and Brier on the labels)."""
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import GroupShuffleSplit

    from imr_ml.featurize import to_frame
    from imr_ml.modeling.training.data import canonical_rows, labels
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import train

    crow = canonical_rows(rows)
    y, g = labels(crow), np.array([r["letter_id"] for r in crow])
    tr, te = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(crow, y, g))
    fit_rows, test_rows = [crow[i] for i in tr], [crow[i] for i in te]
    t = time.perf_counter()
    streamed = train(fit_rows, TrainOptions(streaming=True))
    t_stream = time.perf_counter() - t
    weight = streamed.manifest["hyperparameters"]
    t = time.perf_counter()
    in_memory = train(fit_rows, TrainOptions(streaming=False, estimate=False, grid=(dict(weight),)))
    t_memory = time.perf_counter() - t
    X = to_frame(test_rows)
    p_s, p_m = streamed.model.predict_proba(X)[:, 1], in_memory.model.predict_proba(X)[:, 1]
    y_te = y[te]
    return {"n_items": len(rows), "mode": "agree", "n_fit": len(fit_rows), "n_test": len(test_rows),
            "hyperparameters": weight, "stream_s": round(t_stream, 1), "in_memory_s": round(t_memory, 1),
            "pearson_p": round(float(np.corrcoef(p_s, p_m)[0, 1]), 4),
            "mean_abs_diff": round(float(np.mean(np.abs(p_s - p_m))), 4),
            "p95_abs_diff": round(float(np.quantile(np.abs(p_s - p_m), 0.95)), 4),
            "auc_stream": round(float(roc_auc_score(y_te, p_s)), 4),
            "auc_in_memory": round(float(roc_auc_score(y_te, p_m)), 4),
            "brier_stream": round(float(brier_score_loss(y_te, p_s)), 4),
            "brier_in_memory": round(float(brier_score_loss(y_te, p_m)), 4)}


class PssPeak:
    """Largest total PSS (MB) of this process and its children, sampled every second: the
    honest total for forked workers, whose RSS also counts pages shared with the parent."""

    def __init__(self):
        import threading

        self.peak, self.stop = 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _pss(pid) -> float:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                return next(int(x.split()[1]) for x in fh if x.startswith("Pss:")) / 1024
        except (OSError, StopIteration):
            return 0.0

    def _run(self):
        me = os.getpid()
        while not self.stop.wait(1.0):
            kids = []
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        with open(f"/proc/{d}/stat") as fh:
                            if int(fh.read().rsplit(")", 1)[1].split()[1]) == me:
                                kids.append(d)
                    except (OSError, ValueError, IndexError):
                        pass
            self.peak = max(self.peak, self._pss(me) + sum(self._pss(k) for k in kids))


class StageLog:
    """Reporter printing when each stage starts (stderr), for the time breakdown."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.lines = []

    def start(self, description, total):
        rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        self.lines.append(f"{time.perf_counter() - self.t0:.0f} s (RSS {rss:,.0f} MB): {description}")
        print(self.lines[-1], file=sys.stderr, flush=True)

    def advance(self, n=1):
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--modes", default="fit,train")
    ap.add_argument("--pool-letters", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--timeout", type=int, default=2400, help="seconds per run")
    ap.add_argument("--out", default=str(HERE / "bench_train.md"))
    ap.add_argument("--child", nargs=3, metavar=("POOL", "N", "MODE"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.child[2])))
        return
    pool = make_pool(args.pool_letters, args.seed)
    n_pool = sum(1 for _ in open(pool))
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for mode in args.modes.split(","):
            print(f"{mode} {n} ...", file=sys.stderr, flush=True)
            try:
                p = subprocess.run([sys.executable, __file__, "--child", pool, str(n), mode],
                                   capture_output=True, text=True, timeout=args.timeout)
                if p.returncode:
                    results.append({"n_items": n, "mode": mode, "error": p.stderr.strip().splitlines()[-1]})
                else:
                    results.append(json.loads(p.stdout.strip().splitlines()[-1]))
            except subprocess.TimeoutExpired:
                results.append({"n_items": n, "mode": mode, "error": f"not finished in {args.timeout} s"})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    lines = [
        "# Training time and memory",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; pool of {args.pool_letters} "
        f"synthetic letters ({n_pool} items, seed {args.seed}) replicated to each size under new letter ids "
        "(each copy's summary made distinct, so text caches do not make copies free). "
        "Each row is a fresh process; peak RSS is `ru_maxrss` (includes the rows themselves). Forked feature "
        "workers' RSS also counts pages they share with the parent, so the honest total is the peak PSS "
        "(proportional set size) of all processes, sampled every second. "
        "Modes: `fit` = one `build_pipeline()` fit (guideline-prior logistic regression); `train` = the "
        "cross-validated procedure with one prior weight (calibration folds from 100 overturned items + refit "
        "+ baselines); `stream` = what `imr-ml train` does from 200,000 items (`imr_ml.modeling.training.streaming`: features "
        "once in one process per core, the default prior-weight grid compared on a 100,000-item letter "
        "sample, the classifier fitted once on the training letters, calibration, measurement and baselines "
        "on held-out letters). "
        "The machine was shared with other work while this ran, so times are upper bounds.",
        "",
        "| items | measurement | time (s) | ms / item | features | peak RSS (MB) | RSS after loading rows (MB) "
        "| feature workers' RSS (MB, bound) | peak PSS, all processes (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["mode"] == "agree" and "error" not in r:
            continue
        if "error" in r:
            lines.append(f"| {r['n_items']:,} | {r['mode']} | {r['error']} | | | | | | |")
        else:
            lines.append(f"| {r['n_items']:,} | {r['mode']} | {r['fit_s']} | {r['us_per_item'] / 1000:.2f} | {r['n_features']:,} "
                         f"| {r['peak_rss_mb']:,} | {r['rss_after_data_mb']:,} | {r.get('workers_peak_rss_mb') or '—'} "
                         f"| {r.get('pss_peak_mb', '—'):,} |")
    for r in results:
        if r.get("stages"):
            lines += ["", f"Stages of the {r['n_items']:,}-item streaming run (time since start, parent RSS "
                      f"then): " + "; ".join(r["stages"]) + f"; done at {r['fit_s']:.0f} s."]
    for r in results:
        if r["mode"] == "agree" and "error" not in r:
            lines += ["", f"Streaming vs in-memory fit, {r['n_items']:,} items: both trained on the same "
                      f"{r['n_fit']:,} items (80% of the letters; prior weight {r['hyperparameters']}, the "
                      f"streaming run's choice), compared on the other {r['n_test']:,}: Pearson r of P "
                      f"{r['pearson_p']}, mean |dP| {r['mean_abs_diff']}, 95th percentile {r['p95_abs_diff']}; "
                      f"ROC AUC {r['auc_stream']} (streaming) vs {r['auc_in_memory']} (in memory), Brier "
                      f"{r['brier_stream']} vs {r['brier_in_memory']}; {r['stream_s']} s vs {r['in_memory_s']} s."]
    lines.append("")
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
