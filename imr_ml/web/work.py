"""The CPU work of a request (decoding an upload, parsing JSON, featurising and scoring),
done in a worker thread within the request's time budget, so that the event loop keeps
answering everyone else while one big request runs.

Threads, not a process pool: scoring holds the GIL, but CPython hands it over every 5 ms, so
a small request started while a big one runs gets its share at once, where in a pool of
processes it would queue behind the big one unless there were a process (and a model's
240 MB) per request in flight. A thread cannot be stopped from outside, so the budget is
checked between chunks of rows: a request over budget stops after the chunk it is in (at
most about 0.7 s of work, two 50,000-character summaries) and is answered 503.

Every failure becomes an `ApiError` whose message names no input; an unexpected one is
logged as its type and the request id, never its message (which may quote the input).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio
from anyio import to_thread
from pydantic import ValidationError

from imr_ml.modeling.modelfiles.precedent_files import NoPrecedents, open_precedents
from imr_ml.reporting.explain import explain_rows
from imr_ml.scoring.score import request_row, score_rows
from imr_ml.web.schemas import BatchRequest, ScoreRequest

REQUEST_TIMEOUT = 30.0  # seconds from a request's headers to its answer
WORK_THREADS = 8  # requests computing at once in one process; more wait their turn, within their budget
CHUNK_ROWS, CHUNK_CHARS = 16, 50_000  # rows scored between two looks at the clock
# Upload encodings: what spreadsheets and Windows write (UTF-16: Windows PowerShell's `>`),
# all C codecs that decode in linear time. Any other name would reach bytes.decode, which
# takes every codec Python has: punycode is quadratic (0.9 MB of it took 36 s).
ENCODINGS = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "cp1252": "cp1252",
             "windows-1252": "cp1252", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
             "utf-16": "utf-16"}
log = logging.getLogger("imr_ml.web")
T = TypeVar("T")


class ApiError(Exception):
    """A request the server answers with {"error": message} (or the page's error) and `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class OverBudget(Exception):
    """Raised in a worker thread once the request's deadline has passed (`Worker` answers 503)."""


class Job:
    """What a worker thread knows of its request: the id its log lines carry and when its
    time is up (`check` raises `OverBudget` after that)."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.request_id, self.deadline = request_id, deadline

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget


class Worker:
    """Runs a request's CPU work in a thread, at most `threads` at once, within the deadline
    the request-budget middleware set when the request began (`state["deadline"]`).
    `when_idle()` is called on the event loop when a job ends and no other is running."""

    def __init__(self, timeout: float = REQUEST_TIMEOUT, threads: int = WORK_THREADS,
                 when_idle: Callable[[], None] | None = None) -> None:
        self.timeout, self.threads, self.when_idle = timeout, threads, when_idle
        self.limiter: anyio.CapacityLimiter | None = None

    async def run(self, state: dict, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args, job)` in a worker thread; raises `ApiError` (503 over budget, 500 for an
        unexpected failure, logged as its type with the request id)."""
        if self.limiter is None:  # made inside the event loop, as anyio's backends want
            self.limiter = anyio.CapacityLimiter(self.threads)
        job = Job(state.get("request_id", "-"), state.get("deadline") or time.monotonic() + self.timeout)
        with anyio.move_on_after(max(job.deadline - time.monotonic(), 0)) as waiting:
            await self.limiter.acquire()
        if waiting.cancelled_caught:
            raise self.over_budget()
        try:
            return await to_thread.run_sync(functools.partial(fn, *args, job))
        except ApiError:
            raise
        except OverBudget:
            raise self.over_budget() from None
        except Exception as exc:  # never the message (it may quote the input), never a stack trace
            log.error("request %s failed: %s", job.request_id, type(exc).__name__)
            raise ApiError(500, f"internal error ({type(exc).__name__}; request id {job.request_id}); "
                                "nothing was scored") from None
        finally:
            if self.when_idle is not None and self.limiter.borrowed_tokens == 1:
                self.when_idle()  # on the event loop, no other job running: shared state may change
            self.limiter.release()

    def over_budget(self) -> ApiError:
        return ApiError(503, f"the request took longer than the server's {self.timeout:g} s budget; "
                             "nothing was scored: send fewer requests at once")


def precedent_index(loaded) -> Any:
    """The model's index of past decisions for a page or a JSON route; a 404 naming why there
    is none (the built-in model has no letters)."""
    try:
        return open_precedents(loaded)
    except NoPrecedents as exc:
        raise ApiError(404, str(exc)) from None


def score_within(loaded, rows: list[dict], explained: bool, job: Job) -> list[dict]:
    """Results for `rows` (explained: with the summary and grouped contributions), scored in
    chunks with a look at the clock before each."""
    out: list[dict] = []
    for chunk in _chunks(rows):
        job.check()
        out += explain_rows(loaded, chunk) if explained else list(score_rows(loaded, chunk))
    return out


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    chars = 0
    for row in rows:
        chunk.append(row)
        chars += len(row.get("summary") or "")
        if len(chunk) >= CHUNK_ROWS or chars >= CHUNK_CHARS:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def parse_api_body(body: bytes, content_type: str) -> BatchRequest | ScoreRequest:
    """The JSON body of /v1/score or /v1/explain: one request, or {"requests": [...]}.
    Raises `ApiError` 400 (not JSON) or 422 (JSON of the wrong shape, its fields named)."""
    media = content_type.split(";")[0].strip().lower()
    if not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        raise ApiError(400, "request body must be JSON (Content-Type: application/json)")
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError from bytes
        reason = f"{exc.msg} at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise ApiError(400, f"request body is not valid JSON ({reason})") from None
    except RecursionError:
        raise ApiError(400, "request body is not valid JSON (nested too deeply)") from None
    model = BatchRequest if isinstance(data, dict) and "requests" in data else ScoreRequest
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, validation_message(exc.errors())) from None


def request_as_row(req: ScoreRequest) -> dict:
    """A request as the row the model scores; a bad field is a 422."""
    try:
        return request_row(req.summary, req.item, req.claims_admin_guideline, req.date_of_injury,
                           req.ur_denial_date, req.other_items, ur_decision=req.ur_decision, ur_reason=req.ur_reason)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None


def validation_message(errors) -> str:
    """Pydantic's errors as one line: `field: problem; ...` (at most three)."""
    parts = []
    for e in errors[:3]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "ScoreRequest", "BatchRequest"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(parts) or "invalid request"


def decode_upload(data: bytes, encoding: str, name: str) -> str:
    """An uploaded file's text in one of `ENCODINGS`; raises `ApiError` 422 naming the
    encodings accepted, or where the bytes stop being text in that encoding."""
    codec = ENCODINGS.get((encoding or "utf-8-sig").strip().lower())
    if codec is None:
        shown = encoding if len(encoding) <= 40 else encoding[:40] + "..."
        raise ApiError(422, f"unsupported encoding {shown!r}: choose UTF-8, cp1252 (Windows, older Excel), "
                            "latin-1 or UTF-16")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        hint = ("it starts like UTF-16: choose UTF-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff")
                else "saved by Excel on Windows? choose cp1252")
        raise ApiError(422, f"{name} is not {codec} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                            f"{hint}") from None
