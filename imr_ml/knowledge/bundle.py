"""The set of knowledge files one model reads, by path.

A model scores, explains and hints with the files it was trained with: the shipped ones for
the built-in model, the copies saved inside its directory for a trained one
(`imr_ml.modeling.modelfiles.knowledge_files`). Passing this one object keeps the five in step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# The files a model reads when it scores, explains and hints, by the field that holds their
# path (and the parameter of `imr_ml.featurize.SignalFeatures` for all but the hints).
MODEL_FILES = {"signals": "signals.toml", "taxonomy": "taxonomy.toml", "guidelines": "guidelines.toml",
               "hints": "hints.toml", "criteria": "criteria.toml"}


@dataclass(frozen=True)
class Knowledge:
    """Paths of a model's knowledge files; None is the file shipped in `features/`.

    Parameters
    ----------
    signals, taxonomy, guidelines, hints, criteria : str or None
        `signals.toml`, `taxonomy.toml`, `guidelines.toml`, `hints.toml`, `criteria.toml`.
    """

    signals: str | None = None
    taxonomy: str | None = None
    guidelines: str | None = None
    hints: str | None = None
    criteria: str | None = None

    def paths(self) -> dict[str, str | None]:
        """{field: path} of the five files (None: shipped)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


SHIPPED = Knowledge()
