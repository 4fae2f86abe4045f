"""Scores for probability forecasts of "overturned" (label 1), overall and per treatment category.

Every metric is defined for a vector of 0/1 labels and a vector of predicted P(overturned).
Metrics that are undefined on the data (ROC AUC / AP when only one class is present) come
back as ``None`` rather than NaN so that the result is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

METRICS = ("roc_auc", "average_precision", "brier", "log_loss", "ece")


def _clean(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=int).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels and probabilities differ in length: {y.shape[0]} vs {p.shape[0]}")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (upheld) or 1 (overturned)")
    if p.size and (np.isnan(p).any() or (p < 0).any() or (p > 1).any()):
        raise ValueError("probabilities must lie in [0, 1]")
    return y, p


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """ECE with ``n_bins`` equal-width bins on [0, 1]: the item-weighted mean of
    |mean predicted probability - observed overturn rate| over the non-empty bins."""
    y, p = _clean(y, p)
    if y.size == 0:
        return float("nan")
    # bin i holds p in [i/n, (i+1)/n); p == 1 goes to the last bin
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(total / y.size)


def reliability_table(y, p, n_bins: int = 10) -> list[dict]:
    """Per-bin counts, mean prediction and observed rate (for the model card)."""
    y, p = _clean(y, p)
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            out.append(
                {
                    "bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}",
                    "n": int(mask.sum()),
                    "mean_predicted": float(p[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    return out


def _none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def score(y, p, n_bins: int = 10) -> dict:
    """All metrics for one set of predictions, plus counts. JSON-ready."""
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y, p = _clean(y, p)
    n = int(y.size)
    n_pos = int(y.sum())
    out: dict = {"n_items": n, "n_overturned": n_pos, "base_rate": (n_pos / n) if n else None}
    if n == 0:
        out.update({m: None for m in METRICS})
        return out
    both = 0 < n_pos < n
    out["roc_auc"] = float(roc_auc_score(y, p)) if both else None
    out["average_precision"] = float(average_precision_score(y, p)) if n_pos > 0 else None
    out["brier"] = float(brier_score_loss(y, p, pos_label=1))
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    out["log_loss"] = float(log_loss(y, pc, labels=[0, 1]))
    out["ece"] = _none_if_nan(expected_calibration_error(y, p, n_bins))
    return out


def score_by_group(y, p, groups: Sequence[str], min_items: int = 1) -> dict[str, dict]:
    """`score` for each distinct value of ``groups`` (e.g. treatment category), sorted by size."""
    y, p = _clean(y, p)
    g = np.asarray(list(groups), dtype=object)
    if g.shape[0] != y.shape[0]:
        raise ValueError("groups and labels differ in length")
    out = {}
    names, counts = np.unique(g.astype(str), return_counts=True)
    for name in [n for _, n in sorted(zip(-counts, names))]:
        mask = g.astype(str) == name
        if mask.sum() >= min_items:
            out[str(name)] = score(y[mask], p[mask])
    return out


def summarize_folds(fold_scores: Sequence[dict]) -> dict[str, dict]:
    """Mean, standard deviation (ddof=1), min, max and count of each metric across folds;
    folds where a metric is undefined are left out of that metric."""
    out = {}
    for m in METRICS:
        vals = [f[m] for f in fold_scores if f.get(m) is not None]
        if not vals:
            out[m] = {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
            continue
        a = np.asarray(vals, dtype=float)
        out[m] = {
            "mean": float(a.mean()),
            "sd": float(a.std(ddof=1)) if a.size > 1 else None,  # one fold has no spread
            "min": float(a.min()),
            "max": float(a.max()),
            "n": int(a.size),
        }
    return out


def fmt(summary: dict, metric: str, digits: int = 3) -> str:
    """'0.812 ± 0.041' for a summarize_folds entry ('0.812' from one fold, '—' when undefined)."""
    s = summary.get(metric) or {}
    if s.get("mean") is None:
        return "—"
    if s.get("sd") is None:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"


def format_evaluation(report: dict, per_category: bool = True) -> str:
    """The terminal table of an evaluation report: the model beside its baselines."""
    cats = report.get("by_category", {}) if per_category else {}
    labels = ["model", *report["baselines"], *(f"{c} ({s['n_items']})" for c, s in cats.items())]
    w = max(len(x) for x in labels)

    def line(name, s):
        f = lambda k: "—" if s.get(k) is None else f"{s[k]:.3f}"  # noqa: E731
        return (f"  {name:<{w}} {f('roc_auc'):>7} {f('average_precision'):>7} {f('brier'):>7} "
                f"{f('log_loss'):>8} {f('ece'):>7}")

    out = [f"{report['n_letters']} letters, {report['n_items']} items, {report['n_overturned']} overturned "
           f"(base rate {report['base_rate']:.3f})",
           f"  {'':<{w}} {'ROC AUC':>7} {'AP':>7} {'Brier':>7} {'log-loss':>8} {'ECE':>7}",
           line("model", report), *(line(n, s) for n, s in report["baselines"].items())]
    if cats:
        out.append("per category (model):")
        out += [line(f"{c} ({s['n_items']})", s) for c, s in cats.items()]
    return "\n".join(out)
