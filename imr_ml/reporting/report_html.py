"""The report as one self-contained HTML page: a section per part of the report's content
(`imr_ml.reporting.report_data`), its plots embedded (`imr_ml.reporting.plots`).

Every value that reaches the page passes `_esc` (or `_table`, which escapes each cell), numbers
included: they come from a model directory's manifest, which is a file anyone could edit. The
page also carries its own Content-Security-Policy (`page_csp`): no script, nothing loaded from
anywhere, only its own style block and its embedded images.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math

from imr_ml.reporting.report_words import MIN_OVERTURNED_FOR_METRICS, pct
from imr_ml.schema import GROUP_TITLES
from imr_ml.scoring.findings import DISAGREE, MIN_LEARNT


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _pct(v) -> str:
    return _esc(pct(v))


def page_csp(css: str) -> str:
    """A `<meta>` Content-Security-Policy for a self-contained page whose only style is the
    `<style>` block `css` (allowed by its hash) and whose only images are embedded (data:);
    no script of any kind, no fetch, no form, no base URL.

    Parameters
    ----------
    css : str
        The exact text of the page's one `<style>` element.

    Returns
    -------
    str
        The `<meta http-equiv>` element, to come before anything it governs.
    """
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
              "form-action 'none'")
    return f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\">"


def _ci(v, ci, as_pct: bool = False, digits: int = 2) -> str:
    """'0.78 [0.63, 0.88]' (or in percent): a value and its 95% interval, escaped."""
    f = pct if as_pct else (lambda x: f"{x:.{digits}f}")
    if v is None:
        return "—"
    return _esc(f(v) + (f" [{f(ci[0])}, {f(ci[1])}]" if ci else ""))


def _table(head: list[str], rows: list[list]) -> str:
    """A table; every header and cell is escaped here."""
    if not rows:
        return "<p class='muted'>(none)</p>"
    th = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_esc('—' if c is None else c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _img(d: dict, name: str, alt: str) -> str:
    return f"<img src='{_esc(d['plots'][name])}' alt='{_esc(alt)}'>" if name in d["plots"] else ""


CSS = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:1.5em auto;padding:0 1em;color:#222;"
       "line-height:1.45}"
       "h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}"
       ".summary{background:#f6f8fa;border:1px solid #d0d7de;border-radius:8px;padding:.8em 1.2em}"
       ".summary h2{margin-top:.3em}"
       ".kpis{display:flex;gap:.8em}.kpi{flex:1;background:#fff;border:1px solid #d0d7de;border-radius:6px;"
       "padding:.5em .8em}.kpi b{font-size:1.25em;display:block;white-space:nowrap}.muted{color:#666;font-size:.9em}"
       ".caveats{background:#fff8e1;border:1px solid #e0c36c;border-radius:6px;padding:.4em 1em;margin:.6em 0}"
       ".caveats li{margin:.2em 0}"
       "table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;"
       "text-align:left;vertical-align:top}th{background:#f0f0f0}img{max-width:100%;display:block;margin:.5em 0}"
       "nav a{margin-right:1em}")


def report_page(d: dict) -> str:
    """The whole page: one HTML file, plots embedded, every value escaped."""
    measured = "performance" in d
    parts = ["<!doctype html><html><head><meta charset='utf-8'>", page_csp(CSS),
             "<title>IMR overturn model: report</title>",
             f"<style>{CSS}</style></head><body>", "<h1>IMR overturn model: what it learnt and how good it is</h1>",
             f"<p class='muted'>Model <code>{_esc(d['model']['path'])}</code> ({_esc(d['model']['kind'] or '')}). "
             "It predicts whether an Independent Medical Review will overturn a utilization-review denial, "
             "from what is known before the decision: the clinical summary, the requested item, the other items, "
             "the claims administrator's cited guideline and the dates.</p>",
             "<nav><a href='#summary'>Summary</a><a href='#moves'>What moves outcomes</a>"
             + ("<a href='#calibration'>Calibration</a><a href='#pr'>Flagging and precision-recall</a>"
                "<a href='#categories'>Categories</a>" if measured else "<a href='#knowledge'>Knowledge</a>")
             + ("<a href='#rule-outcomes'>Rules against outcomes</a>" if "rule_outcomes" in d else "")
             + "<a href='#data'>Data</a></nav>", _summary_html(d), _moves_html(d)]
    if measured:
        parts += [_calibration_html(d), _pr_html(d), _categories_html(d)]
    if "rule_outcomes" in d:
        parts.append(_rule_outcomes_html(d["rule_outcomes"]))
    parts += [_knowledge_html(d), _data_html(d), "</body></html>"]
    return "\n".join(parts)


def _trained_html(d: dict) -> str:
    """Who the model learnt from, in one sentence (synthetic letters named as such)."""
    t = d["trained_on"] or {}
    if d["builtin"]:
        return ("Trained on <b>no letters</b>: it is the overturn rates (published by DWC/CWCI, or assumed where "
                f"none was published) of {_esc(len(d['knowledge']['categories']))} treatment categories moved by "
                f"{_esc(len(d['knowledge']['rules']))} MTUS/ACOEM/ODG guideline rules. <b>It has no measured "
                "performance</b>" + ("" if "performance" in d else
                                     ": give <code>--corpus</code> with labelled letters to measure it") + ".")
    prof = t.get("profile") or {}
    dates = prof.get("decision_dates") or prof.get("ur_denial_dates")
    kind = "<b>synthetic</b> letters (generated, not real decisions)" if t.get("synthetic") else "IMR letters"
    return (f"Trained on <b>{_esc(t.get('n_items', '?'))} disputed items</b> from {_esc(t.get('n_letters', '?'))} "
            f"{kind}, {_esc(t.get('n_overturned', '?'))} overturned ({_pct(t.get('base_rate') or 0)})"
            + (f", decided {_esc(dates[0])} to {_esc(dates[1])}" if dates else "")
            + (f", in {_esc(len(prof['categories']))} treatment categories and {_esc(len(prof['layouts']))} letter "
               f"layout(s) ({_esc(', '.join(prof['layouts']))})" if prof.get("categories") else "") + ".")


def _kpis_html(perf: dict) -> str:
    m = perf["metrics"]
    tf = perf.get("top_fifth") or {}
    base_brier = _esc(f"{perf['brier_of_base_rate']:.3f}")
    lift = _esc(f"{tf['lift']:.1f}× the base rate" + (f" [{tf['lift_ci'][0]:.1f}, {tf['lift_ci'][1]:.1f}]"
                                                     if tf.get("lift_ci") else "")) if tf else ""
    return ("<div class='kpis'>"
            f"<div class='kpi'>Ranking (ROC AUC)<b>{_ci(m['roc_auc'], m.get('roc_auc_ci'))}</b>"
            "<span class='muted'>0.5 = chance, 1 = perfect</span></div>"
            f"<div class='kpi'>Average precision<b>{_ci(m['average_precision'], m.get('average_precision_ci'))}</b>"
            f"<span class='muted'>base rate {_pct(perf['base_rate'])} = no skill</span></div>"
            f"<div class='kpi'>Brier score<b>{_ci(m['brier'], m.get('brier_ci'), digits=3)}</b>"
            f"<span class='muted'>lower is better; base rate alone {base_brier}"
            "</span></div>"
            + (f"<div class='kpi'>Top fifth overturned<b>{_pct(tf['rate'])}</b><span class='muted'>{lift}</span></div>"
               if tf else "") + "</div>"
            f"<p class='muted'>Measured on {_esc(perf['n_items'])} items ({_esc(perf['n_overturned'])} overturned, "
            f"{_esc(perf['n_letters'])} letters) from {_esc(perf['source'])}. Square brackets: 95% interval from "
            "resampling whole letters.</p>")


def _versus_html(d: dict) -> str:
    """The model against the baselines on the same letters: each baseline's figure and the
    paired difference with its interval."""
    versus = d.get("versus") or []
    if not versus:
        return ("<p class='muted'>No baseline predictions were kept with this model (trained without baselines or "
                "by an older imr-ml), so it is not compared with the category rates or the built-in model.</p>")
    m = d["performance"]["metrics"]
    rows = [["this model", _num(m["roc_auc"]), _num(m["average_precision"]), _num(m["brier"], 3), "", "", ""]]
    for v in versus:
        bm, diff = v["metrics"], v["diff"]
        rows.append([v["label"], _num(bm["roc_auc"]), _num(bm["average_precision"]), _num(bm["brier"], 3)]
                    + [_diff(diff[k]) for k in ("roc_auc", "average_precision", "brier")])
    return ("<h3>Against the category rates and the built-in model (same letters)</h3>"
            + _table(["predictor", "ROC AUC", "average precision", "Brier", "ROC AUC: model minus this [95%]",
                      "AP: model minus this [95%]", "Brier: model minus this [95%] (below 0: model better)"], rows)
            + "<p class='muted'>Differences are paired: the model and each baseline are scored on the same "
              "resampled letters (1,000 resamples), so an interval that excludes 0 is a difference the letters "
              "support.</p>")


def _num(v, digits: int = 2) -> str:
    return "—" if v is None else _esc(f"{v:.{digits}f}")


def _diff(dv: dict) -> str:
    if dv["value"] is None:
        return "—"
    ci = dv["ci"]
    return _esc(f"{dv['value']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""))


def _summary_html(d: dict) -> str:
    perf = d.get("performance")
    cav = "".join(f"<li>{_esc(c)}</li>" for c in d.get("caveats") or [])
    finds = "".join(f"<li>{_esc(f)}</li>" for f in d["findings"])
    return ("<section id='summary' class='summary'><h2>Executive summary</h2>"
            f"<p>{_trained_html(d)}</p>"
            + (f"<div class='caveats'><b>Read first</b><ul>{cav}</ul></div>" if cav else "")
            + (_kpis_html(perf) + _versus_html(d) if perf else "")
            + f"<h3>What matters</h3><ol>{finds}</ol></section>")


def _moves_html(d: dict) -> str:
    rows = [[e["label"], GROUP_TITLES.get(e["group"], e["group"]),
             f"×{math.exp(e['prior']):.2f}" if e["group"] == "rule" else "— (no rule)",
             f"×{e['odds_ratio']:.2f}"
             + (f" [{e['odds_ratio_ci'][0]:.2f}, {e['odds_ratio_ci'][1]:.2f}]" if e["odds_ratio_ci"] else ""),
             "—" if e["n_items"] is None else e["n_items"], e["status"]] for e in d["effects"]]
    parts = ["<h2 id='moves'>What moves outcomes</h2>",
             "<p>Each line is one finding: how it multiplies the odds of an overturn when everything else about the "
             "request is the same (right of 1: more overturns), with its 95% interval, beside what the guideline "
             "alone says (its prior) and the number of training items it fired on. "
             + ("For the built-in model the interval is the width of the guideline prior, not a measurement, and "
                "nothing is learnt." if d["builtin"]
                else "Intervals come from the model's posterior (the guideline prior combined with the letters). "
                     f"A finding that fired on fewer than {_esc(MIN_LEARNT)} training items is the guideline's "
                     "prior, not something the model learnt, and is never a headline.")
             + "</p>",
             _img(d, "effects", "effects of guideline rules, signals and fields"),
             _table(["finding", "kind", "guideline prior (odds ×)", "odds multiplied by [95% interval]",
                     "training items", "what it is"], rows)]
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
    rows = [[f"{pct(b['p_from'])}–{pct(b['p_to'])}", b["n"], b["n_overturned"], pct(b["mean_predicted"]),
             _ci(b["observed_rate"], b["observed_ci"], as_pct=True)] for b in d["calibration"]["bins"]]
    return "\n".join([
        "<h2 id='calibration'>Calibration</h2>",
        "<p>Items are grouped by predicted chance (equal-sized groups of at least 40, so each group is worth "
        "reading), zoomed to the range the model actually predicts. A point on the dashed line means "
        "\"of the requests given about 20%, about 20% were overturned\"; the bars are 95% intervals.</p>",
        _img(d, "calibration", "calibration"),
        _table(["predicted range", "items", "overturned", "average prediction", "observed [95% interval]"], rows)])


def _pr_html(d: dict) -> str:
    ops = d.get("operating_points") or []
    rows = [[o["name"], f"P ≥ {pct(o['threshold'])}", f"{o['flagged']} of {o['n_items']}",
             _pct_ci(o["precision"], o["precision_interval"]),
             _pct_ci(o["recall"], o["recall_interval"]) + f" of {o['n_overturned']}"] for o in ops]
    return ("<h2 id='pr'>Flagging requests: operating points and precision-recall</h2><p>If you flag every request "
            "at or above a cut-off, how many are flagged, how many of the flagged were overturned (precision) and "
            "what share of all overturns you catch (recall), each with its 95% interval from resampling whole "
            "letters. The model's flag is its operating point: a request worth a closer look, not a verdict "
            "(\"likely overturned\" needs P of at least 50%). The same points are marked on the curve; the dashed "
            "line is what flagging at random gives.</p>"
            + _table(["cut-off", "flag when", "flagged", "precision: overturned among flagged [95%]",
                      "recall: overturns flagged [95%]"], rows)
            + _img(d, "precision_recall", "precision-recall curve with the operating points"))


def _pct_ci(v, ci) -> str:
    """'33% [21%, 47%]' (unescaped: a table cell escapes it); '—' when undefined."""
    return "—" if v is None else pct(v) + (f" [{pct(ci[0])}, {pct(ci[1])}]" if ci else "")


def _lift(c: dict) -> str | None:
    if c["top_fifth_lift"] is None:
        return "too few overturned to measure" if c["n_overturned"] < MIN_OVERTURNED_FOR_METRICS else None
    ci = c.get("top_fifth_lift_ci")
    return (f"{c['top_fifth_lift']:.1f}×" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "")
            + f" (top {c['top_fifth_items']} items)")


def _categories_html(d: dict) -> str:
    rows = [[c["label"], c["n_items"], c["n_overturned"], _pct_ci(c["observed_rate"], c["observed_ci"]),
             None if c["published_rate"] is None else pct(c["published_rate"]),
             None if c["mean_predicted"] is None else pct(c["mean_predicted"]), _lift(c)] for c in d["categories"]]
    return "\n".join([
        "<h2 id='categories'>By treatment category: base rates and model lift</h2>",
        "<p>Lift: how much more often the fifth of a category's requests the model scores highest were overturned "
        "than the category as a whole (1.0× = no better than the category's own rate), with its 95% interval from "
        "resampling the category's letters: with a handful of overturned items it is wide. Model figures are left "
        f"out for categories with fewer than {_esc(MIN_OVERTURNED_FOR_METRICS)} overturned items.</p>",
        _img(d, "categories", "overturn rate by category"),
        _table(["category", "items", "overturned", "observed rate [95% interval]", "published/assumed rate",
                "model's average", "top-fifth lift [95% interval]"], rows)])


def _rule_outcomes_html(ro: dict) -> str:
    """Each guideline rule that fired on the corpus: its items' overturn rate against their
    categories' (imr_ml.reporting.rule_outcomes)."""
    h = ro["headline"]
    live = sorted((r for r in ro["rules"] if r["n_items"]), key=lambda r: (-r["n_items"], r["rule"]))
    rows = [[r["label"], f"{r['strength']:+.1f}", r["n_items"], r["n_overturned"],
             _ci(r["rate"], r["rate_ci"], as_pct=True), pct(r["category_rate"]), r["observed"],
             "—" if r["agrees"] is None else ("yes" if r["agrees"] else "no")] for r in live]
    against = ", ".join(h["clearly_against"]) or "none"
    return "\n".join([
        "<h2 id='rule-outcomes'>Guideline rules against the outcomes</h2>",
        f"<p>For each rule, the corpus items it applied to ({_esc(ro['n_items'])} items, {_esc(ro['n_overturned'])} "
        "overturned), how many were overturned with a 95% Wilson interval, and the overturn rate of the same items' "
        "categories in this corpus. A rule with a positive strength should apply to items overturned more often than "
        f"their categories. {_esc(h['n_fired'])} of {_esc(h['n_rules'])} rules applied; {_esc(h['n_agree'])} point "
        f"the rule's way, {_esc(h['n_against'])} the other way, {_esc(h['n_level'])} neither; clearly against "
        "(interval on the wrong side): "
        f"{_esc(against)}. With a few items per rule most intervals are wide; letters the rules were written from "
        "make the agreement look better than it is.</p>",
        _table(["guideline rule", "prior strength", "items", "overturned", "rate [95% interval]", "category rate",
                "observed", "points the rule's way"], rows)])


