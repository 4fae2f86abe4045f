"""The built-in model: guideline knowledge and published outcome rates, no letter needed.

It is the knowledge-only model (`build_pipeline(knowledge_only=True)`): the published or
assumed overturn rate of the request's treatment category (`features/taxonomy.toml`), moved by
the guideline rules that apply to the request (`features/guidelines.toml`). No parameter is
fitted on any letter, so it is rebuilt from those files when loaded: nothing binary ships,
and no scikit-learn version can make it unloadable.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

BUILTIN = "builtin"
# DWC, "2017 IMR Report: Analysis of 2016 Data" and "2018 IMR Report: Analysis of 2017 Data":
# 8.4% and 8.3% of decisions overturned (shared/data/published-imr-rates.md).
PUBLISHED_OVERTURN_RATE = 0.084


def is_builtin(spec) -> bool:
    """Whether a model argument names the built-in model (the word `builtin`, unless a
    folder of that name is there)."""
    return str(spec) == BUILTIN and not Path(BUILTIN).is_dir()


def _example_rows() -> list[dict]:
    """One row per taxonomy example: the feature step's structure is fixed by the knowledge
    files, so what it is fitted on does not matter; these rows only satisfy `fit`."""
    from imr_ml.knowledge import load_taxonomy

    items = [e for c in load_taxonomy() for e in c.examples] or ["Acupuncture x6"]
    return [{"summary": "", "item": item} for item in items]


@lru_cache(maxsize=1)
def builtin_pipeline():
    from imr_ml.features import build_pipeline

    rows = _example_rows()
    y = np.arange(len(rows)) % 2  # ignored: knowledge_only learns nothing
    return build_pipeline(knowledge_only=True).fit(pd.DataFrame(rows), y)


def builtin_manifest(pipe) -> dict:
    """What the built-in model is, in the shape of a trained model's manifest."""
    import imr_ml
    from imr_ml.guidelines import load_guidelines
    from imr_ml.modelio import environment

    names = [str(n) for n in pipe[:-1].get_feature_names_out()]
    return {
        "kind": "imr-ml built-in model",
        "imr_ml_version": imr_ml.__version__,
        "versions": environment(),
        "created_unix": int(time.time()),
        "data": {"n_letters": 0, "n_items": 0, "n_overturned": 0, "base_rate": PUBLISHED_OVERTURN_RATE,
                 "fingerprint_sha256": None, "letter_hashes": []},
        "features": {"n_features": len(names), "names": names},
        "procedure": "knowledge only: published category rates (features/taxonomy.toml) moved by the "
                     "guideline rules (features/guidelines.toml); nothing fitted on letters",
        "rules": [{"name": r.name, "label": r.label, "strength": r.strength, "citation": r.citation}
                  for r in load_guidelines().rules],
        "calibration": {"method": "none", "fitted_on": None},
        "threshold": {"value": 2 * PUBLISHED_OVERTURN_RATE,
                      "method": "twice the published 2016-17 overturn rate (8.4%, DWC): no letters to choose it on"},
        "cv": None,
    }


def load_builtin():
    """The built-in model as a `LoadedModel` (what `load_model_dir` returns)."""
    from imr_ml.modelio import LoadedModel

    pipe = builtin_pipeline()
    return LoadedModel(model=pipe, manifest=builtin_manifest(pipe), path=Path(BUILTIN))
