"""The JSON API's request and response models: FastAPI documents them in its OpenAPI page,
and their size limits keep a single request from tying up a worker."""

from __future__ import annotations

from typing import Any, List, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

MAX_SUMMARY = 50_000
MAX_FIELD = 2_000
MAX_OTHER_ITEMS = 50


class ScoreRequest(BaseModel):
    """One treatment request, as `imr_ml.scoring.score.request_row` takes it."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(..., max_length=MAX_SUMMARY, description="The clinical summary (free text).")
    item: str = Field(..., max_length=MAX_FIELD, description='The requested item, e.g. "Acupuncture 2x6 lumbar".')
    claims_admin_guideline: Optional[str] = Field(None, max_length=MAX_FIELD,
                                                  description="The guideline the claims administrator cited.")
    date_of_injury: Optional[str] = Field(None, max_length=40, description="MM/DD/YYYY or YYYY-MM-DD.")
    ur_denial_date: Optional[str] = Field(None, max_length=40, description="MM/DD/YYYY or YYYY-MM-DD.")
    other_items: List[str] = Field(default_factory=list, max_length=MAX_OTHER_ITEMS,
                                   description="The other items of the same application.")
    ur_decision: Optional[str] = Field(None, max_length=20, description="What UR decided: denied or modified.")
    ur_reason: Optional[str] = Field(None, max_length=MAX_FIELD, description="The reason UR gave.")


class BatchRequest(BaseModel):
    """Several requests at once (up to the server's --max-batch)."""

    model_config = ConfigDict(extra="forbid")

    requests: List[ScoreRequest]


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
    evidence: List[Evidence]


class Baseline(BaseModel):
    logit: float
    p: float
    what: str


class ScoreResult(BaseModel):
    """One scored request: the fields of `imr-ml score --json` (an abstention has `reason`
    and no probability)."""

    letter_id: Optional[str] = None
    item_index: Optional[int] = None
    item: Optional[str] = None
    category: Optional[str] = None
    abstained: bool
    reason: Optional[str] = None
    p_overturned: Optional[float] = None
    interval: Optional[List[float]] = None
    relative_risk: Optional[float] = None
    category_rate: Optional[float] = None
    decision: Optional[str] = None
    threshold: Optional[float] = None
    logit: Optional[float] = None
    baseline: Optional[Baseline] = None
    contributions: Optional[List[Contribution]] = None
    reasons: List[Contribution]
    hints: List[str]


class ExplainResult(ScoreResult):
    """A scored request with `imr-ml explain --json`'s extra fields: the summary the evidence
    offsets refer to and the contributions grouped (guideline rules, signals, fields, words)."""

    summary: Optional[str] = None
    explanation: Optional[dict[str, Any]] = None


class ScoreResults(BaseModel):
    results: List[ScoreResult]


class ExplainResults(BaseModel):
    results: List[ExplainResult]


class ModelInfo(BaseModel):
    """The model manifest's public parts (never a file path)."""

    kind: str
    imr_ml_version: Optional[str] = None
    versions: dict[str, str]
    threshold: Optional[float] = None
    threshold_method: Optional[str] = None
    n_features: int
    data: dict[str, Union[int, float, None]]
