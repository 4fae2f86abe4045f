"""Where a key of a TOML file is written: its line number, from the file's text.

tomllib returns values without positions, so a problem found in the parsed data (the key
path `("rule", 3, "when", "red_flag")`: the fourth `[[rule]]`, its `when`, the key
`red_flag` there) is placed by reading the text again: table headers (`[cues.negation]`,
the n-th `[[rule]]`) and `key =` lines give the line of an entry and its keys; a key or a
value inside an inline table or a multi-line array is then looked for between that line
and the next entry. Only the layouts TOML allows are read, and only to find a line: the
data itself always comes from tomllib.
"""

from __future__ import annotations

import bisect
import re

Loc = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'"
_KEYS = rf"(?:{_BARE})(?:\s*\.\s*(?:{_BARE}))*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEYS})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_KEYS})\s*=")
_PART = re.compile(_BARE)


def _parts(keys: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(keys))


def entry_lines(text: str) -> dict[Loc, int]:
    """{key path: line number (1-based)} of every table header and `key =` line.

    Parameters
    ----------
    text : str
        The TOML text.

    Returns
    -------
    dict
        Paths as tomllib's data would index them (an array of tables by its position).
    """
    found: dict[Loc, int] = {}
    counts: dict[Loc, int] = {}
    table: Loc = ()
    in_string = False  # inside a multi-line string, no line is a key
    for lineno, line in enumerate(text.splitlines(), 1):
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        header = _HEADER.match(line)
        if header:
            keys: Loc = _parts(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(keys, 0)
                counts[keys] = index + 1
                keys = (*keys, index)
            table = keys
            found.setdefault(table, lineno)
        else:
            assign = _ASSIGN.match(line)
            if assign:
                found.setdefault((*table, *_parts(assign.group(1))), lineno)
        in_string = quotes % 2 == 1
    return found


def locate(text: str, loc: Loc, value: object = None) -> int:
    """The line (1-based) where `loc` is written.

    Parameters
    ----------
    text : str
        The TOML text.
    loc : tuple of str and int
        The key path in the parsed data.
    value : object, optional
        The value found there, to pick its line inside a multi-line array.

    Returns
    -------
    int
        The line of the deepest part of `loc` that could be found (1 when nothing could).
    """
    entries = entry_lines(text)
    for n in range(len(loc), 0, -1):
        if loc[:n] in entries:
            line, rest = entries[loc[:n]], loc[n:]
            break
    else:
        below = [ln for path, ln in entries.items() if path[: len(loc)] == loc]
        return min(below) if below else 1
    lines = text.splitlines()
    starts = sorted(set(entries.values()))
    end = starts[bisect.bisect_right(starts, line)] - 1 if bisect.bisect_right(starts, line) < len(starts) \
        else len(lines)
    for part in rest:
        if isinstance(part, str):
            line = _find(lines, line, end, re.compile(rf"(?:^|[{{,\s]){re.escape(part)}\s*=")) or line
    if isinstance(value, str) and value and rest and isinstance(rest[-1], int):
        line = _find(lines, line, end, re.compile(re.escape(value))) or line
    return line


def _find(lines: list[str], first: int, last: int, pattern: re.Pattern) -> int | None:
    """The first line in [first, last] that `pattern` matches."""
    for lineno in range(first, min(last, len(lines)) + 1):
        if pattern.search(lines[lineno - 1]):
            return lineno
    return None
