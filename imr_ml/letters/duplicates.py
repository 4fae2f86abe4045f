"""Rows that name the same item twice: a corpus given twice, files concatenated, an export
run again. An item is its letter and its place in it (`letter_id`, `item_index`): a copy
with the same content is dropped and counted (training on it twice would weigh it twice,
an evaluation would count it twice), and two different rows under one name are refused,
since no one can tell which is the item.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

IDENTITY_FIELDS = ("letter_id", "item_index")


class ConflictingRows(ValueError):
    """Two different rows name the same item; the message says which."""


def _identity(row: dict) -> tuple | None:
    """(letter_id, item_index), or None for a row that does not name its item (the type
    check of the rows, later, refuses one that names it with the wrong types)."""
    lid, idx = (row.get(f) for f in IDENTITY_FIELDS)
    ok = isinstance(lid, (str, int)) and isinstance(idx, int) and not isinstance(idx, bool)
    return (lid, idx) if ok else None


def _content(row: dict) -> str:
    """What two copies of a row must share: every field but where it was read from."""
    return json.dumps({k: v for k, v in row.items() if k != "source"}, sort_keys=True, default=str)


def unique_items(rows: list[dict], where: Callable[[int], str], say: Callable[[str], None] | None = None) -> list[dict]:
    """`rows` with each item once.

    Parameters
    ----------
    rows : list of dict
        Corpus rows, in input order (not yet type-checked).
    where : callable
        ``where(i)`` names row i in messages (its file and line).
    say : callable, optional
        Hears one line when copies were dropped, with their count.

    Returns
    -------
    list of dict
        The first copy of every item; rows without both identity fields are all kept.

    Raises
    ------
    ConflictingRows
        Two rows with the same `letter_id` and `item_index` and different content.
    """
    keys = [_identity(row) for row in rows]
    repeated = {k for k, n in Counter(keys).items() if n > 1 and k is not None}  # only these are compared
    seen: dict[tuple, tuple[int, str]] = {}
    out = []
    for i, (row, key) in enumerate(zip(rows, keys)):
        if key not in repeated:
            out.append(row)
            continue
        content = _content(row)
        first = seen.setdefault(key, (i, content))
        if first[0] == i:
            out.append(row)
        elif first[1] != content:
            raise ConflictingRows(f"{where(first[0])} and {where(i)} are both letter {key[0]} item {key[1]} "
                                  "with different content: remove one")
    if say and len(out) < len(rows):
        n = len(rows) - len(out)
        say(f"{n} duplicate row{'s' if n > 1 else ''} (the same letter, item and content as an earlier row) "
            "read once")
    return out
