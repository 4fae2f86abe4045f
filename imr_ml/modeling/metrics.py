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
    y, p = _clean(y, p)
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


def _none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def score(y, p, n_bins: int = 10) -> dict:
    """All metrics for one set of predictions, plus counts. JSON-ready."""
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


# ----------------------------------------------------------------------------- bootstrap
#
# Items of one letter share a patient, a reviewer and a summary, so they are not independent:
# intervals resample whole letters. A resample is a weight per item (a letter drawn k times
# weighs k), so no resample is materialised and every metric is a few matrix reductions over
# the items sorted once by prediction.

BOOT_METRICS = ("roc_auc", "average_precision", "brier", "log_loss", "ece")
_CHUNK_CELLS = 4_000_000  # resamples x items held in memory at once


def letter_counts(groups, n_boot: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(letter code of each item, times each letter is drawn in each resample [n_boot x letters])."""
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    n_letters = int(codes.max()) + 1 if codes.size else 0
    draws = np.random.default_rng(seed).integers(0, n_letters, size=(n_boot, n_letters))
    offsets = (np.arange(n_boot) * n_letters)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * n_letters).reshape(n_boot, n_letters)
    return codes, counts


def _blocks(sorted_values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values (ties must share one threshold)."""
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def weighted_metrics(y, p, W: np.ndarray, metrics=BOOT_METRICS, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Each metric under each row of item weights ``W`` [resamples x items]; NaN where undefined.

    Equals `score` on the data with item i repeated W[b, i] times (tested against it)."""
    y, p = _clean(y, p)
    order = np.argsort(p, kind="stable")
    y, p, W = y[order], p[order], np.asarray(W, dtype=float)[:, order]
    total = W.sum(axis=1)
    out: dict[str, np.ndarray] = {}
    if {"roc_auc", "average_precision"} & set(metrics):
        starts = _blocks(p)
        pos = np.add.reduceat(W * y, starts, axis=1)  # weighted positives at each distinct score
        neg = np.add.reduceat(W * (1 - y), starts, axis=1)
        n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
        if "roc_auc" in metrics:  # P(score_pos > score_neg) + half the ties
            below = np.cumsum(neg, axis=1) - neg
            out["roc_auc"] = _ratio((pos * (below + 0.5 * neg)).sum(axis=1), n_pos * n_neg)
        if "average_precision" in metrics:  # sum over thresholds (descending) of recall step x precision
            tp = np.cumsum(pos[:, ::-1], axis=1)
            fp = np.cumsum(neg[:, ::-1], axis=1)
            precision = np.nan_to_num(_ratio(tp, tp + fp))
            out["average_precision"] = _ratio((pos[:, ::-1] * precision).sum(axis=1), n_pos)
    if "brier" in metrics:
        out["brier"] = _ratio(W @ (p - y) ** 2, total)
    if "log_loss" in metrics:
        pc = np.clip(p, 1e-15, 1 - 1e-15)
        out["log_loss"] = _ratio(W @ -(y * np.log(pc) + (1 - y) * np.log(1 - pc)), total)
    if "ece" in metrics:  # sum over bins of |sum p - sum y| / n
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        gaps = np.add.reduceat(W * (p - y), _blocks(bins), axis=1)
        out["ece"] = _ratio(np.abs(gaps).sum(axis=1), total)
    return {m: out[m] for m in metrics}


def _resamples(groups, n_items: int, n_boot: int, seed: int):
    """Item-weight matrices [resamples x items] of consecutive letter resamples, bounded in memory."""
    codes, counts = letter_counts(groups, n_boot, seed)
    if codes.size != n_items:
        raise ValueError(f"groups and labels differ in length: {codes.size} vs {n_items}")
    step = max(1, _CHUNK_CELLS // max(1, codes.size))
    for i in range(0, counts.shape[0], step):
        yield counts[i:i + step][:, codes]


def bootstrap_distribution(y, p, groups, metrics=BOOT_METRICS, n_boot: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Each metric on ``n_boot`` letter resamples (NaN where undefined, e.g. one class drawn)."""
    parts = [weighted_metrics(y, p, W, metrics) for W in _resamples(groups, len(p), n_boot, seed)]
    return {m: np.concatenate([part[m] for part in parts]) for m in metrics}


def _interval(values: np.ndarray, level: float) -> list[float] | None:
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return None
    tail = 50 * (1 - level)
    return [float(v) for v in np.percentile(ok, [tail, 100 - tail])]


def bootstrap_ci(y, p, groups, metrics=("roc_auc", "average_precision", "brier", "ece"),
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile intervals ``{"<metric>_ci": [low, high]}`` from resampling whole letters
    (``None`` when the metric is undefined on every resample). ECE is biased upward by
    resampling (noise adds to every bin's gap), so for a well-calibrated predictor its
    interval can sit just above the point estimate."""
    dist = bootstrap_distribution(y, p, groups, metrics, n_boot, seed)
    return {f"{m}_ci": _interval(v, level) for m, v in dist.items()}


def bootstrap_diff_ci(y, p1, p2, groups, metric: str = "roc_auc", n_boot: int = 1000,
                      level: float = 0.95, seed: int = 0) -> dict:
    """``metric(p1) - metric(p2)`` and its interval on the same letter resamples. Paired, because
    both predictors meet the same easy and hard letters in a resample: that shared luck cancels
    in the difference, and two separate intervals would overstate its uncertainty."""
    y1, _ = _clean(y, p1)

    def diff(W):
        return weighted_metrics(y, p1, W, (metric,))[metric] - weighted_metrics(y, p2, W, (metric,))[metric]

    boots = np.concatenate([diff(W) for W in _resamples(groups, y1.size, n_boot, seed)])
    point = float(diff(np.ones((1, y1.size)))[0])
    return {f"{metric}_diff": _none_if_nan(point), f"{metric}_diff_ci": _interval(boots, level)}


def with_intervals(scores: dict[str, dict], y, preds: dict, groups, **kw) -> dict[str, dict]:
    """Add ``<metric>_ci`` beside every metric of every predictor's `score` (in place; the same
    letter resamples for every predictor, as the seed is shared)."""
    for name, p in preds.items():
        scores[name].update(bootstrap_ci(y, p, groups, BOOT_METRICS, **kw))
    return scores


def versus_baselines(y, preds: dict, groups, metrics=("roc_auc", "average_precision"), **kw) -> dict[str, dict]:
    """Paired model - baseline differences with intervals, for every baseline in ``preds``."""
    return {name: {k: v for m in metrics for k, v in bootstrap_diff_ci(y, preds["model"], p, groups, m, **kw).items()}
            for name, p in preds.items() if name != "model"}


def fmt_ci(s: dict, metric: str, digits: int = 3, signed: bool = False) -> str:
    """'0.781 [0.69, 0.86]': a value and its interval ('0.781' without one, '—' when undefined)."""
    v, ci = s.get(metric), s.get(f"{metric}_ci")
    if v is None:
        return "—"
    sign = "+" if signed else ""
    out = f"{v:{sign}.{digits}f}"
    return out if not ci else f"{out} [{ci[0]:{sign}.{digits - 1}f}, {ci[1]:{sign}.{digits - 1}f}]"
