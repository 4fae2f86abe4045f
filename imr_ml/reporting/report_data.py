"""What the model report (`imr-ml report`) says, as data: effects with intervals, measured
performance, calibration, categories, the knowledge the model starts from and the findings
in plain words. `imr_ml.reporting.plots` draws it; `imr_ml.reporting.report_html` lays it out.

Performance comes from labelled items the model did not see: a held-out `--corpus`, or else
the out-of-fold predictions of the training cross-validation (`cv_predictions.json` in the
model directory). The built-in model has neither: its report shows its knowledge instead.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from imr_ml.featurize import feature_groups, to_frame
from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.modeling.baselines import categories
from imr_ml.modeling.bootstrap import bootstrap_ci
from imr_ml.modeling.builtin import is_builtin
from imr_ml.modeling.data import canonical_rows, labels
from imr_ml.modeling.metrics import calibration_bins, score, wilson_interval
from imr_ml.modeling.model import fitted_pipeline, scoring_model
from imr_ml.modeling.modelio import load_cv_predictions
from imr_ml.reporting.rule_outcomes import rule_outcomes
from imr_ml.schema import GROUP_TITLES
from imr_ml.scoring.explanation import feature_label

PERMUTATION_REPEATS = 5
Z95 = 1.959963984540054
MIN_OVERTURNED_FOR_METRICS = 5  # fewer overturned items in a category: its metrics are noise
N_EFFECTS = 15


def effects(loaded, applied: dict[str, int] | None = None) -> list[dict]:
    """Guideline-rule and signal coefficients (log-odds of one finding, all else equal) with
    95% intervals from the classifier's posterior variances, as odds ratios too; the
    strongest first. `applied`: how many items each feature fired on."""
    clf = fitted_pipeline(loaded.model)[-1]
    coefs = scoring_model(loaded.model).weights()
    var = getattr(clf, "posterior_var_", None)
    sd = None if var is None else np.sqrt(var[1:])
    priors = {f"rule__{r['rule']}": r for r in loaded.manifest.get("rule_updates") or []}
    priors.update({f"rule__{r['name']}": {"prior": r["strength"], "n_items": None}
                   for r in loaded.manifest.get("rules") or []})
    out = []
    for j, (name, coef) in enumerate(coefs.items()):
        if not name.startswith(("rule__", "signal__")) or coef == 0:
            continue
        ci = None if sd is None else [coef - Z95 * sd[j], coef + Z95 * sd[j]]
        prior = priors.get(name, {})
        out.append({"feature": name, "label": feature_label(name, loaded.knowledge), "group": name.split("__")[0],
                    "coef": round(float(coef), 4), "coef_ci": ci and [round(float(c), 4) for c in ci],
                    "odds_ratio": round(float(np.exp(coef)), 3),
                    "odds_ratio_ci": ci and [round(float(np.exp(c)), 3) for c in ci],
                    "prior": prior.get("prior"),
                    "n_items": (applied or {}).get(name, prior.get("n_items"))})
    return sorted(out, key=lambda e: -abs(e["coef"]))


def shown_effects(all_effects: list[dict]) -> list[dict]:
    """The effects worth a claims manager's line: the strongest rules and the strongest
    signals (a signal's weight is usually smaller than a rule's, but it applies more often),
    leaving out those that applied to no item counted."""
    live = [e for e in all_effects if e["n_items"] != 0]
    rules = [e for e in live if e["group"] == "rule"][: N_EFFECTS - 5]
    signals = [e for e in live if e["group"] == "signal"][: N_EFFECTS - len(rules)]
    return sorted(rules + signals, key=lambda e: -abs(e["coef"]))


def permutation_importance_by_group(model, X, y, seed: int = 0) -> dict:
    """Drop in ROC AUC when one feature group's columns are shuffled across items
    (held-out data; the AUC of the uncalibrated score equals the calibrated one's)."""
    if len(set(y.tolist())) < 2:
        return {}
    pipe = fitted_pipeline(model)
    Z = pipe[:-1].transform(X)
    Z = Z.tocsr() if hasattr(Z, "tocsr") else np.asarray(Z)
    clf = pipe[-1]
    base = roc_auc_score(y, clf.decision_function(Z))
    names = [str(n) for n in pipe[:-1].get_feature_names_out()]
    rng = np.random.default_rng(seed)
    out = {}
    for group, idx in feature_groups(names).items():
        if not idx:
            continue
        drops = []
        for _ in range(PERMUTATION_REPEATS):
            Zp = Z.copy().tolil() if hasattr(Z, "tolil") else Z.copy()
            perm = rng.permutation(Z.shape[0])
            Zp[:, idx] = Z[perm][:, idx]
            drops.append(base - roc_auc_score(y, clf.decision_function(Zp.tocsr() if hasattr(Zp, "tocsr") else Zp)))
        out[group] = {"title": GROUP_TITLES.get(group, group), "auc_drop_mean": round(float(np.mean(drops)), 4),
                      "auc_drop_sd": round(float(np.std(drops)), 4)}
    return {"base_auc": round(float(base), 4), "groups": out}


def applied_counts(model, X) -> dict[str, int]:
    """How many items of X each feature fired on."""
    scorer = scoring_model(model)
    Z = scorer.features(X)
    return dict(zip(scorer.feature_names, np.asarray((Z != 0).sum(axis=0)).ravel().tolist()))


def top_fifth(y: np.ndarray, p: np.ndarray) -> dict | None:
    """The fifth of items scored highest: its overturn rate against the base rate, and the
    share of all overturns it holds (what a reviewer working that list first would see)."""
    if not len(y) or not y.sum():
        return None
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 5)]
    return {"n_items": int(top.size), "rate": round(float(y[top].mean()), 4), "base_rate": round(float(y.mean()), 4),
            "lift": round(float(y[top].mean() / y.mean()), 2),
            "share_of_overturns": round(float(y[top].sum() / y.sum()), 4)}


