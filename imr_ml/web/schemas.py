"""The JSON API's request and response models: FastAPI documents them in its OpenAPI page,
and their size limits keep a single request from tying up a worker."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class Evidence(BaseModel):
    field: str
    start: int
    end: int
    text: str


class Contribution(BaseModel):
    feature: str
    label: str
    value: float
    contribution: float = Field(..., description="Change in log-odds against the baseline.")
    evidence: list[Evidence]


class Baseline(BaseModel):
    logit: float
    p: float
    what: str


class ResultWarning(BaseModel):
    kind: str = Field(..., description="e.g. injury_after_denial, future_date, unseen_category")
    message: str


class ScoreResult(BaseModel):
    """One scored request: the fields of `imr-ml score --json` (an abstention has `reason`
    and no probability)."""

    letter_id: str | None = None
    item_index: int | None = None
    item: str | None = None
    category: str | None = None
    abstained: bool
    reason: str | None = None
    p_overturned: float | None = None
    interval: list[float] | None = None
    relative_risk: float | None = None
    category_rate: float | None = None
    decision: str | None = None
    threshold: float | None = None
    logit: float | None = None
    baseline: Baseline | None = None
    contributions: list[Contribution] | None = None
    reasons: list[Contribution]
    hints: list[str]
    warnings: list[ResultWarning] = Field(default_factory=list, description=(
        "Why the result may mislead: dates in an unlikely order, a request unlike the training letters."))


class ExplainResult(ScoreResult):
    """A scored request with `imr-ml explain --json`'s extra fields: the summary the evidence
    offsets refer to and the contributions grouped (guideline rules, signals, fields, words)."""

    summary: str | None = None
    explanation: dict[str, Any] | None = None


class ScoreResults(BaseModel):
    results: list[ScoreResult]


class ExplainResults(BaseModel):
    results: list[ExplainResult]


class ModelInfo(BaseModel):
    """The model manifest's public parts (never a file path)."""

    kind: str
    imr_ml_version: str | None = None
    versions: dict[str, str]
    threshold: float | None = None
    threshold_method: str | None = None
    n_features: int
    data: dict[str, int | float | None]
