"""Numbers written as digits or words ("twelve", "6"), for patterns that count things."""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "twenty-four": 24,
    "thirty": 30, "sixty": 60, "ninety": 90,
}
# a number as digits or as one of NUMBER_WORDS
NUMBER = r"(?:\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


def number_groups(pattern: str) -> str:
    """The regex `pattern` with each of its ``(?P<n>\\d+)`` groups widened to `NUMBER`, so that it also
    matches written-out numbers.
    """
    return re.sub(r"\(\?P<(\w+)>\\d\+\)", lambda m: f"(?P<{m.group(1)}>{NUMBER})", pattern)


def parse_number(token: str) -> int | None:
    """The value of a number written as digits or as one of `NUMBER_WORDS`.

    Parameters
    ----------
    token : str
        One token, any case.

    Returns
    -------
    int or None
        Its value, or None when it is no number.
    """
    token = token.lower()
    return int(token) if token.isdigit() else NUMBER_WORDS.get(token)
