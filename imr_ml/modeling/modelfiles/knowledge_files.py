"""The knowledge a model directory was trained with, kept inside it.

Saving copies the knowledge files the model's feature steps read (`signals.toml`,
`taxonomy.toml`, `guidelines.toml`, `criteria.toml`) and the hints shown with its scores (`hints.toml`) into
``knowledge/``, each named by its content (``knowledge/guidelines-<sha256[:12]>.toml``, so
no cache keyed by a path can serve another file's content) and hashed in the manifest like
every other file; the manifest's ``knowledge`` says which copy is which and where it came
from. Loading checks them (a copy edited after training fails its sha256 and the model is
refused), checks that they agree with one another, and points the model's feature steps at
them: scoring, explanations, hints and reports then read the copies, whatever has happened
to the shipped files since. The built-in model reads the shipped files (`SHIPPED`).

The drug and abbreviation vocabulary (`drugs.toml`, `abbreviations.toml`) is kept the same
way (copied, hashed, recorded), but every stage reads the installed one: it is compiled into
the rules, the taxonomy's drug categories and the item's drug fields once per process. So a
model whose vocabulary copy differs from the installed vocabulary is refused in one line
rather than scored with names it was not trained on.

`modelio` calls `knowledge_record` when it writes a directory, and `read_knowledge_copies`
then `point_at` when it loads one; nothing else of the model files is here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator

from imr_ml.featurize import SignalFeatures
from imr_ml.knowledge.bundle import MODEL_FILES, SHIPPED, Knowledge
from imr_ml.knowledge.validate import knowledge_bytes, source_name
from imr_ml.signals.check import check_knowledge

KNOWLEDGE_DIR = "knowledge"
# the parameter of SignalFeatures that holds each file's path
STEP_PARAMS = {"signals": "rules", "taxonomy": "taxonomy", "guidelines": "guidelines", "criteria": "criteria"}
# read from the installed package by every stage (`imr_ml.knowledge.vocabulary`)
VOCABULARY_FILES = {"drugs": "drugs.toml", "abbreviations": "abbreviations.toml"}


def knowledge_steps(obj: Any) -> Iterator[SignalFeatures]:
    """Every feature step inside a fitted model that reads knowledge files (a calibrated
    model holds one fitted pipeline per calibration fold).

    Parameters
    ----------
    obj : object
        A fitted estimator.

    Yields
    ------
    SignalFeatures
        Each such step, once.
    """
    seen: set[int] = set()
    todo = [obj]
    while todo:
        x = todo.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, SignalFeatures):
            yield x
        elif isinstance(x, BaseEstimator) or type(x).__module__.startswith("sklearn."):  # _CalibratedClassifier too
            todo += list(getattr(x, "__dict__", {}).values())
        elif isinstance(x, list | tuple):
            todo += list(x)
        elif isinstance(x, dict):
            todo += list(x.values())


def model_knowledge(model: Any) -> Knowledge:
    """The knowledge files the fitted model `model` reads (the shipped hints: training reads none):
    their paths, None for a shipped one.
    """
    found = {tuple(getattr(step, p) for p in STEP_PARAMS.values()) for step in knowledge_steps(model)}
    if len(found) > 1:
        raise ValueError("the model's feature steps read different knowledge files")
    paths = found.pop() if found else (None,) * len(STEP_PARAMS)
    return Knowledge(**{k: None if p is None else str(p) for k, p in zip(STEP_PARAMS, paths)})


def knowledge_record(model: Any) -> tuple[dict[str, bytes], dict]:
    """What a model directory keeps of the knowledge a model was trained with.

    Parameters
    ----------
    model : estimator
        The fitted model being saved.

    Returns
    -------
    (dict, dict)
        {relative file name: bytes} of the copies, and the manifest's ``knowledge``
        ({field: {"file", "from"}}).
    """
    return knowledge_copies(model_knowledge(model))


def knowledge_copies(knowledge: Knowledge) -> tuple[dict[str, bytes], dict]:
    """Copies of a set of knowledge files, each named by its content, and their record
    (a model directory's, or a precedents index folder's).

    Parameters
    ----------
    knowledge : Knowledge
        The files.

    Returns
    -------
    (dict, dict)
        {relative file name: bytes} of the copies, and the manifest's ``knowledge``
        ({field: {"file", "from"}}).
    """
    files, record = {}, {}
    for field, name in {**MODEL_FILES, **VOCABULARY_FILES}.items():
        path = getattr(knowledge, field, None)
        data = knowledge_bytes(name, path)
        rel = f"{KNOWLEDGE_DIR}/{name.removesuffix('.toml')}-{hashlib.sha256(data).hexdigest()[:12]}.toml"
        files[rel] = data
        record[field] = {"file": rel, "from": source_name(name, path)}
    return files, record


def read_knowledge_copies(folder: Path, manifest: dict, read: Callable[[str], bytes]) -> Knowledge:
    """The knowledge copies a manifest records, checked (sha256, schema, agreement).

    Parameters
    ----------
    folder : pathlib.Path
        The folder holding them (a model directory, a precedents index folder).
    manifest : dict
        Its manifest.
    read : callable
        ``read(relative name) -> bytes``, refusing a file whose sha256 is not the manifest's.

    Returns
    -------
    Knowledge
        The copies' paths.

    Raises
    ------
    ValueError
        A manifest without the record, a vocabulary other than the installed one, or copies
        that break their schema or disagree.
    """
    record = manifest.get("knowledge")
    if not isinstance(record, dict) or set(record) != {*MODEL_FILES, *VOCABULARY_FILES} \
            or not all(isinstance(v, dict) and isinstance(v.get("file"), str) for v in record.values()):
        raise ValueError(f"{folder} does not record the knowledge files it was trained with (a model directory "
                         "written before imr-ml kept them): retrain it with `imr-ml train`")
    paths = {}
    for field, entry in record.items():
        data = read(entry["file"])  # refuses a copy edited since training
        if field in VOCABULARY_FILES:
            if data != knowledge_bytes(VOCABULARY_FILES[field]):
                raise ValueError(f"{folder} was trained with another {VOCABULARY_FILES[field]} than the installed "
                                 f"one ({entry['file']}): retrain it with `imr-ml train`, or install the imr-ml "
                                 "version it was trained with")
            continue
        paths[field] = str(folder / entry["file"])
    knowledge = Knowledge(**paths)
    check_knowledge(knowledge)
    return knowledge


def point_at(model: Any, knowledge: Knowledge = SHIPPED) -> None:
    """Make every feature step of `model` read `knowledge`.

    Parameters
    ----------
    model : estimator
        A fitted model (or baseline).
    knowledge : Knowledge
        The files.
    """
    for step in knowledge_steps(model):
        for field, param in STEP_PARAMS.items():
            setattr(step, param, getattr(knowledge, field))
