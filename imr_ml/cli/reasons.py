"""`imr-ml reasons`: what reasons reviewers cite, per treatment category (analysis only).

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import command, fail, read_inputs
from imr_ml.cli.display import progress_bar


def run_reasons(inputs: list[str], out: str, rules: str | None = None, show_progress: bool = False) -> dict:
    """Write reasons.json and reasons.md into `out`; return the report."""
    from imr_ml.reporting.reasons import reasons_markdown, reasons_report
    from imr_ml.textio import atomic_write_json, atomic_write_text

    rows = read_inputs(inputs)
    if not any(r.get("rationale") for r in rows):
        fail("no decision rationales in the input (reasons need ingested letters, not bare requests)")
    with progress_bar(show_progress, "Reading rationales", len(rows)) as update:
        report = reasons_report(rows, rules, progress=update)
    out_dir = Path(out)
    atomic_write_json(report, out_dir / "reasons.json")
    atomic_write_text(reasons_markdown(report), out_dir / "reasons.md")
    return report


EXAMPLES = """Examples:

  imr-ml reasons corpus.jsonl --out reasons/

  imr-ml reasons letters/ --out reasons/ --json
"""


@command(EXAMPLES)
def reasons(
    inputs: list[Path] = typer.Argument(..., metavar="INPUT...",
                                        help="Corpus (.jsonl/.parquet) or letter files/folders."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for reasons.json and reasons.md."),
    rules: Path | None = typer.Option(None, "--rules", metavar="FILE",
                                      help="Your own reasons TOML instead of features/reasons.toml."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Which reasons reviewers give for upholding or overturning, per treatment category."""
    report = run_reasons([str(p) for p in inputs], str(out), str(rules) if rules else None,
                         show_progress=sys.stderr.isatty() and not as_json)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for decision, d in report["categories"]["all"].items():
        typer.echo(f"{decision} ({d['n_items']} items):")
        for r in d["reasons"][:6]:
            typer.echo(f"  {r['share']:>4.0%}  {r['label']}")
    typer.echo(f"report: {out / 'reasons.md'}")
