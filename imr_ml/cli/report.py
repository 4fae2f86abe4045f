"""`imr-ml report`: the feature-importance report of a model (HTML with plots, and JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from imr_ml.cli._app import app, check_out, fail, read_inputs, writing


def run_report(model_dir: str, corpus: list[str] | None, out: str) -> dict:
    from imr_ml.modelio import ModelLoadError, load_model_dir
    from imr_ml.report import build_report
    from imr_ml.rowcheck import check_labels, check_row_types
    from imr_ml.train import TrainError

    check_out(out, folder=True)
    try:
        loaded = load_model_dir(model_dir)
    except ModelLoadError as exc:
        fail(str(exc))
    rows = read_inputs(corpus) if corpus else None
    try:
        check_row_types(rows or [])
        rows = check_labels(rows or [])
        with writing(out):
            return build_report(loaded, rows, out)
    except TrainError as exc:
        fail(str(exc))


@app.command()
def report(
    model_dir: Path = typer.Argument(..., help="Model directory written by `imr-ml train`."),
    corpus: Optional[List[Path]] = typer.Option(None, "--corpus", help="Held-out labelled corpus or letters."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for report.html, report.json and plots."),
):
    """Global weights, permutation importance, calibration, precision-recall, per-category lift."""
    data = run_report(str(model_dir), [str(c) for c in corpus] if corpus else None, str(out))
    if "held_out" in data:
        m = data["held_out"]["metrics"]
        typer.echo(f"held-out: {data['held_out']['n_items']} items, ROC AUC {m['roc_auc']:.3f}, "
                   f"AP {m['average_precision']:.3f}, Brier {m['brier']:.3f}")
    typer.echo(f"report -> {out / 'report.html'}")
