"""The inputs and options of the requests to read, declared once for `imr-ml score`,
`explain`, `similar` and `signals` (typer reads the `Annotated` aliases; `takes_requests` puts
them in a command), and the rows they describe.

Library imports sit inside the functions, as in every command module: `imr-ml --help` must
not load pandas or scikit-learn."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Annotated

import typer

from imr_ml.cli._app import fail

NO_SUMMARY = "no clinical summary for --item: pass --summary-file FILE or pipe the summary on stdin"

RequestInputs = Annotated[list[Path] | None, typer.Argument(metavar="INPUT...", help=(
    "Letters (PDF or text, or folders of them), corpora (.jsonl/.parquet) or a CSV of requests."))]
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


IdCol = Annotated[str | None, typer.Option("--id-col", metavar="NAME", help=(
    "An input column (CSV) or field (corpus) passed through to every result, under its own name."))]
MAX_SUMMARY_CHARS = 1_000_000  # a clinical summary is a few pages; /dev/zero must not fill the memory


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
                    columns: str | None = None, ur: tuple = (None, None), id_col: str | None = None,
                    say: Callable[[str], None] | None = None) -> RequestRows:
    """Rows to score from the command's inputs; raises ValueError with a one-line reason.
    ``stdin_text`` None means no summary was piped in; `say` hears skipped letters and
    warnings about the inputs."""
    from imr_ml.dates import DateError
    from imr_ml.scoring.score import request_row

    if item is None:
        return _rows_from_inputs(inputs, encoding, columns, id_col, say or (lambda line: None))
    if summary_file:
        summary = read_summary_file(summary_file, encoding)
    elif stdin_text is None:
        raise ValueError(NO_SUMMARY)
    else:
        summary = stdin_text
    try:
        return RequestRows([[request_row(summary, item, guideline, date_of_injury, ur_denial_date, other_items or (),
                                         ur_decision=ur[0], ur_reason=ur[1])]])
    except DateError as exc:  # named as the command line names it
        raise exc.named("--" + exc.field.replace("_", "-")) from None


def read_summary_file(path: str, encoding: str | None) -> str:
    """The text of --summary-file, at most `MAX_SUMMARY_CHARS` read (a device such as
    /dev/zero never ends); raises ValueError."""
    try:
        with open(path, encoding=encoding or "utf-8-sig") as fh:
            return bounded_summary(fh.read(MAX_SUMMARY_CHARS + 1), f"--summary-file {path}")
    except (OSError, UnicodeDecodeError, LookupError) as exc:
        raise ValueError(f"cannot read --summary-file {path}: {getattr(exc, 'strerror', None) or exc}") from None


def bounded_summary(text: str, what: str) -> str:
    """`text` if it can be a clinical summary: within the size budget and text, not NULs."""
    if len(text) > MAX_SUMMARY_CHARS:
        raise ValueError(f"{what} is longer than {MAX_SUMMARY_CHARS:,} characters: a clinical summary is a "
                         "few pages of text")
    if "\0" in text:
        raise ValueError(f"{what} is not text (it holds NUL bytes)")
    return text


def _rows_from_inputs(inputs: list[str], encoding: str | None, columns: str | None, id_col: str | None,
                      say: Callable[[str], None]) -> RequestRows:
    """Rows of CSV files (requests, read as they are used) and of letters or corpora;
    raises ValueError."""
    from imr_ml.letters.ingest import NoRows, load_rows
    from imr_ml.modeling.training.rowcheck import check_row_types
    from imr_ml.scoring.requests_io import CsvRequests, mapped_rows, parse_columns
    from imr_ml.scoring.results_io import check_id_name

    if not inputs:
        raise ValueError("give letters, a corpus or a CSV of requests, "
                         "or --item with --summary-file (or the summary on stdin)")
    mapping = parse_columns(columns)
    check_id_name(id_col)
    parts: list = []
    others = []
    for p in inputs:
        if p.lower().endswith(".csv"):
            got = CsvRequests(p, encoding, mapping, id_col)
            n = got.repeated
            if n:  # each row is a request, answered in its place; a copy is said, not dropped
                say(f"warning: {n} row{'s' if n > 1 else ''} of {p} repeat an earlier request exactly "
                    f"(each is scored, and counted, again)")
            parts.append(got)
        else:
            others.append(p)
    if others:
        try:
            corpus = load_rows(others, on_skip=lambda s: say(f"skipped {s['source']}: {s['reason']}"),
                               on_warning=lambda w: say(f"warning: {w}"))
        except NoRows as exc:
            raise ValueError(str(exc)) from None
        check_row_types(corpus)
        parts.append(mapped_rows(corpus, ", ".join(others), mapping, id_col))
    return RequestRows(parts)


def piped_stdin() -> str | None:
    """The text piped in on stdin (at most `MAX_SUMMARY_CHARS` read); None when stdin is
    closed or a terminal (nothing piped)."""
    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return None
    return bounded_summary(sys.stdin.read(MAX_SUMMARY_CHARS + 1), "the summary on stdin")


@dataclass(frozen=True)
class Requests:
    """What a command that reads requests was given, the same for every such command
    (`takes_requests` declares it): letters, corpora or CSVs (`INPUT...`), or one new request
    typed on the command line (`--item`, `--summary-file`, ...), and how CSVs are read."""

    inputs: list[Path] | None = None
    summary_file: Path | None = None
    item: str | None = None
    guideline: str | None = None
    date_of_injury: str | None = None
    ur_denial_date: str | None = None
    other_item: list[str] | None = None
    ur_decision: str | None = None
    ur_reason: str | None = None
    encoding: str | None = None
    columns: str | None = None
    id_col: str | None = None

    def rows(self) -> RequestRows:
        """The rows: the typed request (its summary may come on stdin), or else those of the
        inputs; bad input ends the command with one line, skipped letters and warnings
        about the inputs are said on stderr."""
        summary_file = str(self.summary_file) if self.summary_file else None
        try:
            stdin_text = piped_stdin() if self.item is not None and summary_file is None else None
            return gather_requests([str(p) for p in self.inputs or []], summary_file, self.item, self.guideline,
                                   self.date_of_injury, self.ur_denial_date, stdin_text, self.other_item,
                                   self.encoding, self.columns, (self.ur_decision, self.ur_reason), self.id_col,
                                   say=lambda line: typer.echo(line, err=True))
        except UnicodeDecodeError as exc:
            fail(f"the summary on stdin is not UTF-8 text ({exc.reason} at byte {exc.start})")
        except ValueError as exc:
            fail(str(exc))


REQUESTS_PARAMETERS = {"inputs": RequestInputs, "summary_file": SummaryFile, "item": Item, "guideline": Guideline,
                       "date_of_injury": DateOfInjury, "ur_denial_date": UrDenialDate, "other_item": OtherItem,
                       "ur_decision": UrDecision, "ur_reason": UrReason, "encoding": Encoding, "columns": Columns,
                       "id_col": IdCol}


def takes_requests(command: Callable) -> Callable:
    """`command` with the arguments and options of `REQUESTS_PARAMETERS` in place of its
    `requests` parameter: typer reads them from the signature, in that place of --help, and
    the command receives them as one `Requests`."""
    sig = inspect.signature(command, eval_str=True)
    params: list[inspect.Parameter] = []
    for p in sig.parameters.values():
        params += ([inspect.Parameter(name, p.kind, default=None, annotation=alias)
                    for name, alias in REQUESTS_PARAMETERS.items()] if p.name == "requests" else [p])

    @functools.wraps(command)
    def with_requests(**kwargs):
        requests = Requests(**{name: kwargs.pop(name) for name in REQUESTS_PARAMETERS})
        return command(**kwargs, requests=requests)

    with_requests.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return with_requests
