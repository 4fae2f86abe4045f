"""NegEx: whether a cue (negation, hypothetical, history ...) governs a target span.

As in negspacy's `negex`: a target span is found; a window of words before it is searched
for the cue set's `pre` cues and a window after it for its `post` cues; `pseudo` cues
("no further", "not only") contain a cue word but cancel it; a clause terminator ("but",
"however", ";"), a heading or list label ("Medications:") or a sentence end closes the scope;
a forward terminator ("due to", "secondary to") closes it for cues before the target only.
`clause_pre` cues reach to the end of their clause, whatever the window; `phrase_pre` cues are
part of the finding they make ("unable to walk", "never vaccinated") and reach no further than
the next comma (the finding after it is stated on its own: "never vaccinated, needle stick").
A comma itself ends no scope ("no fever, chills, or night sweats"); a set's `comma_bounds`
(commas that open a new clause: "No prior acu, NSAID intolerant", "no swelling, tender over the
joint line") end the reach of its cues before them.

A rule's `exclude` cue sets drop a target: those whose role is ``"negation"`` always, the
others (e.g. ``"hypothetical"``) unless a `require` cue is closer to the target. The roles
are declared in the rules' TOML (`role = "negation"`), never inferred from names.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from imr_ml.text.document import Document
from imr_ml.text.matcher import Matcher, Span

NEGATION = "negation"  # the role of cue sets that always drop a target


@dataclass(frozen=True, eq=False)
class CueSet:
    """Cue patterns of one kind, with their role and reach.

    Parameters
    ----------
    name : str
        The set's name in the rules.
    role : str
        What it does to a target it reaches (``"negation"``: drops it always).
    window : int
        How many words a `pre` or `post` cue reaches.
    pre, post, pseudo, clause_pre, phrase_pre : Matcher or None
        Cues before the target, after it, false cues that cancel a cue they overlap, cues
        before the target that reach to the end of their clause, and cues before it that
        reach no further than the next comma.
    comma_bounds : Matcher or None
        Commas that open a new clause (matches starting at the comma): a cue before one
        does not reach a target after it.
    """

    name: str
    role: str
    window: int
    pre: Matcher | None
    post: Matcher | None
    pseudo: Matcher | None
    clause_pre: Matcher | None = None
    phrase_pre: Matcher | None = None
    comma_bounds: Matcher | None = None


class CueHit(NamedTuple):
    """The closest cue reaching a target.

    Parameters
    ----------
    distance : int
        Words between the cue and the target.
    span : (int, int)
        The cue's span.
    """

    distance: int
    span: Span


class _CueSpans(NamedTuple):
    pre: list[Span]
    clause_pre: list[Span]
    post: list[Span]
    phrase_pre: list[Span]


@dataclass(frozen=True, eq=False)
class TextRule:
    """A text signal: target patterns and the cue sets that qualify them.

    Parameters
    ----------
    name, description, field : str
        The signal's name, what it means, and the text field it reads.
    patterns : Matcher or None
        Targets kept unless an `exclude` cue reaches them; with `require`, only when a
        required cue does.
    standalone : Matcher or None
        Targets kept unless an `exclude` cue reaches them (`require` not asked).
    negated : Matcher or None
        Targets kept only when a `negated_by` cue reaches them and no other `exclude` cue
        is closer ("lack of documentation of conservative care").
    exclude, require, negated_by : tuple of CueSet
        The cue sets that drop, are required by, and confirm the targets.
    unless : Matcher or None
        Targets overlapping these spans are ignored.
    also_fields : tuple of str
        Other fields where a `standalone` target alone makes the signal (an opioid named by
        the disputed item itself); read by the signals stage, not by NegEx.
    """

    name: str
    description: str
    field: str
    patterns: Matcher | None
    standalone: Matcher | None
    negated: Matcher | None
    exclude: tuple[CueSet, ...]
    require: tuple[CueSet, ...]
    unless: Matcher | None
    negated_by: tuple[CueSet, ...] = ()
    also_fields: tuple[str, ...] = ()

    @cached_property
    def targets(self) -> tuple[Matcher, ...]:
        """The matchers whose spans are the rule's targets (`patterns`, `standalone`, `negated`)."""
        return tuple(m for m in (self.patterns, self.standalone, self.negated) if m is not None)

    @cached_property
    def negating(self) -> tuple[CueSet, ...]:
        """The `exclude` sets whose role is negation: they drop a target whatever else is near."""
        return tuple(c for c in self.exclude if c.role == NEGATION)

    @cached_property
    def qualifying(self) -> tuple[CueSet, ...]:
        """The other `exclude` sets: a closer required cue overrides them."""
        return tuple(c for c in self.exclude if c.role != NEGATION)


