"""The index file: one SQLite database of past decisions, matched by SQLite's FTS5.

Tables, split by what may read them::

    meta       key -> value (format, counts, tokenizer, the knowledge it was profiled with)
    letters    one row per letter: case number and its pre-decision summary and dates
    items      one row per disputed item: its pre-decision fields and profile (category,
               regions, applicable guideline rules, findings): what matching reads
    words      FTS5 index (contentless) of each item's item text, summary and the claims
               administrator's guideline, with a category column for filters
    df         how many items hold each term (from `words`), for choosing a query's terms
    outcomes   one row per item: decision, label, decision date, the reviewer's guideline and
               an excerpt of the rationale: for DISPLAY and search filters only

Matching (`imr_ml.precedents.similar`) reads `items` and `words` and never `outcomes`, which
is joined in only to show a precedent once it has been chosen, so nothing written after a
decision can move a match (a test changes every outcome and checks that no score or rank
moves). Built in a temp file, then renamed into place; opened read-only and immutable.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from functools import cached_property
from pathlib import Path

from imr_ml.knowledge.bundle import SHIPPED, Knowledge
from imr_ml.precedents.profile import MATCH_COLUMNS, Profile, category_token, match_text, profile_batch
from imr_ml.precedents.terms import TOKENIZE
from imr_ml.schema import as_text
from imr_ml.textio import atomic_path

FORMAT = 1
EXCERPT_CHARS = 700  # of a rationale shown with a precedent
# bm25 weights per FTS5 column (category, item, summary, guideline): the item's own words
# say most about what was requested; the category column is for filters, not for ranking.
BM25_WEIGHTS = (0.0, 4.0, 1.0, 0.5)
MMAP_BYTES = 1 << 30  # of an index file read through memory mapping
BATCH = 2000  # rows profiled and written per transaction
Profiler = Callable[[Iterator[list[dict]]], Iterable[tuple[list[dict], list[Profile]]]]

SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE letters (id INTEGER PRIMARY KEY, letter_id TEXT NOT NULL UNIQUE, summary TEXT NOT NULL,
                      date_of_injury TEXT, ur_denial_date TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, letter INTEGER NOT NULL REFERENCES letters(id),
                    item_index INTEGER NOT NULL, item TEXT NOT NULL, claims_admin_guideline TEXT NOT NULL,
                    category TEXT NOT NULL, regions TEXT NOT NULL, rules TEXT NOT NULL, findings TEXT NOT NULL);
CREATE TABLE outcomes (id INTEGER PRIMARY KEY REFERENCES items(id), decision TEXT NOT NULL, label INTEGER NOT NULL,
                       decision_date TEXT, reviewer_guideline TEXT NOT NULL, rationale TEXT NOT NULL);
CREATE VIRTUAL TABLE words USING fts5(category, {", ".join(MATCH_COLUMNS)}, content='',
                                      tokenize='{TOKENIZE}');
CREATE VIRTUAL TABLE vocabulary USING fts5vocab(words, 'row');
CREATE TABLE df (term TEXT PRIMARY KEY, items INTEGER NOT NULL) WITHOUT ROWID;
"""
INDEXES = """
CREATE INDEX items_letter ON items(letter, item_index);
CREATE INDEX items_category ON items(category);
CREATE INDEX outcomes_date ON outcomes(decision_date);
CREATE INDEX outcomes_decision ON outcomes(decision, decision_date);
"""


class PrecedentsError(ValueError):
    """Rows that cannot make an index, or a file that is not one; the message is one line."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a rationale, cut after the last full sentence that fits in `limit`
    characters (else at a word, with an ellipsis).

    Parameters
    ----------
    text : str
        The rationale.
    limit : int
        Characters at most (about).

    Returns
    -------
    str
        The excerpt.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    if cut >= limit // 3:
        return text[:cut + 1] + " …"
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit] + " …"


def _decision(row: dict) -> tuple[str, int] | None:
    """(decision, label) of a row, or None when it has no outcome."""
    word = as_text(row.get("decision")).strip().lower()
    if word in ("upheld", "overturned"):
        return word, int(word == "overturned")
    label = row.get("label")
    if label in (0, 1, "0", "1", True, False):
        return ("overturned", 1) if int(label) else ("upheld", 0)
    return None


def build_index(rows: Iterable[dict], path: str | Path, knowledge: Knowledge = SHIPPED,
                progress: Callable[[int], None] | None = None, profiled: Profiler | None = None) -> dict:
    """Write the index of `rows` (corpus rows with decisions) to `path`, atomically.

    Parameters
    ----------
    rows : iterable of dict
        Corpus rows (`imr-ml ingest`); rows without a decision are counted and left out.
    path : str or pathlib.Path
        The file to write (replaced whole when the build succeeds).
    knowledge : Knowledge
        The knowledge files the profiles are read with.
    progress : callable or None
        Called with the number of rows read so far.
    profiled : callable or None
        Maps batches of rows to (batch, its profiles) in order (default: one by one here;
        `imr-ml index` passes one that spreads the batches over processes).

    Returns
    -------
    dict
        ``n_items``, ``n_letters``, ``n_overturned`` and ``n_without_decision``.
    """
    profiled = profiled or (lambda batches: (profile_batch(b, knowledge) for b in batches))
    with atomic_path(path) as tmp, closing(sqlite3.connect(tmp)) as conn:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO words(words, rank) VALUES ('rank', ?)",
                     (f"bm25({', '.join(map(str, BM25_WEIGHTS))})",))
        counts = _fill(conn, profiled(_batches(rows, BATCH)), progress)
        if not counts["n_items"]:
            raise PrecedentsError("no row has a decision (upheld or overturned): nothing to index")
        conn.executescript(INDEXES)
        conn.execute("INSERT INTO words(words) VALUES ('optimize')")
        # items per term, looked up by the B-tree (fts5vocab scans its whole table for an IN list)
        conn.execute("INSERT INTO df SELECT term, doc FROM vocabulary")
        meta = {"format": FORMAT, "tokenize": TOKENIZE, **counts}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        conn.commit()
        conn.execute("VACUUM")
    return counts


def _fill(conn: sqlite3.Connection, batches: Iterable[tuple[list[dict], list[Profile]]], progress) -> dict:
    """Insert every row with a decision, a batch per transaction; the counts of what went in."""
    letters: dict[str, int] = {}
    counts = {"n_items": 0, "n_letters": 0, "n_overturned": 0, "n_without_decision": 0}
    seen = 0
    for batch, profiles in batches:
        seen += len(batch)
        with conn:
            for row, prof in zip(batch, profiles):
                outcome = _decision(row)
                if outcome is None:
                    counts["n_without_decision"] += 1
                    continue
                _insert_item(conn, _letter(conn, letters, row), row, prof, *outcome)
                counts["n_items"] += 1
                counts["n_overturned"] += outcome[1]
        if progress is not None:
            progress(seen)
    counts["n_letters"] = len(letters)
    return counts


def _letter(conn: sqlite3.Connection, letters: dict[str, int], row: dict) -> int:
    """The id of the row's letter, inserted the first time it is seen."""
    key = as_text(row.get("letter_id")) or f"item {len(letters) + 1}"
    if key not in letters:
        cur = conn.execute("INSERT INTO letters (letter_id, summary, date_of_injury, ur_denial_date) "
                           "VALUES (?, ?, ?, ?)", (key, as_text(row.get("summary")),
                                                   as_text(row.get("date_of_injury")) or None,
                                                   as_text(row.get("ur_denial_date")) or None))
        letters[key] = int(cur.lastrowid or 0)
    return letters[key]


