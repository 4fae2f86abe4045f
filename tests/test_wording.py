"""Words from numbers (imr_ml.scoring.wording): "likely" only from 0.5, chances as people read
them, the flag stated with what it has meant."""

import pytest

from imr_ml.scoring.wording import compared, flag_line, flag_meaning, in_words, pct, verdict


@pytest.mark.parametrize("p, words", [(0.0, "likely upheld"), (0.168, "likely upheld"), (0.399, "likely upheld"),
                                      (0.4, "uncertain"), (0.499, "uncertain"), (0.5, "likely overturned"),
                                      (0.97, "likely overturned")])
def test_likely_overturned_only_from_one_half(p, words):
    assert verdict(p) == words


@pytest.mark.parametrize("p, words", [(0.335, "about 1 in 3"), (0.4, "about 2 in 5"), (0.168, "about 1 in 6"),
                                      (0.2, "about 1 in 5"), (0.057, "about 1 in 18"), (0.95, "about 19 in 20"),
                                      (0.003, "fewer than 1 in 200"), (0.0, "none")])
def test_a_chance_in_words(p, words):
    assert in_words(p) == words


@pytest.mark.parametrize("p, text", [(0.335, "33.5%"), (0.2, "20%"), (0.0057, "0.6%"), (0.0001, "<0.1%"),
                                     (0.0, "0%"), (None, "")])
def test_one_percent_formatter(p, text):
    assert pct(p) == text


def test_against_the_usual_rate():
    label = "Perioperative service (pre-op, post-op, associated surgical)"
    assert compared(0.44, 0.2, label) == "2.2× the usual 20% for perioperative service requests"
    assert compared(0.21, 0.2, label) == "about the usual 20% for perioperative service requests"
    assert compared(0.1, 0.2, label) == "about half of the usual 20% for perioperative service requests"
    assert compared(0.004, 0.1, "MRI") == "under a tenth of the usual 10% for MRI requests"


def test_the_flag_says_what_it_has_meant_or_that_it_was_not_measured():
    assert "has not been measured" in flag_meaning(None, 0.168)
    measured = {"threshold": 0.14, "n_items": 278, "n_overturned": 29, "flagged": 60, "flagged_overturned": 20,
                "precision": 20 / 60, "precision_interval": [0.158, 0.493], "recall": 20 / 29,
                "recall_interval": [0.4, 0.87], "level": 0.95, "measured_on": "the 278 out-of-fold predictions"}
    text = flag_meaning(measured, 0.14)
    assert "Of the 60 held-out requests it flagged, 20 were overturned: about 1 in 3 (95% interval 15.8%–49.3%)" \
        in text and "it flagged 20 of the 29 overturns, about 2 in 3" in text
    assert flag_line(True, 0.14) == "Flagged: better chance than most (14% or more)"
    assert flag_line(False, 0.14).startswith("Not flagged")
