"""The Python API: `imr_ml.load_model(path or "builtin")` and a small `Model` to score and
explain requests from code, as `imr-ml score` and `imr-ml explain` do, and to find the past
decisions most like them (`similar`) or search its index of past decisions (`search`), as
`imr-ml similar` and `imr-ml search` do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.modeling.modelfiles.precedent_files import open_precedents
from imr_ml.precedents.search import Filters, search
from imr_ml.reporting.explain import explain_rows
from imr_ml.schema import is_missing
from imr_ml.scoring.operating import threshold
from imr_ml.scoring.precedents import DEFAULT_TOP, precedents_section, with_precedents
from imr_ml.scoring.requests_io import CSV_FIELDS, RequestError, request_rows
from imr_ml.scoring.results_io import check_id_name, named_id
from imr_ml.scoring.score import score_rows


class Model:
    """A loaded model. `score` and `explain` take one request (a dict with at least
    `summary` and `item`), a list of them, or a DataFrame (then they return one). Columns
    named otherwise are mapped with `columns={"summary": "Notes", "item": "Treatment"}`;
    `id_col` names a column passed through to every result under its own name. Requests
    that cannot be read (no summary or item column, a date that is no day) raise
    `imr_ml.scoring.requests_io.RequestError` (a ValueError) with the line `imr-ml score`
    prints. Each result is an `imr_ml.scoring.result.ScoreResult` (`explain`: an
    `ExplainResult`), the shape every output of imr-ml has."""

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

    def score(self, requests: Any, top: int = 5, columns: dict[str, str] | None = None, id_col: str | None = None,
              similar: int = 0):
        """P(overturned) in numbers and words, interval, verdict, flag, reasons, checklist,
        hints and warnings per request; `similar=K` adds each request's K most similar past
        decisions (``precedents``, as `similar` returns them; a model without an index says
        why there)."""
        rows, frame = _rows(requests, columns, id_col)
        results = self._with_precedents(rows, score_rows(self._loaded, rows, top=top), similar)
        return _shaped([named_id(r, id_col) for r in results], frame)

    def explain(self, requests: Any, columns: dict[str, str] | None = None, id_col: str | None = None,
                similar: int = 0):
        """`score` with the inputs, every contribution grouped (guideline rules, signals,
        fields, ...) and the waterfall from the baseline to P, as `imr-ml explain` gives them."""
        rows, frame = _rows(requests, columns, id_col)
        results = self._with_precedents(rows, explain_rows(self._loaded, rows), similar)
        return _shaped([named_id(r, id_col) for r in results], frame)

    def _with_precedents(self, rows: list[dict], results, top: int):
        return with_precedents(self._loaded, rows, results, top) if top else results

    def similar(self, requests: Any, top: int = DEFAULT_TOP, columns: dict[str, str] | None = None,
                id_col: str | None = None) -> list[dict]:
        """The `top` past decisions most like each request (same service, body region and
        findings first, then words), each with why it matched and its outcome, and the share
        of them overturned. Raises `imr_ml.modeling.modelfiles.precedent_files.NoPrecedents` (a
        ValueError) for a model without an index (the built-in model holds no letters)."""
        index = open_precedents(self._loaded)
        rows, _ = _rows(requests, columns, id_col)
        return [named_id({k: r[k] for k in ("id",) if k in r} | precedents_section(index, r, top), id_col)
                for r in rows]

    def search(self, text: str = "", page: int = 1, per_page: int = 10, **filters: str | None) -> dict:
        """A page of the past decisions in the model's index whose item, summary or cited
        guideline hold the words of `text`, best first; `filters` are `outcome`, `category`,
        `region`, `since` and `until` (as `imr-ml search` takes them)."""
        return search(open_precedents(self._loaded), text, Filters(**filters), page, per_page)


def load_model(path: str = "builtin", precedents: str | None = None) -> Model:
    """A model directory written by `imr-ml train`, or "builtin"; raises
    `imr_ml.modeling.modelfiles.modelio.ModelLoadError` with a one-line reason. `precedents` names an
    index folder (`imr-ml index`) whose past decisions the model shows instead of its own
    (the built-in model has none)."""
    loaded = load_model_dir(path)
    if precedents is not None:
        loaded.precedents = open_precedents(precedents)
    return Model(loaded)


API_MAPPING = ("map yours with columns={'summary': COL, 'item': COL}", "id_col")


def _rows(requests: Any, columns: dict[str, str] | None, id_col: str | None) -> tuple[list[dict], bool]:
    """Requests as rows, read as `imr-ml score` reads a CSV's (the same fields, the same
    errors), and whether they came as a DataFrame."""
    frame = hasattr(requests, "to_dict") and hasattr(requests, "columns")
    if frame:
        records, header, source = requests.to_dict("records"), [str(c) for c in requests.columns], "the DataFrame"
    else:
        records = [requests] if isinstance(requests, Mapping) else list(requests)
        if not all(isinstance(r, Mapping) for r in records):
            raise RequestError("requests must be dicts (or a DataFrame) with summary and item")
        header, source = list(dict.fromkeys(k for r in records for k in r)), "requests"
    check_id_name(id_col, "id_col")
    id_col = id_col or ("id" if "id" in header else None)  # an `id` passes through as it is
    names = {f: (columns or {}).get(f, f) for f in CSV_FIELDS}
    rows = request_rows(records, header, source, names, id_col, API_MAPPING)
    for row, rec in zip(rows, records):  # a letter's item keeps its place (backtests from code)
        row |= {k: rec[k] for k in ("letter_id", "item_index") if k in rec and not is_missing(rec[k])}
    return rows, frame


def _shaped(results: list[dict], frame: bool):
    """The results as they came: a DataFrame for a DataFrame, else a list."""
    return pd.DataFrame(results) if frame else results
