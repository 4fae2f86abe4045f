"""How much do more letters help? (writes learning_curve.md and learning_curve.png)

    .venv/bin/python experiments/learning_curve.py [--quick] [--pipeline '{"use_tfidf": false}']

Synthetic: a fixed test set of letters from `imr_ml.synth.generate` (parsed back with
`imr_ml.letters.ingest.parse_text`, as in synthetic_recovery.py) and nested training sets of growing
size (each draw is a different synthetic run; a size is the first N letters of its run). The
model is fitted with `imr_ml.modeling.training.train.train(rows, TrainOptions(estimate=False, baselines=False,
pipeline=...))`, so the script measures whatever the current model is. The Bayes line is the
AUC/AP of the true probabilities on the same test letters.

Real: the DWC letters (read as cv_real.py reads them; skipped when absent), letter-grouped
5-fold CV repeated with different shuffles; each training fold is subsampled to N letters;
the out-of-fold predictions of all folds are pooled per size and scored. Intervals are 95%
letter-bootstrap intervals (`imr_ml.modeling.evaluation.bootstrap.bootstrap_ci`). Only numbers are written.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from imr_ml.featurize import to_frame
from imr_ml.modeling.evaluation.bootstrap import bootstrap_ci
from imr_ml.modeling.evaluation.metrics import metrics_of
from imr_ml.modeling.training.data import TrainError, canonical_rows, labels, letter_groups
from imr_ml.modeling.training.fitting import TrainOptions
from imr_ml.modeling.training.splits import grouped_folds
from imr_ml.modeling.training.train import train

HERE = Path(__file__).parent
REAL = Path("/work/shared/data/dwc-imr-letters/pdf")
CURVE_METRICS = ("roc_auc", "average_precision")


def synth(n_letters: int, seed: int) -> tuple[list[dict], np.ndarray, list[str]]:
    """Canonical parsed rows of letters 0..n-1 of run `seed`, their true P(overturned), and the
    letter ids in generation order (so a size is a prefix and sizes are nested)."""
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    rows, truth, order = [], {}, []
    for letter_id, text, trows in iter_letters(n_letters, seed=seed):
        rows += parse_text(text, source=f"{letter_id}.txt")
        truth.update({(t["letter_id"], int(t["item_index"])): t["p_overturned"] for t in trows})
        order.append(letter_id)
    rows = canonical_rows(rows)
    return rows, np.array([truth[(r["letter_id"], int(r.get("item_index") or 0))] for r in rows]), order


def fit_predict(train_rows: list[dict], test_rows: list[dict], opts: TrainOptions) -> tuple[np.ndarray, str]:
    """P(overturned) on `test_rows`; falls back to no calibration (same ranking for the monotone
    sigmoid map) when a tiny training set has too few overturned letters to calibrate."""
    try:
        return train(train_rows, opts).model.predict_proba(to_frame(test_rows))[:, 1], ""
    except TrainError:
        model = train(train_rows, TrainOptions(**{**opts.__dict__, "calibration": "none"})).model
        return model.predict_proba(to_frame(test_rows))[:, 1], "uncalibrated"


def scored(y, p, groups, n_boot: int) -> dict:
    s = metrics_of(y, p)
    return {**{m: s[m] for m in CURVE_METRICS}, **bootstrap_ci(y, p, groups, CURVE_METRICS, n_boot=n_boot)}


def draws(n: int, quick: bool) -> int:
    """Independent training draws of a size: small sizes vary most and cost least."""
    return 1 if quick else 5 if n <= 1000 else 3 if n <= 3000 else 1


def synthetic_curve(args, opts_kw: dict) -> dict:
    t0 = time.perf_counter()
    test_rows, p_true, _ = synth(args.test_letters, seed=args.seed + 9999)
    y, g = labels(test_rows), letter_groups(test_rows)
    print(f"test set: {len(test_rows)} items, {int(y.sum())} overturned ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    out = {"test": {"letters": args.test_letters, "items": len(test_rows), "overturned": int(y.sum())},
           "bayes": scored(y, p_true, g, args.boot), "sizes": {}, "skipped": []}
    pools: dict[int, tuple[list[dict], list[str]]] = {}
    last = None  # (letters, seconds) of the latest fit, to forecast the next
    for n in args.sizes:
        if last and last[1] * n / last[0] > args.budget:
            out["skipped"].append(n)
            continue
        fits = []
        for r in range(draws(n, args.quick)):
            if r not in pools:  # one run per draw, as long as its largest size
                rows, _, order = synth(max(s for s in args.sizes if draws(s, args.quick) > r), args.seed + r)
                pools[r] = (rows, order)
            keep = set(pools[r][1][:n])
            train_rows = [x for x in pools[r][0] if x["letter_id"] in keep]
            t1 = time.perf_counter()
            p, note = fit_predict(train_rows, test_rows, TrainOptions(seed=args.seed + r, **opts_kw))
            secs = time.perf_counter() - t1
            fits.append({**scored(y, p, g, args.boot), "items": len(train_rows), "seconds": secs, "note": note})
            last = (n, secs)
            print(f"synthetic {n} letters draw {r}: AUC {fits[-1]['roc_auc']:.3f} AP {fits[-1]['average_precision']:.3f} "
                  f"({secs:.0f} s)", file=sys.stderr)
        out["sizes"][n] = fits
    return out


def load_real(corpus: str) -> list[dict] | None:
    if Path(corpus).exists():
        from imr_ml.letters.ingest import read_corpus

        return read_corpus(corpus)
    if not REAL.is_dir():
        return None
    from imr_ml.letters.ingest import ingest_paths, write_corpus

    rows, _ = ingest_paths([REAL], jobs=2)
    write_corpus(rows, corpus)  # outside the repository (default /tmp)
    return rows


def real_curve(args, opts_kw: dict) -> dict | None:
    rows = load_real(args.corpus)
    if not rows:
        return None
    rows = canonical_rows(rows)
    y, g = labels(rows), letter_groups(rows)
    pooled: dict[str, list[np.ndarray]] = {}
    notes: dict[str, int] = {}
    for r in range(args.real_repeats):
        folds = grouped_folds(y, g, 5, seed=args.seed + 1000 * (r + 1))
        rng = np.random.default_rng(args.seed + r)
        for tr, te in folds:
            letters = sorted(set(g[tr].tolist()))
            for n in [*args.real_sizes, "all"]:
                if n != "all" and n >= len(letters):
                    continue
                keep = set(letters) if n == "all" else set(_sample_with_both(rng, letters, g[tr], y[tr], n))
                sub = [rows[i] for i in tr if g[i] in keep]
                p, note = fit_predict(sub, [rows[i] for i in te], TrainOptions(seed=args.seed + r, **opts_kw))
                notes[note] = notes.get(note, 0) + 1
                pooled.setdefault(str(n), [np.full(len(y), np.nan) for _ in range(args.real_repeats)])[r][te] = p
        print(f"real data: repeat {r} done", file=sys.stderr)
    sizes = {n: [scored(y, p, g, args.boot) for p in reps if not np.isnan(p).any()] for n, reps in pooled.items()}
    n_train = len(set(g.tolist())) * 4 // 5
    return {"letters": len(set(g.tolist())), "items": len(rows), "overturned": int(y.sum()), "sizes": sizes,
            "all_train_letters": n_train, "notes": notes}


def _sample_with_both(rng, letters: list[str], g_tr, y_tr, n: int) -> list[str]:
    """`n` letters of the training fold, redrawn until they hold at least one overturned item."""
    pos = set(g_tr[y_tr == 1].tolist())
    while True:
        pick = rng.choice(letters, size=n, replace=False).tolist()
        if pos & set(pick) and set(pick) - pos:
            return pick


def _cell(fits: list[dict], m: str) -> str:
    """'0.758 [0.741, 0.773]' for one draw; with several, their mean and range, then the first
    draw with its interval (a test-set interval belongs to one fitted model, not to the mean)."""
    first, ci = fits[0][m], fits[0].get(f"{m}_ci")
    one = f"{first:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    if len(fits) == 1:
        return one
    vals = np.array([f[m] for f in fits])
    return f"{vals.mean():.3f} (draws {vals.min():.3f}–{vals.max():.3f}); first draw {one}"


def plot(syn: dict, real: dict | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=80)
    for ax, m, name in zip(axes, CURVE_METRICS, ("ROC AUC", "average precision")):
        for data, label, key, marker in ((syn, f"synthetic ({syn['test']['letters']:,} test letters)", None, "o"),
                                         (real, "real (pooled out-of-fold)", "all", "s")):
            if not data:
                continue
            sizes = sorted(data["sizes"].items(), key=lambda kv: data["all_train_letters"] if kv[0] == key else int(kv[0]))
            xs = [data["all_train_letters"] if n == key else int(n) for n, _ in sizes]
            line, = ax.plot(xs, [np.mean([f[m] for f in fits]) for _, fits in sizes], marker=marker, label=label)
            for x, (_, fits) in zip(xs, sizes):  # every draw, faint
                ax.scatter([x] * len(fits), [f[m] for f in fits], s=8, color=line.get_color(), alpha=0.5)
            # the first draw's interval: it need not contain the mean over draws, so a band, not error bars
            ax.fill_between(xs, [fits[0][f"{m}_ci"][0] for _, fits in sizes], [fits[0][f"{m}_ci"][1] for _, fits in sizes],
                            color=line.get_color(), alpha=0.2)
        ax.axhline(syn["bayes"][m], color="grey", ls="--", label="synthetic Bayes (true p)")
        ax.set_xscale("log")
        ax.set_xlabel("training letters")
        ax.set_title(name)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def report(args, syn: dict, real: dict | None, minutes: float) -> str:
    commit = args.commit
    lines = [
        "# Learning curve: ROC AUC and AP against the number of training letters",
        "",
        f"Run {datetime.date.today().isoformat()} on commit `{commit}` ({minutes:.0f} min on a shared 2-core machine); "
        f"`{' '.join(sys.argv[1:]) or '(defaults)'}`; pipeline options {json.dumps(args.pipeline_opts)}.",
        "",
        "These numbers describe the model at the commit above: regenerate them with "
        "`.venv/bin/python experiments/learning_curve.py` when the model changes.",
        "",
        "Cells: one draw: its value and 95% letter-bootstrap interval on the test letters. Several draws (different "
        "training letters): their mean and range, then the first draw with its interval. Plot: line = mean over "
        "draws, dots = draws, band = the first draw's interval.",
        "",
        f"## Synthetic letters (test set: {syn['test']['letters']} letters, {syn['test']['items']} items, "
        f"{syn['test']['overturned']} overturned)",
        "",
        "| training letters | items | draws | ROC AUC | AP | fit s |",
        "|---:|---:|---:|---|---|---:|",
        f"| Bayes (true p) | | | {_cell([syn['bayes']], 'roc_auc')} | {_cell([syn['bayes']], 'average_precision')} | |",
    ]
    for n, fits in syn["sizes"].items():
        lines.append(f"| {n:,} | {int(np.mean([f['items'] for f in fits])):,} | {len(fits)} | {_cell(fits, 'roc_auc')} | "
                     f"{_cell(fits, 'average_precision')} | {np.mean([f['seconds'] for f in fits]):.0f} |")
    if syn["skipped"]:
        lines += ["", f"Not run (forecast fit time above the {args.budget:.0f} s budget): "
                  f"{', '.join(f'{n:,}' for n in syn['skipped'])} letters."]
    lines.append("")
    if real is None:
        lines += ["## Real letters", "", f"Skipped: {REAL} is absent.", ""]
    else:
        lines += [
            f"## Real letters ({real['letters']} letters, {real['items']} items, {real['overturned']} overturned)",
            "",
            f"Letter-grouped 5-fold CV x {args.real_repeats} shuffles; each training fold (~{real['all_train_letters']} "
            "letters) subsampled to N letters (at least one overturned); out-of-fold predictions of the 5 folds "
            "pooled per size and shuffle. Interval: letter bootstrap of the first shuffle's pooled predictions.",
            "",
            "| training letters | ROC AUC | AP |",
            "|---:|---|---|",
        ]
        for n, fits in real["sizes"].items():
            label = f"all (~{real['all_train_letters']})" if n == "all" else n
            lines.append(f"| {label} | {_cell(fits, 'roc_auc')} | {_cell(fits, 'average_precision')} |")
        fallback = real["notes"].get("uncalibrated", 0)
        if fallback:
            lines += ["", f"Small-fold fits with too few overturned letters to calibrate, fitted uncalibrated: {fallback}"
                      " (the sigmoid map is monotone, so AUC/AP are unaffected)."]
        lines.append("")
    lines += ["![learning curve](learning_curve.png)", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smoke run: small sizes, small test set, one draw")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pipeline", default="{}", help="JSON of build_pipeline options passed through TrainOptions")
    ap.add_argument("--budget", type=float, default=600, help="skip a size whose forecast fit time exceeds this (s)")
    ap.add_argument("--corpus", default="/tmp/real_corpus.jsonl")
    ap.add_argument("--sizes", help="comma-separated synthetic training sizes (default 100 ... 50,000)")
    ap.add_argument("--out", default=str(HERE / "learning_curve.md"))
    args = ap.parse_args()
    args.pipeline_opts = json.loads(args.pipeline)
    # the code measured is the checkout at the start (later commits must not relabel it)
    git = ["git", "-C", str(HERE)]
    args.commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run([*git, "status", "--porcelain", "--", "imr_ml"], capture_output=True, text=True).stdout.strip():
        args.commit += " + uncommitted changes in imr_ml/"
    full = not args.quick
    args.sizes = ([int(n) for n in args.sizes.split(",")] if args.sizes else
                  [100, 300, 1000, 3000, 10_000, 30_000, 50_000] if full else [100, 300])
    args.test_letters = 5000 if full else 500
    args.real_sizes, args.real_repeats = ([20, 40, 60, 80], 3) if full else ([20], 1)
    args.boot = 1000 if full else 200
    opts_kw = dict(estimate=False, baselines=False, pipeline=args.pipeline_opts)
    t0 = time.perf_counter()
    syn = synthetic_curve(args, opts_kw)
    real = real_curve(args, opts_kw)
    if real is None:
        print(f"real letters absent ({REAL}): real-data curve skipped", file=sys.stderr)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"synthetic": syn, "real": real}, indent=1), encoding="utf-8")
    plot(syn, real, out.with_suffix(".png"))
    text = report(args, syn, real, (time.perf_counter() - t0) / 60)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
