"""The shared typer app and the one way commands report a clean, one-line error."""

import gc
from contextlib import contextmanager

import typer

from imr_ml.modeling.progress import NULL_REPORTER

app = typer.Typer(
    name="imr-ml",
    help="Learn from California IMR determination letters; score new treatment requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


BATCH_GC_YOUNG = 1_000_000  # young-generation GC threshold of batch commands


@contextmanager
def fewer_gc_pauses():
    """Collect garbage less often inside (application code: the library never changes
    interpreter-wide GC state); the previous thresholds come back on exit.

    Text analysis allocates millions of short-lived, acyclic objects that die by reference
    counting; with CPython's default thresholds much of a batch's time goes to young-generation
    collections (about 40% of batch scoring, `experiments/bench_score.py`, and 15% of
    training). Nothing is frozen, so cyclic garbage is still collected.
    """
    old = gc.get_threshold()
    gc.set_threshold(BATCH_GC_YOUNG, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Learn from California IMR determination letters; score new treatment requests."""
    if version:
        from imr_ml import __version__

        typer.echo(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:  # options but no command
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def refuse_overwrite(out, inputs) -> None:
    """No command writes over one of its own inputs."""
    import os

    for p in inputs:
        if os.path.realpath(out) == os.path.realpath(p):
            fail(f"--out would overwrite the input {p}; choose another --out")


class _Bar:
    """The CLI's one progress display, a rich bar on stderr. It is an `imr_ml.modeling.progress.Reporter`
    (`start` a stage, `advance` it) and also takes absolute counts (`update`)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                                 transient=True)
        self.task = None

    def start(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)

    def update(self, done: int, total: int | None = None) -> None:
        self.progress.update(self.task, completed=done, **({"total": total} if total else {}))


@contextmanager
def progress(enabled: bool):
    """A progress display (`_Bar`) when `enabled`, else one that shows nothing."""
    if not enabled:
        yield NULL_REPORTER
        return
    bar = _Bar()
    with bar.progress:
        yield bar


@contextmanager
def progress_bar(enabled: bool, label: str, total: int | None = None):
    """One labelled bar; yields its `update(done, total=None)` callback."""
    with progress(enabled) as bar:
        bar.start(label, total)
        yield bar.update


def read_inputs(inputs, show_progress: bool = False) -> list[dict]:
    """Rows from corpus files and/or letters for a command; skipped letters are listed on
    stderr, and no usable input ends the command with one line."""
    from imr_ml.letters.ingest import NoRows, load_rows

    with progress_bar(show_progress, "Reading letters") as update:
        try:
            return load_rows([str(p) for p in inputs], progress=update,
                             on_skip=lambda s: typer.echo(f"skipped {s['source']}: {s['reason']}", err=True))
        except NoRows as exc:
            fail(str(exc))


def check_out(path, *, folder: bool = False) -> None:
    """End the command with one line, before any work, if `path` cannot be written."""
    from imr_ml.textio import OutputError, check_output

    try:
        check_output(path, folder=folder)
    except OutputError as exc:
        fail(str(exc))


@contextmanager
def writing(path):
    """A write of `path` that fails (disk full, permissions) ends the command with one line."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
