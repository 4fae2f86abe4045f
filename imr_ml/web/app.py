"""The ASGI app of `imr-ml serve`: one loaded model, a form page, a batch upload page and the
JSON API, behind the middleware of `imr_ml.web.middleware`.

Nothing a user sends is logged unless `log_inputs`: the access log has the method, the path
without its query string, the status and a request id, never a body; an error is logged as
its type and the request id. No input names a file on the server: uploads are read from the
request body. Parsing, scoring and rendering a result run in worker threads
(`imr_ml.web.work`), never on the event loop."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from imr_ml.modeling.modelfiles.modelio import LoadedModel, load_model_dir
from imr_ml.reporting.result_view import STYLESHEET
from imr_ml.scoring.score import model_flag, model_name
from imr_ml.signals import clear_caches
from imr_ml.web import pages, precedent_api
from imr_ml.web.middleware import (
    LOOPBACK_HOSTS,
    AllowedHosts,
    BearerToken,
    RequestBudget,
    RequestLog,
    SecurityHeaders,
)
from imr_ml.web.schemas import (
    BatchRequest,
    ExplainResult,
    ExplainResults,
    ModelInfo,
    ScoreRequest,
    ScoreResult,
    ScoreResults,
)
from imr_ml.web.work import (
    REQUEST_TIMEOUT,
    ApiError,
    Job,
    Worker,
    parse_api_body,
    request_as_row,
    score_within,
    validation_message,
)

HERE = Path(__file__).parent
MAX_BATCH = 1000
MAX_BODY = 1 << 20  # 1 MiB
CACHE_ROWS = 2000  # rows scored between two emptyings of the analyses' memos
log = logging.getLogger("imr_ml.web")


class Scorer:
    """The one loaded model behind every route. Its `*_within` methods run in a worker thread
    (`Worker.run` passes the `Job`); `api` is the JSON routes' whole answer."""

    def __init__(self, loaded: LoadedModel, max_batch: int, log_inputs: bool, timeout: float,
                 cache_rows: int) -> None:
        self.loaded, self.max_batch, self.log_inputs, self.cache_rows = loaded, max_batch, log_inputs, cache_rows
        self.worker = Worker(timeout, when_idle=self.trim_caches)
        self.rows_seen = 0

    def rows_within(self, rows: list[dict], explained: bool, job: Job) -> list[dict]:
        """Results for `rows`, with grouped contributions and the summary when `explained`."""
        if self.log_inputs:
            log.info("request %s inputs: %s", job.request_id, json.dumps(rows))
        self.rows_seen += len(rows)
        return score_within(self.loaded, rows, explained, job)

    def trim_caches(self) -> None:
        """Forget the analyses' memos once `cache_rows` rows have been scored. They are made
        for training, which sees the same rows again and again, and keep up to 100,000 row
        vectors keyed by the row's text: a server scoring new text all day would grow by
        about 50 MB every thousand 50,000-character requests, to gigabytes. (Called with no
        other request being scored; forgetting costs the next one nothing measurable.)"""
        if self.rows_seen >= self.cache_rows:
            clear_caches()
            self.rows_seen = 0

    def api_within(self, body: bytes, content_type: str, explained: bool, job: Job) -> bytes:
        """The JSON answer to a body holding one request or {"requests": [...]}, serialised
        here (in the thread, not on the event loop). The results go out as the library made
        them, every field included: their declared schema is the library's own result type
        (`imr_ml.web.schemas`), which tests check covers every field."""
        parsed = parse_api_body(body, content_type)
        batch = isinstance(parsed, BatchRequest)
        requests = parsed.requests if isinstance(parsed, BatchRequest) else [parsed]
        if len(requests) > self.max_batch:
            raise ApiError(413, f"{len(requests)} requests in one call; at most {self.max_batch}")
        results = self.rows_within([request_as_row(r) for r in requests], explained, job)
        return json.dumps({"results": results} if batch else results[0]).encode()

    async def api(self, request: Request, explained: bool) -> Response:
        answer = await self.worker.run(request.scope.setdefault("state", {}), self.api_within, await request.body(),
                                       request.headers.get("content-type", ""), explained)
        return Response(answer, media_type="application/json")



