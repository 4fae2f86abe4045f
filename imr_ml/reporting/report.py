"""The model report (`imr-ml report`): one self-contained HTML page a claims manager can read
without the code (what the model learnt from, how good it is with 95% intervals, what moves
outcomes, calibration, precision-recall, categories, the data), and the same content as JSON.

Performance comes from labelled items the model did not see: a held-out `--corpus`, or else
the out-of-fold predictions of the training cross-validation (`cv_predictions.json` in the
model directory). The built-in model has neither: its report shows its knowledge instead.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from imr_ml.schema import GROUP_TITLES

PERMUTATION_REPEATS = 5
Z95 = 1.959963984540054
MIN_OVERTURNED_FOR_METRICS = 5  # fewer overturned items in a category: its metrics are noise
N_EFFECTS = 15
OVERTURN, UPHOLD, NEUTRAL = "#c44e52", "#4c72b0", "#8c8c8c"


# ----------------------------------------------------------------------------- numbers


def effects(loaded, applied: dict[str, int] | None = None) -> list[dict]:
    """Guideline-rule and signal coefficients (log-odds of one finding, all else equal) with
    95% intervals from the classifier's posterior covariance, as odds ratios too; the
    strongest first. `applied`: how many items each feature fired on."""
    from imr_ml.modeling.model import fitted_pipeline, scoring_model
    from imr_ml.scoring.explanation import feature_label

    clf = fitted_pipeline(loaded.model)[-1]
    coefs = scoring_model(loaded.model).weights()
    cov = getattr(clf, "covariance_", None)
    sd = None if cov is None else np.sqrt(np.diag(cov)[1:] if np.ndim(cov) == 2 else np.asarray(cov)[1:])
    priors = {f"rule__{r['rule']}": r for r in loaded.manifest.get("rule_updates") or []}
    priors.update({f"rule__{r['name']}": {"prior": r["strength"], "n_items": None} for r in loaded.manifest.get("rules") or []})
    out = []
    for j, (name, coef) in enumerate(coefs.items()):
        if not name.startswith(("rule__", "signal__")) or coef == 0:
            continue
        ci = None if sd is None else [coef - Z95 * sd[j], coef + Z95 * sd[j]]
        prior = priors.get(name, {})
        out.append({"feature": name, "label": feature_label(name), "group": name.split("__")[0],
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
    from sklearn.metrics import roc_auc_score

    from imr_ml.featurize import feature_groups
    from imr_ml.modeling.model import fitted_pipeline

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
    from imr_ml.modeling.model import scoring_model

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
            "lift": round(float(y[top].mean() / y.mean()), 2), "share_of_overturns": round(float(y[top].sum() / y.sum()), 4)}


def per_category(cats, y, p) -> list[dict]:
    """Per treatment category: items, overturns, observed rate with its 95% interval, the
    published (or assumed) rate, the mean prediction and the top-fifth lift; the metrics are
    None when the category has fewer than MIN_OVERTURNED_FOR_METRICS overturned items."""
    from imr_ml.modeling.metrics import wilson_interval

    cats = np.asarray(cats)
    knowledge = {c["category"]: c for c in category_knowledge()}
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


def category_knowledge() -> list[dict]:
    """Each treatment category's overturn rate from the taxonomy and where it comes from."""
    from imr_ml.knowledge.taxonomy import load_taxonomy, load_toml

    sources = {c["name"]: c.get("uphold_source", "") for c in load_toml("taxonomy.toml")["category"]}
    return [{"category": c.name, "label": c.label, "rate": round(1 - c.uphold_prior, 4),
             "source": sources.get(c.name, "")} for c in load_taxonomy()]


def rule_knowledge(loaded) -> list[dict]:
    """Every guideline rule: plain label, prior strength, fitted value (trained models),
    training items it applied to and its citation."""
    from imr_ml.knowledge.guidelines import load_guidelines

    fitted = {r["rule"]: r for r in loaded.manifest.get("rule_updates") or []}
    return [{"rule": r.name, "label": r.label, "prior": r.strength, "fitted": fitted.get(r.name, {}).get("fitted"),
             "n_items": fitted.get(r.name, {}).get("n_items"), "citation": r.citation}
            for r in load_guidelines().rules]


# ----------------------------------------------------------------------------- assembling


