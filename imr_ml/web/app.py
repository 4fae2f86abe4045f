"""The ASGI app of `imr-ml serve`: one loaded model, a form page, a batch upload page and the
JSON API, behind the middleware of `imr_ml.web.middleware`.

Nothing a user sends is logged unless `log_inputs` (uvicorn's access log has the method, the
path and the status, never a body; the pages post their text, so it never rides in a URL).
No input names a file on the server: uploads are read from the request body."""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import os
from pathlib import Path

from fastapi import Body, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from imr_ml.modeling.model import scoring_model
from imr_ml.modeling.modelio import LoadedModel, load_model_dir
from imr_ml.reporting.explain import explain_rows
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.requests_io import requests_from_text
from imr_ml.scoring.results_io import RESULT_NAMES, results_csv
from imr_ml.scoring.score import request_row, score_rows
from imr_ml.web import views
from imr_ml.web.middleware import BearerToken, BodyLimit, SecurityHeaders
from imr_ml.web.schemas import (
    BatchRequest,
    ExplainResult,
    ExplainResults,
    ModelInfo,
    ScoreRequest,
    ScoreResult,
    ScoreResults,
)

HERE = Path(__file__).parent
MAX_BATCH = 1000
MAX_BODY = 1 << 20  # 1 MiB
log = logging.getLogger("imr_ml.web")


class ApiError(Exception):
    """A request the API answers with {"error": message} and `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Scorer:
    """The one loaded model behind every route: scores rows, explained or not, and turns any
    failure into an `ApiError` that names no input."""

    def __init__(self, loaded: LoadedModel, max_batch: int, log_inputs: bool) -> None:
        self.loaded, self.max_batch, self.log_inputs = loaded, max_batch, log_inputs

    def run(self, rows: list[dict], explained: bool) -> list[dict]:
        """Results for `rows`, with grouped contributions and the summary when `explained`."""
        if self.log_inputs:
            log.info("inputs: %s", json.dumps(rows))
        try:
            return explain_rows(self.loaded, rows) if explained else list(score_rows(self.loaded, rows))
        except Exception as exc:  # never a stack trace to the client, never the input in the log
            log.error("scoring failed: %s", type(exc).__name__)
            raise ApiError(500, f"internal error while scoring ({type(exc).__name__}); nothing was scored") from None

    def api(self, body: BatchRequest | ScoreRequest, explained: bool) -> dict:
        """The JSON answer to one request or to {"requests": [...]}."""
        requests = body.requests if isinstance(body, BatchRequest) else [body]
        if len(requests) > self.max_batch:
            raise ApiError(413, f"{len(requests)} requests in one call; at most {self.max_batch}")
        results = self.run([_row(r) for r in requests], explained)
        return {"results": results} if isinstance(body, BatchRequest) else results[0]

    def probability(self, logit: float) -> float:
        """P for a log-odds, calibrated as the model calibrates its scores."""
        return scoring_model(self.loaded.model).calibrate([logit])[0]


def create_app(model_spec: str | LoadedModel = "builtin", *, token: str | None = None, max_batch: int = MAX_BATCH,
               max_body: int = MAX_BODY, log_inputs: bool = False) -> FastAPI:
    """The app around one model, loaded here, once (per worker process). `model_spec` is a
    model directory, `builtin`, or an already loaded model; an unsafe directory raises
    `imr_ml.modeling.modelio.ModelLoadError`."""
    loaded = model_spec if isinstance(model_spec, LoadedModel) else load_model_dir(model_spec)
    # No /docs or /redoc: their pages load scripts from a CDN, inline, which the CSP refuses.
    app = FastAPI(docs_url=None, redoc_url=None, title="imr-ml",
                  summary="P(overturned) of a California workers' comp IMR for a treatment request",
                  version=loaded.manifest.get("imr_ml_version") or "")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _error_handlers(app)
    scorer = Scorer(loaded, max_batch, log_inputs)
    _api_routes(app, scorer)
    templates = _templates()
    _form_routes(app, scorer, templates)
    _batch_routes(app, scorer, templates)
    # The last added is the outermost: security headers go on every answer, 401 and 413 included.
    app.add_middleware(BodyLimit, max_body=max_body)
    if token:
        app.add_middleware(BearerToken, token=token)
    app.add_middleware(SecurityHeaders)
    return app


def _templates() -> Jinja2Templates:
    """The pages' templates, every value escaped, with the two number filters they use."""
    templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
    templates.env.filters["pct"] = lambda p: "" if p is None else f"{100 * p:.1f}%"
    templates.env.filters["times"] = lambda x: f"{x:.1f}×" if x >= 0.995 else f"{x:.2f}×"
    return templates


