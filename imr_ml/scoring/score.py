"""Scoring requests (`imr-ml score`, `imr-ml explain`): a calibrated P(overturned), the
features that moved it with the text that made them fire, and missing-documentation hints.

Only pre-decision fields reach the model, so a letter's item scored in a backtest gets the
same number as the same facts typed in as a new request.
"""

from __future__ import annotations

import weakref
from collections.abc import Generator, Iterable, Iterator
from statistics import NormalDist

import numpy as np

from imr_ml.dates import date_warnings, read_date
from imr_ml.featurize import feature_groups, rows_seen_once, to_frame
from imr_ml.letters import RETRO_RE
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.modelfiles.loaded import LoadedModel
from imr_ml.modeling.modelfiles.ranges import model_ranges, range_warnings
from imr_ml.pool import ordered_map
from imr_ml.schema import ITEM_SEPARATOR
from imr_ml.scoring.contributions import Explainer, category_rate
from imr_ml.scoring.evidence import evidence_source, evidence_spans
from imr_ml.scoring.findings import findings
from imr_ml.scoring.hints import missing_documentation
from imr_ml.scoring.operating import model_flag, model_key, model_name, record_id
from imr_ml.scoring.result import INTERVAL_LEVEL
from imr_ml.scoring.wording import category_label, compared, in_words, verdict
from imr_ml.signals import extract_signals
from imr_ml.signals.check import check_knowledge
from imr_ml.signals.criteria import FIELD_NAMES, service_named
from imr_ml.signals.criteria_kinds import FIELD_NAMES as KIND_FIELD_NAMES

# A summary of SHORT_NOTE_WORDS words or more is scored (a typed note: "55 yo F, chronic LBP, no TENS
# trial done" states what it states, and the checklist says what it lacks); a shorter one only when
# the model reads a finding in it ("knee OA, h/o GI bleed"); under FEWEST_WORDS nothing is scored.
SHORT_NOTE_WORDS = 6
FEWEST_WORDS = 3
# Signals that read a summary without reading a clinical finding: an age or a body region alone.
NOT_FINDINGS = frozenset({"age", "summary_regions"})
BATCH = 512


def _abstain_reason(row: dict, signals: dict) -> str | None:
    """Why a request (`row`, with its extracted `signals`) is too thin to score, in one line;
    None when it can be scored."""
    words = len((row.get("summary") or "").split(None, SHORT_NOTE_WORDS))  # enough to tell
    if not (row.get("item") or "").strip():
        return "no requested item"
    if words < FEWEST_WORDS or (words < SHORT_NOTE_WORDS and not _reads_a_finding(signals)):
        return (f"too little clinical content to score (summary has {words} words: a summary under "
                f"{SHORT_NOTE_WORDS} words needs at least one finding the model reads)")
    if signals["category"].value == "other":
        return "unknown item: it matches no treatment category in the taxonomy"
    return None


def _reads_a_finding(signals: dict) -> bool:
    """Whether some signal of `signals` fired on the summary's words, other than an age or a region."""
    return any(sig.value and name not in NOT_FINDINGS and any(f == "summary" for f, _, _ in sig.evidence)
               for name, sig in signals.items())


_EXPLAINERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def explainer(loaded: LoadedModel) -> Explainer:
    """The additive decomposition of the fitted model `loaded` around its `ScoringModel` adapter, built
    once per model object, with the knowledge files the model reads (checked to agree with one
    another, once).
    """
    found = _EXPLAINERS.get(loaded.model)
    if found is None or found.knowledge != loaded.knowledge:
        check_knowledge(loaded.knowledge)
        found = _EXPLAINERS[loaded.model] = Explainer(scoring_model(loaded.model), loaded.knowledge,
                                                      training_counts(loaded.manifest))
    return found


def training_counts(manifest: dict) -> dict[str, int] | None:
    """Training items each feature fired on, as the manifest records them (older model
    files: the guideline rules' counts only); None for a model that learnt from no letter.

    Parameters
    ----------
    manifest : dict
        The model's manifest.

    Returns
    -------
    dict or None
        {feature: items}.
    """
    counts = manifest.get("training_counts")
    if counts is not None:
        return dict(counts)
    rules = {f"rule__{u['rule']}": u["n_items"] for u in manifest.get("rule_updates") or []
             if u.get("n_items") is not None}
    return rules or None


def _row_entries(Z, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, values) of row i's non-zero features."""
    if hasattr(Z, "indptr"):
        return Z.indices[Z.indptr[i]: Z.indptr[i + 1]], Z.data[Z.indptr[i]: Z.indptr[i + 1]]
    row = np.asarray(Z[i]).ravel()
    idx = np.flatnonzero(row)
    return idx, row[idx]


