"""The model as a result names it: its operating threshold as a flag (with what flagging
there has meant on held-out predictions), its name and version, and the record id of a
scored request.

The threshold is not a verdict: it is where a request is flagged "better chance than most"
(`imr_ml.scoring.wording.FLAG_NAME`), chosen at training time (F1 on out-of-fold
predictions) or by the user (`score --threshold`), and measured by
`imr_ml.modeling.evaluation.operating_point` on the model's cross-validated predictions.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace

from imr_ml.modeling.evaluation.operating_point import fallback_threshold, operating_point
from imr_ml.modeling.modelfiles.loaded import LoadedModel
from imr_ml.modeling.modelfiles.modelio import load_cv_predictions
from imr_ml.schema import PRE_DECISION
from imr_ml.scoring.wording import FLAG_NAME, flag_meaning


def with_threshold(loaded: LoadedModel, value: float) -> LoadedModel:
    """The model `loaded` flagging at another threshold, `value` (the P from which a request is flagged;
    `score --threshold`): a copy whose manifest records the threshold as set by the user, with what
    flagging at it meant on the model's cross-validated predictions when it has them.

    Raises
    ------
    ValueError
        `value` is no probability (outside 0-1, or not a number).
    """
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"threshold {value!r} is not a probability between 0 and 1")
    cv = load_cv_predictions(loaded)
    measured = None
    if cv and cv["y"]:
        measured = operating_point(cv["y"], cv["p"], float(value), groups=cv["letter"]) | {
            "measured_on": f"the {len(cv['y'])} out-of-fold predictions of the training cross-validation"}
    return replace(loaded, manifest={**loaded.manifest, "threshold": {
        "value": float(value), "method": "set by the user", "operating_point": measured}})


def threshold(loaded: LoadedModel) -> float:
    """The flag's threshold the model `loaded` recorded at training time (`estimate.choose_threshold`);
    twice the base rate, at most 0.5, when none was recorded.
    """
    t = (loaded.manifest.get("threshold") or {}).get("value")
    if t is None:
        t = fallback_threshold(float((loaded.manifest.get("data") or {}).get("base_rate") or 0.1))
    return float(t)


def model_flag(loaded: LoadedModel) -> dict:
    """The model's operating point as a flag (`imr_ml.scoring.result.Flag`): its name, cut-off
    and what it has meant on held-out predictions, as far as that was measured.

    Parameters
    ----------
    loaded : LoadedModel
        The model.

    Returns
    -------
    dict
        ``name``, ``threshold``, ``threshold_method``, ``measured`` (or None) and ``meaning``.
    """
    recorded = loaded.manifest.get("threshold") or {}
    cut = threshold(loaded)
    measured = recorded.get("operating_point")
    if measured and abs(measured["threshold"] - cut) > 1e-12:
        measured = None  # measured at another cut-off: not this flag's figures
    return {"name": FLAG_NAME, "threshold": cut,
            "threshold_method": recorded.get("method") or "twice the base rate",
            "measured": measured, "meaning": flag_meaning(measured, cut)}


def model_name(manifest: dict) -> str:
    """The model as a printed record names it, from its manifest `manifest`: its kind, what it learnt
    from, imr-ml's version (e.g. "imr-ml built-in model (imr-ml 0.1.0)" or "imr-ml model trained on
    1217 letters, 2025-01-31 (imr-ml 0.1.0)").
    """
    data = manifest.get("data") or {}
    kind = manifest.get("kind") or "imr-ml model"
    if data.get("n_letters"):
        made = time.strftime("%Y-%m-%d", time.gmtime(manifest["created_unix"])) if manifest.get("created_unix") else ""
        kind += f" trained on {data['n_letters']} letters" + (f", {made}" if made else "")
    return f"{kind} (imr-ml {manifest.get('imr_ml_version') or '?'})"


def model_key(manifest: dict) -> str:
    """What identifies a model in a record id, as a JSON list from its manifest `manifest`: its kind,
    version, training data and how it was trained (not when: the same training gives the same ids).
    """
    data = manifest.get("data") or {}
    return json.dumps([manifest.get("kind"), manifest.get("imr_ml_version"), data.get("fingerprint_sha256"),
                       manifest.get("options"), manifest.get("hyperparameters")], sort_keys=True, default=str)


def record_id(model_key: str, row: dict) -> str:
    """The id of a scored request as a record: the same inputs scored by the same model get the
    same id, so a printout and a JSON result can be matched.

    Parameters
    ----------
    model_key : str
        The model's identity (`model_key`).
    row : dict
        The request.

    Returns
    -------
    str
        12 hex digits.
    """
    inputs = json.dumps({k: row.get(k) for k in PRE_DECISION}, sort_keys=True, default=str)
    return hashlib.sha256((model_key + inputs).encode()).hexdigest()[:12]
