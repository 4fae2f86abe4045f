"""`imr-ml explain`: one request's probability and every contribution, grouped, with the
evidence highlighted in its own text (terminal text, or an HTML page: `imr_ml.reporting.explain_page`).

Library imports sit inside the command: `imr-ml --help` must not load pandas or scikit-learn."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, load_model, writing
from imr_ml.cli.request_options import ModelDir, Requests, takes_requests
from imr_ml.cli.score import SIMILAR, shown_precedents
from imr_ml.cli.similar import precedent_lines
from imr_ml.schema import GROUP_TITLES

EXPLAINED = 50  # requests explained at most; an explanation is for reading, not for a batch
EXAMPLES = """Examples:

  imr-ml explain builtin --item "MRI right shoulder" --summary-file notes.txt --html why.html

  imr-ml explain models/mine claims.csv --json
"""


@command(EXAMPLES)
@takes_requests
def explain(
    model_dir: ModelDir,
    requests: Requests = Requests(),
    html_out: Path | None = typer.Option(None, "--html", metavar="FILE", help=(
        "Also write an HTML page: the path to P, the evidence highlighted, a checklist.")),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    similar: int = SIMILAR,
):
    """Why the model scores a request as it does: contributions by group, with evidence."""
    from imr_ml.reporting.explain import explain_rows
    from imr_ml.reporting.explain_page import explanation_html
    from imr_ml.scoring.requests_io import UnreadableInput
    from imr_ml.scoring.results_io import named_id
    from imr_ml.textio import atomic_write_text

    if html_out:
        check_out(html_out)
    given = requests.rows()
    if len(given) > EXPLAINED:  # an explanation is read, not filed: say what was left out
        typer.echo(f"warning: explaining the first {EXPLAINED} of {len(given)} items; "
                   "`imr-ml score --out FILE` scores them all", err=True)
    try:
        rows = list(islice(given, EXPLAINED))
    except UnreadableInput as exc:
        fail(str(exc))
    loaded = load_model(model_dir)
    results = shown_precedents(loaded, rows, explain_rows(loaded, rows), similar)
    if html_out:
        with writing(html_out):
            atomic_write_text(explanation_html(results, given=len(given)), html_out)
    if as_json:
        typer.echo(json.dumps([named_id(r, requests.id_col) for r in results], indent=2))
        return
    for r in results:
        typer.echo(format_explanation(r))
    if html_out:
        typer.echo(f"html -> {html_out}")


def format_explanation(r: dict) -> str:
    """One explained result as the terminal shows it: the waterfall from the baseline to P
    (the steps of the HTML page), each group's total with its largest contributions and
    evidence, P in words, the verdict, the flag and the checklist."""
    from imr_ml.cli.score import checklist_lines
    from imr_ml.reporting.result_view import title
    from imr_ml.scoring.wording import VERDICT_WORDS, flag_line, level_text, pct

    lines = [f"{title(r)}  [record {r['record_id']}]"]
    lines += [f"  warning: {w['message']}" for w in r.get("warnings") or []]
    if r["abstained"]:
        return "\n".join(lines + [f"  abstained: {r['reason']}", *checklist_lines(r)])
    lo, hi = r["interval"]
    for s in r["waterfall"]:
        change = f"{s['change']:+.2f} " if s["change"] is not None else ""
        lines.append(f"  {change}{s['label']} -> P = {pct(s['p'])}")
    for group, g in r["explanation"]["groups"].items():
        if g["features"]:
            lines.append(f"  {GROUP_TITLES.get(group, group)}: {g['total']:+.2f} log-odds")
            for f in g["features"][:5]:
                ev = f'  "{f["evidence"][0]["text"][:60]}"' if f["evidence"] else ""
                lines.append(f"    {f['contribution']:+.3f} {f['label']}{ev}")
    lines += [f"  P(overturned) = {pct(r['p_overturned'])}, {r['chance']} ({level_text()} interval "
              f"{pct(lo)}-{pct(hi)}): {VERDICT_WORDS[r['verdict']]}",
              f"  {r['compared']}",
              f"  {flag_line(r['flagged'], r['flag']['threshold'])}. {r['flag']['meaning']}"]
    lines += checklist_lines(r)
    if "precedents" in r:
        lines += precedent_lines(r["precedents"])
    return "\n".join(lines)
