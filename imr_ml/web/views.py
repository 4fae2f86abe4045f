"""What the HTML pages show, worked out in Python so the templates only lay it out: the
waterfall from the baseline to the final probability, the summary cut into plain and
highlighted pieces (Jinja escapes every piece), and the batch results as rows (their CSV is
`imr_ml.scoring.results_io.results_csv`, the columns of `imr-ml score --out x.csv`)."""

from __future__ import annotations

SHOWN = 8  # contributions drawn one by one; the rest are summed in one row
BAR_STEPS = 20  # bar widths in 5% steps: classes w0..w20 in style.css (no inline styles under the CSP)


def waterfall(result: dict, calibrate) -> list[dict]:
    """Rows from the baseline through each shown contribution to the final probability.
    `calibrate(logit)` maps log-odds to P as the model does."""
    contribs = sorted(result["contributions"], key=lambda c: -abs(c["contribution"]))
    shown, rest = contribs[:SHOWN], contribs[SHOWN:]
    steps = [{"n": i + 1, "label": c["label"], "change": c["contribution"], "evidence": c["evidence"]}
             for i, c in enumerate(shown)]
    if rest:
        steps.append({"n": None, "label": f"{len(rest)} smaller findings together",
                      "change": sum(c["contribution"] for c in rest), "evidence": []})
    scale = max([abs(s["change"]) for s in steps] + [1e-9])
    logit = result["baseline"]["logit"]
    rows = [{"kind": "start", "label": f"Starting point: {result['baseline']['what']}",
             "p": result["baseline"]["p"]}]
    for s in steps:
        logit += s["change"]
        rows.append(s | {"kind": "step", "p": float(calibrate(logit)),
                         "direction": "up" if s["change"] > 0 else "down",
                         "width": f"w{round(abs(s['change']) / scale * BAR_STEPS)}"})
    rows.append({"kind": "end", "label": "Final estimate", "p": result["p_overturned"]})
    return rows


def highlighted(summary: str, rows: list[dict]) -> list[dict]:
    """The summary as pieces {text, n, direction}; a piece with `n` is the evidence of
    waterfall step n (whole spans; an overlapping later span is left out)."""
    spans = sorted((e["start"], e["end"], r["n"], r["direction"])
                   for r in rows if r["kind"] == "step" and r["n"]
                   for e in r["evidence"] if e["field"] == "summary")
    pieces, pos = [], 0
    for start, end, n, direction in spans:
        if start < pos or end <= start:
            continue
        if start > pos:
            pieces.append({"text": summary[pos:start], "n": None})
        pieces.append({"text": summary[start:end], "n": n, "direction": direction})
        pos = end
    if pos < len(summary):
        pieces.append({"text": summary[pos:], "n": None})
    return pieces


def top_reason(result: dict) -> str:
    """The largest reason of a result with its contribution, for the batch table."""
    reasons = result.get("reasons") or []
    return f"{reasons[0]['label']} ({reasons[0]['contribution']:+.2f})" if reasons else ""