def _outside(spans: list[Span], others: list[Span]) -> list[Span]:
    """The `spans` that overlap none of `others` (both in text order, neither overlapping
    itself): one pass over the two."""
    kept, j, n = [], 0, len(others)
    for s, e in spans:
        while j < n and others[j][1] <= s:
            j += 1
        if j == n or others[j][0] >= e:
            kept.append((s, e))
    return kept


def _cue_spans(doc: Document, cue: CueSet) -> _CueSpans:
    """A cue set's spans in a document, found once, with pseudo cues taken out (matcher
    spans never overlap, so they are in order of both start and end)."""
    found = doc.cue_spans.get(cue.name)
    if found is None:
        pseudo = doc.spans(cue.pseudo) if cue.pseudo is not None else []

        def real(pat: Matcher | None) -> list[Span]:
            spans = doc.spans(pat) if pat is not None else []
            return _outside(spans, pseudo) if spans and pseudo else spans

        found = doc.cue_spans[cue.name] = _CueSpans(real(cue.pre), real(cue.clause_pre), real(cue.post),
                                                    real(cue.phrase_pre))
    return found


def _crosses_comma_bound(doc: Document, cue: CueSet, a: int, b: int) -> bool:
    """Whether one of the set's `comma_bounds` starts in [a, b) (found once per text, and only
    in a text where a cue of the set has a comma between it and a target)."""
    if cue.comma_bounds is None or doc.low.find(",", a, b) < 0:
        return False
    key = cue.name + ","
    commas = doc.cue_spans.get(key)
    if commas is None:
        commas = doc.cue_spans[key] = [s for s, _ in doc.spans(cue.comma_bounds)]
    return bisect_left(commas, a) != bisect_left(commas, b)


def _cue_before(doc: Document, cue: CueSet, spans: list[Span], start: int) -> CueHit | None:
    """The last of `spans` ending before `start`, if no bound a forward cue may not cross
    (a clause bound, "due to", one of the set's `comma_bounds`) lies between the cue's start
    and the target (a cue that runs over one, "requested due to", stops there)."""
    i = bisect_right(spans, start, key=lambda t: t[1]) - 1
    if i < 0:
        return None
    cs, ce = spans[i]
    if doc.pre_clause(cs) != doc.pre_clause(start) or _crosses_comma_bound(doc, cue, cs, start):
        return None
    return CueHit(doc.word_distance(ce, start), (cs, ce))


def nearest_cue(doc: Document, cue: CueSet, start: int, end: int) -> CueHit | None:
    """The closest cue of a set that reaches the target text[start:end].

    Parameters
    ----------
    doc : Document
        The indexed text.
    cue : CueSet
        The cue set.
    start, end : int
        The target span.

    Returns
    -------
    CueHit or None
        The closest reaching cue: a `pre` cue within the window before the target, a
        `phrase_pre` cue within it and no comma between them, a `clause_pre` cue anywhere
        before it in its clause, or a `post` cue within the window after it, in the
        target's clause.
    """
    tables = _cue_spans(doc, cue)
    best = None
    hit = _cue_before(doc, cue, tables.pre, start)
    if hit is not None and hit.distance <= cue.window:
        best = hit
    if cue.phrase_pre is not None:
        hit = _cue_before(doc, cue, tables.phrase_pre, start)
        if (hit is not None and hit.distance <= cue.window and (best is None or hit.distance < best.distance)
                and doc.low.find(",", hit.span[1], start) < 0):
            best = hit
    if cue.clause_pre is not None:
        hit = _cue_before(doc, cue, tables.clause_pre, start)
        if hit is not None and (best is None or hit.distance < best.distance):
            best = hit
    post = tables.post
    i = bisect_left(post, end, key=lambda t: t[0])
    if i < len(post):
        cs, ce = post[i]
        d = doc.word_distance(end, cs)
        in_clause = doc.clause(cs) == doc.clause(max(start, end - 1))
        if d <= cue.window and in_clause and (best is None or d < best.distance):
            best = CueHit(d, (cs, ce))
    return best


