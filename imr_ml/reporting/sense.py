"""Clinical-sense suite: does a model order requests the way MTUS/ACOEM/ODG would?

The suite (``experiments/sense_pairs.toml``, format documented at its top) holds

* directional pairs: two requests identical but for one clinically decisive fact, with
  ``higher`` naming the one more likely to be overturned;
* invariance pairs: two requests that differ in nothing that should matter (paraphrase,
  sex, side, date format, ...), expected within ``INVARIANCE_TOL`` of each other;
* textbook denials: requests any reviewer would uphold, whose mean probability should sit
  below the base rate.

:func:`load_suite` reads and validates it (``SuiteError`` with the offending id on bad
input); :func:`evaluate_suite` scores it with any ``score_fn(rows) -> list[float | None]``
(``None`` = abstained) and returns plain numbers, so it is testable without a model.
"""
from __future__ import annotations

import tomllib
from collections import OrderedDict
from pathlib import Path

from imr_ml.modeling.evaluation.metrics import wilson_interval
from imr_ml.scoring.score import request_row

DEFAULT_BASE_RATE = 0.104     # overturn rate of the 111 real letters in the shared data
STATEWIDE_2016_RATE = 0.084   # DWC statewide IMR overturn rate, 2016
INVARIANCE_TOL = 0.05
_EPS = 1e-9                   # a gap of exactly 0.05 passes despite float rounding

KINDS = ("directional", "invariance")
STYLES = ("letter", "note", "mixed")
REQUEST_KEYS = {"item", "summary", "other_items", "claims_admin_guideline", "date_of_injury", "ur_denial_date"}
PAIR_KEYS = {"id", "dimension", "kind", "style", "higher", "why", "a", "b"}
DENIAL_KEYS = REQUEST_KEYS | {"id", "ref", "why", "style"}


class SuiteError(ValueError):
    """The suite file is malformed; the message names the entry."""


