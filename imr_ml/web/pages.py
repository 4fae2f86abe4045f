"""The HTML pages of `imr-ml serve`: the form for one request and the CSV upload. They are
rendered on the server with Jinja2 autoescaping, so whatever a user types comes back as text;
scoring, and rendering the batch table, run in a worker thread (`imr_ml.web.work`).

Cross-site form posts are refused by a token in a hidden field of both forms (`FormToken`):
one random value per server run, which a page on another site cannot read (the same-origin
policy; and DNS rebinding, the way round it, is stopped by the Host check). Not a SameSite
cookie: every port of localhost is the same site, so a page served by any other local program
would still send it. Not an Origin/Referer check: under our `Referrer-Policy: no-referrer`
browsers send no Referer and `Origin: null` on form posts, same-origin ones included."""

from __future__ import annotations

import base64
import csv
import hmac
import io
import secrets
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from imr_ml.reporting.result_view import environment, scored_at
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.requests_io import requests_from_text
from imr_ml.scoring.results_io import RESULT_NAMES, results_csv
from imr_ml.web.schemas import ScoreRequest
from imr_ml.web.work import ApiError, Job, Worker, decode_upload, request_as_row, validation_message

HERE = Path(__file__).parent
FORM_FIELDS = ("summary", "item", "other_items", "claims_admin_guideline", "date_of_injury", "ur_denial_date",
               "ur_decision", "ur_reason", "csrf_token")
STALE_FORM = ("this form is out of date (the server has restarted since the page was loaded, or the form "
              "was sent from another site): reload the page and submit again")


class FormToken:
    """The pages' CSRF token: random per server run (`imr-ml serve` gives its workers the same
    one), in a hidden `csrf_token` field of every form, compared in constant time."""

    def __init__(self, secret: str | None = None) -> None:
        self.value = secret or secrets.token_urlsafe(32)

    def valid(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.value.encode())


def add_routes(app: FastAPI, scorer, token: FormToken) -> None:
    """The form page (/) and the batch page (/batch), both scoring with `scorer`
    (`imr_ml.web.app.Scorer`)."""
    templates = Jinja2Templates(env=environment(HERE / "templates"))  # the explain page's macro and filters too
    _form_routes(app, scorer, templates, token)
    _batch_routes(app, scorer, templates, token)


def _form_routes(app: FastAPI, scorer, templates: Jinja2Templates, token: FormToken) -> None:
    """The form page: one request in, its result (the explain page's section) out."""

    def page(request: Request, form: dict, result: dict | None = None, error=None, status=200):
        context = (result or {}) | {"form": form, "error": error, "csrf_token": token.value}
        return templates.TemplateResponse(request, "index.html", context, status_code=status)

    @app.get("/", include_in_schema=False)
    def index(request: Request, example: int = 0):
        return page(request, example_form(example) if example else {})

    @app.post("/", include_in_schema=False)
    async def index_post(request: Request):
        state = request.scope.setdefault("state", {})
        try:
            form = await _posted_form(request, scorer.worker)
        except ApiError as exc:
            return page(request, {}, error=exc.message, status=exc.status)
        if not token.valid(form.pop("csrf_token")):
            return page(request, {}, error=STALE_FORM, status=403)
        try:
            shown = await scorer.worker.run(state, _form_result, scorer, form)
        except ApiError as exc:
            return page(request, form, error=exc.message, status=exc.status)
        return page(request, form, shown)


async def _posted_form(request: Request, worker: Worker) -> dict[str, str]:
    """The form's fields (missing ones empty). A url-encoded body, what the page sends, is
    decoded in a worker thread: a megabyte of it takes 0.1-0.3 s of pure Python."""
    if request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        fields = await worker.run(request.scope.setdefault("state", {}), _urlencoded, await request.body())
    else:
        fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return {k: fields.get(k, "") for k in FORM_FIELDS}


def _urlencoded(body: bytes, job: Job) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=100))
    except ValueError:
        raise ApiError(413, "too many form fields") from None


