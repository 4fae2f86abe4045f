"""`imr-ml report`: one self-contained HTML page about a model (and the same as JSON, or PDF).

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, load_model, read_inputs, writing

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def report_paths(out: Path) -> Path:
    """The HTML file `--out` names: itself when it ends in .html, else report.html in that folder."""
    return out if out.suffix.lower() == ".html" else out / "report.html"


def browser() -> str | None:
    """A headless-capable browser to print the PDF with, if one is installed."""
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def print_pdf(page: Path, exe: str) -> Path:
    """page.pdf beside the page, printed by the browser `exe` (which embeds the plots as drawn)."""
    pdf = page.with_suffix(".pdf")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf}", page.resolve().as_uri()]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as exc:
        fail(f"cannot print {pdf} with {cmd[0]}: {exc}")
    return pdf


def run_report(model_dir: str, corpus: list[str] | None, out: Path, as_json: bool = False, pdf: bool = False) -> dict:
    """Write the report of `model_dir` (measured on `corpus`, else on the training CV's
    out-of-fold predictions) to `out`; returns its content. Bad input ends the command."""
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError
    from imr_ml.modeling.training.data import TrainError
    from imr_ml.modeling.training.rowcheck import check_labels, check_row_types
    from imr_ml.reporting.report import build_report, write_report

    page = report_paths(out)
    if page == out:
        check_out(out)
    else:
        check_out(out, folder=True)
    exe = browser() if pdf else None
    if pdf and exe is None:
        fail("--pdf needs chromium (or google-chrome) on the PATH; none is installed")
    loaded = load_model(model_dir)
    rows = read_inputs(corpus) if corpus else None
    try:
        check_row_types(rows or [])
        rows = check_labels(rows or [])
        data = build_report(loaded, rows, corpus_name=", ".join(corpus or []))
    except (TrainError, ModelLoadError) as exc:
        fail(str(exc))
    with writing(page):
        page.parent.mkdir(parents=True, exist_ok=True)
        write_report(data, page, page.with_suffix(".json") if as_json else None)
    if exe:
        print_pdf(page, exe)
    return data


EXAMPLES = """Examples:

  imr-ml report models/mine --out report/

  imr-ml report models/mine --corpus held_out.jsonl --out report.html --json
"""


@command(EXAMPLES)
def report(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR",
                                     help="Model directory written by `imr-ml train`, or `builtin`."),
    corpus: list[Path] | None = typer.Option(None, "--corpus", metavar="PATH", help=(
        "Held-out labelled corpus or letters (default: the training cross-validation's out-of-fold predictions).")),
    out: Path = typer.Option(..., "--out", "-o", metavar="PATH", help="report.html in this folder, or this FILE.html."),
    as_json: bool = typer.Option(False, "--json", help="Also write the same content as data (.json beside the page)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print the page to PDF (needs chromium)."),
):
    """One self-contained HTML page: executive summary, what moves outcomes, calibration,
    precision-recall, categories and the data the model saw."""
    data = run_report(str(model_dir), [str(c) for c in corpus] if corpus else None, out, as_json, pdf)
    page = report_paths(out)
    perf = data.get("performance")
    if perf:
        m = perf["metrics"]
        typer.echo(f"measured on {perf['n_items']} items: ROC AUC {m['roc_auc']:.3f}, AP {m['average_precision']:.3f}, "
                   f"Brier {m['brier']:.3f}")
    else:
        typer.echo("no measured performance (no held-out corpus, no cross-validated predictions)")
    typer.echo(f"report -> {page}" + (f" (+ {page.with_suffix('.json').name})" if as_json else "")
               + (f" (+ {page.with_suffix('.pdf').name})" if pdf else ""))
