"""Every word-keyed pattern of a rule set found in one pass over a text's words (the other
patterns' literals are found by `imr_ml.text.literalindex`).

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
        by_prefix: dict[str, dict[tuple, list[Matcher]]] = {}  # those a longer text word may open
        for m in matchers:
            for pattern in m.keyed:
                for word in pattern.words:
                    key = (pattern.rx, pattern.gates.get(word))
                    for table in (by_key, by_prefix) if word in pattern.open_words else (by_key,):
                        shared = table.setdefault(word, {}).setdefault(key, [])
                        if m not in shared:
                            shared.append(m)
        self.by_key = _grouped(by_key)
        self.by_prefix = _grouped(by_prefix)
        self.key_lengths = tuple(sorted({len(w) for w in self.by_key}))
        self.candidates: dict[str, tuple[Candidate, ...]] = {}  # word -> patterns it may open
        # the keys of `candidates` as a set: set operations with a dict's keys view walk the
        # whole view, so sorting a text's words against it would cost one step per word
        # ever remembered (3 ms a text at 20,000 words) instead of one per word of the text
        self.keyed_words: set[str] = set()
        self.plain_words: set[str] = set()  # words that open none
        self.looked_up = self.missed = 0  # distinct words of each text, and those not remembered

    def clear(self) -> None:
        """Forget the remembered words and the counts (e.g. to time a cold run)."""
        self.candidates.clear()
        self.keyed_words.clear()
        self.plain_words.clear()
        self.looked_up = self.missed = 0

    def find(self, low: str) -> tuple[list[int], dict[Matcher, list[Span]]]:
        """The start of every word of the lower-cased text `low`, in order, and each matcher's word-keyed
        matches in it, unmerged (`Matcher.spans` merges them).
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
        the words that have some). Under an opening word shorter than `word`, only the
        patterns some literal of which is that word alone: "note" never opens a match of a
        pattern whose every literal reads "no " (a third of the regex tries on summaries)."""
        found = self.candidates.get(word)
        if found is None:
            n_word = len(word)
            found = tuple(c for n in self.key_lengths if n <= n_word
                          for c in (self.by_key if n == n_word else self.by_prefix).get(word[:n], ()))
            if found and len(self.candidates) < _MEMO_SIZE:
                self.candidates[word] = found
                self.keyed_words.add(word)
        return found

    def _opening_words(self, words: list[str]) -> set[str]:
        """Which of `words` begin some opening word: words seen before are sorted by set
        operations (in time of the text's words, whatever the memo holds); which group a
        new word joins is remembered."""
        wset = set(words)
        known = self.keyed_words
        keyed = wset & known
        fresh = wset - known - self.plain_words
        self.looked_up += len(wset)
        self.missed += len(fresh)
        for w in fresh:
            if self._candidates(w):
                keyed.add(w)
            elif len(self.plain_words) < _MEMO_SIZE:
                self.plain_words.add(w)
        return keyed


def _grouped(table: dict[str, dict[tuple, list[Matcher]]]) -> dict[str, tuple[Candidate, ...]]:
    """Candidates under each opening word, a pattern several matchers share listed once."""
    return {w: tuple((tuple(ms), rx, gate) for (rx, gate), ms in v.items()) for w, v in table.items()}
