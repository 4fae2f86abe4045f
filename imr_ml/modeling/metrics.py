"""Scores for probability forecasts of "overturned" (label 1), overall and per treatment category.

Every metric is defined for a vector of 0/1 labels and a vector of predicted P(overturned).
Metrics that are undefined on the data (ROC AUC / AP when only one class is present) come
back as ``None`` rather than NaN so that the result is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRICS = ("roc_auc", "average_precision", "brier", "log_loss", "ece")


def checked(y, p) -> tuple[np.ndarray, np.ndarray]:
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
    y, p = checked(y, p)
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
    y, p = checked(y, p)
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


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> list[float]:
    """95% Wilson score interval of a proportion k/n: unlike the normal approximation it
    stays inside [0, 1] and is honest for a handful of overturns in a bin."""
    if n == 0:
        return [0.0, 1.0]
    phat = k / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def calibration_bins(y, p, min_items: int = 40, max_bins: int = 10) -> list[dict]:
    """Reliability with equal-count bins over the range the predictions actually take, as
    many as keep at least `min_items` items each (equal-width bins on [0, 1] leave most bins
    empty when P is rarely above 0.3), each with the observed rate's 95% Wilson interval."""
    y, p = checked(y, p)
    if y.size == 0:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, max(1, min(max_bins, y.size // min_items))):
        k, n = int(y[chunk].sum()), int(chunk.size)
        out.append({"p_from": float(p[chunk].min()), "p_to": float(p[chunk].max()), "n": n, "n_overturned": k,
                    "mean_predicted": float(p[chunk].mean()), "observed_rate": k / n,
                    "observed_ci": wilson_interval(k, n)})
    return out


def none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def score(y, p, n_bins: int = 10) -> dict:
    """All metrics for one set of predictions, plus counts. JSON-ready."""
    y, p = checked(y, p)
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
    out["ece"] = none_if_nan(expected_calibration_error(y, p, n_bins))
    return out


def score_by_group(y, p, groups: Sequence[str], min_items: int = 1) -> dict[str, dict]:
    """`score` for each distinct value of ``groups`` (e.g. treatment category), sorted by size."""
    y, p = checked(y, p)
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


def score_all(y, preds: dict[str, np.ndarray], cats: Sequence[str] | None = None) -> dict:
    """`score` of several predictors on the same items, overall and per category.

    Parameters
    ----------
    y : array-like
        0/1 labels.
    preds : dict
        Predictor name -> P(overturned) of every item.
    cats : sequence of str or None
        Treatment category of every item; None: no per-category scores.

    Returns
    -------
    dict
        ``overall`` ({name: score}) and, with `cats`, ``by_category`` ({name: {category: score}}).
    """
    out = {"overall": {n: score(y, p) for n, p in preds.items()}}
    if cats is not None:
        out["by_category"] = {n: score_by_group(y, p, cats) for n, p in preds.items()}
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
    """The terminal table of an evaluation report: the model beside its baselines, each value
    with its 95% letter-bootstrap interval, then the paired model - baseline differences."""
    cats = report.get("by_category", {}) if per_category else {}
    labels = ["model", *report["baselines"], *(f"{c} ({s['n_items']})" for c, s in cats.items())]
    w = max(len(x) for x in labels)

    def line(name, s):
        return f"  {name:<{w}} " + " ".join(f"{fmt_ci(s, k):<18}" for k in METRICS).rstrip()

    out = [f"{report['n_letters']} letters, {report['n_items']} items, {report['n_overturned']} overturned "
           f"(base rate {report['base_rate']:.3f}); [95% interval, letters resampled]",
           f"  {'':<{w}} " + " ".join(f"{h:<18}" for h in ("ROC AUC", "AP", "Brier", "log-loss", "ECE")).rstrip(),
           line("model", report), *(line(n, s) for n, s in report["baselines"].items())]
    if report.get("vs_baselines"):
        out.append("model - baseline (paired, same letters resampled):")
        out += [f"  {n:<{w}} ROC AUC {fmt_ci(d, 'roc_auc_diff', signed=True):<21} "
                f"AP {fmt_ci(d, 'average_precision_diff', signed=True)}" for n, d in report["vs_baselines"].items()]
    if cats:
        out.append("per category (model):")
        out += [line(f"{c} ({s['n_items']})", s) for c, s in cats.items()]
    return "\n".join(out)


def fmt_ci(s: dict, metric: str, digits: int = 3, signed: bool = False) -> str:
    """'0.781 [0.69, 0.86]': a value and its interval ('0.781' without one, '—' when undefined)."""
    v, ci = s.get(metric), s.get(f"{metric}_ci")
    if v is None:
        return "—"
    sign = "+" if signed else ""
    out = f"{v:{sign}.{digits}f}"
    return out if not ci else f"{out} [{ci[0]:{sign}.{digits - 1}f}, {ci[1]:{sign}.{digits - 1}f}]"
