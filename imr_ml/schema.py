"""The per-item row every stage shares, and which of its fields are allowed into features.

Leakage is the cardinal sin of this project: only PRE_DECISION fields may ever reach a
feature. Everything in POST_DECISION was written by the reviewer after deciding.
"""

# Known before the IMR decision: the request, the case file summary (which restates the UR
# denial), the claims administrator's cited guideline and the two dates.
PRE_DECISION = (
    "summary",
    "item",
    "original_request",
    "authorized_portion",
    "claims_admin_guideline",
    "date_of_injury",
    "ur_denial_date",
    "retrospective",
    # the other items disputed in the same letter, " | "-separated: the IMR application lists
    # them all, so they are known before the decision (e.g. whether the surgery that a
    # pre-op lab serves is itself in dispute)
    "other_items",
)

# Written after (or assigned after) the decision: for analysis only, never for scoring.
POST_DECISION = (
    "decision",
    "label",
    "rationale",
    "reviewer_guideline",
    "reviewer_specialty",
    "decision_date",
)

# Bookkeeping that is neither evidence for nor against a request.
IDENTITY = ("letter_id", "item_index", "source", "layout")

COLUMNS = IDENTITY + PRE_DECISION + POST_DECISION

# Pre-decision fields that hold free text.
TEXT_COLUMNS = ("summary", "item", "original_request", "authorized_portion", "claims_admin_guideline", "other_items")
ITEM_SEPARATOR = " | "


# Feature groups (prefix of a feature name) as people read them in explanations and reports.
GROUP_TITLES = {"rule": "Guideline rules", "signal": "Signals", "field": "Structured fields",
                "item": "Item words and category", "summary": "Summary words"}


def pre_decision(row: dict) -> dict:
    """The part of a row a model may see."""
    return {k: row.get(k) for k in PRE_DECISION}


def is_missing(value) -> bool:
    """None, NaN, NaT or pandas' NA: a field the row does not have (frames fill gaps with NaN).
    Missing values are the ones unequal to themselves."""
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas' NA: its comparisons are NA, which has no truth value
        return True


def as_text(value) -> str:
    """A text field as str; a missing one is "". The one NaN-to-text rule of the package."""
    if value.__class__ is str:  # the common case, read for every field of every row
        return value
    return "" if is_missing(value) else str(value)
