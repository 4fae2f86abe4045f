"""Saving and loading model directories safely.

A model directory holds::

    model.skops            the calibrated pipeline (skops.io format: no pickle)
    baselines/*.skops      fitted comparison models (same format)
    baselines/tables.json  base rate and category-prior table (plain JSON)
    cv_predictions.json    the training CV's out-of-fold predictions (y, p, category, letter
                           hash), when the procedure was estimated: what `report` plots
    knowledge/*.toml       the knowledge files it was trained with, which it reads when it
                           scores (`imr_ml.modeling.knowledge_files`)
    manifest.json          versions, data fingerprint, options, metrics, sha256 of every file
    MODEL_CARD.md          the human-readable account of the above

Writing is atomic: the whole directory is built as ``MODEL_DIR.tmp-XXXX`` next to the
target and then renamed into place; single files are written to a temp file in the same
directory and ``os.replace``d.

Writing refuses (:class:`ModelOutError`) to replace a folder that is not a model directory
or that holds anything but the model's own files, so a user's files are never swept away.

Loading refuses, with a one-line reason (:class:`ModelLoadError`), a malformed manifest, a
manifest naming a file outside the model directory, a model saved with another
scikit-learn version, a file whose sha256 differs from the manifest (a knowledge file
edited since training among them), knowledge files that break their schema or disagree, a
skops file that contains a type outside our allow-list (judged by name, before anything is
imported), or a file that does not hold a fitted model.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sklearn
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from imr_ml.featurize import to_frame
from imr_ml.modeling.builtin import is_builtin, load_builtin
from imr_ml.modeling.knowledge_files import attach_knowledge, knowledge_record, point_at
from imr_ml.modeling.loaded import LoadedModel, environment
from imr_ml.modeling.model import fitted_pipeline
from imr_ml.textio import to_json

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"
BASELINE_DIR = "baselines"
TABLES_FILE = f"{BASELINE_DIR}/tables.json"
CV_PREDICTIONS_FILE = "cv_predictions.json"
FORMAT_VERSION = 1


class ModelLoadError(Exception):
    """A model directory that must not be loaded; the message is one line saying why."""


class ModelOutError(ValueError):
    """A place a model directory must not be written to; the message is one line saying why."""


# ----------------------------------------------------------------------------- files



def _skops_io():
    """skops.io, imported when a model file is read or written: importing it imports every
    scikit-learn estimator module (about 100 MB), which scoring and training need not hold."""
    import skops.io  # lazy: see the docstring

    return skops.io

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- trust

# Types skops does not trust by default that a model of ours may legitimately contain
# (skops already trusts scikit-learn's estimators, numpy arrays and builtins). A type is
# judged by its name alone, so a file cannot make us import a module it names
# (`imr_ml.__main__` would run the CLI): it is either listed here exactly, or it is a name in
# one of OWN_MODEL_MODULES (our code, imported by the caller anyway) that resolves to an
# estimator class there.
ALLOWED_TYPES: frozenset[str] = frozenset({
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.PredefinedSplit", "sklearn.utils._bunch.Bunch",
    "sklearn.feature_extraction.text._VectorizerMixin", "sklearn.utils._metadata_requests.MetadataRequest",
    "sklearn.compose._column_transformer._RemainderColsList",
    "numpy.dtype", "numpy.float64", "numpy.int64", "numpy.float32", "numpy.int32", "numpy.bool_", "numpy.str_",
    "builtins.frozenset", "builtins.set",
    "scipy.sparse._csr.csr_matrix", "scipy.sparse._csc.csc_matrix",
})
OWN_MODEL_MODULES: frozenset[str] = frozenset({
    "imr_ml.featurize.selector", "imr_ml.featurize.text", "imr_ml.featurize.structured",
    "imr_ml.modeling.prior_lr", "imr_ml.modeling.streaming", "imr_ml.modeling.baselines",
})


def is_allowed_type(name: str) -> bool:
    """Whether a type named in a skops file may be loaded, judged by its name alone.

    Parameters
    ----------
    name : str
        A dotted class path.

    Returns
    -------
    bool
        Listed in `ALLOWED_TYPES`, or an estimator class of `OWN_MODEL_MODULES`.
    """
    if name in ALLOWED_TYPES:
        return True
    module, _, attr = name.rpartition(".")
    if module not in OWN_MODEL_MODULES or not attr.isidentifier():
        return False
    obj = getattr(importlib.import_module(module), attr, None)
    return isinstance(obj, type) and issubclass(obj, BaseEstimator)


def _check_trusted(data: bytes, what: str = "file") -> list[str]:
    """The untrusted types skops reports for ``data`` that we allow; raise if any are not."""
    try:
        untrusted = _skops_io().get_untrusted_types(data=data)
    except Exception as exc:  # not a skops file at all
        raise ModelLoadError(f"{what} is not a readable skops file ({type(exc).__name__}: {exc})") from None
    refused = sorted(t for t in untrusted if not is_allowed_type(t))
    if refused:
        shown = ", ".join(refused[:5]) + (" ..." if len(refused) > 5 else "")
        raise ModelLoadError(f"{what} contains types outside the allow-list: {shown}")
    return list(untrusted)


def dumps(obj: Any) -> bytes:
    """An estimator as skops bytes (no pickle).

    Parameters
    ----------
    obj : object
        The estimator.

    Returns
    -------
    bytes
        The skops file's contents.
    """
    return _skops_io().dumps(obj)


def _loads_trusted(data: bytes, what: str = "file") -> Any:
    trusted = _check_trusted(data, what)
    try:
        return _skops_io().loads(data, trusted=trusted)
    except Exception as exc:  # a well-formed zip whose contents do not build an object
        raise ModelLoadError(f"{what} cannot be loaded ({type(exc).__name__}: {exc})") from None


def _check_fitted_model(obj: Any, what: str) -> None:
    """Refuse a skops file that holds something other than a fitted classifier (a dict, an
    unfitted estimator), before anything calls a method it does not have."""
    if not isinstance(obj, BaseEstimator) or not hasattr(obj, "predict_proba"):
        raise ModelLoadError(f"{what} holds a {type(obj).__name__}, not a fitted model")
    try:
        check_is_fitted(obj)
    except NotFittedError:
        raise ModelLoadError(f"{what} holds an unfitted {type(obj).__name__}, not a fitted model") from None


# ----------------------------------------------------------------------------- directory


def write_model_dir(out: str | Path, *, model: Any, manifest: dict, baselines: dict[str, Any] | None = None,
                    tables: dict | None = None, card: str | None = None, json_files: dict[str, Any] | None = None,
                    overwrite: bool = True) -> Path:
    """Write a complete model directory atomically.

    The manifest gains ``files`` (relative path -> sha256), ``model_sha256``,
    ``format_version`` and ``versions``.

    Parameters
    ----------
    out : str or pathlib.Path
        The model directory.
    model : estimator
        The fitted model (``model.skops``).
    manifest : dict
        Versions, data fingerprint, options, metrics.
    baselines : dict or None
        Name -> fitted estimator (saved as ``baselines/NAME.skops``).
    tables : dict or None
        Plain JSON for table-based baselines.
    card : str or None
        The MODEL_CARD text; ``{model_sha256}`` in it is filled in.
    json_files : dict or None
        Plain file name -> data saved beside the model as JSON (such as ``cv_predictions.json``).
    overwrite : bool
        Replace an existing model directory.

    Returns
    -------
    pathlib.Path
        `out`.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists")
    check_model_out(out)
    with _replacing(out) as tmp:
        files: dict[str, str] = {}

        def put(rel: str, data: bytes) -> None:
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            files[rel] = _sha256(data)

        knowledge_copies, knowledge = knowledge_record(model)  # the knowledge it was trained with
        for rel, data in {MODEL_FILE: dumps(model), **knowledge_copies}.items():
            put(rel, data)
        for name, est in sorted((baselines or {}).items()):
            put(f"{BASELINE_DIR}/{name}.skops", dumps(est))
        if tables is not None:
            put(TABLES_FILE, to_json(tables).encode())
        for rel, data in sorted((json_files or {}).items()):
            put(rel, to_json(data).encode())
        manifest = dict(manifest, knowledge=knowledge)
        manifest["format_version"] = FORMAT_VERSION
        manifest.setdefault("versions", environment())
        manifest["model_sha256"] = files[MODEL_FILE]
        manifest["files"] = files
        if card is not None:
            (tmp / CARD_FILE).write_text(card.replace("{model_sha256}", files[MODEL_FILE]), encoding="utf-8")
        (tmp / MANIFEST_FILE).write_text(to_json(manifest), encoding="utf-8")
    return out


@contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A new folder beside `out` that replaces it when the block succeeds and is removed when
    it fails."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700; a model dir is an ordinary folder
    try:
        yield tmp
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_model_out(out: Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse (`ModelOutError`) an output folder that writing a model there would damage: the
    current folder (or one above it), a folder holding one of the inputs, a file, or a folder
    holding anything but a model directory's own files.

    Parameters
    ----------
    out : pathlib.Path
        The folder asked for.
    inputs : sequence of str or pathlib.Path
        The run's inputs.
    """
    target = out.resolve()
    if target == Path.cwd().resolve() or target in Path.cwd().resolve().parents:
        raise ModelOutError(f"--out {out} is the current folder (or holds it): name a new or model folder")
    for p in map(Path, inputs):
        if p.resolve() == target or target in p.resolve().parents:
            raise ModelOutError(f"--out {out} holds the input {p}: write the model to another folder")
    if out.exists() and not out.is_dir():
        raise ModelOutError(f"--out {out} exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        manifest = read_manifest(out)
    except ModelLoadError:
        raise ModelOutError(f"--out {out} is a folder that is not an imr-ml model directory: "
                            "name a new or empty folder") from None
    ours = {MANIFEST_FILE, CARD_FILE, *manifest["files"]}
    foreign = sorted(str(f.relative_to(out)) for f in out.rglob("*")
                     if not f.is_dir() and f.relative_to(out).as_posix() not in ours)
    if foreign:
        raise ModelOutError(f"--out {out} is a model directory that also holds {foreign[0]}"
                            f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}: "
                            "move it out or name another folder")


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    old = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(model_dir: str | Path) -> dict:
    """A model directory's manifest, refused if malformed.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The model directory.

    Returns
    -------
    dict
        The manifest.
    """
    path = Path(model_dir) / MANIFEST_FILE
    if not Path(model_dir).is_dir():
        raise ModelLoadError(f"{model_dir} is not a model directory")
    if not path.exists():
        raise ModelLoadError(f"{model_dir} has no {MANIFEST_FILE}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    _check_manifest(manifest, path)
    return manifest


def _check_manifest(manifest: Any, path: Path) -> None:
    """Refuse a manifest whose shape any later step would trip over, and any file name in it
    that is not a plain relative name (``..``, absolute paths)."""
    if not isinstance(manifest, dict):
        raise ModelLoadError(f"{path} is not an imr-ml manifest (not a JSON object)")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ModelLoadError(f"{path} is not an imr-ml manifest ('files' must map file names to sha256 strings)")
    if MODEL_FILE not in files:
        raise ModelLoadError(f"{path} does not list {MODEL_FILE}")
    if not isinstance(manifest.get("versions"), dict):
        raise ModelLoadError(f"{path} is not an imr-ml manifest ('versions' must be an object)")
    for rel in files:
        if not _plain_name(rel):
            raise ModelLoadError(f"{path} names {rel!r}: model files must be plain names inside the model directory")


def _plain_name(rel: str) -> bool:
    parts = rel.split("/")
    return "\\" not in rel and ":" not in rel and all(part not in ("", ".", "..") for part in parts)


def _inside(model_dir: Path, rel: str) -> Path:
    """The path of ``rel`` in ``model_dir``, refused if a symlink takes it outside."""
    path = model_dir / rel
    if not path.resolve().is_relative_to(model_dir.resolve()):
        raise ModelLoadError(f"{path} points outside the model directory")
    return path


def _check_versions(manifest: dict) -> None:
    saved = (manifest.get("versions") or {}).get("scikit-learn")
    if saved != sklearn.__version__:
        raise ModelLoadError(
            f"model was saved with scikit-learn {saved}, this is {sklearn.__version__}: "
            "retrain it with `imr-ml train` (or install the matching version)"
        )
    fv = manifest.get("format_version")
    if fv != FORMAT_VERSION:
        raise ModelLoadError(f"model directory format {fv} is not supported (expected {FORMAT_VERSION})")


def _read_checked(model_dir: str | Path, rel: str, manifest: dict) -> bytes:
    """The bytes of ``rel`` after checking them against the manifest's sha256."""
    expected = (manifest.get("files") or {}).get(rel)
    if expected is None:
        raise ModelLoadError(f"{rel} is not listed in the manifest")
    path = _inside(Path(model_dir), rel)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: {exc.strerror}") from None
    if _sha256(data) != expected:
        raise ModelLoadError(f"{path} does not match the sha256 in the manifest (modified or corrupt)")
    return data


def _check_features(model, model_dir) -> None:
    """Refuse a model whose feature steps no longer match this code (a model trained by an
    older imr-ml whose signal list has since changed), before it scores anything."""
    pipe = fitted_pipeline(model)
    if not hasattr(pipe, "steps"):
        return
    try:
        pipe[:-1].transform(to_frame([{}]))
    except (ValueError, KeyError, AttributeError) as exc:
        raise ModelLoadError(f"{model_dir} was trained with other features than this imr-ml computes ({exc}); "
                             "retrain it with `imr-ml train`") from None


def load_model_dir(model_dir: str | Path, *, with_baselines: bool = False) -> LoadedModel:
    """Load a model directory written by `write_model_dir`, refusing anything unsafe.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The model directory; ``builtin`` is the built-in guideline model
        (`imr_ml.modeling.builtin`).
    with_baselines : bool
        Load the baselines too (for `evaluate`).

    Returns
    -------
    LoadedModel
        The model, its manifest and, if asked, its baselines.
    """
    if is_builtin(model_dir):
        return load_builtin()
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    _check_versions(manifest)
    model = _load_estimator(model_dir, MODEL_FILE, manifest)
    try:  # the copies of the knowledge files it was trained with, which it now reads
        knowledge = attach_knowledge(model, model_dir.resolve(), manifest,
                                     lambda rel: _read_checked(model_dir, rel, manifest))
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    _check_features(model, model_dir)
    loaded = LoadedModel(model=model, manifest=manifest, path=model_dir, knowledge=knowledge)
    if with_baselines:
        for rel in sorted(manifest["files"]):
            if rel.startswith(f"{BASELINE_DIR}/") and rel.endswith(".skops"):
                name = rel[len(BASELINE_DIR) + 1 : -len(".skops")]
                loaded.baselines[name] = _load_estimator(model_dir, rel, manifest)
                point_at(loaded.baselines[name], knowledge)
        if TABLES_FILE in manifest["files"]:
            loaded.tables = _load_tables(model_dir, manifest)
    return loaded


def load_cv_predictions(loaded: LoadedModel) -> dict | None:
    """The training CV's out-of-fold predictions saved beside the model.

    Parameters
    ----------
    loaded : LoadedModel
        A loaded model.

    Returns
    -------
    dict or None
        Lists ``y``, ``p``, ``category`` and ``letter`` (checked against the manifest), and
        ``baselines`` ({name: list}, empty for a model saved before they were kept); None
        when the model has none (built-in, or trained without the estimate).
    """
    if CV_PREDICTIONS_FILE not in (loaded.manifest.get("files") or {}):
        return None
    try:
        data = json.loads(_read_checked(loaded.path, CV_PREDICTIONS_FILE, loaded.manifest))
    except ValueError as exc:
        raise ModelLoadError(f"{loaded.path / CV_PREDICTIONS_FILE} is not valid JSON: {exc}") from None
    keys = ("y", "p", "category", "letter")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in keys) \
            or len({len(data[k]) for k in keys}) != 1:
        raise ModelLoadError(f"{loaded.path / CV_PREDICTIONS_FILE} must hold equal-length lists {', '.join(keys)}")
    baselines = data.setdefault("baselines", {})
    if not isinstance(baselines, dict) or not all(isinstance(v, list) and len(v) == len(data["y"])
                                                  for v in baselines.values()):
        raise ModelLoadError(f"{loaded.path / CV_PREDICTIONS_FILE}: baselines must be lists as long as y")
    return data


def _load_estimator(model_dir: Path, rel: str, manifest: dict) -> Any:
    what = str(model_dir / rel)
    obj = _loads_trusted(_read_checked(model_dir, rel, manifest), what)
    _check_fitted_model(obj, what)
    return obj


def _load_tables(model_dir: Path, manifest: dict) -> dict:
    try:
        tables = json.loads(_read_checked(model_dir, TABLES_FILE, manifest))
    except ValueError as exc:
        raise ModelLoadError(f"{model_dir / TABLES_FILE} is not valid JSON: {exc}") from None
    if not isinstance(tables, dict):
        raise ModelLoadError(f"{model_dir / TABLES_FILE} is not a JSON object")
    return tables