def per_category(cats, y, p, taxonomy: str | None = None) -> list[dict]:
    """Per treatment category: items, overturns, observed rate with its 95% interval, the
    published (or assumed) rate, the mean prediction and the top-fifth lift; the metrics are
    None when the category has fewer than MIN_OVERTURNED_FOR_METRICS overturned items."""
    cats = np.asarray(cats)
    knowledge = {c["category"]: c for c in category_knowledge(taxonomy)}
    rows = []
    for cat in sorted(set(cats.tolist()), key=lambda c: (-(cats == c).sum(), c)):
        m = cats == cat
        yc, pc = y[m], p[m]
        enough = yc.sum() >= MIN_OVERTURNED_FOR_METRICS
        tf = top_fifth(yc, pc) if enough else None
        rows.append({"category": cat, "label": knowledge.get(cat, {}).get("label", cat), "n_items": int(m.sum()),
                     "n_overturned": int(yc.sum()), "observed_rate": round(float(yc.mean()), 4),
                     "observed_ci": [round(v, 4) for v in wilson_interval(int(yc.sum()), int(m.sum()))],
                     "published_rate": knowledge.get(cat, {}).get("rate"),
                     "mean_predicted": round(float(pc.mean()), 4) if enough else None,
                     "top_fifth_lift": tf and tf["lift"]})
    return rows


def category_knowledge(taxonomy: str | None = None) -> list[dict]:
    """Each treatment category's overturn rate from the model's taxonomy and where it comes from."""
    return [{"category": c.name, "label": c.label, "rate": round(1 - c.uphold_prior, 4), "source": c.uphold_source}
            for c in load_taxonomy(taxonomy)]


def rule_knowledge(loaded) -> list[dict]:
    """Every guideline rule: plain label, prior strength, fitted value (trained models),
    training items it applied to and its citation."""
    fitted = {r["rule"]: r for r in loaded.manifest.get("rule_updates") or []}
    return [{"rule": r.name, "label": r.label, "prior": r.strength, "fitted": fitted.get(r.name, {}).get("fitted"),
             "n_items": fitted.get(r.name, {}).get("n_items"), "citation": r.citation}
            for r in load_guidelines(loaded.knowledge.guidelines).rules]