def build_report(loaded, rows: list[dict] | None = None, seed: int = 0, corpus_name: str | None = None) -> dict:
    """Everything the report shows, plots included (PNG data URIs under `plots`)."""
    from imr_ml.modeling.builtin import is_builtin

    m = loaded.manifest
    data = {"model": {"path": str(loaded.path), "kind": m.get("kind"), "sha256": m.get("model_sha256"),
                      "procedure": m.get("procedure"), "threshold": (m.get("threshold") or {}).get("value")},
            "builtin": is_builtin(str(loaded.path)),
            "trained_on": {k: v for k, v in (m.get("data") or {}).items() if k != "letter_hashes"},
            "knowledge": {"rules": rule_knowledge(loaded), "categories": category_knowledge()}}
    evaluated = _evaluated(loaded, rows, corpus_name)
    applied = None
    if evaluated and evaluated.get("X") is not None:
        applied = applied_counts(loaded.model, evaluated["X"])
        data["permutation_importance"] = permutation_importance_by_group(
            loaded.model, evaluated["X"], evaluated["y"], seed)
    data["effects"] = shown_effects(effects(loaded, applied))
    if evaluated:
        y, p = evaluated["y"], evaluated["p"]
        data["performance"] = _performance(loaded, evaluated)
        data["calibration"] = _calibration(y, p)
        data["categories"] = per_category(evaluated["category"], y, p)
    data["findings"] = findings(data)
    data["plots"] = plots(data, evaluated)
    return data


def _evaluated(loaded, rows, corpus_name) -> dict | None:
    """Labelled predictions the model did not train on: the corpus given, else the training
    CV's out-of-fold predictions, else None."""
    from imr_ml.featurize import to_frame
    from imr_ml.modeling.data import canonical_rows, labels
    from imr_ml.modeling.modelio import load_cv_predictions

    rows = canonical_rows(rows or [])
    if rows:
        from imr_ml.modeling.baselines import categories

        X = to_frame(rows)
        return {"source": f"the held-out corpus {corpus_name or ''}".rstrip(), "kind": "corpus", "X": X,
                "y": labels(rows), "p": loaded.model.predict_proba(X)[:, 1], "category": categories(X),
                "letters": [str(r["letter_id"]) for r in rows]}
    cv = load_cv_predictions(loaded)
    if not cv or not cv["y"]:
        return None
    return {"source": "out-of-fold predictions of the training cross-validation (each item scored by a model "
                      "that did not see its letter)", "kind": "cv", "X": None,
            "y": np.asarray(cv["y"], dtype=int), "p": np.asarray(cv["p"], dtype=float),
            "category": cv["category"], "letters": cv["letter"]}


def _performance(loaded, ev: dict) -> dict:
    """Headline metrics with 95% letter-bootstrap intervals (the manifest's own for the CV)."""
    from imr_ml.modeling.bootstrap import bootstrap_ci
    from imr_ml.modeling.metrics import score

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


def _calibration(y, p) -> dict:
    from imr_ml.modeling.metrics import calibration_bins

    bins = calibration_bins(y, p)
    return {"bins": bins, "mean_predicted": round(float(p.mean()), 4), "observed_rate": round(float(y.mean()), 4)}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if x >= 0.1 or x == 0 else f"{100 * x:.1f}%"


def findings(d: dict) -> list[str]:
    """The five things a claims manager should take away, in plain words."""
    out = []
    perf = d.get("performance")
    if perf:
        m = perf["metrics"]
        ci = m.get("roc_auc_ci")
        out.append(f"It ranks a random overturned request above a random upheld one {_pct(m['roc_auc'])} of the time"
                   + (f" (95% interval {_pct(ci[0])} to {_pct(ci[1])})" if ci else "") + "; chance is 50%.")
        tf = perf.get("top_fifth")
        if tf:
            out.append(f"The fifth of requests it scores highest were overturned {_pct(tf['rate'])} of the time, "
                       f"{tf['lift']:.1f}× the overall {_pct(tf['base_rate'])}, and hold {_pct(tf['share_of_overturns'])} "
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
                       + (f", 95% interval ×{e['odds_ratio_ci'][0]:.2f} to ×{e['odds_ratio_ci'][1]:.2f}" if e["odds_ratio_ci"] else "")
                       + ").")
    cats = [c for c in d.get("categories") or [] if c["n_overturned"] >= MIN_OVERTURNED_FOR_METRICS]
    if cats:
        c = max(cats, key=lambda c: c["observed_rate"])
        out.append(f"{c['label']} is overturned most often: {c['n_overturned']} of {c['n_items']} "
                   f"({_pct(c['observed_rate'])}).")
    n_over = (perf or {}).get("n_overturned", 0)
    if perf and n_over < 100:
        out.append(f"Only {n_over} overturned items were measured, so every figure here is uncertain: read the intervals.")
    elif not perf:
        known = d["knowledge"]
        out.append(f"It knows {len(known['rules'])} guideline rules (with citations) and the overturn rates of "
                   f"{len(known['categories'])} treatment categories.")
    return out[:5]


