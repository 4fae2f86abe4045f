"""Saving and loading model directories safely.

One version of a model is a folder holding::

    model.skops            the calibrated pipeline (skops.io format: no pickle)
    baselines/*.skops      fitted comparison models (same format)
    baselines/tables.json  base rate and category-prior table (plain JSON)
    cv_predictions.json    the training CV's out-of-fold predictions (y, p, category, letter
                           hash), when the procedure was estimated: what `report` plots
    knowledge/*.toml       the knowledge files it was trained with, which it reads when it
                           scores (`imr_ml.modeling.modelfiles.knowledge_files`)
    precedents.sqlite      the index of its training items, past decisions shown as precedents
                           (`imr_ml.modeling.modelfiles.precedent_files`)
    manifest.json          versions, data fingerprint, options, metrics, sha256 of every file
    manifest.sha256        the manifest's own sha256 (`imr_ml.modeling.modelfiles.manifest`)
    MODEL_CARD.md          the human-readable account of the above

and a model directory holds its versions, ``current`` pointing at one
(`imr_ml.modeling.modelfiles.modeldir`): a new model is written beside the current one and made current
in one rename, so nothing ever sees half a model or none.

Writing refuses (`ModelOutError`) to replace a folder that is not a model directory or that
holds anything but the model's own files, so a user's files are never swept away.

Loading refuses, with a one-line reason (`ModelLoadError`), a manifest that does not match its
seal, is malformed, too large or too deep, or holds a value of the wrong type or range; a
manifest naming a file outside the model directory; a model saved with another scikit-learn
version; a file whose sha256 differs from the manifest (a knowledge file edited since training
among them); knowledge files that break their schema or disagree; a model file that would
unpack beyond its budget, that contains a type outside the allow-list (judged by name, before
anything is imported), or that does not hold a model imr-ml can score
(`imr_ml.modeling.modelfiles.modeltrust`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sklearn

from imr_ml.modeling.modelfiles.builtin import is_builtin, load_builtin
from imr_ml.modeling.modelfiles.knowledge_files import knowledge_record, point_at, read_knowledge_copies
from imr_ml.modeling.modelfiles.loaded import LoadedModel, environment
from imr_ml.modeling.modelfiles.manifest import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    SEAL_FILE,
    check_cv_predictions,
    check_manifest,
    read_sealed,
    seal,
)
from imr_ml.modeling.modelfiles.modeldir import CARD_FILE, CURRENT, check_model_out, replacing, version_dir
from imr_ml.modeling.modelfiles.modelerrors import ModelLoadError, ModelOutError
from imr_ml.modeling.modelfiles.modeltrust import (
    ALLOWED_TYPES,
    OWN_MODEL_MODULES,
    check_fitted,
    check_scorable,
    check_scores,
    dumps,
    is_allowed_type,
    load_trusted,
)
from imr_ml.modeling.modelfiles.precedent_files import sha256_file
from imr_ml.textio import to_json

BASELINE_DIR = "baselines"
TABLES_FILE = f"{BASELINE_DIR}/tables.json"
CV_PREDICTIONS_FILE = "cv_predictions.json"

__all__ = ["ALLOWED_TYPES", "CARD_FILE", "CV_PREDICTIONS_FILE", "FORMAT_VERSION", "MANIFEST_FILE", "MODEL_FILE",
           "OWN_MODEL_MODULES", "SEAL_FILE", "LoadedModel", "ModelLoadError", "ModelOutError", "check_model_out",
           "dumps", "is_allowed_type", "load_cv_predictions", "load_model_dir", "manifest_digest", "read_manifest",
           "write_model_dir"]


def _write_built(folder: Path, built: dict[str, Callable[[Path], None]]) -> dict[str, str]:
    """Files written in place by their own writers (the precedents index), and their sha256."""
    files = {}
    for rel, write in sorted(built.items()):
        write(folder / rel)
        files[rel] = sha256_file(folder / rel)
    return files


def write_model_dir(out: str | Path, *, model: Any, manifest: dict, baselines: dict[str, Any] | None = None,
                    tables: dict | None = None, card: str | None = None, json_files: dict[str, Any] | None = None,
                    built: dict[str, Callable[[Path], None]] | None = None, overwrite: bool = True) -> Path:
    """Write a model directory: a new version, made current in one step.

    The manifest gains ``files`` (relative path -> sha256), ``model_sha256``,
    ``format_version`` and ``versions``, is checked as loading will check it, and is sealed.

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
    built : dict or None
        Plain file name -> ``write(path)`` writing it in place (the precedents index).
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
    with replacing(out) as tmp:
        files: dict[str, str] = {}

        def put(rel: str, data: bytes) -> None:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
            files[rel] = hashlib.sha256(data).hexdigest()

        knowledge_copies, knowledge = knowledge_record(model)  # the knowledge it was trained with
        for rel, data in {MODEL_FILE: dumps(model), **knowledge_copies}.items():
            put(rel, data)
        for name, est in sorted((baselines or {}).items()):
            put(f"{BASELINE_DIR}/{name}.skops", dumps(est))
        for rel, data in sorted((({TABLES_FILE: tables} if tables is not None else {}) | (json_files or {})).items()):
            put(rel, to_json(data).encode())
        files.update(_write_built(tmp, built or {}))  # before the manifest: a writer may fill in its record
        manifest = dict(manifest, knowledge=knowledge, format_version=FORMAT_VERSION)
        manifest.setdefault("versions", environment())
        manifest.update(model_sha256=files[MODEL_FILE], files=files)
        check_manifest(manifest, "the manifest to write")
        if card is not None:
            (tmp / CARD_FILE).write_text(card.replace("{model_sha256}", files[MODEL_FILE]), encoding="utf-8")
        text = to_json(manifest).encode()
        (tmp / MANIFEST_FILE).write_bytes(text)
        (tmp / SEAL_FILE).write_text(seal(text), encoding="ascii")
    return out


