"""`imr-ml train`: fit, calibrate and honestly score a model; write a model directory.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, fewer_gc_pauses, jobs_option, read_inputs, writing
from imr_ml.cli.display import progress

EXAMPLES = """Examples:

  imr-ml train corpus.jsonl --out models/mine

  imr-ml train corpus.jsonl --out models/big --streaming --folds 3
"""


# imr_ml.modeling.training.fitting.DEFAULT_GRID, written out so that --help stays instant (a test keeps them equal)
PRIOR_WEIGHTS = "0.1,0.25,0.5,1,2,4"


@command(EXAMPLES)
def train(
    inputs: list[Path] = typer.Argument(..., metavar="INPUT...",
                                        help="Corpus (.jsonl/.parquet) or letter files/folders."),
    out: Path = typer.Option(..., "--out", "-o", metavar="MODEL_DIR", help="Model directory to write."),
    split: str = typer.Option("grouped", "--split", metavar="grouped|temporal", help=(
        "How to estimate performance: grouped (CV by letter) or temporal (latest letters held out).")),
    seed: int = typer.Option(0, "--seed", metavar="N",
                             help="Seed for fold shuffles (training is deterministic given it)."),
    folds: int = typer.Option(5, "--folds", metavar="N", help="Cross-validation folds (grouped by letter)."),
    repeats: int = typer.Option(1, "--repeats", metavar="N", help="Repeats of the outer CV (for the spread)."),
    weights: str | None = typer.Option(None, "--prior-weight", metavar="W,...", help=(
        "Weights of the guideline priors (each multiplies every prior's precision) to choose from by "
        f"letter-grouped CV, default {PRIOR_WEIGHTS}; above 1 trusts the guidelines more than their stated strength.")),
    words: bool = typer.Option(False, "--words", help=(
        "Also use TF-IDF words of the summary and item (they encode letter style: off by default).")),
    calibration: str = typer.Option("auto", "--calibration", metavar="auto|sigmoid|isotonic|none", help=(
        "auto (sigmoid from 100 overturned items, else the model's own probabilities), sigmoid, isotonic or none.")),
    no_estimate: bool = typer.Option(False, "--no-estimate", help="Skip the outer CV (faster; card has no metrics)."),
    streaming: bool | None = typer.Option(None, "--streaming/--no-streaming", help=(
        "Large-corpus procedure: features once in parallel, hashed TF-IDF, calibration and metrics on held-out "
        "letters (default: from 200,000 items).")),
    jobs: int = typer.Option(0, "--jobs", "-j", metavar="N", help=(
        "Processes computing features in the streaming procedure (0: every core).")),
    labels_from: str = typer.Option("label", "--labels-from", metavar="label|decision", help=(
        "label: labels must agree with decisions; decision: take every label from the decision.")),
    precedents: bool = typer.Option(True, "--precedents/--no-precedents", help=(
        "Keep an index of the training items in the model, shown as similar past decisions (`imr-ml similar`).")),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest summary as JSON."),
):
    """Train a calibrated model from labelled letters and write MODEL_DIR (model, manifest, card)."""
    from imr_ml.modeling.modelfiles.modelio import (
        ModelLoadError,
        ModelOutError,
        check_model_out,
        manifest_digest,
        read_manifest,
    )
    from imr_ml.modeling.training.data import TrainError
    from imr_ml.modeling.training.fitting import DEFAULT_GRID, TrainOptions
    from imr_ml.modeling.training.train import save
    from imr_ml.modeling.training.train import train as train_model

    try:
        grid = DEFAULT_GRID if not weights else tuple(
            {"prior_weight": float(w)} for w in weights.split(",") if w.strip())
    except ValueError:
        fail(f"--prior-weight must be comma-separated numbers, not {weights!r}")
    try:
        opts = TrainOptions(split=split, seed=seed, n_splits=folds, cv_repeats=repeats, grid=grid,
                            calibration=calibration, estimate=not no_estimate, streaming=streaming,
                            n_jobs=jobs_option(jobs) if jobs else 0, labels_from=labels_from,
                            pipeline={"use_tfidf": True} if words else {})
        check_model_out(out, inputs)
    except (TrainError, ModelOutError) as exc:
        fail(str(exc))
    check_out(out, folder=True)
    show = sys.stderr.isatty() and not as_json
    rows = read_inputs(inputs, show_progress=show)
    if not rows:
        fail("no training rows found in the inputs")
    _say_forecast(rows, opts, as_json)
    try:
        with progress(show) as rep, fewer_gc_pauses():  # the CLI, not the library, tunes the GC for itself
            result = train_model(rows, opts, reporter=rep, inputs=[str(p) for p in inputs])
        with writing(out):
            path = save(result, out, precedents=precedents)
    except (TrainError, ModelLoadError, ModelOutError) as exc:
        fail(str(exc))
    manifest = read_manifest(path)  # as saved: with the files' hashes
    summary = train_summary(str(path), manifest) | {"manifest_sha256": manifest_digest(path)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for line in summary_lines(summary, manifest):
        typer.echo(line)


def train_summary(path: str, m: dict) -> dict:
    """What `--json` prints: the data, the chosen hyperparameters and the cross-validated
    metrics, fold means each beside the 95% letter-bootstrap interval of the pooled value."""
    pooled = ((m["cv"] or {}).get("pooled") or {}).get("overall", {})
    return {
        "out": path,
        "n_letters": m["data"]["n_letters"],
        "n_items": m["data"]["n_items"],
        "n_overturned": m["data"]["n_overturned"],
        "hyperparameters": m["hyperparameters"],
        "model_sha256": m["model_sha256"],
        "precedents": {k: m["precedents"][k] for k in ("n_items", "n_letters")} if m.get("precedents") else None,
        "cv": {name: {**{k: v["mean"] for k, v in s.items()},
                      **{f"{k}_ci": pooled.get(name, {}).get(f"{k}_ci") for k in s}}
               for name, s in (m["cv"] or {}).get("summary", {}).items()},
        "cv_pooled": pooled,
    }


def summary_lines(summary: dict, m: dict) -> list[str]:
    """The summary as the terminal shows it: data, choice, fold and pooled metrics."""
    from imr_ml.modeling.training.card import fmt, fmt_ci

    chosen = summary["hyperparameters"] or "the pipeline defaults (too few overturned items to search)"
    lines = [f"{summary['n_letters']} letters, {summary['n_items']} items ({summary['n_overturned']} overturned); "
             f"chose {chosen}"]
    if m["cv"]:
        lines.append(f"{m['cv']['protocol']}:")
        for name, s in m["cv"]["summary"].items():
            lines.append(f"  {name:<15} ROC AUC {fmt(s, 'roc_auc')}  AP {fmt(s, 'average_precision')}  "
                         f"Brier {fmt(s, 'brier')}  ECE {fmt(s, 'ece')}")
        lines.append("pooled out-of-fold, [95% interval, letters resampled]:")
        for name, s in summary["cv_pooled"].items():
            lines.append(f"  {name:<15} ROC AUC {fmt_ci(s, 'roc_auc')}  AP {fmt_ci(s, 'average_precision')}  "
                         f"Brier {fmt_ci(s, 'brier')}  ECE {fmt_ci(s, 'ece')}")
    if summary["precedents"]:
        lines.append(f"precedents: {summary['precedents']['n_items']} items of {summary['precedents']['n_letters']} "
                     "letters indexed (`imr-ml similar`, `imr-ml search`)")
    digest = f"manifest sha256 {summary['manifest_sha256']}; " if summary.get("manifest_sha256") else ""
    return lines + [f"model -> {summary['out']}/ ({digest}see MODEL_CARD.md)"]


def _say_forecast(rows: list[dict], opts, quiet: bool) -> None:
    """An honest forecast of the run's length on stderr, with the faster options when long."""
    from imr_ml.modeling.training.streaming import STREAMING_MIN_ITEMS
    from imr_ml.modeling.training.train import ESTIMATE_SAMPLE, forecast_seconds

    if quiet or len(rows) < 5 * ESTIMATE_SAMPLE or (opts.streaming is None and len(rows) >= STREAMING_MIN_ITEMS):
        return
    seconds = forecast_seconds(rows, opts)
    minutes = seconds / 60
    length = f"{minutes:.0f} min" if minutes >= 1 else f"{seconds:.0f} s"
    typer.echo(f"forecast: about {length} (features of {ESTIMATE_SAMPLE} rows timed, times "
               f"{len(rows)} rows and {opts.n_splits * opts.cv_repeats + 1 if opts.estimate else 1} fits)", err=True)
    if minutes > 5:
        typer.echo("hint: --no-estimate, --folds 3 or --streaming (one fit, features on every core) finish sooner",
                   err=True)