def score_rows(loaded, rows: Iterable[dict], top: int = 5, progress=None, n_jobs: int = 1,
               batch: int = BATCH) -> Generator[dict, None, None]:
    """Stream one result per item, in the rows' order, scored in batches.

    Parameters
    ----------
    loaded : LoadedModel
        The model.
    rows : iterable of dict
        Requests or corpus rows.
    top : int
        Reasons listed per result.
    progress : callable or None
        ``progress(n)`` hears how many items are done.
    n_jobs : int
        Processes scoring batches (1: this one).
    batch : int
        Rows per batch.

    Yields
    ------
    dict
        One result per row, in the rows' order.
    """
    batches = _batches(rows, batch)
    scored: Generator[list[dict], None, None]
    if n_jobs > 1:
        scored = ordered_map(_score_in_worker, batches, n_jobs, _init_scorer, (loaded, top))
    else:
        scored = (_score_batch(loaded, b, top) for b in batches)
    done = 0
    try:
        for results in scored:
            yield from results
            done += len(results)
            if progress:
                progress(done)
    finally:  # closed early (the consumer failed: a full disk): the workers stop now, not at exit
        scored.close()


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# A pool worker's state, set once by its initializer: the model reaches a forked worker
# without pickling, whereas a model bound to every task would be pickled per batch.
_SCORER: dict = {}


def _init_scorer(loaded, top: int) -> None:
    _SCORER.update(loaded=loaded, top=top)


def _score_in_worker(rows: list[dict]) -> list[dict]:
    return _score_batch(_SCORER["loaded"], rows, _SCORER["top"])


Z_INTERVAL = NormalDist().inv_cdf(0.5 + INTERVAL_LEVEL / 2)  # standard normal quantile of the interval


def _scored(loaded: LoadedModel, rows: list[dict]):
    """Everything a batch's results are made of: (explainer, Z, log-odds, P, interval bounds)."""
    ex = explainer(loaded)
    model = ex.model
    with rows_seen_once():  # a scored row is not seen again: its vector is not worth keeping
        Z = model.features(to_frame(rows))
    logits = model.logits(Z)
    sd = model.logit_sd(Z)
    bounds = np.sort(model.calibrate(np.stack([logits - Z_INTERVAL * sd, logits + Z_INTERVAL * sd])), axis=0)
    return ex, Z, logits, model.calibrate(logits), bounds


def _label(ex: Explainer, j: int, signals: dict) -> str:
    """A feature's words; a rule reading a service criterion names the service it fired for."""
    source = evidence_source(ex.names[j], ex.knowledge.guidelines)
    if source and source[0] == "rule" and any(name in FIELD_NAMES or name in KIND_FIELD_NAMES for name, _ in source[1]):
        return service_named(ex.label(j), signals)
    return ex.label(j)


def _explained(ex: Explainer, Z, i: int, logit: float, row: dict, signals: dict) -> dict:
    """The baseline and the findings (contributions quoting the same text, summed: they add
    up to `logit`) with labels, evidence and where each came from."""
    category = signals["category"].value
    base, parts = ex.contributions(*_row_entries(Z, i), category)
    guidelines = ex.knowledge.guidelines
    return {
        "logit": float(logit),
        "baseline": {"logit": base, "p": ex.baseline_probability(category),
                     "what": ex.baseline_what(category)},
        "contributions": findings(
            row, [{"feature": ex.names[j], "label": _label(ex, j, signals), "value": v, "contribution": c,
                   "guideline": g, "n_items": ex.n_items(j)} for j, v, c, g in parts],
            [evidence_spans(ex.names[j], row, signals, guidelines) for j, *_ in parts]),
    }


def _score_batch(loaded: LoadedModel, rows: list[dict], top: int) -> list[dict]:
    ex, Z, logits, p, bounds = _scored(loaded, rows)
    knowledge = ex.knowledge
    flag, name, key = model_flag(loaded), model_name(loaded.manifest), model_key(loaded.manifest)
    ranges = model_ranges(loaded.manifest)
    out = []
    for i, row in enumerate(rows):
        row = {k: (v if not (isinstance(v, float) and v != v) else None) for k, v in row.items()}
        signals = extract_signals(row, knowledge.signals, knowledge.taxonomy, knowledge.criteria)
        category = signals["category"].value
        hints, checklist = missing_documentation(signals, row, knowledge.hints, knowledge.taxonomy)
        result = {"record_id": record_id(key, row), "model": name, "id": row.get("id"),
                  "letter_id": row.get("letter_id"), "item_index": row.get("item_index"), "item": row.get("item"),
                  "category": category, "category_label": category_label(category, knowledge.taxonomy),
                  "abstained": False, "reason": None, **_unscored(), "flag": flag, "hints": hints,
                  "checklist": checklist, "warnings": range_warnings(row, category, ranges) + date_warnings(row)}
        reason = _abstain_reason(row, signals)
        if reason:
            out.append(result | {"abstained": True, "reason": reason})
            continue
        rate = category_rate(category, knowledge.taxonomy)
        result |= _numbers(float(p[i]), (float(bounds[0, i]), float(bounds[1, i])), rate, result["category_label"],
                           flag)
        explained = _explained(ex, Z, i, logits[i], row, signals)
        result |= explained | {"reasons": explained["contributions"][:top]}
        if "label" in row and row.get("label") is not None:
            result["actual"] = "overturned" if row["label"] else "upheld"
        out.append(result)
    return out


