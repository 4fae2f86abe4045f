"""What the model report (`imr-ml report`) says, as data: effects with intervals and the
training items behind them, measured performance against the category rates and the built-in
model, operating points, calibration, categories, the knowledge the model starts from, and the
findings and caveats in plain words (`imr_ml.reporting.report_words`). `imr_ml.reporting.plots`
draws it; `imr_ml.reporting.report_html` lays it out.

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
from imr_ml.modeling.estimator.model import fitted_pipeline, scoring_model
from imr_ml.modeling.evaluation.bootstrap import bootstrap_ci
from imr_ml.modeling.evaluation.metrics import calibration_bins, metrics_of, wilson_interval
from imr_ml.modeling.modelfiles.builtin import is_builtin
from imr_ml.modeling.modelfiles.modelio import load_cv_predictions
from imr_ml.modeling.training.baselines import categories
from imr_ml.modeling.training.data import canonical_rows, labels, letter_hash
from imr_ml.reporting.report_measures import comparators, operating_table, top_fifth, versus_baselines
from imr_ml.reporting.report_words import MIN_OVERTURNED_FOR_METRICS, caveats, findings
from imr_ml.reporting.rule_outcomes import rule_outcomes
from imr_ml.schema import GROUP_TITLES
from imr_ml.scoring.contributions import feature_label
from imr_ml.scoring.findings import DISAGREE, MIN_LEARNT
from imr_ml.scoring.operating import threshold
from imr_ml.scoring.score import training_counts

PERMUTATION_REPEATS = 5
Z95 = 1.959963984540054
N_EFFECTS = 15


def effects(loaded) -> list[dict]:
    """Guideline-rule, signal and field coefficients (log-odds of one finding, all else equal)
    with 95% intervals from the classifier's posterior variances, as odds ratios too, each
    with the guideline's prior, the letters' adjustment, the training items it fired on and
    what that makes it; the strongest first.

    An effect that fired on fewer than `MIN_LEARNT` training items is the guideline's prior,
    not something the model learnt (a rule that applied to one letter keeps its prior).
    """
    clf = fitted_pipeline(loaded.model)[-1]
    scorer = scoring_model(loaded.model)
    coefs, prior = scorer.weights(), scorer.prior_coef()
    var = getattr(clf, "posterior_var_", None)
    sd = None if var is None else np.sqrt(np.asarray(var)[1:])
    counts = training_counts(loaded.manifest)
    out = []
    for j, (name, coef) in enumerate(coefs.items()):
        if not name.startswith(("rule__", "signal__", "field__")) or name == "field__category_prior" or coef == 0:
            continue
        ci = None if sd is None else [coef - Z95 * sd[j], coef + Z95 * sd[j]]
        n = None if counts is None else int(counts.get(name, 0))
        out.append({"feature": name, "label": feature_label(name, loaded.knowledge), "group": name.split("__")[0],
                    "coef": round(float(coef), 4), "coef_ci": ci and [round(float(c), 4) for c in ci],
                    "odds_ratio": round(float(np.exp(coef)), 3),
                    "odds_ratio_ci": ci and [round(float(np.exp(c)), 3) for c in ci],
                    "prior": round(float(prior[j]), 4), "adjustment": round(float(coef - prior[j]), 4),
                    "n_items": n, **effect_status(name.startswith("rule__"), float(prior[j]), float(coef - prior[j]),
                                                  n, is_builtin(str(loaded.path)))})
    return sorted(out, key=lambda e: -abs(e["coef"]))


def effect_status(is_rule: bool, prior: float, adjustment: float, n_items: int | None, builtin: bool) -> dict:
    """Whether an effect was learnt, and from what: ``status`` in words and ``learnt``.

    Parameters
    ----------
    is_rule : bool
        The effect is a guideline rule's.
    prior : float
        Its guideline prior (log-odds).
    adjustment : float
        What the letters moved it by.
    n_items : int or None
        Training items it fired on (None: not recorded).
    builtin : bool
        The built-in model (it learnt from no letter).

    Returns
    -------
    dict
        ``status`` and ``learnt`` (only a learnt effect may be headlined).
    """
    if builtin:
        return {"status": "guideline prior (the built-in model learns nothing)", "learnt": False}
    if n_items is not None and n_items < MIN_LEARNT:
        return {"status": "guideline prior, not learnt" if is_rule else "too few items to learn from",
                "learnt": False}
    if not is_rule:
        return {"status": "learnt from the letters", "learnt": True}
    if prior * adjustment < 0 and abs(adjustment) >= DISAGREE:
        return {"status": "the letters disagree with the guideline", "learnt": True}
    return {"status": "guideline prior, adjusted by the letters", "learnt": True}


def shown_effects(all_effects: list[dict]) -> list[dict]:
    """The effects worth a claims manager's line: the strongest rules and the strongest
    signals and fields (a signal's weight is usually smaller than a rule's, but it applies
    more often), leaving out those that fired on no training item; the learnt ones first,
    then the guideline priors the letters could not test."""
    live = [e for e in all_effects if e["n_items"] != 0]
    rules = [e for e in live if e["group"] == "rule"][: N_EFFECTS - 5]
    others = [e for e in live if e["group"] != "rule"][: N_EFFECTS - len(rules)]
    return sorted(rules + others, key=lambda e: (not e["learnt"], -abs(e["coef"])))


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


def per_category(cats, y, p, letters, taxonomy: str | None = None) -> list[dict]:
    """Per treatment category: items, overturns, observed rate with its 95% interval, the
    published (or assumed) rate, the mean prediction and the top-fifth lift with its 95%
    letter-bootstrap interval; the model's figures are None when the category has fewer than
    MIN_OVERTURNED_FOR_METRICS overturned items."""
    cats, letters = np.asarray(cats), np.asarray(letters).astype(str)
    knowledge = {c["category"]: c for c in category_knowledge(taxonomy)}
    rows = []
    for cat in sorted(set(cats.tolist()), key=lambda c: (-(cats == c).sum(), c)):
        m = cats == cat
        yc, pc = y[m], p[m]
        enough = yc.sum() >= MIN_OVERTURNED_FOR_METRICS
        tf = top_fifth(yc, pc, letters[m]) if enough else None
        rows.append({"category": cat, "label": knowledge.get(cat, {}).get("label", cat), "n_items": int(m.sum()),
                     "n_overturned": int(yc.sum()), "observed_rate": round(float(yc.mean()), 4),
                     "observed_ci": [round(v, 4) for v in wilson_interval(int(yc.sum()), int(m.sum()))],
                     "published_rate": knowledge.get(cat, {}).get("rate"),
                     "mean_predicted": round(float(pc.mean()), 4) if enough else None,
                     "top_fifth_lift": tf and tf["lift"], "top_fifth_lift_ci": tf and tf["lift_ci"],
                     "top_fifth_items": tf and tf["n_items"]})
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


def report_content(loaded, rows: list[dict] | None = None, seed: int = 0, corpus_name: str | None = None,
                   corpus_synthetic: bool = False) -> tuple[dict, dict | None]:
    """Every section of the report but its plots, and the labelled predictions it measured
    (`evaluated`, None without any) that the plots draw from. `corpus_synthetic`: the
    corpus given is synthetic letters (the demo says so)."""
    m = loaded.manifest
    builtin = is_builtin(str(loaded.path))
    data = {"model": {"path": str(loaded.path), "kind": m.get("kind"), "sha256": m.get("model_sha256"),
                      "procedure": m.get("procedure"), "threshold": (m.get("threshold") or {}).get("value")},
            "builtin": builtin,
            "trained_on": {k: v for k, v in (m.get("data") or {}).items() if k != "letter_hashes"},
            "knowledge": {"rules": rule_knowledge(loaded), "categories": category_knowledge(loaded.knowledge.taxonomy)}}
    evaluated = evaluated_predictions(loaded, rows, corpus_name)
    if evaluated and evaluated.get("X") is not None:
        data["permutation_importance"] = permutation_importance_by_group(
            loaded.model, evaluated["X"], evaluated["y"], seed)
    data["effects"] = shown_effects(effects(loaded))
    if evaluated:
        y, p, letters = evaluated["y"], evaluated["p"], evaluated["letters"]
        data["performance"] = performance(loaded, evaluated, seed)
        data["versus"] = versus_baselines(y, p, letters, comparators(loaded, evaluated, builtin), seed)
        data["operating_points"] = operating_table(y, p, letters, threshold(loaded), seed)
        data["calibration"] = calibration(y, p)
        data["categories"] = per_category(evaluated["category"], y, p, letters, loaded.knowledge.taxonomy)
    data["caveats"] = caveats(data, evaluated, corpus_synthetic)
    if rows:  # each rule against the outcomes of a labelled corpus (needs its texts: not from the CV)
        labelled = canonical_rows(rows)
        k = loaded.knowledge
        data["rule_outcomes"] = rule_outcomes(labelled, [int(r["label"]) for r in labelled],
                                              load_guidelines(k.guidelines), k.signals, k.taxonomy, k.criteria)
    data["findings"] = findings(data)
    return data, evaluated


def evaluated_predictions(loaded, rows: list[dict] | None, corpus_name: str | None) -> dict | None:
    """Labelled predictions the model did not train on: the corpus given, else the training
    CV's out-of-fold predictions (with the baselines' of the same folds), else None. Letters
    are hashed as a manifest records them."""
    rows = canonical_rows(rows or [])
    if rows:
        X = to_frame(rows)
        return {"source": f"the held-out corpus {corpus_name or ''}".rstrip(), "kind": "corpus", "X": X,
                "y": labels(rows), "p": loaded.model.predict_proba(X)[:, 1],
                "category": categories(X, loaded.knowledge.taxonomy),
                "letters": [letter_hash(str(r["letter_id"])) for r in rows]}
    cv = load_cv_predictions(loaded)
    if not cv or not cv["y"]:
        return None
    return {"source": "out-of-fold predictions of the training cross-validation (each item scored by a model "
                      "that did not see its letter)", "kind": "cv", "X": None,
            "y": np.asarray(cv["y"], dtype=int), "p": np.asarray(cv["p"], dtype=float),
            "category": cv["category"], "letters": cv["letter"], "baselines": cv["baselines"]}


def performance(loaded, ev: dict, seed: int = 0) -> dict:
    """Headline metrics with 95% letter-bootstrap intervals (the manifest's own for the CV)."""
    y, p = ev["y"], ev["p"]
    metrics = ((loaded.manifest.get("cv") or {}).get("pooled") or {}).get("overall", {}).get("model")
    if ev["kind"] != "cv" or not metrics or "roc_auc_ci" not in metrics:
        metrics = metrics_of(y, p) | bootstrap_ci(y, p, ev["letters"], ("roc_auc", "average_precision", "brier"))
    keep = ("roc_auc", "average_precision", "brier")
    return {"source": ev["source"], "kind": ev["kind"], "n_items": int(len(y)), "n_letters": len(set(ev["letters"])),
            "n_overturned": int(y.sum()), "base_rate": round(float(y.mean()), 4),
            "metrics": {k: metrics.get(k) for k in keep} | {f"{k}_ci": metrics.get(f"{k}_ci") for k in keep},
            "brier_of_base_rate": round(float(y.mean() * (1 - y.mean())), 4),
            "top_fifth": top_fifth(y, p, ev["letters"], seed)}


def calibration(y, p) -> dict:
    """Calibration bins with their 95% intervals, and the mean prediction beside the observed rate."""
    bins = calibration_bins(y, p)
    return {"bins": bins, "mean_predicted": round(float(p.mean()), 4), "observed_rate": round(float(y.mean()), 4)}
