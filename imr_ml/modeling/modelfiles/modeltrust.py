"""What a model file must pass before it is used: budgets, the allow-list, the model's shape.

A skops file is a zip archive of a JSON schema and numpy arrays. skops offers no limit on
either, and builds every array while it lists the file's types, so a 3 MB file of one
40000 x 10000 array of zeros would take 6.5 GB. Before skops sees a file, `check_archive`
reads only the archive's directory and each array's header: the file is refused when its
members would unpack to more than `MAX_UNPACKED_BYTES`, when an array's header announces more
data than the member holds, or when it has more than `MAX_MEMBERS` members. Then its types
are judged by name against the allow-list (nothing is imported to judge them), and the
object built must be a model imr-ml can score (`check_scorable`): a pipeline of imr-ml
features and a classifier with a scoring adapter, which scores an empty request.
"""

from __future__ import annotations

import importlib
import io
import math
import warnings
import zipfile
from typing import Any

import numpy as np
from numpy.lib import format as npy
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from imr_ml.featurize import to_frame
from imr_ml.modeling.estimator.model import fitted_pipeline, scoring_model
from imr_ml.modeling.modelfiles.modelerrors import ModelLoadError

# The largest model file trained here (streaming, words, 2^18 hashed columns) unpacks to 15 MB.
MAX_UNPACKED_BYTES = 256 * 2**20
MAX_MEMBERS = 200_000  # a model with words: 4,639
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"

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
    "imr_ml.modeling.estimator.prior_lr",
})
# Where a class saved in model files used to live. A file names its classes' modules, so a file
# saved before a move names the old one; its schema is read with the new name (`renamed`) before
# its types are judged, and the old name is trusted for nothing else.
MOVED_MODULES: dict[str, str] = {"imr_ml.modeling.prior_lr": "imr_ml.modeling.estimator.prior_lr"}
SCHEMA_MEMBER = "schema.json"


def _skops_io():
    """skops.io, imported when a model file is read or written: importing it imports every
    scikit-learn estimator module (about 100 MB), which scoring and training need not hold."""
    import skops.io  # lazy: see the docstring

    return skops.io


def is_allowed_type(name: str) -> bool:
    """Whether a type a skops file names by the dotted class path `name` may be loaded, judged by the
    name alone: listed in `ALLOWED_TYPES`, or an estimator class of `OWN_MODEL_MODULES`.
    """
    if name in ALLOWED_TYPES:
        return True
    module, _, attr = name.rpartition(".")
    if module not in OWN_MODEL_MODULES or not attr.isidentifier():
        return False
    obj = getattr(importlib.import_module(module), attr, None)
    return isinstance(obj, type) and issubclass(obj, BaseEstimator)


def dumps(obj: Any) -> bytes:
    """The estimator `obj` as skops bytes (no pickle): the skops file's contents."""
    return _skops_io().dumps(obj)


def check_archive(data: bytes, what: str = "file") -> None:
    """Refuse (`ModelLoadError`) a model file that would unpack beyond the budget, before
    anything is unpacked: only the zip directory and each array's header are read.

    Parameters
    ----------
    data : bytes
        The skops file's contents.
    what : str
        The file, for the message.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        _check_members(archive, what, MAX_UNPACKED_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{what} is not a readable skops file ({type(exc).__name__}: {exc})") from None


def _check_members(archive: zipfile.ZipFile, what: str, budget: int) -> None:
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_MEMBERS:
        raise ModelLoadError(f"{what} holds {len(infos):,} parts, more than the {MAX_MEMBERS:,} a model may have")
    if total > budget:
        raise ModelLoadError(f"{what} would unpack to {total / 2**20:,.0f} MB, more than the "
                             f"{MAX_UNPACKED_BYTES // 2**20} MB a model file may take")
    for info in infos:
        with archive.open(info) as fh:
            head = fh.read(len(NPY_MAGIC))
        if head == NPY_MAGIC:
            _check_array(archive, info, what)
        elif head.startswith(ZIP_MAGIC):  # a sparse matrix: an .npz archive of arrays inside
            with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
                _check_members(inner, what, budget - total)


def _check_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> None:
    """Refuse an array whose header announces more bytes than its member holds: numpy
    allocates what the header says before it reads the data."""
    with archive.open(info) as fh:
        version = npy.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(fh)
        else:
            raise ModelLoadError(f"{what} holds an array of format {version}, which imr-ml does not read")
        held = info.file_size - fh.tell()
    announced = math.prod(shape) * dtype.itemsize
    if announced > held:
        raise ModelLoadError(f"{what} holds an array whose header announces {announced / 2**20:,.0f} MB "
                             f"({'x'.join(map(str, shape))} {dtype}) but carries {held / 2**20:,.1f} MB")


def load_trusted(data: bytes, what: str = "file") -> Any:
    """The object in a skops file, after its budget and its types are checked.

    Parameters
    ----------
    data : bytes
        The skops file's contents.
    what : str
        The file, for messages.

    Returns
    -------
    object
        What the file holds (not yet known to be a model: see `check_scorable`).
    """
    check_archive(data, what)
    data = renamed(data)
    try:
        untrusted = _skops_io().get_untrusted_types(data=data)
    except Exception as exc:  # not a skops file at all
        raise ModelLoadError(f"{what} is not a readable skops file ({type(exc).__name__}: {exc})") from None
    refused = sorted(t for t in untrusted if not is_allowed_type(t))
    if refused:
        shown = ", ".join(refused[:5]) + (" ..." if len(refused) > 5 else "")
        raise ModelLoadError(f"{what} contains types outside the allow-list: {shown}")
    try:
        return _skops_io().loads(data, trusted=list(untrusted))
    except Exception as exc:  # a well-formed zip whose contents do not build an object
        raise ModelLoadError(f"{what} cannot be loaded ({type(exc).__name__}: {exc})") from None


def renamed(data: bytes) -> bytes:
    """A skops file whose schema names a module of `MOVED_MODULES` by its new name; any other
    file unchanged (the same bytes). Called after `check_archive`, so the schema is budgeted.

    Parameters
    ----------
    data : bytes
        The skops file's contents.

    Returns
    -------
    bytes
        The file as this imr-ml reads it.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if SCHEMA_MEMBER not in archive.namelist():
            return data  # not a skops file: skops says so next
        schema = archive.read(SCHEMA_MEMBER).decode("utf-8", "replace")
    now = schema
    for old, new in MOVED_MODULES.items():
        now = now.replace(f'"{old}"', f'"{new}"')
    if now == schema:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(out, "w") as copy:
        for info in archive.infolist():
            copy.writestr(info, now.encode("utf-8") if info.filename == SCHEMA_MEMBER else archive.read(info))
    return out.getvalue()


