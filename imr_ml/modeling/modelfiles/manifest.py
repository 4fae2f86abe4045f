"""A model's manifest: sealed, bounded and checked before anything reads a value from it.

The manifest lists the sha256 of every file of the model, so its own digest identifies the
whole model; `manifest.sha256` beside it records that digest in `sha256sum` format
(``sha256sum -c manifest.sha256`` checks it by hand). The seal catches a manifest that was
edited or damaged after training; it cannot stop someone who can write the folder from
writing a new manifest and a new seal (see the README's section on model files). What makes
such a forgery harmless is what is checked on every load: the allow-list of types, the
budgets on the model file (`imr_ml.modeling.modelfiles.modeltrust`), and this module's schema: every
value a command reads from a manifest has its type and range (a threshold is a number in
[0, 1], counts are whole numbers >= 0, file names are plain names inside the folder), and
no manifest is larger than `MAX_MANIFEST_BYTES` or nested deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from imr_ml.modeling.modelfiles.modelerrors import ModelLoadError

MANIFEST_FILE = "manifest.json"
SEAL_FILE = "manifest.sha256"
MODEL_FILE = "model.skops"
FORMAT_VERSION = 2  # 2: sealed manifest, versioned folders (1 had neither)
MAX_MANIFEST_BYTES = 64 * 2**20  # a streaming model with words and 2^18 hashed columns: 12 MB
MAX_DEPTH = 32  # a trained model's manifest nests 7 deep
SHA256 = r"^[0-9a-f]{64}$"

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Label = Annotated[int, Field(ge=0, le=1)]
Pair = Annotated[list[int], Field(min_length=2, max_length=2)]
Digest = Annotated[str, Field(pattern=SHA256)]


class _Strict(BaseModel):
    """Types as written (no "0.5" for 0.5, no true for 1); fields it does not name are kept."""

    model_config = ConfigDict(strict=True, extra="allow")


class _Threshold(_Strict):
    value: Share | None = None
    method: str | None = None


class _Profile(_Strict):
    categories: dict[str, Count] = {}
    layouts: dict[str, Count] = {}
    decision_dates: Annotated[list[str], Field(max_length=2)] | None = None
    ur_denial_dates: Annotated[list[str], Field(max_length=2)] | None = None


class _Ranges(_Strict):
    years: dict[str, Pair] = {}
    categories: dict[str, Count] | None = None
    summary_words: Pair | None = None


class _Data(_Strict):
    n_letters: Count | None = None
    n_items: Count | None = None
    n_overturned: Count | None = None
    base_rate: Share | None = None
    fingerprint_sha256: str | None = None
    letter_hashes: list[str] = []
    inputs: list[str] = []
    synthetic: bool | None = None
    profile: _Profile | None = None
    ranges: _Ranges | None = None

    @model_validator(mode="after")
    def _counts_agree(self) -> _Data:
        if self.n_items is not None and self.n_overturned is not None and self.n_overturned > self.n_items:
            raise ValueError("n_overturned is larger than n_items")
        return self


class _Features(_Strict):
    n_features: Count | None = None
    names: list[str] = []
    columns: list[str] = []


class _RuleUpdate(_Strict):
    rule: str
    label: str
    prior: Finite
    fitted: Finite | None = None
    n_items: Count | None = None
    citation: str = ""


class _Rule(_Strict):
    name: str
    label: str
    strength: Finite
    citation: str = ""


Metrics = dict[str, Finite | list[Finite] | str | None]


class _Pooled(_Strict):
    overall: dict[str, Metrics] = {}


class _Cv(_Strict):
    protocol: str | None = None
    pooled: _Pooled | None = None


class _Precedents(_Strict):
    file: str
    format: Count
    n_items: Count
    n_letters: Count


class _Manifest(_Strict):
    format_version: int
    versions: dict[str, str]
    files: dict[str, Digest]
    model_sha256: Digest
    kind: str | None = None
    imr_ml_version: str | None = None
    created_unix: Count | None = None
    procedure: str | None = None
    data: _Data | None = None
    features: _Features | None = None
    threshold: _Threshold | None = None
    calibration: dict[str, Any] | None = None
    hyperparameters: dict[str, Finite | str | bool | None] | None = None
    rule_updates: list[_RuleUpdate] | None = None
    rules: list[_Rule] | None = None
    cv: _Cv | None = None
    precedents: _Precedents | None = None
    training_counts: dict[str, Count] | None = None


class _CvPredictions(_Strict):
    y: list[Label]
    p: list[Share]
    category: list[str]
    letter: list[str]
    baselines: dict[str, list[Share]] = {}  # the baselines' out-of-fold predictions, same items

    @model_validator(mode="after")
    def _equal_lengths(self) -> _CvPredictions:
        if len({len(self.y), len(self.p), len(self.category), len(self.letter)}) != 1:
            raise ValueError("y, p, category and letter must be lists of equal length")
        if any(len(v) != len(self.y) for v in self.baselines.values()):
            raise ValueError("baselines must be lists as long as y")
        return self


def seal(data: bytes) -> str:
    """The seal of a manifest whose file's bytes are `data`: its sha256, in `sha256sum` format
    (``"<sha256>  manifest.json\\n"``).
    """
    return f"{hashlib.sha256(data).hexdigest()}  {MANIFEST_FILE}\n"


def read_sealed(folder: Path) -> dict:
    """The manifest in `folder`, refused unless its seal matches and it passes `check_manifest`.

    Parameters
    ----------
    folder : pathlib.Path
        The folder holding ``manifest.json`` and ``manifest.sha256`` (one version of a model).

    Returns
    -------
    dict
        The manifest.
    """
    path = folder / MANIFEST_FILE
    data = _read_bounded(path)
    try:
        sealed = (folder / SEAL_FILE).read_text(encoding="ascii", errors="replace").split(maxsplit=1)[:1]
    except FileNotFoundError:
        raise ModelLoadError(f"{path} has no seal ({SEAL_FILE}): it was written by an older imr-ml or altered; "
                             "retrain it with `imr-ml train`") from None
    except OSError as exc:
        raise ModelLoadError(f"cannot read {folder / SEAL_FILE}: {exc.strerror}") from None
    if sealed != [hashlib.sha256(data).hexdigest()]:
        raise ModelLoadError(f"{path} does not match its seal {SEAL_FILE} (edited or damaged after training)")
    manifest = parse_manifest(data, path)
    check_manifest(manifest, path)
    return manifest


def _read_bounded(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise ModelLoadError(f"{path.parent} has no {MANIFEST_FILE}") from None
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ModelLoadError(f"{path} is larger than {MAX_MANIFEST_BYTES // 2**20} MB: not an imr-ml manifest")
    return data


def parse_manifest(data: bytes, path: Path) -> Any:
    """JSON of a manifest, refused (one line) when it is not JSON or nests deeper than `MAX_DEPTH`.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    path : pathlib.Path
        Its path, for the message.

    Returns
    -------
    object
        The parsed JSON (not yet checked against the schema).
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ModelLoadError(f"{path} nests deeper than {MAX_DEPTH} levels: not an imr-ml manifest") from None
    except ValueError as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise ModelLoadError(f"{path} nests deeper than {MAX_DEPTH} levels: not an imr-ml manifest")
    return value


