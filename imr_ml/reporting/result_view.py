"""One way to show a scored request, for both pages that show one: the web app's result page
(`imr_ml.web`) and `imr-ml explain --html` (`imr_ml.reporting.explain_page`). Both render the
macro of `templates/result.html` through `environment()`, with these helpers: the waterfall's
bars, the highlighted text and the formatters. So the same request shows the same P, steps and
words on both (tests/test_result_pages.py renders both and compares).

Bars are inline SVG rectangles placed by their attributes (not by style, which the web app's
Content-Security-Policy forbids inline), on one log-odds scale shared by every step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from imr_ml.schema import ITEM_SEPARATOR
from imr_ml.scoring import wording
from imr_ml.scoring.result import INTERVAL_LEVEL

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STYLESHEET = HERE / "static" / "result.css"
SHOWN = 8  # contributions drawn one by one; the rest are summed in one step
INPUT_LABELS = {"item": "Requested treatment", "summary": "Clinical summary",
                "original_request": "Original request (before UR's partial authorisation)",
                "authorized_portion": "Part UR authorised",
                "other_items": "Other items of the same application",
                "claims_admin_guideline": "Guideline the claims administrator cited",
                "date_of_injury": "Date of injury", "ur_denial_date": "UR decision date",
                "retrospective": "Retrospective request"}


WHAT_TO_ADD = {
    "no requested item": "Name the requested treatment (for example \"Physical therapy 2x6 lumbar spine\").",
    "too little clinical content": "Paste the clinical summary: the injury, exam findings, prior treatment and its "
                                   "effect on function, and what utilization review said.",
    "unknown item": "Name the treatment as the request for authorization does (for example \"MRI right shoulder\", "
                    "\"Acupuncture x6\", \"Norco 10/325 #60\"): it must fall in a known treatment category.",
}


def what_to_add(reason: str | None) -> str:
    """What to add to a request that could not be scored, for its abstention reason.

    Parameters
    ----------
    reason : str or None
        The result's ``reason``.

    Returns
    -------
    str
        One instruction.
    """
    return next((v for k, v in WHAT_TO_ADD.items() if (reason or "").startswith(k)),
                "Add the clinical summary and the item.")


def input_text(field: str, value: object) -> str:
    """The value `value` (as scored) of the input field `field` as a printed record shows it: text,
    other items one after another, a flag as yes or no.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "; ".join(str(value).split(ITEM_SEPARATOR)) if field == "other_items" else str(value)


def waterfall(result: dict, calibrate: Callable, shown: int = SHOWN) -> list[dict]:
    """The path from the baseline through the largest contributions (the rest summed in one
    step) to the result's P: each step's ``p`` is the calibrated P after it, so the path ends
    at the P the result states.

    Parameters
    ----------
    result : dict
        A scored result (`imr_ml.scoring.result.ScoreResult`), not abstained.
    calibrate : callable
        Log-odds (array-like) to calibrated P, as the model maps them.
    shown : int
        Contributions shown one by one.

    Returns
    -------
    list of dict
        `imr_ml.scoring.result.Step` rows: the start, the steps, the end.
    """
    contribs = sorted(result["contributions"], key=lambda c: -abs(c["contribution"]))
    steps: list[tuple[str, int | None, str, float, list]] = [
        ("step", i + 1, c["label"], c["contribution"], c["evidence"]) for i, c in enumerate(contribs[:shown])]
    rest = contribs[shown:]
    if rest:
        steps.append(("rest", None, f"{len(rest)} smaller finding{'s' if len(rest) > 1 else ''} together",
                      sum(c["contribution"] for c in rest), []))
    logit = result["baseline"]["logit"]
    logits = [logit]
    for step in steps:
        logit += step[3]
        logits.append(logit)
    ps = calibrate(logits)
    rows = [{"kind": "start", "n": None, "label": f"Starting point: {result['baseline']['what']}", "change": None,
             "logit": logits[0], "p": round(float(ps[0]), 4), "evidence": []}]
    rows += [{"kind": kind, "n": n, "label": label, "change": change, "logit": lg, "p": round(float(p), 4),
              "evidence": evidence}
             for (kind, n, label, change, evidence), lg, p in zip(steps, logits[1:], ps[1:])]
    rows.append({"kind": "end", "n": None, "label": "The model's estimate", "change": None,
                 "logit": result["logit"], "p": result["p_overturned"], "evidence": []})
    return rows


