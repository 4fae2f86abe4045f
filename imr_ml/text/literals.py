"""Required literals of a regex: strings one of which opens every match.

The matcher searches a text for these with `str.find` and tries the regex only where they
occur, which is far cheaper than a regex scan of a long alternation. They are read by a
small scan of the pattern text that understands the syntax the rules use (literals,
escapes, groups and alternations, small character classes, quantifiers, lookarounds) and
gives up, returning None, on anything else: a pattern without literals is simply scanned.
"""

from __future__ import annotations

from functools import lru_cache

_DIGITS = frozenset("0123456789")
_CLASS_LIMIT = 12  # a character class of more characters is not worth expanding
_PREFIX_LIMIT = 60  # nor a prefix with more alternatives than this
_ZERO_WIDTH_ESCAPES = frozenset("bBAZ")
_WIDE_ESCAPES = frozenset("wWsSD")  # classes too large to expand
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}  # a character by its code, of so many hex digits
_HEX = frozenset("0123456789abcdefABCDEF")
_CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}

# The scan's items: ("lit", char), ("set", frozenset | None), ("zero",),
# ("alt", [branch, ...]) with a branch a list of items, ("repeat", min, [item]).
Item = tuple


class _GiveUp(Exception):
    """Syntax the scan does not understand."""


