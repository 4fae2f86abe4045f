"""The report's plain words: the findings a claims manager should take away and the caveats
that go with them, from the report's content (`imr_ml.reporting.report_data`).

Words match numbers: every figure carries its interval and its n; a finding is headlined only
when the model learnt it (an effect that fired on fewer than `MIN_LEARNT` training items is the
guideline's prior, and the report says so where it lists effects); the comparison with the
category rates and the built-in model is a paired difference on the same letters; and a
figure measured on synthetic letters, or on the letters the knowledge was developed on, says so.
"""

from __future__ import annotations

import math

from imr_ml.knowledge.provenance import DEVELOPMENT_LETTERS, developed_on
from imr_ml.modeling.evaluation.metrics import wilson_interval
from imr_ml.scoring.findings import MIN_LEARNT

MIN_OVERTURNED_FOR_METRICS = 5  # fewer overturned items in a category: its metrics are noise
N_FINDINGS = 7
METRIC_WORDS = {"roc_auc": "ROC AUC", "average_precision": "average precision", "brier": "Brier score"}


def pct(x: float) -> str:
    """A share as a readable percentage: whole percents, one decimal below 10%."""
    return f"{100 * x:.0f}%" if x >= 0.1 or x == 0 else f"{100 * x:.1f}%"


def interval(ci, fmt=pct) -> str:
    """' (95% interval a to b)', or nothing without an interval."""
    return f" (95% interval {fmt(ci[0])} to {fmt(ci[1])})" if ci else ""


def signed(x: float, ci) -> str:
    """A difference with its interval: '+0.12 [-0.03, +0.25]'."""
    return f"{x:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")


def findings(d: dict) -> list[str]:
    """The things a claims manager should take away, in plain words, at most `N_FINDINGS`."""
    perf = d.get("performance")
    out = _measured(d) if perf else [
        "No measured performance: " + ("the built-in model has learnt nothing from letters; it is the "
                                       "published category rates moved by guideline rules." if d["builtin"] else
                                       "the model was trained without cross-validation and no held-out corpus "
                                       "was given (--corpus).")]
    out += _effect_findings(d)
    cats = [c for c in d.get("categories") or [] if c["n_overturned"] >= MIN_OVERTURNED_FOR_METRICS]
    if cats:
        c = max(cats, key=lambda c: c["observed_rate"])
        lo, hi = c["observed_ci"]
        out.append(f"{c['label']} is overturned most often: {c['n_overturned']} of {c['n_items']} "
                   f"({pct(c['observed_rate'])}; 95% interval {pct(lo)} to {pct(hi)}).")
    if perf and perf["n_overturned"] < 100:
        out.append(f"Only {perf['n_overturned']} overturned items were measured, so every figure here is uncertain: "
                   "read the intervals.")
    elif not perf:
        known = d["knowledge"]
        out.append(f"It knows {len(known['rules'])} guideline rules (with citations) and the overturn rates of "
                   f"{len(known['categories'])} treatment categories.")
    return out[:N_FINDINGS]


def _measured(d: dict) -> list[str]:
    """Ranking against the baselines, the top fifth, the flag and calibration."""
    perf = d["performance"]
    m = perf["metrics"]
    out = [f"It ranks a random overturned request above a random upheld one {pct(m['roc_auc'])} of the time"
           + interval(m.get("roc_auc_ci")) + "; chance is 50%." + _versus_words(d.get("versus") or [])]
    tf = perf.get("top_fifth")
    if tf:
        out.append(f"The fifth of requests it scores highest ({tf['n_items']}) were overturned {pct(tf['rate'])} "
                   f"of the time, {tf['lift']:.1f}× the overall {pct(tf['base_rate'])}"
                   + interval(tf.get("lift_ci"), lambda x: f"{x:.1f}×")
                   + f", and hold {pct(tf['share_of_overturns'])} of all {tf['n_overturned']} overturns.")
    flag = next((o for o in d.get("operating_points") or [] if o["name"] == "the model's flag"), None)
    if flag and flag["flagged"]:
        out.append(f"Flagging requests at P ≥ {pct(flag['threshold'])} (the model's operating point, not a verdict): "
                   f"{flag['flagged']} of {flag['n_items']} flagged, {pct(flag['precision'])} of them overturned"
                   + interval(flag["precision_interval"]) + f"; {pct(flag['recall'])} of the "
                   f"{flag['n_overturned']} overturns flagged" + interval(flag["recall_interval"]) + ".")
    out.append(_calibration_finding(d["calibration"], perf))
    return out


