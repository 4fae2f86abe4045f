"""The precedents index as a model file, and folders that hold an index without a model.

`imr-ml train` keeps an index of its training items in the model directory
(``precedents.sqlite``, built by `imr_ml.precedents.store` straight into the new folder and
hashed in the manifest like every other file; the manifest's ``precedents`` gives its
counts). `imr-ml index CORPUS --out DIR` writes the same file into a folder of its own with
``index.json`` (counts, versions, the sha256 of each file) and ``knowledge/``: the copies of
the knowledge files its items were profiled with (`imr_ml.modeling.modelfiles.knowledge_files`), which
requests are profiled with too.

`open_precedents` opens either, after checking the file against the sha256 its manifest
records: an index edited or damaged since it was written is refused in one line, as any
model file is. The built-in model holds no letters, and says so.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path

from imr_ml.knowledge.bundle import SHIPPED, Knowledge
from imr_ml.modeling.modelfiles.builtin import BUILTIN_KIND, is_builtin
from imr_ml.modeling.modelfiles.knowledge_files import knowledge_copies, read_knowledge_copies
from imr_ml.modeling.modelfiles.loaded import LoadedModel
from imr_ml.precedents.store import FORMAT, Index, PrecedentsError, Profiler, build_index
from imr_ml.textio import new_folder, to_json

PRECEDENTS_FILE = "precedents.sqlite"
INDEX_MANIFEST = "index.json"
INDEX_KIND = "imr-ml precedents index"
NO_LETTERS = ("the built-in model holds no letters, so it has no precedents: train a model on your letters "
              "(`imr-ml train`) or index them (`imr-ml index CORPUS --out DIR`) and use that")


class NoPrecedents(ValueError):
    """A model or folder without an index of past decisions; the message is one line saying why."""


class IndexRefused(ValueError):
    """An index that must not be read: not the file its manifest sealed (edited, damaged),
    not an index, or an unreadable manifest; the message is one line saying why."""


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in blocks (an index of a million items is gigabytes).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def index_writer(rows: list[dict], knowledge: Knowledge) -> tuple[Callable[[Path], None], dict]:
    """A model directory's index of its training rows: the function that writes the file
    (`imr_ml.modeling.modelfiles.modelio.write_model_dir` calls it inside the new folder) and the
    manifest's ``precedents`` record, which it fills in.

    Parameters
    ----------
    rows : list of dict
        The training rows.
    knowledge : Knowledge
        The knowledge the model reads (profiles are read with it).

    Returns
    -------
    (callable, dict)
        ``write(path)`` and the record.
    """
    record: dict = {"file": PRECEDENTS_FILE, "format": FORMAT}

    def write(path: Path) -> None:
        record.update(build_index(rows, path, knowledge))
    return write, record


def _checked(path: Path, expected: str | None, what: str) -> Path:
    """`path` if its sha256 is `expected`, else refused in one line."""
    if expected is None:
        raise IndexRefused(f"{what} does not list {path.name} in its manifest")
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise IndexRefused(f"cannot read {path}: {exc.strerror}") from None
    if actual != expected:
        raise IndexRefused(f"{path} does not match the sha256 in the manifest (modified or corrupt)")
    return path


def open_precedents(source: LoadedModel | str | Path) -> Index:
    """The checked index of a loaded model, or of a model or index folder.

    Parameters
    ----------
    source : LoadedModel, str or pathlib.Path
        A loaded model, or a folder written by `imr-ml train` or `imr-ml index`.

    Returns
    -------
    Index
        The index, opened read-only; requests are profiled with the knowledge it was built with.

    Raises
    ------
    NoPrecedents
        The built-in model, a model trained without an index, a folder that is neither.
    IndexRefused
        An index whose sha256 is not its manifest's, or that is no index.
    """
    if isinstance(source, LoadedModel):
        return _model_index(source)
    if is_builtin(source):
        raise NoPrecedents(NO_LETTERS)
    folder = Path(source)
    if (folder / INDEX_MANIFEST).is_file():
        return _folder_index(folder)
    raise NoPrecedents(f"{folder} is neither a model directory (`imr-ml train`) nor an index folder (`imr-ml index`)")


def _model_index(loaded: LoadedModel) -> Index:
    if loaded.precedents is not None:
        return loaded.precedents
    manifest = loaded.manifest
    if manifest.get("kind") == BUILTIN_KIND:
        raise NoPrecedents(NO_LETTERS)
    record = manifest.get("precedents")
    if not isinstance(record, dict) or record.get("file") != PRECEDENTS_FILE:
        raise NoPrecedents(f"{loaded.path} was trained without an index of its letters (`imr-ml train` keeps one "
                           "unless --no-precedents): retrain it, or index the letters with `imr-ml index`")
    path = _checked(loaded.files / PRECEDENTS_FILE, (manifest.get("files") or {}).get(PRECEDENTS_FILE),
                    str(loaded.path))
    loaded.precedents = _opened(path, loaded.knowledge)
    return loaded.precedents


def _opened(path: Path, knowledge: Knowledge) -> Index:
    try:
        return Index(path, knowledge)
    except PrecedentsError as exc:
        raise IndexRefused(str(exc)) from None


def _folder_index(folder: Path) -> Index:
    """The index of a folder written by `write_index_folder`, checked."""
    try:
        manifest = json.loads((folder / INDEX_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise IndexRefused(f"{folder / INDEX_MANIFEST} is not valid JSON: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("kind") != INDEX_KIND \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise IndexRefused(f"{folder / INDEX_MANIFEST} is not the manifest of an imr-ml index")

    def read(rel: str) -> bytes:
        return _checked(_inside(folder, rel), files.get(rel), str(folder)).read_bytes()
    try:
        knowledge = read_knowledge_copies(folder.resolve(), manifest, read)
    except ValueError as exc:
        raise IndexRefused(str(exc)) from None
    path = _checked(_inside(folder, PRECEDENTS_FILE), files.get(PRECEDENTS_FILE), str(folder))
    return _opened(path, knowledge)


def _inside(folder: Path, rel: str) -> Path:
    path = folder / rel
    if ".." in Path(rel).parts or Path(rel).is_absolute() or not path.resolve().is_relative_to(folder.resolve()):
        raise IndexRefused(f"{folder / INDEX_MANIFEST} names {rel!r}: index files must be inside the folder")
    return path


def write_index_folder(rows: Iterable[dict], out: str | Path, knowledge: Knowledge = SHIPPED,
                       progress: Callable[[int], None] | None = None, profiled: Profiler | None = None,
                       inputs: Iterable[str] = ()) -> dict:
    """Write a folder holding an index of `rows`, whole or not at all (`imr-ml index`).

    Parameters
    ----------
    rows : iterable of dict
        Corpus rows with decisions.
    out : str or pathlib.Path
        A new (or empty) folder.
    knowledge : Knowledge
        The knowledge files to profile the items with (copied into the folder).
    progress : callable or None
        Called with the number of rows read so far.
    profiled : callable or None
        As for `imr_ml.precedents.store.build_index`.
    inputs : iterable of str
        The files the rows came from, for the manifest.

    Returns
    -------
    dict
        The manifest written.
    """
    t0 = time.perf_counter()
    with new_folder(out) as tmp:
        counts = build_index(rows, tmp / PRECEDENTS_FILE, knowledge, progress, profiled)
        copies, record = knowledge_copies(knowledge)
        files = {PRECEDENTS_FILE: sha256_file(tmp / PRECEDENTS_FILE)}
        for rel, data in copies.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
            files[rel] = hashlib.sha256(data).hexdigest()
        manifest = {"kind": INDEX_KIND, "format": FORMAT, "imr_ml_version": version("imr-ml"),
                    "python": platform.python_version(), "created_unix": int(time.time()),
                    "inputs": [str(p) for p in inputs], **counts,
                    "build_seconds": round(time.perf_counter() - t0, 2), "knowledge": record, "files": files}
        (tmp / INDEX_MANIFEST).write_text(to_json(manifest), encoding="utf-8")
    return manifest
