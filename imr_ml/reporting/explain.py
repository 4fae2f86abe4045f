"""Explained results: what `imr-ml explain`, its HTML page and the web app's form show for a
request (its probability, every contribution grouped, the hints) beside its clinical text."""

from __future__ import annotations

from collections.abc import Callable

from imr_ml.scoring.score import grouped_contributions, score_rows

EXPLAINED_REASONS = 10  # reasons kept per result; the page and the terminal show the largest


def explain_rows(loaded, rows: list[dict], progress: Callable | None = None) -> list[dict]:
    """Each row scored, with its `summary` (so the evidence can be highlighted in it) and its
    contributions grouped under `explanation`; `progress(done)` hears how many rows are
    scored so far."""
    return [scored | {"summary": row.get("summary"), "explanation": grouped_contributions(scored)}
            for row, scored in zip(rows, score_rows(loaded, rows, top=EXPLAINED_REASONS, progress=progress))]