def nearest_of(doc: Document, cues: Iterable[CueSet], start: int, end: int) -> CueHit | None:
    """The closest cue of several sets reaching a target (the first set wins a tie).

    Parameters
    ----------
    doc : Document
        The indexed text.
    cues : iterable of CueSet
        The cue sets.
    start, end : int
        The target span.

    Returns
    -------
    CueHit or None
        The closest reaching cue of any of the sets.
    """
    best = None
    for cue in cues:
        hit = nearest_cue(doc, cue, start, end)
        if hit is not None and (best is None or hit.distance < best.distance):
            best = hit
    return best


def overlaps(s: int, e: int, spans: Iterable[Span]) -> bool:
    """Whether [s, e) overlaps one of `spans`.

    Parameters
    ----------
    s, e : int
        A span.
    spans : iterable of (int, int)
        Other spans.

    Returns
    -------
    bool
        True when they share a character.
    """
    return any(s < pe and ps < e for ps, pe in spans)


def keep_target(doc: Document, rule: TextRule, start: int, end: int, use_require: bool = True) -> bool:
    """NegEx's decision for an affirmative target.

    Parameters
    ----------
    doc : Document
        The indexed text.
    rule : TextRule
        The rule the target belongs to.
    start, end : int
        The target span.
    use_require : bool, default True
        Whether the rule's `require` cue sets must reach the target.

    Returns
    -------
    bool
        False when a required cue is missing or a negation cue reaches the target; else
        True unless another excluding cue (a hypothetical) reaches it and no required cue
        is closer ("plan ... ongoing therapy including X").
    """
    required = None
    if rule.require and use_require:
        required = nearest_of(doc, rule.require, start, end)
        if required is None:
            return False
    negating = rule.negating
    if negating and nearest_of(doc, negating, start, end) is not None:
        return False
    qualifier = nearest_of(doc, rule.qualifying, start, end)
    if qualifier is None:
        return True
    return required is not None and required.distance < qualifier.distance


def keep_negated_target(doc: Document, rule: TextRule, start: int, end: int) -> bool:
    """NegEx's decision for a `negated` target: it counts only when negated.

    Parameters
    ----------
    doc, rule, start, end
        As in `keep_target`.

    Returns
    -------
    bool
        True when a `negated_by` cue reaches the target and no other excluding cue is as
        close.
    """
    negation = nearest_of(doc, rule.negated_by, start, end)
    if negation is None:
        return False
    other = nearest_of(doc, (c for c in rule.exclude if c not in rule.negated_by), start, end)
    return other is None or other.distance > negation.distance


def rule_spans(doc: Document, rule: TextRule) -> list[Span]:
    """The targets of a rule that NegEx keeps in a document.

    Parameters
    ----------
    doc : Document
        The indexed text.
    rule : TextRule
        The rule.

    Returns
    -------
    list of (int, int)
        The kept target spans, in text order: `patterns` first, then `standalone` and
        `negated` targets that overlap none kept before.
    """
    for m in rule.targets:  # most rules have no target in a text: nothing else is looked for then
        if doc.may_match(m):
            break
    else:
        return []
    unless = doc.spans(rule.unless) if rule.unless is not None else []
    spans: list[Span] = []
    if rule.patterns is not None:
        for s, e in doc.spans(rule.patterns):
            if not (unless and overlaps(s, e, unless)) and keep_target(doc, rule, s, e):
                spans.append((s, e))
    if rule.standalone is not None:
        for s, e in doc.spans(rule.standalone):
            if not (overlaps(s, e, unless) or overlaps(s, e, spans)) and keep_target(doc, rule, s, e, False):
                spans.append((s, e))
    if rule.negated is not None:
        for s, e in doc.spans(rule.negated):
            if not (overlaps(s, e, unless) or overlaps(s, e, spans)) and keep_negated_target(doc, rule, s, e):
                spans.append((s, e))
    if len(spans) > 1:
        spans.sort(key=lambda t: t[0])
    return spans
