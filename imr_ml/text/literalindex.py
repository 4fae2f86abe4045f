"""Every literal of a rule set found in one pass over a text (Aho-Corasick).

The matchers try a literal pattern only where one of its required literals occurs, and skip a
scanned pattern, or a whole rule, when none of its literals does (`imr_ml.text.literals`).
Looking for each of a rule set's ~1,800 literals with its own `str.find` cost a fifth of
signal extraction on distinct requests; one automaton (`pyahocorasick`, C) walks the text
once and reports every occurrence of every literal, overlapping ones included, as repeated
`str.find` calls from each previous start + 1 would.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick


class LiteralIndex:
    """The literals of several matchers, found in a text at once.

    Parameters
    ----------
    literals : iterable of str
        Lower-case literals (empty ones are left out: they would occur everywhere).
    """

    __slots__ = ("covered", "_automaton")

    def __init__(self, literals: Iterable[str]):
        self.covered = frozenset(lit for lit in literals if lit)
        self._automaton = ahocorasick.Automaton()
        for lit in self.covered:
            self._automaton.add_word(lit, (len(lit) - 1, lit))
        if self.covered:
            self._automaton.make_automaton()

    def find(self, low: str) -> dict[str, list[int]]:
        """Where each covered literal occurs in the lower-cased text `low`: the start of every occurrence
        (overlapping ones included), in order, for each literal that occurs; a covered literal missing
        from it does not occur.
        """
        found: dict[str, list[int]] = {}
        if not self.covered:
            return found
        for end, (n, lit) in self._automaton.iter(low):
            start = end - n
            pos = found.get(lit)
            if pos is None:
                found[lit] = [start]
            else:
                pos.append(start)
        return found
