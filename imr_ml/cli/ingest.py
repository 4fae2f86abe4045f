"""`imr-ml ingest`: letters (PDF/text files or folders) to one row per disputed item.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import command, fail, jobs_option
from imr_ml.cli.display import progress_bar

MAX_LETTER_MB = 20  # imr_ml.letters.ingest.MAX_LETTER_MB, not imported so that --help stays instant


def run_ingest(paths: list[str], out: str, jobs: int = 0, show_progress: bool = False,
               max_mb: float = MAX_LETTER_MB) -> dict:
    """Ingest letters into `out`; returns the summary the command prints. Bad --out, or no
    letter read (outputs then left untouched), ends the command with one line."""
    from imr_ml.letters.ingest import IngestError, ingest_paths, no_letters, skipped_path

    jobs = jobs or os.cpu_count() or 1
    try:
        with progress_bar(show_progress, "Reading letters") as update:
            rows, skipped = ingest_paths(paths, out=out, jobs=jobs, progress=update, max_mb=max_mb)
    except IngestError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}")
    if not rows:
        fail(f"{no_letters(skipped)}; {out} left as it was")
    letters = len({r["letter_id"] for r in rows})
    warned = {r["source"]: r["ingest_warning"] for r in rows if r.get("ingest_warning")}
    return {
        "out": str(out),
        "skipped_report": str(skipped_path(out)),
        "letters": letters,
        "items": len(rows),
        "overturned": sum(r["label"] for r in rows),
        "skipped": len(skipped),
        "skipped_files": skipped,
        "warnings": [{"source": k, "warning": v} for k, v in warned.items()],
    }


EXAMPLES = """Examples:

  imr-ml ingest letters/ --out corpus.jsonl

  imr-ml ingest a.pdf b.pdf --out corpus.parquet --json
"""


@command(EXAMPLES)
def ingest(
    paths: list[Path] = typer.Argument(..., metavar="LETTER...", help="Letter files (PDF or text) or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Corpus to write: .jsonl, or .parquet."),
    jobs: int = typer.Option(0, "--jobs", "-j", metavar="N", help="Processes to use (0 = one per core)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    max_mb: float = typer.Option(MAX_LETTER_MB, "--max-letter-mb", min=0.001, metavar="MB",
                                 help="Skip letter files larger than this."),
):
    """Read IMR letters into one row per disputed item (resumable, skips bad files)."""
    if out.suffix not in (".jsonl", ".parquet"):
        fail(f"--out must end in .jsonl or .parquet, not {out.name!r}")
    summary = run_ingest([str(p) for p in paths], str(out), jobs_option(jobs),
                         show_progress=sys.stderr.isatty() and not as_json, max_mb=max_mb)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for s in summary["skipped_files"]:
            typer.echo(f"skipped {s['source']}: {s['reason']}", err=True)
        for w in summary["warnings"]:
            typer.echo(f"warning: {w['source']}: {w['warning']}; kept (its rows carry ingest_warning)", err=True)
        kept = f", {len(summary['warnings'])} kept with a warning" if summary["warnings"] else ""
        typer.echo(
            f"{summary['letters']} letters, {summary['items']} items ({summary['overturned']} overturned{kept})"
            f" -> {summary['out']}; {summary['skipped']} skipped -> {summary['skipped_report']}"
        )

