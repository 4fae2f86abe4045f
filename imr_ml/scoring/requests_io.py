"""Reading requests to score from a CSV as people actually save them: from Excel (a UTF-8
byte-order mark, or Windows-1252), with their own column names. Every error is one line
naming the file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from imr_ml.scoring.score import request_row, ur_verb

REQUIRED_CSV = ("summary", "item")
CSV_FIELDS = (*REQUIRED_CSV, "claims_admin_guideline", "date_of_injury", "ur_denial_date", "ur_decision", "ur_reason",
              "letter_id")
# utf-8-sig reads plain UTF-8 too, and drops the byte-order mark Excel writes first
DEFAULT_ENCODING = "utf-8-sig"


def parse_columns(spec: str | None) -> dict[str, str]:
    """The --columns mapping of fields to a CSV's own column names.

    Parameters
    ----------
    spec : str or None
        ``FIELD=COLUMN`` pairs separated by commas, e.g. ``summary=Notes,item=Treatment``.

    Returns
    -------
    dict of str to str
        {field: CSV column}; empty for no `spec`.

    Raises
    ------
    ValueError
        A pair without ``=`` or a column, or a field not in ``CSV_FIELDS`` (one line).
    """
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        field, sep, column = (x.strip() for x in part.partition("="))
        if not sep or not column:
            raise ValueError(f"--columns takes FIELD=COLUMN pairs, not {part!r}")
        if field not in CSV_FIELDS:
            raise ValueError(f"--columns: unknown field {field!r} (one of {', '.join(CSV_FIELDS)})")
        mapping[field] = column
    return mapping


class UnreadableInput(ValueError):
    """A CSV that failed while it was being read, after it had been checked (it changed, or
    the disk failed): its message is one line naming the file."""


class CsvRequests:
    """The requests of a CSV file as people save them (Excel's BOM, cp1252, their own
    names), read one row at a time as they are iterated.

    The file is checked and counted once up front (encoding, CSV syntax, columns, every UR
    decision), so a bad file still fails before any work with one line; iterating then reads
    it again, so a million-row file costs the memory of the rows in flight, not of the file.

    Parameters
    ----------
    path : str
        The CSV: columns summary, item and optionally the other ``CSV_FIELDS``.
    encoding : str, optional
        Its encoding (default UTF-8 with or without a byte-order mark).
    columns : dict of str to str, optional
        {field: column} for columns named otherwise (:func:`parse_columns`).
    id_col : str, optional
        A column whose value each row keeps as ``id``.

    Raises
    ------
    ValueError
        Unreadable, wrongly encoded or malformed, naming the file (and the row).
    """

    def __init__(self, path: str, encoding: str | None = None, columns: dict[str, str] | None = None,
                 id_col: str | None = None) -> None:
        self.path = path
        self.encoding = encoding or DEFAULT_ENCODING
        self.names = {f: (columns or {}).get(f, f) for f in CSV_FIELDS}
        self.id_col = id_col
        self.n = self._count()

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[dict]:
        """One scoring row per CSV row (``letter_id`` ``rowN`` when the CSV has none);
        raises `UnreadableInput`."""
        try:
            with self._reading() as fh:
                yield from _requests(csv.DictReader(fh), self.path, self.names, self.id_col)
        except ValueError as exc:
            raise UnreadableInput(str(exc)) from None

    def _count(self) -> int:
        """The number of requests, with every check `__iter__` would make on the way."""
        with self._reading() as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            _check_header(header, self.path, self.names, self.id_col)
            at = {name: j for j, name in enumerate(header)}  # a repeated name: its last column, as DictReader
            decision = at.get(self.names["ur_decision"])
            n = 0
            for rec in reader:
                if not rec:  # DictReader skips blank lines
                    continue
                n += 1
                if decision is not None and decision < len(rec) and rec[decision]:
                    try:
                        ur_verb(rec[decision])
                    except ValueError as exc:
                        raise ValueError(f"{self.path} row {n}: {exc}") from None
        if not n:
            raise ValueError(f"{self.path} has a header but no requests")
        return n

    @contextmanager
    def _reading(self) -> Iterator[IO[str]]:
        """The open file; its reading errors (in the block too) as one-line ValueErrors."""
        try:
            with open(self.path, newline="", encoding=self.encoding) as fh:
                yield fh
        except LookupError:
            raise ValueError(f"{self.path}: unknown --encoding {self.encoding!r}") from None
        except UnicodeDecodeError as exc:
            hint = " (saved by Excel on Windows? try --encoding cp1252)" if self.encoding == DEFAULT_ENCODING else ""
            raise ValueError(f"{self.path} is not {self.encoding} text: byte 0x{exc.object[exc.start]:02x} "
                             f"at offset {exc.start}{hint}") from None
        except csv.Error as exc:
            raise ValueError(f"{self.path} is not a readable CSV: {exc}") from None
        except OSError as exc:
            raise ValueError(f"cannot read {self.path}: {exc.strerror or exc}") from None


def read_requests_csv(path: str, encoding: str | None = None, columns: dict[str, str] | None = None,
                      id_col: str | None = None) -> CsvRequests:
    """Requests from a CSV file as people save them, read as they are used (`CsvRequests`).

    Parameters
    ----------
    path : str
        The CSV: columns summary, item and optionally the other ``CSV_FIELDS``.
    encoding : str, optional
        Its encoding (default UTF-8 with or without a byte-order mark).
    columns : dict of str to str, optional
        {field: column} for columns named otherwise (:func:`parse_columns`).
    id_col : str, optional
        A column whose value each row keeps as ``id``.

    Returns
    -------
    CsvRequests
        The file's rows, counted and checked; iterate for one scoring row per CSV row.

    Raises
    ------
    ValueError
        Unreadable, wrongly encoded or malformed, naming the file (and the row).
    """
    return CsvRequests(path, encoding, columns, id_col)


def requests_from_text(text: str, name: str, columns: dict[str, str] | None = None) -> list[dict]:
    """Requests from CSV text already in memory (an upload), as :func:`read_requests_csv`
    reads them from a file.

    Parameters
    ----------
    text : str
        The decoded CSV.
    name : str
        What error messages call it (the upload's file name).
    columns : dict of str to str, optional
        {field: column} for columns named otherwise.

    Returns
    -------
    list of dict
        One scoring row per CSV row.

    Raises
    ------
    ValueError
        A malformed CSV or row, naming `name` (and the row).
    """
    try:
        rows = list(_requests(csv.DictReader(io.StringIO(text, newline="")), name,
                              {f: (columns or {}).get(f, f) for f in CSV_FIELDS}, None))
    except csv.Error as exc:
        raise ValueError(f"{name} is not a readable CSV: {exc}") from None
    if not rows:
        raise ValueError(f"{name} has a header but no requests")
    return rows


def _check_header(header: Sequence[str], path: str, names: dict[str, str], id_col: str | None) -> None:
    """Raise ValueError, naming `path`, when the header lacks a required or --id-col column."""
    if not header:
        raise ValueError(f"{path} is empty: a CSV of requests needs a header and one row per request")
    missing = [names[f] for f in REQUIRED_CSV if names[f] not in header]
    if missing:
        raise ValueError(f"{path}: CSV needs columns {', '.join(names[f] for f in REQUIRED_CSV)} "
                         f"(missing {', '.join(missing)}; map yours with --columns summary=COL,item=COL)")
    if id_col and id_col not in header:
        raise ValueError(f"{path} has no column {id_col!r} for --id-col (columns: {', '.join(header)})")


def _requests(reader: csv.DictReader, path: str, names: dict[str, str], id_col: str | None) -> Iterator[dict]:
    """Rows of `reader`, each field read from the column `names` maps it to; raises
    ValueError naming `path` and the row."""
    _check_header(reader.fieldnames or [], path, names, id_col)
    for i, rec in enumerate(reader):
        get = {f: rec.get(names[f]) for f in CSV_FIELDS}
        try:
            row = request_row(get["summary"] or "", get["item"] or "", get["claims_admin_guideline"],
                              get["date_of_injury"], get["ur_denial_date"], ur_decision=get["ur_decision"],
                              ur_reason=get["ur_reason"])
        except ValueError as exc:
            raise ValueError(f"{path} row {i + 1}: {exc}") from None
        row["letter_id"] = get["letter_id"] or f"row{i + 1}"
        if id_col:
            row["id"] = rec.get(id_col)
        yield row
