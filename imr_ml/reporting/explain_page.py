"""The `explain --html` page: for each request, the path from the baseline to the final
probability as a waterfall of its reasons, the clinical text with the evidence of those
reasons highlighted, the interval and the relative risk, and the missing documentation as a
checklist. Several requests: sorted by P with an index. Every value on the page is escaped,
user text and numbers alike, and the page carries a Content-Security-Policy that allows no
script and no inline style but its own style block: the bars are SVG shapes placed by their
attributes, not by `style=`.
"""

from __future__ import annotations

import html
import math

from imr_ml.reporting.report_html import page_csp

N_SHOWN = 10  # reasons on the waterfall; the rest are summed in one row
GROUP_ORDER = ("rule", "signal", "field", "item", "summary")  # guideline and clinical findings before words
OVERTURN, UPHOLD = "#c44e52", "#4c72b0"

WHAT_TO_ADD = {
    "no requested item": "Name the requested treatment (for example \"Physical therapy 2x6 lumbar spine\").",
    "too little clinical content": "Paste the clinical summary: the injury, exam findings, prior treatment and its "
                                   "effect on function, and what utilization review said.",
    "unknown item": "Name the treatment as the request for authorization does (for example \"MRI right shoulder\", "
                    "\"Acupuncture x6\", \"Norco 10/325 #60\"): it must fall in a known treatment category.",
}


def _p(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def shown_reasons(result: dict, n: int = N_SHOWN) -> tuple[list[dict], list[dict]]:
    """(the reasons shown, the rest): the n largest contributions, guideline rules and
    signals first, then fields, item and words, each group by size."""
    contribs = sorted(result.get("contributions") or [], key=lambda c: -abs(c["contribution"]))
    shown = sorted(contribs[:n], key=lambda c: (_group_rank(c["feature"]), -abs(c["contribution"])))
    return shown, contribs[n:]


def _group_rank(feature: str) -> int:
    group = feature.split("__", 1)[0]
    return GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)


def word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A span widened to whole words, so a highlight never cuts a word in two."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, end


def highlight(text: str, marks: list[tuple[int, int, int, float, int]]) -> str:
    """HTML of `text` with each (start, end, reason number, contribution, precedence) marked
    on whole words, numbered like the waterfall row it supports; where marks overlap, the one
    of lowest precedence wins (a signal's own words before the rule that reads it)."""
    out, pos = [], 0
    for s, e, _, k, c in sorted((*word_span(text, s, e), p, k, c) for s, e, k, c, p in marks):
        if s < pos:
            continue
        cls = "up" if c > 0 else "down"
        out += [_esc(text[pos:s]), f"<mark class='{cls}' data-reason='{_esc(k)}'>", _esc(text[s:e]),
                f"<sup>{_esc(k)}</sup></mark>"]
        pos = e
    out.append(_esc(text[pos:]))
    return "".join(out)


def waterfall(result: dict, shown: list[dict], rest: list[dict]) -> str:
    """Rows from the baseline through each shown reason (and the rest, summed) to the final
    log-odds; each bar spans the move it makes on a shared log-odds scale."""
    base, final = result["baseline"]["logit"], result["logit"]
    steps = [(str(i + 1), c["label"], c["contribution"]) for i, c in enumerate(shown)]
    if rest:
        steps.append(("", f"{len(rest)} smaller finding{'s' if len(rest) > 1 else ''} together",
                      sum(c["contribution"] for c in rest)))
    points = [base]
    for _, _, c in steps:
        points.append(points[-1] + c)
    lo, hi = min(points + [final]) - 0.3, max(points + [final]) + 0.3

    def x(v):
        return 100 * (v - lo) / (hi - lo)

    rows = [f"<tr class='base' data-logit='{_num(base, '.6f')}'><td></td>"
            f"<td>Start: {_esc(result['baseline']['what'])}</td>"
            f"<td class='bar'>{_dot(x(base))}</td><td class='num'>P = {_pct(_p(base))}</td></tr>"]
    for (k, label, c), before in zip(steps, points):
        left, width = x(min(before, before + c)), abs(x(before + c) - x(before))
        cls = "up" if c > 0 else "down"
        rows.append(f"<tr class='step' data-contribution='{_num(c, '.6f')}'><td class='k'>{_esc(k)}</td>"
                    f"<td>{_esc(label)}</td><td class='bar'>{_bar(cls, left, max(width, 0.4))}</td>"
                    f"<td class='num'>{'+' if c > 0 else '−'}{_num(abs(c), '.2f')} → P = {_pct(_p(before + c))}"
                    "</td></tr>")
    rows.append(f"<tr class='final' data-logit='{_num(final, '.6f')}'><td></td><td><b>Model's estimate</b></td>"
                f"<td class='bar'>{_dot(x(final), 'final')}</td>"
                f"<td class='num'><b>P = {_pct(_p(final))}</b></td></tr>")
    return "<table class='waterfall'>" + "".join(rows) + "</table>"


