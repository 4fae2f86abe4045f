"""Work spread over processes, its results back in order, a bounded number in flight."""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator


def ordered_map(fn: Callable, tasks: Iterable, n_jobs: int, initializer: Callable | None = None,
                initargs: tuple = (), in_flight: int = 4) -> Iterator:
    """`fn(task)` for every task, in the tasks' order, over `n_jobs` worker processes.

    At most `in_flight` tasks per worker are submitted ahead, so a long stream of tasks is
    never all held in memory. Workers are forked where the platform allows: they start at
    once, share the parent's loaded model and rules, and need no importable `__main__`.
    """
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=initializer, initargs=initargs) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(fn, task))
            if len(pending) >= in_flight * n_jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