def bars(steps: list[dict]) -> list[dict]:
    """Each waterfall row with where its bar lies on the shared scale (0-100): ``x`` and
    ``width`` for a step, ``x`` for the start and end dots, and ``direction`` (up: toward
    an overturn).

    Parameters
    ----------
    steps : list of dict
        `waterfall` rows.

    Returns
    -------
    list of dict
        The rows with ``x``, ``width`` and ``direction``.
    """
    values = [s["logit"] for s in steps]
    lo, hi = min(values) - 0.3, max(values) + 0.3

    def x(v: float) -> float:
        return round(100 * (v - lo) / (hi - lo), 2)

    out, before = [], steps[0]["logit"]
    for s in steps:
        if s["change"] is None:
            out.append(s | {"x": x(s["logit"]), "width": 0, "direction": None})
            continue
        left = x(min(before, s["logit"]))
        out.append(s | {"x": left, "width": max(round(x(max(before, s["logit"])) - left, 2), 0.5),
                        "direction": "up" if s["change"] > 0 else "down"})
        before = s["logit"]
    return out


def highlighted(text: str, field: str, steps: list[dict]) -> list[dict]:
    """`text` cut into plain and highlighted pieces: a highlighted piece is the evidence (in
    `field`) of a numbered waterfall step, widened to whole words, with the step's number and
    direction. Where spans overlap, the first wins (the larger step).

    Parameters
    ----------
    text : str
        The field's text as scored.
    field : str
        Its name ("summary", "item").
    steps : list of dict
        `bars` rows.

    Returns
    -------
    list of dict
        ``{"text", "n", "direction"}`` pieces that join back into `text` (``n`` None: plain).
    """
    marks = sorted((*word_span(text, e["start"], e["end"]), order, s["n"], s["direction"])
                   for order, s in enumerate(steps) if s["kind"] == "step"
                   for e in s["evidence"] if e["field"] == field)
    chosen: list[tuple[int, int, int, str]] = []
    for start, end, _, n, direction in sorted(marks, key=lambda m: m[2]):  # larger steps claim text first
        if end > start and all(end <= a or start >= b for a, b, *_ in chosen):
            chosen.append((start, end, n, direction))
    pieces: list[dict] = []
    pos = 0
    for start, end, n, direction in sorted(chosen):
        if start > pos:
            pieces.append({"text": text[pos:start], "n": None, "direction": None})
        pieces.append({"text": text[start:end], "n": n, "direction": direction})
        pos = end
    if pos < len(text):
        pieces.append({"text": text[pos:], "n": None, "direction": None})
    return pieces


def word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A span widened to whole words, so a highlight never cuts a word in two.

    Parameters
    ----------
    text : str
        The text.
    start : int
        The span's start.
    end : int
        Its end.

    Returns
    -------
    (int, int)
        The widened span.
    """
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, end


def title(result: dict) -> str:
    """A request as a heading names it, from its scored result `result`: its id (--id-col's value, an
    upload's row) and its item (``"C001: MRI right shoulder"``), or the item alone.
    """
    item = result.get("item") or "(no item)"
    return f"{result['id']}: {item}" if result.get("id") not in (None, "") else item


def scored_at() -> str:
    """When a page was made, as a printed record dates it (local time with its zone)."""
    return time.strftime("%Y-%m-%d %H:%M %Z")


def environment(*more: Path) -> Environment:
    """The Jinja environment both pages render with: autoescaping every value, this module's
    templates (and `more` folders first), and the shared filters and words.

    Parameters
    ----------
    *more : pathlib.Path
        Folders of the caller's own templates, searched before this module's.

    Returns
    -------
    jinja2.Environment
        With filters ``pct``, ``in_words``, ``signed`` and globals ``bars``, ``highlighted``,
        ``words`` (`imr_ml.scoring.wording`), ``level``, ``input_labels``, ``input_text``,
        ``what_to_add`` and ``title``.
    """
    env = Environment(loader=ChoiceLoader([FileSystemLoader([*more, TEMPLATES])]),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters.update(pct=wording.pct, in_words=wording.in_words, signed=lambda v: f"{v:+.2f}")
    env.globals.update(bars=bars, highlighted=highlighted, words=wording, level=wording.pct(INTERVAL_LEVEL),
                       input_labels=INPUT_LABELS, input_text=input_text, what_to_add=what_to_add, title=title)
    return env
