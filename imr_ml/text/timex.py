"""Time expressions in clinical text, read as a number of days before a reference date.

A note says when something happened in many ways: a date ("on 10-22-2016", "10/2016",
"October 22, 2016"), a time relative to when it was written ("yesterday", "this week",
"5 days ago", "last month") or to an operation ("2 weeks post-op", "POD 3", "post-op week 4",
"6 weeks out from surgery"). `time_expressions` finds them all and `TimeExpression.days_before`
turns each into days before a reference date (the date the text is judged at: for a letter the
utilization-review date, for a typed request the day it is scored). Relative expressions need
no reference; a date needs one, and a year alone gives only a lower bound.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a few": 3, "a couple of": 2,
                 "a couple": 2, "several": 4}
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}

_NUM = (r"(?P<n>\d{1,3}|a few|a couple(?: of)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
        r"|several)")
_UNIT = r"(?P<unit>days?|wks?|weeks?|mos?|months?|yrs?|years?)"
_AFTER_OPERATION = (r"(?:post[- ]?op\w*|post[- ]?surg\w*|postsurg\w*|status[- ]post|s/p"
                    r"|out (?:from|after|of) (?:the |his |her )?(?:surgery|operation|procedure)"
                    r"|(?:after|following|from|since) (?:the |his |her )?(?:surgery|operation|procedure))")
_MONTH_NAME = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
               r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")

# (pattern, kind): tried in this order; a later pattern never overlaps an earlier match.
_PATTERNS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p), kind) for p, kind in (
    (rf"\b{_NUM}[- ]{_UNIT}[- ]?(?:{_AFTER_OPERATION})", "count"),
    (r"\b(?:post[- ]?op(?:erative)?|post[- ]?surgical|postsurgical) (?P<which>day|week|wk|month) ?#?"
     r"(?P<n>\d{1,3})\b", "ordinal"),
    (r"\bpod ?#? ?(?P<n>\d{1,3})\b", "pod"),
    (rf"\b{_NUM} {_UNIT} (?:ago|prior|earlier|before|back)\b", "count"),
    (r"\b(?:the )?day before yesterday\b", "2"),
    (r"\b(?:yesterday|last night)\b", "1"),
    (r"\b(?:earlier )?today\b|\bthis (?:morning|afternoon)\b|\btonight\b", "0"),
    (r"\b(?:earlier |during )?this (?:past )?week\b|\bthe past few days\b", "3"),
    (r"\blast weekend\b", "5"),
    (r"\b(?:last|the past|the previous|the prior) week\b", "7"),
    (r"\b(?:earlier )?this month\b", "15"),
    (r"\b(?:last|the past|the previous|the prior) month\b", "30"),
    (r"\blast year\b", "365"),
    (r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b", "ymd"),
    (r"\b(?P<m>\d{1,2})[-/](?P<d>\d{1,2})[-/](?P<y>(?:19|20)?\d\d)\b", "mdy"),
    (r"\b(?P<m>\d{1,2})[-/](?P<y>(?:19|20)\d\d)\b", "my"),
    (rf"\b{_MONTH_NAME} (?P<d>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<y>(?:19|20)\d\d)\b", "mdy_named"),
    (rf"\b(?P<d>\d{{1,2}}) {_MONTH_NAME},? (?P<y>(?:19|20)\d\d)\b", "mdy_named"),
    (rf"\b{_MONTH_NAME},? (?P<y>(?:19|20)\d\d)\b", "my_named"),
    (r"\b(?:on|dated) (?P<m>\d{1,2})/(?P<d>\d{1,2})\b(?![/\d])", "md"),
    (r"\b(?:in|since|from|during) (?P<y>(?:19|20)\d\d)\b", "year"),
))


class TimeExpression(NamedTuple):
    """One time expression and when it says something happened.

    Parameters
    ----------
    start, end : int
        Its span in the text.
    days_ago : int or None
        Days before the writer's now, for a relative expression.
    on : datetime.date or None
        The date, for a date (a month alone: its first day; no year: the reference's year).
    year : int or None
        The year, for a year alone ("in 2014").
    """

    start: int
    end: int
    days_ago: int | None = None
    on: date | None = None
    year: int | None = None

    def days_before(self, ref: date) -> int | None:
        """Days from the expression to `ref` (a year alone: to its last day, a lower bound).

        Parameters
        ----------
        ref : datetime.date
            The reference date (when the text is judged).

        Returns
        -------
        int or None
            The days; None when the expression gives no day count (a year alone that is the
            reference's own year), or lies after `ref`.
        """
        if self.days_ago is not None:
            return self.days_ago
        if self.on is not None:
            days = (ref - self.on).days
            return days if days >= 0 else None
        if self.year is not None and self.year < ref.year:
            return (ref - date(self.year, 12, 31)).days
        return None


def _count(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def _date(y: int, m: int, d: int) -> date | None:
    """The day, or None when there is no such day (2/30/2015 is not a date to reckon from)."""
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if y < 100 else y


def _read(m: re.Match, kind: str, ref: date) -> TimeExpression | None:
    """The expression a match of one pattern states, or None when it is no time."""
    g = m.groupdict()
    span = m.span()
    if kind.isdigit():
        return TimeExpression(*span, days_ago=int(kind))
    if kind == "count":
        n = _count(g["n"])
        return TimeExpression(*span, days_ago=n * _UNIT_DAYS[g["unit"][0]]) if n is not None else None
    if kind == "ordinal":  # post-op week 4: within its fourth week
        n, which = int(g["n"]), g["which"][0]
        days = n if which == "d" else 30 * n if which == "m" else 7 * max(n - 1, 0) + 3
        return TimeExpression(*span, days_ago=days)
    if kind == "pod":
        return TimeExpression(*span, days_ago=int(g["n"]))
    if kind == "year":
        return TimeExpression(*span, year=int(g["y"]))
    month = _MONTHS[g["mon"][:3]] if g.get("mon") else int(g["m"])
    day = int(g["d"]) if g.get("d") else 1
    year = _year(g["y"]) if g.get("y") else ref.year
    on = _date(year, month, day)
    if on is not None and not g.get("y") and on > ref:  # "on 12/20" read in January: last year's
        on = _date(year - 1, month, day)
    return TimeExpression(*span, on=on) if on is not None else None


def time_expressions(low: str, ref: date, start: int = 0, end: int | None = None) -> list[TimeExpression]:
    """Every time expression in a lower-cased text (or a stretch of it), in text order, none
    overlapping.

    Parameters
    ----------
    low : str
        The lower-cased text.
    ref : datetime.date
        The reference date (a month and day without a year are taken in its year, or the
        year before when that would fall after it).
    start, end : int, optional
        The stretch read (spans stay offsets into `low`).

    Returns
    -------
    list of TimeExpression
        The expressions found.
    """
    found: list[TimeExpression] = []
    taken: list[tuple[int, int]] = []
    for rx, kind in _PATTERNS:
        for m in rx.finditer(low, start, len(low) if end is None else end):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            expr = _read(m, kind, ref)
            if expr is None:
                continue
            found.append(expr)
            taken.append((s, e))
    found.sort()
    return found