def create_app(model_spec: str | LoadedModel = "builtin", *, token: str | None = None,
               max_batch: int = MAX_BATCH, max_body: int = MAX_BODY, log_inputs: bool = False,
               allowed_hosts: tuple[str, ...] | list[str] = LOOPBACK_HOSTS, request_timeout: float = REQUEST_TIMEOUT,
               form_secret: str | None = None, cache_rows: int = CACHE_ROWS) -> FastAPI:
    """The app around one model, loaded here, once (per worker process). `model_spec` is a
    model directory, `builtin`, or an already loaded model; an unsafe directory raises
    `imr_ml.modeling.modelfiles.modelio.ModelLoadError`. Requests must name one of `allowed_hosts` in
    their Host header (`*`: any); each has `request_timeout` seconds from its headers to its
    answer. `form_secret` is the pages' CSRF token (one for all `--workers`; random if None).
    The text analyses' memos are emptied every `cache_rows` rows scored (`Scorer.trim_caches`)."""
    loaded = model_spec if isinstance(model_spec, LoadedModel) else load_model_dir(model_spec)
    # No /docs or /redoc: their pages load scripts from a CDN, inline, which the CSP refuses.
    app = FastAPI(docs_url=None, redoc_url=None, title="imr-ml",
                  summary="P(overturned) of a California workers' comp IMR for a treatment request",
                  version=loaded.manifest.get("imr_ml_version") or "")
    # the result section's stylesheet, shared with `explain --html`; mounted before /static, which would take it
    app.mount("/static/shared", StaticFiles(directory=STYLESHEET.parent), name="shared")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _error_handlers(app)
    scorer = Scorer(loaded, max_batch, log_inputs, request_timeout, cache_rows)
    _api_routes(app, scorer)
    precedent_api.add_routes(app, scorer)
    pages.add_routes(app, scorer, pages.FormToken(form_secret))
    # The last added is the outermost: the request log sees every answer, the security
    # headers go on all of them (400, 401, 408 and 413 included), the Host is checked first.
    app.add_middleware(RequestBudget, max_body=max_body, timeout=request_timeout)
    if token:
        app.add_middleware(BearerToken, token=token)
    app.add_middleware(AllowedHosts, hosts=allowed_hosts)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    return app


def _api_routes(app: FastAPI, scorer: Scorer) -> None:
    """The JSON API: /v1/score, /v1/explain, /v1/health, /v1/model. The scoring routes read
    their body themselves, so that parsing it runs in the worker thread too."""
    body = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"anyOf": [
        {"$ref": "#/components/schemas/ScoreRequest"}, {"$ref": "#/components/schemas/BatchRequest"}]}}}}}

    @app.post("/v1/score", response_model=ScoreResults | ScoreResult,
              summary="Score one request, or {\"requests\": [...]}", openapi_extra=body)
    async def score(request: Request):
        return await scorer.api(request, explained=False)

    @app.post("/v1/explain", response_model=ExplainResults | ExplainResult,
              summary="Score and explain one request, or {\"requests\": [...]}", openapi_extra=body)
    async def explain(request: Request):
        return await scorer.api(request, explained=True)

    @app.get("/v1/health")
    def health():
        return {"status": "ok"}

    @app.get("/v1/model", response_model=ModelInfo)
    def model():
        return model_info(scorer.loaded)

    _, schemas = models_json_schema([(ScoreRequest, "validation"), (BatchRequest, "validation")],
                                    ref_template="#/components/schemas/{model}")
    openapi = app.openapi

    def with_request_schemas() -> dict:
        spec = openapi()
        spec.setdefault("components", {}).setdefault("schemas", {}).update(schemas["$defs"])
        return spec

    app.openapi = with_request_schemas  # type: ignore[method-assign]  # FastAPI's way to extend its schema


def model_info(loaded: LoadedModel) -> dict:
    """The manifest's public parts: what the model is, how much data it saw, and its flag."""
    manifest = loaded.manifest
    data = manifest.get("data") or {}
    threshold = manifest.get("threshold") or {}
    return {"kind": manifest.get("kind") or "imr-ml model", "imr_ml_version": manifest.get("imr_ml_version"),
            "versions": {k: str(v) for k, v in (manifest.get("versions") or {}).items()},
            "name": model_name(manifest), "threshold": threshold.get("value"),
            "threshold_method": threshold.get("method"), "flag": model_flag(loaded),
            "n_features": (manifest.get("features") or {}).get("n_features") or 0,
            "data": {k: data.get(k) for k in ("n_letters", "n_items", "n_overturned", "base_rate")}}


def _error_handlers(app: FastAPI) -> None:
    """Every error is {"error": "one line"} with its status; never a stack trace. (An
    unexpected exception is answered by `RequestLog`, outside the app.)"""

    @app.exception_handler(ApiError)
    async def api_error(request, exc: ApiError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return JSONResponse({"error": validation_message(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
