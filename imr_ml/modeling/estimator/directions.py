"""The direction the guidelines give the evidence a rule reads, for the features that restate it.

A guideline rule is a finding about signals ("more visits after a course with no documented
functional improvement" reads the earlier sessions and the absence of improvement). The
model also has each of those signals as a feature of its own, learnt from the letters. With a
hundred letters such a feature can learn the reverse of the rule that reads it, and an
explanation then counts the same quoted text both ways ("12 sessions of acupuncture": -1.15
by the rule, +0.21 by the number of earlier sessions). So a feature that restates what a
fixed-direction rule reads shares that rule's sign constraint:

- a condition that holds when the signal is present (``true``, ``">0"``) gives the signal the
  rule's direction; one that holds when it is absent (``false``, ``"=0"``, ``"<1"``) the opposite
  (the rule "imaging without a neurological deficit" is against an overturn, so a deficit
  counts toward one);
- a threshold on a number (``">65"``) or a list of levels (body regions) scopes the rule to
  some requests: it says nothing about which way the number or level moves the odds, so it
  gives none;
- only rules whose guideline fixes the direction (``direction = "fixed"``) vote;
- a feature whose voting rules disagree (radicular symptoms support an epidural and count
  against trigger-point injections) has no direction of its own: which way it moves the
  odds depends on the service, which only the rules know. It is merged with those rules:
  its own weight is held at 0, so the evidence counts through the service-scoped rules
  alone (listed by `direction_conflicts`).

Everything is derived from the knowledge files (`features/guidelines.toml` and the registry
of structured fields, `imr_ml.signals.fields`): no feature is named by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from imr_ml.knowledge.guidelines import GuidelineRule, load_guidelines
from imr_ml.signals.fields import FIELDS


def condition_polarity(test: Callable[[object], bool]) -> int:
    """Whether a rule's condition asks for a signal's presence (+1), its absence (-1) or
    neither (0: a threshold or a list of levels, which scopes the rule).

    Parameters
    ----------
    test : callable
        The condition as `imr_ml.knowledge.taxonomy.condition` compiles it.

    Returns
    -------
    int
        +1, -1 or 0.
    """
    present, absent = test(True), test(False)
    if present and not absent:
        return 1
    if absent and not present:
        return -1
    return 0


def _conditions(rule: GuidelineRule):
    yield from rule.when
    for alternative in rule.when_any:
        yield from alternative


def feature_columns(signal: str, names: Sequence[str]) -> list[str]:
    """The features among `names` that hold a signal's own value: `signal__<name>`, and the
    scalar structured field that reads it (`field__prior_sessions` for `prior_sessions`).

    Parameters
    ----------
    signal : str
        A signal a rule's condition names.
    names : sequence of str
        The model's structured feature names.

    Returns
    -------
    list of str
        Zero, one or two feature names.
    """
    wanted = [f"signal__{signal}"] + [f"field__{f.name}" for f in FIELDS if f.signal == signal and f.numeric]
    present = set(names)
    return [n for n in wanted if n in present]


def _votes(names: Sequence[str], guidelines: str | None) -> dict[str, dict[int, list[str]]]:
    """{feature: {direction: [rules]}} from every fixed-direction rule that reads the feature."""
    votes: dict[str, dict[int, list[str]]] = {}
    for rule in load_guidelines(guidelines).rules:
        if not rule.fixed_sign or rule.strength == 0:
            continue
        sign = 1 if rule.strength > 0 else -1
        for signal, test in _conditions(rule):
            polarity = condition_polarity(test)
            if signal == "category" or not polarity:
                continue
            for feature in feature_columns(signal, names):
                rules = votes.setdefault(feature, {}).setdefault(sign * polarity, [])
                if rule.name not in rules:
                    rules.append(rule.name)
    return votes


def rule_directions(names: Sequence[str], guidelines: str | None = None) -> dict[str, int]:
    """The sign every fixed-direction guideline rule reading a feature agrees on, for the model's
    structured feature names `names` and the guidelines TOML at `guidelines` (None: the shipped one).

    {feature: +1 (toward an overturn), -1, or 0 when its rules disagree (merged with them: its own
    weight held at 0)}; features no fixed rule reads are absent.
    """
    return {f: next(iter(v)) if len(v) == 1 else 0 for f, v in _votes(names, guidelines).items()}


def direction_conflicts(names: Sequence[str], guidelines: str | None = None) -> dict[str, dict[int, list[str]]]:
    """The features among `names` (the model's structured feature names) whose fixed-direction rules in
    `guidelines` (a guidelines TOML's path; None: the shipped one) read them in opposite directions
    (merged with those rules: their own weight held at 0), as {feature: {+1: [rules], -1: [rules]}}.
    """
    return {f: v for f, v in _votes(names, guidelines).items() if len(v) > 1}
