"""The JSON API's request and response models: FastAPI documents them in its OpenAPI page,
and their size limits keep a single request from tying up a worker. The responses are the
library's own result types (`imr_ml.scoring.result`), so the API declares, and returns, every
field `score_rows` produces."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from imr_ml.scoring.result import ExplainResult, Flag, ScoreResult

MAX_SUMMARY = 50_000
MAX_FIELD = 2_000
MAX_OTHER_ITEMS = 50


class ScoreRequest(BaseModel):
    """One treatment request, as `imr_ml.scoring.score.request_row` takes it."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(..., max_length=MAX_SUMMARY, description="The clinical summary (free text).")
    item: str = Field(..., max_length=MAX_FIELD, description='The requested item, e.g. "Acupuncture 2x6 lumbar".')
    claims_admin_guideline: str | None = Field(None, max_length=MAX_FIELD,
                                                  description="The guideline the claims administrator cited.")
    date_of_injury: str | None = Field(None, max_length=40, description="MM/DD/YYYY or YYYY-MM-DD.")
    ur_denial_date: str | None = Field(None, max_length=40, description="MM/DD/YYYY or YYYY-MM-DD.")
    other_items: list[str] = Field(default_factory=list, max_length=MAX_OTHER_ITEMS,
                                   description="The other items of the same application.")
    ur_decision: str | None = Field(None, max_length=20, description="What UR decided: denied or modified.")
    ur_reason: str | None = Field(None, max_length=MAX_FIELD, description="The reason UR gave.")


class BatchRequest(BaseModel):
    """Several requests at once (up to the server's --max-batch)."""

    model_config = ConfigDict(extra="forbid")

    requests: list[ScoreRequest]


class ScoreResults(TypedDict):
    """Several scored requests, in the order sent."""

    results: list[ScoreResult]


class ExplainResults(TypedDict):
    """Several explained requests, in the order sent."""

    results: list[ExplainResult]


class ModelInfo(BaseModel):
    """The model manifest's public parts (never a file path)."""

    kind: str
    imr_ml_version: str | None = None
    versions: dict[str, str]
    name: str
    threshold: float | None = None
    threshold_method: str | None = None
    flag: Flag
    n_features: int
    data: dict[str, int | float | None]
