"""The CLI's progress display: one rich bar on stderr, shown only where someone watches.

Public so that a test (or another front end) can hand it to long library work as its
`imr_ml.modeling.training.progress.Reporter`; rich is imported only when a bar is made, as `imr-ml
--help` must not pay for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from imr_ml.modeling.training.progress import NULL_REPORTER, Reporter


class Bar:
    """The CLI's one progress display, a rich bar on stderr. It is an `imr_ml.modeling.training.progress.Reporter`
    (`start` a stage, `advance` it) and also takes absolute counts (`update`)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                                 transient=True)
        self.task: TaskID | None = None

    def start(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def update(self, done: int, total: int | None = None) -> None:
        if self.task is None:
            return
        if total:
            self.progress.update(self.task, completed=done, total=total)
        else:
            self.progress.update(self.task, completed=done)


@contextmanager
def progress(enabled: bool) -> Iterator[Reporter]:
    """A progress display (`Bar`) when `enabled`, else one that shows nothing."""
    if not enabled:
        yield NULL_REPORTER
        return
    bar = Bar()
    with bar.progress:
        yield bar


@contextmanager
def progress_bar(enabled: bool, label: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """One labelled bar; yields its `update(done, total=None)` callback."""
    with progress(enabled) as bar:
        bar.start(label, total)
        yield bar.update
