"""Domain knowledge kept as data in `features/` (TOML a clinician can read and extend).

The files ship inside the wheel as the `imr_ml.domain` package; a user may point to
their own copy of any of them instead.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path


def load_toml(name: str, path: str | Path | None = None) -> dict:
    """Read `features/<name>` (or the user's `path`), as a dict."""
    if path is not None:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    with resources.files("imr_ml.domain").joinpath(name).open("rb") as fh:
        return tomllib.load(fh)


def lower_pattern(p: str) -> str:
    """Lower-case a regex's literal letters, leaving escapes (\\b, \\d, \\W ...) alone."""
    return re.sub(r"\\.|\(\?P[<=]|[A-Z]", lambda m: m.group() if len(m.group()) > 1 else m.group().lower(), p)


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    pattern: re.Pattern
    guideline: str
    uphold_prior: float
    n_prior: int
    examples: tuple[str, ...]
    folded: re.Pattern  # `pattern` lower-cased, without IGNORECASE: for lower-cased ASCII text


@lru_cache(maxsize=8)
def load_taxonomy(path: str | None = None) -> tuple[Category, ...]:
    """Categories in match order (first match wins)."""
    data = load_toml("taxonomy.toml", path)
    return tuple(
        Category(
            name=c["name"],
            label=c["label"],
            pattern=re.compile("|".join(f"(?:{t})" for t in c["terms"]), re.IGNORECASE),
            guideline=c.get("guideline", ""),
            uphold_prior=float(c["uphold_prior"]),
            n_prior=int(c.get("n_prior", 20)),
            examples=tuple(c.get("examples", ())),
            folded=re.compile(lower_pattern("|".join(f"(?:{t})" for t in c["terms"]))),
        )
        for c in data["category"]
    )


@lru_cache(maxsize=8192)
def categorize(item: str, path: str | None = None) -> str:
    """The treatment category of a disputed item's text (remembered: items repeat).

    ASCII text is lower-cased and searched without IGNORECASE (the same matches, about twice
    as fast); other text keeps the case-insensitive search, whose Unicode folding differs.
    """
    item = item or ""
    fold = item.isascii()
    text = item.lower() if fold else item
    for cat in load_taxonomy(path):
        if (cat.folded if fold else cat.pattern).search(text):
            return cat.name
    return "other"
