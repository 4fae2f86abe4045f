"""Atomic writes: a temp file in the target's folder, then a rename, so a reader (or a
killed run) never sees half a file."""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: str | Path):
    """Yield a temp path beside `target`; on success it replaces `target`, on any exception
    it is removed. Temp names are unique (concurrent writers never share one) and carry the
    writer's pid, so those left by a killed writer are removed by the next one."""
    with atomic_paths(target) as (tmp,):
        yield tmp


@contextmanager
def atomic_paths(*targets: str | Path):
    """`atomic_path` for files that go together (a page and its JSON): yield one temp path
    beside each target; on success they replace their targets all or none. A write or a
    rename that fails leaves every target as it was: the targets already replaced get their
    old files back (kept as hard links until the last rename). Only a run killed between
    two renames can leave a mixed pair."""
    paths = [Path(t) for t in targets]
    tmps: list[Path] = []
    try:
        for target in paths:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_orphans(target)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            tmps.append(Path(name))
        umask = os.umask(0)
        os.umask(umask)
        yield tmps
        for path in tmps:
            os.chmod(path, 0o666 & ~umask)
        _replace_together(tmps, paths)
    finally:
        for path in tmps:
            path.unlink(missing_ok=True)


def _replace_together(tmps: list[Path], targets: list[Path]) -> None:
    """Rename each temp file onto its target; if one rename fails, undo those done before."""
    done: list[tuple[Path, Path | None]] = []  # (target, its old file kept, or None: there was none)
    kept: list[Path] = []
    try:
        for i, (tmp, target) in enumerate(zip(tmps, targets)):
            old = None
            if i < len(targets) - 1 and target.is_file():  # the last rename has nothing after it to undo
                old = tmp.with_name(tmp.name.removesuffix(".tmp") + ".old.tmp")
                kept.append(old)
                try:
                    os.link(target, old)
                except OSError:  # a file system without hard links
                    shutil.copy2(target, old)
            os.replace(tmp, target)
            done.append((target, old))
    except BaseException:
        for target, old in reversed(done):
            if old is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(old, target)
        raise
    finally:
        for old in kept:
            old.unlink(missing_ok=True)


def _remove_orphans(target: Path) -> None:
    """Temp files (or folders) of `target` whose writer process is gone (killed with -9)."""
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = tmp.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def new_folder(target: str | Path):
    """Yield a temp folder beside `target`; on success it becomes `target` in one rename, so
    `target` appears whole or not at all (a stopped run leaves no half-written folder, and a
    killed one's temp folder is removed by the next writer). `target` must be missing or an
    empty folder: a folder that holds anything is never written into (OutputError).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700
        try:
            os.rename(tmp, target)  # POSIX replaces an empty folder; one that filled up meanwhile is refused
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise OutputError(f"{target} is not empty: it was written while this ran") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class OutputError(ValueError):
    """An output path that cannot be written; the message is one line saying why."""


def check_output(target: str | Path, *, folder: bool = False) -> None:
    """Refuse, before any work is done, an output path that cannot be written: a folder
    where a file goes (or a file where a folder goes), or a parent that is a file or is
    read-only. A missing parent is fine: it is created."""
    target = Path(target)
    if folder and target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder")
    if not folder and target.is_dir():
        raise OutputError(f"{target} is a folder: name a file")
    parent = next(p for p in target.absolute().parents if p.exists())
    if not parent.is_dir():
        raise OutputError(f"cannot write {target}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: {parent} is not writable")


def atomic_write_text(text: str, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_jsonl(rows, target: str | Path) -> None:
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def to_json(obj) -> str:
    """Indented JSON; numpy scalars and arrays and paths become plain values."""
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default) + "\n"


def _json_default(o):
    import numpy as np  # lazy: the CLI imports this module, and `imr-ml --help` must not load numpy

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def atomic_write_json(obj, target: str | Path) -> None:
    atomic_write_text(to_json(obj), target)


def atomic_write_parquet(rows: list[dict], target: str | Path) -> None:
    import pandas as pd  # lazy: only Parquet output needs pandas (0.3 s to import)

    with atomic_path(target) as tmp:
        pd.DataFrame(rows).to_parquet(tmp, index=False)