def _calibration_finding(cal: dict, perf: dict) -> str:
    """Whether the average prediction falls inside the 95% interval of the observed rate."""
    from imr_ml.modeling.metrics import wilson_interval

    lo, hi = wilson_interval(perf["n_overturned"], perf["n_items"])
    said = f"it predicted {_pct(cal['mean_predicted'])} overturned on average and {_pct(cal['observed_rate'])} were"
    if lo <= cal["mean_predicted"] <= hi:
        return f"Its probabilities can be taken at face value on average: {said}."
    direction = "too high" if cal["mean_predicted"] > hi else "too low"
    return f"Its probabilities run {direction}: {said}; see the calibration chart before using them as odds."


# ----------------------------------------------------------------------------- plots


def plots(d: dict, ev: dict | None) -> dict[str, str]:
    """{name: PNG data URI} of every plot the report has data for."""
    import matplotlib

    matplotlib.use("Agg")
    out = {}
    if d["effects"]:
        out["effects"] = _effects_plot(d["effects"])
    if d.get("permutation_importance", {}).get("groups"):
        out["permutation"] = _permutation_plot(d["permutation_importance"])
    if ev:
        out["calibration"] = _calibration_plot(d["calibration"])
        out["precision_recall"] = _pr_plot(ev["y"], ev["p"], d["performance"])
        out["categories"] = _categories_plot(d["categories"])
    elif d["knowledge"]["categories"]:
        out["category_rates"] = _category_rates_plot(d["knowledge"]["categories"])
    if not d["builtin"]:
        out["rules"] = _rules_plot(d["knowledge"]["rules"])
        counts = ((d["trained_on"] or {}).get("profile") or {}).get("categories")
        if counts:
            out["data"] = _data_plot(counts, d["knowledge"]["categories"])
    return out


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _effects_plot(es: list[dict]) -> str:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    fig, ax = plt.subplots(figsize=(11, 0.35 * len(es) + 1.3))
    yy = np.arange(len(es))
    for i, e in enumerate(es):
        colour = OVERTURN if e["coef"] > 0 else UPHOLD
        lo, hi = e["odds_ratio_ci"] or (e["odds_ratio"], e["odds_ratio"])
        ax.plot([lo, hi], [i, i], color=colour, lw=2, alpha=0.5)
        ax.plot(e["odds_ratio"], i, "o", color=colour)
    ax.axvline(1, color=NEUTRAL, lw=1, ls="--")
    ax.set_xscale("log")
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"×{t:g}" for t in ticks])
    ax.set_yticks(yy, [_short(e["label"].removeprefix("guideline: "), 80) for e in es], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("odds of overturn multiplied by (95% interval); right of ×1: towards overturn")
    ax.set_title("What moves outcomes: guideline rules and signals")
    return _png(fig)


def _permutation_plot(pi: dict) -> str:
    import matplotlib.pyplot as plt

    groups = pi["groups"]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    names = list(groups)
    ax.barh([groups[g]["title"] for g in names], [groups[g]["auc_drop_mean"] for g in names],
            xerr=[Z95 * groups[g]["auc_drop_sd"] for g in names], color="#8172b2")
    ax.invert_yaxis()
    ax.set_xlabel("ranking accuracy (ROC AUC) lost when the group is scrambled")
    ax.set_title("Which kinds of evidence the ranking relies on")
    return _png(fig)


def _calibration_plot(cal: dict) -> str:
    import matplotlib.pyplot as plt

    bins = cal["bins"]
    top = max(max(b["observed_ci"][1] for b in bins), max(b["p_to"] for b in bins)) * 1.08
    fig, ax = plt.subplots(figsize=(5.5, 4.6))
    ax.plot([0, top], [0, top], ls="--", color=NEUTRAL, lw=1, label="perfect calibration")
    x = [b["mean_predicted"] for b in bins]
    yv = [b["observed_rate"] for b in bins]
    err = [[b["observed_rate"] - b["observed_ci"][0] for b in bins], [b["observed_ci"][1] - b["observed_rate"] for b in bins]]
    ax.errorbar(x, yv, yerr=err, fmt="o", color=OVERTURN, capsize=3, label="observed (95% interval)")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="predicted chance of overturn (bin average)",
           ylabel="share actually overturned", title="Calibration: do the probabilities hold?")
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def _pr_plot(y, p, perf: dict) -> str:
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    prec, rec, _ = precision_recall_curve(y, p)
    fig, ax = plt.subplots(figsize=(5.5, 4.6))
    ax.step(rec, prec, where="post", color="#55a868", label="model")
    ax.axhline(y.mean(), ls="--", color=NEUTRAL, lw=1, label=f"base rate {_pct(float(y.mean()))} (no model)")
    ap = perf["metrics"]["average_precision"]
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="share of all overturns found (recall)",
           ylabel="share of flagged that were overturned (precision)",
           title=f"Precision-recall (average precision {ap:.2f})")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