def _form_result(scorer, form: dict[str, str], job: Job) -> dict:
    """The form's request scored and explained (with its waterfall), and when: the result
    page's context. Runs in a worker thread."""
    optional = {k: v.strip() or None for k, v in form.items() if k not in ("summary", "item", "other_items")}
    try:
        req = ScoreRequest.model_validate(
            optional | {"summary": form["summary"], "item": form["item"],
                        "other_items": [x.strip() for x in form["other_items"].splitlines() if x.strip()]})
    except ValidationError as exc:
        raise ApiError(422, validation_message(exc.errors())) from None
    return {"result": scorer.rows_within([request_as_row(req)], True, job)[0], "when": scored_at()}


def _batch_routes(app: FastAPI, scorer, templates: Jinja2Templates, token: FormToken) -> None:
    """The batch page: a CSV uploaded, a sortable table and the results as CSV back."""

    @app.get("/batch", include_in_schema=False)
    def batch(request: Request):
        return templates.TemplateResponse(request, "batch.html", {"columns": {}, "max_batch": scorer.max_batch,
                                                                  "csrf_token": token.value})

    @app.post("/batch", include_in_schema=False)
    async def batch_post(request: Request, file: UploadFile = File(...), summary_column: str = Form("summary"),
                         item_column: str = Form("item"), guideline_column: str = Form("claims_admin_guideline"),
                         id_column: str = Form("letter_id"), encoding: str = Form("utf-8-sig"),
                         csrf_token: str = Form("")):
        columns = {"summary": summary_column.strip() or "summary", "item": item_column.strip() or "item",
                   "claims_admin_guideline": guideline_column.strip() or "claims_admin_guideline",
                   "letter_id": id_column.strip() or "letter_id"}
        context = {"columns": columns, "max_batch": scorer.max_batch, "encoding": encoding,
                   "csrf_token": token.value}
        try:
            if not token.valid(csrf_token):
                raise ApiError(403, STALE_FORM)
            upload = (await file.read(), file.filename or "the upload", encoding, columns)
            html = await scorer.worker.run(request.scope.setdefault("state", {}), _batch_page, scorer, templates,
                                           upload, context)
        except ApiError as exc:
            return templates.TemplateResponse(request, "batch.html", context | {"error": exc.message},
                                              status_code=exc.status)
        return HTMLResponse(html)


def _batch_page(scorer, templates: Jinja2Templates, upload: tuple, context: dict, job: Job) -> str:
    """The batch page with the upload's results (its table and CSV download). Runs in a
    worker thread: decoding, parsing, scoring and rendering a 1,000-row table."""
    data, name, encoding, columns = upload
    try:
        text = decode_upload(data, encoding, name)
        rows = [r | {"id": r["letter_id"]} for r in requests_from_text(text, name, columns)]
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    if len(rows) > scorer.max_batch:
        raise ApiError(413, f"{len(rows)} requests in the file; at most {scorer.max_batch} at once")
    results = scorer.rows_within(rows, False, job)
    # the id keeps the upload's column name in the download, as --id-col's does for `score`
    id_col = columns["letter_id"]
    named = id_col in next(csv.reader(io.StringIO(text)), []) and id_col not in RESULT_NAMES
    download = base64.b64encode(results_csv(results, id_col if named else None).encode()).decode()
    table = [r | {"top_reason": top_reason(r)} for r in results]
    return templates.get_template("batch.html").render(
        context | {"results": table, "csv_href": f"data:text/csv;charset=utf-8;base64,{download}"})


def example_form(n: int) -> dict:
    """The form filled with the n-th built-in example (1-based, wrapping round)."""
    ex = EXAMPLES[(n - 1) % len(EXAMPLES)]
    return {k: ex[k] for k in ("summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date")}


def top_reason(result: dict) -> str:
    """The largest reason of a result with its contribution, for the batch table."""
    reasons = result.get("reasons") or []
    return f"{reasons[0]['label']} ({reasons[0]['contribution']:+.2f})" if reasons else ""
