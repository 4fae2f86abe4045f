"""Guideline rules (`features/guidelines.toml`): what MTUS, ACOEM and ODG say about a kind of
request, as model features (`rule__<name>`) whose coefficients start from a cited prior.

A rule is a conjunction of conditions on a request's signals; its `strength` is the prior
log-odds effect of an overturn, `sd` how sure that prior is. The model (`imr_ml.modeling.estimator.prior_lr`)
shrinks each coefficient toward its strength instead of toward zero, so a model trained on a
hundred letters already knows what the guidelines say, and a large corpus can correct it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge.taxonomy import condition, conditions_hold, load_toml
from imr_ml.knowledge.validate import compiling, source_name
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.text.anycase import AnyCase


@dataclass(frozen=True)
class GuidelineRule:
    name: str
    label: str
    strength: float
    sd: float
    fixed_sign: bool
    citation: str
    when: tuple[tuple[str, Callable], ...]
    when_any: tuple[tuple[tuple[str, Callable], ...], ...]
    item: AnyCase | None
    names: frozenset[str]  # every signal a condition reads

    def applies(self, values: Mapping, item: str) -> bool:
        """Whether the rule fires for a request with these signal values and item text."""
        return self.holds(self.when, values, item)

    def holds(self, when: tuple[tuple[str, Callable], ...], values: Mapping, item: str) -> bool:
        """`applies`, with `when` standing for the rule's own conditions (those left to test
        once some are known to hold). Plain loops: scoring tests ~30 rules a request."""
        if not conditions_hold(when, values):
            return False
        if self.when_any and not any(conditions_hold(alt, values) for alt in self.when_any):
            return False
        return self.item is None or self.item.search(item or "") is not None


@dataclass(frozen=True, eq=False)  # one object per file (load_guidelines): hashed by identity
class Guidelines:
    rules: tuple[GuidelineRule, ...]
    prior: dict
    source: str


def _conditions(table: Mapping) -> tuple[tuple[str, Callable], ...]:
    return tuple((name, condition(cond)) for name, cond in table.items())


@lru_cache(maxsize=8)
def load_guidelines(path: str | None = None) -> Guidelines:
    """The rules of the shipped `features/guidelines.toml`, or of the user's copy (a rule's
    `item` may name `{drugs:...}` or `{service:...}` of the vocabulary)."""
    data = load_toml("guidelines.toml", path)  # checked: keys, types, unique names
    with compiling("guidelines.toml", path):
        rules = tuple(_rule(r) for r in data.get("rule", []))
    return Guidelines(rules=rules, prior=dict(data.get("prior", {})), source=source_name("guidelines.toml", path))


def _rule(r: dict) -> GuidelineRule:
    when = dict(r.get("when", {}))
    alts = [dict(a) for a in r.get("when_any", [])]
    return GuidelineRule(
        name=r["name"], label=r["label"], strength=float(r["strength"]), sd=float(r.get("sd", 0.3)),
        fixed_sign=r.get("direction") == "fixed", citation=r["citation"],
        when=_conditions(when), when_any=tuple(_conditions(a) for a in alts),
        item=AnyCase(load_vocabulary().expand(r["item"])) if r.get("item") else None,
        names=frozenset(when) | frozenset(k for a in alts for k in a),
    )


@lru_cache(maxsize=512)
def _candidates(guidelines: Guidelines, category) -> tuple[tuple[GuidelineRule, tuple], ...]:
    """(rule, its conditions but those on the category) of the rules whose category
    condition (if any) admits `category`: most rules name their categories, so a request is
    tested against the few that can apply (scoring speed), and not on its category again."""
    return tuple((r, tuple((name, test) for name, test in r.when if name != "category")) for r in guidelines.rules
                 if all(test(category) for name, test in r.when if name == "category"))


def fired_rules(values: Mapping, item: str, guidelines: Guidelines) -> list[GuidelineRule]:
    """The rules that apply to one request."""
    return [r for r, when in _candidates(guidelines, values.get("category")) if r.holds(when, values, item)]
