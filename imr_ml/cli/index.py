"""`imr-ml index`: an index of past decisions from letters or a corpus, without training a
model (an archive to search, or precedents for the built-in model).

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, jobs_option, progress_bar, read_inputs, writing

EXAMPLES = """Examples:

  imr-ml index corpus.jsonl --out archive-index/

  imr-ml index letters/ --out letters-index/ --jobs 4 --json
"""


@command(EXAMPLES)
def index(
    inputs: list[Path] = typer.Argument(..., metavar="INPUT...",
                                        help="Corpus (.jsonl/.parquet) or letter files/folders."),
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR", help="A new (or empty) folder to write."),
    jobs: int = typer.Option(0, "--jobs", "-j", metavar="N",
                             help="Processes reading the items' signals (0: every core)."),
    as_json: bool = typer.Option(False, "--json", help="Print the index's manifest as JSON."),
):
    """Index past decisions for `imr-ml similar` and `imr-ml search`, without training a model."""
    from imr_ml.modeling.modelfiles.precedent_files import write_index_folder
    from imr_ml.precedents.store import PrecedentsError
    from imr_ml.textio import OutputError

    check_out(out, folder=True)
    if out.is_dir() and any(out.iterdir()):
        fail(f"--out {out} is a folder that holds files: name a new or empty folder")
    n_jobs = jobs_option(jobs)
    show = sys.stderr.isatty() and not as_json
    rows = read_inputs(inputs, show_progress=show)
    try:
        with progress_bar(show, "Indexing items", len(rows)) as update, writing(out):
            manifest = write_index_folder(rows, out, progress=update, profiled=parallel_profiles(n_jobs),
                                          inputs=[str(p) for p in inputs])
    except (PrecedentsError, OutputError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(manifest, indent=2))
        return
    skipped = manifest["n_without_decision"]
    typer.echo(f"{manifest['n_letters']:,} letters, {manifest['n_items']:,} items ({manifest['n_overturned']:,} "
               f"overturned) indexed in {manifest['build_seconds']:.1f} s -> {out}/"
               + (f"; {skipped:,} items without a decision left out" if skipped else ""))


def parallel_profiles(n_jobs: int):
    """Profiles of batches of rows computed by `n_jobs` processes (in order), or None for one."""
    if n_jobs <= 1:
        return None
    from functools import partial

    from imr_ml.pool import ordered_map
    from imr_ml.precedents.profile import profile_batch

    return lambda batches: ordered_map(partial(profile_batch), batches, n_jobs)
