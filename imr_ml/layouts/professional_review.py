"""`MEDICAL PROFESSIONAL REVIEW` letters: each disputed item under `ISSUE AT DISPUTE:`,
followed by its determination (`DETERMINATION:` / `DECISION:` / `IMR DECISION:` with
Upheld or Overturned), the claims administrator's guideline, the reviewer's guideline
and the rationale, each behind its own capitalised label."""

import re

from imr_ml.layouts._common import (
    BOILERPLATE_SUMMARY,
    CASE_RE,
    Item,
    Letter,
    LayoutError,
    header_date,
    split_heading,
    squash,
)

NAME = "professional-review"
ORDER = 1
ISSUE = re.compile(r"ISSUES? AT DISPUTE\s*:", re.IGNORECASE)
LABELS = {
    "decision": r"(?:IMR\s+)?(?:DECISION|DETERMINATION)\s*:",
    "claims_admin_guideline": r"CLAIMS ADMINISTRATOR(?:'S)? GUIDELINES?\s*(?:USED)?\s*:",
    "reviewer_guideline": r"(?:MAXIMUS|REVIEWER(?:'S)?|EXPERT REVIEWER(?:'S)?) GUIDELINES?\s*(?:USED)?\s*:",
    "rationale": r"(?:DECISION\s+)?RATIONALE\s*:",
}
LABEL_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()), re.IGNORECASE)
SUMMARY = re.compile(r"(?:CLINICAL CASE SUMMARY|CASE SUMMARY|CLINICAL SUMMARY)\s*:?", re.IGNORECASE)
SPECIALTY = re.compile(r"(?:Specialty|Board Certified in)\s*:?\s*(.+?)(?:\n|$)", re.IGNORECASE)


def detect(text: str) -> bool:
    return "MEDICAL PROFESSIONAL REVIEW" in text.upper() and bool(ISSUE.search(text))


def parse(text: str) -> Letter:
    issues = list(ISSUE.finditer(text))
    head = text[: issues[0].start()]
    items = []
    for i, m in enumerate(issues):
        block = text[m.end(): issues[i + 1].start() if i + 1 < len(issues) else len(text)]
        fields = _labelled(block)
        decision = re.search(r"\b(upheld|overturned)\b", fields.get("decision") or "", re.IGNORECASE)
        if not decision:
            raise LayoutError(f"item {i + 1} has no Upheld/Overturned determination (cut off?)")
        if not fields.get("rationale"):
            raise LayoutError(f"item {i + 1} has no decision rationale (cut off?)")
        full = squash(fields["item"]) or ""
        item, orig, auth = split_heading(full.rstrip(" :"))
        items.append(
            Item(
                item=item,
                item_full=full,
                decision=decision.group(1).lower(),
                original_request=orig,
                authorized_portion=auth,
                claims_admin_guideline=squash(fields.get("claims_admin_guideline")),
                reviewer_guideline=squash(fields.get("reviewer_guideline")),
                rationale=squash(fields["rationale"]),
            )
        )
    s = SUMMARY.search(head)
    if not s:
        raise LayoutError("no clinical case summary")
    case = CASE_RE.search(head)
    spec = SPECIALTY.search(head)
    return Letter(
        layout=NAME,
        letter_id=case.group(0) if case else None,
        summary=BOILERPLATE_SUMMARY.sub("", squash(head[s.end():]) or ""),
        items=items,
        date_of_injury=header_date(head, r"Date of Injury"),
        ur_denial_date=header_date(head, r"UR Denial Date"),
        decision_date=header_date(head, r"Decision Date"),
        reviewer_specialty=squash(spec.group(1)) if spec else None,
    )


def _labelled(block: str) -> dict[str, str]:
    """The item text (before the first label) and the text behind each label."""
    marks = list(LABEL_RE.finditer(block))
    out = {"item": block[: marks[0].start()] if marks else block}
    for j, mk in enumerate(marks):
        end = marks[j + 1].start() if j + 1 < len(marks) else len(block)
        out.setdefault(mk.lastgroup, block[mk.end(): end])
    return out
