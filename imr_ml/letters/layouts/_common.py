"""What every layout shares: cleaning extracted text, dates, and the item blocks.

Letters are parsed from text as PDF extraction gives it: wrapped lines, trailing spaces,
sometimes blank lines between every line (2013 letters), and page footers ("Final
Determination Letter for IMR Case Number CM13-0000000 4") spliced into sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

CASE_RE = re.compile(r"\bCM\d{2}-\d{5,7}\b")
FOOTER_RE = re.compile(
    r"[ \t]*Final Determination Letter for IMR Case Number[ \t]*(CM\d{2}-\d{5,7})?[ \t]*\d{0,3}[ \t]*",
    re.IGNORECASE,
)
DATE_RE = r"(\d{1,2}/\d{1,2}/\d{2,4})"
CA_LABEL = re.compile(r"Claims Administrator guideline\s*:", re.IGNORECASE)
REVIEWER_LABEL = re.compile(r"MAXIMUS guideline\s*:", re.IGNORECASE)
RATIONALE_LABEL = re.compile(r"Decision rationale\s*:", re.IGNORECASE)
BOILERPLATE_SUMMARY = re.compile(
    r"^\s*The expert reviewer developed the following clinical case summary based on a review"
    r" of the case file, including all medical records\s*:?\s*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"""[.!?]["'\u201d)\]]?\s*$""")
_PARTIAL_NEW = re.compile(
    r"^(?P<orig>.+?)\s+was the original request\.\s*(?P<auth>.+?)\s+(?:was|were)\s+authorized by"
    r" the Claims Administrator\.\s*The remaining IMR eligible portion of the original request,?"
    r"\s*(?P<item>.+?)(?:\s+(?:is|are))?$",
    re.IGNORECASE | re.DOTALL,
)
_PARTIAL_LEAVING = re.compile(
    r"^(?P<orig>.+?)\s+was the original request\.\s*The Claims Administrator authorized\s+"
    r"(?P<auth>.+?),?\s+leaving the original request IMR eligible\.\s*The original request,?"
    r"\s*(?P<item>.+?)(?:\s+(?:is|are))?$",
    re.IGNORECASE | re.DOTALL,
)
RETRO_RE = re.compile(r"\bretro(?:spective|active)?\b|\bDOS\b|\bdate of service\b", re.IGNORECASE)


class LayoutError(Exception):
    """The letter is in this layout but incomplete; the message is the one-line reason."""


def cut_off(done: int, stated: int | None, why: str) -> str:
    """The one-line reason for a letter that stops early: how many items are whole, of how
    many (stated by the letter, or at least the one that was begun), and what is missing."""
    total = stated if stated else f"at least {done + 1}"
    where = f"after item {done}" if done else "in item 1"
    return f"cut off {where} of {total}: {why}"


@dataclass
class Item:
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
        return bool(RETRO_RE.search(self.item_full))


@dataclass
class Letter:
    layout: str
    letter_id: str | None
    summary: str
    items: list[Item] = field(default_factory=list)
    date_of_injury: str | None = None
    ur_denial_date: str | None = None
    decision_date: str | None = None
    reviewer_specialty: str | None = None
    stated_items: int | None = None  # how many items the letter says it decides, where it says


