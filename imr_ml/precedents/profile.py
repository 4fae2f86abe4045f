"""What a precedent is matched on: the pre-decision profile of one disputed item.

A profile is the item's treatment category, the body regions it concerns, the guideline
rules that apply to it (`features/guidelines.toml`: the decisive findings a reviewer
applies) and the clinical findings the signals read in its summary, all computed by
`imr_ml.signals.extract_signals` from the item's PRE_DECISION fields with the knowledge
files of the model (or index) that holds it. Nothing a reviewer wrote is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge.bundle import SHIPPED, Knowledge
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.precedents.terms import quoted
from imr_ml.schema import PRE_DECISION, as_text
from imr_ml.signals import SignalValues, extract_signals, load_rules

# The text an index matches words on, by FTS5 column: pre-decision fields only.
MATCH_COLUMNS = ("item", "summary", "claims_admin_guideline")


@dataclass(frozen=True)
class Profile:
    """The pre-decision profile of one item.

    Parameters
    ----------
    category : str
        Its treatment category.
    regions : tuple of str
        Body regions of the item (those of the summary when the item names none).
    rules : tuple of str
        Names of the guideline rules that apply.
    findings : tuple of str
        Names of the yes/no signals that fired.
    """

    category: str
    regions: tuple[str, ...]
    rules: tuple[str, ...]
    findings: tuple[str, ...]


def profile(row: dict, knowledge: Knowledge = SHIPPED) -> Profile:
    """The profile of a row, from its PRE_DECISION fields only.

    Parameters
    ----------
    row : dict
        A corpus row or a request.
    knowledge : Knowledge
        The knowledge files to read it with.

    Returns
    -------
    Profile
        Its category, regions, applicable guideline rules and findings.
    """
    pre = {k: row.get(k) for k in PRE_DECISION}
    signals = extract_signals(pre, knowledge.signals, knowledge.taxonomy, knowledge.criteria)
    values = SignalValues(signals)
    regions = values.get("item_regions") or values.get("summary_regions") or []
    rules = fired_rules(values, as_text(pre.get("item")), load_guidelines(knowledge.guidelines))
    findings = sorted(name for name, sig in signals.items() if sig.value is True)
    return Profile(category=str(values.get("category") or "other"), regions=tuple(sorted(regions)),
                   rules=tuple(sorted(r.name for r in rules)), findings=tuple(findings))


def profile_batch(batch: list[dict], knowledge: Knowledge = SHIPPED) -> tuple[list[dict], list[Profile]]:
    """A batch of rows and their profiles (a task a worker process can run).

    Parameters
    ----------
    batch : list of dict
        Rows.
    knowledge : Knowledge
        The knowledge files.

    Returns
    -------
    (list of dict, list of Profile)
        The rows as given, and their profiles.
    """
    return batch, [profile(r, knowledge) for r in batch]


def match_text(row: dict) -> tuple[str, ...]:
    """The row's text for the index's word columns (`MATCH_COLUMNS`).

    Parameters
    ----------
    row : dict
        A corpus row or a request.

    Returns
    -------
    tuple of str
        One text per column.
    """
    return tuple(as_text(row.get(k)) for k in MATCH_COLUMNS)


def category_token(category: str) -> str:
    """A category as the index's category column holds it: one token (FTS5 would cut
    "physical_therapy" in two)."""
    return category.replace("_", "")


def match_query(terms: list[str], every: bool, category: str | None = None) -> str:
    """The FTS5 query for `terms` in the pre-decision text columns (`MATCH_COLUMNS`): every
    one of them or any, and, given a category, its token in the category column (an exact
    filter stays with the caller; this lets FTS5 skip other categories' postings).

    Parameters
    ----------
    terms : list of str
        Terms or phrases (several words: matched in that order), as the index cuts words.
    every : bool
        Every term (AND) rather than any (OR).
    category : str or None
        A treatment category to keep to.

    Returns
    -------
    str
        The query, every term quoted (no operator or column name can hide in one).
    """
    joined = (" AND " if every else " OR ").join(quoted(t) for t in terms)
    words = "{" + " ".join(MATCH_COLUMNS) + "} : (" + joined + ")"
    return f"category : {quoted(category_token(category))} AND {words}" if category else words


@lru_cache(maxsize=64)
def finding_labels(knowledge: Knowledge = SHIPPED) -> dict[str, str]:
    """Plain words for each rule and finding name a profile can hold.

    Parameters
    ----------
    knowledge : Knowledge
        The knowledge files.

    Returns
    -------
    dict
        Name -> label (guideline rules by their label, signals by their description).
    """
    labels = {t.name: t.description.rstrip(".") for t in load_rules(knowledge.signals).text_rules}
    labels |= {f"{t.name}_same_modality": f"{t.description.rstrip('.')} (the requested treatment itself)"
               for t in load_rules(knowledge.signals).text_rules}
    labels |= {r.name: r.label for r in load_guidelines(knowledge.guidelines).rules}
    return labels


def label(name: str, knowledge: Knowledge = SHIPPED) -> str:
    """Plain words for a rule or finding name (the name itself, spaced, when unknown)."""
    return finding_labels(knowledge).get(name) or name.replace("_", " ")