def _categories_plot(cats: list[dict]) -> str:
    import matplotlib.pyplot as plt

    cats = cats[:15]
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(cats) + 1.8))
    yy = np.arange(len(cats))
    for i, c in enumerate(cats):
        lo, hi = c["observed_ci"]
        ax.plot([lo, hi], [i, i], color="#937860", lw=2, alpha=0.5)
        ax.plot(c["observed_rate"], i, "o", color="#937860", label="observed (95% interval)" if i == 0 else None)
        if c["mean_predicted"] is not None:
            ax.plot(c["mean_predicted"], i, "x", color=UPHOLD, label="model's average prediction" if i == 0 else None)
        if c["published_rate"] is not None:
            ax.plot(c["published_rate"], i, "|", color=NEUTRAL, ms=12, label="published or assumed rate" if i == 0 else None)
    ax.set_yticks(yy, [f"{_short(c['label'], 50)} ({c['n_overturned']}/{c['n_items']})" for c in cats], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share overturned")
    ax.set_title("Overturn rate by treatment category (overturned/items)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    return _png(fig)


def _category_rates_plot(known: list[dict]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.32 * len(known) + 1.2))
    colours = ["#937860" if k["source"].startswith("published") else "#cccccc" for k in known]
    ax.barh([_short(k["label"], 45) for k in known], [k["rate"] for k in known], color=colours)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("overturn rate the model starts from (brown: published DWC/CWCI figure; grey: assumed)")
    ax.set_title("Category rates the model knows")
    return _png(fig)


def _rules_plot(rules: list[dict]) -> str:
    import matplotlib.pyplot as plt

    rules = sorted((r for r in rules if r["fitted"] is not None), key=lambda r: -abs(r["fitted"] - r["prior"]))[:15]
    fig, ax = plt.subplots(figsize=(11, 0.35 * len(rules) + 1.6))
    for i, r in enumerate(rules):
        ax.annotate("", (r["fitted"], i), (r["prior"], i), arrowprops={"arrowstyle": "->", "color": NEUTRAL})
        ax.plot(r["prior"], i, "o", mfc="white", color="#555555", label="guideline's prior strength" if i == 0 else None)
        ax.plot(r["fitted"], i, "o", color=OVERTURN if r["fitted"] > 0 else UPHOLD,
                label="after learning from the letters" if i == 0 else None)
    ax.axvline(0, color=NEUTRAL, lw=1)
    ax.set_yticks(np.arange(len(rules)), [f"{_short(r['label'], 80)} ({r['n_items'] or 0})" for r in rules], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("log-odds of overturn (right: towards overturn); (n) = training items the rule applied to")
    ax.set_title("Guideline rules the letters moved most")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return _png(fig)


def _data_plot(counts: dict, known: list[dict]) -> str:
    import matplotlib.pyplot as plt

    labels = {k["category"]: k["label"] for k in known}
    items = list(counts.items())[:15]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(items) + 1.2))
    ax.barh([_short(labels.get(c, c), 45) for c, _ in items], [n for _, n in items], color="#64b5cd")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("training items")
    ax.set_title("The data the model learnt from, by treatment category")
    return _png(fig)