def load_suite(path: str | Path) -> dict:
    """Read and validate a suite TOML file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: not valid TOML: {exc}") from None
    return validate_suite(raw, str(path))


def _request(obj, where: str) -> dict:
    if not isinstance(obj, dict):
        raise SuiteError(f"{where}: must be a table with item and summary")
    unknown = set(obj) - REQUEST_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("item", "summary"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise SuiteError(f"{where}: '{key}' must be a non-empty string")
    for key in ("claims_admin_guideline", "date_of_injury", "ur_denial_date"):
        if key in obj and not isinstance(obj[key], str):
            raise SuiteError(f"{where}: '{key}' must be a string")
    others = obj.get("other_items", [])
    if not isinstance(others, list) or not all(isinstance(o, str) and o.strip() for o in others):
        raise SuiteError(f"{where}: 'other_items' must be a list of non-empty strings")
    return {"item": obj["item"], "summary": obj["summary"], "other_items": list(others),
            "claims_admin_guideline": obj.get("claims_admin_guideline") or None,
            "date_of_injury": obj.get("date_of_injury") or None,
            "ur_denial_date": obj.get("ur_denial_date") or None}


def _entry(entry, kind: str, n: int, source: str, seen: set, keys) -> tuple[str, str]:
    """(id, where-to-say-it) of the n-th pair or denial, its id unique and its keys known."""
    eid = entry.get("id") if isinstance(entry, dict) else None
    where = f"{source}: {kind} {eid or f'#{n}'}"
    if not isinstance(eid, str) or not eid:
        raise SuiteError(f"{where}: needs a string 'id'")
    if eid in seen:
        raise SuiteError(f"{where}: duplicate id")
    seen.add(eid)
    extra = set(entry) - keys
    if extra:
        raise SuiteError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    return eid, where


def validate_suite(raw: dict, source: str = "suite") -> dict:
    """Check the parsed TOML; return ``{"pairs": [...], "denials": [...]}`` with every
    request normalised (all six fields present) and denial references resolved."""
    unknown = set(raw) - {"pair", "denial"}
    if unknown:
        raise SuiteError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    pairs: list[dict] = []
    seen: set[str] = set()
    for n, p in enumerate(raw.get("pair", []), 1):
        pid, where = _entry(p, "pair", n, source, seen, PAIR_KEYS)
        if p.get("kind") not in KINDS:
            raise SuiteError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
        if p.get("style") not in STYLES:
            raise SuiteError(f"{where}: 'style' must be one of {', '.join(STYLES)}")
        if not isinstance(p.get("dimension"), str) or not p["dimension"]:
            raise SuiteError(f"{where}: needs a 'dimension'")
        if not isinstance(p.get("why"), str) or not p["why"].strip():
            raise SuiteError(f"{where}: needs a 'why'")
        if p["kind"] == "directional":
            if p.get("higher") not in ("a", "b"):
                raise SuiteError(f"{where}: directional pair needs higher = \"a\" or \"b\"")
        elif "higher" in p:
            raise SuiteError(f"{where}: an invariance pair has no 'higher'")
        a, b = _request(p.get("a"), f"{where}.a"), _request(p.get("b"), f"{where}.b")
        if a == b:
            raise SuiteError(f"{where}: its two requests are identical")
        pairs.append({"id": pid, "dimension": p["dimension"], "kind": p["kind"], "style": p["style"],
                      "higher": p.get("higher"), "why": p["why"], "a": a, "b": b})
    by_id = {p["id"]: p for p in pairs}
    denials = []
    for n, d in enumerate(raw.get("denial", []), 1):
        did, where = _entry(d, "denial", n, source, seen, DENIAL_KEYS)
        if "ref" in d:
            if set(d) & REQUEST_KEYS:
                raise SuiteError(f"{where}: give either 'ref' or the request, not both")
            ref = d["ref"]
            pid, _, side = str(ref).rpartition(".")
            if side not in ("a", "b") or pid not in by_id:
                raise SuiteError(f"{where}: ref {ref!r} must be '<pair id>.a' or '<pair id>.b' of a listed pair")
            req = dict(by_id[pid][side])
        else:
            req = _request({k: v for k, v in d.items() if k in REQUEST_KEYS}, where)
        denials.append({"id": did, "ref": d.get("ref"), "why": d.get("why", ""), **req})
    return {"pairs": pairs, "denials": denials}


def build_row(req: dict) -> dict:
    """A scoring row for one suite request (the same path as a typed-in request)."""
    return request_row(summary=req["summary"], item=req["item"],
                       claims_admin_guideline=req.get("claims_admin_guideline"),
                       date_of_injury=req.get("date_of_injury"), ur_denial_date=req.get("ur_denial_date"),
                       other_items=req.get("other_items") or ())


def _judge_pair(p: dict, pa: float | None, pb: float | None, tol: float) -> dict:
    """One pair's result: a directional pair is right when P(higher) > P(other) strictly,
    an invariance pair when both are scored and within `tol`; `failure` says why not."""
    res = {"id": p["id"], "dimension": p["dimension"], "style": p["style"], "p_a": pa, "p_b": pb}
    if p["kind"] == "directional":
        if pa is None or pb is None:
            return res | {"higher": p["higher"], "ok": False, "failure": "abstained"}
        hi, lo = (pa, pb) if p["higher"] == "a" else (pb, pa)
        ok = hi > lo
        return res | {"higher": p["higher"], "ok": ok, "failure": "" if ok else ("tie" if hi == lo else "reversed")}
    gap = None if pa is None or pb is None else abs(pa - pb)
    ok = gap is not None and gap <= tol + _EPS
    return res | {"gap": gap, "ok": ok, "failure": "" if ok else ("abstained" if gap is None else "gap")}


def _share(rows: list[dict]) -> dict:
    """How many of `rows` are right, as a share with its 95% Wilson interval."""
    k, n = sum(r["ok"] for r in rows), len(rows)
    lo, hi = wilson_interval(k, n)
    return {"ok": k, "n": n, "share": (k / n) if n else None, "wilson95": [lo, hi]}


def family(dimension: str) -> str:
    """The family of a dimension: its first word (`med_...`, `imaging_...`, `dme_...`), by the
    suites' naming convention; a per-dimension row has n = 1 in the newer suites, a family does not."""
    return dimension.split("_", 1)[0]


