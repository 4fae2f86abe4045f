"""The one shape of a scored request. `score_rows` builds it; the command line's text, the
CSV/JSON/Parquet writers (`results_io`), the Python API and the web API's schema
(`imr_ml.web.schemas`, generated from these types) all read it, so a field added here reaches
every output or a test fails (tests/test_result_schema.py).

Words come from the numbers: `verdict` is "likely overturned" only when P >= 0.5 and "likely
upheld" only when P < 0.5 (`imr_ml.scoring.wording`); the model's operating point is not a
verdict but a flag (`flagged`, `flag`) with what it has meant on held-out predictions.
"""

from typing import Literal, NotRequired

# typing_extensions' TypedDict, not typing's: pydantic (the web API's schema) needs it before Python 3.12
from typing_extensions import TypedDict

from imr_ml.scoring.precedents import PrecedentsSection

INTERVAL_LEVEL = 0.90  # coverage of every result's `interval`; every output says it from here

Verdict = Literal["likely overturned", "uncertain", "likely upheld"]


class Evidence(TypedDict):
    """Text behind a contribution: ``inputs[field][start:end] == text``."""

    field: str
    start: int
    end: int
    text: str


class Part(TypedDict):
    """One feature of a finding that sums several (see `Contribution.parts`)."""

    feature: str
    label: str
    value: float
    contribution: float
    guideline: float | None


class Contribution(TypedDict):
    """One feature's move in log-odds against the baseline, in plain words. (A finding that
    sums the features quoting the same text also says where its effect came from: the
    guideline's prior and the letters' adjustment, the training items behind it, its parts.)"""

    feature: str
    label: str
    value: float
    contribution: float
    evidence: list[Evidence]
    guideline: NotRequired[float | None]
    letters: NotRequired[float | None]
    n_items: NotRequired[int | None]
    source: NotRequired[str | None]
    note: NotRequired[str | None]
    parts: NotRequired[list[Part]]


class Baseline(TypedDict):
    """The bare request of the same category: where the explanation starts."""

    logit: float
    p: float
    what: str


class ResultWarning(TypedDict):
    """Why the result may mislead: dates in an unlikely order (injury_after_denial,
    future_date), a request unlike the training letters (unseen_category, ...)."""

    kind: str
    message: str


class CheckLine(TypedDict):
    """One line of the service's documentation checklist (`features/hints.toml`)."""

    line: str
    found: bool
    evidence: str | None


class OperatingPoint(TypedDict):
    """What flagging at the threshold meant on held-out predictions
    (`imr_ml.modeling.evaluation.operating_point`)."""

    threshold: float
    n_items: int
    n_overturned: int
    flagged: int
    flagged_overturned: int
    precision: float | None
    precision_interval: list[float] | None
    recall: float | None
    recall_interval: list[float] | None
    level: float
    interval_method: str
    measured_on: str


class Flag(TypedDict):
    """The model's operating point as a flag: its name, cut-off and measured meaning."""

    name: str
    threshold: float
    threshold_method: str
    measured: OperatingPoint | None
    meaning: str


class ScoreResult(TypedDict):
    """One scored request (`imr-ml score --json`, `/v1/score`, `Model.score`). An abstained
    request has ``reason`` and None for every number."""

    record_id: str
    model: str
    id: str | None
    letter_id: str | None
    item_index: int | None
    item: str | None
    category: str
    category_label: str
    abstained: bool
    reason: str | None
    p_overturned: float | None
    interval: list[float] | None
    interval_level: float
    chance: str | None
    category_rate: float | None
    relative_risk: float | None
    compared: str | None
    verdict: Verdict | None
    flagged: bool | None
    flag: Flag
    logit: float | None
    baseline: Baseline | None
    contributions: list[Contribution]
    reasons: list[Contribution]
    hints: list[str]
    checklist: list[CheckLine]
    warnings: list[ResultWarning]
    actual: NotRequired[Literal["overturned", "upheld"]]
    precedents: NotRequired[PrecedentsSection]


class Inputs(TypedDict):
    """The request as scored: its pre-decision fields (`imr_ml.schema.PRE_DECISION`), which
    evidence offsets refer to."""

    summary: str | None
    item: str | None
    original_request: str | None
    authorized_portion: str | None
    claims_admin_guideline: str | None
    date_of_injury: str | None
    ur_denial_date: str | None
    other_items: str | None
    retrospective: bool | None


class Group(TypedDict):
    """Contributions of one kind (guideline rules, signals, fields, item, words) and their sum."""

    total: float
    features: list[Contribution]


class Explanation(TypedDict):
    """Contributions grouped."""

    baseline: Baseline | None
    groups: dict[str, Group]


class Step(TypedDict):
    """One row of the waterfall from the baseline to P: ``p`` is the calibrated P after it."""

    kind: Literal["start", "step", "rest", "end"]
    n: int | None
    label: str
    change: float | None
    logit: float
    p: float
    evidence: list[Evidence]


class ExplainResult(ScoreResult):
    """A scored request with what `imr-ml explain`, its page and `/v1/explain` add: the
    inputs, the contributions grouped and the waterfall to the P shown."""

    inputs: Inputs
    explanation: Explanation
    waterfall: list[Step]


def result_id(r: dict) -> str:
    """The id a user knows the item by.

    Parameters
    ----------
    r : dict
        A row or a scored result.

    Returns
    -------
    str
        Its ``id`` (--id-col's value, an upload's row id), else ``letter_id#item_index``.
    """
    if r.get("id") not in (None, ""):
        return str(r["id"])
    return f"{r.get('letter_id')}#{r.get('item_index')}"
