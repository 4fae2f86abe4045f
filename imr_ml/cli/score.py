"""`imr-ml score`: P(overturned) for letters' items (backtest), a corpus or CSV (batch), or
one new request before it is submitted."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from imr_ml.cli._app import app, check_out, fail, progress_bar, writing

NO_SUMMARY = "no clinical summary for --item: pass --summary-file FILE or pipe the summary on stdin"


def gather_requests(inputs: list[str], summary_file: str | None, item: str | None, guideline: str | None,
                    date_of_injury: str | None, ur_denial_date: str | None, stdin_text: str | None = None,
                    other_items: list[str] | None = None, encoding: str | None = None,
                    columns: str | None = None, ur: tuple = (None, None)) -> list[dict]:
    """Rows to score from the command's inputs; raises ValueError with a one-line reason.
    ``stdin_text`` None means no summary was piped in."""
    from imr_ml.ingest import NoRows, load_rows
    from imr_ml.requests_io import parse_columns, read_requests_csv
    from imr_ml.rowcheck import check_row_types
    from imr_ml.scoring import request_row

    if item is not None:
        if summary_file:
            try:
                summary = Path(summary_file).read_text(encoding=encoding or "utf-8-sig")
            except (OSError, UnicodeDecodeError, LookupError) as exc:
                raise ValueError(f"cannot read --summary-file {summary_file}: {exc}") from None
        elif stdin_text is None:
            raise ValueError(NO_SUMMARY)
        else:
            summary = stdin_text
        return [request_row(summary, item, guideline, date_of_injury, ur_denial_date, other_items or (),
                            ur_decision=ur[0], ur_reason=ur[1])]
    if not inputs:
        raise ValueError("give letters, a corpus or a CSV to score, or --item with --summary-file (or the summary on stdin)")
    mapping = parse_columns(columns)
    rows: list[dict] = []
    others = []
    for p in inputs:
        if p.lower().endswith(".csv"):
            rows += read_requests_csv(p, encoding, mapping)
        else:
            others.append(p)
    if others:
        try:
            corpus = load_rows(others)
        except NoRows as exc:
            raise ValueError(str(exc)) from None
        check_row_types(corpus)
        rows += corpus
    return rows


def piped_stdin() -> str | None:
    """The text piped in on stdin; None when stdin is closed or a terminal (nothing piped)."""
    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return None
    return sys.stdin.read()


def request_inputs(inputs, summary_file, item, guideline, date_of_injury, ur_denial_date, other_item,
                   encoding=None, columns=None, ur=(None, None)) -> list[dict]:
    """The rows a scoring command was given (the summary of a new request may come on
    stdin); bad input ends the command with one line."""
    try:
        stdin_text = piped_stdin() if item is not None and summary_file is None else None
        return gather_requests([str(p) for p in inputs or []], str(summary_file) if summary_file else None, item,
                               guideline, date_of_injury, ur_denial_date, stdin_text, other_item, encoding, columns,
                               ur)
    except UnicodeDecodeError as exc:
        fail(f"the summary on stdin is not UTF-8 text ({exc.reason} at byte {exc.start})")
    except ValueError as exc:
        fail(str(exc))


def _load(model_dir: Path):
    from imr_ml.modelio import ModelLoadError, load_model_dir

    try:
        return load_model_dir(model_dir)
    except ModelLoadError as exc:
        fail(str(exc))


UR_DECISION_HELP = "What utilization review decided: denied or modified (letters restate it; a typed request may say it here)."
UR_REASON_HELP = 'The reason UR gave, e.g. "no documented functional improvement".'
ENCODING_HELP = "Encoding of CSV inputs and --summary-file (default UTF-8, with or without Excel's BOM; e.g. cp1252)."
COLUMNS_HELP = "CSV column names for the fields, e.g. summary=Notes,item=Treatment."


@app.command()
def score(
    model_dir: Path = typer.Argument(..., help="Model directory written by `imr-ml train`."),
    inputs: Optional[List[Path]] = typer.Argument(None, help="Letters, a corpus (.jsonl/.parquet) or a CSV."),
    summary_file: Optional[Path] = typer.Option(None, "--summary-file", help="Clinical summary of a new request."),
    item: Optional[str] = typer.Option(None, "--item", help='The requested item, e.g. "Acupuncture 1x6".'),
    guideline: Optional[str] = typer.Option(None, "--guideline", help="The claims administrator's cited guideline."),
    date_of_injury: Optional[str] = typer.Option(None, "--date-of-injury", help="MM/DD/YYYY or YYYY-MM-DD."),
    ur_denial_date: Optional[str] = typer.Option(None, "--ur-denial-date", help="MM/DD/YYYY or YYYY-MM-DD."),
    other_item: Optional[List[str]] = typer.Option(None, "--other-item", help="Another item of the same application (repeatable)."),
    ur_decision: Optional[str] = typer.Option(None, "--ur-decision", help=UR_DECISION_HELP),
    ur_reason: Optional[str] = typer.Option(None, "--ur-reason", help=UR_REASON_HELP),
    top: int = typer.Option(5, "--top", help="Reasons to show per item."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes for a large batch (0 = one per core)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write results as JSON lines here."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=ENCODING_HELP),
    columns: Optional[str] = typer.Option(None, "--columns", help=COLUMNS_HELP),
):
    """Score requests: probability of overturn, top reasons with evidence, missing documentation."""
    from imr_ml.pool import WorkerCrashed
    from imr_ml.scoring import BATCH, score_rows
    from imr_ml.textio import atomic_path

    if out:
        check_out(out)
    rows = request_inputs(inputs, summary_file, item, guideline, date_of_injury, ur_denial_date, other_item,
                          encoding, columns, (ur_decision, ur_reason))
    loaded = _load(model_dir)
    # Worker processes pay for themselves from a few batches on.
    n_jobs = (jobs or os.cpu_count() or 1) if len(rows) >= 4 * BATCH else 1
    results = []
    try:
        with progress_bar(len(rows) > 2000 and sys.stderr.isatty(), "Scoring items", len(rows)) as update:
            stream = score_rows(loaded, rows, top=top, progress=update, n_jobs=n_jobs)
            if out:
                with writing(out), atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
                    for r in stream:
                        fh.write(json.dumps(r) + "\n")
                        if as_json or len(results) < 50:
                            results.append(r)
            else:
                results = list(stream)
    except WorkerCrashed:
        fail("a scoring worker process died (out of memory?); nothing was written: try again with --jobs 1", 1)
    if as_json:
        typer.echo(json.dumps(results if len(results) > 1 or not item else results[0], indent=2))
    else:
        for r in results[:50]:
            typer.echo(format_result(r))
        if out:
            typer.echo(f"{len(rows)} items scored -> {out}")


def format_result(r: dict) -> str:
    head = f"{r.get('letter_id')}#{r.get('item_index')} {r.get('item')}"
    if r["abstained"]:
        return f"{head}\n  abstained: {r['reason']}"
    lo, hi = r["interval"]
    lines = [f"{head}\n  P(overturned) = {r['p_overturned']:.2f} (90% interval {lo:.2f}-{hi:.2f}; "
             f"{r['relative_risk']:.1f}x the category rate) -> likely {r['decision']}"
             + (f" (actual: {r['actual']})" if "actual" in r else ""),
             f"  from P = {r['baseline']['p']:.2f} for {r['baseline']['what']}:"]
    for x in r["reasons"]:
        ev = f'  "{x["evidence"][0]["text"][:70]}"' if x["evidence"] else ""
        lines.append(f"  {x['contribution']:+.2f} {x['label']}{ev}")
    lines += [f"  missing: {h}" for h in r["hints"]]
    return "\n".join(lines)