def read_manifest(model_dir: str | Path) -> dict:
    """The current manifest of the model directory `model_dir`, refused unless sealed and well-formed."""
    if not Path(model_dir).is_dir():
        raise ModelLoadError(f"{model_dir} is not a model directory")
    return read_sealed(version_dir(model_dir))


def manifest_digest(model_dir: str | Path) -> str:
    """The sha256 of the current manifest of the model directory `model_dir` as its seal records it
    (64 hex digits, after `read_manifest` has checked the seal): the one name of the whole model
    (the manifest lists every file's sha256).
    """
    read_manifest(model_dir)
    return (version_dir(model_dir) / SEAL_FILE).read_text(encoding="ascii").split()[0]


def _check_versions(manifest: dict) -> None:
    saved = manifest["versions"].get("scikit-learn")
    if saved != sklearn.__version__:
        raise ModelLoadError(
            f"model was saved with scikit-learn {saved}, this is {sklearn.__version__}: "
            "retrain it with `imr-ml train` (or install the matching version)"
        )
    fv = manifest["format_version"]
    if fv != FORMAT_VERSION:
        raise ModelLoadError(f"model directory format {fv} is not supported (expected {FORMAT_VERSION}): "
                             "retrain it with `imr-ml train`")


def _read_checked(folder: Path, rel: str, manifest: dict) -> bytes:
    """The bytes of ``rel`` after checking them against the manifest's sha256."""
    expected = manifest["files"].get(rel)
    if expected is None:
        raise ModelLoadError(f"{rel} is not listed in the manifest")
    path = folder / rel
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ModelLoadError(f"{path} points outside the model directory")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: {exc.strerror}") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise ModelLoadError(f"{path} does not match the sha256 in the manifest (modified or corrupt)")
    return data


def load_model_dir(model_dir: str | Path, *, with_baselines: bool = False) -> LoadedModel:
    """Load a model directory written by `write_model_dir`, refusing anything unsafe.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The model directory; ``builtin`` is the built-in guideline model
        (`imr_ml.modeling.modelfiles.builtin`).
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
    if not model_dir.is_dir():
        raise ModelLoadError(f"{model_dir} is not a model directory")
    folder = version_dir(model_dir)
    try:
        return _load_version(model_dir, folder, with_baselines)
    except ModelLoadError:
        if version_dir(model_dir) == folder:
            raise
        # a new version was made current (and the one being read removed) meanwhile: read that
        return _load_version(model_dir, version_dir(model_dir), with_baselines)


def _load_version(model_dir: Path, folder: Path, with_baselines: bool) -> LoadedModel:
    manifest = read_sealed(folder)
    _check_versions(manifest)
    model = _load_estimator(folder, MODEL_FILE, manifest)
    # The copies of the knowledge files it was trained with, which it now reads, by a path that
    # outlives this version: through `current` (the copies are named by their content, so a
    # later version holding the same knowledge holds the same files).
    stable = model_dir.resolve() / CURRENT if folder != model_dir else folder.resolve()
    try:
        knowledge = read_knowledge_copies(stable, manifest, lambda rel: _read_checked(folder, rel, manifest))
        point_at(model, knowledge)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    check_scorable(model, str(folder / MODEL_FILE))
    loaded = LoadedModel(model=model, manifest=manifest, path=model_dir, knowledge=knowledge, version=folder)
    if with_baselines:
        for rel in sorted(manifest["files"]):
            if rel.startswith(f"{BASELINE_DIR}/") and rel.endswith(".skops"):
                name = rel[len(BASELINE_DIR) + 1 : -len(".skops")]
                loaded.baselines[name] = _load_estimator(folder, rel, manifest)
                point_at(loaded.baselines[name], knowledge)
                check_scores(loaded.baselines[name], str(folder / rel))
        if TABLES_FILE in manifest["files"]:
            loaded.tables = _load_tables(folder, manifest)
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
        Lists ``y`` (0/1), ``p`` (in [0, 1]), ``category`` and ``letter`` of equal length, and
        ``baselines`` ({name: probabilities of the same items}, empty for a model saved before
        they were kept), checked against the manifest; None when the model has none (built-in,
        or trained without the estimate).
    """
    if CV_PREDICTIONS_FILE not in (loaded.manifest.get("files") or {}):
        return None
    where = loaded.path / CV_PREDICTIONS_FILE
    try:
        data = json.loads(_read_checked(loaded.files, CV_PREDICTIONS_FILE, loaded.manifest))
    except RecursionError:
        raise ModelLoadError(f"{where} nests too deeply: not out-of-fold predictions") from None
    except ValueError as exc:
        raise ModelLoadError(f"{where} is not valid JSON: {exc}") from None
    return check_cv_predictions(data, where)


def _load_estimator(folder: Path, rel: str, manifest: dict) -> Any:
    what = str(folder / rel)
    obj = load_trusted(_read_checked(folder, rel, manifest), what)
    check_fitted(obj, what)
    return obj


def _load_tables(folder: Path, manifest: dict) -> dict:
    try:
        tables = json.loads(_read_checked(folder, TABLES_FILE, manifest))
    except (ValueError, RecursionError) as exc:
        raise ModelLoadError(f"{folder / TABLES_FILE} is not valid JSON: {exc}") from None
    if not isinstance(tables, dict):
        raise ModelLoadError(f"{folder / TABLES_FILE} is not a JSON object")
    return tables
