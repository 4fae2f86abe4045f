"""`imr-ml explain`: one request's probability and every contribution, grouped, with the
evidence highlighted in its own text (terminal text, or an HTML page: `imr_ml.reporting.explain_page`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import app, check_out, progress_bar, writing
from imr_ml.cli.score import COLUMNS_HELP, ENCODING_HELP, UR_DECISION_HELP, UR_REASON_HELP
from imr_ml.reporting.explain_page import explanation_html
from imr_ml.schema import GROUP_TITLES


def explain_rows(loaded, rows: list[dict]) -> list[dict]:
    """Probability, grouped contributions and hints for each row."""
    from imr_ml.scoring.score import grouped_contributions, score_rows

    with progress_bar(len(rows) > 200 and sys.stderr.isatty(), "Explaining items", len(rows)) as update:
        return [scored | {"summary": row.get("summary"), "explanation": grouped_contributions(scored)}
                for row, scored in zip(rows, score_rows(loaded, rows, top=10, progress=update))]


EXAMPLES = """Examples:

  imr-ml explain builtin --item "MRI right shoulder" --summary-file notes.txt --html why.html

  imr-ml explain models/mine claims.csv --json
"""


@app.command(epilog=EXAMPLES)
def explain(
    model_dir: Path = typer.Argument(..., help="Model directory written by `imr-ml train`."),
    inputs: list[Path] | None = typer.Argument(None, help="A letter, corpus or CSV (every item is explained)."),
    summary_file: Path | None = typer.Option(None, "--summary-file", help="Clinical summary of a new request."),
    item: str | None = typer.Option(None, "--item", help="The requested item."),
    guideline: str | None = typer.Option(None, "--guideline", help="The claims administrator's cited guideline."),
    date_of_injury: str | None = typer.Option(None, "--date-of-injury"),
    ur_denial_date: str | None = typer.Option(None, "--ur-denial-date"),
    other_item: list[str] | None = typer.Option(None, "--other-item", help="Another item of the same application (repeatable)."),
    ur_decision: str | None = typer.Option(None, "--ur-decision", help=UR_DECISION_HELP),
    ur_reason: str | None = typer.Option(None, "--ur-reason", help=UR_REASON_HELP),
    html_out: Path | None = typer.Option(None, "--html", help="Also write an HTML page: the path to P, the evidence highlighted, a checklist."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
    columns: str | None = typer.Option(None, "--columns", help=COLUMNS_HELP),
):
    """Why the model scores a request as it does: contributions by group, with evidence."""
    from imr_ml.cli.score import _load, request_inputs
    from imr_ml.textio import atomic_write_text

    if html_out:
        check_out(html_out)
    rows = request_inputs(inputs, summary_file, item, guideline, date_of_injury, ur_denial_date, other_item,
                          encoding, columns, (ur_decision, ur_reason))
    results = explain_rows(_load(model_dir), rows[:50])
    if html_out:
        with writing(html_out):
            atomic_write_text(explanation_html(results), html_out)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    for r in results:
        typer.echo(f"{r.get('item')}")
        if r["abstained"]:
            typer.echo(f"  abstained: {r['reason']}")
            continue
        lo, hi = r["interval"]
        b = r["baseline"]
        typer.echo(f"  starts at P = {b['p']:.2f}: {b['what']}")
        for group, g in r["explanation"]["groups"].items():
            if g["features"]:
                typer.echo(f"  {GROUP_TITLES.get(group, group)}: {g['total']:+.2f} log-odds")
                for f in g["features"][:5]:
                    ev = f'  "{f["evidence"][0]["text"][:60]}"' if f["evidence"] else ""
                    typer.echo(f"    {f['contribution']:+.3f} {f['label']}{ev}")
        typer.echo(f"  P(overturned) = {r['p_overturned']:.2f} (90% interval {lo:.2f}-{hi:.2f}), "
                   f"{r['relative_risk']:.1f}x the category rate -> likely {r['decision']} (threshold {r['threshold']:.2f})")
        for h in r["hints"]:
            typer.echo(f"  missing: {h}")
    if html_out:
        typer.echo(f"html -> {html_out}")
