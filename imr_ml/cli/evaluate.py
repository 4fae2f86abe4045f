"""`imr-ml evaluate`: score a saved model and its saved baselines on labelled letters."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from imr_ml.cli._app import app, fail, read_inputs


@app.command()
def evaluate(
    model_dir: Path = typer.Argument(..., help="Model directory written by `imr-ml train`."),
    corpus: List[Path] = typer.Argument(..., help="Labelled corpus (.jsonl/.parquet) or letter files/folders."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to save the report (default MODEL_DIR/evaluation.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Metrics (ROC AUC, AP, Brier, log-loss, ECE), per category, beside the baselines."""
    from imr_ml.modelio import ModelLoadError
    from imr_ml.textio import atomic_write_json
    from imr_ml.train import TrainError
    from imr_ml.train import evaluate as run

    rows = read_inputs(corpus, show_progress=sys.stderr.isatty() and not as_json)
    if not rows:
        fail("no labelled rows found to evaluate on")
    try:
        report = run(model_dir, rows)
    except (ModelLoadError, TrainError) as exc:
        fail(str(exc))
    target = out or (model_dir / "evaluation.json")
    try:
        atomic_write_json(report, target)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"{report['n_letters']} letters, {report['n_items']} items, {report['n_overturned']} overturned "
               f"(base rate {report['base_rate']:.3f})")
    if report["letters_seen_in_training"]:
        typer.echo(f"warning: {report['letters_seen_in_training']} of these letters were in the training data; "
                   "these scores are not held-out", err=True)

    labels = ["model", *report["baselines"], *(f"{c} ({s['n_items']})" for c, s in report["by_category"].items())]
    w = max(len(x) for x in labels)

    def line(name, s):
        f = lambda k: "—" if s.get(k) is None else f"{s[k]:.3f}"  # noqa: E731
        return (f"  {name:<{w}} {f('roc_auc'):>7} {f('average_precision'):>7} {f('brier'):>7} "
                f"{f('log_loss'):>8} {f('ece'):>7}")

    typer.echo(f"  {'':<{w}} {'ROC AUC':>7} {'AP':>7} {'Brier':>7} {'log-loss':>8} {'ECE':>7}")
    typer.echo(line("model", report))
    for name, s in report["baselines"].items():
        typer.echo(line(name, s))
    typer.echo("per category (model):")
    for cat, s in report["by_category"].items():
        typer.echo(line(f"{cat} ({s['n_items']})", s))
    typer.echo(f"report -> {target}")
