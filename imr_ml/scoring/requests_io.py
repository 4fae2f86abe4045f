"""Reading requests to score from a CSV as people actually save them: from Excel (a UTF-8
byte-order mark, or Windows-1252), with their own column names. Every error is one line
naming the file."""

from __future__ import annotations

import csv
import io

from imr_ml.dates import DateError
from imr_ml.scoring.score import request_row

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


def read_requests_csv(path: str, encoding: str | None = None, columns: dict[str, str] | None = None,
                      id_col: str | None = None) -> list[dict]:
    """Requests from a CSV file as people save them (Excel's BOM, cp1252, their own names).

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
    list of dict
        One scoring row per CSV row (``letter_id`` ``rowN`` when the CSV has none).

    Raises
    ------
    ValueError
        Unreadable, wrongly encoded or malformed, naming the file (and the row).
    """
    encoding = encoding or DEFAULT_ENCODING
    try:
        with open(path, newline="", encoding=encoding) as fh:
            return _requests(csv.DictReader(fh), path, {f: (columns or {}).get(f, f) for f in CSV_FIELDS}, id_col)
    except LookupError:
        raise ValueError(f"{path}: unknown --encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        hint = " (saved by Excel on Windows? try --encoding cp1252)" if encoding == DEFAULT_ENCODING else ""
        raise ValueError(f"{path} is not {encoding} text: byte 0x{exc.object[exc.start]:02x} "
                         f"at offset {exc.start}{hint}") from None
    except csv.Error as exc:
        raise ValueError(f"{path} is not a readable CSV: {exc}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None


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
        return _requests(csv.DictReader(io.StringIO(text, newline="")), name,
                         {f: (columns or {}).get(f, f) for f in CSV_FIELDS}, None)
    except csv.Error as exc:
        raise ValueError(f"{name} is not a readable CSV: {exc}") from None


def _requests(reader: csv.DictReader, path: str, names: dict[str, str], id_col: str | None) -> list[dict]:
    """Rows of `reader`, each field read from the column `names` maps it to; raises
    ValueError naming `path` and the row."""
    header = reader.fieldnames or []
    if not header:
        raise ValueError(f"{path} is empty: a CSV of requests needs a header and one row per request")
    missing = [names[f] for f in REQUIRED_CSV if names[f] not in header]
    if missing:
        raise ValueError(f"{path}: CSV needs columns {', '.join(names[f] for f in REQUIRED_CSV)} "
                         f"(missing {', '.join(missing)}; map yours with --columns summary=COL,item=COL)")
    if id_col and id_col not in header:
        raise ValueError(f"{path} has no column {id_col!r} for --id-col (columns: {', '.join(header)})")
    rows = []
    for i, rec in enumerate(reader):
        get = {f: rec.get(names[f]) for f in CSV_FIELDS}
        try:
            row = request_row(get["summary"] or "", get["item"] or "", get["claims_admin_guideline"],
                              get["date_of_injury"], get["ur_denial_date"], ur_decision=get["ur_decision"],
                              ur_reason=get["ur_reason"])
        except DateError as exc:  # named as the file names the column
            raise ValueError(f"{path} row {i + 1}: {exc.named(names.get(exc.field, exc.field))}") from None
        except ValueError as exc:
            raise ValueError(f"{path} row {i + 1}: {exc}") from None
        row["letter_id"] = get["letter_id"] or f"row{i + 1}"
        if id_col:
            row["id"] = rec.get(id_col)
        rows.append(row)
    if not rows:
        raise ValueError(f"{path} has a header but no requests")
    return rows
