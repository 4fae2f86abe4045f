"""Case-insensitive regular expressions that search lower-cased ASCII text (faster, same offsets)."""

from __future__ import annotations

import re


def lower_pattern(p: str) -> str:
    """Lower-case a regex's literal letters, leaving escapes (\\b, \\d, \\W ...) alone.

    Parameters
    ----------
    p : str
        A regular expression.

    Returns
    -------
    str
        The same expression matching the lower-cased text.
    """
    return re.sub(r"\\.|\(\?P[<=]|[A-Z]", lambda m: m.group() if len(m.group()) > 1 else m.group().lower(), p)


class AnyCase:
    """A case-insensitive regex. ASCII text is lower-cased and searched by a lower-case twin
    compiled without IGNORECASE: the same matches at the same offsets (group text comes
    back lower-cased), and faster. Other text keeps the IGNORECASE search, whose
    Unicode case folding differs. With `opening` (a lower-case literal every match starts
    with), ASCII text is tried only where it occurs, instead of scanning it all.

    Parameters
    ----------
    pattern : str
        A regular expression.
    """

    __slots__ = ("anycase", "lower")

    def __init__(self, pattern: str):
        self.anycase = re.compile(pattern, re.IGNORECASE)
        self.lower = re.compile(lower_pattern(pattern))

    def search(self, text: str, opening: str | None = None) -> re.Match | None:
        """The first match in `text`.

        Parameters
        ----------
        text : str
            Any text.
        opening : str or None
            A lower-case literal every match starts with, or None.

        Returns
        -------
        re.Match or None
            The match (of the lower-cased text when it is ASCII), or None.
        """
        if not text.isascii():
            return self.anycase.search(text)
        low = text.lower()
        if opening is None:
            return self.lower.search(low)
        i = low.find(opening)
        while i != -1:
            m = self.lower.match(low, i)
            if m is not None:
                return m
            i = low.find(opening, i + 1)
        return None
