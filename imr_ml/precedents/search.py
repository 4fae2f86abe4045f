"""Full-text search over an index of past decisions, with filters, ranked by bm25 and paged.

The words are looked for in each item's pre-decision text (the item, the case summary and
the claims administrator's guideline), every word by default; when no item holds them all,
items holding any are ranked instead, and the answer says so. Filters narrow by outcome,
treatment category, body region and decision date; with no words, the filtered items come
newest first. `letter` lists one letter's items, which every hit links to.
"""

from __future__ import annotations

from dataclasses import dataclass

from imr_ml.dates import DateError, read_date
from imr_ml.precedents.profile import MATCH_COLUMNS, label
from imr_ml.precedents.store import Index, PrecedentsError
from imr_ml.precedents.terms import highlighted, quoted, surface_words, term_counts, window

MAX_PER_PAGE = 100
MAX_QUERY_TERMS = 32  # words a query may hold: each one is a posting list to merge
OUTCOMES = ("upheld", "overturned")


@dataclass(frozen=True)
class Filters:
    """What a search keeps: an outcome, a treatment category, a body region, decisions from
    `since` and until `until` (ISO dates, inclusive); None keeps everything."""

    outcome: str | None = None
    category: str | None = None
    region: str | None = None
    since: str | None = None
    until: str | None = None

    def checked(self) -> Filters:
        """The filters with their dates read as days (any form `imr_ml.dates` reads);
        raises PrecedentsError naming a bad one."""
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise PrecedentsError(f"--outcome must be upheld or overturned, not {self.outcome!r}")
        try:
            return Filters(self.outcome, self.category, self.region, read_date(self.since, "--since"),
                           read_date(self.until, "--until"))
        except DateError as exc:
            raise PrecedentsError(str(exc)) from None

    def sql(self) -> tuple[str, list]:
        """The WHERE conditions on `items i` and `outcomes o`, and their parameters."""
        where, params = [], []
        for cond, value in (("o.decision = ?", self.outcome), ("i.category = ?", self.category),
                            ("(' ' || i.regions || ' ') LIKE ?", f"% {self.region} %" if self.region else None),
                            ("o.decision_date >= ?", self.since), ("o.decision_date <= ?", self.until)):
            if value is not None:
                where.append(cond)
                params.append(value)
        return " AND ".join(where), params


def _query(terms: list[str], every: bool) -> str:
    joined = (" AND " if every else " OR ").join(quoted(t) for t in terms)
    return "{" + " ".join(MATCH_COLUMNS) + "} : (" + joined + ")"