def report_content(loaded, rows: list[dict] | None = None, seed: int = 0,
                   corpus_name: str | None = None) -> tuple[dict, dict | None]:
    """Every section of the report but its plots, and the labelled predictions it measured
    (`evaluated`, None without any) that the plots draw from."""
    m = loaded.manifest
    data = {"model": {"path": str(loaded.path), "kind": m.get("kind"), "sha256": m.get("model_sha256"),
                      "procedure": m.get("procedure"), "threshold": (m.get("threshold") or {}).get("value")},
            "builtin": is_builtin(str(loaded.path)),
            "trained_on": {k: v for k, v in (m.get("data") or {}).items() if k != "letter_hashes"},
            "knowledge": {"rules": rule_knowledge(loaded), "categories": category_knowledge(loaded.knowledge.taxonomy)}}
    evaluated = evaluated_predictions(loaded, rows, corpus_name)
    applied = None
    if evaluated and evaluated.get("X") is not None:
        applied = applied_counts(loaded.model, evaluated["X"])
        data["permutation_importance"] = permutation_importance_by_group(
            loaded.model, evaluated["X"], evaluated["y"], seed)
    data["effects"] = shown_effects(effects(loaded, applied))
    if evaluated:
        y, p = evaluated["y"], evaluated["p"]
        data["performance"] = performance(loaded, evaluated)
        data["calibration"] = calibration(y, p)
        data["categories"] = per_category(evaluated["category"], y, p, loaded.knowledge.taxonomy)
    if rows:  # each rule against the outcomes of a labelled corpus (needs its texts: not from the CV)
        labelled = canonical_rows(rows)
        k = loaded.knowledge
        data["rule_outcomes"] = rule_outcomes(labelled, [int(r["label"]) for r in labelled],
                                              load_guidelines(k.guidelines), k.signals, k.taxonomy)
    data["findings"] = findings(data)
    return data, evaluated


def evaluated_predictions(loaded, rows: list[dict] | None, corpus_name: str | None) -> dict | None:
    """Labelled predictions the model did not train on: the corpus given, else the training
    CV's out-of-fold predictions, else None."""
    rows = canonical_rows(rows or [])
    if rows:
        X = to_frame(rows)
        return {"source": f"the held-out corpus {corpus_name or ''}".rstrip(), "kind": "corpus", "X": X,
                "y": labels(rows), "p": loaded.model.predict_proba(X)[:, 1],
                "category": categories(X, loaded.knowledge.taxonomy),
                "letters": [str(r["letter_id"]) for r in rows]}
    cv = load_cv_predictions(loaded)
    if not cv or not cv["y"]:
        return None
    return {"source": "out-of-fold predictions of the training cross-validation (each item scored by a model "
                      "that did not see its letter)", "kind": "cv", "X": None,
            "y": np.asarray(cv["y"], dtype=int), "p": np.asarray(cv["p"], dtype=float),
            "category": cv["category"], "letters": cv["letter"]}


def performance(loaded, ev: dict) -> dict:
    """Headline metrics with 95% letter-bootstrap intervals (the manifest's own for the CV)."""
    y, p = ev["y"], ev["p"]
    metrics = ((loaded.manifest.get("cv") or {}).get("pooled") or {}).get("overall", {}).get("model")
    if ev["kind"] != "cv" or not metrics or "roc_auc_ci" not in metrics:
        metrics = score(y, p) | bootstrap_ci(y, p, ev["letters"], ("roc_auc", "average_precision", "brier"))
    keep = ("roc_auc", "average_precision", "brier")
    return {"source": ev["source"], "n_items": int(len(y)), "n_letters": len(set(ev["letters"])),
            "n_overturned": int(y.sum()), "base_rate": round(float(y.mean()), 4),
            "metrics": {k: metrics.get(k) for k in keep} | {f"{k}_ci": metrics.get(f"{k}_ci") for k in keep},
            "brier_of_base_rate": round(float(y.mean() * (1 - y.mean())), 4),
            "top_fifth": top_fifth(y, p)}


