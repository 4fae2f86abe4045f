"""`imr-ml score`: P(overturned) for letters' items (backtest), a corpus or CSV (batch), or
one new request before it is submitted."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from imr_ml.cli._app import app, check_out, fail, fewer_gc_pauses, progress_bar, writing

NO_SUMMARY = "no clinical summary for --item: pass --summary-file FILE or pipe the summary on stdin"


def gather_requests(inputs: list[str], summary_file: str | None, item: str | None, guideline: str | None,
                    date_of_injury: str | None, ur_denial_date: str | None, stdin_text: str | None = None,
                    other_items: list[str] | None = None, encoding: str | None = None,
                    columns: str | None = None, ur: tuple = (None, None), id_col: str | None = None) -> list[dict]:
    """Rows to score from the command's inputs; raises ValueError with a one-line reason.
    ``stdin_text`` None means no summary was piped in."""
    from imr_ml.letters.ingest import NoRows, load_rows
    from imr_ml.modeling.rowcheck import check_row_types
    from imr_ml.scoring.requests_io import parse_columns, read_requests_csv
    from imr_ml.scoring.score import request_row

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
            rows += read_requests_csv(p, encoding, mapping, id_col)
        else:
            others.append(p)
    if others:
        try:
            corpus = load_rows(others)
        except NoRows as exc:
            raise ValueError(str(exc)) from None
        check_row_types(corpus)
        rows += _with_ids(corpus, id_col, others)
    return rows


def _with_ids(rows: list[dict], id_col: str | None, sources: list[str]) -> list[dict]:
    """Corpus rows with --id-col's field kept as ``id``; raises ValueError when no row has it."""
    if not id_col:
        return rows
    if not any(id_col in r for r in rows):
        raise ValueError(f"no row of {', '.join(sources)} has the field {id_col!r} for --id-col")
    return [r | {"id": r.get(id_col)} for r in rows]


def piped_stdin() -> str | None:
    """The text piped in on stdin; None when stdin is closed or a terminal (nothing piped)."""
    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return None
    return sys.stdin.read()


def request_inputs(inputs, summary_file, item, guideline, date_of_injury, ur_denial_date, other_item,
                   encoding=None, columns=None, ur=(None, None), id_col=None) -> list[dict]:
    """The rows a scoring command was given (the summary of a new request may come on
    stdin); bad input ends the command with one line."""
    try:
        stdin_text = piped_stdin() if item is not None and summary_file is None else None
        return gather_requests([str(p) for p in inputs or []], str(summary_file) if summary_file else None, item,
                               guideline, date_of_injury, ur_denial_date, stdin_text, other_item, encoding, columns,
                               ur, id_col)
    except UnicodeDecodeError as exc:
        fail(f"the summary on stdin is not UTF-8 text ({exc.reason} at byte {exc.start})")
    except ValueError as exc:
        fail(str(exc))


def _load(model_dir: Path):
    from imr_ml.modeling.modelio import ModelLoadError, load_model_dir

    try:
        return load_model_dir(model_dir)
    except ModelLoadError as exc:
        fail(str(exc))


UR_DECISION_HELP = "What utilization review decided: denied or modified (letters restate it; a typed request may say it here)."
UR_REASON_HELP = 'The reason UR gave, e.g. "no documented functional improvement".'
ENCODING_HELP = "Encoding of CSV inputs and --summary-file (default UTF-8, with or without Excel's BOM; e.g. cp1252)."
COLUMNS_HELP = "CSV column names for the fields, e.g. summary=Notes,item=Treatment."


SCORE_EXAMPLES = """Examples:

  imr-ml score builtin --item "Acupuncture 2x6 lumbar" --summary-file notes.txt

  imr-ml score models/mine claims.csv --id-col ClaimNo --out scores.csv

  imr-ml score models/mine held_out.jsonl --threshold 0.15 --out scores.parquet
"""
PRINTED = 50  # items a batch prints; the rest go to --out