def _bar(cls: str, left: float, width: float) -> str:
    """A bar from `left` to `left + width` (percent of the cell), drawn as SVG so that no
    inline style is needed."""
    return (f"<svg class='track' width='100%' height='18'><rect class='{_esc(cls)}' x='{_num(left, '.2f')}%' y='4' "
            f"width='{_num(width, '.2f')}%' height='10' rx='2'/></svg>")


def _dot(at: float, cls: str = "") -> str:
    """The dot marking the baseline or the final log-odds at `at` percent of the cell."""
    return (f"<svg class='track' width='100%' height='18'><circle class='dot {_esc(cls)}' cx='{_num(at, '.2f')}%' "
            "cy='9' r='5'/></svg>")


def _num(v: float, spec: str) -> str:
    return _esc(format(v, spec))


def _pct(p: float) -> str:
    return _esc(f"{100 * p:.0f}%" if p >= 0.1 else f"{100 * p:.1f}%")


LEGEND = ("<p class='legend'><span class='sw up'></span> makes an overturn more likely &nbsp; "
          "<span class='sw down'></span> makes it less likely (the denial more likely upheld) &nbsp; "
          "Bars show each finding's move on the log-odds scale; the number after it is its size and the chance "
          "after it. Highlighted text is the evidence for the numbered findings.</p>")