class _Scan:
    """A recursive-descent reading of a pattern into the items above."""

    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0

    def alternation(self) -> list[list[Item]]:
        branches: list[list[Item]] = [[]]
        while self.i < len(self.p):
            c = self.p[self.i]
            if c == ")":
                break
            self.i += 1
            if c == "|":
                branches.append([])
                continue
            atom = self.atom(c)
            branches[-1].append(self.quantified(atom))
        return branches

    def atom(self, c: str) -> Item:
        if c == "\\":
            return self.escape()
        if c == "[":
            return ("set", self.char_class())
        if c == "(":
            return self.group()
        if c in "^$":
            return ("zero",)
        if c == ".":
            return ("set", None)
        if c in "*+?{":
            raise _GiveUp(c)
        return ("lit", c)

    def escape(self) -> Item:
        if self.i >= len(self.p):
            raise _GiveUp("trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c in _ZERO_WIDTH_ESCAPES:
            return ("zero",)
        if c == "d":
            return ("set", _DIGITS)
        if c in _WIDE_ESCAPES:
            return ("set", None)
        if c in _CONTROL_ESCAPES:
            return ("lit", _CONTROL_ESCAPES[c])
        width = _HEX_ESCAPES.get(c)
        if width is not None:  # a character by its code ("\u2192", an arrow)
            code = self.p[self.i:self.i + width]
            if len(code) != width or not all(h in _HEX for h in code):
                raise _GiveUp("\\" + c + code)
            self.i += width
            return ("lit", chr(int(code, 16)))
        if c.isalnum():
            raise _GiveUp("\\" + c)  # back-references, \N{...}
        return ("lit", c)

    def char_class(self) -> frozenset | None:
        """The characters of a `[...]` class, or None when they are too many to list."""
        negated = self.p.startswith("^", self.i)
        self.i += negated
        chars: set[str] | None = set()
        first = True
        while True:
            if self.i >= len(self.p):
                raise _GiveUp("unterminated class")
            c = self.p[self.i]
            self.i += 1
            if c == "]" and not first:
                break
            first = False
            if c == "[":
                raise _GiveUp("nested class")
            if c == "\\":
                c = self.p[self.i] if self.i < len(self.p) else ""
                self.i += 1
                if c == "d":
                    chars = None if chars is None else chars | _DIGITS
                    continue
                if c.isalnum() and c not in _CONTROL_ESCAPES:
                    chars = None
                    continue
                c = _CONTROL_ESCAPES.get(c, c)
            if self.p.startswith("-", self.i) and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                end = self.p[self.i + 1]
                if end == "\\":
                    raise _GiveUp("escaped range end")
                self.i += 2
                if chars is not None and ord(end) - ord(c) < _CLASS_LIMIT:
                    chars.update(chr(k) for k in range(ord(c), ord(end) + 1))
                else:
                    chars = None
                continue
            if chars is not None:
                chars.add(c)
        if negated or chars is None or len(chars) > _CLASS_LIMIT:
            return None
        return frozenset(chars)

    def group(self) -> Item:
        zero = False
        if self.p.startswith("?", self.i):
            head = self.p[self.i:self.i + 4]
            if head.startswith("?:"):
                self.i += 2
            elif head.startswith(("?=", "?!")):
                self.i, zero = self.i + 2, True
            elif head.startswith(("?<=", "?<!")):
                self.i, zero = self.i + 3, True
            elif head.startswith("?P<"):
                close = self.p.find(">", self.i)
                if close == -1:
                    raise _GiveUp("group name")
                self.i = close + 1
            else:
                raise _GiveUp("(" + head)  # inline flags, conditionals, comments, (?P=name)
        branches = self.alternation()
        if not self.p.startswith(")", self.i):
            raise _GiveUp("unbalanced parenthesis")
        self.i += 1
        return ("zero",) if zero else ("alt", branches)

    def quantified(self, atom: Item) -> Item:
        if self.i >= len(self.p):
            return atom
        c = self.p[self.i]
        if c in "?*+":
            self.i += 1
            low = 1 if c == "+" else 0
        elif c == "{":
            close = self.p.find("}", self.i)
            bounds = self.p[self.i + 1:close].split(",") if close != -1 else []
            if not bounds or len(bounds) > 2 or not all(b.strip().isdigit() or b == "" for b in bounds):
                raise _GiveUp("brace")
            self.i = close + 1
            low = int(bounds[0] or 0)
        else:
            return atom
        if self.p.startswith(("?", "+"), self.i):  # lazy or possessive
            self.i += 1
        if atom[0] == "zero":
            return atom
        return ("repeat", low, [atom])


def _prefixes(items: list[Item]) -> tuple[set[str] | None, bool]:
    """(strings one of which opens every match of `items`, whole?), or (None, False).

    `whole` says the strings are the entire match of the items, so that what follows may
    extend them.
    """
    cur = {""}
    for item in items:
        kind = item[0]
        if kind == "lit":
            cur = {c + item[1] for c in cur}
            continue
        if kind == "zero":
            continue
        sub: set[str] | frozenset | None = None
        whole = False
        if kind == "set":
            sub, whole = item[1], True
        elif kind == "alt":
            sub, whole = _branch_prefixes(item[1])
        elif kind == "repeat" and item[1] >= 1:
            sub, _ = _prefixes(item[2])
        if not sub or len(cur) * len(sub) > _PREFIX_LIMIT:
            return (cur if all(cur) else None), False
        cur = {c + x for c in cur for x in sub}
        if not whole:
            return cur, False
    return (cur if all(cur) else None), True


def _branch_prefixes(branches: list[list[Item]]) -> tuple[set[str] | None, bool]:
    """The prefixes of an alternation: every branch must have some."""
    if len(branches) == 1:
        return _prefixes(branches[0])
    out: set[str] = set()
    whole = True
    for branch in branches:
        found, branch_whole = _prefixes(branch)
        if not found:
            return None, False
        out |= found
        whole = whole and branch_whole
    return out, whole


@lru_cache(maxsize=4096)
def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which opens every match of a regex, or None.

    Parameters
    ----------
    pattern : str
        A regular expression, matched case-sensitively (the engine lower-cases patterns and
        texts first).

    Returns
    -------
    tuple of str or None
        The sorted literals, each at least two characters long and none opening with
        another; None when the pattern uses syntax the scan does not read, or when some
        match may open otherwise.
    """
    return opening_literals(pattern, 2)


@lru_cache(maxsize=4096)
def opening_literals(pattern: str, shortest: int = 1) -> tuple[str, ...] | None:
    """Strings one of which opens every match of a regex, each at least `shortest` characters
    long, or None (`required_literals` with a length of one's choosing: a drug list with one
    name opening with a digit, "5-htp", has no two-letter openings but still its one-character
    ones).

    Parameters
    ----------
    pattern : str
        A regular expression, matched case-sensitively.
    shortest : int
        The shortest literal allowed.

    Returns
    -------
    tuple of str or None
        The sorted literals, none opening with another; None when the pattern uses syntax
        the scan does not read, or when some match may open otherwise.
    """
    scan = _Scan(pattern)
    try:
        branches = scan.alternation()
    except _GiveUp:
        return None
    if scan.i != len(pattern):  # an unbalanced ")"
        return None
    found, _ = _branch_prefixes(branches)
    if not found or min(len(x) for x in found) < max(shortest, 1):
        return None
    # "anticipate" already marks every place "anticipated" opens a match
    return tuple(sorted(x for x in found if not any(x != y and x.startswith(y) for y in found)))


@lru_cache(maxsize=4096)
def inner_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which occurs somewhere in every match of a regex, or None.

    A pattern no literal opens (an optional word first, "(focal )?tender ...") is scanned,
    which is slow; but some stretch of it is still required ("tender"): where none of these
    occurs the scan is skipped, and its result is the same.

    Parameters
    ----------
    pattern : str
        A regular expression, matched case-sensitively.

    Returns
    -------
    tuple of str or None
        The sorted literals, each at least two characters long; None when the scan does not
        read the pattern or finds no such literals.
    """
    scan = _Scan(pattern)
    try:
        branches = scan.alternation()
    except _GiveUp:
        return None
    if scan.i != len(pattern):
        return None
    found = _inner(branches)
    return tuple(sorted(found)) if found else None


def _inner(branches: list[list[Item]]) -> set[str] | None:
    """Literals one of which occurs in every match of any of the branches, or None."""
    out: set[str] = set()
    for items in branches:
        best = None
        for k, item in enumerate(items):  # what opens the match of items[k:] occurs in the whole match
            found, _ = _prefixes(items[k:])
            if not found or min(map(len, found)) < 2:
                # a group every match passes through ("(\\d+ ?ppd|smoker)"): what is inside
                # each of its branches
                group = item[1] if item[0] == "alt" else None
                if item[0] == "repeat" and item[1] >= 1 and item[2][0][0] == "alt":
                    group = item[2][0][1]
                found = _inner(group) if group is not None else None
            if found and (best is None or min(map(len, found)) > min(map(len, best))):
                best = found
        if best is None:
            return None
        out |= best
    return out
