import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_PDFS = SHARED / "dwc-imr-letters" / "pdf"
REAL_LABELS = SHARED / "dwc-imr-letters" / "labels.jsonl"

needs_real = pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="../shared/data (real letters) is absent")


@pytest.fixture(scope="session")
def real_rows():
    """The real letters, ingested once per test session."""
    if not REAL_PDFS.is_dir():
        pytest.skip("../shared/data (real letters) is absent")
    from imr_ml.ingest import ingest_paths

    rows, skipped = ingest_paths([REAL_PDFS], jobs=2)
    return rows, skipped