def _versus_words(versus: list[dict]) -> str:
    """' Against X (same letters): ROC AUC +0.12 [..]; ...' for each baseline."""
    parts = []
    for v in versus:
        dv = v["diff"]["roc_auc"]
        if dv["value"] is None:
            continue
        parts.append(f"the {v['label']} score {pct(v['metrics']['roc_auc'])}, a difference of "
                     f"{signed(dv['value'], dv['ci'])}")
    return (" On the same letters, " + "; ".join(parts) + " (model minus baseline, 95% interval).") if parts else ""


def _effect_findings(d: dict) -> list[str]:
    """The strongest effect each way among those backed by enough training items, with what the
    guideline said and what the letters changed; effects resting on fewer items are never headlined."""
    learnt = [e for e in d["effects"] if e["learnt"]]
    out = []
    for what, es in (("an overturn", [e for e in learnt if e["coef"] > 0]),
                     ("an upheld denial", [e for e in learnt if e["coef"] < 0])):
        if not es:
            continue
        e = es[0]
        ci = e["odds_ratio_ci"]
        if e["group"] == "rule":
            source = (f"the guideline's prior ×{_odds(e['prior'])}, and the letters' adjustment {e['adjustment']:+.2f} "
                      f"in log-odds from the {e['n_items']} training items it applied to")
            if e["status"].startswith("the letters disagree"):
                source += ": the letters disagree with the guideline here"
        else:
            source = f"learnt from the letters: {e['n_items']} training items, no guideline rule"
        out.append(f"Strongest effect toward {what} (of those backed by at least {MIN_LEARNT} training items): "
                   f"{e['label']}: odds ×{e['odds_ratio']:.2f}"
                   + (f" (95% interval ×{ci[0]:.2f} to ×{ci[1]:.2f})" if ci else "") + f"; {source}.")
    if not out and d["effects"] and not d["builtin"]:
        out.append(f"No effect rests on {MIN_LEARNT} or more training items, so none is headlined: the effects listed "
                   "are the guidelines' priors.")
    return out


def _odds(logit: float) -> str:
    return f"{math.exp(logit):.2f}"


def _calibration_finding(cal: dict, perf: dict) -> str:
    """Whether the average prediction falls inside the 95% interval of the observed rate."""
    lo, hi = wilson_interval(perf["n_overturned"], perf["n_items"])
    said = (f"it predicted {pct(cal['mean_predicted'])} overturned on average and {pct(cal['observed_rate'])} were "
            f"(95% interval {pct(lo)} to {pct(hi)})")
    if lo <= cal["mean_predicted"] <= hi:
        return f"Its probabilities can be taken at face value on average: {said}."
    direction = "too high" if cal["mean_predicted"] > hi else "too low"
    return f"Its probabilities run {direction}: {said}; see the calibration chart before using them as odds."


def caveats(d: dict, ev: dict | None, corpus_synthetic: bool = False) -> list[str]:
    """What a reader must know before trusting the figures: synthetic letters, letters the
    knowledge was developed on, a threshold chosen on the predictions that measure it.

    Parameters
    ----------
    d : dict
        The report's content so far (``trained_on``, ``builtin``).
    ev : dict or None
        The evaluated predictions (letters hashed).
    corpus_synthetic : bool
        The held-out corpus is synthetic letters.

    Returns
    -------
    list of str
        Plain sentences, most important first.
    """
    out = []
    if (d["trained_on"] or {}).get("synthetic"):
        out.append("Synthetic data: the letters this model learnt from were generated by imr-ml synth with a known "
                   "truth, not real IMR decisions. Its figures show how well the method recovers that truth, not how "
                   "it does on real letters.")
    if ev and ev["kind"] == "corpus" and corpus_synthetic:
        out.append("The letters measured here are synthetic too (held out from the same generator).")
    if ev:
        k = developed_on(ev["letters"])
        if k:
            out.append(f"Optimistic: {k} of the {len(set(ev['letters']))} letters measured here are among the "
                       f"{len(DEVELOPMENT_LETTERS)} real letters the signal patterns and guideline rules were "
                       "developed on. No rule strength was fitted on them, but the knowledge was tuned where it is "
                       "measured, so expect lower figures on new letters.")
    if ev and ev["kind"] == "cv" and not d["builtin"]:
        out.append("The model's flag (operating point) was chosen on the same out-of-fold predictions that measure it "
                   "here, so its precision and recall are slightly optimistic.")
    return out
