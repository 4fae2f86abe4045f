"""One finding, one line: the guideline's directions shared with the signals a rule reads,
evidence that matches its label, findings that group the contributions quoting the same text."""

from pathlib import Path

import numpy as np
import pytest

from imr_ml.featurize import build_features, feature_blocks
from imr_ml.knowledge.taxonomy import condition
from imr_ml.modeling.estimator.directions import condition_polarity, direction_conflicts, rule_directions
from imr_ml.modeling.estimator.pipeline import knowledge_prior
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.scoring.findings import MIN_LEARNT, counted_both_ways, findings, source_words
from imr_ml.scoring.score import request_row, score_rows

NAMES = feature_blocks(build_features())["structured"].layout()


def test_a_condition_gives_a_direction_only_when_it_asks_for_presence_or_absence():
    assert [condition_polarity(condition(c)) for c in (True, ">0", False, "=0", "<1")] == [1, 1, -1, -1, -1]
    # a threshold or a list of levels scopes a rule: it says nothing about which way the value moves the odds
    assert [condition_polarity(condition(c)) for c in (">65", "<66", ["knee", "elbow"])] == [0, 0, 0]


def test_signals_and_fields_a_fixed_rule_reads_share_its_direction():
    d = rule_directions(NAMES)
    # imaging with red flags (+, presence) and imaging without them (-, absence) agree: they count toward overturn
    assert d["signal__red_flags"] == d["signal__failed_conservative_care"] == 1
    # more visits after a course without functional improvement (-) reads the earlier sessions
    assert d["field__prior_sessions"] == d["field__prior_same_modality"] == -1
    # the rules read improvement with the same therapy (the general signal is read by none)
    assert d["signal__functional_improvement_same_modality"] == 1 and "signal__functional_improvement" not in d
    # radicular symptoms support an epidural and count against trigger-point injections: merged with the rules
    assert d["signal__radiculopathy"] == d["signal__neuro_deficit"] == 0
    # age is read by the PPI rules through thresholds only; regions through lists: no direction
    assert "field__age_decades" not in d and not any(n.startswith("field__item_region__") for n in d)
    prior = knowledge_prior(NAMES)
    j, k, m = (NAMES.index(n) for n in ("signal__red_flags", "field__prior_sessions", "signal__radiculopathy"))
    assert (prior["lower"][j], prior["upper"][j]) == (0.0, np.inf)
    assert (prior["lower"][k], prior["upper"][k]) == (-np.inf, 0.0)
    assert (prior["lower"][m], prior["upper"][m]) == (0.0, 0.0)
    free = knowledge_prior(NAMES, share_directions=False)
    assert np.isinf(free["lower"][j]) and np.isinf(free["upper"][k]) and np.isinf(free["lower"][m])


def test_rules_that_disagree_merge_the_signal_with_them(tmp_path):
    src = (Path(__file__).resolve().parents[1] / "features" / "guidelines.toml").read_text(encoding="utf-8")
    assert rule_directions(NAMES)["signal__red_flags"] == 1
    extra = ('\n[[rule]]\nname = "toy_red_flags_against"\nlabel = "toy"\nwhen = { red_flags = true }\n'
             'strength = -0.5\ndirection = "fixed"\ncitation = "test"\n')
    path = tmp_path / "guidelines.toml"
    path.write_text(src + extra, encoding="utf-8")
    assert rule_directions(NAMES, str(path))["signal__red_flags"] == 0
    conflict = direction_conflicts(NAMES, str(path))["signal__red_flags"]
    assert conflict[-1] == ["toy_red_flags_against"] and "imaging_red_flags" in conflict[1]
    j = NAMES.index("signal__red_flags")
    prior = knowledge_prior(NAMES, str(path))
    assert (prior["lower"][j], prior["upper"][j]) == (0.0, 0.0)


def _part(feature, c, guideline=0.0, n=50):
    return {"feature": feature, "label": feature, "value": 1.0, "contribution": c, "guideline": guideline,
            "n_items": n}


def test_contributions_quoting_overlapping_text_are_one_finding():
    row = {"summary": "Completed 12 sessions of acupuncture without functional improvement. Age 50.", "item": "Acu x6"}
    parts = [_part("rule__therapy_continued", -1.0, guideline=-1.2, n=36), _part("field__prior_sessions", -0.2),
             _part("field__age_decades", 0.3), _part("signal__x", 0.25)]
    spans = [[("summary", 10, 36)], [("summary", 10, 21)], [("summary", 71, 73)], [("item", 0, 3)]]
    out = findings(row, parts, spans)
    assert [f["feature"] for f in out] == ["rule__therapy_continued", "field__age_decades", "signal__x"]
    rule = out[0]
    assert rule["contribution"] == pytest.approx(-1.2) and rule["guideline"] == pytest.approx(-1.2)
    assert rule["letters"] == pytest.approx(0.0) and [p["feature"] for p in rule["parts"]] == [
        "rule__therapy_continued", "field__prior_sessions"]
    assert rule["evidence"][0]["text"] == "12 sessions of acupuncture"
    assert out[1]["source"] == "learnt from the letters (50 training items)" and out[1]["note"] is None
    assert sum(f["contribution"] for f in out) == pytest.approx(sum(p["contribution"] for p in parts))
    assert not counted_both_ways(out)


