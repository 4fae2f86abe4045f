"""Explained results: what `imr-ml explain`, its HTML page, the web app's form and
`/v1/explain` show for a request: its score, every contribution grouped, the waterfall from
the baseline to its P, and the inputs its evidence offsets point into."""

from __future__ import annotations

from collections.abc import Callable

from imr_ml.reporting.result_view import waterfall
from imr_ml.schema import PRE_DECISION
from imr_ml.scoring.score import explainer, grouped_contributions, score_rows

EXPLAINED_REASONS = 10  # reasons kept per result; the page and the terminal show the largest


def explain_rows(loaded, rows: list[dict], progress: Callable | None = None) -> list[dict]:
    """Each row scored (`imr_ml.scoring.result.ExplainResult`), with its ``inputs``, its
    contributions grouped under ``explanation`` and its ``waterfall``.

    Parameters
    ----------
    loaded : LoadedModel
        The model.
    rows : list of dict
        Requests or corpus rows.
    progress : callable or None
        ``progress(done)`` hears how many rows are scored so far.

    Returns
    -------
    list of dict
        One explained result per row, in order.
    """
    calibrate = explainer(loaded).model.calibrate
    out = []
    for row, scored in zip(rows, score_rows(loaded, rows, top=EXPLAINED_REASONS, progress=progress)):
        inputs = {k: None if isinstance(v, float) and v != v else v for k in PRE_DECISION for v in [row.get(k)]}
        out.append(scored | {"inputs": inputs, "explanation": grouped_contributions(scored),
                             "waterfall": [] if scored["abstained"] else waterfall(scored, calibrate)})
    return out
