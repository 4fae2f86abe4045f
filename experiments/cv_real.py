"""Grouped, repeated cross-validation on the real DWC IMR letters (analysis; writes cv_real.md).

    .venv/bin/python experiments/cv_real.py [--repeats 3] [--corpus /tmp/real_corpus.jsonl]

The letters themselves are not in the repository: they are read from
/work/shared/data/dwc-imr-letters/pdf (or a cached corpus) and never written into it.
Every configuration is scored with the *same* folds (5-fold StratifiedGroupKFold by letter,
repeated with different shuffles); each training fold re-runs the whole procedure
(prior-weight selection by inner grouped CV, out-of-fold sigmoid calibration).

Caveat printed with the table: the signal patterns and the guideline rules were written by
people who had read these letters, so figures here are optimistic for unseen letters.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.evaluation.metrics import METRICS
from imr_ml.modeling.training.card import fmt
from imr_ml.modeling.training.data import canonical_rows
from imr_ml.modeling.training.estimate import estimate
from imr_ml.modeling.training.fitting import TrainOptions

HERE = Path(__file__).parent
LETTERS = "/work/shared/data/dwc-imr-letters/pdf"


def load(corpus: str) -> list[dict]:
    from imr_ml.letters.ingest import ingest_paths, read_corpus, write_corpus

    if Path(corpus).exists():
        return read_corpus(corpus)
    rows, skipped = ingest_paths([LETTERS], jobs=2)
    write_corpus(rows, corpus)
    print(f"ingested {len(rows)} items ({len(skipped)} files skipped) -> {corpus}", file=sys.stderr)
    return rows


def leaky_rationale(train_rows, test_rows):
    """ANALYSIS ONLY: TF-IDF of the reviewer's rationale (written after the decision)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    m = make_pipeline(TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True),
                      LogisticRegression(max_iter=1000, class_weight="balanced", C=10))
    m.fit([r.get("rationale") or "" for r in train_rows], [r["label"] for r in train_rows])
    return m.predict_proba([r.get("rationale") or "" for r in test_rows])[:, 1]


def ablations(factory) -> dict[str, dict]:
    """Variants of the build_pipeline options the factory actually accepts."""
    params = inspect.signature(factory).parameters
    wanted = {
        "no guideline rules (data only on the same features)": {"use_rules": False},
        "no clinical signals": {"use_signals": False},
        "with TF-IDF words (letter style)": {"use_tfidf": True},
        "no category features": {"use_category": False},
        "no structured fields": {"use_fields": False},
        "signals and fields free of the rules' directions (before #23)": {"share_directions": False},
    }
    known = set(params)
    try:
        from imr_ml.featurize import build_features

        known |= set(inspect.signature(build_features).parameters)
    except ImportError:
        pass
    return {name: o for name, o in wanted.items() if all(k in known for k in o)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/real_corpus.jsonl")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(HERE / "cv_real.md"))
    ap.add_argument("--quick", action="store_true", help="only the default model + baselines")
    args = ap.parse_args()

    rows = load(args.corpus)
    factory = build_pipeline
    base = dict(seed=args.seed, cv_repeats=args.repeats)
    t0 = time.perf_counter()
    runs: dict[str, dict] = {}
    print("default model + baselines + leakage demo ...", file=sys.stderr)
    main_est = estimate(rows, TrainOptions(**base), factory, extra_models={"LEAKY: rationale TF-IDF": leaky_rationale})
    for name, s in main_est["summary"].items():
        runs[name] = s
    if not args.quick:
        for name, opts in ablations(factory).items():
            print(f"ablation: {name} ...", file=sys.stderr)
            est = estimate(rows, TrainOptions(**base, pipeline=opts, baselines=False), factory)
            runs[f"ablation: {name}"] = est["summary"]["model"]
        print("ablation: no calibration ...", file=sys.stderr)
        est = estimate(rows, TrainOptions(**base, calibration="none", baselines=False), factory)
        runs["ablation: no calibration (raw logistic regression)"] = est["summary"]["model"]
        print("ablation: fixed prior weight 1 (no selection) ...", file=sys.stderr)
        est = estimate(rows, TrainOptions(**base, grid=({"prior_weight": 1.0},), baselines=False), factory)
        runs["ablation: prior weight 1, no selection"] = est["summary"]["model"]
    minutes = (time.perf_counter() - t0) / 60

    rows_c = canonical_rows(rows)
    n_letters = len({r["letter_id"] for r in rows_c})
    n_pos = sum(r["label"] for r in rows_c)
    chosen = [p.get("prior_weight") for p in main_est["chosen_params"]]
    lines = [
        "# Cross-validation on the real IMR letters",
        "",
        f"Data: {n_letters} letters, {len(rows_c)} disputed items, {n_pos} overturned "
        f"({n_pos / len(rows_c):.1%}); ingested from the DWC sample with `imr_ml.letters.ingest` (not committed).",
        f"Protocol: {main_est['protocol']}; {main_est['n_folds']} test folds in total; "
        f"seed {args.seed}. Mean ± sd across test folds. Run time {minutes:.1f} min on 2 cores.",
        (f"Prior weight chosen inside the training folds: {', '.join(str(c) for c in chosen)}."
         if any(c is not None for c in chosen) else "Prior weight: the default (1) in every fold."),
        "",
        "**Caveat: optimistic.** The signal patterns and the guideline rules were written by people who had read "
        "these letters (the rules cite MTUS/ACOEM/ODG and no strength was fitted on them, but which findings to "
        "look for was informed by them). `knowledge_only` learns nothing from the letters; every other row "
        "is trained inside each fold. Unseen letters are the real test.",
        "",
        "| model | " + " | ".join(METRICS) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for name, s in runs.items():
        lines.append(f"| {name} | " + " | ".join(fmt(s, m) for m in METRICS) + " |")
    pooled = main_est["pooled"]["overall"]
    lines += ["", "Pooled out-of-fold predictions of the first repeat (one number over all items) with 95% "
              "intervals from 1,000 letter-grouped bootstrap resamples:", "",
              "| model | roc_auc | average_precision | brier | ece |", "|---|---|---|---|---|"]
    for name, s in pooled.items():
        lines.append(f"| {name} | " + " | ".join(
            "—" if s[m] is None else f"{s[m]:.3f}" + (f" [{s[m + '_ci'][0]:.2f}, {s[m + '_ci'][1]:.2f}]"
                                                       if s.get(m + "_ci") else "")
            for m in ("roc_auc", "average_precision", "brier", "ece")) + " |")
    lines += ["", "Reliability (pooled out-of-fold, first repeat):", "",
              "| bin | n | mean predicted | observed |", "|---|---|---|---|"]
    for b in main_est["reliability"]:
        lines.append(f"| {b['bin']} | {b['n']} | {b['mean_predicted']:.3f} | {b['observed_rate']:.3f} |")
    bycat = main_est["pooled"]["by_category"]["model"]
    lines += ["", "Per category (model, pooled out-of-fold, first repeat):", "",
              "| category | n | overturned | roc_auc | average_precision |", "|---|---|---|---|---|"]
    for c, s in bycat.items():
        f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(f"| {c} | {s['n_items']} | {s['n_overturned']} | {f(s['roc_auc'])} | {f(s['average_precision'])} |")
    lines += ["", "`LEAKY: rationale TF-IDF` reads the reviewer's rationale, written after the decision: it shows "
              "what leakage would look like and is never a feature of `imr-ml` models.", ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    json.dump({k: v for k, v in runs.items()}, open("/tmp/cv_real_runs.json", "w"), indent=1, default=float)


if __name__ == "__main__":
    main()