# ----------------------------------------------------------------------------- output


def report_json(d: dict) -> dict:
    """The report as data: every section, the plots named rather than embedded."""
    return {k: v for k, v in d.items() if k != "plots"} | {"plots": sorted(d["plots"])}


def write_report(d: dict, html_path: Path, json_path: Path | None = None) -> None:
    """Write the page (and the JSON), each atomically, the page last: a run that fails
    before leaves both as they were."""
    from imr_ml.textio import atomic_write_text, to_json

    page = _html(d)
    if json_path:
        atomic_write_text(to_json(report_json(d)), json_path)
    atomic_write_text(page, html_path)


def _esc(v) -> str:
    return html.escape(str(v))


def _ci(v, ci, pct: bool = False, digits: int = 2) -> str:
    """'0.78 [0.63, 0.88]' (or in percent): a value and its 95% interval."""
    f = _pct if pct else (lambda x: f"{x:.{digits}f}")
    if v is None:
        return "—"
    return f(v) + (f" [{f(ci[0])}, {f(ci[1])}]" if ci else "")


def _table(head: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p class='muted'>(none)</p>"
    th = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_esc('—' if c is None else c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _img(d: dict, name: str, alt: str) -> str:
    return f"<img src='{d['plots'][name]}' alt='{_esc(alt)}'>" if name in d["plots"] else ""


CSS = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}"
       "h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}"
       ".summary{background:#f6f8fa;border:1px solid #d0d7de;border-radius:8px;padding:.8em 1.2em}"
       ".kpis{display:flex;gap:.8em}.kpi{flex:1;background:#fff;border:1px solid #d0d7de;border-radius:6px;"
       "padding:.5em .8em}.kpi b{font-size:1.25em;display:block;white-space:nowrap}.muted{color:#666;font-size:.9em}"
       "table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;"
       "text-align:left;vertical-align:top}th{background:#f0f0f0}img{max-width:100%;display:block;margin:.5em 0}"
       "nav a{margin-right:1em}")


def _html(d: dict) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>IMR overturn model: report</title>",
             f"<style>{CSS}</style></head><body>", "<h1>IMR overturn model: what it learnt and how good it is</h1>",
             f"<p class='muted'>Model <code>{_esc(d['model']['path'])}</code> ({_esc(d['model']['kind'] or '')}). "
             "It predicts whether an Independent Medical Review will overturn a utilization-review denial, "
             "from what is known before the decision: the clinical summary, the requested item, the other items, "
             "the claims administrator's cited guideline and the dates.</p>",
             "<nav><a href='#summary'>Summary</a><a href='#moves'>What moves outcomes</a>"
             + ("<a href='#calibration'>Calibration</a><a href='#pr'>Precision-recall</a><a href='#categories'>Categories</a>"
                if "performance" in d else "<a href='#knowledge'>Knowledge</a>")
             + "<a href='#data'>Data</a></nav>", _summary_html(d), _moves_html(d)]
    if "performance" in d:
        parts += [_calibration_html(d), _pr_html(d), _categories_html(d)]
    parts += [_knowledge_html(d), _data_html(d), "</body></html>"]
    return "\n".join(parts)


