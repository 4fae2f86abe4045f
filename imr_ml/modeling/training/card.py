"""The model card: what a trained model is, how it was measured, what it cannot do.

Written from the manifest alone (`model_card(manifest)`), so a card can be rebuilt from any
saved model directory. The weights shown are those of `imr_ml.modeling.estimator.model.ScoringModel.weights`.
Its two number formats (`fmt`, `fmt_ci`) are also those of `imr-ml train` and `evaluate`.
"""

from __future__ import annotations

from imr_ml.modeling.evaluation.metrics import METRICS


def fmt(summary: dict, metric: str, digits: int = 3) -> str:
    """'0.812 ± 0.041' for a `summarize_folds` entry.

    Parameters
    ----------
    summary : dict
        What `summarize_folds` returned.
    metric : str
        The metric shown.
    digits : int
        Decimals.

    Returns
    -------
    str
        '0.812' from one fold, '—' when undefined.
    """
    s = summary.get(metric) or {}
    if s.get("mean") is None:
        return "—"
    if s.get("sd") is None:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"


def fmt_ci(s: dict, metric: str, digits: int = 3, signed: bool = False) -> str:
    """'0.781 [0.69, 0.86]': a value and its interval.

    Parameters
    ----------
    s : dict
        A `metrics_of` result with ``<metric>_ci`` entries.
    metric : str
        The metric shown.
    digits : int
        Decimals of the value (one fewer for the interval).
    signed : bool
        Show the sign (for differences).

    Returns
    -------
    str
        '0.781' without an interval, '—' when undefined.
    """
    v, ci = s.get(metric), s.get(f"{metric}_ci")
    if v is None:
        return "—"
    sign = "+" if signed else ""
    out = f"{v:{sign}.{digits}f}"
    return out if not ci else f"{out} [{ci[0]:{sign}.{digits - 1}f}, {ci[1]:{sign}.{digits - 1}f}]"


def _num(x, d=3) -> str:
    return "—" if x is None else f"{x:.{d}f}"


def pooled_table(cv: dict, where: str) -> list[str]:
    """Card lines: one value per metric over all held-out items, with its letter-bootstrap interval.

    Parameters
    ----------
    cv : dict
        The manifest's ``cv`` (the estimate).
    where : str
        Which predictions, in words.

    Returns
    -------
    list of str
        Markdown lines (none without pooled scores).
    """
    overall = (cv.get("pooled") or {}).get("overall") or {}
    if not overall:
        return []
    lines = ["", f"On {where}, one value over all items, with its 95% interval from resampling whole "
             "letters (1,000 resamples):", "",
             "| model | " + " | ".join(METRICS) + " |", "|---|" + "---|" * len(METRICS)]
    return lines + [f"| {name} | " + " | ".join(fmt_ci(s, k) for k in METRICS) + " |" for name, s in overall.items()]


def _intro(m: dict) -> list[str]:
    """Title, intended use, data and the features."""
    d = m["data"]
    return [
        "# IMR outcome model — model card",
        "",
        f"Model file `model.skops`, sha256 `{{model_sha256}}`; imr-ml {m['imr_ml_version']}, "
        f"scikit-learn {m['versions']['scikit-learn']}. Training data fingerprint `{d['fingerprint_sha256'][:16]}…`.",
        "",
        "## Intended use",
        "",
        "Estimates the probability that a California workers' compensation Independent Medical Review "
        "will **overturn** (label 1) a utilization-review denial of one disputed treatment item, from facts "
        "known before the IMR decision. It is a triage and research aid: it does not give medical or legal "
        "advice, does not replace reading the MTUS/ODG guideline, and must not be used to deny care.",
        "",
        "## Data",
        "",
        f"- {d['n_letters']} letters, {d['n_items']} disputed items, {d['n_overturned']} overturned "
        f"(base rate {d['base_rate']:.1%}).",
        f"- Inputs: {', '.join(d['inputs']) or '(in memory)'}",
        "",
        "## Model",
        "",
        f"- Features from PRE_DECISION columns only ({m['features']['n_features']} features): "
        + ", ".join(f"`{c}`" for c in m["features"]["columns"]) + ".",
    ]


def _procedure(m: dict, streaming: bool) -> list[str]:
    """How the model was fitted and calibrated."""
    lines = []
    if streaming:
        lines.append(
            f"- Large-corpus (streaming) procedure, `imr_ml.modeling.training.streaming`: hashed TF-IDF (columns "
            f"named after their most frequent term), features computed once in parallel; logistic regression with "
            f"{m['hyperparameters']} shrunk toward the guideline priors, fitted once on the training letters; "
            "calibration "
            f"({m['calibration']['method']}, `CalibratedClassifierCV(FrozenEstimator(...))`) on held-out letters; "
            "measured on other held-out letters."
        )
    else:
        lines.append(
            f"- Logistic regression whose coefficients are shrunk toward the guideline knowledge "
            "(`features/guidelines.toml`: each rule's cited strength, the published category rates) instead of "
            f"toward zero; hyperparameters {m['hyperparameters']} chosen by "
            f"{m['options']['n_splits']}-fold cross-validation grouped by letter (stratified, so every fold holds "
            f"overturned items) on {m['options']['select_metric']}. The rare class is not reweighted: reweighting "
            "adds variance on a few hundred items and distorts the probabilities that calibration must then undo "
            "(pass class_weight='balanced' in the pipeline options to compare)."
        )
    if m["calibration"]["method"] != "none" and not streaming:
        lines.append(
            f"- Calibration: {m['calibration']['method']} map fitted on {m['calibration']['fitted_on']}; the "
            "classifier is then refitted on all rows (scikit-learn `CalibratedClassifierCV(ensemble=False)`). "
            "With a few hundred items a held-out calibration set would starve both fits; out-of-fold "
            "scores use every item once for calibration without letting it calibrate its own prediction. "
            "Sigmoid (2 parameters) rather than isotonic because there are few overturned items."
        )
    return lines


