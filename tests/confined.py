"""Running the command line where writing fails: a read-only folder and a full one, also as
root (CI runs as root, and root writes into any folder whatever its mode).

A read-only folder is made so for the command in the first way that works here: its mode when
not root; as root, the command runs as an unprivileged user (`setpriv`, uid 65534); failing
that, the folder is a read-only bind mount. A full folder is a tiny tmpfs when mounting is
allowed, else the command runs with a file-size limit (every write past it fails with EFBIG,
as a full disk fails with ENOSPC). Where none works the test skips, saying why.

The command runs in a process of its own (`python -m imr_ml`), in a folder every user can
read, so its inputs are copied there first (`Confined.put`).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


class Confined:
    """A folder every user can read (`base`), holding `folder`, where the command cannot write."""

    def __init__(self, base: Path, prefix: list[str], limit: int | None = None) -> None:
        self.base, self.prefix, self.limit = base, prefix, limit
        self.folder = base / "confined"
        self.writable = base / "writable"  # where the command may write

    def put(self, src: Path) -> Path:
        """A copy of `src` (file or folder, links kept) in `base`, readable by the command."""
        dst = self.base / src.name
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy(src, dst)
        return dst

    def run(self, *args, input: str | None = None) -> subprocess.CompletedProcess:
        """`imr-ml ARGS` run so that writing into `folder` fails."""
        env = dict(os.environ, HOME=str(self.base), MPLCONFIGDIR=str(self.base / ".mpl"))

        def limit() -> None:
            if self.limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self.limit))

        return subprocess.run([*self.prefix, sys.executable, "-m", "imr_ml", *map(str, args)], input=input,
                              capture_output=True, text=True, timeout=600, cwd=self.base, env=env,
                              preexec_fn=limit)


@contextmanager
def _shared_base() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="imr-ml-confined-"))
    base.chmod(0o755)
    for name in (".mpl", "writable"):
        (base / name).mkdir()
        (base / name).chmod(0o777)
    try:
        yield base
    finally:
        for p in (base, *base.rglob("*")):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _as_nobody_works(base: Path) -> bool:
    """Whether the command can run as uid 65534 here (setpriv present, root may drop to it,
    and that user can read Python and imr-ml)."""
    return bool(shutil.which("setpriv")) and _works(
        [*NOBODY, sys.executable, "-c", f"import imr_ml, os; os.listdir({str(base)!r})"])


@contextmanager
def read_only_folder(*contents: Path) -> Iterator[Confined]:
    """A `Confined` whose folder, holding copies of `contents`, the command cannot write into
    (see the module)."""
    with _shared_base() as base:
        nobody = ROOT and _as_nobody_works(base)
        c = Confined(base, NOBODY if nobody else [])
        c.folder.mkdir()
        for src in contents:
            (shutil.copytree(src, c.folder / src.name, symlinks=True) if src.is_dir()
             else shutil.copy(src, c.folder / src.name))
        if not ROOT or nobody:
            for p in (c.folder, *c.folder.rglob("*")):
                if p.is_dir() and not p.is_symlink():
                    p.chmod(0o555)
            yield c
            return
        if not _works(["mount", "--bind", str(c.folder), str(c.folder)]):
            pytest.skip("running as root without setpriv or mount: no folder can be read-only to the command")
        try:
            if not _works(["mount", "-o", "remount,bind,ro", str(c.folder)]):
                pytest.skip("running as root, and the bind mount cannot be made read-only")
            yield c
        finally:
            subprocess.run(["umount", str(c.folder)], capture_output=True)


@contextmanager
def unprivileged() -> Iterator[Confined]:
    """A `Confined` whose command runs without root's right to read and write everything: as
    this user when not root, else as uid 65534 (skips when neither is possible)."""
    with _shared_base() as base:
        if ROOT and not _as_nobody_works(base):
            pytest.skip("running as root without a way to drop to an unprivileged user (setpriv)")
        c = Confined(base, NOBODY if ROOT else [])
        c.folder.mkdir()
        c.folder.chmod(0o755)
        yield c


@contextmanager
def full_folder(size_kb: int = 256) -> Iterator[Confined]:
    """A `Confined` whose folder fills up after about `size_kb` KB (see the module)."""
    with _shared_base() as base:
        c = Confined(base, [])
        c.folder.mkdir()
        mounted = ROOT and _works(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(c.folder)])
        if not mounted:
            c.limit = size_kb * 1024
        try:
            yield c
        finally:
            if mounted:
                subprocess.run(["umount", str(c.folder)], capture_output=True)
