"""2014-15 MAXIMUS letters: a `DOCUMENTS REVIEWED` list, then `IMR DECISION(S) AND
RATIONALE(S)` with numbered items: "1. <item> is (not) medically necessary and
appropriate.", "The Claims Administrator based its decision on ...", "The Expert (or
Physician) Reviewer based his/her decision on ...", "The ... Reviewer's decision
rationale:"."""

import re

from imr_ml.letters.layouts._common import Item, LayoutError, Letter, cut_off, head_letter, split_heading, squash

NAME = "maximus-2014"
ORDER = 5
SECTION = re.compile(r"IMR DECISION\(?S\)? AND RATIONALE\(?S\)?", re.IGNORECASE)
ITEM = re.compile(
    r"(?:^|\n)\s*\d{1,2}\.\s+(?P<head>(?:(?!\n\s*\n).){1,400}?)\s+(?:is|are)\s+(?P<neg>not\s+)?medically\s+necessary\s+and\s+appropriate\.?",
    re.IGNORECASE | re.DOTALL,
)
CA = re.compile(r"The Claims Administrator\s+(?:based its decision on\s*)?", re.IGNORECASE)
REVIEWER = re.compile(r"The (?:Expert|Physician|Professional) Reviewer based (?:his/her|his|her|their) decision on\s*", re.I)
RATIONALE = re.compile(r"The (?:Expert|Physician|Professional) Reviewer'?s decision rationale\s*:", re.IGNORECASE)
SPECIALTY = re.compile(r"reviewer is\s+(?:Board\s+Certified\s+(?:in\s+)?)?(.*?),?\s+and\s+is\s+licensed", re.S | re.I)


def detect(text: str) -> bool:
    return bool(SECTION.search(text))


def parse(text: str) -> Letter:
    sec = SECTION.search(text)
    head, section = text[: sec.start()], text[sec.end():]
    heads = list(ITEM.finditer(section))
    if not heads:
        raise LayoutError(cut_off(0, None, "the decision section has no items"))
    items = []
    for i, m in enumerate(heads):
        body = section[m.end(): heads[i + 1].start() if i + 1 < len(heads) else len(section)]
        ca, rev, rat = CA.search(body), REVIEWER.search(body), RATIONALE.search(body)
        if not rat:
            raise LayoutError(cut_off(i, None, f"item {i + 1} has no decision rationale"))
        full = squash(m.group("head")) or ""
        item, orig, auth = split_heading(full)
        items.append(
            Item(
                item=item,
                item_full=full,
                decision="upheld" if m.group("neg") else "overturned",
                original_request=orig,
                authorized_portion=auth,
                claims_admin_guideline=_ca_text(body[ca.start(): (rev or rat).start()]) if ca else None,
                reviewer_guideline=squash(body[rev.end(): rat.start()]) if rev else None,
                rationale=squash(body[rat.end():]),
            )
        )
    return head_letter(head, NAME, items, SPECIALTY)


def _ca_text(sentence: str) -> str | None:
    """The guideline the claims administrator cited, or its own words when it cited none."""
    cited = re.match(r"The Claims Administrator based its decision on\s*", sentence, re.IGNORECASE)
    return squash(sentence[cited.end():] if cited else sentence)