def item_html(result: dict, anchor: str) -> str:
    """One request's section: abstention explained, or the full explanation."""
    head = (f"<section id='{_esc(anchor)}'><h2>{_esc(_title(result))}</h2>"
            + "".join(f"<p class='abstained'><b>Check:</b> {_esc(w['message'])}</p>"
                      for w in result.get("warnings") or []))
    if result.get("abstained"):
        reason = result.get("reason") or "not scored"
        add = next((v for k, v in WHAT_TO_ADD.items() if reason.startswith(k)),
                   "Add the clinical summary and the item.")
        return (head + f"<div class='abstained'><p><b>Not scored:</b> {_esc(reason)}.</p>"
                f"<p><b>What to add:</b> {_esc(add)}</p></div></section>")
    lo, hi = result["interval"]
    p = result["p_overturned"]
    decision = "overturn" if result["decision"] == "overturned" else "uphold the denial"
    parts = [head,
             f"<p class='headline'>Chance IMR overturns the denial: <b>{_pct(p)}</b> "
             f"<span class='muted'>(90% interval {_pct(lo)} to {_pct(hi)})</span></p>",
             f"<p>That is <b>{_num(result['relative_risk'], '.1f')}×</b> the usual overturn rate of this kind of "
             "request "
             f"({_pct(result['category_rate'])}). At the model's cut-off of {_pct(result['threshold'])} it expects IMR "
             f"to <b>{decision}</b>.</p>"]
    shown, rest = shown_reasons(result)
    parts += ["<h3>How the estimate is reached</h3>", LEGEND, waterfall(result, shown, rest)]
    marks: dict[str, list[tuple[int, int, int, float, int]]] = {"summary": [], "item": []}
    for k, c in enumerate(shown, 1):
        for ev in c["evidence"]:
            if ev["field"] in marks:
                marks[ev["field"]].append((ev["start"], ev["end"], k, c["contribution"],
                                           int(c["feature"].startswith("rule__"))))
    parts.append(f"<h3>Requested item</h3><p class='text'>{highlight(result.get('item') or '', marks['item'])}</p>")
    summary = highlight(result.get("summary") or "", marks["summary"])
    parts.append(f"<h3>Clinical summary</h3><p class='text'>{summary}</p>")
    if result.get("hints"):
        parts.append("<h3>Documentation that would help</h3><ul class='checklist'>"
                     + "".join(f"<li><label><input type='checkbox'> {_esc(h)}</label></li>" for h in result["hints"])
                     + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _title(result: dict) -> str:
    """A request as a heading names it: its id (--id-col's value) and its item."""
    item = result.get("item") or "(no item)"
    return f"{result['id']}: {item}" if result.get("id") not in (None, "") else item


def _order(results: list[dict]) -> list[dict]:
    """Highest P first; requests that could not be scored last."""
    return sorted(results, key=lambda r: (r.get("abstained", False), -(r.get("p_overturned") or 0)))


def index_html(ordered: list[tuple[str, dict]]) -> str:
    rows = "".join(
        f"<tr><td><a href='#{_esc(a)}'>{_esc(_title(r))}</a></td>"
        + (f"<td>not scored</td><td>{_esc(r.get('reason'))}</td>" if r.get("abstained") else
           f"<td class='num'>{_pct(r['p_overturned'])}</td><td>likely {_esc(r['decision'])}</td>") + "</tr>"
        for a, r in ordered)
    return (f"<h2 id='index'>{_esc(len(ordered))} requests, most likely to be overturned first</h2>"
            f"<table class='index'><tr><th>request</th><th>chance of overturn</th><th></th></tr>{rows}</table>")


CSS = ("body{font-family:system-ui,sans-serif;max-width:980px;margin:1.5em auto;padding:0 1em;color:#222;"
       "line-height:1.45}"
       "section{border-top:2px solid #ddd;margin-top:1.5em}.headline{font-size:1.35em;margin:.3em 0}"
       ".muted{color:#666;font-size:.8em}table{border-collapse:collapse}"
       "td,th{padding:3px 8px;text-align:left;font-size:14px}"
       ".waterfall{width:100%}.waterfall td{border-bottom:1px solid #eee}"
       ".waterfall .bar{width:34%;min-width:200px}.track{display:block;overflow:visible}"
       ".bar .up{fill:" + OVERTURN + "}.bar .down{fill:" + UPHOLD + "}.bar .dot{fill:#333}"
       ".final td{border-top:2px solid #999}.num{white-space:nowrap;text-align:right}.k{color:#666}"
       "mark.up{background:#f6c6c6}mark.down{background:#c6d8f6}mark sup{font-size:.65em;color:#444;margin-left:1px}"
       ".text{background:#fafafa;border:1px solid #eee;padding:.6em .8em;border-radius:4px}"
       ".legend{font-size:.85em;color:#444}.sw{display:inline-block;width:12px;height:12px;vertical-align:middle}"
       ".sw.up{background:" + OVERTURN + "}.sw.down{background:" + UPHOLD + "}"
       ".checklist{list-style:none;padding-left:.5em}"
       ".abstained{background:#fff8e1;border:1px solid #f0d68a;padding:.5em 1em;border-radius:4px}"
       ".index td,.index th{border-bottom:1px solid #eee}.top{font-size:.85em}")


def explanation_html(results: list[dict], given: int | None = None) -> str:
    """The whole page for one or several scored (or abstained) requests; `given` (more than
    the results) says how many were asked for, and the page says which it shows."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'>", page_csp(CSS), "<title>Why this IMR estimate</title>",
             f"<style>{CSS}</style></head><body><h1>Why the model expects this IMR outcome</h1>",
             "<p class='muted'>An estimate from the clinical summary, the requested item and the guideline cited, "
             "before any IMR decision; not medical or legal advice.</p>"]
    if not results:
        parts.append("<p>No request was given to explain.</p>")
    if given and given > len(results):
        parts.append(f"<p class='abstained'>The first {len(results)} of the {given} requests given are explained "
                     "here; <code>imr-ml score --out FILE</code> scores them all.</p>")
    ordered = [(f"item-{i + 1}", r) for i, r in enumerate(_order(results))]
    if len(ordered) > 1:
        parts.append(index_html(ordered))
    for anchor, r in ordered:
        parts.append(item_html(r, anchor))
        if len(ordered) > 1:
            parts.append("<p class='top'><a href='#index'>back to the list</a></p>")
    parts.append("</body></html>")
    return "\n".join(parts)