def _summary_html(d: dict) -> str:
    t = d["trained_on"] or {}
    perf = d.get("performance")
    if d["builtin"]:
        trained = ("Trained on <b>no letters</b>: it is the overturn rates (published by DWC/CWCI, or assumed where "
                   "none was published) of "
                   f"{len(d['knowledge']['categories'])} treatment categories moved by "
                   f"{len(d['knowledge']['rules'])} MTUS/ACOEM/ODG guideline rules. <b>It has no measured "
                   "performance</b>: give <code>--corpus</code> with labelled letters to measure it.")
    else:
        prof = t.get("profile") or {}
        dates = prof.get("decision_dates") or prof.get("ur_denial_dates")
        trained = (f"Trained on <b>{t.get('n_items', '?')} disputed items</b> from {t.get('n_letters', '?')} IMR letters, "
                   f"{t.get('n_overturned', '?')} overturned ({_pct(t.get('base_rate') or 0)})"
                   + (f", decided {_esc(dates[0])} to {_esc(dates[1])}" if dates else "")
                   + (f", in {len(prof['categories'])} treatment categories and {len(prof['layouts'])} letter layout(s) "
                      f"({_esc(', '.join(prof['layouts']))})" if prof.get("categories") else "") + ".")
    kpis = ""
    if perf:
        m = perf["metrics"]
        tf = perf.get("top_fifth") or {}
        kpis = ("<div class='kpis'>"
                f"<div class='kpi'>Ranking (ROC AUC)<b>{_ci(m['roc_auc'], m.get('roc_auc_ci'))}</b>"
                "<span class='muted'>0.5 = chance, 1 = perfect</span></div>"
                f"<div class='kpi'>Average precision<b>{_ci(m['average_precision'], m.get('average_precision_ci'))}</b>"
                f"<span class='muted'>base rate {_pct(perf['base_rate'])} = no skill</span></div>"
                f"<div class='kpi'>Brier score<b>{_ci(m['brier'], m.get('brier_ci'), digits=3)}</b>"
                f"<span class='muted'>lower is better; base rate alone {perf['brier_of_base_rate']:.3f}</span></div>"
                + (f"<div class='kpi'>Top fifth overturned<b>{_pct(tf['rate'])}</b><span class='muted'>"
                   f"{tf['lift']:.1f}× the base rate</span></div>" if tf else "") + "</div>"
                f"<p class='muted'>Measured on {perf['n_items']} items ({perf['n_overturned']} overturned, "
                f"{perf['n_letters']} letters) from {_esc(perf['source'])}. Square brackets: 95% interval from "
                "resampling whole letters.</p>")
    finds = "".join(f"<li>{_esc(f)}</li>" for f in d["findings"])
    return (f"<section id='summary' class='summary'><h2 style='margin-top:.3em'>Executive summary</h2><p>{trained}</p>"
            f"{kpis}<h3>What matters</h3><ol>{finds}</ol></section>")


def _moves_html(d: dict) -> str:
    rows = [[e["label"], GROUP_TITLES.get(e["group"], e["group"]),
             f"×{e['odds_ratio']:.2f}" + (f" [{e['odds_ratio_ci'][0]:.2f}, {e['odds_ratio_ci'][1]:.2f}]" if e["odds_ratio_ci"] else ""),
             e["n_items"]][: 3 if d["builtin"] else 4] for e in d["effects"]]
    where = "items of the corpus" if "permutation_importance" in d else "training items"
    parts = ["<h2 id='moves'>What moves outcomes</h2>",
             "<p>Each line is one finding: how it multiplies the odds of an overturn when everything else about the "
             "request is the same (right of 1: more overturns), with its 95% interval. "
             + ("For the built-in model the interval is the width of the guideline prior, not a measurement." if d["builtin"]
                else "Intervals come from the model's posterior (the guideline prior combined with the letters).") + "</p>",
             _img(d, "effects", "effects of guideline rules and signals"),
             _table(["finding", "kind", "odds multiplied by [95% interval]", f"{where} it applied to"][: len(rows[0]) if rows else 4], rows)]
    pi = d.get("permutation_importance")
    if pi and pi.get("groups"):
        parts += [_img(d, "permutation", "permutation importance"),
                  "<p>The effects above say how much a finding moves <i>one</i> request; the bars say how much the "
                  "model's ranking of these items depends on a whole kind of evidence (scrambled across items, "
                  "5 times; error bar ±1.96 sd). They can order things differently: a strong rule that applies to "
                  "few requests moves those a lot but the ranking of all items little, while a weak signal found in "
                  "many summaries can matter more overall.</p>"]
    return "\n".join(parts)


def _calibration_html(d: dict) -> str:
    rows = [[f"{_pct(b['p_from'])}–{_pct(b['p_to'])}", b["n"], b["n_overturned"], _pct(b["mean_predicted"]),
             _ci(b["observed_rate"], b["observed_ci"], pct=True)] for b in d["calibration"]["bins"]]
    return "\n".join([
        "<h2 id='calibration'>Calibration</h2>",
        "<p>Items are grouped by predicted chance (equal-sized groups of at least 40, so each group is worth "
        "reading), zoomed to the range the model actually predicts. A point on the dashed line means "
        "\"of the requests given about 20%, about 20% were overturned\"; the bars are 95% intervals.</p>",
        _img(d, "calibration", "calibration"),
        _table(["predicted range", "items", "overturned", "average prediction", "observed [95% interval]"], rows)])