def _knowledge_html(d: dict) -> str:
    k = d["knowledge"]
    rules = [[r["label"], f"{r['prior']:+.2f}"]
             + ([None if r["fitted"] is None else f"{r['fitted']:+.2f}", r["n_items"], _rule_status(r)]
                if not d["builtin"] else []) + [r["citation"]] for r in k["rules"]]
    head = (["guideline rule", "prior strength (log-odds)"]
            + (["after the letters", "training items", "learnt?"] if not d["builtin"] else []) + ["citation"])
    cats = [[c["label"], pct(c["rate"]), c["source"]] for c in k["categories"]]
    return "\n".join([
        "<h2 id='knowledge'>What the model knows before any letter</h2>",
        "<p>Guideline rules (MTUS, ACOEM, ODG): positive strength makes an overturn more likely when the rule "
        "applies. " + ("" if d["builtin"] else "Training moves each rule from its prior as far as the letters warrant.")
        + "</p>",
        _img(d, "rules", "rules moved by the letters"), _img(d, "category_rates", "category rates"),
        _table(head, rules),
        "<h3>Category overturn rates and their sources</h3>", _table(["category", "overturn rate", "source"], cats)])


def _rule_status(r: dict) -> str:
    if r["n_items"] is None or r["fitted"] is None:
        return "—"
    if r["n_items"] < MIN_LEARNT:
        return "guideline prior, not learnt"
    adjustment = r["fitted"] - r["prior"]
    disagree = r["prior"] * adjustment < 0 and abs(adjustment) >= DISAGREE
    return ("the letters disagree: " if disagree else "") + f"letters' adjustment {adjustment:+.2f}"


