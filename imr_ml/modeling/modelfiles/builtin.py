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

from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.evaluation.operating_point import fallback_threshold
from imr_ml.modeling.modelfiles.loaded import LoadedModel, environment
from imr_ml.textio import atomic_write_text

BUILTIN = "builtin"
BUILTIN_KIND = "imr-ml built-in model"
# DWC, "2017 IMR Report: Analysis of 2016 Data" and "2018 IMR Report: Analysis of 2017 Data":
# 8.4% and 8.3% of decisions overturned (shared/data/published-imr-rates.md).
PUBLISHED_OVERTURN_RATE = 0.084


def is_builtin(spec: object) -> bool:
    """Whether a model argument names the built-in model.

    Parameters
    ----------
    spec : object
        What the user gave as the model (a path or a word).

    Returns
    -------
    bool
        True for the word `builtin`, unless a folder of that name is there.
    """
    return str(spec) == BUILTIN and not Path(BUILTIN).is_dir()


def _example_rows() -> list[dict]:
    """One row per taxonomy example: the feature step's structure is fixed by the knowledge
    files, so what it is fitted on does not matter; these rows only satisfy `fit`."""
    items = [e for c in load_taxonomy() for e in c.examples] or ["Acupuncture x6"]
    return [{"summary": "", "item": item} for item in items]


@lru_cache(maxsize=1)
def builtin_pipeline():
    """The built-in model's pipeline, fitted once per process (nothing is learnt: see the module).

    Returns
    -------
    sklearn.pipeline.Pipeline
        `build_pipeline(knowledge_only=True)`, fitted on the taxonomy's examples.
    """
    rows = _example_rows()
    y = np.arange(len(rows)) % 2  # ignored: knowledge_only learns nothing
    return build_pipeline(knowledge_only=True).fit(pd.DataFrame(rows), y)


def builtin_manifest(pipe) -> dict:
    """What the built-in model is, in the shape of a trained model's manifest.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        `builtin_pipeline()`.

    Returns
    -------
    dict
        The manifest.
    """
    names = [str(n) for n in pipe[:-1].get_feature_names_out()]
    env = environment()
    return {
        "kind": BUILTIN_KIND,
        "imr_ml_version": env["imr_ml"],
        "versions": env,
        "created_unix": int(time.time()),
        "data": {"n_letters": 0, "n_items": 0, "n_overturned": 0, "base_rate": PUBLISHED_OVERTURN_RATE,
                 "fingerprint_sha256": None, "letter_hashes": []},
        "features": {"n_features": len(names), "names": names},
        "procedure": "knowledge only: published category rates (features/taxonomy.toml) moved by the "
                     "guideline rules (features/guidelines.toml); nothing fitted on letters",
        "rules": [{"name": r.name, "label": r.label, "strength": r.strength, "citation": r.citation}
                  for r in load_guidelines().rules],
        "calibration": {"method": "none", "fitted_on": None},
        "threshold": {"value": fallback_threshold(PUBLISHED_OVERTURN_RATE),
                      "method": "twice the published 2016-17 overturn rate (8.4%, DWC): no letters to choose it on",
                      "operating_point": None},
        "cv": None,
    }


def load_builtin() -> LoadedModel:
    """The built-in model as `load_model_dir` returns a model.

    Returns
    -------
    LoadedModel
        The pipeline and its manifest.
    """
    pipe = builtin_pipeline()
    return LoadedModel(model=pipe, manifest=builtin_manifest(pipe), path=Path(BUILTIN))


def builtin_card() -> str:
    """The built-in model's card: what it is, what it knows and from where, what it cannot know.

    Returns
    -------
    str
        Markdown, as `models/builtin/MODEL_CARD.md` holds it.
    """
    lines = [
        "# The built-in guideline model: model card",
        "",
        "`imr-ml score builtin ...` (also `explain`, `report`, the demo). Generated from "
        "`features/guidelines.toml` and `features/taxonomy.toml` by `python -m imr_ml.modeling.modelfiles.builtin`.",
        "",
        "## What it is",
        "",
        "Logistic regression whose every coefficient is a prior, none fitted on any letter: "
        "log-odds of an overturn = logit(the item category's overturn rate) + the strengths of the guideline "
        "rules that apply to the request. Clinical signals and fields that no rule reads have weight 0. The "
        "interval around P comes from the prior widths (`sd` of each rule, `[prior]` for the rest). A request is "
        f"flagged \u201cbetter chance than most\u201d from P = {fallback_threshold(PUBLISHED_OVERTURN_RATE):.3f}, "
        "twice the 2016-17 statewide overturn rate (8.4%, DWC): there are no letters to choose a threshold on, "
        "and how often flagged requests are overturned has not been measured (see "
        "`experiments/operating_point.md` for the rules' letters). A request is called likely overturned only "
        "from P = 0.5.",
        "",
        "## What it knows: category overturn rates",
        "",
        "| category | overturn rate | source |", "|---|---|---|",
    ]
    lines += [f"| {c.label} | {c.overturn_rate:.0%} | {c.uphold_source} |" for c in load_taxonomy()]
    lines += ["", "## What it knows: guideline rules", "",
              "| rule | strength (log-odds) | sd | direction fixed | citation |", "|---|---|---|---|---|"]
    lines += [f"| {r.label} | {r.strength:+.1f} | {r.sd:.1f} | {'yes' if r.fixed_sign else 'no'} | {r.citation} |"
              for r in load_guidelines().rules]
    lines += [
        "",
        "## What it cannot know",
        "",
        "- How reviewers weigh the rules against each other: the strengths are judgements from the guideline "
        "text, not estimates. `imr-ml train` updates them from your letters, and its model card shows by how much.",
        "- Anything the signals do not read: a finding written in words no pattern catches counts as absent.",
        "- Facts outside the request: the reviewer, the records attached, how the request was argued.",
        "- Most category rates are assumed (no figure was published for them); the overall 2016-17 rate is "
        "about 8.4% overturned.",
        "- It has not been measured on letters it was not developed with; see `experiments/knowledge_vs_data.md`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    atomic_write_text(builtin_card(), Path(__file__).resolve().parents[3] / "models" / "builtin" / "MODEL_CARD.md")
