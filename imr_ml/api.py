"""The Python API: `imr_ml.load_model(path or "builtin")` and a small `Model` to score and
explain requests from code, as `imr-ml score` and `imr-ml explain` do."""

from __future__ import annotations

from typing import Any

import pandas as pd

from imr_ml.modeling.modelio import load_model_dir
from imr_ml.reporting.explain import explain_rows
from imr_ml.scoring.score import request_row, score_rows, threshold


class Model:
    """A loaded model. `score` and `explain` take one request (a dict with at least
    `summary` and `item`), a list of them, or a DataFrame (then they return one). Each result
    is an `imr_ml.scoring.result.ScoreResult` (`explain`: an `ExplainResult`), the shape every
    output of imr-ml has."""

    def __init__(self, loaded) -> None:
        self._loaded = loaded

    @property
    def manifest(self) -> dict:
        """What the model is, what it was trained on and how it scored (manifest.json)."""
        return self._loaded.manifest

    @property
    def threshold(self) -> float:
        """The P from which the model flags a request "better chance than most" (not a verdict:
        "likely overturned" needs P >= 0.5)."""
        return threshold(self._loaded)

    def score(self, requests: Any, top: int = 5):
        """P(overturned) in numbers and words, interval, verdict, flag, reasons, checklist,
        hints and warnings per request."""
        rows, frame = _rows(requests)
        return _shaped(list(score_rows(self._loaded, rows, top=top)), frame)

    def explain(self, requests: Any):
        """`score` with the inputs, every contribution grouped (guideline rules, signals,
        fields, ...) and the waterfall from the baseline to P, as `imr-ml explain` gives them."""
        rows, frame = _rows(requests)
        return _shaped(explain_rows(self._loaded, rows), frame)


def load_model(path: str = "builtin") -> Model:
    """A model directory written by `imr-ml train`, or "builtin"; raises
    `imr_ml.modeling.modelio.ModelLoadError` with a one-line reason."""
    return Model(load_model_dir(path))


def _rows(requests: Any) -> tuple[list[dict], bool]:
    """Requests as rows (fields a letter would give; missing ones empty), and whether they
    came as a DataFrame."""
    frame = hasattr(requests, "to_dict") and hasattr(requests, "columns")
    records = requests.to_dict("records") if frame else [requests] if isinstance(requests, dict) else list(requests)
    rows = []
    for rec in records:
        rec = {k: None if isinstance(v, float) and v != v else v for k, v in rec.items()}  # a frame's blanks are NaN
        row = request_row(rec.get("summary") or "", rec.get("item") or "", rec.get("claims_admin_guideline"),
                          rec.get("date_of_injury"), rec.get("ur_denial_date"), rec.get("other_items") or (),
                          rec.get("ur_decision"), rec.get("ur_reason"))
        rows.append(row | {k: v for k, v in rec.items() if k in ("letter_id", "item_index", "id")})
    return rows, frame


def _shaped(results: list[dict], frame: bool):
    """The results as they came: a DataFrame for a DataFrame, else a list."""
    return pd.DataFrame(results) if frame else results
