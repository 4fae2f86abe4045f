"""The past decisions most like a request: words find candidates, the profile ranks them.

1. **Candidates by words.** The request's most telling terms (its item's terms and the
   summary's rarest ones, scored by term frequency times inverse document frequency, as
   Lucene's "more like this" picks them) are OR-ed into one FTS5 query over the pre-decision
   text of the request's treatment category, ranked by bm25; in a small index, or a rare
   service, the same query over every item and the category's other items add to them.
2. **Ranked by what decides a request.** Each candidate's score is the sum of transparent
   parts (`WEIGHTS`): the same treatment category, the share of body regions in common, the
   share of applicable guideline rules in common, the share of clinical findings in common,
   and its bm25 relative to the best candidate's. Every part is returned with the precedent,
   with the shared regions, rules, findings and words that earned it.

Only `items` and `words` of the index are read to choose and rank; the outcome of each chosen
precedent is read afterwards, to show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from imr_ml.precedents.profile import Profile, label, match_query, match_text, profile
from imr_ml.precedents.store import Index
from imr_ml.precedents.terms import highlighted, surface_words, term_counts, window
from imr_ml.schema import as_text

# Points of each part of a match (a precedent scores at most their sum, shown as 100%).
# The service says what was asked for and which guideline decides it (an epidural in the
# neck is judged by the epidural criteria, a lumbar MRI by others), so it weighs most; the
# body region next; the guideline rules and findings in common say why it was decided as it
# was; words break the remaining ties. Set on synthetic letters before any measurement on
# the real ones (experiments/precedents.md) and not tuned on them.
WEIGHTS = {"category": 4.0, "regions": 2.0, "rules": 1.5, "findings": 1.0, "words": 1.5}
QUERY_TERMS = 24  # terms of the request a word query ORs together
# Items the chosen terms may hold between them: a word query's time grows with the postings
# it merges and scores, so the most telling terms are taken while they fit (rare terms cost
# little and say most). Below about this many items every term fits.
POSTINGS = 20_000
ITEM_TERM_WEIGHT = 3  # an item's term counts as this many summary occurrences
CANDIDATES = 60  # per word query (anywhere, and in the request's category)
COMMON = 0.3  # a term in more than this share of the items says nothing of a request ("with", "pain")


@dataclass
class Candidate:
    """A past item the word queries found, with its letter, profile and bm25 (lower is better)."""

    id: int
    letter: int
    bm25: float
    profile: Profile


def query_terms(index: Index, row: dict) -> list[str]:
    """The request's terms a word query looks for: each term's count (an item's terms
    weigh `ITEM_TERM_WEIGHT`) times its inverse document frequency in the index, the best
    `QUERY_TERMS` while the items holding them stay within `POSTINGS`; numbers, single
    letters, terms no indexed item has and terms of more than `COMMON` of the items are
    left out.

    Parameters
    ----------
    index : Index
        The index.
    row : dict
        The request (pre-decision fields).

    Returns
    -------
    list of str
        Terms, best first.
    """
    item, summary, guideline = match_text(row)
    counts, in_item = term_counts(summary + "\n" + guideline, item)
    for term, n in in_item.items():
        counts[term] += ITEM_TERM_WEIGHT * n
    terms = [t for t in counts if len(t) > 1 and not t.isdigit()]
    if not terms:
        return []
    df = index.document_frequencies(terms)
    n_docs = max(index.n_items, 1)
    scored = [(counts[t] * math.log(1 + (n_docs - df[t] + 0.5) / (df[t] + 0.5)), t)
              for t in terms if 0 < df.get(t, 0) <= COMMON * n_docs]
    chosen: list[str] = []
    postings = 0
    for _, t in sorted(scored, key=lambda s: (-s[0], s[1])):
        if postings + df[t] <= POSTINGS and len(chosen) < QUERY_TERMS:
            chosen.append(t)
            postings += df[t]
    return chosen


def candidates(index: Index, terms: list[str], category: str, n: int = CANDIDATES) -> list[Candidate]:
    """The best `n` items of `category` by words; when fewer than `n` of them share a word
    (a small index or a rare service), also the best `n` anywhere and the category's other
    items. Items of another service rank below those of the request's (`WEIGHTS`), so they
    are looked for only then.

    Parameters
    ----------
    index : Index
        The index.
    terms : list of str
        The query's terms (`query_terms`).
    category : str
        The request's category.
    n : int
        Items per query.

    Returns
    -------
    list of Candidate
        With their profiles.
    """
    conn = index.connection()
    ranks: dict[int, float] = {}

    def best(query: str) -> int:
        found = conn.execute("SELECT rowid, rank FROM words WHERE words MATCH ? ORDER BY rank LIMIT ?",
                             (query, n)).fetchall()
        ranks.update((int(i), float(r)) for i, r in found)
        return len(found)
    if not terms or best(match_query(terms, False, category)) < n:  # a small category: other services' too
        if terms:
            best(match_query(terms, False))
        for (i,) in conn.execute("SELECT id FROM items WHERE category = ? ORDER BY id LIMIT ?", (category, n)):
            ranks.setdefault(int(i), 0.0)  # and its items that share no word
    if not ranks:
        return []
    ids = sorted(ranks)
    rows = conn.execute(f"SELECT id, letter, category, regions, rules, findings FROM items WHERE id IN "
                        f"({','.join('?' * len(ids))})", ids).fetchall()
    return [Candidate(int(i), int(lt), ranks[int(i)], Profile(c, tuple(r.split()), tuple(g.split()), tuple(f.split())))
            for i, lt, c, r, g, f in rows]


def _share(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """What two sets have in common over what either has (0 when both are empty)."""
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 0.0


def match_parts(request: Profile, cand: Candidate, best_bm25: float) -> dict[str, float]:
    """The points of each part of a candidate's match (`WEIGHTS`).

    Parameters
    ----------
    request : Profile
        The request's profile.
    cand : Candidate
        The candidate.
    best_bm25 : float
        The best (lowest) bm25 among the candidates.

    Returns
    -------
    dict
        Part -> points.
    """
    words = cand.bm25 / best_bm25 if best_bm25 < 0 else 0.0
    return {"category": WEIGHTS["category"] * (cand.profile.category == request.category),
            "regions": WEIGHTS["regions"] * _share(request.regions, cand.profile.regions),
            "rules": WEIGHTS["rules"] * _share(request.rules, cand.profile.rules),
            "findings": WEIGHTS["findings"] * _share(request.findings, cand.profile.findings),
            "words": WEIGHTS["words"] * max(0.0, min(1.0, words))}


def ranked(index: Index, row: dict, top: int = 5) -> tuple[Profile, list[str], list[tuple[Candidate, dict]]]:
    """The `top` candidates for a request, best first, with their match parts; one item
    per letter (the items of one letter share its summary: the best stands for them), and
    none of the request's own letter when it comes from one the index holds (a letter is
    not its own precedent).

    Parameters
    ----------
    index : Index
        The index.
    row : dict
        The request.
    top : int
        How many.

    Returns
    -------
    (Profile, list of str, list of (Candidate, dict))
        The request's profile, its query terms and the ranked candidates with their parts.
    """
    prof = profile(row, index.knowledge)
    terms = query_terms(index, row)
    cands = candidates(index, terms, prof.category)
    best = min((c.bm25 for c in cands), default=0.0)
    scored = [(c, match_parts(prof, c, best)) for c in cands]
    scored.sort(key=lambda cp: (-round(sum(cp[1].values()), 9), cp[0].bm25, cp[0].id))
    own = index.connection().execute("SELECT id FROM letters WHERE letter_id = ?",
                                     (as_text(row.get("letter_id")),)).fetchone()
    chosen: list[tuple[Candidate, dict]] = []
    letters = {own[0]} if own else set()
    for cand, parts in scored:
        if cand.letter not in letters and len(chosen) < top:
            letters.add(cand.letter)
            chosen.append((cand, parts))
    return prof, terms, chosen


def similar(index: Index, row: dict, top: int = 5) -> dict:
    """The past decisions most like a request, each with why it matched and its outcome.

    Parameters
    ----------
    index : Index
        The index.
    row : dict
        The request (its pre-decision fields are read).
    top : int
        How many precedents.

    Returns
    -------
    dict
        ``precedents`` (best first: the item, its outcome, date and rationale excerpt, the
        match's ``score`` in [0, 1] with its ``parts``, and ``why``: shared category,
        regions, guideline rules, findings and words, with the item and summary cut into
        highlighted pieces), ``overturned`` (how many of them were), ``n`` and the
        ``request``'s category and regions.
    """
    prof, terms, best = ranked(index, row, top)
    shown = [_shown(index, prof, cand, parts) for cand, parts in best]
    _highlight(shown, terms)
    return {"precedents": shown, "n": len(shown), "overturned": sum(p["label"] for p in shown),
            "request": {"category": prof.category, "regions": list(prof.regions)}}


def _shown(index: Index, request: Profile, cand: Candidate, parts: dict) -> dict:
    """One chosen precedent as shown: the match, why, and (only now) its outcome."""
    conn = index.connection()
    letter_id, item_index, item, summary = conn.execute(
        "SELECT l.letter_id, i.item_index, i.item, l.summary FROM items i JOIN letters l ON l.id = i.letter "
        "WHERE i.id = ?", (cand.id,)).fetchone()
    decision, lab, date, reviewer_guideline, rationale = conn.execute(
        "SELECT decision, label, decision_date, reviewer_guideline, rationale FROM outcomes WHERE id = ?",
        (cand.id,)).fetchone()
    knowledge = index.knowledge
    why = {"same_category": cand.profile.category == request.category,
           "regions": sorted(set(request.regions) & set(cand.profile.regions)),
           "rules": [{"name": n, "label": label(n, knowledge)}
                     for n in sorted(set(request.rules) & set(cand.profile.rules))],
           "findings": [{"name": n, "label": label(n, knowledge)}
                        for n in sorted(set(request.findings) & set(cand.profile.findings))]}
    return {"id": cand.id, "letter": cand.letter, "letter_id": letter_id, "item_index": item_index, "item": item,
            "summary": summary, "category": cand.profile.category, "regions": list(cand.profile.regions),
            "decision": decision, "label": int(lab), "decision_date": date,
            "reviewer_guideline": reviewer_guideline, "rationale_excerpt": rationale,
            "score": round(sum(parts.values()) / sum(WEIGHTS.values()), 4),
            "parts": {k: round(v, 4) for k, v in parts.items()}, "why": why}


def _highlight(shown: list[dict], terms: list[str]) -> None:
    """Mark the query's words in each precedent's item and summary (all in one pass), add
    them to its `why`, and keep the part of the summary around them."""
    pieces = highlighted([t for p in shown for t in (p["item"], p.pop("summary"))], terms)
    for p, item, summary in zip(shown, pieces[::2], pieces[1::2]):
        p["why"]["words"] = surface_words(item + summary)
        p["item_pieces"], p["summary_pieces"] = item, window(summary)
