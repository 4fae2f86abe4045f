"""Service criteria as data, read by one generic matcher.

Per-fact rules do not carry to services nobody wrote a rule for: two requests for an EMG that
differ only in whether numbness is documented scored the same. `features/criteria.toml` says,
for each service, what its guideline requires documented (`indication`) and what argues
against it (`against`), as patterns a clinician can read; this module reads them for the
request's own service, with the engine's own NegEx (the cue sets of `signals.toml`), into
structured fields that two cited guideline rules read:

* `service_indication_documented`: an `indication` pattern stated affirmatively (not negated,
  resolved, planned or to be ruled out);
* `service_indication_contradicted`: an `against` pattern stated affirmatively, or an
  `indication` pattern that a negation cue reaches ("denies numbness", "negative Tinel",
  "numbness resolved");
* `service_criteria_known`, `service_criteria`, `service_label`, `service_document`: whether the
  item has a criterion, which, its words (an explanation names the service whose criterion
  fired) and what to document (the checklist's advice when no indication is).

Only the item's own criteria are read (those whose `item` regex, `category` and `drug_class`
fit it: 0-3 of them), each compiled once, when an item first needs it: the cost is per
criterion an item has, not per entry of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_ml.knowledge.taxonomy import load_toml
from imr_ml.knowledge.validate import compiling, source_name
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals.rules import Memo, SignalRules
from imr_ml.text.anycase import AnyCase
from imr_ml.text.document import Document
from imr_ml.text.engine import matcher_of
from imr_ml.text.negex import TextRule, overlaps, rule_spans

# The cue sets (of `signals.toml`, by name) that drop an indication (it is denied, resolved,
# planned or to be ruled out), that drop an argument against, and that turn an indication into
# its contradiction ("no numbness", "numbness resolved").
INDICATION_EXCLUDE = ("negation", "hypothetical", "resolution")
AGAINST_EXCLUDE = ("negation", "hypothetical")
CONTRADICTING = ("negation", "resolution")

# The structured fields this module gives (`imr_ml.signals.fields` lists them).
FIELD_NAMES = ("service_criteria_known", "service_criteria", "service_label", "service_document",
               "service_indication_documented", "service_indication_contradicted")

Evidence = list[tuple[str, int, int]]


@dataclass(frozen=True)
class Criterion:
    """One `[[criterion]]` of the file, its scope compiled.

    Parameters
    ----------
    service, label : str
        Its unique name and plain words.
    item : AnyCase or None
        What the requested item's text must match.
    categories, drug_classes : frozenset of str
        The item's category (drug class) must be one of these, when given.
    indication, against : tuple of str
        Patterns of the findings that support and that argue against the service.
    document, citation : str
        What to document, in plain words; where the criterion comes from.
    first_line : tuple of str
        Patterns of the care the guideline requires tried first (`criteria_kinds`).
    first_line_document : str
        That care, in plain words ("" without `first_line`).
    max_quantity, max_quantity_with_response : int or None
        The most the guideline allows, and the most after documented functional improvement.
    window : (str, int or None, int or None) or None
        (since "injury" or "surgery", min_days, max_days): when the guideline gives the service.
    """

    service: str
    label: str
    item: AnyCase | None
    categories: frozenset[str]
    drug_classes: frozenset[str]
    indication: tuple[str, ...]
    against: tuple[str, ...]
    document: str
    citation: str
    first_line: tuple[str, ...] = ()
    first_line_document: str = ""
    max_quantity: int | None = None
    max_quantity_with_response: int | None = None
    window: tuple[str, int | None, int | None] | None = None

    def applies(self, item: str, category: str, classes: Iterable[str]) -> bool:
        """Whether the criterion is the item's.

        Parameters
        ----------
        item : str
            The requested item's text.
        category : str
            Its taxonomy category.
        classes : iterable of str
            Its drug classes (`item_drug_classes`).

        Returns
        -------
        bool
            Its item regex, category and drug class (those given) all fit.
        """
        if self.categories and category not in self.categories:
            return False
        if self.drug_classes and self.drug_classes.isdisjoint(classes):
            return False
        return self.item is None or self.item.search(item) is not None


@dataclass(frozen=True, eq=False)
class Criteria:
    """The criteria of one `criteria.toml` (`load_criteria` gives one per file).

    Parameters
    ----------
    entries : tuple of Criterion
        In the file's order.
    source : str
        How errors name the file.
    path : str or None
        The file (None: the shipped one).
    compiled : dict
        {(service, rules): (indication rule, contradiction rule)}, filled as items need them.
    items : Memo
        {(item, category, classes): criteria} of the items seen (items repeat).
    """

    entries: tuple[Criterion, ...]
    source: str
    path: str | None = None
    compiled: dict = field(default_factory=dict)
    items: Memo = field(default_factory=lambda: Memo(8192))

    def of_item(self, item: str, category: str, classes: Iterable[str] = ()) -> tuple[Criterion, ...]:
        """The item's criteria.

        Parameters
        ----------
        item, category, classes
            As in `Criterion.applies`.

        Returns
        -------
        tuple of Criterion
            Those that apply, in the file's order.
        """
        classes = tuple(classes)
        key = (item, category, classes)
        found = self.items.get(key)
        if found is None:
            found = self.items.put(key, tuple(c for c in self.entries if c.applies(item, category, classes)))
        return found

    def text_rules(self, criterion: Criterion, rules: SignalRules) -> tuple[TextRule, TextRule]:
        """The criterion's two NegEx rules (indication documented, contradicted) with the cue
        sets of `rules`, compiled the first time they are asked for.

        Parameters
        ----------
        criterion : Criterion
            One of these criteria.
        rules : SignalRules
            The signal rules whose cue sets qualify the patterns.

        Returns
        -------
        (TextRule, TextRule)
            The indication's and the contradiction's.
        """
        key = (criterion.service, rules)
        found = self.compiled.get(key)
        if found is None:
            with compiling("criteria.toml", self.path):
                found = self.compiled[key] = _text_rules(criterion, rules)
        return found


def _text_rules(c: Criterion, rules: SignalRules) -> tuple[TextRule, TextRule]:
    vocab = load_vocabulary()
    indication = matcher_of(vocab.expand_all(c.indication))
    documented = TextRule(name=f"{c.service}_indication", description=c.document, field="summary",
                          patterns=indication, standalone=None, negated=None,
                          exclude=rules.cue_sets(INDICATION_EXCLUDE), require=(), unless=None)
    contradicted = TextRule(name=f"{c.service}_contradicted", description=c.document, field="summary",
                            patterns=matcher_of(vocab.expand_all(c.against)), standalone=None, negated=indication,
                            exclude=rules.cue_sets(tuple(dict.fromkeys(AGAINST_EXCLUDE + CONTRADICTING))),
                            require=(), unless=None, negated_by=rules.cue_sets(CONTRADICTING))
    return documented, contradicted


def _criterion(entry: dict, check: bool) -> Criterion:
    vocab = load_vocabulary()
    patterns = (*entry.get("indication", ()), *entry.get("against", ()), *entry.get("first_line", ()))
    for pattern in patterns if check else ():  # refused on load
        re.compile(vocab.expand(pattern), re.IGNORECASE)
    window = entry.get("window")
    return Criterion(service=entry["service"], label=entry["label"],
                     item=AnyCase(vocab.expand(entry["item"])) if entry.get("item") else None,
                     categories=frozenset(entry.get("category", ())),
                     drug_classes=frozenset(entry.get("drug_class", ())),
                     indication=tuple(entry.get("indication", ())), against=tuple(entry.get("against", ())),
                     document=entry["document"], citation=entry["citation"],
                     first_line=tuple(entry.get("first_line", ())),
                     first_line_document=entry.get("first_line_document", ""),
                     max_quantity=entry.get("max_quantity"),
                     max_quantity_with_response=entry.get("max_quantity_with_response"),
                     window=(window["since"], window.get("min_days"), window.get("max_days")) if window else None)


_LOADED: dict[str | None, Criteria] = {}


def load_criteria(path: str | Path | Criteria | None = None) -> Criteria:
    """The criteria of `features/criteria.toml` or the user's (a model's) copy, checked.

    Parameters
    ----------
    path : str, Path, Criteria or None
        The file (None: the shipped one), or criteria already loaded.

    Returns
    -------
    Criteria
        Loaded once per path.
    """
    if isinstance(path, Criteria):
        return path
    key = str(path) if path is not None else None
    found = _LOADED.get(key)
    if found is None:
        data = load_toml("criteria.toml", key)
        # a user's or a model's copy: every pattern compiled now (about 0.3 ms each), so that a
        # bad one is refused on load; the shipped file's are compiled by the tests
        # (tests/test_criteria.py), and a startup is spared compiling patterns most runs never read
        with compiling("criteria.toml", key):
            entries = tuple(_criterion(e, key is not None) for e in data.get("criterion", ()))
        found = _LOADED[key] = Criteria(entries, source_name("criteria.toml", key), key)
    return found


def _none() -> dict[str, tuple[Any, Evidence]]:
    return {"service_criteria_known": (False, []), "service_criteria": ([], []), "service_label": ("", []),
            "service_document": ("", []), "service_indication_documented": (False, []),
            "service_indication_contradicted": (False, [])}


def read_criteria(item: str, signals: Mapping, doc: Document, rules: SignalRules,
                  criteria: str | Criteria | None = None) -> dict[str, tuple[Any, Evidence]]:
    """The criteria fields of one request: its service's criteria read in its summary.

    Parameters
    ----------
    item : str
        The requested item's text.
    signals : Mapping
        `{name: Signal}` found so far (`category`, `item_drug_classes`).
    doc : Document
        The summary, indexed with `rules`.
    rules : SignalRules
        The compiled signal rules (their cue sets).
    criteria : str, Criteria or None
        The criteria file (None: the shipped one).

    Returns
    -------
    dict
        `{field: (value, evidence)}` of `FIELD_NAMES`.
    """
    loaded = load_criteria(criteria)
    classes = signals["item_drug_classes"].value if "item_drug_classes" in signals else ()
    # (a criterion without indications says only what `criteria_kinds` reads)
    found = tuple(c for c in loaded.of_item(item, signals["category"].value, classes or ()) if c.indication)
    if not found:
        return _none()
    documented: Evidence = []
    contradicted: Evidence = []
    fired = []
    for c in found:
        key = ("criterion", loaded, c.service)  # items of one letter share its summary's document
        spans = doc.memo.get(key)
        if spans is None:
            indication, against = loaded.text_rules(c, rules)
            spans = doc.memo[key] = (rule_spans(doc, indication), rule_spans(doc, against))
        documented += [("summary", s, e) for s, e in spans[0]]
        # a finding stated as an indication is not also its contradiction ("a fracture not
        # seen on X-ray" is an indication for a CT, though "not seen" denies the fracture)
        contradicted += [("summary", s, e) for s, e in spans[1] if not overlaps(s, e, spans[0])]
        if spans[0] or spans[1]:
            fired.append(c)
    whole = [("item", 0, len(item))]
    named = fired or list(found)
    return {"service_criteria_known": (True, whole),
            "service_criteria": ([c.service for c in found], whole * len(found)),
            "service_label": (" / ".join(c.label for c in named), []),
            "service_document": ("; or ".join(dict.fromkeys(c.document for c in found)), []),
            "service_indication_documented": (bool(documented), sorted(documented)),
            "service_indication_contradicted": (bool(contradicted), sorted(contradicted))}


def service_named(label: str, signals: Mapping) -> str:
    """A rule's words with the service whose criterion fired ("EMG/NCS of the upper limbs:
    an indication ... is documented"), for a request that has one.

    Parameters
    ----------
    label : str
        The rule's label.
    signals : Mapping
        The request's `{name: Signal}`.

    Returns
    -------
    str
        The label, prefixed by `service_label` when the request has one.
    """
    named = signals.get("service_label")
    if named is None or not named.value:
        return label
    head = "guideline: " if label.startswith("guideline: ") else ""
    return f"{head}{named.value}: {label[len(head):]}"
