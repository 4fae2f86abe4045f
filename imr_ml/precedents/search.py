"""Full-text search over an index of past decisions, with filters, ranked by bm25 and paged.

The words are looked for in each item's pre-decision text (the item, the case summary and
the claims administrator's guideline), every word by default (a word no item holds is left
out, and said); when no item holds them all, items holding any are ranked instead, and the
answer says so. A phrase in double quotes is looked for as typed. Filters narrow by outcome,
treatment category, body region and decision date; with no words, the filtered items come
newest first. `letter` lists one letter's items, which every hit links to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from imr_ml.dates import DateError, read_date
from imr_ml.precedents.profile import label, match_query
from imr_ml.precedents.store import Index, PrecedentsError
from imr_ml.precedents.terms import highlighted, surface_words, term_counts, window

MAX_PER_PAGE = 100
MAX_RANKED = 2000  # hits ranked (and paged through) at most: bm25 costs a few microseconds a hit
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

    def sql(self, key: str) -> tuple[str, list[str], list]:
        """The JOINs, the WHERE conditions and their parameters that keep, of a query over ids
        `key` (e.g. ``w.rowid``), what these filters keep: `items i` and `outcomes o` are joined
        only when a filter reads them (each join is a B-tree look-up per candidate)."""
        where, params, tables = [], [], set()
        for table, cond, value in (
                ("o", "o.decision = ?", self.outcome), ("i", "i.category = ?", self.category),
                ("i", "(' ' || i.regions || ' ') LIKE ?", f"% {self.region} %" if self.region else None),
                ("o", "o.decision_date >= ?", self.since), ("o", "o.decision_date <= ?", self.until)):
            if value is not None:
                where.append(cond)
                params.append(value)
                tables.add(table)
        joins = "".join(f" JOIN {name} {t} ON {t}.id = {key}" for t, name in (("i", "items"), ("o", "outcomes"))
                        if t in tables and not key.startswith(t + "."))
        return joins, where, params


FILTERS = tuple(f.name for f in fields(Filters))  # the filters as a page or route names them


def search(index: Index, text: str = "", filters: Filters = Filters(), page: int = 1, per_page: int = 10) -> dict:
    """Items whose pre-decision text holds the words of `text`, filtered, best first.

    At most `MAX_RANKED` hits are ranked (bm25 costs a few microseconds a hit: ranking every
    item holding a common word of a large archive would take a second); when more items hold
    the words, the `MAX_RANKED` added to the index last are ranked (with no words: the
    `MAX_RANKED` most recent decisions are listed), ``more`` is True and the answer says so.
    Pages end there too.

    Parameters
    ----------
    index : Index
        The index.
    text : str
        Words to look for (every one; any of them when no item holds all); words no item holds
        are left out, and so are words held by half the items or more unless every word is
        (bm25 gives them no weight); a phrase in double quotes is looked for as typed, always.
    filters : Filters
        What to keep.
    page : int
        1-based page; its hits must lie within the first `MAX_RANKED`.
    per_page : int
        Hits per page (at most `MAX_PER_PAGE`).

    Returns
    -------
    dict
        ``query``, ``terms`` looked for, ``ignored`` (words in half the items or more),
        ``absent`` (words in no item), ``mode`` (``all``, ``any`` or ``filters``), ``total``
        hits (up to `MAX_RANKED`), ``more`` (more items hold the words or pass the filters),
        ``page``, ``per_page``, ``pages`` and ``hits`` (each: the item, its letter, category,
        outcome and date, the query's words it holds, its text cut into highlighted pieces).

    Raises
    ------
    PrecedentsError
        A bad filter, or a page past the first `MAX_RANKED` hits.
    """
    filters = filters.checked()
    page, per_page = max(1, int(page)), max(1, min(int(per_page), MAX_PER_PAGE))
    if (page - 1) * per_page >= MAX_RANKED:
        raise PrecedentsError(f"page {page} is past the first {MAX_RANKED:,} hits ({-(-MAX_RANKED // per_page):,} "
                              f"pages of {per_page}): narrow the search with more words or filters")
    terms, ignored, absent = _looked_for(index, text)
    mode, found = "filters", list[int]()
    if terms:
        for mode in ("all", "any"):
            found = _ranked(index, match_query(terms, mode == "all", filters.category), filters)
            if found:
                break
    elif absent:  # every word typed is in no item: nothing holds them, not "everything"
        mode = "all"
    else:
        found = _filtered(index, filters)
    more, found = len(found) > MAX_RANKED, found[:MAX_RANKED]  # one more than the cap only says there are more
    total = len(found)
    return {"query": text, "terms": terms, "ignored": ignored, "absent": absent, "mode": mode,
            "filters": vars(filters), "total": total, "more": more, "page": page, "per_page": per_page,
            "pages": -(-total // per_page),
            "hits": _hits(index, found[(page - 1) * per_page: page * per_page], terms)}


def _looked_for(index: Index, text: str) -> tuple[list[str], list[str], list[str]]:
    """(the terms and phrases to look for, the words left out as common, the words no item
    holds), the words as typed."""
    phrases, words = _phrases(text)
    terms, common, absent = _weighed(index, sorted(t for t in term_counts(words)[0] if t))
    return (phrases + terms)[:MAX_QUERY_TERMS], _as_typed(words, common), _as_typed(words, absent)


def _phrases(text: str) -> tuple[list[str], str]:
    """(the phrases typed in double quotes, each as its words in order, the rest of the text):
    a quoted phrase is looked for as typed, words in that order, however common its words."""
    phrases = [" ".join(words) for q in re.findall(r'"([^"]*)"', text) if (words := re.findall(r"\w+", q.lower()))]
    return list(dict.fromkeys(phrases)), re.sub(r'"[^"]*"', " ", text)


def _weighed(index: Index, terms: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(the terms to look for, those left out as common, those no item holds). A term no item
    holds is left out (else one typo would make "every word" match nothing and the search fall
    back to any word). A term held by half the items or more is left out unless every term is:
    bm25's idf, log((N - n + 0.5) / (n + 0.5)), is then at most zero and FTS5 weighs it 1e-6,
    so it cannot move a rank; yet FTS5 reads all its postings to count them ("the", "for" and
    "2" made a typed item's search 3 times slower). Quoting a word keeps it (`_phrases`)."""
    df = index.document_frequencies(terms)
    absent = [t for t in terms if t not in df]
    present = [t for t in terms if t in df]
    common = [t for t in present if 2 * df[t] >= index.n_items]
    if len(common) == len(present):
        return present, [], absent
    return [t for t in present if t not in common], common, absent


def _as_typed(text: str, terms: list[str]) -> list[str]:
    """The words of `text` that the index cuts into one of `terms` (a reader knows
    "improvement", not the stem "improv"), each once, in the order typed."""
    if not terms:
        return []
    words = list(dict.fromkeys(w for w in re.findall(r"\w+", text)))
    return [w for w, cut in zip(words, term_counts(*words)) if set(cut) & set(terms)]


def headline(found: dict) -> str:
    """A search's count as the CLI and the JSON API say it, on one line: exact up to
    `MAX_RANKED`, else "more than", and which hits were ranked (`counted`, `cap_note`).

    Parameters
    ----------
    found : dict
        What `search` returned.

    Returns
    -------
    str
        One line.
    """
    note = cap_note(found)
    line = counted(found) + (f": {note[0].lower()}{note[1:]}" if note else "")
    left = ignored_note(found)
    return line + (f" ({left})" if left else "")


def counted(found: dict) -> str:
    """How many items a search found (the web page's heading): "more than" past the cap."""
    how = {"all": "with every word", "any": "with any of the words (none has them all)",
           "filters": "kept by the filters"}[found["mode"]]
    if found["more"]:
        return f"more than {found['total']:,} items {how}"
    return f"{found['total']:,} item{'' if found['total'] == 1 else 's'} {how}"


def ignored_note(found: dict) -> str:
    """The words a search left out and why, as a reader sees them ("" when none)."""
    parts = []
    if found.get("ignored"):
        parts.append("not looked for, in half the items or more (quote them to keep them): "
                     + ", ".join(found["ignored"]))
    if found.get("absent"):
        parts.append(f"in no item, left out: {', '.join(found['absent'])}")
    return "; ".join(parts)


def cap_note(found: dict) -> str:
    """Which hits a search past the cap ranked and what to do ("" below the cap)."""
    if not found["more"]:
        return ""
    which = ("most recent decisions are listed" if found["mode"] == "filters"
             else "added to the index last are ranked")
    return f"The {found['total']:,} {which}; narrow the search with more words or filters."


def _ranked(index: Index, query: str, filters: Filters) -> list[int]:
    """The ids of the items matching a word query and the filters, best first (bm25, then
    id): all of them up to `MAX_RANKED`; else the `MAX_RANKED` added last, and one more id
    (unranked) to say there are more. FTS5 walks its matches by rowid, newest first, and
    stops there, so the cost is bounded by the cap, not by how common the words are."""
    joins, where, params = filters.sql("w.rowid")
    rows = index.connection().execute(
        f"SELECT w.rowid, w.rank FROM words w{joins} WHERE {' AND '.join(['words MATCH ?', *where])} "
        "ORDER BY w.rowid DESC LIMIT ?", [query, *params, MAX_RANKED + 1]).fetchall()
    best = sorted(rows[:MAX_RANKED], key=lambda r: (r[1], r[0]))
    return [i for i, _ in best] + [i for i, _ in rows[MAX_RANKED:]]


def _filtered(index: Index, filters: Filters) -> list[int]:
    """The ids of the items the filters keep, newest decision first (then the highest id,
    so the date's index gives the order), up to `MAX_RANKED` + 1 (one more says there are more)."""
    joins, where, params = filters.sql("o.id")
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    return [r for (r,) in index.connection().execute(
        f"SELECT o.id FROM outcomes o{joins}{where_sql} ORDER BY o.decision_date DESC, o.id DESC LIMIT ?",
        [*params, MAX_RANKED + 1])]


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
