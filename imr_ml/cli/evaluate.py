"""`imr-ml evaluate`: score a saved model and its saved baselines on labelled letters.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, read_inputs, refuse_overwrite

EXAMPLES = """Examples:

  imr-ml evaluate models/mine held_out.jsonl

  imr-ml evaluate builtin held_out.jsonl --json
"""


@command(EXAMPLES)
def evaluate(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="Model directory written by `imr-ml train`."),
    corpus: list[Path] = typer.Argument(..., metavar="CORPUS...",
                                        help="Labelled corpus (.jsonl/.parquet) or letter files/folders."),
    out: Path | None = typer.Option(None, "--out", "-o", metavar="FILE", help=(
        "Where to save the report (default: beside the model, MODEL_DIR.evaluation.json; "
        "never inside the model directory, which `train` replaces whole).")),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Metrics (ROC AUC, AP, Brier, log-loss, ECE), per category, beside the baselines."""
    from imr_ml.modeling.modelfiles.builtin import is_builtin
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError
    from imr_ml.modeling.training.data import TrainError
    from imr_ml.modeling.training.train import evaluate as run
    from imr_ml.textio import atomic_write_json

    if not is_builtin(model_dir) and not model_dir.is_dir():
        swapped = " did you swap MODEL_DIR and CORPUS?" if any(p.is_dir() for p in corpus) else ""
        fail(f"the first argument must be a model directory (from `imr-ml train`) or builtin, not {model_dir};"
             f"{swapped}".rstrip(";"))
    target = out or evaluation_path(model_dir)
    refuse_overwrite(target, corpus)
    check_out(target)
    rows = read_inputs(corpus, show_progress=sys.stderr.isatty() and not as_json)
    if not rows:
        fail("no labelled rows found to evaluate on")
    try:
        report = run(model_dir, rows)
    except (ModelLoadError, TrainError) as exc:
        fail(str(exc))
    try:
        atomic_write_json(report, target)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        typer.echo(f"report -> {target}", err=True)
        return
    from imr_ml.reporting.evaluation_text import format_evaluation

    typer.echo(format_evaluation(report))
    if report["letters_seen_in_training"]:
        typer.echo(f"warning: {report['letters_seen_in_training']} of these letters were in the training data; "
                   "these scores are not held-out", err=True)
    typer.echo(f"report -> {target}")


def evaluation_path(model_dir: Path) -> Path:
    """Where a model's evaluation goes unless --out says otherwise: beside the model
    (`models/mine` -> `models/mine.evaluation.json`), never inside the folder `train` replaces."""
    named = model_dir if model_dir.name not in ("", ".", "..") else model_dir.resolve()
    return named.parent / f"{named.name}.evaluation.json"
