"""`imr-ml similar`: the past decisions most like each request, from a model's index of its
training letters or an index folder (`imr-ml index`), with why each matched and its outcome.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from imr_ml.cli._app import command, fail, progress_bar
from imr_ml.cli.request_options import Requests, takes_requests

EXAMPLES = """Examples:

  imr-ml similar models/mine --item "Lumbar epidural steroid injection L5-S1" --summary-file notes.txt

  imr-ml similar archive-index/ claims.csv --top 10 --json
"""
Source = Annotated[Path, typer.Argument(metavar="MODEL_OR_INDEX", help=(
    "A model directory (`imr-ml train` keeps an index of its letters) or an index folder (`imr-ml index`)."))]
Top = Annotated[int, typer.Option("--top", metavar="K", min=1, max=50, help="Precedents per request.")]


def open_index(source: Path):
    """The index of a model or index folder, or the command ended with its one line."""
    from imr_ml.modeling.modelfiles.precedent_files import IndexRefused, NoPrecedents
    from imr_ml.scoring.precedents import open_source

    try:
        return open_source(source)
    except (NoPrecedents, IndexRefused) as exc:
        fail(str(exc))


def attach_precedents(loaded, precedents: Path | None) -> None:
    """The past decisions a model shows: those of the index folder `precedents` names, else
    its own index, checked now (a model without one shows none, and says why); an index that
    fails its check ends the command with one line."""
    from imr_ml.modeling.modelfiles.precedent_files import IndexRefused, NoPrecedents, open_precedents

    if precedents is not None:
        loaded.precedents = open_index(precedents)
        return
    try:
        open_precedents(loaded)
    except NoPrecedents:
        pass
    except IndexRefused as exc:
        fail(str(exc))


PrecedentsDir = Annotated[Path | None, typer.Option(
    "--precedents", metavar="DIR", help="An index folder (`imr-ml index`) whose past decisions to show "
    "instead of the model's own (the built-in model has none).")]


@command(EXAMPLES)
@takes_requests
def similar(
    source: Source,
    requests: Requests = Requests(),
    top: Top = 5,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one record per request)."),
):
    """Find the past decisions most like each request: same service, body region and findings, then words."""
    from imr_ml.scoring.precedents import precedents_section
    from imr_ml.scoring.results_io import named_id

    rows = requests.rows()
    index = open_index(source)
    records = []
    with progress_bar(len(rows) > 20 and sys.stderr.isatty() and not as_json, "Finding precedents",
                      len(rows)) as update:
        for n, row in enumerate(rows, 1):
            rec = {k: row[k] for k in ("id", "letter_id", "item_index") if row.get(k) not in (None, "")}
            found = precedents_section(index, row, top)
            records.append(named_id(rec | {"item": row.get("item")} | found, requests.id_col))
            update(n)
    if as_json:
        typer.echo(json.dumps(records if len(records) > 1 or not requests.item else records[0], indent=2))
        return
    for rec in records:
        typer.echo(format_similar(rec))


def format_similar(rec: dict) -> str:
    """One request's precedents as the terminal shows them."""
    from imr_ml.scoring.results_io import result_id

    return "\n".join([f"{result_id(rec)}: {rec.get('item')}  ({rec['request']['category']}"
                      f"{'; ' + ', '.join(rec['request']['regions']) if rec['request']['regions'] else ''})",
                      *precedent_lines(rec)])


def precedent_lines(section: dict, brief: bool = False, width: int = 240) -> list[str]:
    """A precedents section (`imr_ml.scoring.precedents`) as indented lines: the share
    overturned, then each precedent with why it matched and its rationale (`brief`: the
    share alone); a model without an index says why in one line."""
    from imr_ml.scoring.precedents import share_text

    if not section["available"]:
        return [f"  similar past decisions: none ({section['reason']})"]
    lines = [f"  {share_text(section)}, in an index of {section['index']['n_items']:,} items"]
    for n, p in enumerate([] if brief else section["precedents"], 1):
        lines.append(f"  {n}. {p['decision']} {p['decision_date'] or 'undated'}  {p['item']}  "
                     f"[{p['letter_id']} #{p['item_index']}]  match {100 * p['score']:.0f}%")
        lines.append(f"     why: {why_text(p['why'])}")
        rationale = p["rationale_excerpt"]
        if rationale:
            lines.append(f"     rationale: \"{rationale if len(rationale) <= width else rationale[:width - 1] + '…'}\"")
    return lines


def why_text(why: dict) -> str:
    """Why a precedent matched, in one line: same service, regions, guideline findings,
    clinical findings and words in common."""
    parts = ["same service"] if why["same_category"] else ["another service"]
    parts += [", ".join(why["regions"])] if why["regions"] else []
    parts += [f"guideline: {r['label']}" for r in why["rules"]]
    parts += [f"finding: {f['label']}" for f in why["findings"][:4]]
    if len(why["findings"]) > 4:
        parts.append(f"{len(why['findings']) - 4} more findings")
    parts += [f"words: {', '.join(why['words'][:8])}"] if why["words"] else []
    return "; ".join(parts)
