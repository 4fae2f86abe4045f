"""The options of a request to score, declared once for `imr-ml score` and `imr-ml explain`
(typer reads the `Annotated` aliases), and the rows they describe.

Library imports sit inside the functions, as in every command module: `imr-ml --help` must
not load pandas or scikit-learn."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Annotated

import typer

from imr_ml.cli._app import fail

NO_SUMMARY = "no clinical summary for --item: pass --summary-file FILE or pipe the summary on stdin"

ModelDir = Annotated[Path, typer.Argument(metavar="MODEL_DIR",
                                          help="Model directory written by `imr-ml train`, or builtin.")]
SummaryFile = Annotated[Path | None, typer.Option(
    "--summary-file", metavar="FILE", help="Clinical summary of a new request (or pipe it on stdin).")]
Item = Annotated[str | None, typer.Option("--item", metavar="TEXT",
                                          help='The requested item, e.g. "Acupuncture 1x6".')]
Guideline = Annotated[str | None, typer.Option("--guideline", metavar="TEXT",
                                               help="The claims administrator's cited guideline.")]
DateOfInjury = Annotated[str | None, typer.Option("--date-of-injury", metavar="DATE",
                                                  help="MM/DD/YYYY or YYYY-MM-DD.")]
UrDenialDate = Annotated[str | None, typer.Option("--ur-denial-date", metavar="DATE",
                                                  help="MM/DD/YYYY or YYYY-MM-DD.")]
OtherItem = Annotated[list[str] | None, typer.Option(
    "--other-item", metavar="TEXT", help="Another item of the same application (repeatable).")]
UrDecision = Annotated[str | None, typer.Option(
    "--ur-decision", metavar="denied|modified",
    help="What utilization review decided: denied or modified (letters restate it; a typed request may say it here).")]
UrReason = Annotated[str | None, typer.Option(
    "--ur-reason", metavar="TEXT", help='The reason UR gave, e.g. "no documented functional improvement".')]
Encoding = Annotated[str | None, typer.Option(
    "--encoding", metavar="NAME",
    help="Encoding of CSV inputs and --summary-file (default UTF-8, with or without Excel's BOM; e.g. cp1252).")]
Columns = Annotated[str | None, typer.Option(
    "--columns", metavar="FIELD=COL,...", help="CSV column names for the fields, e.g. summary=Notes,item=Treatment.")]


class RequestRows:
    """The rows of a command's inputs, in order: CSV files are read as the rows are used
    (`imr_ml.scoring.requests_io.CsvRequests`), letters and corpora are loaded whole; how
    many there are is known up front.

    Parameters
    ----------
    parts : list
        Sized iterables of rows, one per input.
    """

    def __init__(self, parts: list) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def __iter__(self) -> Iterator[dict]:
        return chain.from_iterable(self.parts)


def gather_requests(inputs: list[str], summary_file: str | None, item: str | None, guideline: str | None,
                    date_of_injury: str | None, ur_denial_date: str | None, stdin_text: str | None = None,
                    other_items: list[str] | None = None, encoding: str | None = None,
                    columns: str | None = None, ur: tuple = (None, None), id_col: str | None = None) -> RequestRows:
    """Rows to score from the command's inputs; raises ValueError with a one-line reason.
    ``stdin_text`` None means no summary was piped in."""
    from imr_ml.scoring.score import request_row

    if item is None:
        return _rows_from_inputs(inputs, encoding, columns, id_col)
    if summary_file:
        try:
            summary = Path(summary_file).read_text(encoding=encoding or "utf-8-sig")
        except (OSError, UnicodeDecodeError, LookupError) as exc:
            raise ValueError(f"cannot read --summary-file {summary_file}: {exc}") from None
    elif stdin_text is None:
        raise ValueError(NO_SUMMARY)
    else:
        summary = stdin_text
    return RequestRows([[request_row(summary, item, guideline, date_of_injury, ur_denial_date, other_items or (),
                                     ur_decision=ur[0], ur_reason=ur[1])]])


def _rows_from_inputs(inputs: list[str], encoding: str | None, columns: str | None,
                      id_col: str | None) -> RequestRows:
    """Rows of CSV files (requests, read as they are used) and of letters or corpora;
    raises ValueError."""
    from imr_ml.letters.ingest import NoRows, load_rows
    from imr_ml.modeling.rowcheck import check_row_types
    from imr_ml.scoring.requests_io import parse_columns, read_requests_csv

    if not inputs:
        raise ValueError("give letters, a corpus or a CSV to score, "
                         "or --item with --summary-file (or the summary on stdin)")
    mapping = parse_columns(columns)
    parts: list = []
    others = []
    for p in inputs:
        if p.lower().endswith(".csv"):
            parts.append(read_requests_csv(p, encoding, mapping, id_col))
        else:
            others.append(p)
    if others:
        try:
            corpus = load_rows(others)
        except NoRows as exc:
            raise ValueError(str(exc)) from None
        check_row_types(corpus)
        parts.append(_with_ids(corpus, id_col, others))
    return RequestRows(parts)


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
                   encoding=None, columns=None, ur=(None, None), id_col=None) -> RequestRows:
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
