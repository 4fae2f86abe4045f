"""`imr-ml explain`: one request's probability and every contribution, grouped, with the
evidence highlighted in its own text (terminal text, or an HTML page: `imr_ml.reporting.explain_page`).

Library imports sit inside the command: `imr-ml --help` must not load pandas or scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from imr_ml.cli._app import check_out, command, load_model, writing
from imr_ml.cli.request_options import Columns, Encoding, IdCol, ModelDir, Request, takes_request
from imr_ml.schema import GROUP_TITLES

EXPLAINED = 50  # requests explained at most; an explanation is for reading, not for a batch
EXAMPLES = """Examples:

  imr-ml explain builtin --item "MRI right shoulder" --summary-file notes.txt --html why.html

  imr-ml explain models/mine claims.csv --json
"""


@command(EXAMPLES)
@takes_request
def explain(
    model_dir: ModelDir,
    inputs: Annotated[list[Path] | None, typer.Argument(
        metavar="INPUT...", help="A letter, corpus or CSV (every item is explained).")] = None,
    request: Request = Request(),
    html_out: Path | None = typer.Option(None, "--html", metavar="FILE", help=(
        "Also write an HTML page: the path to P, the evidence highlighted, a checklist.")),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    encoding: Encoding = None,
    columns: Columns = None,
    id_col: IdCol = None,
):
    """Why the model scores a request as it does: contributions by group, with evidence."""
    from imr_ml.reporting.explain import explain_rows
    from imr_ml.reporting.explain_page import explanation_html
    from imr_ml.scoring.results_io import named_id
    from imr_ml.textio import atomic_write_text

    if html_out:
        check_out(html_out)
    rows = request.rows(inputs, encoding, columns, id_col)
    if len(rows) > EXPLAINED:  # an explanation is read, not filed: say what was left out
        typer.echo(f"warning: explaining the first {EXPLAINED} of {len(rows)} items; "
                   "`imr-ml score --out FILE` scores them all", err=True)
    results = explain_rows(load_model(model_dir), rows[:EXPLAINED])
    if html_out:
        with writing(html_out):
            atomic_write_text(explanation_html(results, given=len(rows)), html_out)
    if as_json:
        typer.echo(json.dumps([named_id(r, id_col) for r in results], indent=2))
        return
    for r in results:
        typer.echo(format_explanation(r))
    if html_out:
        typer.echo(f"html -> {html_out}")


def format_explanation(r: dict) -> str:
    """One explained result as the terminal shows it: the baseline, each group's total and
    its largest contributions with evidence, P and the missing documentation."""
    lines = [f"{r['id']}: {r.get('item')}" if r.get("id") not in (None, "") else f"{r.get('item')}"]
    lines += [f"  warning: {w['message']}" for w in r.get("warnings") or []]
    if r["abstained"]:
        return "\n".join(lines + [f"  abstained: {r['reason']}"])
    lo, hi = r["interval"]
    lines.append(f"  starts at P = {r['baseline']['p']:.2f}: {r['baseline']['what']}")
    for group, g in r["explanation"]["groups"].items():
        if g["features"]:
            lines.append(f"  {GROUP_TITLES.get(group, group)}: {g['total']:+.2f} log-odds")
            for f in g["features"][:5]:
                ev = f'  "{f["evidence"][0]["text"][:60]}"' if f["evidence"] else ""
                lines.append(f"    {f['contribution']:+.3f} {f['label']}{ev}")
    lines.append(f"  P(overturned) = {r['p_overturned']:.2f} (90% interval {lo:.2f}-{hi:.2f}), "
                 f"{r['relative_risk']:.1f}x the category rate -> likely {r['decision']} "
                 f"(threshold {r['threshold']:.2f})")
    lines += [f"  missing: {h}" for h in r["hints"]]
    return "\n".join(lines)
