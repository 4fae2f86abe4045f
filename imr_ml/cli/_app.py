"""The shared typer app and the one way commands report a clean, one-line error."""

from contextlib import contextmanager

import typer

app = typer.Typer(
    name="imr-ml",
    help="Learn from California IMR determination letters; score new treatment requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Learn from California IMR determination letters; score new treatment requests."""
    if version:
        from imr_ml import __version__

        typer.echo(__version__)
        raise typer.Exit()


@contextmanager
def progress_bar(enabled: bool, label: str, total: int | None = None):
    """A rich progress bar on stderr when `enabled`; yields an `update(done, total=None)`
    callback (a no-op when disabled)."""
    if not enabled:
        yield lambda done, total=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, total=None: bar.update(task, completed=done, **({"total": total} if total else {}))


def read_inputs(inputs, show_progress: bool = False) -> list[dict]:
    """Rows from corpus files and/or letters for a command; skipped letters are listed on
    stderr, and no usable input ends the command with one line."""
    from imr_ml.ingest import NoRows, load_rows

    with progress_bar(show_progress, "Reading letters") as update:
        try:
            return load_rows([str(p) for p in inputs], progress=update,
                             on_skip=lambda s: typer.echo(f"skipped {s['source']}: {s['reason']}", err=True))
        except NoRows as exc:
            fail(str(exc))
