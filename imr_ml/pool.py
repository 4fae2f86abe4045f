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
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 30  # for the running tasks of a stopped pool to end before their workers are killed


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_count(n_jobs: int) -> int:
    """The processes to start for `n_jobs`: 0 (or less) means one per usable core, and more
    than the cores is capped to them (extra workers only contend for the same cores and
    each holds its own copy of the model: `--jobs 300` on 2 cores would fork 300)."""
    cores = usable_cores()
    return cores if n_jobs <= 0 else min(n_jobs, cores)


class WorkerCrashed(RuntimeError):
    """A worker process died while running a task (killed, or it exited abruptly)."""


def ordered_map(fn: Callable, tasks: Iterable, n_jobs: int, initializer: Callable | None = None,
                initargs: tuple = (), in_flight: int = 4,
                on_crash: Callable[[object], object] | None = None) -> Generator:
    """`fn(task)` for every task, in the tasks' order, over `n_jobs` worker processes.

    `n_jobs` is capped to the usable cores (`worker_count`). At most `in_flight` tasks per
    worker are submitted ahead, so a long stream of tasks is never all held in memory.
    Workers are forked where the platform allows: they start at once, share the parent's
    loaded model and rules, and need no importable `__main__`. A task whose worker dies
    yields `on_crash(task)`; without `on_crash` it raises `WorkerCrashed`. Closing the
    generator early (a consumer that failed) stops the pool (`_Pool.stop`).
    """
    n_jobs = worker_count(n_jobs)
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
        """Stop early (an interrupt, a consumer that failed: a full disk): the tasks not
        started are cancelled, the running ones end (at most `STOP_GRACE_SECONDS`), then the
        workers exit and the executor's thread with them, before this returns (a thread left
        running races the interpreter's exit: a hang in its join). A worker is killed only
        past the grace: one killed while it sends its result leaves half a message that the
        executor's thread would wait on forever, so its end of the result pipe is closed then,
        and the wait ends. (Python 3.14 has `kill_workers`; before it only the executor's
        private attributes know the processes, the thread and the pipe.)"""
        ex = self.executor
        processes = list((getattr(ex, "_processes", None) or {}).values())
        thread = getattr(ex, "_executor_manager_thread", None)
        results = getattr(ex, "_result_queue", None)
        ex.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
        stuck = [p for p in processes if p.is_alive()]
        for p in stuck:
            p.kill()
        for p in stuck:
            p.join(5)
        writer = getattr(results, "_writer", None)  # the parent's end: with the workers' gone, the wait sees EOF
        if stuck and writer is not None:
            writer.close()
        if thread is not None:
            thread.join()


def die_with_parent(parent: int) -> None:
    """Tie this process's life to its parent's (pid `parent`): on Linux the kernel kills it
    when the parent dies, even by SIGKILL; if the parent is already gone, exit now. Also used
    by `imr-ml serve --workers`, whose workers must not keep serving an old model on the port."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl (musl, a sandbox): the parent check below still holds
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