def _performance(cv: dict | None, streaming: bool) -> list[str]:
    """The measured performance: per-fold summary, pooled scores, reliability, categories."""
    lines = ["", "## Measured performance", ""]
    if cv:
        lines += [
            f"Protocol: {cv['protocol']}." if streaming else
            f"Protocol: {cv['protocol']} ({cv['n_folds']} test folds). Mean ± sd across folds; the whole "
            "procedure (selection + calibration) is refitted inside every training fold, so these are "
            "estimates for new letters like the training ones.",
            "",
            "| model | " + " | ".join(METRICS) + " |",
            "|---|" + "---|" * len(METRICS),
        ]
        for name, s in cv["summary"].items():
            lines.append(f"| {name} | " + " | ".join(fmt(s, k) for k in METRICS) + " |")
        where = "the measurement letters" if streaming else "the pooled out-of-fold predictions (first repeat)"
        lines += pooled_table(cv, where)
        lines += ["", f"Reliability on {where}:", "",
                  "| predicted bin | n | mean predicted | observed overturn rate |", "|---|---|---|---|"]
        for b in cv["reliability"]:
            lines.append(f"| {b['bin']} | {b['n']} | {b['mean_predicted']:.3f} | {b['observed_rate']:.3f} |")
        bycat = (cv.get("pooled") or {}).get("by_category", {}).get("model", {})
        if bycat:
            lines += ["", f"Per treatment category ({where}):", "",
                      "| category | n | overturned | ROC AUC | AP | Brier |", "|---|---|---|---|---|---|"]
            for c, s in bycat.items():
                lines.append(f"| {c} | {s['n_items']} | {s['n_overturned']} | {_num(s['roc_auc'])} | "
                             f"{_num(s['average_precision'])} | {_num(s['brier'])} |")
    else:
        lines.append("Not estimated (trained with the estimate step off). Run `imr-ml evaluate` on held-out letters.")
    return lines


def _baselines(streaming: bool) -> list[str]:
    """What the baselines are."""
    return [
        "",
        "Baselines, fitted on the same training rows and saved in `baselines/` (skops + JSON), so "
        "`imr-ml evaluate` compares them on any new data: `base_rate`; `category_prior` (training "
        "category rates smoothed toward the taxonomy's priors); `tfidf_lr` (TF-IDF of the summary + "
        "default LogisticRegression); `knowledge_only` (the built-in guideline model: nothing learnt from "
        "these rows); `data_only` (TF-IDF + signals + fields, logistic regression shrunk toward zero, "
        "uncalibrated: the data without the knowledge)."
        + (" Streaming procedure: `tfidf_lr` and `data_only` were fitted on a letter sample of the "
           "training rows (`imr_ml.modeling.training.streaming.BASELINE_ITEMS` items)." if streaming else ""),
        "",
    ]


def _weights(m: dict) -> list[str]:
    """The guideline rules' priors against their fitted weights, and the largest weights."""
    lines: list[str] = []
    if m.get("rule_updates"):
        lines += ["## Guideline rules: the prior, what the letters made of it", "",
                  "Each rule's strength (log-odds of an overturn) as `features/guidelines.toml` states it, the "
                  "coefficient after training, and how many training items the rule applied to (few items: "
                  "the prior stands).", "",
                  "| rule | prior | fitted | items | citation |", "|---|---|---|---|---|"]
        lines += [f"| {u['label']} | {u['prior']:+.2f} | {u['fitted']:+.2f} | {u['n_items']} | {u['citation']} |"
                  for u in m["rule_updates"]]
        lines.append("")
    if m.get("top_coefficients"):
        lines += ["## Largest coefficients (final pipeline, before calibration)", "",
                  "| feature | coefficient |", "|---|---|"]
        lines += [f"| `{t['feature']}` | {t['coef']:+.3f} |" for t in m["top_coefficients"][:15]]
        lines.append("")
    return lines


_CLOSING = [
    "## Leakage statement",
    "",
    "Only PRE_DECISION fields (`imr_ml.schema.PRE_DECISION`) are passed to the pipeline. The "
    "reviewer's rationale, cited guideline, specialty, decision and decision date are never features; "
    "`decision_date` is read only to order letters for `--split temporal`. Folds never separate the "
    "items of one letter. The summary restates the UR denial, which is known before the IMR.",
    "",
    "## Limitations",
    "",
    "- Small training data: the spread across folds is large; treat single-fold numbers as noise.",
    "- Letters come from one public source and period; other years, reviewers or layouts may differ.",
    "- Text extracted from PDFs may be imperfect; the category taxonomy is a regular-expression list.",
    "- Calibration holds on average for data like the training data, not for every subgroup.",
    "- A model file is tied to the scikit-learn version that saved it; loading refuses any other.",
    "",
]


def model_card(m: dict) -> str:
    """The model card of a trained model.

    Parameters
    ----------
    m : dict
        The model's manifest (as `train` builds it).

    Returns
    -------
    str
        Markdown; ``{model_sha256}`` is filled in when the model file is written.
    """
    streaming = m.get("procedure") == "streaming"
    lines = _intro(m) + _procedure(m, streaming) + _performance(m.get("cv"), streaming) + _baselines(streaming)
    return "\n".join(lines + _weights(m) + _CLOSING)