def _unscored() -> dict:
    """The numbers of a result, as an abstained one has them: none."""
    return {"p_overturned": None, "interval": None, "interval_level": INTERVAL_LEVEL, "chance": None,
            "category_rate": None, "relative_risk": None, "compared": None, "verdict": None, "flagged": None,
            "logit": None, "baseline": None, "contributions": [], "reasons": []}


def _numbers(p: float, bounds: tuple[float, float], rate: float, label: str, flag: dict) -> dict:
    """P, its interval, and the words that go with them: the verdict (by P against 0.5), the
    flag (P against the operating threshold), P in words and against the service's usual rate."""
    return {"p_overturned": round(p, 4), "interval": [round(bounds[0], 4), round(bounds[1], 4)],
            "chance": in_words(p), "category_rate": round(rate, 4), "relative_risk": round(p / rate, 3),
            "compared": compared(p, rate, label), "verdict": verdict(p), "flagged": p >= flag["threshold"]}


def grouped_contributions(result: dict) -> dict:
    """For `explain`: a scored result's contributions grouped (guideline rules, signals,
    fields, item, words), each group with its total.

    Parameters
    ----------
    result : dict
        A result of `score_rows`.

    Returns
    -------
    dict
        ``baseline`` and ``groups`` ({group: {total, features}}).
    """
    contribs = result.get("contributions") or []
    groups = {}
    for group, idx in feature_groups([c["feature"] for c in contribs]).items():
        feats = [contribs[j] for j in idx]
        groups[group] = {"total": sum(f["contribution"] for f in feats), "features": feats}
    return {"baseline": result.get("baseline"), "groups": groups}


def request_row(summary: str, item: str, claims_admin_guideline: str | None = None,
                date_of_injury: str | None = None, ur_denial_date: str | None = None,
                other_items: list[str] | tuple[str, ...] = (), ur_decision: str | None = None,
                ur_reason: str | None = None) -> dict:
    """A new request typed in before submission, as a row.

    The UR decision and its stated reason, which every letter summary restates, may be given
    apart; they are added to the summary as a letter would say them.

    Parameters
    ----------
    summary : str
        The clinical summary.
    item : str
        The requested treatment.
    claims_admin_guideline : str or None
        The guideline the claims administrator cited.
    date_of_injury : str or None
        MM/DD/YYYY, M/D/YY, MM-DD-YYYY or YYYY-MM-DD (`imr_ml.dates.read_date`); stored as
        YYYY-MM-DD.
    ur_denial_date : str or None
        As `date_of_injury`.
    other_items : sequence of str
        Other items disputed in the same application.
    ur_decision : str or None
        ``denied`` or ``modified``.
    ur_reason : str or None
        UR's stated reason.

    Returns
    -------
    dict
        A PRE_DECISION row.

    Raises
    ------
    ValueError
        A UR decision that is neither; `imr_ml.dates.DateError` (a ValueError) for a date
        that is no date, naming the field and the value.
    """
    retro = bool(RETRO_RE.search(item or ""))
    summary = " ".join((summary or "").split())
    if ur_decision or ur_reason:
        verb = {"modified": "modified", "denied": "non-certified", "non-certified": "non-certified"}.get(
            (ur_decision or "denied").strip().lower())
        if verb is None:
            raise ValueError(f"UR decision {ur_decision!r}: say denied or modified")
        reason = " ".join((ur_reason or "").split()).rstrip(".")
        summary += f" Utilization review {verb} the request" + (f", stating that {reason}." if reason else ".")
    return {"letter_id": "request", "item_index": 0, "summary": summary.strip(),
            "item": " ".join((item or "").split()), "claims_admin_guideline": claims_admin_guideline,
            "date_of_injury": read_date(date_of_injury, "date_of_injury"),
            "ur_denial_date": read_date(ur_denial_date, "ur_denial_date"), "retrospective": retro,
            "original_request": None, "authorized_portion": None,
            "other_items": ITEM_SEPARATOR.join(" ".join(o.split()) for o in other_items)}

