"""The JSON routes of `imr-ml serve` over past decisions: ``GET /v1/search`` (the search page's
query as parameters) and ``POST /v1/similar`` (the body of ``/v1/score``: one request or
{"requests": [...]}, with ``?top=K``). Like ``/v1/score`` they run in a worker thread within the
request's budget, answer a bad input with 422 and a one-line error naming the field, and log
nothing of what was sent."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.responses import Response

from imr_ml.precedents.search import FILTERS, MAX_PER_PAGE, Filters, headline, search
from imr_ml.precedents.store import PrecedentsError
from imr_ml.scoring.precedents import precedents_section
from imr_ml.web.schemas import BatchRequest
from imr_ml.web.work import ApiError, Job, parse_api_body, precedent_index, request_as_row

SEARCH_PARAMS = ("q", *FILTERS, "page", "per_page")
MAX_QUERY = 2_000  # characters of a search's words or of one filter
MAX_TOP = 50  # precedents per request


def add_routes(app: FastAPI, scorer) -> None:
    """/v1/search and /v1/similar, answered from `scorer.loaded`'s index (`imr_ml.web.app.Scorer`)."""

    @app.get("/v1/search", summary="A page of past decisions holding the words, filtered, best first")
    async def search_api(request: Request):
        asked = dict(request.query_params)
        answer = await scorer.worker.run(request.scope.setdefault("state", {}), _searched, scorer, asked)
        return Response(answer, media_type="application/json")

    @app.post("/v1/similar", summary="The past decisions most like one request, or {\"requests\": [...]}")
    async def similar_api(request: Request):
        top = _number(request.query_params.get("top"), "top", 5, MAX_TOP)
        answer = await scorer.worker.run(request.scope.setdefault("state", {}), _similar, scorer, await request.body(),
                                         request.headers.get("content-type", ""), top)
        return Response(answer, media_type="application/json")


def _number(value: str | None, name: str, default: int, most: int) -> int:
    """A whole-number parameter from 1 to `most` (`default` when absent); else a 422."""
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ApiError(422, f"{name}: must be a whole number from 1 to {most:,}")
    return int(value)


def _searched(scorer, asked: dict[str, str], job: Job) -> bytes:
    """The JSON of one page of a search, with its one-line ``headline``."""
    unknown = sorted(set(asked) - set(SEARCH_PARAMS))
    if unknown:
        raise ApiError(422, f"unknown parameter {unknown[0][:40]!r}; known: {', '.join(SEARCH_PARAMS)}")
    long = next((k for k, v in asked.items() if len(v) > MAX_QUERY), None)
    if long:
        raise ApiError(422, f"{long}: at most {MAX_QUERY:,} characters")
    page = _number(asked.get("page"), "page", 1, 10**6)
    per_page = _number(asked.get("per_page"), "per_page", 10, MAX_PER_PAGE)
    filters = Filters(**{k: asked.get(k) or None for k in FILTERS})
    index = precedent_index(scorer.loaded)
    job.check()
    try:
        found = search(index, asked.get("q", ""), filters, page, per_page)
    except PrecedentsError as exc:
        raise ApiError(422, str(exc)) from None
    return json.dumps(found | {"headline": headline(found)}).encode()


def _similar(scorer, body: bytes, content_type: str, top: int, job: Job) -> bytes:
    """The JSON of the precedents of one request, or {"results": [...]} of several."""
    parsed = parse_api_body(body, content_type)
    requests = parsed.requests if isinstance(parsed, BatchRequest) else [parsed]
    if len(requests) > scorer.max_batch:
        raise ApiError(413, f"{len(requests)} requests in one call; at most {scorer.max_batch}")
    rows = [request_as_row(r) for r in requests]
    index = precedent_index(scorer.loaded)
    results = []
    for row in rows:
        job.check()
        results.append(precedents_section(index, row, top))
    return json.dumps({"results": results} if isinstance(parsed, BatchRequest) else results[0]).encode()
