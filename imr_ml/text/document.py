"""One text, lower-cased and cut into sentences and clauses, with every matcher of a rule
set found once: the document index the NegEx rules and the signals read."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any, Protocol

from imr_ml.text.literals import required_literals
from imr_ml.text.matcher import LiteralPositions, Matcher, Span, lower_text
from imr_ml.text.wordindex import WordIndex

_SENT_END = re.compile(r"[.!?][\"')\]]*(?:\s+|(?=[A-Z][a-z]))")
_LETTERS_DOT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."


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
    def terminators(self) -> Matcher | None: ...

    @property
    def abbreviations(self) -> frozenset[str]: ...


def _word_before(text: str, end: int) -> str:
    """The run of ASCII letters and dots ending at `end` (within 12 characters; a newline
    just before `end` is passed over): what `([A-Za-z.]+)$` finds in text[end-12:end]."""
    tail = text[max(0, end - 12):end]
    if tail.endswith("\n"):
        tail = tail[:-1]
    return tail[len(tail.rstrip(_LETTERS_DOT)):]


def sentence_ends(text: str, abbreviations: frozenset[str]) -> list[int]:
    """Where sentences end: a full stop, `!` or `?` not closing an abbreviation.

    Parameters
    ----------
    text : str
        The text (original case).
    abbreviations : frozenset of str
        Lower-case abbreviations whose period ends no sentence ("dr", "e.g").

    Returns
    -------
    list of int
        The position of each sentence's final mark, in order.
    """
    return [m.start() for m in _SENT_END.finditer(text)
            if _word_before(text, m.start()).lower().rstrip(".") not in abbreviations]


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
        Clause bounds: sentence ends and the starts of the rules' terminators.
    cue_spans : dict
        Each cue set's spans in this text, filled by `imr_ml.text.negex`.
    memo : dict
        Analyses of this text shared by its readers, keyed by the reader (items of one
        letter share its summary's).
    """

    __slots__ = ("text", "low", "rules", "words", "sentences", "bounds", "positions", "_spans", "cue_spans", "memo")

    def __init__(self, text: str, rules: DocumentRules):
        self.text = text
        self.low = low = lower_text(text)
        self.rules = rules
        self.positions = LiteralPositions(low)
        self.words, keyed = rules.index.find(low)
        self._spans = {m: m.spans(self.positions, keyed.get(m, [])) for m in rules.matchers}
        self.sentences = sentence_ends(text, rules.abbreviations)
        bounds = list(self.sentences)
        if rules.terminators is not None:
            bounds.extend(s for s, _ in self.spans(rules.terminators))
        bounds.sort()
        self.bounds = bounds
        self.cue_spans: dict[str, Any] = {}
        self.memo: dict[Any, Any] = {}

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
            found = self._spans[matcher] = matcher.spans(self.positions)
        return found

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
        """The clause holding `pos`.

        Parameters
        ----------
        pos : int
            A position.

        Returns
        -------
        int
            The clause's number (clauses are numbered in text order).
        """
        return bisect_right(self.bounds, pos)

    def sentence_span(self, pos: int) -> Span:
        """The sentence holding `pos`.

        Parameters
        ----------
        pos : int
            A position.

        Returns
        -------
        (int, int)
            Its (start, end).
        """
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
