import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from imr_ml.featurize import to_frame
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.modelfiles import modelio, modeltrust
from imr_ml.modeling.modelfiles.manifest import seal
from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir, write_model_dir


class NotAllowed:
    """A type that is not in the allow-list (skops would have to construct it on load)."""

    def __init__(self):
        self.x = 1


@pytest.fixture(scope="module")
def rows():
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    return [r for lid, text, _ in iter_letters(40, seed=3) for r in parse_text(text, f"{lid}.txt")]


@pytest.fixture()
def fitted(rows):
    """A calibrated imr-ml pipeline, as `train` makes one, and the frame it scores."""
    X, y = to_frame(rows), np.array([r["label"] for r in rows])
    folds = np.arange(len(rows)) % 3
    model = CalibratedClassifierCV(build_pipeline(), cv=PredefinedSplit(folds), ensemble=False).fit(X, y)
    return model, X


def _baseline(X):
    """Another estimator on the same frame (a baseline's shape)."""
    return build_pipeline(knowledge_only=True).fit(X, np.arange(len(X)) % 2)


def _reseal(d):
    """Seal an edited manifest again, as a careful forger would."""
    (d / "manifest.sha256").write_text(seal((d / "manifest.json").read_bytes()))


def _write(tmp_path, model, **kw):
    return write_model_dir(tmp_path / "m", model=model, manifest={"note": "test"}, **kw)


def test_roundtrip_predicts_identically_and_records_hashes(tmp_path, fitted):
    model, X = fitted
    base = _baseline(X)
    d = _write(tmp_path, model, baselines={"b": base}, tables={"base_rate": 0.1}, card="sha {model_sha256}")
    m = json.loads((d / "manifest.json").read_text())
    assert m["model_sha256"] == hashlib.sha256((d / "model.skops").read_bytes()).hexdigest()
    knowledge = {entry["file"] for entry in m["knowledge"].values()}  # copies of the files it was trained with
    assert set(m["files"]) == {"model.skops", "baselines/b.skops", "baselines/tables.json", *knowledge}
    assert len(knowledge) == 7 and all(rel.startswith("knowledge/") for rel in knowledge)  # + vocabulary, criteria
    assert m["versions"]["scikit-learn"] and m["note"] == "test"
    assert m["model_sha256"] in (d / "MODEL_CARD.md").read_text()
    loaded = load_model_dir(d, with_baselines=True)
    np.testing.assert_array_equal(loaded.model.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.baselines["b"].predict_proba(X), base.predict_proba(X))
    assert loaded.tables == {"base_rate": 0.1}
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp dirs left


def test_overwrite_replaces_and_failed_write_keeps_old(tmp_path, fitted):
    model, X = fitted
    d = _write(tmp_path, model)
    first = (d / "manifest.json").read_text()
    with pytest.raises(ValueError):  # NaN is refused by the JSON writer, midway through
        write_model_dir(d, model=model, manifest={}, tables={"x": float("nan")})
    assert (d / "manifest.json").read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    write_model_dir(d, model=model, manifest={"note": "second"})
    assert json.loads((d / "manifest.json").read_text())["note"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_refuses_other_sklearn_version(tmp_path, fitted):
    d = _write(tmp_path, fitted[0])
    m = json.loads((d / "manifest.json").read_text())
    m["versions"]["scikit-learn"] = "0.24.2"
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelLoadError, match="does not match its seal"):
        load_model_dir(d)
    _reseal(d)
    with pytest.raises(ModelLoadError, match="scikit-learn 0.24.2"):
        load_model_dir(d)


def test_refuses_flipped_byte(tmp_path, fitted):
    d = _write(tmp_path, fitted[0])
    data = bytearray((d / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / "model.skops").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model_dir(d)


def test_refuses_tampered_baseline(tmp_path, fitted):
    model, X = fitted
    d = _write(tmp_path, model, baselines={"b": _baseline(X)})
    with open(d / "baselines" / "b.skops", "ab") as fh:
        fh.write(b"\0")
    load_model_dir(d)  # the model itself is fine
    with pytest.raises(ModelLoadError, match="b.skops"):
        load_model_dir(d, with_baselines=True)


@pytest.mark.parametrize("make", [
    lambda: make_pipeline(FunctionTransformer(os.system), LogisticRegression()),
    lambda: NotAllowed(),
])
def test_refuses_untrusted_types_even_with_valid_hash(tmp_path, make):
    d = _write(tmp_path, make())
    with pytest.raises(ModelLoadError, match="allow-list"):
        load_model_dir(d)


def test_allow_list_rules():
    # scikit-learn's estimators are trusted by skops itself; the list adds exact names only
    assert not modelio.is_allowed_type("sklearn.linear_model._logistic.LogisticRegression")
    assert modelio.is_allowed_type("sklearn.model_selection._split.PredefinedSplit")
    assert modelio.is_allowed_type("imr_ml.featurize.text.TextFeatures")
    assert not modelio.is_allowed_type("imr_ml.featurize.frame.to_frame")  # not an estimator class
    assert not modelio.is_allowed_type("imr_ml.__main__.main")
    assert not modelio.is_allowed_type("sklearn.utils.deprecated")  # not an estimator class
    assert not modelio.is_allowed_type("posix.system")
    assert not modelio.is_allowed_type("builtins.eval")
    assert not modelio.is_allowed_type("imr_ml.no_such_module.Thing")


def _saved_before_the_move(data: bytes) -> bytes:
    """The skops file as imr-ml wrote it while the estimator lived in `imr_ml.modeling.prior_lr`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            member = z.read(info)
            if info.filename == "schema.json":
                member = member.replace(b'"imr_ml.modeling.estimator.prior_lr"', b'"imr_ml.modeling.prior_lr"')
            w.writestr(info, member)
    return out.getvalue()


def test_a_file_saved_before_the_estimator_moved_loads(fitted):
    model, X = fitted
    data = modeltrust.dumps(model)
    old = _saved_before_the_move(data)
    assert b'"imr_ml.modeling.prior_lr"' in old and b'"imr_ml.modeling.estimator.prior_lr"' not in old
    loaded = modeltrust.load_trusted(old)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert modeltrust.renamed(data) is data  # a current file is read as it is
    # the old name is read as the new one, and trusted for nothing else
    assert not modelio.is_allowed_type("imr_ml.modeling.prior_lr.PriorLogisticRegression")


def test_missing_or_bad_manifest(tmp_path, fitted):
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_model_dir(tmp_path / "nope")
    d = _write(tmp_path, fitted[0])
    (d / "manifest.json").write_text("{not json")
    _reseal(d)
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_model_dir(d)


def test_atomic_write_json_leaves_no_temp(tmp_path):
    from imr_ml.textio import atomic_write_json

    p = tmp_path / "x.json"
    atomic_write_json({"a": np.float64(1.5), "b": np.int64(2), "c": np.arange(2)}, p)
    assert json.loads(p.read_text()) == {"a": 1.5, "b": 2, "c": [0, 1]}
    assert [q.name for q in tmp_path.iterdir()] == ["x.json"]
