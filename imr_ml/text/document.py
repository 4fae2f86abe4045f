"""One text, lower-cased and cut into sentences and clauses, with every matcher of a rule
set found once: the document index the NegEx rules and the signals read."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any, Protocol

from imr_ml.text import matcher as matching
from imr_ml.text.literalindex import LiteralIndex
from imr_ml.text.literals import required_literals
from imr_ml.text.matcher import LiteralPositions, Matcher, Span, lower_text
from imr_ml.text.wordindex import WordIndex

_SENT_END = re.compile(r"[.!?][\"')\]]*(?:\s+|(?=[A-Z][a-z]))")
# A list label or heading written with a capital and a colon ("Allergies: None Medications:
# Norco"): the capitalised word before the colon opens a new clause, so "None" cannot reach
# "Norco". Only the word before the colon: "No evidence of: ..." stays one clause.
_LABEL = re.compile(r"\b[A-Z][A-Za-z]*(?=:(?:\s|$))")
_LETTERS_DOT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."
# Whether `Document.may_match` may rule a matcher out (a setting: the tests turn it off to
# check that ruling out never changes a result).
PREFILTER = True


class DocumentRules(Protocol):
    """What a document needs of its rules (`imr_ml.text.engine.Engine` has it).

    Parameters
    ----------
    *args, **kwargs
        A protocol is not instantiated.
    """

    @property
    def index(self) -> WordIndex: ...

    @property
    def matchers(self) -> tuple[Matcher, ...]: ...

    @property
    def literals(self) -> LiteralIndex: ...

    @property
    def literal_owners(self) -> dict[str, tuple[Matcher, ...]]: ...

    @property
    def scanned_always(self) -> tuple[Matcher, ...]: ...

    @property
    def scanning(self) -> tuple[Matcher, ...]: ...

    @property
    def indexed(self) -> frozenset[Matcher]: ...

    @property
    def terminators(self) -> Matcher | None: ...

    @property
    def headings(self) -> Matcher | None: ...

    @property
    def forward_terminators(self) -> Matcher | None: ...

    @property
    def abbreviations(self) -> frozenset[str]: ...

    @property
    def sentence_final(self) -> frozenset[str]: ...


def _word_before(text: str, end: int) -> str:
    """The run of ASCII letters and dots ending at `end` (within 12 characters; a newline
    just before `end` is passed over): what `([A-Za-z.]+)$` finds in text[end-12:end]."""
    tail = text[max(0, end - 12):end]
    if tail.endswith("\n"):
        tail = tail[:-1]
    return tail[len(tail.rstrip(_LETTERS_DOT)):]


def sentence_ends(text: str, abbreviations: frozenset[str], final: frozenset[str] = frozenset()) -> list[int]:
    """Where sentences end: a full stop, `!` or `?` not closing an abbreviation, or closing
    one of `final` before a capitalised word ("12 sessions of PT. He reports ...").

    Parameters
    ----------
    text : str
        The text (original case).
    abbreviations : frozenset of str
        Lower-case abbreviations whose period ends no sentence ("dr", "e.g").
    final : frozenset of str
        Of those, the ones that are also words ending a sentence ("pt" for physical therapy,
        "mg"): their period ends one when the next word is capitalised ("Pt. reports" stays).

    Returns
    -------
    list of int
        The position of each sentence's final mark, in order.
    """
    out = []
    for m in _SENT_END.finditer(text):
        word = _word_before(text, m.start()).lower().rstrip(".")
        if word not in abbreviations or (word in final and m.end() < len(text) and text[m.end()].isupper()):
            out.append(m.start())
    return out


class Document:
    """One text indexed for matching.

    Parameters
    ----------
    text : str
        The text.
    rules : DocumentRules
        The compiled rules whose matchers are found at once.

    Attributes
    ----------
    low : str
        The lower-cased text (same offsets).
    words : list of int
        The start of every word.
    sentences : list of int
        Sentence ends (`sentence_ends`).
    bounds : list of int
        Clause bounds: sentence ends, the starts of the rules' terminators, of their headings
        and of capitalised list labels ("Medications:").
    pre_bounds : list of int
        The bounds a cue reaching forward may not cross: `bounds` and the starts of the
        rules' forward terminators ("due to", "secondary to": a cause is asserted on its own,
        "unable to work due to radicular pain" does not deny the radicular pain, while a cue
        after it still reaches back, "radiculopathy due to a disc herniation was ruled out").
    cue_spans : dict
        Each cue set's spans in this text, filled by `imr_ml.text.negex`.
    possible : set of Matcher
        The rules' matchers that may have a span here (`may_match`).
    memo : dict
        Analyses of this text shared by its readers, keyed by the reader (items of one
        letter share its summary's).
    """

    __slots__ = ("text", "low", "rules", "words", "sentences", "bounds", "pre_bounds", "positions", "_spans",
                 "_keyed", "cue_spans", "memo", "possible")

    def __init__(self, text: str, rules: DocumentRules):
        self.text = text
        self.low = low = lower_text(text)
        self.rules = rules
        self.positions = LiteralPositions(low, rules.literals.find(low), rules.literals.covered)
        # the word-keyed matches of every matcher are found in one pass; each matcher's
        # spans are completed (literal and scanned patterns, merging) when first asked for:
        # most cue sets and vetoes are never asked for in a text without their signal's targets
        self.words, self._keyed = rules.index.find(low)
        self.possible = self._possible()
        self._spans: dict[Matcher, list[Span]] = {}
        self.sentences = sentence_ends(text, rules.abbreviations, rules.sentence_final)
        bounds = list(self.sentences)
        if rules.terminators is not None:
            bounds.extend(s for s, _ in self.spans(rules.terminators))
        if ":" in text or "- " in text:  # headings end in one (most letters' summaries have none)
            if rules.headings is not None:
                bounds.extend(rules.headings.starts(low))
            bounds.extend(m.start() for m in _LABEL.finditer(text))
        bounds.sort()
        self.bounds = bounds
        forward = self.spans(rules.forward_terminators) if rules.forward_terminators is not None else []
        self.pre_bounds = sorted(bounds + [s for s, _ in forward]) if forward else bounds
        self.cue_spans: dict[str, Any] = {}
        self.memo: dict[Any, Any] = {}

    def _possible(self) -> set[Matcher]:
        """The rules' matchers that may match here, told from what the word index and the
        literal index found: a word-keyed match, a literal pattern's opening literal, a
        scanned pattern's inner literal (or a scanned pattern without any)."""
        rules = self.rules
        found = set(self._keyed)
        owners = rules.literal_owners
        for lit, pos in self.positions.found().items():
            if pos and lit in owners:
                found.update(owners[lit])
        found.update(rules.scanned_always if matching.SKIP_SCANS else rules.scanning)
        return found

    def spans(self, matcher: Matcher) -> list[Span]:
        """A matcher's spans in this text.

        Parameters
        ----------
        matcher : Matcher
            Any matcher (those of the document's rules were found at once).

        Returns
        -------
        list of (int, int)
            Its match spans, in text order (shared: do not modify).
        """
        found = self._spans.get(matcher)
        if found is None:
            keyed = self._keyed.get(matcher)
            if keyed is None and matcher in self.rules.indexed:
                keyed = []  # indexed, and none of its word-keyed patterns matched
            found = self._spans[matcher] = matcher.spans(self.positions, keyed)
        return found

    def may_match(self, matcher: Matcher) -> bool:
        """Whether a matcher may have a span in this text, told without searching it: False
        only when it has none (no word-keyed match was found, none of its literal patterns'
        literals occurs, nor any scanned pattern's inner literals). Most rules' targets occur in few
        texts: this check rules a rule out for a fraction of what finding its spans costs.

        Parameters
        ----------
        matcher : Matcher
            Any matcher.

        Returns
        -------
        bool
            False when `spans(matcher)` is surely empty (`possible` holds the rules'
            matchers that may match).
        """
        found = self._spans.get(matcher)
        if found is not None:
            return bool(found)
        if not PREFILTER or matcher not in self.rules.indexed:
            return True
        return matcher in self.possible

    def finditer(self, rx: re.Pattern, start: int = 0, end: int | None = None) -> Iterator[re.Match]:
        """The matches `rx.finditer(low, start, end)` gives, with `rx` tried only where one
        of its required literals occurs.

        Parameters
        ----------
        rx : re.Pattern
            A lower-case pattern.
        start, end : int, optional
            The stretch of the text searched.

        Yields
        ------
        re.Match
            The matches, in order.
        """
        low = self.low
        end = len(low) if end is None else end
        starts = self.memo.get((Document.finditer, rx))
        if starts is None:
            lits = required_literals(rx.pattern)
            if lits is None:
                yield from rx.finditer(low, start, end)
                return
            # where any literal occurs in the whole text, found once per pattern: a long
            # pattern (every treatment's name) is searched in many short windows of a text
            found: set[int] = set()
            for lit in lits:
                found.update(self.positions.anywhere(lit))
            starts = self.memo[(Document.finditer, rx)] = sorted(found)
        last = start
        for i in starts[bisect_left(starts, start):bisect_left(starts, end)]:
            if i >= last:
                m = rx.match(low, i, end)
                if m is not None:
                    yield m
                    last = m.end()

    def word_distance(self, a: int, b: int) -> int:
        """How many words start between positions `a` and `b`.

        Parameters
        ----------
        a, b : int
            Positions, `a` before `b`.

        Returns
        -------
        int
            The number of word starts in [a, b).
        """
        return bisect_left(self.words, b) - bisect_left(self.words, a)

    def clause(self, pos: int) -> int:
        """The number of the clause holding the position `pos` (clauses are numbered in text order)."""
        return bisect_right(self.bounds, pos)

    def pre_clause(self, pos: int) -> int:
        """The number (in text order) of the stretch holding the position `pos` that a cue before it may
        reach across (`pre_bounds`).
        """
        return bisect_right(self.pre_bounds, pos)

    def sentence_span(self, pos: int) -> Span:
        """The (start, end) of the sentence holding the position `pos`."""
        i = bisect_right(self.sentences, pos)
        start = self.sentences[i - 1] + 1 if i > 0 else 0
        end = self.sentences[i] + 1 if i < len(self.sentences) else len(self.text)
        return start, end

    def reading_span(self, pos: int) -> Span:
        """The sentence holding `pos` and the one before it: a finding is read with what was
        just said ("Finished 6 acupuncture visits. Now back at work.").

        Parameters
        ----------
        pos : int
            A position.

        Returns
        -------
        (int, int)
            Their (start, end).
        """
        start, end = self.sentence_span(pos)
        return (self.sentence_span(start - 2)[0] if start > 1 else 0), end
