"""`MEDICAL PROFESSIONAL REVIEW` letters (early IMR): labelled blocks `ISSUE AT DISPUTE:`,
`CASE SUMMARY:`, `DOCUMENTS REVIEWED FOR DETERMINATION:`, `MEDICAL TREATMENT GUIDELINE(S)
RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:`, `RATIONALE FOR WHY THE REQUESTED
TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY:`, `MEDICAL REVIEWER QUALIFICATIONS:`.
Several issues may follow one another. The decision is an explicit `DETERMINATION:` /
`DECISION:` line where there is one, else the reviewer's closing finding ("... is not
medically necessary")."""

import re

from imr_ml.letters.layouts._common import BOILERPLATE_SUMMARY, cut_off, header_fields, split_heading
from imr_ml.letters.letter import Item, LayoutError, Letter, squash

ISSUE = re.compile(r"ISSUES? AT DISPUTE\s*:", re.IGNORECASE)
LABELS = {
    "summary": r"(?:CLINICAL\s+)?CASE SUMMARY\s*:?",
    "documents": r"DOCUMENTS REVIEWED(?:\s+FOR\s+DETERMINATION)?\s*:",
    "decision": r"(?:IMR\s+|FINAL\s+)?(?:DECISION|DETERMINATION)\s*:",
    "claims_admin_guideline": r"CLAIMS ADMINISTRATOR(?:'S)? GUIDELINES?(?:\s+USED)?\s*:",
    "reviewer_guideline": r"(?:MEDICAL TREATMENT GUIDELINE\(?S\)?\s+RELIED\s+UPON\s+BY\s+(?:THE\s+)?"
                          r"PROFESSIONAL\s+REVIEWER(?:\s+AND\s+WHY)?|(?:MAXIMUS|REVIEWER(?:'S)?) GUIDELINES?"
                          r"(?:\s+USED)?)\s*:",
    "rationale": r"(?:RATIONALE\s+FOR\s+WHY\s+THE\s+REQUESTED\s+TREATMENT/SERVICE\s+IS/WAS\s+NOT\s+"
                 r"MEDICALLY\s+NECESSARY|(?:DECISION\s+)?RATIONALE)\s*:",
    "qualifications": r"MEDICAL REVIEWER QUALIFICATIONS\s*:",
}
LABEL_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()))
CONCLUSION = re.compile(
    r"\b(?:is|are|was|were|remains?)\s+(?P<neg>not\s+)?(?:medically\s+necessary|medically\s+appropriate|"
    r"recommended|supported|indicated|warranted)", re.IGNORECASE)
SPECIALTY = re.compile(r"(?:Specialty|Board Certified in)\s*:?\s*(.+?)(?:,?\s+and\s+is\s+licensed|\n|$)", re.IGNORECASE)


class ProfessionalReview:
    """Labelled blocks per issue; the decision stated or concluded in the rationale."""

    name = "professional-review"
    guidelines: tuple[str, ...] = ("reviewer_guideline",)  # the claims administrator's guideline is not always stated

    def matches(self, text: str) -> bool:
        """The title and an issue label."""
        return "MEDICAL PROFESSIONAL REVIEW" in text.upper() and bool(ISSUE.search(text))

    def parse(self, text: str) -> Letter:
        """The letter in `text` (already cleaned)."""
        issues = list(ISSUE.finditer(text))
        head = text[: issues[0].start()]
        items, summary, spec = [], "", None
        for i, m in enumerate(issues):
            fields = _labelled(text[m.end(): issues[i + 1].start() if i + 1 < len(issues) else len(text)])
            summary = summary or BOILERPLATE_SUMMARY.sub("", squash(fields.get("summary")) or "")
            items.append(_item(fields, i))
            q = SPECIALTY.search(fields.get("qualifications") or "")
            spec = spec or (squash(q.group(1)) if q else None)
        if not summary:
            s = LABEL_RE.search(head)
            summary = (squash(head[s.end():]) or "") if s and s.lastgroup == "summary" else ""
        if not summary:
            raise LayoutError("no clinical case summary")
        h = SPECIALTY.search(head)
        return Letter(layout=self.name, summary=summary, items=items,
                      reviewer_specialty=spec or (squash(h.group(1)) if h else None), **header_fields(text))


def _item(fields: dict[str, str], i: int) -> Item:
    """Issue `i` from its labelled fields."""
    rationale = squash(fields.get("rationale"))
    if not rationale:
        raise LayoutError(cut_off(i, None, f"item {i + 1} has no decision rationale"))
    decision = _decision(fields.get("decision"), rationale)
    if decision is None:
        raise LayoutError(f"item {i + 1} states no decision")
    full = (squash(fields["item"]) or "").rstrip(" :")
    item, orig, auth = split_heading(full)
    return Item(item=item, item_full=full, decision=decision, original_request=orig, authorized_portion=auth,
                claims_admin_guideline=squash(fields.get("claims_admin_guideline")),
                reviewer_guideline=squash(fields.get("reviewer_guideline")), rationale=rationale)


def _decision(label_text: str | None, rationale: str) -> str | None:
    """The decision a DECISION/DETERMINATION line states, else the rationale's last finding."""
    word = re.search(r"\b(upheld|uphold|overturned|overturn)\b", label_text or "", re.IGNORECASE)
    if word:
        return "upheld" if word.group(1).lower().startswith("uphold") else "overturned"
    found = list(CONCLUSION.finditer(rationale))
    if found:
        return "upheld" if found[-1].group("neg") else "overturned"
    return None


def _labelled(block: str) -> dict[str, str]:
    """The item text (before the first label) and the text behind each label."""
    marks = list(LABEL_RE.finditer(block))
    out = {"item": block[: marks[0].start()] if marks else block}
    for j, mk in enumerate(marks):
        end = marks[j + 1].start() if j + 1 < len(marks) else len(block)
        out.setdefault(mk.lastgroup or "", block[mk.end(): end])
    return out