def _api_routes(app: FastAPI, scorer: Scorer) -> None:
    """The JSON API: /v1/score, /v1/explain, /v1/health, /v1/model."""

    # Scoring is a few ms of CPU: done on the event loop (async def), not in a thread pool whose
    # threads would only contend for the GIL and grow malloc arenas; --workers uses the cores.
    @app.post("/v1/score", response_model=ScoreResults | ScoreResult, response_model_exclude_unset=True,
              summary="Score one request, or {\"requests\": [...]}")
    async def score(body: BatchRequest | ScoreRequest = Body(...)):
        return scorer.api(body, explained=False)

    @app.post("/v1/explain", response_model=ExplainResults | ExplainResult, response_model_exclude_unset=True,
              summary="Score and explain one request, or {\"requests\": [...]}")
    async def explain(body: BatchRequest | ScoreRequest = Body(...)):
        return scorer.api(body, explained=True)

    @app.get("/v1/health")
    def health():
        return {"status": "ok"}

    @app.get("/v1/model", response_model=ModelInfo)
    def model():
        return model_info(scorer.loaded.manifest)


def _form_routes(app: FastAPI, scorer: Scorer, templates: Jinja2Templates) -> None:
    """The form page: one request in, its waterfall and highlighted evidence out."""

    def page(request: Request, form: dict, result=None, error=None, status=200):
        context = {"form": form, "result": result, "error": error}
        if result and not result["abstained"]:
            rows = views.waterfall(result, scorer.probability)
            context |= {"rows": rows, "pieces": views.highlighted(result["summary"] or "", rows)}
        return templates.TemplateResponse(request, "index.html", context, status_code=status)

    @app.get("/", include_in_schema=False)
    def index(request: Request, example: int = 0):
        return page(request, example_form(example) if example else {})

    @app.post("/", include_in_schema=False)
    def index_post(request: Request, summary: str = Form(""), item: str = Form(""),
                   other_items: str = Form(""), claims_admin_guideline: str = Form(""),
                   date_of_injury: str = Form(""), ur_denial_date: str = Form(""),
                   ur_decision: str = Form(""), ur_reason: str = Form("")):
        form = {"summary": summary, "item": item, "other_items": other_items,
                "claims_admin_guideline": claims_admin_guideline, "date_of_injury": date_of_injury,
                "ur_denial_date": ur_denial_date, "ur_decision": ur_decision, "ur_reason": ur_reason}
        try:
            result = scorer.run([_row(_form_request(form))], explained=True)[0]
        except ValidationError as exc:
            return page(request, form, error=_validation_message(exc.errors()), status=422)
        except ApiError as exc:
            return page(request, form, error=exc.message, status=exc.status)
        return page(request, form, result)


def _form_request(form: dict[str, str]) -> ScoreRequest:
    """The form's fields as a request: optional fields left blank are absent, other items
    one per line; raises pydantic's ValidationError."""
    optional = {k: v.strip() or None for k, v in form.items() if k not in ("summary", "item", "other_items")}
    return ScoreRequest.model_validate(
        optional | {"summary": form["summary"], "item": form["item"],
                    "other_items": [x.strip() for x in form["other_items"].splitlines() if x.strip()]})


def _batch_routes(app: FastAPI, scorer: Scorer, templates: Jinja2Templates) -> None:
    """The batch page: a CSV uploaded, a sortable table and the results as CSV back."""

    @app.get("/batch", include_in_schema=False)
    def batch(request: Request):
        return templates.TemplateResponse(request, "batch.html", {"columns": {}, "max_batch": scorer.max_batch})

    @app.post("/batch", include_in_schema=False)
    async def batch_post(request: Request, file: UploadFile = File(...), summary_column: str = Form("summary"),
                         item_column: str = Form("item"), guideline_column: str = Form("claims_admin_guideline"),
                         id_column: str = Form("letter_id"), encoding: str = Form("utf-8-sig")):
        columns = {"summary": summary_column.strip() or "summary", "item": item_column.strip() or "item",
                   "claims_admin_guideline": guideline_column.strip() or "claims_admin_guideline",
                   "letter_id": id_column.strip() or "letter_id"}
        context = {"columns": columns, "max_batch": scorer.max_batch, "encoding": encoding}
        try:
            rows, id_name = _uploaded_rows(await file.read(), file.filename or "the upload", encoding, columns)
            if len(rows) > scorer.max_batch:
                raise ApiError(413, f"{len(rows)} requests in the file; at most {scorer.max_batch} at once")
            results = await run_in_threadpool(scorer.run, rows, False)
        except ValueError as exc:
            return templates.TemplateResponse(request, "batch.html", context | {"error": str(exc)}, status_code=422)
        except ApiError as exc:
            return templates.TemplateResponse(request, "batch.html", context | {"error": exc.message},
                                              status_code=exc.status)
        download = base64.b64encode(results_csv(results, id_name).encode()).decode()
        table = [r | {"top_reason": views.top_reason(r)} for r in results]
        return templates.TemplateResponse(request, "batch.html", context | {
            "results": table, "csv_href": f"data:text/csv;charset=utf-8;base64,{download}"})