def test_a_finding_says_where_it_came_from_and_when_the_letters_disagree():
    assert source_words(True, 0.8, -0.32, 22) == (
        "guideline prior +0.80, the letters' adjustment -0.32 (22 training items)",
        "the letters disagree with the guideline here (22 items)")
    source, note = source_words(True, 0.8, -0.3, MIN_LEARNT - 1)
    assert "not learnt: it applied to 9 training items" in source and note is None
    assert source_words(True, -0.7, 0.0, None) == ("guideline prior -0.70", None)  # the built-in model
    assert source_words(True, -1.2, 0.12, 36)[1] is None  # weakened a little: no disagreement to report


def test_counted_both_ways_needs_overlap_opposite_signs_and_size():
    ev = [{"field": "summary", "start": 0, "end": 10}]
    far = [{"field": "summary", "start": 20, "end": 30}]
    line = {"feature": "a", "contribution": -1.0, "evidence": ev}
    assert counted_both_ways([line, {"feature": "b", "contribution": 0.3, "evidence": ev}]) == [("a", "b")]
    assert not counted_both_ways([line, {"feature": "b", "contribution": 0.1, "evidence": ev}])
    assert not counted_both_ways([line, {"feature": "b", "contribution": 0.3, "evidence": far}])
    assert not counted_both_ways([line, {"feature": "b", "contribution": -0.3, "evidence": ev}])


def test_a_region_feature_quotes_its_own_region(demo_model):
    loaded = load_model_dir(demo_model[0])
    row = request_row("45 yo M neck and low back pain after a fall at work, failed PT and NSAIDs, numbness in the "
                      "left leg and weakness of dorsiflexion 4/5.", "MRI lumbar and cervical spine")
    r = next(score_rows(loaded, [row], top=99))
    regions = [p for f in r["contributions"] for p in f["parts"] if p["feature"].startswith("field__item_region__")]
    assert regions, "the demo model weighs the item's regions"
    from imr_ml.scoring.evidence import evidence_spans, quoted
    from imr_ml.signals import extract_signals

    signals = extract_signals(row)
    for name, word in (("field__item_region__cervical", "cervical"), ("field__item_region__lumbar", "lumbar")):
        assert [e["text"] for e in quoted(row, evidence_spans(name, row, signals))] == [word]


def test_every_result_shows_each_evidence_once_and_adds_up(demo_model):
    model_dir, rows = demo_model
    scored = [r for r in score_rows(load_model_dir(model_dir), rows, top=99) if not r["abstained"]]
    for r in scored:
        assert r["baseline"]["logit"] + sum(c["contribution"] for c in r["contributions"]) == pytest.approx(
            r["logit"], abs=1e-6)
        for f in r["contributions"]:
            assert sum(p["contribution"] for p in f["parts"]) == pytest.approx(f["contribution"], abs=1e-9)
            assert f["guideline"] + f["letters"] == pytest.approx(f["contribution"], abs=1e-9)
        spans = [(f["feature"], e) for f in r["contributions"] for e in f["evidence"]]
        for i, (a, x) in enumerate(spans):
            for b, y in spans[i + 1:]:
                overlap = x["field"] == y["field"] and x["start"] < y["end"] and y["start"] < x["end"]
                assert a == b or not overlap, (a, b)


def test_the_built_in_model_explains_with_the_guideline_alone():
    loaded = load_model_dir("builtin")
    row = request_row("52F neck pain, completed 12 sessions of acupuncture, pain unchanged, no functional "
                      "improvement, still off work.", "Acupuncture 2x6 cervical")
    r = next(score_rows(loaded, [row]))
    assert r["contributions"] and all(f["letters"] == pytest.approx(0.0) and f["note"] is None
                                      for f in r["contributions"])
    assert all(f["source"].startswith("guideline prior") for f in r["contributions"])


def test_on_the_real_letters_few_typed_requests_count_evidence_both_ways(real_rows):
    """A model trained on the 111 letters: at most 5% of the held-out sense suite's results count the
    same evidence both ways, in their per-feature contributions (experiments/contradictions.md)."""
    from imr_ml.modeling.modelfiles.loaded import LoadedModel
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import train
    from imr_ml.reporting.sense import build_row, load_suite
    from imr_ml.scoring.evidence import evidence_spans, quoted
    from imr_ml.signals import extract_signals

    fit = train(real_rows[0], TrainOptions(estimate=False, baselines=False))
    loaded = LoadedModel(fit.model, fit.manifest, Path("-"))
    suite = load_suite(Path(__file__).resolve().parents[1] / "experiments" / "sense_pairs_holdout.toml")
    rows = [build_row(r) for p in suite["pairs"] for r in (p["a"], p["b"])]
    both = n = 0
    for row, r in zip(rows, score_rows(loaded, rows)):
        if r["abstained"]:
            continue
        signals = extract_signals(row)
        parts = [p | {"evidence": quoted(row, evidence_spans(p["feature"], row, signals), limit=99)}
                 for f in r["contributions"] for p in f["parts"]]
        n += 1
        both += bool(counted_both_ways(parts))
    assert n > 80 and both / n <= 0.05
