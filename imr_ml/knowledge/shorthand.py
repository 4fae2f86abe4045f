"""Plain words of every pattern also match the shorthand providers type for them.

A pattern written as a letter reads it ("no radicular symptoms", "history of a GI bleed") missed
the same fact typed as a note ("no radicular sx", "h/o GI bleed"): every author of every pattern
had to remember every abbreviation, and the knowledge files showed they did not. The
`[shorthand]` table of `abbreviations.toml` says once which plain words have which shorthand;
`Shorthand.apply` rewrites a pattern's literal occurrence of a plain word into an alternation
of the word and its shorthand, before the pattern is compiled. Only whole words written as
literal text are rewritten (not inside a character class or a lookbehind, whose width must
stay fixed), and a trailing optional plural ("symptoms?") is kept with the word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Where a plain word may start in a pattern's source: the start, after a space, "(", "|", "?:"
# or a "\b"; and what may follow it: the end, a space, ")", "|", "[" or an escape ("\b", "\s").
_BEFORE = r"(?:(?<=^)|(?<=[\s(|])|(?<=\\b)|(?<=\\s)|(?<=\?:))"
_AFTER = r"(?=$|[\s)|\[\\])"


@dataclass(frozen=True)
class Shorthand:
    """The compiled `[shorthand]` table.

    Parameters
    ----------
    rules : tuple of (re.Pattern, str)
        For each plain word, what finds it in a pattern's source and the shorthand alternatives.
    """

    rules: tuple[tuple[re.Pattern, str], ...]

    def apply(self, pattern: str) -> str:
        """`pattern` with each literal plain word of the table also matching its shorthand.

        Parameters
        ----------
        pattern : str
            A regular expression's source.

        Returns
        -------
        str
            The rewritten source (the same string when no plain word occurs).
        """
        for finder, alternatives in self.rules:
            found = list(finder.finditer(pattern))
            if not found:
                continue
            fixed = _fixed_width_spans(pattern)
            for m in reversed(found):
                if not _inside(m.start(), fixed):
                    pattern = f"{pattern[:m.start()]}(?:{m.group()}|{alternatives}){pattern[m.end():]}"
        return pattern


def compile_shorthand(table: Mapping[str, str]) -> Shorthand:
    """The `Shorthand` of a `[shorthand]` table, longest plain words first.

    Parameters
    ----------
    table : mapping of str to str
        {plain words: a regular expression of their shorthand}.

    Returns
    -------
    Shorthand
        Ready to `apply`.
    """
    rules = []
    for plain in sorted(table, key=lambda w: (-len(w), w)):
        words = re.escape(plain[:-1]) + r"(?:s\?|s)" if plain.endswith("s") else re.escape(plain) + r"(?:s\?|s)?"
        rules.append((re.compile(_BEFORE + words + _AFTER, re.IGNORECASE), table[plain]))
    return Shorthand(tuple(rules))


def _fixed_width_spans(source: str) -> list[tuple[int, int]]:
    """The spans of `source` inside a character class or a lookbehind group."""
    spans, stack, i = [], [], 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            end = source.find("]", i + 2)
            end = len(source) if end < 0 else end
            spans.append((i, end + 1))
            i = end + 1
            continue
        if ch == "(":
            stack.append((i, source.startswith(("(?<=", "(?<!"), i)))
        elif ch == ")" and stack:
            start, behind = stack.pop()
            if behind:
                spans.append((start, i + 1))
        i += 1
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether `pos` lies in one of `spans`."""
    return any(a <= pos < b for a, b in spans)
