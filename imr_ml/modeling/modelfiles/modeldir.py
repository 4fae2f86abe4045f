"""Model directories as folders of versions, so that replacing a model is one atomic step.

::

    MODEL_DIR/
      current -> v-1a2b3c4d5e6f7a8b   the version in use (a relative symbolic link)
      v-1a2b3c4d5e6f7a8b/             one whole model: manifest.json, manifest.sha256, model.skops, ...
      manifest.json -> current/manifest.json, MODEL_CARD.md -> current/MODEL_CARD.md, ...

A new model is built in ``MODEL_DIR/.tmp-XXXXXXXX``, renamed to its version name (``v-`` and
the start of its manifest's sha256), and made current by renaming a new link over
``current``: rename(2) replaces it in one step, so a reader finds the old model or the new
one, never neither, and a run killed at any moment leaves the old one current. The links at
the top follow ``current``, so ``MODEL_DIR/MODEL_CARD.md`` is always the current card.

Writers hold an exclusive lock on the folder (flock) from the first file to the last link:
concurrent trains take turns and the last one wins. Holding it, a writer removes what killed
writers left (``.tmp-*`` folders, versions no longer current). A folder with its files at the
top and no ``current`` (a copy of one version) loads as it is; the first write converts it.

A writer replaces only what is its own (`check_model_out`): the versions, the links, the
files a manifest lists and an ``evaluation.json`` (where `imr-ml evaluate` once wrote by
default); a folder holding anything else is refused.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from imr_ml.modeling.modelfiles.manifest import MANIFEST_FILE, MAX_MANIFEST_BYTES, SEAL_FILE
from imr_ml.modeling.modelfiles.modelerrors import ModelLoadError, ModelOutError

CURRENT = "current"
CARD_FILE = "MODEL_CARD.md"
EVALUATION_FILE = "evaluation.json"
VERSION = re.compile(r"v-[0-9a-f]{16}")
TEMP = re.compile(r"\.tmp-[A-Za-z0-9_]{8}")
LINK_TEMP = re.compile(r"\.current\.tmp-\d+")
OWN_FILES = (MANIFEST_FILE, SEAL_FILE, CARD_FILE)  # in every version, beside the files the manifest lists


def version_dir(model_dir: str | Path) -> Path:
    """The folder holding the files of the model the model directory `model_dir` names now: the
    target of ``current``, or `model_dir` itself when its files are at the top.
    """
    model_dir = Path(model_dir)
    cur = model_dir / CURRENT
    if cur.is_symlink():
        name = os.readlink(cur)
        if not VERSION.fullmatch(name):
            raise ModelLoadError(f"{cur} points outside the model directory ({name})")
        if not (model_dir / name).is_dir():
            raise ModelLoadError(f"{cur} points to {name}, which is missing")
        return model_dir / name
    return cur if cur.is_dir() else model_dir


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A new folder inside `out` that becomes the current version when the block succeeds and
    is removed when it fails; `out` is locked throughout.

    Parameters
    ----------
    out : pathlib.Path
        The model directory (created if missing; removed again if it was and the block fails).

    Yields
    ------
    pathlib.Path
        The folder to write the model's files into, ``manifest.sha256`` last.
    """
    if out.exists() and not out.is_dir():
        raise ModelOutError(f"--out {out} exists and is not a folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        check_model_out(out)
        _remove_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700; a model is an ordinary folder
        try:
            yield tmp
            _make_current(out, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if created and not any(out.iterdir()):
                out.rmdir()
            raise


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _make_current(out: Path, tmp: Path) -> None:
    """Name the finished `tmp` after its manifest's digest, point ``current`` at it in one
    rename, then tidy: older versions and replaced files go, the links follow."""
    digest = (tmp / SEAL_FILE).read_text(encoding="ascii").split()[0]
    name = f"v-{digest[:16]}"
    if (out / name).is_dir():  # the same model again: its files are already there
        shutil.rmtree(tmp)
    else:
        os.rename(tmp, out / name)
    cur = out / CURRENT
    if cur.is_dir() and not cur.is_symlink():  # a copy that followed the link: set it aside first
        _discard(out, cur)
    link = out / f".current.tmp-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, cur)
    ours, _ = ownership(out)
    for entry in sorted(ours - {CURRENT, name}):
        if not (out / entry).is_symlink() or not (out / entry).exists():  # live links stay: no gap
            _discard(out, out / entry)
    _link_files(out, name)


def _link_files(out: Path, name: str) -> None:
    """A link at the top of `out` for each file of the current version (``manifest.json ->
    current/manifest.json``), so people and scripts find them where they always were."""
    for entry in sorted((out / name).iterdir()):
        link = out / entry.name
        if not link.is_symlink():
            os.symlink(f"{CURRENT}/{entry.name}", link)


def _discard(out: Path, entry: Path) -> None:
    """Remove an entry of `out` so that a run killed midway leaves only a temp folder, which
    the next run removes: a folder is first renamed into one, then deleted."""
    if entry.is_dir() and not entry.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
        os.rename(entry, trash / entry.name)
        shutil.rmtree(trash)
    else:
        entry.unlink(missing_ok=True)


def _remove_stale(out: Path) -> None:
    """What killed writers left: temp folders and links in `out` (the lock says no writer is
    alive), and the ``NAME.tmp-XXXXXXXX`` folders imr-ml wrote beside a model before versions."""
    for entry in out.iterdir():
        if TEMP.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif TEMP.fullmatch(entry.name) or LINK_TEMP.fullmatch(entry.name):
            entry.unlink()
    for old in out.parent.glob(f"{glob.escape(out.name)}.tmp-*"):
        if TEMP.fullmatch(old.name[len(out.name):]) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def ownership(out: Path) -> tuple[set[str], list[str]]:
    """Which entries of a model directory are the model's own, and which files are not.

    Parameters
    ----------
    out : pathlib.Path
        A folder.

    Returns
    -------
    (set of str, list of str)
        The model's top-level entries (versions, ``current``, links into it, temp folders,
        the files a top-level manifest lists, ``evaluation.json``), and every other file as a
        path relative to `out`.
    """
    listed = _listed(out)
    tops = {rel.split("/")[0] for rel in listed or ()}
    ours: set[str] = set()
    foreign: list[str] = []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if TEMP.fullmatch(name) or LINK_TEMP.fullmatch(name):
            mine = True
        elif entry.is_symlink():
            mine = name == CURRENT or os.readlink(entry).startswith(f"{CURRENT}/")
        elif VERSION.fullmatch(name) or name == CURRENT:
            mine = entry.is_dir()
            foreign += [f"{name}/{rel}" for rel in _not_listed(entry, _listed(entry) or [])]
        else:
            mine = name in tops or name in OWN_FILES or name == EVALUATION_FILE
            if mine and entry.is_dir():
                foreign += [rel for rel in _not_listed(out, listed or []) if rel.startswith(f"{name}/")]
        if mine:
            ours.add(name)
        elif entry.is_dir() and not entry.is_symlink():
            foreign += [str(p.relative_to(out)) for p in _files(entry)] or [name]
        else:
            foreign.append(name)
    return ours, foreign


def _listed(folder: Path) -> list[str] | None:
    """The file names a manifest at the top of `folder` lists, read leniently (this only
    decides what is the model's own), or None without one."""
    try:
        with open(folder / MANIFEST_FILE, "rb") as fh:
            manifest = json.loads(fh.read(MAX_MANIFEST_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    return [str(k) for k in files] if isinstance(files, dict) else None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir() or p.is_symlink())


def _not_listed(folder: Path, listed: list[str]) -> list[str]:
    known = set(listed) | set(OWN_FILES)
    return [rel for rel in (p.relative_to(folder).as_posix() for p in _files(folder)) if rel not in known]


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
    ours, foreign = ownership(out)
    if not ours & {CURRENT, MANIFEST_FILE} and not any(VERSION.fullmatch(n) or TEMP.fullmatch(n) for n in ours):
        raise ModelOutError(f"--out {out} is a folder that is not an imr-ml model directory: "
                            "name a new or empty folder")
    if foreign:
        raise ModelOutError(f"--out {out} is a model directory that also holds {foreign[0]}"
                            f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}: "
                            "move it out or name another folder")
