"""Reading the knowledge files of `features/` (shipped inside the wheel as `imr_ml.domain`)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path


def load_toml(name: str, path: str | Path | None = None) -> dict:
    """Read `features/<name>` (or the user's `path`), as a dict."""
    if path is not None:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    with resources.files("imr_ml.domain").joinpath(name).open("rb") as fh:
        return tomllib.load(fh)
