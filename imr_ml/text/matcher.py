"""Several case-insensitive regexes searched as one, and the literal positions they share.

Patterns are matched against the *lower-cased* text (`lower_text`), so they may be written
in any case. A pattern whose matches all open with one of a few literals
(`required_literals`) is tried only where those occur; the others are scanned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from imr_ml.text.anycase import lower_pattern
from imr_ml.text.literals import inner_literals, opening_literals, required_literals

Span = tuple[int, int]
# Whether a scanned pattern is scanned only where one of its inner literals occurs, and tried
# only where one of its openings does (a setting: the tests turn it off to check that skipping
# never changes a result).
SKIP_SCANS = True


def is_word(c: str) -> bool:
    """Whether the character `c` is a regex word character: True for letters, digits and the
    underscore.
    """
    return c.isalnum() or c == "_"


def lower_text(text: str) -> str:
    """Lower-cased text with the same length, so offsets into it are offsets into `text`.

    U+FFFE, which text extraction leaves where a word was hyphenated across a line
    ("non\\ufffecertified"), is read as a hyphen.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text, lower-cased character by character.
    """
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two code points
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if "\ufffe" in low:
        low = low.replace("\ufffe", "-")
    return low


_NOWHERE: list[int] = []  # what `anywhere` gives for a covered literal that does not occur (never modified)


class LiteralPositions:
    """Where literals occur in one lower-cased text, found once for every matcher.

    Parameters
    ----------
    low : str
        The lower-cased text.
    found : dict of str to list of int, optional
        The positions of the literals a `LiteralIndex` found in the text at once.
    covered : frozenset of str, optional
        The literals that index looks for: one of them missing from `found` does not occur.
    """

    __slots__ = ("low", "_anywhere", "_word_starts", "covered")

    def __init__(self, low: str, found: dict[str, list[int]] | None = None, covered: frozenset[str] = frozenset()):
        self.low = low
        self._anywhere: dict[str, list[int]] = found if found is not None else {}
        self._word_starts: dict[str, list[int]] = {}
        self.covered = covered

    def has(self, lit: str) -> bool:
        """Whether the lower-case literal `lit` occurs in the text (`lit in low`, without a search for a
        covered one).
        """
        if lit in self._anywhere:
            return bool(self._anywhere[lit])
        return lit not in self.covered and lit in self.low

    def found(self) -> dict[str, list[int]]:
        """The literals whose positions are known, with them (an empty list: it does not occur).

        Returns
        -------
        dict of str to list of int
            Literal to its starts (shared: do not modify).
        """
        return self._anywhere

    def anywhere(self, lit: str) -> list[int]:
        """Every start of the lower-case literal `lit` in the text, in order."""
        pos = self._anywhere.get(lit)
        if pos is None:
            if lit in self.covered:
                return _NOWHERE
            pos = self._anywhere[lit] = self._find(lit, False)
        return pos

    def word_starts(self, lit: str) -> list[int]:
        """The starts of `lit` that open a word.

        Parameters
        ----------
        lit : str
            A lower-case literal opening with a word character.

        Returns
        -------
        list of int
            Its starts at word starts, in order.
        """
        pos = self._word_starts.get(lit)
        if pos is None:
            pos = self._word_starts[lit] = self._find(lit, True)
        return pos

    def _find(self, lit: str, at_word_start: bool) -> list[int]:
        low = self.low
        pos = []
        i = low.find(lit)
        while i != -1:
            if not at_word_start or i == 0 or not is_word(low[i - 1]):
                pos.append(i)
            i = low.find(lit, i + 1)
        return pos


def merged_spans(spans: list[Span]) -> list[Span]:
    """Spans as one alternation gives them: leftmost, non-overlapping, longest first.

    Parameters
    ----------
    spans : list of (int, int)
        Match spans in any order (sorted in place).

    Returns
    -------
    list of (int, int)
        The spans kept, in text order.
    """
    if len(spans) < 2:
        return spans
    prev = -1
    for s, _ in spans:  # the word index gives them in order of start already: no sort then
        if s < prev:
            spans.sort(key=lambda t: (t[0], -t[1]))
            break
        prev = s
    merged: list[Span] = []
    last = -1
    for s, e in spans:
        if merged and s == merged[-1][0]:
            if e > merged[-1][1]:  # the longer of two matches at one start
                merged[-1] = (s, e)
                last = e
        elif s >= last:
            merged.append((s, e))
            last = e
    return merged


class WordKeyed:
    """A pattern whose every match opens a word with one of a few known words.

    Parameters
    ----------
    rx : re.Pattern
        The compiled lower-case pattern, without its leading ``\\b``.
    words : tuple of str
        The words its matches open with (a text word must begin with one of them).
    gates : dict of str to tuple of str or None, optional
        For an opening word, what the next word must start with for a match, when the
        pattern's literal openings say (``(is|was) (required|needed)``: "required" or
        "needed" after "was"); None when they do not.
    open_words : frozenset of str, optional
        The opening words some literal is no more than (``no\\w*`` has "no"): only these
        may open a longer text word ("note"); a literal "no " needs the word to end there.
        By default every opening word (nothing ruled out).
    """

    __slots__ = ("rx", "words", "gates", "open_words")

    def __init__(self, rx: re.Pattern, words: tuple[str, ...], gates: dict[str, tuple[str, ...] | None] | None = None,
                 open_words: frozenset[str] | None = None):
        self.rx = rx
        self.words = words
        self.gates = gates or {}
        self.open_words = frozenset(words) if open_words is None else open_words


def next_word_gate(word: str, literals: Iterable[str]) -> tuple[str, ...] | None:
    """What the word after `word` must start with for a match opening with `word`.

    Parameters
    ----------
    word : str
        An opening word of the pattern.
    literals : iterable of str
        The pattern's required literals (`required_literals`).

    Returns
    -------
    tuple of str or None
        The possible next words, or None when some literal opening with `word` does not
        name the next word (then nothing can be ruled out).
    """
    out = set()
    for lit in literals:
        first = re.match(r"\w+", lit)
        if first is None or first.group() != word:
            continue
        nxt = re.match(r"\w+\W+(\w+)", lit)
        if nxt is None:
            return None
        out.add(nxt.group(1))
    return tuple(sorted(out)) or None


def scanned_matches(rx: re.Pattern, positions: LiteralPositions, openings: tuple[str, ...] | None) -> list[re.Match]:
    """The matches `rx.finditer(positions.low)` gives, with `rx` tried only where one of `openings`
    (strings one of which opens every match) occurs, when they are known.

    Like `finditer`, each match is searched from the end of the one before (a match found
    at a start is the one `finditer` finds there); a match opens at no other place, so none
    is missed. An empty match (no opening can give one) hands the text back to `finditer`.

    Parameters
    ----------
    rx : re.Pattern
        A lower-case pattern.
    positions : LiteralPositions
        The text's literal positions.
    openings : tuple of str or None
        The pattern's openings (`opening_literals`), or None to scan every character.

    Returns
    -------
    list of re.Match
        The matches, in order.
    """
    low = positions.low
    if openings is None:
        return list(rx.finditer(low))
    starts = sorted({i for lit in openings for i in positions.anywhere(lit)})
    out, last = [], 0
    for i in starts:
        if i >= last:
            m = rx.match(low, i)
            if m is not None:
                if m.end() == i:
                    return list(rx.finditer(low))
                out.append(m)
                last = m.end()
    return out


class Matcher:
    """Several regexes searched as one.

    Parameters
    ----------
    patterns : iterable of str
        Python regexes, matched case-insensitively.

    Notes
    -----
    Each pattern is one of three kinds: *word-keyed* (it opens with ``\\b`` and a known
    word: tried only at word starts that begin that word, see `imr_ml.text.wordindex`),
    *literal* (tried only where one of its required literals occurs) or *scanned* (only in a
    text holding one of its `inner_literals`, when it has some).
    A leading ``\\b`` is checked in Python.
    """

    __slots__ = ("patterns", "keyed", "literal", "scanned", "openings", "literals", "_single", "_alone")

    def __init__(self, patterns: Iterable[str]):
        self.patterns = tuple(patterns)
        keyed, literal, scanned = [], [], []
        for p in self.patterns:
            lp = lower_pattern(p)
            need_b = lp.startswith("\\b")
            if need_b:
                lp = lp[2:]
            lits = required_literals(lp)
            rx = re.compile(lp)
            if lits is None:
                scanned.append((rx, need_b, inner_literals(lp)))
            elif need_b and all(re.match(r"\w\w", x) for x in lits):
                words = tuple(sorted({re.match(r"\w+", x).group() for x in lits}))  # type: ignore[union-attr]
                keyed.append(WordKeyed(rx, words, {w: next_word_gate(w, lits) for w in words},
                                       frozenset(w for w in words if w in lits)))
            else:
                literal.append((rx, lits, need_b))
        self.keyed = tuple(keyed)
        self.literal = tuple(literal)
        self.scanned = tuple(scanned)
        # for each scanned pattern, the strings (one character allowed) one of which opens every
        # match, or None: a drug list whose one name opens with a digit ("5-htp") is tried where
        # they occur instead of at every character (`scanned_matches`)
        self.openings = tuple(opening_literals(rx.pattern) for rx, _, _ in scanned)
        # every literal some literal pattern's match opens with: none in a text, no match there
        self.literals = tuple(dict.fromkeys(lit for _, lits, _ in literal for lit in lits))
        self._single: re.Pattern | None | bool = False  # compiled when first searched (`single`)
        self._alone: tuple[re.Pattern, ...] | None = None

    def may_scan(self, positions: LiteralPositions) -> bool:
        """Whether a scanned pattern may match in a text: one has no inner literals, or one
        of its inner literals occurs.

        Parameters
        ----------
        positions : LiteralPositions
            The text's literal positions.

        Returns
        -------
        bool
            False when no scanned pattern can match.
        """
        return any(not SKIP_SCANS or inner is None or any(map(positions.has, inner)) for _, _, inner in self.scanned)

    @property
    def single(self) -> re.Pattern | None:
        """The patterns as one lower-case regex (None when they cannot be joined: a group name
        used twice), for a short text of its own (an item): the alternation finds the
        leftmost start, each pattern alone (`alone`) the longest end there. Compiled when
        first asked for: most matchers are only ever searched in indexed documents, and
        compiling every one of them twice more took a third of the start-up."""
        if self._single is False:
            self._single = _alternation(self.patterns)
        return self._single  # type: ignore[return-value]

    @property
    def alone(self) -> tuple[re.Pattern, ...]:
        """Each pattern compiled alone (none for a single pattern), compiled when first asked for."""
        if self._alone is None:
            self._alone = tuple(re.compile(lower_pattern(p)) for p in self.patterns) if len(self.patterns) > 1 else ()
        return self._alone

    @staticmethod
    def _boundary_ok(s: int, e: int, low: str, need_b: bool) -> bool:
        if s == e:
            return False
        return not need_b or s == 0 or is_word(low[s - 1]) != is_word(low[s])

    def spans(self, positions: LiteralPositions, keyed_spans: list[Span] | None = None) -> list[Span]:
        """Every match of the patterns in a text, as one alternation finds them.

        Parameters
        ----------
        positions : LiteralPositions
            The text's literal positions (shared by the matchers of one text).
        keyed_spans : list of (int, int), optional
            The matches of the word-keyed patterns, when a word index found them already
            (the list is extended and sorted); otherwise they are searched here.

        Returns
        -------
        list of (int, int)
            Leftmost, non-overlapping, longest-first match spans, in text order.
        """
        if keyed_spans is not None and not self.literal and not self.scanned:
            return merged_spans(keyed_spans)
        low = positions.low
        out = keyed_spans if keyed_spans is not None else self._keyed_spans(positions)
        for rx, lits, need_b in self.literal:
            for lit in lits:  # every match opens with one of these: try the regex only there
                for i in positions.anywhere(lit):
                    m = rx.match(low, i)
                    if m is not None and self._boundary_ok(i, m.end(), low, need_b):
                        out.append((i, m.end()))
        for (rx, need_b, inner), openings in zip(self.scanned, self.openings):
            if SKIP_SCANS and inner is not None and not any(map(positions.has, inner)):
                continue  # a stretch every match holds is not in the text: no match
            for m in scanned_matches(rx, positions, openings if SKIP_SCANS else None):
                s, e = m.span()
                if self._boundary_ok(s, e, low, need_b):
                    out.append((s, e))
        return merged_spans(out)

    def _keyed_spans(self, positions: LiteralPositions) -> list[Span]:
        """The word-keyed patterns' matches, without a word index."""
        low, out = positions.low, []
        for pattern in self.keyed:
            for word in pattern.words:
                for i in positions.word_starts(word):
                    m = pattern.rx.match(low, i)
                    if m is not None and m.end() > i:
                        out.append((i, m.end()))
        return out

    def _union_rx(self) -> re.Pattern:
        """The patterns as one regex (`single`); patterns that cannot be joined raise here."""
        if self.single is None:
            raise ValueError(f"these patterns cannot be searched as one regex: {self.patterns[:3]}")
        return self.single

    def first(self, low: str) -> Span | None:
        """A match span in the lower-cased short text `low` of its own, if any, by one regex search of all
        the patterns (the first pattern to match at the leftmost place wins, not the longest).
        """
        m = self._union_rx().search(low)
        return m.span() if m is not None and m.end() > m.start() else None

    def starts(self, low: str) -> list[int]:
        """Where matches start, by one regex scan of all the patterns: for a matcher looked
        for in few texts, outside the word index (headings, in texts with a colon).

        Parameters
        ----------
        low : str
            A lower-cased text.

        Returns
        -------
        list of int
            The start of every match, in order.
        """
        return [m.start() for m in self._union_rx().finditer(low) if m.end() > m.start()]

    def search(self, low: str) -> Span | None:
        """The first match span in the lower-cased text `low` of its own, if any."""
        single = self.single
        if single is not None:
            m = single.search(low)
            if m is None:
                return None
            if m.end() > m.start():  # an empty match: let the full search judge
                if not self.alone:
                    return m.span()
                ends = [x.end() for x in (rx.match(low, m.start()) for rx in self.alone) if x is not None]
                return m.start(), max(ends)
        found = self.spans(LiteralPositions(low))
        return found[0] if found else None


def _alternation(patterns: tuple[str, ...]) -> re.Pattern | None:
    """The patterns as one lower-case regex (None when they cannot be joined: a group name
    used twice)."""
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{lower_pattern(p)})" for p in patterns))
    except re.error:
        return None
