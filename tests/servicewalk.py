"""The service walk's classes (`experiments/service_walk.py` WALK) for the criteria tests: every
class's typed item, so a criterion's scope can be checked against all the services it must not
reach. The experiment is a script, not a module of the package: it is loaded from its file."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

WALK_FILE = Path(__file__).resolve().parents[1] / "experiments" / "service_walk.py"


@lru_cache(maxsize=1)
def service_walk() -> tuple[tuple[str, str, str, str], ...]:
    """(chapter, service class, item as typed, decisive finding) of every class of the walk."""
    spec = importlib.util.spec_from_file_location("service_walk", WALK_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.WALK)
