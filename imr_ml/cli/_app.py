"""The shared typer app, the one way commands are registered (`command`: readable help ending
with examples) and the one way they report a clean, one-line error.

Library imports sit inside the helpers below, as in every command module: `imr-ml --help`
must not load pandas or scikit-learn."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from imr_ml.cli.display import progress_bar
from imr_ml.textio import OutputError, check_output

# what an option's value is called in the help, by its type (flags take no value)
READABLE_TYPES: dict[Any, str] = {bool: "", int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


class ReadableArgument(TyperArgument):
    """An argument shown by its name (`INPUT...`) alone: typer's rich help would add the
    annotation's type (`<list[Path]>`) and brace required arguments (`{inputs}...`)."""

    def display_type_rich(self, ctx) -> str | None:
        return None

    def get_usage_pieces(self, ctx) -> list[str]:
        name = self.metavar or self.name or ""
        return [name if self.required else f"[{name}]"]


def readable(param: TyperArgument | TyperOption) -> None:
    """Give `param` a readable name in help: arguments their upper-case name, options the
    kind of value they take, flags nothing (a metavar declared by the command wins)."""
    if isinstance(param, TyperArgument):
        # typer builds each argument from its annotation and takes no argument class to use
        param.__class__ = ReadableArgument
        if param.metavar is None:
            param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
    elif param.metavar is None:
        annotation = param.type_descriptor.annotation
        param.metavar = "" if param.is_flag else READABLE_TYPES.get(annotation, (param.name or "").upper())


class ReadableCommand(TyperCommand):
    """A command whose help names values as people do: `MODEL_DIR INPUT...`, `--top N`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument | TyperOption):
                readable(param)

    def get_help_option(self, ctx) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            readable(option)
        return option


class ReadableGroup(TyperGroup):
    """The `imr-ml` group, its own --help as readable as its commands'; a knowledge file that
    is refused (yours, `--rules my_signals.toml`, or a model's) ends any command with its one
    line, `file:line: what`, and exit 2."""

    def invoke(self, ctx):
        from imr_ml.knowledge.errors import KnowledgeError  # light: no TOML, no pydantic

        try:
            return super().invoke(ctx)
        except KnowledgeError as exc:
            fail(str(exc))

    def get_help_option(self, ctx) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            readable(option)
        return option


ROOT_EXAMPLES = """Examples:

  imr-ml demo

  imr-ml score builtin --item "Acupuncture 2x6 lumbar" --summary-file notes.txt

  imr-ml COMMAND --help
"""


app = typer.Typer(
    name="imr-ml",
    cls=ReadableGroup,
    help="Learn from California IMR determination letters; score new treatment requests.",
    epilog=ROOT_EXAMPLES,
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


def command(examples: str) -> Callable:
    """Register a command on `app` (its module is imported by `imr_ml.cli`): readable help,
    ending with `examples`."""
    return app.command(cls=ReadableCommand, epilog=examples)


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command: `error: message` on stderr, exit `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", metavar="", help="Print the version and exit.", is_eager=True),
) -> None:
    """Learn from California IMR determination letters; score new treatment requests."""
    if version:
        typer.echo(metadata.version("imr-ml"))  # the installed distribution's, as the model manifest records it
        raise typer.Exit()
    if ctx.invoked_subcommand is None:  # options but no command
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def jobs_option(jobs: int) -> int:
    """--jobs as the processes a command will start (0: one per core); more than the cores is
    capped to them, and the command says so."""
    from imr_ml.pool import worker_count

    if jobs < 0:
        fail(f"--jobs must be 0 (one per core) or a number of processes, not {jobs}")
    n = worker_count(jobs)
    if jobs > n:
        typer.echo(f"warning: --jobs {jobs} capped to {n}, the cores this command may use", err=True)
    return n


def refuse_overwrite(out, inputs) -> None:
    """No command writes over one of its own inputs."""
    for p in inputs:
        if os.path.realpath(out) == os.path.realpath(p):
            fail(f"--out would overwrite the input {p}; choose another --out")


def load_model(model_dir: str | Path):
    """The model directory (or `builtin`) loaded, or the command ended with one line (an
    unsafe or broken model directory: exit 2)."""
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir

    try:
        return load_model_dir(model_dir)
    except ModelLoadError as exc:
        fail(str(exc))


def read_inputs(inputs, show_progress: bool = False) -> list[dict]:
    """Rows from corpus files and/or letters for a command; skipped letters and dropped
    copies are said on stderr, and no usable input ends the command with one line."""
    from imr_ml.letters.ingest import NoRows, load_rows

    with progress_bar(show_progress, "Reading letters") as update:
        try:
            return load_rows([str(p) for p in inputs], progress=update,
                             on_skip=lambda s: typer.echo(f"skipped {s['source']}: {s['reason']}", err=True),
                             on_warning=lambda w: typer.echo(f"warning: {w}", err=True))
        except NoRows as exc:
            fail(str(exc))


def check_out(path, *, folder: bool = False) -> None:
    """End the command with one line, before any work, if `path` cannot be written."""
    try:
        check_output(path, folder=folder)
    except OutputError as exc:
        fail(str(exc))


@contextmanager
def writing(path) -> Iterator[None]:
    """A write of `path` that fails (disk full, permissions) ends the command with one line."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