def clean(text: str) -> tuple[str, str | None]:
    """Normalise line ends and spacing, drop page footers. Returns (text, case number seen
    in a footer, if any)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\f", "\n")
    case = None
    m = FOOTER_RE.search(text)
    if m:
        case = next((f.group(1) for f in FOOTER_RE.finditer(text) if f.group(1)), None)
        text = FOOTER_RE.sub(" ", text)
    lines = [ln.rstrip() for ln in text.split("\n")]
    # 2013-style extraction puts an empty line after every line; whitespace-only lines are
    # the real paragraph breaks there.
    raw = text.split("\n")
    empty = sum(1 for ln in raw if ln == "")
    if empty > 0.4 * len(raw):
        lines = [ln.rstrip() for ln in raw if ln != ""]
    return "\n".join(lines), case


def squash(text: str | None) -> str | None:
    """Wrapped lines joined, runs of white space made one space."""
    if text is None:
        return None
    out = re.sub(r"\s+", " ", text).strip()
    return out or None


def iso_date(text: str | None) -> str | None:
    """The first m/d/y date in `text` as YYYY-MM-DD; a date that is no calendar day (13/45/2019)
    is an error, not a silent gap."""
    if not text:
        return None
    m = re.search(DATE_RE, text)
    if not m:
        return None
    month, day, year = (int(x) for x in m.group(1).split("/"))
    if year < 100:
        year += 2000
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise LayoutError(f"invalid date {m.group(1)}") from None


def header_fields(text: str) -> dict:
    """Case number and the three header dates, as `Letter` keyword arguments."""
    case = CASE_RE.search(text)
    return {
        "letter_id": case.group(0) if case else None,
        "date_of_injury": header_date(text, r"Date of Injury"),
        "ur_denial_date": header_date(text, r"UR Denial Date"),
        "decision_date": header_date(text, r"Decision Date"),
    }


def header_date(text: str, label: str) -> str | None:
    m = re.search(label + r"\s*:?\s*" + DATE_RE, text, re.IGNORECASE)
    try:
        return iso_date(m.group(1)) if m else None
    except LayoutError as exc:
        raise LayoutError(f"{exc} as {label}") from None


def summary_between(text: str, start: re.Pattern | str, end: re.Pattern | str) -> str:
    """The clinical case summary, its boilerplate first sentence removed."""
    s = re.search(start, text)
    e = re.search(end, text[s.end():]) if s else None
    if not s:
        raise LayoutError("no clinical case summary")
    body = text[s.end(): s.end() + e.start()] if e else text[s.end():]
    return BOILERPLATE_SUMMARY.sub("", squash(body) or "")


def split_heading(heading: str) -> tuple[str, str | None, str | None]:
    """(item, original_request, authorized_portion) from an item heading; partial
    authorisations name the remaining IMR-eligible portion as the item."""
    for pattern in (_PARTIAL_NEW, _PARTIAL_LEAVING):
        m = pattern.match(heading)
        if m:
            return m.group("item").strip(" ,"), m.group("orig").strip(), m.group("auth").strip()
    return heading, None, None


def heading_start(block: str) -> int:
    """Where the next item's heading starts in `block`, the text between the previous item's
    rationale label and this item's decision word.

    Headings begin on a new line after a line that closes a sentence. A partial
    authorisation's heading holds sentences of its own, so when the last such line falls
    inside one, the heading begins before its "was the original request".
    """
    starts, pos, prev = [], 0, ""
    for ln in block.split("\n"):
        if ln.strip():
            if _SENTENCE_END.search(prev):
                starts.append(pos)
            prev = ln
        pos += len(ln) + 1
    start = starts[-1] if starts else 0
    tail = block[start:]
    if _PARTIAL_TAIL.search(tail) and not _ORIGINAL.search(tail):
        origin = [m.start() for m in _ORIGINAL.finditer(block, 0, start)]
        if origin:
            start = max([s for s in starts if s <= origin[-1]], default=0)
    return start


_ORIGINAL = re.compile(r"was the original request", re.IGNORECASE)
_PARTIAL_TAIL = re.compile(r"IMR eligible|authorized by the Claims|The original request,", re.IGNORECASE)
_DECISION_AT_END = re.compile(r":?\s*\b(upheld|overturned)\b\s*\.?\s*$", re.IGNORECASE)


def maximus_items(section: str) -> list[Item]:
    """Items of the MAXIMUS layouts (2013, 2016): `<item>: Upheld|Overturned`, then
    `Claims Administrator guideline:`, `MAXIMUS guideline:`, `Decision rationale:`."""
    cas = list(CA_LABEL.finditer(section))
    if not cas:
        raise LayoutError(cut_off(0, None, "the decision section has no items"))
    items: list[Item] = []
    cursor = 0
    for i, ca in enumerate(cas):
        block = section[cursor: ca.start()]
        m = _DECISION_AT_END.search(block)
        if not m:
            raise LayoutError(f"item {i + 1} has no Upheld/Overturned decision")
        head_block = block[: m.start()]
        start = heading_start(head_block) if i else 0
        if i:
            items[-1].rationale = squash(head_block[:start])
        full = squash(head_block[start:]) or ""
        full = full.rstrip(" :")
        if not full:
            raise LayoutError(f"item {i + 1} has no name")
        item, orig, auth = split_heading(full)
        nxt = cas[i + 1].start() if i + 1 < len(cas) else len(section)
        body = section[ca.end(): nxt]
        rev = REVIEWER_LABEL.search(body)
        rat = RATIONALE_LABEL.search(body)
        if not rat:
            raise LayoutError(cut_off(i, None, f"item {i + 1} has no decision rationale"))
        ca_end = rev.start() if rev else rat.start()
        it = Item(
            item=item,
            item_full=full,
            decision=m.group(1).lower(),
            original_request=orig,
            authorized_portion=auth,
            claims_admin_guideline=squash(body[: ca_end]),
            reviewer_guideline=squash(body[rev.end(): rat.start()]) if rev else None,
        )
        items.append(it)
        cursor = ca.end() + rat.end()
    items[-1].rationale = squash(section[cursor:])
    return items


_HEADING_IN_RATIONALE = re.compile(r":\s*(?:Upheld|Overturned)\b")
_PAGE_OF = re.compile(r"^\s*Page\s+(\d+)\s+of\s+(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
GUIDELINES = ("claims_admin_guideline", "reviewer_guideline")
_FIELD_NAMES = {"claims_admin_guideline": "claims administrator guideline", "reviewer_guideline": "reviewer guideline"}


def check_complete(letter: Letter, text: str, guidelines: tuple[str, ...] = GUIDELINES) -> None:
    """Raise LayoutError unless the letter is whole: every item has its decision, its
    `guidelines` and a rationale that neither runs into another item's heading nor, for the
    last item, stops mid-sentence; as many items as the letter states; as many pages as its
    "Page x of y" lines state. A letter cut short must not pass as one with fewer items."""
    n = letter.stated_items
    for i, it in enumerate(letter.items):
        missing = [_FIELD_NAMES[f] for f in guidelines if not getattr(it, f)]
        if not it.rationale:
            missing.append("decision rationale")
        if missing or it.decision not in ("upheld", "overturned"):
            raise LayoutError(cut_off(i, n, f"item {i + 1} has no {' or '.join(missing) or 'decision'}"))
        if _HEADING_IN_RATIONALE.search(it.rationale):
            raise LayoutError(cut_off(i, n, f"item {i + 1}'s decision rationale runs into another item's heading"))
    k = len(letter.items)
    if not _SENTENCE_END.search(letter.items[-1].rationale):
        raise LayoutError(cut_off(k - 1, n, f"item {k}'s decision rationale stops mid-sentence"))
    if n and k < n:
        raise LayoutError(cut_off(k, n, f"items {k + 1}-{n} are missing" if n > k + 1 else f"item {n} is missing"))
    pages = [(int(a), int(b)) for a, b in _PAGE_OF.findall(text)]
    if pages and max(a for a, _ in pages) < max(b for _, b in pages):
        raise LayoutError(f"cut off at page {max(a for a, _ in pages)} of {max(b for _, b in pages)}")


MAXIMUS_SECTION = re.compile(r"IMR ISSUES,? DECISIONS,? AND RATIONALES", re.IGNORECASE)
_BELOW = re.compile(r"set forth below\s*:", re.IGNORECASE)


def maximus_letter(text: str, name: str, specialty: re.Pattern) -> Letter:
    """A letter of the MAXIMUS layouts: header and summary before the issues section, the
    items after it. `specialty` captures the reviewer's specialty in its first group."""
    sec = MAXIMUS_SECTION.search(text)
    head, rest = text[: sec.start()], text[sec.end():]
    below = _BELOW.search(rest[:400])
    section = rest[below.end():] if below else rest
    return head_letter(head, name, maximus_items(section), specialty)


def head_letter(head: str, name: str, items: list[Item], specialty: re.Pattern) -> Letter:
    """A letter whose header, reviewer credentials and case summary stand before its items."""
    spec = specialty.search(head)
    return Letter(
        layout=name,
        summary=summary_between(head, r"CLINICAL CASE SUMMARY", r"$(?![\s\S])"),
        items=items,
        reviewer_specialty=squash(spec.group(1)) if spec else None,
        **header_fields(head),
    )
