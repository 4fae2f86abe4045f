import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_PDFS = SHARED / "dwc-imr-letters" / "pdf"
REAL_LABELS = SHARED / "dwc-imr-letters" / "labels.jsonl"

@pytest.fixture(scope="session")
def real_rows():
    """The real letters, ingested once per test session."""
    if not REAL_PDFS.is_dir():
        pytest.skip("../shared/data (real letters) is absent")
    from imr_ml.letters.ingest import ingest_paths

    rows, skipped = ingest_paths([REAL_PDFS], jobs=2)
    return rows, skipped


@pytest.fixture(scope="session")
def synth_rows():
    """Rows of 400 synthetic letters, parsed by the real reader (the suite's main fixture)."""
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    rows = []
    for lid, text, _ in iter_letters(400, seed=11):
        rows += parse_text(text, f"{lid}.txt")
    return rows


@pytest.fixture(scope="session")
def demo_model(synth_rows, tmp_path_factory):
    """A small model trained on the synthetic rows, saved, and the held-out rows."""
    from imr_ml.demo import split_by_letter
    from imr_ml.modeling.training.train import TrainOptions, save, train

    train_rows, test_rows = split_by_letter(synth_rows)
    out = tmp_path_factory.mktemp("model") / "model"
    save(train(train_rows, TrainOptions(estimate=False, grid=({"prior_weight": 1.0},), n_splits=3)), out)
    return out, test_rows


@pytest.fixture(scope="session")
def cv_model(synth_rows, tmp_path_factory):
    """A model trained with its cross-validated estimate, so cv_predictions.json is saved (and
    its flag's precision and recall are measured)."""
    from imr_ml.demo import split_by_letter
    from imr_ml.modeling.training.train import TrainOptions, save, train

    train_rows, _ = split_by_letter(synth_rows)
    out = tmp_path_factory.mktemp("cv") / "model"
    save(train(train_rows, TrainOptions(grid=({"prior_weight": 1.0},), n_splits=3, baselines=False)), out)
    return out
