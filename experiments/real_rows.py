"""The real letters' rows for the knowledge experiments, each with its half.

    from real_rows import load_rows
    rows = load_rows()            # ingest ../shared/data/dwc-imr-letters/pdf once per call
    rows[0]["half"]               # "A" or "B" (experiments/halves.py)

The rows stay in memory: nothing of the letters is written into the project.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from halves import half  # noqa: E402

# ../shared beside the checkout (as the tests expect it), else the machine's shared folder
LETTERS = next((p for p in (HERE.parent.parent / "shared" / "data" / "dwc-imr-letters" / "pdf",
                            Path("/work/shared/data/dwc-imr-letters/pdf")) if p.is_dir()),
               HERE.parent.parent / "shared" / "data" / "dwc-imr-letters" / "pdf")


def load_rows(letters: Path = LETTERS) -> list[dict]:
    """Every disputed item of the real letters, labelled, with `half` set."""
    from imr_ml.letters.ingest import ingest_paths
    from imr_ml.modeling.training.data import canonical_rows

    rows, _ = ingest_paths([letters], jobs=2)
    return [{**r, "half": half(str(r["letter_id"]))} for r in canonical_rows(rows)]
