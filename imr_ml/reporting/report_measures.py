"""The report's measured comparisons, each with its interval and its n: the model against
the category rates and the built-in model on the same letters, the operating points a claims
manager could flag at, and top-fifth lifts.

Every interval resamples whole letters (items of a letter share a patient and a reviewer) and
the comparisons are paired: the model and a baseline meet the same resampled letters, so the
luck they share cancels in the difference.
"""

from __future__ import annotations

import numpy as np

from imr_ml.modeling.evaluation.bootstrap import bootstrap_ci, bootstrap_diff_ci, letter_counts, percentile_interval
from imr_ml.modeling.evaluation.metrics import metrics_of
from imr_ml.modeling.evaluation.operating_point import operating_points
from imr_ml.modeling.modelfiles.builtin import builtin_pipeline
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.scoring.contributions import category_rate

COMPARED = ("roc_auc", "average_precision", "brier")
N_BOOT = 1000
LEVEL = 0.95


def comparators(loaded, ev: dict, builtin: bool) -> dict[str, dict]:
    """The baselines' predictions of the items measured, by name, with what each is.

    Parameters
    ----------
    loaded : LoadedModel
        The model reported on.
    ev : dict
        The evaluated predictions (`report_data.evaluated_predictions`).
    builtin : bool
        The model is the built-in one (then it is not compared with itself).

    Returns
    -------
    dict
        {name: {"label", "p"}}; empty when nothing can be compared (a model file saved
        before its cross-validation kept the baselines' predictions).
    """
    out: dict[str, dict] = {}
    if ev["kind"] == "cv":
        base = ev.get("baselines") or {}
        if "category_prior" in base:
            out["category_prior"] = {"label": "treatment-category rates of the training folds' letters",
                                     "p": np.asarray(base["category_prior"], dtype=float)}
        if "knowledge_only" in base:
            out["builtin"] = {"label": "built-in model (guideline rules and published rates, nothing learnt)",
                              "p": np.asarray(base["knowledge_only"], dtype=float)}
        return out
    tables = {} if builtin else load_model_dir(loaded.path, with_baselines=True).tables
    rates = (tables.get("category_prior") or {}).get("rates")
    cats = ev["category"]
    if rates:
        out["category_prior"] = {"label": "treatment-category rates of the training letters",
                                 "p": np.array([rates.get(c, rates.get("other", 0.1)) for c in cats], dtype=float)}
    else:
        out["category_prior"] = {"label": "published (or assumed) treatment-category rates",
                                 "p": np.array([category_rate(c, loaded.knowledge.taxonomy) for c in cats])}
    if not builtin:
        out["builtin"] = {"label": "built-in model (guideline rules and published rates, nothing learnt)",
                          "p": builtin_pipeline().predict_proba(ev["X"])[:, 1]}
    return out


def versus_baselines(y: np.ndarray, p: np.ndarray, letters, others: dict[str, dict], seed: int = 0) -> list[dict]:
    """Each baseline's metrics and the model's paired difference from them, with intervals.

    Parameters
    ----------
    y, p : numpy.ndarray
        Labels and the model's predictions.
    letters : sequence
        The letter of every item.
    others : dict
        `comparators`.
    seed : int
        Seed of the letter resamples.

    Returns
    -------
    list of dict
        One per baseline: ``name``, ``label``, ``metrics`` ({metric: value}, with
        ``<metric>_ci``) and ``diff`` ({metric: {"value", "ci"}}: model minus baseline).
    """
    out = []
    for name, b in others.items():
        metrics = {m: v for m, v in metrics_of(y, b["p"]).items() if m in COMPARED}
        metrics |= bootstrap_ci(y, b["p"], letters, COMPARED, n_boot=N_BOOT, seed=seed)
        diff = {}
        for m in COMPARED:
            d = bootstrap_diff_ci(y, p, b["p"], letters, m, n_boot=N_BOOT, seed=seed)
            diff[m] = {"value": d[f"{m}_diff"], "ci": d[f"{m}_diff_ci"]}
        out.append({"name": name, "label": b["label"], "metrics": metrics, "diff": diff})
    return out


def operating_table(y: np.ndarray, p: np.ndarray, letters, flag: float | None, seed: int = 0) -> list[dict]:
    """Flagged, precision and recall (with intervals) at the cut-offs a claims manager might use:
    the model's flag, P >= 0.5 (what "likely" means) and the top fifth.

    Parameters
    ----------
    y, p : numpy.ndarray
        Labels and predictions.
    letters : sequence
        The letter of every item.
    flag : float or None
        The model's operating threshold.
    seed : int
        Seed of the letter resamples.

    Returns
    -------
    list of dict
        `imr_ml.modeling.evaluation.operating_point.operating_point` rows with a ``name``.
    """
    cuts = [] if flag is None else [("the model's flag", float(flag))]
    cuts += [("P at least 50% (\"likely\")", 0.5)]
    if len(p) >= 5:
        cuts.append(("the fifth scored highest", float(np.sort(p)[::-1][max(1, len(p) // 5) - 1])))
    rows = operating_points(y, p, [t for _, t in cuts], np.asarray(letters).astype(str), N_BOOT, LEVEL, seed)
    return [r | {"name": name} for (name, _), r in zip(cuts, rows)]


def top_fifth(y: np.ndarray, p: np.ndarray, letters=None, seed: int = 0) -> dict | None:
    """The fifth of items scored highest: its overturn rate against the base rate (the lift)
    and the share of all overturns it holds, the lift with its letter-bootstrap interval.

    Parameters
    ----------
    y, p : numpy.ndarray
        Labels and predictions.
    letters : sequence or None
        The letter of every item (None: no interval).
    seed : int
        Seed of the letter resamples.

    Returns
    -------
    dict or None
        ``n_items``, ``n_overturned``, ``rate``, ``base_rate``, ``lift``, ``lift_ci``,
        ``share_of_overturns``; None without an overturned item.
    """
    if not len(y) or not y.sum():
        return None
    lift, rate, share, k = _lift(y, p)
    ci = None if letters is None else _lift_interval(y, p, letters, seed)
    return {"n_items": k, "n_overturned": int(y.sum()), "rate": round(rate, 4), "base_rate": round(float(y.mean()), 4),
            "lift": round(lift, 2), "lift_ci": ci and [round(v, 2) for v in ci], "share_of_overturns": round(share, 4)}


def _lift(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float, int]:
    """(lift, rate, share of overturns, items) of the top fifth by prediction."""
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 5)]
    rate = float(y[top].mean())
    return rate / float(y.mean()), rate, float(y[top].sum() / y.sum()), int(top.size)


def _lift_interval(y: np.ndarray, p: np.ndarray, letters, seed: int = 0) -> list[float] | None:
    """The top-fifth lift's [low, high] interval over resamples of whole letters (resamples
    without an overturned item are left out); `y`, `p`, `letters` and `seed` as in `top_fifth`."""
    codes, counts = letter_counts(np.asarray(letters).astype(str), N_BOOT, seed)
    lifts = []
    for draw in counts:
        idx = np.repeat(np.arange(len(y)), draw[codes])
        if idx.size and y[idx].sum():
            lifts.append(_lift(y[idx], p[idx])[0])
    return percentile_interval(np.asarray(lifts), LEVEL)
