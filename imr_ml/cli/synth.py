"""`imr-ml synth`: write synthetic IMR letters with a known truth (truth.jsonl, dgp.json).

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import command, fail
from imr_ml.cli.display import progress_bar


def run_synth(n_letters: int, out_dir: str, seed: int = 0, pdf: bool = False, start: int = 0,
              layouts: str | None = None, progress=None) -> dict:
    """Generate the corpus; returns the summary the command prints."""
    from imr_ml.synth.generate import DEFAULT_LAYOUT_MIX, generate_corpus, parse_layout_mix

    mix = parse_layout_mix(layouts) if layouts else DEFAULT_LAYOUT_MIX
    return generate_corpus(n_letters, out_dir, seed=seed, pdf=pdf, start=start, layout_mix=mix, progress=progress)


EXAMPLES = """Examples:

  imr-ml synth --letters 10000 --out synth/

  imr-ml synth -n 200 --out synth/ --layouts 2014 --json
"""


@command(EXAMPLES)
def synth(
    letters: int = typer.Option(..., "--letters", "-n", help="How many letters to write."),
    out: Path = typer.Option(..., "--out", "-o", help=(
        "A new (or empty) folder for the letters, truth.jsonl and dgp.json; written whole or not at all.")),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same letters)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write each letter as a PDF (slow; small N)."),
    start: int = typer.Option(0, "--start", help="Number of the first letter (to generate a range)."),
    layouts: str | None = typer.Option(
        None, "--layouts", metavar="LAYOUT=SHARE,...",
        help="Layout mix, e.g. '2016=0.8,2013=0.1,2014=0.1' or just '2014'."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
):
    """Write synthetic determination letters whose true outcome probability is known."""
    if letters < 1:
        fail("--letters must be at least 1")
    if start < 0:
        fail("--start must be >= 0")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a folder")
    try:
        with progress_bar(sys.stderr.isatty() and not as_json and letters >= 500, "Writing letters", letters) as update:
            summary = run_synth(letters, str(out), seed, pdf, start, layouts, progress=update)
    except ValueError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror or e}")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        how = " (already there: nothing written)" if summary.get("reused") else f" in {summary['seconds']:.1f}s"
        typer.echo(
            f"{summary['n_letters']} letters, {summary['n_items']} items "
            f"({summary['n_overturned']} overturned, {summary['overturn_rate']:.1%}) -> {summary['out_dir']}"
            f"{how}; truth -> {summary['truth']}"
        )
