"""Work spread over processes, its results back in order, a bounded number in flight.

Workers never outlive the run: they die with their parent (Linux `PR_SET_PDEATHSIG`, and a
parent-pid check everywhere), and an interrupted run stops them before it unwinds. A worker
that dies mid-task costs only that task: `concurrent.futures` then fails every pending task
with `BrokenProcessPool` without saying which one killed it, so the pool is recreated and
the failed tasks are rerun one at a time to find the one that crashes.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

PR_SET_PDEATHSIG = 1


class WorkerCrashed(RuntimeError):
    """A worker process died while running a task (killed, or it exited abruptly)."""


def ordered_map(fn: Callable, tasks: Iterable, n_jobs: int, initializer: Callable | None = None,
                initargs: tuple = (), in_flight: int = 4,
                on_crash: Callable[[object], object] | None = None) -> Iterator:
    """`fn(task)` for every task, in the tasks' order, over `n_jobs` worker processes.

    At most `in_flight` tasks per worker are submitted ahead, so a long stream of tasks is
    never all held in memory. Workers are forked where the platform allows: they start at
    once, share the parent's loaded model and rules, and need no importable `__main__`.
    A task whose worker dies yields `on_crash(task)`; without `on_crash` it raises
    `WorkerCrashed`.
    """
    pool = _Pool(n_jobs, (initializer, initargs))
    try:
        pending: deque[tuple[object, Future]] = deque()
        for task in tasks:
            pending.append((task, pool.submit(fn, task)))
            if len(pending) >= in_flight * n_jobs:
                yield pool.result(*pending.popleft(), fn, on_crash)
        while pending:
            yield pool.result(*pending.popleft(), fn, on_crash)
    except BaseException:
        pool.stop()
        raise
    pool.close()


class _Pool:
    """A `ProcessPoolExecutor` that is replaced when a worker dies."""

    def __init__(self, n_jobs: int, init: tuple) -> None:
        self.n_jobs, self.init = n_jobs, init
        self.ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.n_jobs, mp_context=self.ctx, initializer=_worker_init,
                                   initargs=(os.getpid(), *self.init))

    def submit(self, fn: Callable, task) -> Future:
        try:
            return self.executor.submit(fn, task)
        except BrokenProcessPool:  # a worker died since the last submit
            self.executor.shutdown(wait=False)
            self.executor = self._new()
            return self.executor.submit(fn, task)

    def result(self, task, future: Future, fn: Callable, on_crash):
        """The task's result; when its pool broke, rerun it in a pool of its own, and if that
        breaks too, this is the task that kills its worker."""
        try:
            return future.result()
        except BrokenProcessPool:
            pass
        solo = ProcessPoolExecutor(1, mp_context=self.ctx, initializer=_worker_init, initargs=(os.getpid(), *self.init))
        try:
            return solo.submit(fn, task).result()
        except BrokenProcessPool:
            if on_crash is None:
                raise WorkerCrashed("a worker process died while running a task") from None
            return on_crash(task)
        finally:
            solo.shutdown(wait=True)

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    def stop(self) -> None:
        """Cancel what has not started and end the workers now: an interrupt must not wait
        for their tasks (Python 3.14 has `kill_workers`; before it only `_processes` knows
        them)."""
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.kill()
        for p in processes:
            p.join(5)


def die_with_parent(parent: int) -> None:
    """Tie this process's life to its parent's (pid `parent`): on Linux the kernel kills it
    when the parent dies, even by SIGKILL; if the parent is already gone, exit now. Also used
    by `imr-ml serve --workers`, whose workers must not keep serving an old model on the port."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _worker_init(parent: int, initializer: Callable | None, initargs: tuple) -> None:
    """Tie the worker's life to its parent's, leave Ctrl-C to the parent, then run the
    caller's initializer."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)