def _row(req: ScoreRequest) -> dict:
    """A request as the row the model scores; a bad field is a 422."""
    try:
        return request_row(req.summary, req.item, req.claims_admin_guideline, req.date_of_injury,
                           req.ur_denial_date, req.other_items, ur_decision=req.ur_decision, ur_reason=req.ur_reason)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None


def _uploaded_rows(data: bytes, name: str, encoding: str, columns: dict) -> tuple[list[dict], str | None]:
    """The requests of an uploaded CSV, each `id` its row id (the first column of the
    download, as --id-col's value is for `imr-ml score`), and the name that column keeps
    (the upload's own, when it has the id column); raises ValueError, one line."""
    try:
        text = data.decode(encoding or "utf-8-sig")
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} is not {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "saved by Excel on Windows? choose cp1252") from None
    rows = [r | {"id": r["letter_id"]} for r in requests_from_text(text, name, columns)]
    header = next(csv.reader(io.StringIO(text)), [])
    named = columns["letter_id"] in header and columns["letter_id"] not in RESULT_NAMES
    return rows, columns["letter_id"] if named else None


def model_info(manifest: dict) -> dict:
    """The manifest's public parts: what the model is and how much data it saw."""
    data = manifest.get("data") or {}
    threshold = manifest.get("threshold") or {}
    return {"kind": manifest.get("kind") or "imr-ml model", "imr_ml_version": manifest.get("imr_ml_version"),
            "versions": {k: str(v) for k, v in (manifest.get("versions") or {}).items()},
            "threshold": threshold.get("value"), "threshold_method": threshold.get("method"),
            "n_features": (manifest.get("features") or {}).get("n_features") or 0,
            "data": {k: data.get(k) for k in ("n_letters", "n_items", "n_overturned", "base_rate")}}


def example_form(n: int) -> dict:
    """The form filled with the n-th built-in example (1-based, wrapping round)."""
    ex = EXAMPLES[(n - 1) % len(EXAMPLES)]
    return {k: ex[k] for k in ("summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date")}


def _validation_message(errors) -> str:
    """Pydantic's errors as one line: `field: problem; ...`."""
    parts = []
    for e in errors[:3]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "ScoreRequest", "BatchRequest"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(parts) or "invalid request"


def _error_handlers(app: FastAPI) -> None:
    """Every error is {"error": "one line"} with its status; never a stack trace."""

    @app.exception_handler(ApiError)
    async def api_error(request, exc: ApiError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json:
            reason = bad_json.get("ctx", {}).get("error", "")
            return JSONResponse({"error": f"request body is not valid JSON ({reason})"}, status_code=400)
        body = getattr(exc, "body", None)
        if isinstance(body, (bytes, str)):
            return JSONResponse({"error": "request body must be JSON (Content-Type: application/json)"},
                                status_code=400)
        # A body is one request or {"requests": [...]}: report only the shape it tried to be.
        branch = "BatchRequest" if isinstance(body, dict) and "requests" in body else "ScoreRequest"
        errors = [e for e in errors if len(e.get("loc", ())) < 2 or e["loc"][1] in (branch, )
                  or e["loc"][1] not in ("BatchRequest", "ScoreRequest")] or errors
        return JSONResponse({"error": _validation_message(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        log.error("unexpected error: %s", type(exc).__name__)
        return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` with several workers: each worker builds its own app (and
    loads the model once) from the settings `imr-ml serve` put in the environment."""
    token_file = os.environ.get("IMR_ML_SERVE_TOKEN_FILE")
    token = Path(token_file).read_text().strip() if token_file else None
    return create_app(os.environ.get("IMR_ML_SERVE_MODEL", "builtin"), token=token,
                      max_batch=int(os.environ.get("IMR_ML_SERVE_MAX_BATCH", MAX_BATCH)),
                      log_inputs=os.environ.get("IMR_ML_SERVE_LOG_INPUTS") == "1")
