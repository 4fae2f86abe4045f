"""Words as the index sees them: SQLite's own FTS5 tokenizer, for queries and highlights.

The index (`imr_ml.precedents.store`) tokenizes with FTS5's ``porter unicode61`` (lower case,
accents folded, English suffixes stemmed: "injections" and "injection" are one term). A
query's terms and the words to highlight in a precedent must be cut exactly the same way, so
they are not re-implemented here: a small in-memory FTS5 table with the same tokenizer cuts
them (`fts5vocab` lists its terms; `highlight()` marks them), one per thread (a sqlite3
connection belongs to the thread that opened it).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter

TOKENIZE = "porter unicode61 remove_diacritics 2"
HIT_OPEN, HIT_CLOSE = "\x02", "\x03"  # highlight markers: control characters no letter text holds
_local = threading.local()
_MARKERS = re.compile(f"[{HIT_OPEN}{HIT_CLOSE}]")


def _scratch() -> sqlite3.Connection:
    """This thread's in-memory tables with the index's tokenizer: `scratch` to highlight,
    the contentless `cut` (emptied in one step) to list terms."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE VIRTUAL TABLE scratch USING fts5(t, tokenize='{TOKENIZE}')")
        conn.execute(f"CREATE VIRTUAL TABLE cut USING fts5(t, tokenize='{TOKENIZE}', content='')")
        conn.execute("CREATE VIRTUAL TABLE cut_terms USING fts5vocab(cut, 'instance')")
        _local.conn = conn
    return conn


def term_counts(*texts: str) -> list[Counter]:
    """Each term of each text (as the index stores it) and how often it occurs.

    Parameters
    ----------
    *texts : str
        Any texts.

    Returns
    -------
    list of collections.Counter
        Term -> count, one per text.
    """
    conn = _scratch()
    found: list[Counter] = [Counter() for _ in texts]
    conn.execute("BEGIN")
    try:
        conn.executemany("INSERT INTO cut(rowid, t) VALUES (?, ?)", [(i, clean(t)) for i, t in enumerate(texts)])
        for term, doc in conn.execute("SELECT term, doc FROM cut_terms"):
            found[doc][term] += 1
    finally:
        conn.execute("INSERT INTO cut(cut) VALUES ('delete-all')")
        conn.execute("COMMIT")
    return found


def quoted(term: str) -> str:
    """A term as an FTS5 string (no operator or column name can hide in it)."""
    return '"' + term.replace('"', '""') + '"'


def highlighted(texts: list[str], terms: list[str] | set[str]) -> list[list[dict]]:
    """Each text cut into pieces, the words that are one of `terms` marked.

    Parameters
    ----------
    texts : list of str
        Texts to show (all cut in one pass: one transaction of the scratch table).
    terms : iterable of str
        Terms as the index stores them (`term_counts`).

    Returns
    -------
    list of list of dict
        Per text, ``{"text": str, "hit": bool}`` in order; joined they are the text
        (without control characters).
    """
    texts = [clean(t) for t in texts]
    marked = dict(enumerate(texts))
    if terms and any(texts):
        conn = _scratch()
        conn.execute("BEGIN")
        try:
            conn.executemany("INSERT INTO scratch(rowid, t) VALUES (?, ?)", list(enumerate(texts)))
            marked |= dict(conn.execute("SELECT rowid, highlight(scratch, 0, ?, ?) FROM scratch WHERE scratch MATCH ?",
                                        (HIT_OPEN, HIT_CLOSE, " OR ".join(quoted(t) for t in sorted(terms)))))
        finally:
            conn.execute("DELETE FROM scratch")
            conn.execute("COMMIT")
    return [_pieces(marked[i]) for i in range(len(texts))]


def _pieces(marked: str) -> list[dict]:
    pieces, hit = [], False
    for part in re.split(f"([{HIT_OPEN}{HIT_CLOSE}])", marked):
        if part in (HIT_OPEN, HIT_CLOSE):
            hit = part == HIT_OPEN
        elif part:
            pieces.append({"text": part, "hit": hit})
    return pieces


def surface_words(pieces: list[dict]) -> list[str]:
    """The highlighted words of `highlighted` pieces, each once, as written (lower case).

    Parameters
    ----------
    pieces : list of dict
        Pieces of `highlighted`.

    Returns
    -------
    list of str
        The words in the order they first appear.
    """
    return list(dict.fromkeys(p["text"].lower() for p in pieces if p["hit"]))


def clean(text: str) -> str:
    """`text` without the highlight markers (a letter never holds them; a typed request might)."""
    return _MARKERS.sub(" ", text or "")


def window(pieces: list[dict], width: int = 320) -> list[dict]:
    """The part of highlighted `pieces` around their first hits, about `width` characters,
    cut at word boundaries with an ellipsis where text was left out.

    Parameters
    ----------
    pieces : list of dict
        Pieces of `highlighted`.
    width : int
        Characters to keep, about.

    Returns
    -------
    list of dict
        Pieces in the same form.
    """
    text = "".join(p["text"] for p in pieces)
    if len(text) <= width:
        return pieces
    first, pos = 0, 0
    for p in pieces:
        if p["hit"]:
            first = pos
            break
        pos += len(p["text"])
    start = max(0, first - width // 4)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    end = text.find(" ", min(len(text), start + width))
    end = len(text) if end < 0 else end
    out, pos = [], 0
    for p in pieces:
        a, b = pos, pos + len(p["text"])
        pos = b
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            out.append({"text": p["text"][lo - a:hi - a], "hit": p["hit"]})
    if start > 0:
        out.insert(0, {"text": "… ", "hit": False})
    if end < len(text):
        out.append({"text": " …", "hit": False})
    return out
