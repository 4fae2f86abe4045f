"""What a parsed letter is (`Letter`, one `Item` per disputed request) and how its fields
read: case numbers, header dates (by the one date reader, `imr_ml.dates`), retrospective
requests. Shared by every layout, by ingest, and by scoring (a request typed in reads its
retrospective flag the way a letter does)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imr_ml.dates import DateError, read_date

CASE_RE = re.compile(r"\bCM\d{2}-\d{5,7}\b")
DATE_RE = r"(\d{1,2}/\d{1,2}/\d{2,4})"
RETRO_RE = re.compile(r"\bretro(?:spective|active)?\b|\bDOS\b|\bdate of service\b", re.IGNORECASE)


class LayoutError(Exception):
    """The letter is in a known layout but incomplete; the message is the one-line reason."""


@dataclass
class Item:
    """One disputed item as the letter states it."""

    item: str
    item_full: str
    decision: str  # "upheld" | "overturned"
    original_request: str | None = None
    authorized_portion: str | None = None
    claims_admin_guideline: str | None = None
    reviewer_guideline: str | None = None
    rationale: str | None = None

    @property
    def retrospective(self) -> bool:
        """A request for care already given (its heading names a date of service)."""
        return bool(RETRO_RE.search(self.item_full))


@dataclass
class Letter:
    """One determination letter: header facts, case summary and items."""

    layout: str
    letter_id: str | None
    summary: str
    items: list[Item] = field(default_factory=list)
    date_of_injury: str | None = None
    ur_denial_date: str | None = None
    decision_date: str | None = None
    reviewer_specialty: str | None = None
    stated_items: int | None = None  # how many items the letter says it decides, where it says
    warnings: list[str] = field(default_factory=list)  # doubts about a letter kept whole (one line each)


def squash(text: str | None) -> str | None:
    """Wrapped lines joined, runs of white space made one space; None for nothing left."""
    if text is None:
        return None
    out = re.sub(r"\s+", " ", text).strip()
    return out or None


def iso_date(text: str | None) -> str | None:
    """The first m/d/y date in `text` (a letter's header) as YYYY-MM-DD, read by the one
    date reader (`imr_ml.dates`); a date that is no calendar day (13/45/2019) is a
    LayoutError, the reason the letter is skipped, not a silent gap."""
    m = re.search(DATE_RE, text or "")
    if not m:
        return None
    try:
        return read_date(m.group(1))
    except DateError:
        raise LayoutError(f"invalid date {m.group(1)}") from None