def calibration(y, p) -> dict:
    """Calibration bins with their 95% intervals, and the mean prediction beside the observed rate."""
    bins = calibration_bins(y, p)
    return {"bins": bins, "mean_predicted": round(float(p.mean()), 4), "observed_rate": round(float(y.mean()), 4)}


def pct(x: float) -> str:
    """A share as a readable percentage: whole percents, one decimal below 10%."""
    return f"{100 * x:.0f}%" if x >= 0.1 or x == 0 else f"{100 * x:.1f}%"


def findings(d: dict) -> list[str]:
    """The five things a claims manager should take away, in plain words."""
    out = []
    perf = d.get("performance")
    if perf:
        m = perf["metrics"]
        ci = m.get("roc_auc_ci")
        out.append(f"It ranks a random overturned request above a random upheld one {pct(m['roc_auc'])} of the time"
                   + (f" (95% interval {pct(ci[0])} to {pct(ci[1])})" if ci else "") + "; chance is 50%.")
        tf = perf.get("top_fifth")
        if tf:
            out.append(f"The fifth of requests it scores highest were overturned {pct(tf['rate'])} of the time, "
                       f"{tf['lift']:.1f}× the overall {pct(tf['base_rate'])}, "
                       f"and hold {pct(tf['share_of_overturns'])} "
                       "of all overturns.")
        out.append(_calibration_finding(d["calibration"], perf))
    else:
        out.append("No measured performance: " + ("the built-in model has learnt nothing from letters; it is the "
                   "published category rates moved by guideline rules." if d["builtin"] else
                   "the model was trained without cross-validation and no held-out corpus was given (--corpus)."))
    up = [e for e in d["effects"] if e["coef"] > 0]
    down = [e for e in d["effects"] if e["coef"] < 0]
    for what, es in (("more likely to be overturned", up), ("more likely to be upheld", down)):
        if es:
            e = es[0]
            out.append(f"Strongest finding making a denial {what}: {e['label']} (odds ×{e['odds_ratio']:.2f}"
                       + (f", 95% interval ×{e['odds_ratio_ci'][0]:.2f} to ×{e['odds_ratio_ci'][1]:.2f}"
                          if e["odds_ratio_ci"] else "")
                       + ").")
    cats = [c for c in d.get("categories") or [] if c["n_overturned"] >= MIN_OVERTURNED_FOR_METRICS]
    if cats:
        c = max(cats, key=lambda c: c["observed_rate"])
        out.append(f"{c['label']} is overturned most often: {c['n_overturned']} of {c['n_items']} "
                   f"({pct(c['observed_rate'])}).")
    n_over = (perf or {}).get("n_overturned", 0)
    if perf and n_over < 100:
        out.append(f"Only {n_over} overturned items were measured, so every figure here is uncertain: "
                   "read the intervals.")
    elif not perf:
        known = d["knowledge"]
        out.append(f"It knows {len(known['rules'])} guideline rules (with citations) and the overturn rates of "
                   f"{len(known['categories'])} treatment categories.")
    return out[:5]


def _calibration_finding(cal: dict, perf: dict) -> str:
    """Whether the average prediction falls inside the 95% interval of the observed rate."""
    lo, hi = wilson_interval(perf["n_overturned"], perf["n_items"])
    said = f"it predicted {pct(cal['mean_predicted'])} overturned on average and {pct(cal['observed_rate'])} were"
    if lo <= cal["mean_predicted"] <= hi:
        return f"Its probabilities can be taken at face value on average: {said}."
    direction = "too high" if cal["mean_predicted"] > hi else "too low"
    return f"Its probabilities run {direction}: {said}; see the calibration chart before using them as odds."


