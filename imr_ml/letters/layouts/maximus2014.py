"""2014-15 MAXIMUS letters: a `DOCUMENTS REVIEWED` list, then `IMR DECISION(S) AND
RATIONALE(S)` with numbered items: "1. <item> is (not) medically necessary and
appropriate.", "The Claims Administrator based its decision on ...", "The Expert (or
Physician) Reviewer based his/her decision on ...", "The ... Reviewer's decision
rationale:"."""

import re

from imr_ml.letters.layouts._common import GUIDELINES, SPECIALTY_SENTENCE, cut_off, head_letter, split_heading
from imr_ml.letters.letter import Item, LayoutError, Letter, squash

SECTION = re.compile(r"IMR DECISION\(?S\)? AND RATIONALE\(?S\)?", re.IGNORECASE)
ITEM = re.compile(
    r"(?:^|\n)\s*\d{1,2}\.\s+(?P<head>(?:(?!\n\s*\n).){1,400}?)\s+(?:is|are)\s+(?P<neg>not\s+)?"
    r"medically\s+necessary\s+and\s+appropriate\.?",
    re.IGNORECASE | re.DOTALL,
)
CA = re.compile(r"The Claims Administrator\s+(?:based its decision on\s*)?", re.IGNORECASE)
REVIEWER = re.compile(r"The (?:Expert|Physician|Professional) Reviewer based (?:his/her|his|her|their) decision on\s*",
                      re.I)
RATIONALE = re.compile(r"The (?:Expert|Physician|Professional) Reviewer'?s decision rationale\s*:", re.IGNORECASE)


class Maximus2014:
    """Numbered items, each "is (not) medically necessary and appropriate"."""

    name = "maximus-2014"
    guidelines: tuple[str, ...] = GUIDELINES

    def matches(self, text: str) -> bool:
        """A decisions-and-rationales section."""
        return bool(SECTION.search(text))

    def parse(self, text: str) -> Letter:
        """The letter in `text` (already cleaned)."""
        sec = SECTION.search(text)
        if sec is None:
            raise LayoutError("no decisions section")
        head, section = text[: sec.start()], text[sec.end():]
        heads = list(ITEM.finditer(section))
        if not heads:
            raise LayoutError(cut_off(0, None, "the decision section has no items"))
        items = [_item(section, heads, i) for i in range(len(heads))]
        return head_letter(head, self.name, items, SPECIALTY_SENTENCE)


def _item(section: str, heads: list[re.Match], i: int) -> Item:
    """Item `i`: its heading's match and the text up to the next heading."""
    m = heads[i]
    body = section[m.end(): heads[i + 1].start() if i + 1 < len(heads) else len(section)]
    ca, rev, rat = CA.search(body), REVIEWER.search(body), RATIONALE.search(body)
    if not rat:
        raise LayoutError(cut_off(i, None, f"item {i + 1} has no decision rationale"))
    full = squash(m.group("head")) or ""
    item, orig, auth = split_heading(full)
    return Item(
        item=item,
        item_full=full,
        decision="upheld" if m.group("neg") else "overturned",
        original_request=orig,
        authorized_portion=auth,
        claims_admin_guideline=_ca_text(body[ca.start(): (rev or rat).start()]) if ca else None,
        reviewer_guideline=squash(body[rev.end(): rat.start()]) if rev else None,
        rationale=squash(body[rat.end():]),
    )


def _ca_text(sentence: str) -> str | None:
    """The guideline the claims administrator cited, or its own words when it cited none."""
    cited = re.match(r"The Claims Administrator based its decision on\s*", sentence, re.IGNORECASE)
    return squash(sentence[cited.end():] if cited else sentence)