@app.command(epilog=SCORE_EXAMPLES)
def score(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="Model directory written by `imr-ml train`, or builtin."),
    inputs: list[Path] | None = typer.Argument(None, metavar="[INPUT]...", help="Letters, a corpus (.jsonl/.parquet) or a CSV."),
    summary_file: Path | None = typer.Option(None, "--summary-file", metavar="FILE", help="Clinical summary of a new request."),
    item: str | None = typer.Option(None, "--item", metavar="TEXT", help='The requested item, e.g. "Acupuncture 1x6".'),
    guideline: str | None = typer.Option(None, "--guideline", metavar="TEXT", help="The claims administrator's cited guideline."),
    date_of_injury: str | None = typer.Option(None, "--date-of-injury", metavar="DATE", help="MM/DD/YYYY or YYYY-MM-DD."),
    ur_denial_date: str | None = typer.Option(None, "--ur-denial-date", metavar="DATE", help="MM/DD/YYYY or YYYY-MM-DD."),
    other_item: list[str] | None = typer.Option(None, "--other-item", metavar="TEXT", help="Another item of the same application (repeatable)."),
    ur_decision: str | None = typer.Option(None, "--ur-decision", metavar="denied|modified", help=UR_DECISION_HELP),
    ur_reason: str | None = typer.Option(None, "--ur-reason", metavar="TEXT", help=UR_REASON_HELP),
    top: int = typer.Option(5, "--top", metavar="N", help="Reasons to show per item."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, metavar="N", help="Processes for a large batch (0 = one per core)."),
    out: Path | None = typer.Option(None, "--out", "-o", metavar="FILE", help="Write every result here: .csv or .parquet (flat columns), else JSON lines (everything)."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    encoding: str | None = typer.Option(None, "--encoding", metavar="NAME", help=ENCODING_HELP),
    columns: str | None = typer.Option(None, "--columns", metavar="FIELD=COL,...", help=COLUMNS_HELP),
    id_col: str | None = typer.Option(None, "--id-col", metavar="NAME", help="An input column (CSV) or field (corpus) passed through to every result as `id`."),
    cut: float | None = typer.Option(None, "--threshold", metavar="P", min=0.0, max=1.0, help="Call an item likely overturned from this P on (default: the model's trained operating point)."),
):
    """Score requests: probability of overturn, top reasons with evidence, missing documentation."""
    from imr_ml.pool import WorkerCrashed
    from imr_ml.scoring.results_io import BatchSummary
    from imr_ml.scoring.score import BATCH, score_rows, with_threshold

    if out:
        check_out(out)
    rows = request_inputs(inputs, summary_file, item, guideline, date_of_injury, ur_denial_date, other_item,
                          encoding, columns, (ur_decision, ur_reason), id_col)
    loaded = _load(model_dir)
    if cut is not None:
        loaded = with_threshold(loaded, cut)
    # Worker processes pay for themselves from a few batches on.
    n_jobs = (jobs or os.cpu_count() or 1) if len(rows) >= 4 * BATCH else 1
    results, summary = [], BatchSummary()
    try:
        # a batch command: the CLI, not the library, tunes the GC for itself
        with progress_bar(len(rows) > 2000 and sys.stderr.isatty(), "Scoring items", len(rows)) as update, \
                _sink(out) as write, fewer_gc_pauses():
            for r in score_rows(loaded, rows, top=top, progress=update, n_jobs=n_jobs):
                summary.add(r)
                write(r)
                if as_json or len(results) < PRINTED:
                    results.append(r)
    except WorkerCrashed:
        fail("a scoring worker process died (out of memory?); nothing was written: try again with --jobs 1", 1)
    _warn(summary)
    if as_json:
        typer.echo(json.dumps(results if len(results) > 1 or not item else results[0], indent=2))
        return
    for r in results:
        typer.echo(format_result(r))
    if len(rows) > 1:
        for line in batch_lines(summary, len(results), out, threshold_text(loaded, cut)):
            typer.echo(line)


@contextmanager
def _sink(out: Path | None):
    """`write(result)` into --out (by its suffix), or nowhere without one."""
    from imr_ml.scoring.results_io import result_writer

    if not out:
        yield lambda r: None
        return
    with writing(out), result_writer(out) as write:
        yield write


def threshold_text(loaded, cut: float | None) -> str:
    from imr_ml.scoring.score import threshold

    source = "--threshold" if cut is not None else "the model's operating point"
    return f"threshold {threshold(loaded):.3f} ({source})"


def batch_lines(summary, printed: int, out: Path | None, threshold_note: str) -> list[str]:
    """What a batch prints after its first items: how many were not printed and where
    they are, then counts by band, decision and category."""
    lines = []
    if summary.n > printed:
        where = f"all {summary.n} are in {out}" if out else "pass --out scores.csv (or .jsonl, .parquet) for all"
        lines.append(f"... {summary.n - printed} more items not printed; {where}")
    elif out:
        lines.append(f"{summary.n} items scored -> {out}")
    return lines + summary.lines(threshold_note)


def _warn(summary) -> None:
    """One stderr line per kind of out-of-range request, with its count."""
    from imr_ml.modeling.ranges import WARNING_TEXT

    for kind, n in summary.warnings.items():
        typer.echo(f"warning: {n} of {summary.n} items {WARNING_TEXT.get(kind, kind)} "
                   "(see each result's warnings)", err=True)


def format_result(r: dict) -> str:
    from imr_ml.scoring.results_io import result_id

    head = f"{result_id(r)} {r.get('item')}"
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
    lines += [f"  warning: {w['message']}" for w in r.get("warnings") or []]
    return "\n".join(lines)
