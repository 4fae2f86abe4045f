"""A model as loaded for use, and the software versions a model records.

Apart from `modelio` (the files) so that the built-in model, which has no files, can be
loaded in the same shape without importing the file machinery.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy
import pandas
import scipy
import sklearn
import skops

from imr_ml.knowledge.bundle import SHIPPED, Knowledge


def environment() -> dict[str, str]:
    """Versions that decide whether a saved model can be trusted to load and behave.

    Returns
    -------
    dict
        Package name -> version, imr-ml and Python included.
    """
    return {
        "imr_ml": version("imr-ml"),
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "skops": skops.__version__,
    }


@dataclass
class LoadedModel:
    """A model ready to score, with what its directory says about it.

    Parameters
    ----------
    model : estimator
        The fitted (calibrated) model.
    manifest : dict
        The model directory's manifest (`imr_ml.modeling.modelfiles.modelio`).
    path : pathlib.Path
        Where it was loaded from (``builtin`` for the built-in model).
    baselines : dict
        Fitted baseline estimators by name, when loaded with them.
    tables : dict
        The table baselines, when loaded with them.
    knowledge : Knowledge
        The knowledge files it reads: the copies in its directory (`SHIPPED` for the
        built-in model). Scoring, explanations, hints and reports read these.
    precedents : object or None
        Its index of past decisions once opened (`imr_ml.modeling.modelfiles.precedent_files`).
    version : pathlib.Path or None
        The folder its files were read from (the version that was current); None: `path`.
    """

    model: Any
    manifest: dict
    path: Path
    baselines: dict[str, Any] = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    knowledge: Knowledge = SHIPPED
    precedents: Any = None
    version: Path | None = None

    @property
    def files(self) -> Path:
        """The folder holding the model's files: later reads (the CV predictions) come from the
        version loaded, even if another has been made current since.

        Returns
        -------
        pathlib.Path
            `version`, else `path`.
        """
        return self.version or self.path
