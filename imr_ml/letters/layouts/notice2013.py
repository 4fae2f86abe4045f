"""2013 "Notice of Independent Medical Review Determination" letters: numbered findings
("1) MAXIMUS Federal Services, Inc. has determined the request for X is not medically
necessary and appropriate."), `Case Summary:` (often quoted from the UR denial), then per
item "Regarding the request for X:" with the guidelines used by the claims administrator
and the expert reviewer and "Rationale for the Decision:"."""

import re

from imr_ml.letters.layouts._common import GUIDELINES, SPECIALTY_SENTENCE, cut_off, split_heading
from imr_ml.letters.letter import CASE_RE, Item, LayoutError, Letter, iso_date, squash

FINDING = re.compile(
    r"(?P<n>\d{1,2})\)\s*MAXIMUS Federal Services,? Inc\.? has determined the request for\s+(?P<item>.+?)\s+"
    r"(?:is|are)\s+(?P<neg>not\s*)?medically\s*necessary\s+and\s+appropriate", re.IGNORECASE | re.DOTALL)
SUMMARY = re.compile(r"Case Summary\s*:", re.IGNORECASE)
SUMMARY_END = re.compile(r"IMR ISSUES?|\n\s*\d{1,2}\)\s*Regarding the request|Regarding the request for|"
                         r"Medical Treatment Guideline|Rationale for the Decision", re.IGNORECASE)
REGARDING = re.compile(r"(?:\d{1,2}\)\s*)?Regarding the request for\s+", re.IGNORECASE)
CA = re.compile(r"(?:Medical Treatment\s+)?Guidelines?\(?s?\)? Used by the Claims Administrator[^:]{0,10}:",
                re.IGNORECASE)
ER = re.compile(r"(?:Medical Treatment\s+)?Guidelines?\(?s?\)? Used by the Expert Reviewer[^:]{0,10}:", re.IGNORECASE)
RATIONALE = re.compile(r"Rationale for the Decision\s*:", re.IGNORECASE)
DISCLAIMER = re.compile(r"^\s*Disclaimer:.*?dated\s+[A-Za-z]+\.?\s+\d{1,2},\s+\d{4}\.?\s*", re.IGNORECASE | re.DOTALL)


class Notice2013:
    """Numbered findings first, then one "Regarding the request for" block per item."""

    name = "notice-2013"
    guidelines: tuple[str, ...] = GUIDELINES

    def matches(self, text: str) -> bool:
        """A numbered finding and a case summary."""
        return bool(FINDING.search(text)) and bool(SUMMARY.search(text))

    def parse(self, text: str) -> Letter:
        """The letter in `text` (already cleaned)."""
        findings: dict[int, re.Match] = {}
        for m in FINDING.finditer(text):
            findings.setdefault(int(m.group("n")), m)
        s = SUMMARY.search(text)
        if s is None:
            raise LayoutError("no clinical case summary")
        e = SUMMARY_END.search(text, s.end())
        summary = squash(DISCLAIMER.sub("", text[s.end(): e.start() if e else len(text)])) or ""
        if not summary:
            raise LayoutError("no clinical case summary")
        rest = text[e.start():] if e else ""
        blocks = list(REGARDING.finditer(rest))
        items = [_item(m, rest, blocks, k) for k, (_n, m) in enumerate(sorted(findings.items())[:len(blocks)])]
        if not items:
            raise LayoutError(cut_off(0, len(findings) or None, "no item's rationale was found"))
        return _letter(self.name, text, summary, items, len(findings))


def _item(finding: re.Match, rest: str, blocks: list[re.Match], k: int) -> Item:
    """Item `k`: its finding and its "Regarding the request" block."""
    full = squash(finding.group("item")) or ""
    block = rest[blocks[k].end(): blocks[k + 1].start() if k + 1 < len(blocks) else len(rest)]
    ca, er, rat = CA.search(block), ER.search(block), RATIONALE.search(block)
    item, orig, auth = split_heading(full)
    after_ca = er or rat  # the claims administrator's guidelines end where the next block begins
    return Item(
        item=item, item_full=full, decision="upheld" if finding.group("neg") is not None else "overturned",
        original_request=orig, authorized_portion=auth,
        claims_admin_guideline=squash(block[ca.end(): after_ca.start() if after_ca else len(block)]) if ca else None,
        reviewer_guideline=squash(block[er.end(): rat.start() if rat else len(block)]) if er else None,
        rationale=squash(block[rat.end():]) if rat else squash(block) or None,
    )


def _letter(name: str, text: str, summary: str, items: list[Item], stated: int) -> Letter:
    """The letter with its dates, found in sentences rather than a header."""
    ur = re.search(r"Utilization Review (?:Denial|Determination)\s+dated\s+(\d{1,2}/\d{1,2}/\d{2,4})", text, re.I)
    doi = re.search(r"date of injury(?: of| was|:)?\s+(\d{1,2}/\d{1,2}/\d{2,4})", summary, re.I)
    dated = re.search(r"Determination\s+Dated:?\s*(\d{1,2}/\d{1,2}/\d{2,4})", text, re.I)
    spec = SPECIALTY_SENTENCE.search(text)
    case = CASE_RE.search(text)
    return Letter(
        layout=name, letter_id=case.group(0) if case else None, summary=summary, items=items,
        date_of_injury=iso_date(doi.group(1)) if doi else None,
        ur_denial_date=iso_date(ur.group(1)) if ur else None,
        decision_date=iso_date(dated.group(1)) if dated else None,
        reviewer_specialty=squash(spec.group(1)) if spec else None, stated_items=stated,
    )