def _pr_html(d: dict) -> str:
    return ("<h2 id='pr'>Precision-recall</h2><p>If you flag every request above a cut-off, how many of the "
            "flagged were overturned (precision) and what share of all overturns you caught (recall). The dashed "
            "line is what flagging at random gives.</p>" + _img(d, "precision_recall", "precision-recall curve"))


def _categories_html(d: dict) -> str:
    rows = [[c["label"], c["n_items"], c["n_overturned"], _ci(c["observed_rate"], c["observed_ci"], pct=True),
             None if c["published_rate"] is None else _pct(c["published_rate"]),
             None if c["mean_predicted"] is None else _pct(c["mean_predicted"]),
             "too few overturned to measure" if c["top_fifth_lift"] is None and c["n_overturned"] < MIN_OVERTURNED_FOR_METRICS
             else (None if c["top_fifth_lift"] is None else f"{c['top_fifth_lift']:.1f}×")] for c in d["categories"]]
    return "\n".join([
        "<h2 id='categories'>By treatment category: base rates and model lift</h2>",
        f"<p>Lift: how much more often the fifth of a category's requests the model scores highest were overturned "
        f"than the category as a whole. Model figures are left out for categories with fewer than "
        f"{MIN_OVERTURNED_FOR_METRICS} overturned items.</p>",
        _img(d, "categories", "overturn rate by category"),
        _table(["category", "items", "overturned", "observed rate [95% interval]", "published/assumed rate",
                "model's average", "top-fifth lift"], rows)])


def _knowledge_html(d: dict) -> str:
    k = d["knowledge"]
    rules = [[r["label"], f"{r['prior']:+.2f}"] + ([None if r["fitted"] is None else f"{r['fitted']:+.2f}", r["n_items"]]
                                                  if not d["builtin"] else []) + [r["citation"]] for r in k["rules"]]
    head = ["guideline rule", "prior strength (log-odds)"] + (["after the letters", "training items"] if not d["builtin"] else []) + ["citation"]
    cats = [[c["label"], _pct(c["rate"]), c["source"]] for c in k["categories"]]
    return "\n".join([
        "<h2 id='knowledge'>What the model knows before any letter</h2>",
        "<p>Guideline rules (MTUS, ACOEM, ODG): positive strength makes an overturn more likely when the rule "
        "applies. " + ("" if d["builtin"] else "Training moves each rule from its prior as far as the letters warrant.") + "</p>",
        _img(d, "rules", "rules moved by the letters"), _img(d, "category_rates", "category rates"),
        _table(head, rules),
        "<h3>Category overturn rates and their sources</h3>", _table(["category", "overturn rate", "source"], cats)])


def _data_html(d: dict) -> str:
    t = d["trained_on"] or {}
    if d["builtin"]:
        return ("<h2 id='data'>The data the model saw</h2><p>None: the built-in model was not fitted on any letter "
                "(files features/guidelines.toml and features/taxonomy.toml).</p>")
    prof = t.get("profile") or {}
    labels = {c["category"]: c["label"] for c in d["knowledge"]["categories"]}
    rows = [["letters", t.get("n_letters")], ["disputed items", t.get("n_items")], ["overturned", t.get("n_overturned")],
            ["IMR decision dates", " to ".join(prof["decision_dates"]) if prof.get("decision_dates") else "not recorded"],
            ["UR denial dates", " to ".join(prof["ur_denial_dates"]) if prof.get("ur_denial_dates") else "not recorded"],
            ["letter layouts", ", ".join(f"{k} ({v})" for k, v in prof.get("layouts", {}).items()) or "not recorded"],
            ["training files", ", ".join(t.get("inputs") or []) or "—"], ["data fingerprint", t.get("fingerprint_sha256")]]
    cats = [[labels.get(c, c), n] for c, n in (prof.get("categories") or {}).items()]
    return "\n".join(["<h2 id='data'>The data the model saw</h2>", _table(["", ""], rows),
                      _img(d, "data", "training items by category"), _table(["treatment category", "training items"], cats)])
