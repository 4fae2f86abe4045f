"""What the layout parsers share: cleaning extracted text, header dates, the case summary,
partial-authorisation headings, and the check that a parsed letter is whole.

Letters are parsed from text as PDF extraction gives it: wrapped lines, trailing spaces,
sometimes blank lines between every line (2013 letters), and page footers ("Final
Determination Letter for IMR Case Number CM13-0000000 4") spliced into sentences.
"""

from __future__ import annotations

import re

from imr_ml.letters.letter import CASE_RE, DATE_RE, Item, LayoutError, Letter, iso_date, squash

FOOTER_RE = re.compile(
    r"[ \t]*Final Determination Letter for IMR Case Number[ \t]*(CM\d{2}-\d{5,7})?[ \t]*\d{0,3}[ \t]*",
    re.IGNORECASE,
)
BOILERPLATE_SUMMARY = re.compile(
    r"^\s*The expert reviewer developed the following clinical case summary based on a review"
    r" of the case file, including all medical records\s*:?\s*",
    re.IGNORECASE,
)
# "The expert reviewer is Board Certified in <specialty> and is licensed ...": the specialty
SPECIALTY_SENTENCE = re.compile(r"reviewer is\s+(?:Board\s+Certified\s+(?:in\s+)?)?(.*?),?\s+and\s+is\s+licensed",
                                re.S | re.I)
SENTENCE_END = re.compile(r"""[.!?]["'\u201d)\]]?\s*$""")
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


def cut_off(done: int, stated: int | None, why: str) -> str:
    """The one-line reason for a letter that stops early: how many items are whole, of how
    many (stated by the letter, or at least the one that was begun), and what is missing."""
    total = stated if stated else f"at least {done + 1}"
    where = f"after item {done}" if done else "in item 1"
    return f"cut off {where} of {total}: {why}"


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
    """The date after `label` (e.g. "UR Denial Date:"); an impossible date names the label."""
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


_HEADING_IN_RATIONALE = re.compile(r":\s*(?:Upheld|Overturned)\b")
_PAGE_OF = re.compile(r"^\s*Page\s+(\d+)\s+of\s+(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
GUIDELINES = ("claims_admin_guideline", "reviewer_guideline")
_FIELD_NAMES = {"claims_admin_guideline": "claims administrator guideline", "reviewer_guideline": "reviewer guideline"}


# The conclusion a rationale ends with ("... is not medically necessary", "... is medically
# necessary and appropriate at this time"): with it a rationale is whole, full stop or not.
_VERDICT = (r"\b(?:necessary|appropriate|(?:a\s+)?medical\s+necessity|recommended|supported|indicated|warranted|"
            r"certified|established|substantiated|justified|reasonable|upheld|overturned)\b")
_QUALIFIER = (r"(?:\s+(?:and|or)\s+(?:medically\s+)?(?:necessary|appropriate))?"
              r"(?:,?\s+(?:at\s+this\s+time|for\s+(?:this|the)\s+(?:patient|injured\s+worker|claimant|employee)|"
              r"in\s+this\s+(?:case|patient)|(?:as\s+)?per\s+(?:the\s+)?(?:\w+\s+)?(?:guidelines?|MTUS|ODG|ACOEM)))*")
CONCLUSION_END = re.compile(_VERDICT + _QUALIFIER + r"""\s*["'\u201d)\]]?\s*$""", re.IGNORECASE)
VERDICT = re.compile(_VERDICT, re.IGNORECASE)
# A sentence that decides the request: what follows it is a trailer ("Refer to ... for weaning").
DECIDED = re.compile(r"\b(?:medically\s+(?:necessary|appropriate)|medical\s+necessity)\b" + _QUALIFIER + r"\s*[.!]$",
                     re.IGNORECASE)
# A word no sentence ends with: the text stops in the middle of one.
DANGLING_END = re.compile(r"(?:\b(?:a|an|the|of|to|for|with|and|or|but|in|on|at|by|from|is|are|was|were|be|been|"
                          r"not|no|that|which|as|than|if|per|this|these|his|her|their|its)|[-,;:(/&])\s*$",
                          re.IGNORECASE)


def rationale_ending(rationale: str) -> str:
    """How a letter's last rationale ends: "whole" (a full stop, or a last sentence that is
    a complete conclusion without one: real letters drop the period after "... is not
    medically necessary"), "cut" (mid-sentence: a dangling word, or a text that concludes
    nothing), or "unsure": a last sentence that states a conclusion and goes on, or one that
    follows the sentence deciding the request (a trailer); kept, and warned of.
    """
    if SENTENCE_END.search(rationale):
        return "whole"
    *before, last = re.split(r"(?<=[.!?])\s+", rationale.strip())
    if DANGLING_END.search(last):
        return "cut"
    if CONCLUSION_END.search(last):
        return "whole"
    return "unsure" if VERDICT.search(last) or any(DECIDED.search(s) for s in before) else "cut"


def check_complete(letter: Letter, text: str, guidelines: tuple[str, ...] = GUIDELINES) -> None:
    """Raise LayoutError unless the letter is whole: every item has its decision, its
    `guidelines` and a rationale that neither runs into another item's heading nor, for the
    last item, stops mid-sentence (`rationale_ending`; one that may be cut is kept, with a
    warning in `letter.warnings`); as many items as the letter states; as many pages as its
    "Page x of y" lines state. A letter cut short must not pass as one with fewer items."""
    n = letter.stated_items
    for i, it in enumerate(letter.items):
        missing = [_FIELD_NAMES[f] for f in guidelines if not getattr(it, f)]
        if not it.rationale:
            missing.append("decision rationale")
        if missing or it.decision not in ("upheld", "overturned"):
            raise LayoutError(cut_off(i, n, f"item {i + 1} has no {' or '.join(missing) or 'decision'}"))
        if _HEADING_IN_RATIONALE.search(it.rationale or ""):
            raise LayoutError(cut_off(i, n, f"item {i + 1}'s decision rationale runs into another item's heading"))
    k = len(letter.items)
    ending = rationale_ending(letter.items[-1].rationale or "")
    if ending == "cut":
        raise LayoutError(cut_off(k - 1, n, f"item {k}'s decision rationale stops mid-sentence"))
    if ending == "unsure":
        letter.warnings.append(f"item {k}'s decision rationale ends without a full stop and may be cut short")
    if n and k < n:
        raise LayoutError(cut_off(k, n, f"items {k + 1}-{n} are missing" if n > k + 1 else f"item {n} is missing"))
    pages = [(int(a), int(b)) for a, b in _PAGE_OF.findall(text)]
    if pages and max(a for a, _ in pages) < max(b for _, b in pages):
        raise LayoutError(f"cut off at page {max(a for a, _ in pages)} of {max(b for _, b in pages)}")


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
