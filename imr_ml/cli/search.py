"""`imr-ml search`: full-text search over the past decisions of a model's index or an index
folder, with filters (outcome, category, body region, decision dates), ranked and paged.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json

import typer

from imr_ml.cli._app import command, fail
from imr_ml.cli.similar import Source, open_index

EXAMPLES = """Examples:

  imr-ml search models/mine "lumbar fusion spondylolisthesis" --outcome overturned --category surgery

  imr-ml search archive-index/ "acupuncture" --since 2016-01-01 --page 2 --json

  imr-ml search models/mine '"functional improvement" acupuncture'
"""


@command(EXAMPLES)
def search(
    source: Source,
    text: str = typer.Argument("", metavar="WORDS", help="Words to find in the item, summary and cited guideline; "
                               "a phrase in double quotes is looked for as typed."),
    outcome: str | None = typer.Option(None, "--outcome", metavar="upheld|overturned", help="Only this outcome."),
    category: str | None = typer.Option(None, "--category", metavar="NAME",
                                        help="Only this treatment category (e.g. surgery, acupuncture)."),
    region: str | None = typer.Option(None, "--region", metavar="NAME", help="Only this body region (e.g. lumbar)."),
    since: str | None = typer.Option(None, "--since", metavar="DATE", help="Decisions from this date on."),
    until: str | None = typer.Option(None, "--until", metavar="DATE", help="Decisions up to this date."),
    page: int = typer.Option(1, "--page", metavar="N", min=1,
                             help="Page of results (a search ranks and pages through 2,000 hits at most)."),
    per_page: int = typer.Option(10, "--per-page", metavar="N", min=1, max=100, help="Results per page."),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
):
    """Search past decisions: every word in the item, summary or cited guideline, filtered, best first."""
    from imr_ml.precedents.search import Filters
    from imr_ml.precedents.search import search as run_search
    from imr_ml.precedents.store import PrecedentsError

    index = open_index(source)
    try:
        found = run_search(index, text, Filters(outcome, category, region, since, until), page, per_page)
    except PrecedentsError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(format_page(found))


def format_page(found: dict) -> str:
    """A page of search results as the terminal shows them."""
    from imr_ml.precedents.search import headline

    lines = [f"{headline(found)}; page {found['page']} of {max(found['pages'], 1)}"]
    for n, h in enumerate(found["hits"], (found["page"] - 1) * found["per_page"] + 1):
        words = ", ".join(h["words"])
        lines.append(f"{n:>4}. {h['decision']} {h['decision_date'] or 'undated'}  {h['item']}  "
                     f"[{h['letter_id']} #{h['item_index']}; {h['category']}]" + (f"  words: {words}" if words else ""))
    return "\n".join(lines)
