"""The engine's one piece of speed machinery: every word-keyed pattern of a rule set found
in one pass over a text's words.

Most patterns open with ``\\b`` and one of a few words ("norco", "was", "failed"). Rather
than each matcher looking for its words, the text's words are split once; only those that
begin some pattern's opening word are visited, and at each the patterns are tried whose
next-word gate the following word passes. Which patterns a word (and a word pair) calls for
is remembered: clinical vocabulary repeats from letter to letter. `experiments/bench_score.py`
measures what this buys (see `docs/` and the README's speed table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate, compress

from imr_ml.text.matcher import Matcher, Span

_WORD_SPLIT = re.compile(r"(\w+)")
_MEMO_SIZE = 200_000  # words (and word pairs) remembered, at most

# (matcher, compiled pattern, next-word gate) for one opening word
Candidate = tuple[Matcher, re.Pattern, "tuple[str, ...] | None"]


class WordIndex:
    """The word-keyed patterns of several matchers, keyed by their opening words.

    Parameters
    ----------
    matchers : iterable of Matcher
        The matchers of one rule set.
    """

    def __init__(self, matchers: Iterable[Matcher]):
        by_key: dict[str, list[Candidate]] = {}
        for m in matchers:
            for pattern in m.keyed:
                for word, gate in pattern.gates.items():
                    by_key.setdefault(word, []).append((m, pattern.rx, gate))
        self.by_key = {w: tuple(v) for w, v in by_key.items()}
        self.key_lengths = tuple(sorted({len(w) for w in self.by_key}))
        self.candidates: dict[str, tuple[Candidate, ...]] = {}  # word -> patterns it may open
        self.plain_words: set[str] = set()  # words that open none
        self.plans: dict[tuple[str, str], tuple] = {}  # (word, next word) -> ((matcher, pattern), ...)

    def clear(self) -> None:
        """Forget the remembered words and word pairs (e.g. to time a cold run)."""
        self.candidates.clear()
        self.plain_words.clear()
        self.plans.clear()

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
        plans = self.plans
        found: dict[Matcher, list[Span]] = {}
        for w, s, nxt in compress(zip(words, starts, following), map(keyed.__contains__, words)):
            plan = plans.get((w, nxt))
            if plan is None:
                plan = self._plan(w, nxt)
            for m, rx in plan:
                hit = rx.match(low, s)
                if hit is not None and hit.end() > s:
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

    def _plan(self, word: str, following: str) -> tuple:
        """((matcher, pattern), ...) worth trying at `word` when `following` comes next:
        its candidates whose next-word gate lets it through (remembered per pair)."""
        plan = tuple((m, rx) for m, rx, gate in self._candidates(word) if gate is None or following.startswith(gate))
        if len(self.plans) < _MEMO_SIZE:
            self.plans[word, following] = plan
        return plan