def _data_html(d: dict) -> str:
    t = d["trained_on"] or {}
    if d["builtin"]:
        return ("<h2 id='data'>The data the model saw</h2><p>None: the built-in model was not fitted on any letter "
                "(files features/guidelines.toml and features/taxonomy.toml).</p>")
    prof = t.get("profile") or {}
    labels = {c["category"]: c["label"] for c in d["knowledge"]["categories"]}
    rows: list[list] = [
        ["letters", f"{t.get('n_letters')} (synthetic: generated by imr-ml synth)" if t.get("synthetic")
         else t.get("n_letters")],
        ["disputed items", t.get("n_items")], ["overturned", t.get("n_overturned")],
        ["IMR decision dates", " to ".join(prof["decision_dates"]) if prof.get("decision_dates") else "not recorded"],
        ["UR denial dates", " to ".join(prof["ur_denial_dates"]) if prof.get("ur_denial_dates") else "not recorded"],
        ["letter layouts", ", ".join(f"{k} ({v})" for k, v in prof.get("layouts", {}).items()) or "not recorded"],
        ["training files", ", ".join(t.get("inputs") or []) or "—"], ["data fingerprint", t.get("fingerprint_sha256")]]
    cats = [[labels.get(c, c), n] for c, n in (prof.get("categories") or {}).items()]
    return "\n".join(["<h2 id='data'>The data the model saw</h2>", _table(["", ""], rows),
                      _img(d, "data", "training items by category"),
                      _table(["treatment category", "training items"], cats)])