def check_fitted(obj: Any, what: str) -> None:
    """Refuse a file that holds something other than a fitted classifier (a dict, an
    unfitted estimator), before anything calls a method it does not have.

    Parameters
    ----------
    obj : object
        What the file holds.
    what : str
        The file, for the message.
    """
    if not isinstance(obj, BaseEstimator) or not hasattr(obj, "predict_proba"):
        raise ModelLoadError(f"{what} holds a {type(obj).__name__}, not a fitted model")
    try:
        check_is_fitted(obj)
    except NotFittedError:
        raise ModelLoadError(f"{what} holds an unfitted {type(obj).__name__}, not a fitted model") from None


def check_scorable(model: Any, what: str) -> None:
    """Refuse a fitted estimator imr-ml cannot score: not a pipeline of imr-ml features and a
    classifier (optionally calibrated), no scoring adapter for its classifier, features that
    differ from what this imr-ml computes, or an empty request not scored as a probability.

    Parameters
    ----------
    model : estimator
        A fitted estimator (`check_fitted`).
    what : str
        The file, for the message.
    """
    shape = "a pipeline of imr-ml features and a classifier"
    if not isinstance(model, Pipeline | CalibratedClassifierCV):
        raise ModelLoadError(f"{what} holds a {type(model).__name__}, not an imr-ml model ({shape})")
    try:
        pipe = fitted_pipeline(model)
    except (AttributeError, IndexError):
        pipe = None
    if not isinstance(pipe, Pipeline) or len(pipe.steps) < 2:
        raise ModelLoadError(f"{what} holds a {type(model).__name__} that is not an imr-ml model ({shape})")
    try:
        scoring_model(model)
    except TypeError as exc:
        raise ModelLoadError(f"{what} holds a model imr-ml cannot score: {exc}") from None
    try:
        with warnings.catch_warnings():  # a foreign file's complaints are not the user's: it is refused or scored
            warnings.simplefilter("ignore")
            pipe[:-1].transform(to_frame([{}]))
    except (ValueError, KeyError, AttributeError) as exc:
        raise ModelLoadError(f"{what} was trained with other features than this imr-ml computes ({exc}); "
                             "retrain it with `imr-ml train`") from None
    check_scores(model, what)


def check_scores(model: Any, what: str) -> None:
    """Refuse an estimator that does not score an empty request as one probability per class.

    Parameters
    ----------
    model : estimator
        A fitted estimator taking a frame of requests.
    what : str
        The file, for the message.
    """
    try:
        p = np.asarray(model.predict_proba(to_frame([{}])), dtype=float)
    except Exception as exc:  # whatever a tampered estimator raises, it is this file's fault
        raise ModelLoadError(f"{what} cannot score a request ({type(exc).__name__}: {exc})") from None
    if p.shape != (1, 2) or not np.all(np.isfinite(p)) or not np.all((p >= 0) & (p <= 1)):
        raise ModelLoadError(f"{what} does not score a request as a probability (got {p.tolist()!r:.60})")