def _depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (without recursion: depth is what is checked)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, d)
            if d <= MAX_DEPTH:
                stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def check_manifest(manifest: Any, path: Path | str) -> None:
    """Refuse (`ModelLoadError`, one line) a manifest any command would trip over: not an
    object, a file name that is not a plain name inside the model directory, no model file,
    or a value of the wrong type or range.

    Parameters
    ----------
    manifest : object
        The parsed manifest.
    path : pathlib.Path or str
        Where it was read, for the message.
    """
    if not isinstance(manifest, dict):
        raise ModelLoadError(f"{path} is not an imr-ml manifest (not a JSON object)")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ModelLoadError(f"{path} is not an imr-ml manifest ('files' must map file names to sha256 strings)")
    if MODEL_FILE not in files:
        raise ModelLoadError(f"{path} does not list {MODEL_FILE}")
    for rel in files:
        if not plain_name(rel) or rel in (MANIFEST_FILE, SEAL_FILE):
            raise ModelLoadError(f"{path} names {rel!r}: model files must be plain names inside the model directory")
    if not isinstance(manifest.get("versions"), dict):
        raise ModelLoadError(f"{path} is not an imr-ml manifest ('versions' must be an object)")
    _validate(_Manifest, manifest, f"{path} is not a valid imr-ml manifest")
    if manifest["model_sha256"] != files[MODEL_FILE]:
        raise ModelLoadError(f"{path} is not a valid imr-ml manifest: model_sha256 differs from the sha256 of "
                             f"{MODEL_FILE}")


def check_cv_predictions(data: Any, path: Path | str) -> dict:
    """Refuse (`ModelLoadError`, one line) out-of-fold predictions that are not equal-length
    lists of labels 0/1, probabilities in [0, 1], categories and letters (and the baselines'
    probabilities of the same items).

    Parameters
    ----------
    data : object
        The parsed ``cv_predictions.json``.
    path : pathlib.Path or str
        Where it was read, for the message.

    Returns
    -------
    dict
        `data`, checked.
    """
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} must hold equal-length lists y, p, category, letter")
    _validate(_CvPredictions, data, f"{path} is not valid")
    data.setdefault("baselines", {})
    return data


def _validate(schema: type[BaseModel], value: dict, refusal: str) -> None:
    try:
        schema.model_validate(value)
    except ValidationError as exc:
        e = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = repr(e.get("input"))
        got = got if len(got) <= 40 else got[:37] + "..."
        raise ModelLoadError(f"{refusal}: {where}: {e['msg']} (found {got})") from None


def plain_name(rel: str) -> bool:
    """Whether `rel` names a file inside the model directory by relative path, without ``..``,
    ``.``, empty parts, backslashes or drive letters.

    Parameters
    ----------
    rel : str
        A file name from the manifest.

    Returns
    -------
    bool
        True for a plain relative name.
    """
    parts = rel.split("/")
    return "\\" not in rel and ":" not in rel and "\0" not in rel and all(p not in ("", ".", "..") for p in parts)
