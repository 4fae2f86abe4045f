"""Guideline rules checked against real outcomes: for each rule, the labelled items it fires
on, how many were overturned, that rate with its Wilson interval, and the overturn rate of
the same items' categories in the same corpus (what the category alone would say).

A rule whose items are overturned more often than their categories points up (a positive
strength should); one whose items are overturned less often points down. With a few dozen
items most intervals cover the category rate: the table says so instead of claiming a
direction. Used by `experiments/rule_outcomes.py` and the report's "Rules against outcomes"
section (`imr-ml report --corpus`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from imr_ml.knowledge.guidelines import Guidelines, fired_rules, load_guidelines
from imr_ml.modeling.evaluation.metrics import wilson_interval
from imr_ml.signals import extract_signals
from imr_ml.signals.extract import SignalValues


def fired_per_row(rows: Sequence[dict], guidelines: Guidelines | None = None, signals: str | None = None,
                  taxonomy: str | None = None, criteria: str | None = None) -> list[tuple[str, list[str]]]:
    """(category, names of the rules that fire) of each row, from its pre-decision fields.

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows.
    guidelines : Guidelines, optional
        The rules (default: the shipped `features/guidelines.toml`).
    signals, taxonomy, criteria : str, optional
        The signals, taxonomy and service criteria TOML the rules read (default: the shipped ones).

    Returns
    -------
    list of (str, list of str)
        One entry per row, in order.
    """
    g = guidelines or load_guidelines()
    out = []
    for r in rows:
        values = SignalValues(extract_signals(r, signals, taxonomy, criteria))
        out.append((str(values.get("category")), [rule.name for rule in fired_rules(values, r.get("item") or "", g)]))
    return out


def _direction(rate: float, ci: list[float], base: float) -> str:
    """Which way the items point against their categories' rate, and whether the interval says so."""
    if ci[0] > base:
        return "up (interval above)"
    if ci[1] < base:
        return "down (interval below)"
    return "up" if rate > base else "down" if rate < base else "level"


def rule_outcomes(rows: Sequence[dict], labels: Sequence[int], guidelines: Guidelines | None = None,
                  signals: str | None = None, taxonomy: str | None = None, criteria: str | None = None) -> dict:
    """Per rule: items fired on, overturned, rate [95% Wilson], the categories' rate, agreement.

    Parameters
    ----------
    rows : sequence of dict
        Labelled corpus rows (pre-decision fields are all that is read).
    labels : sequence of int
        1 = overturned, 0 = upheld, one per row.
    guidelines : Guidelines, optional
        The rules (default: the shipped file).
    signals, taxonomy, criteria : str, optional
        The signals, taxonomy and criteria TOML the rules read (a model's own copies; default: shipped).

    Returns
    -------
    dict
        ``{"n_items", "n_overturned", "rules": [...], "headline": {...}}``; each rule row has
        ``rule, label, strength, n_items, n_overturned, rate, rate_ci, category_rate,
        observed, agrees`` (``agrees`` is None for a rule that fired on nothing, or on items
        overturned exactly as often as their categories).
    """
    g = guidelines or load_guidelines()
    fired = fired_per_row(rows, g, signals, taxonomy, criteria)
    n_cat = Counter(c for c, _ in fired)
    over_cat = Counter(c for (c, _), y in zip(fired, labels) if y)
    cat_rate = {c: over_cat[c] / n for c, n in n_cat.items()}
    table = []
    for rule in g.rules:
        hits = [(c, y) for (c, names), y in zip(fired, labels) if rule.name in names]
        n, k = len(hits), sum(y for _, y in hits)
        row = {"rule": rule.name, "label": rule.label, "strength": rule.strength, "n_items": n, "n_overturned": k,
               "rate": None, "rate_ci": None, "category_rate": None, "observed": None, "agrees": None}
        if n:
            rate, ci = k / n, [round(v, 4) for v in wilson_interval(k, n)]
            base = sum(cat_rate[c] for c, _ in hits) / n
            observed = _direction(rate, ci, base)
            agrees = None if observed == "level" else observed.startswith("up" if rule.strength > 0 else "down")
            row.update(rate=round(rate, 4), rate_ci=ci, category_rate=round(base, 4), observed=observed, agrees=agrees)
        table.append(row)
    return {"n_items": len(fired), "n_overturned": int(sum(labels)), "rules": table, "headline": headline(table)}


def headline(table: Sequence[dict]) -> dict:
    """How many rules fired, how many point the rule's way or against it, and which are clearly
    against it.

    Parameters
    ----------
    table : sequence of dict
        Rows of `rule_outcomes`.

    Returns
    -------
    dict
        ``n_rules, n_fired, n_agree, n_against, n_level, clearly_against`` (rule names whose
        interval excludes the category rate on the wrong side).
    """
    live = [r for r in table if r["n_items"]]
    against = [r for r in live if r["agrees"] is False]
    agree = [r for r in live if r["agrees"]]
    return {"n_rules": len(table), "n_fired": len(live), "n_agree": len(agree), "n_against": len(against),
            "n_level": len(live) - len(agree) - len(against),
            "clearly_against": [r["rule"] for r in against if "interval" in r["observed"]]}


def category_rate_rules(fired: Sequence[tuple[str, list[str]]], min_items: int = 5) -> list[tuple[str, str, int]]:
    """Rules that fire on every item of a category: a category rate in disguise.

    A rule should read a documented finding or its absence; one that fires on all of a
    category's items (of at least `min_items`) says nothing the taxonomy's rate does not.

    Parameters
    ----------
    fired : sequence of (str, list of str)
        `fired_per_row`'s output: each item's category and the rules that fire on it.
    min_items : int
        Categories with fewer items are not judged.

    Returns
    -------
    list of (str, str, int)
        (rule, category, items of the category) for each rule firing on all of them.
    """
    items = Counter(cat for cat, _ in fired)
    hits = Counter((name, cat) for cat, names in fired for name in set(names))
    return sorted((name, cat, items[cat]) for (name, cat), k in hits.items()
                  if k == items[cat] and items[cat] >= min_items)
