"""The past-decisions pages of `imr-ml serve`: a search over the model's index of past
decisions (or the one `--precedents DIR` names), with filters and pages, and one letter's
items, which every hit links to. Searching runs in a worker thread; every text is escaped by
Jinja (highlighted words are pieces, never markup). A model without an index (the built-in
model holds no letters) gets the page saying so."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates

from imr_ml.modeling.modelfiles.precedent_files import IndexRefused
from imr_ml.precedents.search import (
    FILTERS,
    OUTCOMES,
    Filters,
    cap_note,
    counted,
    ignored_note,
    letter,
    search,
)
from imr_ml.precedents.store import PrecedentsError
from imr_ml.scoring.precedents import section_for, unavailable
from imr_ml.web.work import ApiError, Job, precedent_index

PER_PAGE = 10


def with_precedents(scorer, row: dict, result: dict) -> dict:
    """A result with its request's precedents from the model's index (or `--precedents
    DIR`'s); an index that fails its check shows why instead (`serve` refuses one at start)."""
    try:
        return result | {"precedents": section_for(scorer.loaded, row)}
    except IndexRefused as exc:
        return result | {"precedents": unavailable(str(exc))}


def add_routes(app: FastAPI, scorer, templates: Jinja2Templates) -> None:
    """/search and /letters/{n}, answered from `scorer.loaded`'s index (`imr_ml.web.app.Scorer`)."""

    def page(request: Request, name: str, context: dict, status: int = 200):
        return templates.TemplateResponse(request, name, context, status_code=status)

    @app.get("/search", include_in_schema=False)
    async def search_page(request: Request):
        asked = {k: request.query_params.get(k, "").strip()[:200] for k in ("q", *FILTERS, "page")}
        try:
            context = await scorer.worker.run(request.scope.setdefault("state", {}), _searched, scorer, asked)
        except ApiError as exc:
            return page(request, "search.html", {"form": asked, "error": exc.message}, exc.status)
        return page(request, "search.html", context | {"form": asked})

    @app.get("/letters/{number}", include_in_schema=False)
    async def letter_page(request: Request, number: int):
        try:
            found = await scorer.worker.run(request.scope.setdefault("state", {}), _letter, scorer, number)
        except ApiError as exc:
            return page(request, "letter.html", {"error": exc.message}, exc.status)
        return page(request, "letter.html", {"letter": found})


def _searched(scorer, asked: dict[str, str], job: Job) -> dict:
    """The search page's context: the hits of one page, the filters' choices, the pages."""
    index = precedent_index(scorer.loaded)
    filters = Filters(**{k: asked[k] or None for k in FILTERS})
    try:
        page = max(1, int(asked["page"] or 1))
        found = search(index, asked["q"], filters, page, PER_PAGE)
    except ValueError as exc:  # a page that is no number, a date that is no day
        raise ApiError(422, str(exc) if isinstance(exc, PrecedentsError) else "page must be a number") from None
    return {"found": found, "counted": counted(found), "cap_note": cap_note(found),
            "ignored_note": ignored_note(found),
            "categories": index.category_counts, "outcomes": OUTCOMES,
            "n_items": index.n_items, "n_letters": index.n_letters,
            "pages": _pages(found["page"], found["pages"])}


def _pages(page: int, pages: int) -> list[int | None]:
    """The page numbers to link: the first, the last and the two either side of `page`
    (None for a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)} - {0})
    out: list[int | None] = []
    for n in shown:
        if out and out[-1] is not None and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


def _letter(scorer, number: int, job: Job) -> dict:
    found = letter(precedent_index(scorer.loaded), number)
    if found is None:
        raise ApiError(404, f"the index has no letter {number}")
    return found
