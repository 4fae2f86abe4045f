"""Missing-documentation hints: plain-words advice a provider can act on before
submitting, from the request's own signals and `features/hints.toml`."""

from __future__ import annotations

import re
from functools import lru_cache

from imr_ml.knowledge import load_taxonomy, load_toml

_NUMERIC = re.compile(r"^\s*([<>=])\s*(-?\d+(?:\.\d+)?)\s*$")


@lru_cache(maxsize=4)
def load_hints(path: str | None = None) -> tuple[dict, ...]:
    return tuple(load_toml("hints.toml", path)["hint"])


def _holds(cond, value) -> bool:
    if isinstance(cond, bool):
        return bool(value) is cond
    if isinstance(cond, list):
        return value in cond
    m = _NUMERIC.match(str(cond))
    if not m:
        return str(value) == str(cond)
    op, num = m.group(1), float(m.group(2))
    v = float(value or 0)
    return {"<": v < num, ">": v > num, "=": v == num}[op]


def hints_for(values: dict, path: str | None = None) -> list[str]:
    """Hints whose conditions all hold. `values` maps signal names (and `category`) to the
    request's values; a signal it lacks counts as not fired / zero."""
    labels = {c.name: c.label.lower() for c in load_taxonomy()}
    fill = {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in values.items()}
    fill["category_label"] = labels.get(values.get("category"), "treatment")
    out = []
    for hint in load_hints(path):
        if all(_holds(cond, values.get(name)) for name, cond in hint["when"].items()):
            out.append(re.sub(r"\{(\w+)\}", lambda m: str(fill.get(m.group(1), "?")), hint["text"]))
    return out
