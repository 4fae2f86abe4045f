"""The one reader of dates, for every way a date comes in: `--date-of-injury` and
`--ur-denial-date`, CSV/JSONL/Parquet rows, corpus rows, the web form and the JSON API, and
the header of a letter.

People write dates as forms ask for them: 03/14/2019, 3/14/19, 03-14-2019 or ISO 2019-03-14
(a spreadsheet may add a time, 2019-03-14 00:00:00). One reader means a date reads the same
wherever it is typed, and a date that is no calendar day (13/45/2019, 2019-02-30) or no date
at all ("garbage") is refused with the field and the value named (`DateError`), never read
as missing. A real day in an unlikely order (an injury after the UR denial, a date in the
future) is not an error: scoring says so in the result's `warnings` (`date_warnings`).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from imr_ml.schema import is_missing

FORMS = "MM/DD/YYYY or YYYY-MM-DD"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
US_DATE = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
ISO_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})" + _TIME)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
EARLIEST_YEAR = 1900  # before it a date is a typo (0019-03-04), kept but warned about
ROW_DATES = ("date_of_injury", "ur_denial_date")


class DateError(ValueError):
    """A date field whose value is no date; the message names the field and the value."""

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field, self.value, self.why = field, value, why
        super().__init__(f"{field} {str(value)!r} is not a date: {why}")

    def named(self, name: str) -> DateError:
        """The same error naming the field as the user knows it (`--date-of-injury`, a
        CSV's own column)."""
        return DateError(name, self.value, self.why)


def read_date(value: object, field: str = "date") -> str | None:
    """A date as YYYY-MM-DD, whatever form it was written in.

    Parameters
    ----------
    value : str, date, datetime or None
        MM/DD/YYYY, M/D/YY, MM-DD-YYYY or YYYY-MM-DD (a time after it is ignored), or a
        date object (a Parquet date column, a pandas Timestamp).
    field : str
        The field's name, for the error message.

    Returns
    -------
    str or None
        The ISO date; None for an empty value.

    Raises
    ------
    DateError
        Not a date in one of those forms, or no calendar day.
    """
    if is_missing(value):  # None, NaN, NaT, pandas' NA
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise DateError(field, value, f"write it as {FORMS} (text, not a {type(value).__name__})")
    text = value.strip()
    if not text:
        return None
    iso = ISO_DATE.fullmatch(text)
    if iso:
        return calendar_day(field, value, int(iso[1]), int(iso[3]), int(iso[4]))
    us = US_DATE.fullmatch(text)
    if us:
        return calendar_day(field, value, full_year(us[4]), int(us[1]), int(us[3]))
    raise DateError(field, value, f"write it as {FORMS}")


def full_year(digits: str) -> int:
    """A year as written: two digits are the latest such year not after this one (3/4/19 is
    2019, 3/4/85 is 1985), as people mean them on a form about a past injury."""
    year = int(digits)
    if len(digits) > 2:
        return year
    this_year = date.today().year
    year += this_year - this_year % 100
    return year if year <= this_year else year - 100


def calendar_day(field: str, value: object, year: int, month: int, day: int) -> str:
    """YYYY-MM-DD of a day, or a DateError saying which part does not exist."""
    if not 1 <= month <= 12:
        hint = f"; dates are read month first, as {FORMS}" if 1 <= day <= 12 else f" (write it as {FORMS})"
        raise DateError(field, value, f"there is no month {month}{hint}")
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise DateError(field, value, f"{MONTHS[month - 1]} {year} has no day {day}") from None


def as_date(value: object) -> date | None:
    """A row's date field as a date, for features that compute with it; None when missing or
    no date (every way into a row has refused such a value with `read_date` already).

    Parameters
    ----------
    value : str, date or None
        A date field.

    Returns
    -------
    datetime.date or None
        The day.
    """
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":  # stored YYYY-MM-DD: most rows
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    try:
        day = read_date(value)
    except DateError:
        return None
    return date.fromisoformat(day) if day else None


def read_row_dates(row: dict, names: dict[str, str] | None = None) -> dict:
    """`row` with its date fields read (`ROW_DATES`); a bad one raises DateError naming the
    field as `names` maps it (a CSV's own column name), else by its own name.

    Parameters
    ----------
    row : dict
        A request or corpus row.
    names : dict of str to str, optional
        {field: the name the user gave it}.

    Returns
    -------
    dict
        A copy with the dates as YYYY-MM-DD (or None).
    """
    out = dict(row)
    for f in ROW_DATES:
        if f in out:
            out[f] = read_date(out[f], (names or {}).get(f, f))
    return out


# How `score` names each kind of date warning in its one stderr line per kind.
DATE_WARNING_TEXT = {
    "injury_after_denial": "have a date of injury after the UR denial date",
    "future_date": "have a date in the future",
    "early_date": f"have a date before {EARLIEST_YEAR}",
}


def date_warnings(row: dict, today: date | None = None) -> list[dict]:
    """Each way a request's dates are real days in an unlikely order: the injury after the
    UR denial, a date in the future or before 1900. Such a request is scored as it is (the
    time from injury to denial then reads as unknown), and the result says why.

    Parameters
    ----------
    row : dict
        A request or corpus row (dates as `read_date` stores them).
    today : datetime.date, optional
        The day "the future" starts after (default: today).

    Returns
    -------
    list of dict
        ``{"kind", "message"}`` per warning.
    """
    today = today or date.today()
    days = {f: as_date(row.get(f)) for f in ROW_DATES}
    out = []
    for f, day in days.items():
        if day and day > today:
            out.append({"kind": "future_date", "message": f"the {DATE_WORDS[f]} {day} is in the future"})
        elif day and day.year < EARLIEST_YEAR:
            out.append({"kind": "early_date",
                        "message": f"the {DATE_WORDS[f]} {day} is before {EARLIEST_YEAR}: a typo?"})
    doi, urd = days["date_of_injury"], days["ur_denial_date"]
    if doi and urd and doi > urd:
        out.append({"kind": "injury_after_denial",
                    "message": f"the date of injury {doi} is after the UR denial date {urd}: are they swapped?"})
    return out


DATE_WORDS = {"date_of_injury": "date of injury", "ur_denial_date": "UR denial date"}
