"""Reading requests to score from a CSV as people actually save them: from Excel (a UTF-8
byte-order mark, or Windows-1252), with their own column names. Every error is one line
naming the file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence

from imr_ml.dates import DateError, read_row_dates
from imr_ml.schema import ITEM_SEPARATOR, is_missing
from imr_ml.scoring.score import request_row

REQUIRED_CSV = ("summary", "item")
CSV_FIELDS = (*REQUIRED_CSV, "claims_admin_guideline", "date_of_injury", "ur_denial_date", "ur_decision", "ur_reason",
              "other_items", "letter_id")
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

    The file is read once up front to check and count it (encoding, CSV syntax, columns,
    every row's fields and dates) and to count the rows that repeat an earlier request, so a
    bad file still fails before any work with one line; iterating reads it again, so a
    million-row file costs the memory of the rows in flight, not of the file.

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

    Attributes
    ----------
    repeated : int
        How many rows repeat an earlier request exactly: every field and id the same (the
        ``rowN`` a row without its own name is given does not count).

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
        seen: set[int] = set()  # a hash per distinct request: 64 bits, where the texts would be the file
        n = 0
        for n, row in enumerate(self._read(), 1):
            seen.add(hash(_request_key(row, n)))
        self.n, self.repeated = n, n - len(seen)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[dict]:
        """One scoring row per CSV row (``letter_id`` ``rowN`` when the CSV has none);
        raises `UnreadableInput`."""
        try:
            yield from self._read()
        except ValueError as exc:
            raise UnreadableInput(str(exc)) from None

    def _read(self) -> Iterator[dict]:
        """The rows, read from the file; its reading errors as one-line ValueErrors."""
        try:
            with open(self.path, newline="", encoding=self.encoding) as fh:
                yield from _requests(csv.DictReader(fh), self.path, self.names, self.id_col)
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


def requests_from_text(text: str, name: str, columns: dict[str, str] | None = None) -> list[dict]:
    """Requests from CSV text already in memory (an upload), as `CsvRequests`
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
        return list(_requests(csv.DictReader(io.StringIO(text, newline="")), name,
                              {f: (columns or {}).get(f, f) for f in CSV_FIELDS}, None))
    except csv.Error as exc:
        raise ValueError(f"{name} is not a readable CSV: {exc}") from None


def _requests(reader: csv.DictReader, path: str, names: dict[str, str], id_col: str | None) -> Iterator[dict]:
    """Rows of `reader` as they are read, each field read from the column `names` maps it
    to; raises ValueError naming `path` and the row."""
    header = reader.fieldnames or []
    if not header:
        raise ValueError(f"{path} is empty: a CSV of requests needs a header and one row per request")
    empty = True
    for row in _request_rows(reader, header, path, names, id_col, CLI_MAPPING):
        empty = False
        yield row
    if empty:
        raise ValueError(f"{path} has a header but no requests")


CLI_MAPPING = ("map yours with --columns summary=COL,item=COL", "--id-col")


def request_rows(records: Iterable[Mapping], header: Sequence[str], source: str, names: dict[str, str],
                 id_col: str | None, how: tuple[str, str] = CLI_MAPPING) -> list[dict]:
    """Scoring rows of records with columns (a CSV's rows, a DataFrame's, dicts from code):
    the one reading of typed requests, so a file and the Python API refuse the same things.

    Parameters
    ----------
    records : iterable of mapping
        {column: value}; missing values (None, NaN) are empty.
    header : sequence of str
        The columns the records have.
    source : str
        What errors call the records (a file name).
    names : dict of str to str
        {field: column} for every field of ``CSV_FIELDS``.
    id_col : str or None
        A column whose value each row keeps as ``id``.
    how : (str, str)
        How the user maps columns, and how the id column option is called, for the errors.

    Returns
    -------
    list of dict
        One row per record (``letter_id`` ``rowN`` where it has none).

    Raises
    ------
    RequestError
        No column for a required field or for `id_col`, or a record that is no request,
        naming `source` (and the row).
    """
    return list(_request_rows(records, header, source, names, id_col, how))