def search(index: Index, text: str = "", filters: Filters = Filters(), page: int = 1, per_page: int = 10) -> dict:
    """Items whose pre-decision text holds the words of `text`, filtered, best first.

    Parameters
    ----------
    index : Index
        The index.
    text : str
        Words to look for (every one; any of them when no item holds all).
    filters : Filters
        What to keep.
    page : int
        1-based page.
    per_page : int
        Hits per page (at most `MAX_PER_PAGE`).

    Returns
    -------
    dict
        ``query``, ``terms``, ``mode`` (``all``, ``any`` or ``filters``), ``total`` hits,
        ``page``, ``per_page``, ``pages`` and ``hits`` (each: the item, its letter, category,
        outcome and date, the query's words it holds, the item and summary cut into
        highlighted pieces).
    """
    filters = filters.checked()
    page, per_page = max(1, int(page)), max(1, min(int(per_page), MAX_PER_PAGE))
    terms = sorted(t for t in term_counts(text)[0] if t)[:MAX_QUERY_TERMS]
    cond, params = filters.sql()
    mode, total, ids = "filters", 0, list[int]()
    if terms:
        for mode in ("all", "any"):
            total, ids = _matches(index, _query(terms, mode == "all"), cond, params, page, per_page)
            if total:
                break
    else:
        total, ids = _filtered(index, cond, params, page, per_page)
    return {"query": text, "terms": terms, "mode": mode, "filters": vars(filters), "total": total, "page": page,
            "per_page": per_page, "pages": -(-total // per_page), "hits": _hits(index, ids, terms)}


def _matches(index: Index, query: str, cond: str, params: list, page: int, per_page: int) -> tuple[int, list[int]]:
    """(how many items match, the ids of this page's) for a word query and filters."""
    conn = index.connection()
    joins = "FROM words w JOIN items i ON i.id = w.rowid JOIN outcomes o ON o.id = w.rowid WHERE words MATCH ?"
    where = f" AND {cond}" if cond else ""
    total = conn.execute(f"SELECT count(*) {joins}{where}", [query, *params]).fetchone()[0]
    ids = [r for (r,) in conn.execute(f"SELECT w.rowid {joins}{where} ORDER BY w.rank LIMIT ? OFFSET ?",
                                      [query, *params, per_page, (page - 1) * per_page])]
    return int(total), ids


def _filtered(index: Index, cond: str, params: list, page: int, per_page: int) -> tuple[int, list[int]]:
    """(how many items the filters keep, this page's ids), newest decision first."""
    conn = index.connection()
    where = f"WHERE {cond}" if cond else ""
    total = conn.execute(f"SELECT count(*) FROM items i JOIN outcomes o ON o.id = i.id {where}", params).fetchone()[0]
    ids = [r for (r,) in conn.execute(f"SELECT i.id FROM items i JOIN outcomes o ON o.id = i.id {where} "
                                      "ORDER BY o.decision_date DESC, i.id LIMIT ? OFFSET ?",
                                      [*params, per_page, (page - 1) * per_page])]
    return int(total), ids


def _hits(index: Index, ids: list[int], terms: list[str]) -> list[dict]:
    """The hits of a page as shown, in the order of `ids`."""
    if not ids:
        return []
    rows = {r[0]: r for r in index.connection().execute(
        "SELECT i.id, i.letter, l.letter_id, i.item_index, i.item, l.summary, i.category, i.regions, o.decision, "
        "o.decision_date, o.rationale, i.claims_admin_guideline FROM items i JOIN letters l ON l.id = i.letter "
        f"JOIN outcomes o ON o.id = i.id WHERE i.id IN ({','.join('?' * len(ids))})", ids)}
    pieces = highlighted([t for i in ids for t in (rows[i][4], rows[i][5], rows[i][11])], terms)
    hits = []
    for n, i in enumerate(ids):
        _, letter, letter_id, item_index, item, _, category, regions, decision, date, rationale, _ = rows[i]
        item_p, summary_p, guideline_p = pieces[3 * n: 3 * n + 3]
        hits.append({"id": i, "letter": letter, "letter_id": letter_id, "item_index": item_index, "item": item,
                     "category": category, "regions": regions.split(), "decision": decision, "decision_date": date,
                     "rationale_excerpt": rationale, "words": surface_words(item_p + summary_p + guideline_p),
                     "item_pieces": item_p, "summary_pieces": window(summary_p),
                     # the cited guideline is matched too: shown when it holds a word
                     "guideline_pieces": guideline_p if any(p["hit"] for p in guideline_p) else []})
    return hits


def letter(index: Index, letter_key: int) -> dict | None:
    """One letter of the index with every item of it, its outcome and rationale excerpt.

    Parameters
    ----------
    index : Index
        The index.
    letter_key : int
        The letter's id in the index (a hit's ``letter``).

    Returns
    -------
    dict or None
        ``letter_id``, ``summary``, ``date_of_injury``, ``ur_denial_date`` and ``items``;
        None when the index has no such letter.
    """
    conn = index.connection()
    head = conn.execute("SELECT letter_id, summary, date_of_injury, ur_denial_date FROM letters WHERE id = ?",
                        (int(letter_key),)).fetchone()
    if head is None:
        return None
    items = conn.execute(
        "SELECT i.id, i.item_index, i.item, i.category, i.regions, i.rules, o.decision, o.decision_date, "
        "o.reviewer_guideline, o.rationale FROM items i JOIN outcomes o ON o.id = i.id WHERE i.letter = ? "
        "ORDER BY i.item_index", (int(letter_key),)).fetchall()
    return {"letter": int(letter_key), "letter_id": head[0], "summary": head[1], "date_of_injury": head[2],
            "ur_denial_date": head[3],
            "items": [{"id": i, "item_index": k, "item": item, "category": cat, "regions": reg.split(),
                       "rules": [{"name": n, "label": label(n, index.knowledge)} for n in rules.split()],
                       "decision": dec, "decision_date": date, "reviewer_guideline": guideline,
                       "rationale_excerpt": rationale}
                      for i, k, item, cat, reg, rules, dec, date, guideline, rationale in items]}


def categories(index: Index) -> list[tuple[str, int]]:
    """The treatment categories of an index's items and how many each has (for a filter list).

    Parameters
    ----------
    index : Index
        The index.

    Returns
    -------
    list of (str, int)
        Category and count, most items first.
    """
    return [(c, int(n)) for c, n in index.connection().execute(
        "SELECT category, count(*) FROM items GROUP BY category ORDER BY count(*) DESC, category")]
