"""The engine's one piece of speed machinery: every word-keyed pattern of a rule set found
in one pass over a text's words.

Most patterns open with ``\\b`` and one of a few words ("norco", "was", "failed"). Rather
than each matcher looking for its words, the text's words are split once; only those that
begin some pattern's opening word are visited, and at each the patterns keyed under it are
tried. Which patterns a word calls for is remembered: clinical vocabulary repeats from
letter to letter. It about doubles the speed of signal extraction (2,500 against 1,200
rows/s on one core, synthetic letters). A pattern whose literal openings name the word after
its first ("(is|was) (required|needed)") is tried only where one of those follows: most
tries of cue patterns fail on their second word, and the gate halves the regex calls (4%
of batch scoring, `experiments/bench_score.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate, compress

from imr_ml.text.matcher import Matcher, Span

_WORD_SPLIT = re.compile(r"(\w+)")
_MEMO_SIZE = 200_000  # words (and word pairs) remembered, at most

# (matchers, compiled pattern, what the next word must start with or None) under one opening
# word: a pattern several matchers share (a cue "no" of several cue sets) is tried once.
Candidate = tuple[tuple[Matcher, ...], re.Pattern, tuple[str, ...] | None]


class WordIndex:
    """The word-keyed patterns of several matchers, keyed by their opening words.

    Parameters
    ----------
    matchers : iterable of Matcher
        The matchers of one rule set.
    """

    def __init__(self, matchers: Iterable[Matcher]):
        by_key: dict[str, dict[tuple, list[Matcher]]] = {}
        for m in matchers:
            for pattern in m.keyed:
                for word in pattern.words:
                    shared = by_key.setdefault(word, {}).setdefault((pattern.rx, pattern.gates.get(word)), [])
                    if m not in shared:
                        shared.append(m)
        self.by_key = {w: tuple((tuple(ms), rx, gate) for (rx, gate), ms in v.items()) for w, v in by_key.items()}
        self.key_lengths = tuple(sorted({len(w) for w in self.by_key}))
        self.candidates: dict[str, tuple[Candidate, ...]] = {}  # word -> patterns it may open
        self.plain_words: set[str] = set()  # words that open none

    def clear(self) -> None:
        """Forget the remembered words (e.g. to time a cold run)."""
        self.candidates.clear()
        self.plain_words.clear()

    def find(self, low: str) -> tuple[list[int], dict[Matcher, list[Span]]]:
        """Word starts of a text and the matches of its word-keyed patterns.

        Parameters
        ----------
        low : str
            The lower-cased text.

        Returns
        -------
        starts : list of int
            The start of every word, in order.
        found : dict of Matcher to list of (int, int)
            Each matcher's word-keyed matches, unmerged (`Matcher.spans` merges them).
        """
        pieces = _WORD_SPLIT.split(low)  # [gap, word, gap, word, ..., gap]
        ends = list(accumulate(map(len, pieces)))
        words = pieces[1::2]
        starts = ends[0:-1:2]
        keyed = self._opening_words(words)
        following = words[1:]
        following.append("")
        found: dict[Matcher, list[Span]] = {}
        memo = self.candidates
        for w, s, nxt in compress(zip(words, starts, following), map(keyed.__contains__, words)):
            candidates = memo.get(w)
            if candidates is None:
                candidates = self._candidates(w)
            for ms, rx, gate in candidates:
                if gate is not None and not nxt.startswith(gate):
                    continue
                hit = rx.match(low, s)
                if hit is not None and hit.end() > s:
                    for m in ms:
                        spans = found.get(m)
                        if spans is None:
                            found[m] = [(s, hit.end())]
                        else:
                            spans.append((s, hit.end()))
        return starts, found

    def _candidates(self, word: str) -> tuple[Candidate, ...]:
        """The patterns keyed under the opening words `word` begins with (remembered for
        the words that have some)."""
        found = self.candidates.get(word)
        if found is None:
            keys = [word[:n] for n in self.key_lengths if n <= len(word) and word[:n] in self.by_key]
            found = tuple(c for key in keys for c in self.by_key[key])
            if found and len(self.candidates) < _MEMO_SIZE:
                self.candidates[word] = found
        return found

    def _opening_words(self, words: list[str]) -> set[str]:
        """Which of `words` begin some opening word: words seen before are sorted by set
        operations; which group a new word joins is remembered."""
        wset = set(words)
        known = self.candidates.keys()
        keyed = wset & known
        for w in wset - known - self.plain_words:
            if self._candidates(w):
                keyed.add(w)
            elif len(self.plain_words) < _MEMO_SIZE:
                self.plain_words.add(w)
        return keyed