def _request_rows(records: Iterable[Mapping], header: Sequence[str], source: str, names: dict[str, str],
                  id_col: str | None, how: tuple[str, str]) -> Iterator[dict]:
    """`request_rows`, one row at a time as the records are read."""
    missing = [names[f] for f in REQUIRED_CSV if names[f] not in header]
    if missing:
        raise RequestError(f"{source} needs columns {', '.join(names[f] for f in REQUIRED_CSV)} "
                           f"(missing {', '.join(missing)}; it has {_listed(header)}; {how[0]})")
    if id_col and id_col not in header:
        raise RequestError(f"{source} has no column {id_col!r} for {how[1]} (it has {_listed(header)})")
    for i, rec in enumerate(records):
        get = {f: _value(rec.get(names[f])) for f in CSV_FIELDS}
        try:
            row = request_row(_text(get["summary"]), _text(get["item"]), _text(get["claims_admin_guideline"]) or None,
                              get["date_of_injury"], get["ur_denial_date"], _other_items(get["other_items"]),
                              ur_decision=_text(get["ur_decision"]) or None, ur_reason=_text(get["ur_reason"]) or None)
        except DateError as exc:  # named as the records name the column
            raise RequestError(f"{source} row {i + 1}: {exc.named(names.get(exc.field, exc.field))}") from None
        except ValueError as exc:
            raise RequestError(f"{source} row {i + 1}: {exc}") from None
        row["letter_id"] = _text(get["letter_id"]) or f"row{i + 1}"
        if id_col:
            row["id"] = _value(rec.get(id_col))
        yield row


class RequestError(ValueError):
    """Records that are no requests; the message is one line naming their source."""


def _listed(names: Iterable) -> str:
    """Column names as a message lists them: the first ten."""
    names = [str(n) for n in names]
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _value(v):
    """A cell as read: None for a missing one (a DataFrame's NaN, pandas' NA)."""
    return None if is_missing(v) else v


def _text(v) -> str:
    return "" if v is None else str(v)


def _other_items(v) -> list[str]:
    """Other items of the application: a list, or text separated as a corpus separates them."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if not is_missing(x)]
    return [x for x in (p.strip() for p in str(v).split(ITEM_SEPARATOR.strip())) if x]


def mapped_rows(rows: list[dict], source: str, columns: dict[str, str] | None, id_col: str | None,
                how: tuple[str, str] = CLI_MAPPING) -> list[dict]:
    """Rows of a corpus (JSONL, Parquet, letters) read as requests: fields taken from the
    user's own columns, and the same fields and id column required as of a CSV.

    Parameters
    ----------
    rows : list of dict
        Corpus rows (`imr_ml.letters.ingest.load_rows`).
    source : str
        What errors call them (the files).
    columns : dict of str to str, optional
        {field: column} for fields named otherwise.
    id_col : str or None
        A field whose value each row keeps as ``id``.
    how : (str, str)
        How the user maps columns, and how the id option is called, for the errors.

    Returns
    -------
    list of dict
        The rows, mapped fields renamed (and their dates read), with ``id``.

    Raises
    ------
    RequestError
        No row has a required field or the id field; a mapped date that is no date.
    """
    names = {f: (columns or {}).get(f, f) for f in CSV_FIELDS}
    header = set().union(*(r.keys() for r in rows)) if rows else set()
    missing = [names[f] for f in REQUIRED_CSV if names[f] not in header]
    if missing:
        raise RequestError(f"{source} needs fields {', '.join(names[f] for f in REQUIRED_CSV)} "
                           f"(no row has {', '.join(missing)}; {how[0]})")
    if id_col and id_col not in header:
        raise RequestError(f"no row of {source} has the field {id_col!r} for {how[1]}")
    renamed = {c: f for f, c in names.items() if c != f}  # {the user's column: the field}
    supplied = set(renamed.values())  # fields read from another column: their own name is dropped
    out = []
    for i, row in enumerate(rows):
        if renamed:
            row = {renamed.get(k, k): v for k, v in row.items() if k in renamed or k not in supplied}
            try:
                row = read_row_dates(row, names)
            except DateError as exc:
                raise RequestError(f"{source} row {i + 1}: {exc}") from None
        out.append(row | {"id": row.get(id_col)} if id_col else row)
    return out


def _request_key(row: dict, n: int) -> str:
    """What makes row `n` (from 1) the request it is: every field and id (the ``rowN`` a row
    without its own name is given does not count)."""
    return json.dumps({k: v for k, v in row.items() if not (k == "letter_id" and v == f"row{n}")}, sort_keys=True,
                      default=str)
