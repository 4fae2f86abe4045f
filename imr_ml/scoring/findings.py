"""One finding, one line: the contributions that quote the same evidence, summed.

A guideline rule and the signals it reads quote the same words ("12 sessions of
acupuncture" is the rule "more visits after a course without functional improvement" and the
number of earlier sessions). Listed apart they read as several reasons, or as one reason
counted both ways. A finding is every contribution whose quoted text overlaps another's
(same field, overlapping characters), shown once with its net effect, labelled by its
guideline rule when one is among them, and split by where it came from: the guideline's
prior (what the knowledge alone gives) and the letters' adjustment (what training moved).
When the letters pull against the guideline the finding says so, with the number of
training items behind it; a rule that applied to fewer than `MIN_LEARNT` training items is
the guideline's prior, not something the model learnt.

Findings partition the contributions, so ``baseline + sum(findings) == logit`` still holds,
and each finding's ``parts`` add up to it.
"""

from __future__ import annotations

from imr_ml.scoring.evidence import Span, quoted

MIN_LEARNT = 10  # training items below which an effect is the guideline's prior, not learnt
DISAGREE = 0.2  # log-odds the letters must pull against the guideline to say they disagree
PART_KEYS = ("feature", "label", "value", "contribution", "guideline")  # a part as results show it


def _groups(spans: list[list[Span]]) -> list[list[int]]:
    """Indices of the contributions joined when their spans overlap (transitively), in
    first-seen order."""
    parent = list(range(len(spans)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    field, end, owner = None, -1, -1
    flat = [(f, s, e, i) for i, sp in enumerate(spans) for f, s, e in sp]
    flat.sort()
    for f, s, e, i in flat:
        if f == field and s < end:
            parent[root(i)] = root(owner)
            end = max(end, e)
        else:
            field, end, owner = f, e, i
    groups: dict[int, list[int]] = {}
    for i in range(len(spans)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def source_words(is_rule: bool, guideline: float, letters: float, n_items: int | None) -> tuple[str, str | None]:
    """Where a finding came from, and a note when the letters disagree with the guideline.

    Parameters
    ----------
    is_rule : bool
        A guideline rule is among the finding's contributions.
    guideline : float
        The guideline prior's part of the finding (log-odds).
    letters : float
        The letters' adjustment (the rest).
    n_items : int or None
        Training items the finding applied to (None: not known, or the built-in model).

    Returns
    -------
    (str, str or None)
        The source in words, and the note (None when there is nothing to say).
    """
    items = "" if n_items is None else f"{n_items} training item{'s' if n_items != 1 else ''}"
    if not is_rule and guideline == 0:
        return "learnt from the letters" + (f" ({items})" if items else ""), None
    words = [f"guideline prior {guideline:+.2f}"]
    if n_items is not None and n_items < MIN_LEARNT:
        words[0] += f" (not learnt: it applied to {items})"
    if round(letters, 2) != 0:
        words.append(f"the letters' adjustment {letters:+.2f}")
    source = ", ".join(words) + (f" ({items})" if n_items is not None and n_items >= MIN_LEARNT else "")
    if n_items is not None and n_items >= MIN_LEARNT and guideline * letters < 0 and abs(letters) >= DISAGREE:
        return source, f"the letters disagree with the guideline here ({n_items} items)"
    return source, None


def finding(row: dict, members: list[dict], spans: list[list[Span]]) -> dict:
    """One finding from the contributions that quote the same text.

    Parameters
    ----------
    row : dict
        The request (the evidence's offsets refer to it).
    members : list of dict
        Contributions: ``feature``, ``label``, ``value``, ``contribution``, ``guideline``
        (the prior's part) and ``n_items``; they become the finding's ``parts``.
    spans : list of list of (str, int, int)
        The text behind each member.

    Returns
    -------
    dict
        ``feature``, ``label``, ``value`` (of its guideline rule, else of its largest part),
        ``contribution`` (the net), ``evidence``, ``guideline``, ``letters``, ``n_items``,
        ``source``, ``note`` and ``parts`` (the members' `PART_KEYS`, largest first).
    """
    if len(members) == 1:
        head, net, guideline, text = members[0], members[0]["contribution"], members[0]["guideline"], spans[0]
        is_rule = head["feature"].startswith("rule__")
    else:
        order = sorted(range(len(members)), key=lambda k: -abs(members[k]["contribution"]))
        members, spans = [members[k] for k in order], [spans[k] for k in order]
        rules = [k for k, m in enumerate(members) if m["feature"].startswith("rule__")]
        first = rules[0] if rules else 0
        head, is_rule = members[first], bool(rules)
        net = sum(m["contribution"] for m in members)
        guideline = sum(m["guideline"] for m in members)
        text = list(dict.fromkeys(s for sp in [spans[first], *spans] for s in sp))
    source, note = source_words(is_rule, guideline, net - guideline, head["n_items"])
    return {"feature": head["feature"], "label": head["label"], "value": head["value"], "contribution": net,
            "evidence": quoted(row, text), "guideline": guideline, "letters": net - guideline,
            "n_items": head["n_items"], "source": source, "note": note,
            "parts": [{k: m[k] for k in PART_KEYS} for m in members]}


def findings(row: dict, parts: list[dict], spans: list[list[Span]]) -> list[dict]:
    """A request's contributions as findings, the largest net effect first.

    Parameters
    ----------
    row : dict
        The request.
    parts : list of dict
        Its contributions (see `finding`).
    spans : list of list of (str, int, int)
        The text behind each contribution (`imr_ml.scoring.evidence.evidence_spans`).

    Returns
    -------
    list of dict
        One `finding` per group of contributions quoting overlapping text.
    """
    out = [finding(row, [parts[i] for i in g], [spans[i] for i in g]) for g in _groups(spans)]
    out.sort(key=lambda f: -abs(f["contribution"]))
    return out


def counted_both_ways(lines: list[dict], min_contribution: float = DISAGREE) -> list[tuple[str, str]]:
    """The pairs of lines (contributions or findings) that count the same evidence both
    ways: they quote overlapping text (same field, overlapping characters) with opposite
    signs, each at least `min_contribution` in log-odds. What one finding, one line prevents.

    Parameters
    ----------
    lines : list of dict
        ``feature``, ``contribution`` and ``evidence`` (quoted spans) of each line.
    min_contribution : float
        The smallest contribution that counts.

    Returns
    -------
    list of (str, str)
        The two features of each such pair, sorted.
    """
    big = [c for c in lines if abs(c["contribution"]) >= min_contribution and c["evidence"]]
    return [(min(a["feature"], b["feature"]), max(a["feature"], b["feature"]))
            for i, a in enumerate(big) for b in big[i + 1:]
            if a["contribution"] * b["contribution"] < 0 and _overlap(a["evidence"], b["evidence"])]


def _overlap(a: list[dict], b: list[dict]) -> bool:
    return any(x["field"] == y["field"] and x["start"] < y["end"] and y["start"] < x["end"] for x in a for y in b)
