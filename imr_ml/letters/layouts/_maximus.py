"""What the two MAXIMUS layouts (2013 and 2016) share: the "IMR ISSUES, DECISIONS AND
RATIONALES" section, whose items are `<item>: Upheld|Overturned` headings followed by
`Claims Administrator guideline:`, `MAXIMUS guideline:` and `Decision rationale:` blocks."""

from __future__ import annotations

import re

from imr_ml.letters.layouts._common import GUIDELINES, SENTENCE_END, cut_off, head_letter, split_heading
from imr_ml.letters.letter import Item, LayoutError, Letter, squash

CA_LABEL = re.compile(r"Claims Administrator guideline\s*:", re.IGNORECASE)
REVIEWER_LABEL = re.compile(r"MAXIMUS guideline\s*:", re.IGNORECASE)
RATIONALE_LABEL = re.compile(r"Decision rationale\s*:", re.IGNORECASE)


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
            if SENTENCE_END.search(prev):
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


MAXIMUS_SECTION = re.compile(r"IMR ISSUES,? DECISIONS,? AND RATIONALES", re.IGNORECASE)
_BELOW = re.compile(r"set forth below\s*:", re.IGNORECASE)


def maximus_letter(text: str, name: str, specialty: re.Pattern) -> Letter:
    """A letter of the MAXIMUS layouts: header and summary before the issues section, the
    items after it. `specialty` captures the reviewer's specialty in its first group."""
    sec = MAXIMUS_SECTION.search(text)
    if sec is None:
        raise LayoutError("no IMR issues section")
    head, rest = text[: sec.start()], text[sec.end():]
    below = _BELOW.search(rest[:400])
    section = rest[below.end():] if below else rest
    return head_letter(head, name, maximus_items(section), specialty)


class MaximusLayout:
    """A MAXIMUS layout, told apart from the other by a line its header carries."""

    guidelines: tuple[str, ...] = GUIDELINES

    def __init__(self, name: str, marker: str, specialty: re.Pattern) -> None:
        self.name = name
        self.marker = marker  # text this layout's letters hold (earlier layouts in LAYOUTS took the others)
        self.specialty = specialty  # captures the reviewer's specialty in its first group

    def matches(self, text: str) -> bool:
        """An issues section and the marker."""
        return bool(MAXIMUS_SECTION.search(text)) and self.marker in text

    def parse(self, text: str) -> Letter:
        """The letter in `text` (already cleaned)."""
        return maximus_letter(text, self.name, self.specialty)
