"""The random stream of one synthetic letter.

Every integer draw is ``int(random() * n)``: one float per draw, about twice as fast as
`random.Random`'s bit-rejection method (its bias is below 2**-40 for the small n used here),
which matters at thousands of letters a second. Only public methods are overridden, and
`shuffle` and `sample` walk the same steps as CPython's, so a seed gives the letters it
always gave.
"""

from __future__ import annotations

import random
from collections.abc import MutableSequence, Sequence
from typing import TypeVar

T = TypeVar("T")


class LetterRandom(random.Random):
    """`random.Random` whose integer draws (choice, randint, randrange, shuffle, sample) each
    take one `random()` float."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]  # sequences only
        """One element of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        """A whole number in [a, b]."""
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        """A whole number of range(start, stop, step), or of range(start) alone."""
        if stop is None:
            return int(self.random() * start)
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def shuffle(self, x: MutableSequence) -> None:
        """Shuffle in place (Fisher-Yates from the end, as CPython does)."""
        for i in reversed(range(1, len(x))):
            j = int(self.random() * (i + 1))
            x[i], x[j] = x[j], x[i]

    def sample(self, population: Sequence[T], k: int) -> list[T]:  # type: ignore[override]  # no counts=
        """`k` distinct elements in selection order: a partial Fisher-Yates over a copy, the
        way CPython samples populations of up to 21 (the phrase bank's lists are shorter)."""
        n = len(population)
        if not 0 <= k <= n:
            raise ValueError("Sample larger than population or is negative")
        pool = list(population)
        result = []
        for i in range(k):
            j = int(self.random() * (n - i))
            result.append(pool[j])
            pool[j] = pool[n - i - 1]
        return result