def _breakdown(directional: list[dict]) -> dict:
    """Directional results by family and by style, each a share with its Wilson interval, and
    the misses by kind (tie, reversed, abstained)."""
    groups: dict[str, dict[str, list[dict]]] = {"family": {}, "style": {}}
    for r in directional:
        groups["family"].setdefault(family(r["dimension"]), []).append(r)
        groups["style"].setdefault(r["style"], []).append(r)
    misses: dict[str, int] = {}
    for r in directional:
        if not r["ok"]:
            misses[r["failure"]] = misses.get(r["failure"], 0) + 1
    return {key: {name: _share(rows) for name, rows in sorted(by.items())} for key, by in groups.items()} | {
        "misses": dict(sorted(misses.items(), key=lambda kv: -kv[1]))}


def evaluate_suite(suite: dict, score_fn, base_rate: float = DEFAULT_BASE_RATE,
                   tol: float = INVARIANCE_TOL) -> dict:
    """Score every request once with ``score_fn(rows) -> list[float | None]`` and summarise.

    Directional: right only when P(higher) > P(other) strictly; a tie or an abstention on
    either side is wrong (abstentions also listed). Invariance: within when both are scored
    and |P(a) - P(b)| <= tol. Denials: mean P of the scored ones against ``base_rate``."""
    reqs = []
    for p in suite["pairs"]:
        reqs += [p["a"], p["b"]]
    reqs += suite["denials"]
    probs = list(score_fn([build_row(r) for r in reqs]))
    if len(probs) != len(reqs):
        raise ValueError(f"score_fn returned {len(probs)} scores for {len(reqs)} rows")
    probs = [None if v is None else float(v) for v in probs]

    directional: list[dict] = []
    invariance: list[dict] = []
    abstained: list[str] = []
    dims: dict = OrderedDict()
    for i, p in enumerate(suite["pairs"]):
        pa, pb = probs[2 * i], probs[2 * i + 1]
        for side, v in (("a", pa), ("b", pb)):
            if v is None:
                abstained.append(f"{p['id']}.{side}")
        d = dims.setdefault(p["dimension"], {"kind": p["kind"], "n": 0, "ok": 0})
        d["n"] += 1
        res = _judge_pair(p, pa, pb, tol)
        (directional if p["kind"] == "directional" else invariance).append(res)
        d["ok"] += res["ok"]

    den_p = probs[2 * len(suite["pairs"]):]
    den_res = [{"id": d["id"], "p": v} for d, v in zip(suite["denials"], den_p)]
    for r in den_res:
        if r["p"] is None:
            abstained.append(r["id"])
    scored = [r["p"] for r in den_res if r["p"] is not None]
    mean_den = sum(scored) / len(scored) if scored else None

    gaps = [r["gap"] for r in invariance if r["gap"] is not None]
    return {
        "directional": _share(directional) | {"pairs": directional},
        "invariance": _share(invariance) | {"max_gap": max(gaps) if gaps else None, "tol": tol,
                                           "pairs": invariance},
        "denials": {"n": len(den_res), "scored": len(scored), "mean_p": mean_den, "base_rate": base_rate,
                    "statewide_2016": STATEWIDE_2016_RATE,
                    "below_base_rate": sum(v < base_rate for v in scored), "items": den_res},
        "dimensions": {k: v | {"share": v["ok"] / v["n"]} for k, v in dims.items()},
        "breakdown": _breakdown(directional),
        "abstained": abstained,
        "failing": [r["id"] for r in directional + invariance if not r["ok"]],
    }
