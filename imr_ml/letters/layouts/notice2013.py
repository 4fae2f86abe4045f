"""2013 "Notice of Independent Medical Review Determination" letters: numbered findings
("1) MAXIMUS Federal Services, Inc. has determined the request for X is not medically
necessary and appropriate."), `Case Summary:` (often quoted from the UR denial), then per
item "Regarding the request for X:" with the guidelines used by the claims administrator
and the expert reviewer and "Rationale for the Decision:"."""

import re

from imr_ml.letters.layouts._common import CASE_RE, Item, LayoutError, Letter, cut_off, iso_date, split_heading, squash

NAME = "notice-2013"
ORDER = 3
FINDING = re.compile(
    r"(?P<n>\d{1,2})\)\s*MAXIMUS Federal Services,? Inc\.? has determined the request for\s+(?P<item>.+?)\s+"
    r"(?:is|are)\s+(?P<neg>not\s*)?medically\s*necessary\s+and\s+appropriate", re.IGNORECASE | re.DOTALL)
SUMMARY = re.compile(r"Case Summary\s*:", re.IGNORECASE)
SUMMARY_END = re.compile(r"IMR ISSUES?|\n\s*\d{1,2}\)\s*Regarding the request|Regarding the request for|"
                         r"Medical Treatment Guideline|Rationale for the Decision", re.IGNORECASE)
REGARDING = re.compile(r"(?:\d{1,2}\)\s*)?Regarding the request for\s+", re.IGNORECASE)
CA = re.compile(r"(?:Medical Treatment\s+)?Guidelines?\(?s?\)? Used by the Claims Administrator[^:]{0,10}:", re.IGNORECASE)
ER = re.compile(r"(?:Medical Treatment\s+)?Guidelines?\(?s?\)? Used by the Expert Reviewer[^:]{0,10}:", re.IGNORECASE)
RATIONALE = re.compile(r"Rationale for the Decision\s*:", re.IGNORECASE)
DISCLAIMER = re.compile(r"^\s*Disclaimer:.*?dated\s+[A-Za-z]+\.?\s+\d{1,2},\s+\d{4}\.?\s*", re.IGNORECASE | re.DOTALL)



def detect(text: str) -> bool:
    return bool(FINDING.search(text)) and bool(SUMMARY.search(text))


def parse(text: str) -> Letter:
    findings: dict[int, re.Match] = {}
    for m in FINDING.finditer(text):
        findings.setdefault(int(m.group("n")), m)
    s = SUMMARY.search(text)
    e = SUMMARY_END.search(text, s.end())
    summary_raw = text[s.end(): e.start() if e else len(text)]
    summary = squash(DISCLAIMER.sub("", summary_raw)) or ""
    if not summary:
        raise LayoutError("no clinical case summary")
    rest = text[e.start():] if e else ""
    blocks = [m for m in REGARDING.finditer(rest)]
    items = []
    for k, (_n, m) in enumerate(sorted(findings.items())[:len(blocks)]):
        full = squash(m.group("item")) or ""
        block = rest[blocks[k].end(): blocks[k + 1].start() if k + 1 < len(blocks) else len(rest)]
        ca, er, rat = CA.search(block), ER.search(block), RATIONALE.search(block)
        item, orig, auth = split_heading(full)
        items.append(Item(
            item=item, item_full=full, decision="upheld" if m.group("neg") is not None else "overturned",
            original_request=orig, authorized_portion=auth,
            claims_admin_guideline=squash(block[ca.end(): (er or rat).start() if (er or rat) else len(block)]) if ca else None,
            reviewer_guideline=squash(block[er.end(): rat.start() if rat else len(block)]) if er else None,
            rationale=squash(block[rat.end():]) if rat else squash(block) or None,
        ))
    if not items:
        raise LayoutError(cut_off(0, len(findings) or None, "no item's rationale was found"))
    ur = re.search(r"Utilization Review (?:Denial|Determination)\s+dated\s+(\d{1,2}/\d{1,2}/\d{2,4})", text, re.I)
    doi = re.search(r"date of injury(?: of| was|:)?\s+(\d{1,2}/\d{1,2}/\d{2,4})", summary, re.I)
    dated = re.search(r"Determination\s+Dated:?\s*(\d{1,2}/\d{1,2}/\d{2,4})", text, re.I)
    spec = re.search(r"reviewer is\s+(?:Board\s+Certified\s+(?:in\s+)?)?(.*?),?\s+and\s+is\s+licensed", text, re.I | re.S)
    case = CASE_RE.search(text)
    return Letter(
        layout=NAME, letter_id=case.group(0) if case else None, summary=summary, items=items,
        date_of_injury=iso_date(doi.group(1)) if doi else None,
        ur_denial_date=iso_date(ur.group(1)) if ur else None,
        decision_date=iso_date(dated.group(1)) if dated else None,
        reviewer_specialty=squash(spec.group(1)) if spec else None, stated_items=len(findings),
    )
