"""The engine's compiled rules: cue sets, clause terminators and text rules read from a
TOML table, with the word index that finds all their matchers in one pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from imr_ml.text import document as indexing
from imr_ml.text.document import Document
from imr_ml.text.literalindex import LiteralIndex
from imr_ml.text.matcher import Matcher
from imr_ml.text.negex import NEGATION, CueSet, TextRule
from imr_ml.text.wordindex import WordIndex


def matcher_of(patterns: Iterable[str] | None) -> Matcher | None:
    """A matcher of the non-empty patterns, or None when there are none.

    Parameters
    ----------
    patterns : iterable of str or None
        Regexes (empty strings are skipped).

    Returns
    -------
    Matcher or None
        Their matcher.
    """
    kept = [p for p in (patterns or []) if p]
    return Matcher(kept) if kept else None


@dataclass(frozen=True, eq=False)
class Engine:
    """Compiled matching rules.

    Parameters
    ----------
    cues : dict of str to CueSet
        The cue sets by name.
    terminators : Matcher or None
        Clause terminators.
    abbreviations : frozenset of str
        Abbreviations whose period ends no sentence.
    sentence_final : frozenset of str
        Of those, the ones whose period ends a sentence before a capitalised word ("PT").
    text_rules : tuple of TextRule
        The text signals' rules, in order.
    matchers : tuple of Matcher
        Every matcher a document finds at once (the rules' and any extra ones).
    index : WordIndex
        Their word-keyed patterns; it remembers words seen (`clear` forgets).
    literals : LiteralIndex
        Their literal patterns' literals and scanned patterns' inner literals, found in a
        text in one pass.
    headings : Matcher or None
        Headings and list labels ("current meds:", "work status:") that open a clause.
    forward_terminators : Matcher or None
        Words that end the reach of cues before them, not of cues after them ("due to").
    """

    cues: dict[str, CueSet]
    terminators: Matcher | None
    abbreviations: frozenset[str]
    text_rules: tuple[TextRule, ...]
    matchers: tuple[Matcher, ...]
    index: WordIndex
    literals: LiteralIndex
    headings: Matcher | None = None
    forward_terminators: Matcher | None = None
    sentence_final: frozenset[str] = frozenset()

    @cached_property
    def indexed(self) -> frozenset[Matcher]:
        """The matchers whose word-keyed patterns the word index finds."""
        return frozenset(self.matchers)

    @cached_property
    def field_rules(self) -> dict[str, tuple[TextRule, ...]]:
        """The text rules of each field they read, in the rules' order."""
        out: dict[str, list[TextRule]] = {}
        for rule in self.text_rules:
            out.setdefault(rule.field, []).append(rule)
        return {f: tuple(rules) for f, rules in out.items()}

    def rules_off(self, field: str) -> tuple[TextRule, ...]:
        """The text rules that read another field than `field`, in the rules' order.

        Parameters
        ----------
        field : str
            A field (the summary, read apart).

        Returns
        -------
        tuple of TextRule
            The others' rules.
        """
        found = self._rules_off.get(field)
        return found if found is not None else tuple(r for r in self.text_rules if r.field != field)

    @cached_property
    def _rules_off(self) -> dict[str, tuple[TextRule, ...]]:
        return {f: tuple(r for r in self.text_rules if r.field != f) for f in self.field_rules}

    @cached_property
    def literal_owners(self) -> dict[str, tuple[Matcher, ...]]:
        """For each literal of the literal index, the matchers it may make match: those with
        a literal pattern it opens or a scanned pattern it is inside of."""
        owners: dict[str, list[Matcher]] = {}
        for m in self.matchers:
            lits = [*m.literals, *(lit for _, _, inner in m.scanned for lit in inner or ())]
            for lit in dict.fromkeys(lits):
                owners.setdefault(lit, []).append(m)
        return {lit: tuple(ms) for lit, ms in owners.items()}

    @cached_property
    def scanning(self) -> tuple[Matcher, ...]:
        """The matchers with a scanned pattern."""
        return tuple(m for m in self.matchers if m.scanned)

    @cached_property
    def scanned_always(self) -> tuple[Matcher, ...]:
        """The matchers with a scanned pattern no literal rules out: they may match anywhere."""
        return tuple(m for m in self.scanning if any(inner is None for _, _, inner in m.scanned))

    @cached_property
    def _triggers(self) -> dict[Matcher, tuple[TextRule, ...]]:
        triggers: dict[Matcher, list[TextRule]] = {}
        for rule in self.text_rules:
            for m in rule.targets:
                triggers.setdefault(m, []).append(rule)
        return {m: tuple(rules) for m, rules in triggers.items()}

    def live_rules(self, doc: Document) -> set[TextRule] | None:
        """The text rules that may have a target in a document of these rules: one whose
        every target matcher surely has no span there finds nothing (`rule_spans` is
        empty), so it need not be evaluated; None when the document rules nothing out.

        Parameters
        ----------
        doc : Document
            A document of these rules.

        Returns
        -------
        set of TextRule or None
            The rules worth evaluating, or None for all of them.
        """
        if not indexing.PREFILTER:
            return None
        triggers = self._triggers
        live: set[TextRule] = set()
        for m in doc.possible:
            rules = triggers.get(m)
            if rules is not None:
                live.update(rules)
        return live

    def document(self, text: str) -> Document:
        """The text `text` indexed with these rules."""
        return Document(text, self)

    def clear(self) -> None:
        """Forget what the word index remembered (e.g. to time a cold run)."""
        self.index.clear()


def _cue_set(name: str, table: Mapping[str, Any], default_window: int) -> CueSet:
    return CueSet(name=name, role=str(table.get("role", name)), window=int(table.get("window", default_window)),
                  pre=matcher_of(table.get("pre")), post=matcher_of(table.get("post")),
                  pseudo=matcher_of(table.get("pseudo")), clause_pre=matcher_of(table.get("clause_pre")),
                  phrase_pre=matcher_of(table.get("phrase_pre")), comma_bounds=matcher_of(table.get("comma_bounds")))


def _text_rule(spec: Mapping[str, Any], cues: dict[str, CueSet]) -> TextRule:
    def sets(key: str, default: Iterable[str] = ()) -> tuple[CueSet, ...]:
        names = spec.get(key, default)
        for ref in names:
            if ref not in cues:
                raise ValueError(f"signal {spec['name']!r} refers to unknown cue set {ref!r}")
        return tuple(cues[n] for n in names)

    negation_sets = [n for n, c in cues.items() if c.role == NEGATION]
    return TextRule(name=spec["name"], description=spec.get("description", ""), field=spec.get("field", "summary"),
                    patterns=matcher_of(spec.get("patterns")), standalone=matcher_of(spec.get("standalone")),
                    negated=matcher_of(spec.get("negated")), exclude=sets("exclude"), require=sets("require"),
                    unless=matcher_of(spec.get("unless")), negated_by=sets("negated_by", negation_sets),
                    also_fields=tuple(spec.get("also_fields", ())))


def compile_engine(data: Mapping[str, Any], extra_matchers: Iterable[Matcher] = ()) -> Engine:
    """Compile the `[settings]`, `[cues.*]` and `[[signal]]` tables of a rules file.

    Parameters
    ----------
    data : mapping
        The parsed TOML (see `features/signals.toml`).
    extra_matchers : iterable of Matcher
        Other matchers every document should find at once (e.g. body regions).

    Returns
    -------
    Engine
        The compiled rules.
    """
    settings = data.get("settings", {})
    default_window = int(settings.get("default_window", 6))
    cues = {name: _cue_set(name, table, default_window) for name, table in data.get("cues", {}).items()}
    text_rules = tuple(_text_rule(spec, cues) for spec in data.get("signal", []))
    terminators = matcher_of(settings.get("terminators"))
    headings = matcher_of(settings.get("headings"))
    forward = matcher_of(settings.get("forward_terminators"))
    extra = list(extra_matchers)
    found = [terminators, forward, *extra]  # headings are looked for only in a text with a colon or dash
    found += [m for c in cues.values() for m in (c.pre, c.post, c.pseudo, c.clause_pre, c.phrase_pre, c.comma_bounds)]
    found += [m for t in text_rules for m in (t.patterns, t.standalone, t.negated, t.unless)]
    matchers = tuple(dict.fromkeys(m for m in found if m is not None))

    def words(key: str) -> frozenset[str]:  # abbreviations are written as regexes ('e\\.g')
        return frozenset(a.replace("\\", "") for a in settings.get(key, ()))

    return Engine(cues=cues, terminators=terminators, abbreviations=words("abbreviations"),
                  text_rules=text_rules, matchers=matchers, index=WordIndex(matchers),
                  literals=LiteralIndex(_literals(matchers)), headings=headings,
                  forward_terminators=forward,
                  sentence_final=words("sentence_final_abbreviations"))


def _literals(matchers: Iterable[Matcher]) -> list[str]:
    """Every literal a document asks where or whether it occurs: those opening the literal
    patterns and those inside the scanned ones."""
    out: list[str] = []
    for m in matchers:
        for _, lits, _ in m.literal:
            out.extend(lits)
        for _, _, inner in m.scanned:
            out.extend(inner or ())
    return out
