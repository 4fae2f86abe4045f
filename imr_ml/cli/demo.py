"""`imr-ml demo`: synthesise, ingest, train, evaluate, score and report in one go.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail
from imr_ml.cli.display import progress

EXAMPLES = """Examples:

  imr-ml demo

  imr-ml demo --letters 500 --out demo-out/ --json
"""


@command(EXAMPLES)
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for everything the demo makes."),
    letters: int = typer.Option(1500, "--letters", help="Synthetic letters to generate."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON at the end."),
):
    """Run the whole job on a built-in synthetic corpus (no real data needed)."""
    from imr_ml.demo import DemoError, run_demo
    from imr_ml.letters.ingest import IngestError
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError, ModelOutError
    from imr_ml.modeling.training.data import TrainError

    check_out(out, folder=True)
    try:
        with progress(sys.stderr.isatty() and not as_json) as rep:
            result = run_demo(out, letters=letters, seed=seed, say=(lambda *_: None) if as_json else typer.echo,
                              reporter=rep)
    except (DemoError, IngestError, TrainError, ModelLoadError, ModelOutError) as exc:
        fail(str(exc))
    except OSError as exc:  # a folder that fills up or turns read-only midway
        fail(f"cannot write in {out}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