def _insert_item(conn: sqlite3.Connection, letter: int, row: dict, prof: Profile, decision: str, label: int) -> None:
    index = as_text(row.get("item_index"))
    cur = conn.execute(
        "INSERT INTO items (letter, item_index, item, claims_admin_guideline, category, regions, rules, findings) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (letter, int(index) if index.isdigit() else 0, as_text(row.get("item")),
         as_text(row.get("claims_admin_guideline")), prof.category, " ".join(prof.regions), " ".join(prof.rules),
         " ".join(prof.findings)))
    item = cur.lastrowid
    conn.execute("INSERT INTO words (rowid, category, item, summary, claims_admin_guideline) VALUES (?, ?, ?, ?, ?)",
                 (item, category_token(prof.category), *match_text(row)))
    conn.execute("INSERT INTO outcomes (id, decision, label, decision_date, reviewer_guideline, rationale) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 (item, decision, label, as_text(row.get("decision_date")) or None,
                  as_text(row.get("reviewer_guideline")), excerpt(as_text(row.get("rationale")))))


def _batches(rows: Iterable[dict], n: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


class Index:
    """An index file opened read-only, one connection per thread.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (already checked against its manifest by whoever opens it).
    knowledge : Knowledge
        The knowledge files its profiles were read with (requests are profiled with them).
    """

    def __init__(self, path: str | Path, knowledge: Knowledge = SHIPPED) -> None:
        self.path, self.knowledge = Path(path), knowledge
        self._local = threading.local()
        with closing(self._connect()) as conn:  # not kept: a server forks its workers after this
            self.meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if self.meta.get("format") != str(FORMAT) or self.meta.get("tokenize") != TOKENIZE:
            raise PrecedentsError(f"{self.path} is an index of another format ({self.meta.get('format')}): rebuild it")

    def connection(self) -> sqlite3.Connection:
        """This thread's read-only connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        uri = f"file:{_uri_path(self.path)}?mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(uri, uri=True)
            conn.execute("SELECT 1 FROM meta LIMIT 1")
            # read through the OS's page cache, not copied into SQLite's (2 MB) one: a search's
            # look-ups of 2,000 candidates' rows took half the time (shared by every worker)
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        except sqlite3.DatabaseError as exc:
            raise PrecedentsError(f"{self.path} is not a precedents index ({exc})") from None
        return conn

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many items hold each of `terms` (as the index cuts words); a term no item
        holds is left out."""
        conn = self.connection()
        found: dict[str, int] = {}
        for start in range(0, len(terms), 500):  # SQLite's default limit of bound parameters is far above
            chunk = terms[start:start + 500]
            found.update(conn.execute(f"SELECT term, items FROM df WHERE term IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall())
        return found

    @cached_property
    def category_counts(self) -> list[tuple[str, int]]:
        """The treatment categories of its items and how many each has, most first (a search
        page's filter list: counted once, the file is immutable)."""
        return [(c, int(n)) for c, n in self.connection().execute(
            "SELECT category, count(*) FROM items GROUP BY category ORDER BY count(*) DESC, category")]

    @property
    def n_items(self) -> int:
        """Items it holds."""
        return int(self.meta.get("n_items", 0))

    @property
    def n_letters(self) -> int:
        """Letters it holds."""
        return int(self.meta.get("n_letters", 0))


def _uri_path(path: Path) -> str:
    """A file path as the path of an SQLite URI (`?` and `#` would end it)."""
    return os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
