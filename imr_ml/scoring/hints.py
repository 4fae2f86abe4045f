"""Missing-documentation hints: plain-words advice a provider can act on before
submitting, from the request's own signals and `features/hints.toml`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from imr_ml.knowledge.taxonomy import condition, load_taxonomy, load_toml
from imr_ml.text.anycase import AnyCase


@lru_cache(maxsize=4)
def load_hints(path: str | None = None) -> tuple[dict, ...]:
    return tuple(load_toml("hints.toml", path)["hint"])


@lru_cache(maxsize=256)
def _rules_for(category, path: str | None) -> tuple:
    """((conditions, item pattern or None, text), ...) of the hints whose category condition
    (if any) holds for `category`, their other conditions as predicates and their `item`
    regex compiled once: most hints name categories, so a request is tested against the few
    that can apply to it."""
    out = []
    for hint in load_hints(path):
        tests = {name: condition(cond) for name, cond in hint["when"].items()}
        if "category" in tests and not tests.pop("category")(category):
            continue
        out.append((tuple(tests.items()), AnyCase(hint["item"]) if hint.get("item") else None, hint["text"]))
    return tuple(out)


@lru_cache(maxsize=4)
def _labels(taxonomy: str | None = None) -> dict[str, str]:
    return {c.name: c.label.lower() for c in load_taxonomy(taxonomy)}


def hints_for(values: Mapping, path: str | None = None, taxonomy: str | None = None, item: str = "") -> list[str]:
    """The missing-documentation hints whose conditions all hold for a request.

    Parameters
    ----------
    values : Mapping
        Signal names (and ``category``) to the request's values; a signal it lacks counts as
        not fired / zero.
    path : str or None
        The model's or user's hints TOML, or None for the shipped `features/hints.toml`.
    taxonomy : str or None
        The taxonomy TOML whose labels fill ``{category_label}`` (None: the shipped one).
    item : str
        The requested item's text, for hints that name a kind of item (`item = '...'`);
        such a hint is not shown without it.

    Returns
    -------
    list of str
        The hints, in the file's order, with their ``{placeholders}`` filled in.
    """
    out = []
    for conditions, pattern, text in _rules_for(values.get("category"), path):
        if pattern is not None and pattern.search(item or "") is None:
            continue
        if all(test(values.get(name)) for name, test in conditions):
            out.append(re.sub(r"\{(\w+)\}", lambda m: _fill(values, m.group(1), taxonomy), text))
    return out


def _fill(values: Mapping, name: str, taxonomy: str | None) -> str:
    if name == "category_label":
        return _labels(taxonomy).get(str(values.get("category")), "treatment")
    v = values.get(name)
    if v is None and name not in values:
        return "?"
    return str(int(v) if isinstance(v, float) and v.is_integer() else v)
