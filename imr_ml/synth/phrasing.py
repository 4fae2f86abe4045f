"""The generator's words: its phrase bank, the taxonomy it draws items from, and the small
text helpers every part of a synthetic letter uses (dates, lists, capitals, wrapping)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from imr_ml.knowledge.schema import unknown
from imr_ml.knowledge.taxonomy import Category, load_taxonomy, load_toml
from imr_ml.knowledge.validate import refuse

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 9: "nine",
                10: "ten", 12: "twelve", 16: "sixteen", 18: "eighteen", 24: "twenty-four"}


@lru_cache(maxsize=1)
def phrases() -> dict:
    """The generator's own phrase bank (`features/synth_phrases.toml`), never shared with the
    signal extractor: a test that finds a signal must not be finding the generator's words.
    Its item kinds and `chapter_cited` name categories of the taxonomy (checked here)."""
    bank = load_toml("synth_phrases.toml")
    known = [c.name for c in load_taxonomy()]
    refuse("synth_phrases.toml", None,
           [(("items", name), unknown("category", name, known)) for name in bank["items"] if name not in known]
           + [(("chapter_cited", j), f"chapter_cited: {unknown('category', name, known)}")
              for j, name in enumerate(bank["chapter_cited"]) if name not in known])
    return bank


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, Category]:
    """Treatment categories by name: their uphold priors set the base log-odds of the truth,
    their guidelines are what the letters cite."""
    return {c.name: c for c in load_taxonomy()}


class Placeholders(dict):
    """A `str.format_map` mapping that leaves an unknown placeholder visible ("{key}") instead
    of raising, so a slip in the phrase bank shows in the letter rather than stopping a run."""

    def __missing__(self, key: str) -> str:  # pragma: no cover - a bug in the phrase bank
        return "{" + key + "}"


def cap(text: str) -> str:
    """First letter upper-cased, the rest untouched (str.capitalize would lower "MRI")."""
    return text[:1].upper() + text[1:]


def join_and(parts: list[str]) -> str:
    """"a", "a and b", "a, b, and c": a list as a sentence names it."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def lower_first(name: str) -> str:
    """An item name as it reads inside a sentence: lower-cased first letter unless the first
    word is a brand or an acronym."""
    first = name.split(" ", 1)[0]
    brands = _brands()
    if first in brands or not first[1:2].islower() or first.split("/")[0] in brands:
        return name
    return name[:1].lower() + name[1:]


@lru_cache(maxsize=1)
def _brands() -> frozenset[str]:
    """First words that keep their capital (phrase bank `brands`)."""
    return frozenset(phrases()["brands"])


def fmt_date(day: date, style: int) -> str:
    """A date in one of the four ways letters write them ("March 4, 2016", "03/04/2016",
    "3/4/16", "03-04-2016")."""
    if style == 0:
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == 1:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    if style == 2:
        return f"{day.month}/{day.day}/{day.year % 100:02d}"
    return f"{day.month:02d}-{day.day:02d}-{day.year}"


def visits(qty: int, style: int) -> str:
    """A quantity of visits, phrased one of several ways (the style is fixed per item, so the
    same item reads the same wherever it is restated)."""
    if style == 0:
        for per_week in (2, 3, 1):
            if qty % per_week == 0 and qty // per_week <= 8:
                weeks = qty // per_week
                return f"{per_week} times a week for {weeks} week{'s' if weeks > 1 else ''}"
        style = 1
    if style == 1:
        return f"x{qty}"
    if style == 2:
        return f"{qty} sessions"
    if style == 3:
        return f"({qty} sessions)"
    if style == 4 and qty in NUMBER_WORDS:
        return f"{NUMBER_WORDS[qty]} visits"
    return f"{qty} visits"


@lru_cache(maxsize=8)
def _wrap_re(width: int) -> re.Pattern:
    """The greedy line pattern of one wrap width (letters use 91-97)."""
    return re.compile(rf"(.{{1,{width}}})(?: |$)")


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at `width` characters; every line keeps a trailing space, as text
    extracted from a PDF does."""
    return [m + " " for m in _wrap_re(width).findall(text) if m]
