"""Plain words of every pattern also match their shorthand (abbreviations.toml [shorthand]):
a typed note reads like the letter that states the same facts."""

import re

import pytest

from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.shorthand import compile_shorthand
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals import extract_signals

TABLE = compile_shorthand({"symptoms": "sx", "history of": "h/o|hx of", "without": "w/o", "weeks": "wks?"})


@pytest.mark.parametrize("pattern, text, matches", [
    (r"\bradicular (pain|symptoms)\b", "no radicular sx", True),
    (r"\bsymptoms?\b", "sx", True),
    (r"\bsymptoms?\b", "symptom", True),
    (r"\bhistory of (a )?gi bleed", "h/o GI bleed", True),
    (r"\brelief without\b", "relief w/o", True),
    (r"\b6 weeks\b", "6 wks", True),
    (r"\bsymptomatic\b", "sx", False),                 # part of a longer word: not the plain word
])
def test_a_plain_word_also_matches_its_shorthand(pattern, text, matches):
    assert (re.search(TABLE.apply(pattern), text, re.IGNORECASE) is not None) is matches


def test_a_lookbehind_keeps_its_fixed_width_and_a_character_class_is_not_words():
    assert TABLE.apply("[ symptoms]+ x") == "[ symptoms]+ x"
    rewritten = TABLE.apply(r"(?<!history of )\bgi bleed\b")
    assert rewritten == r"(?<!history of )\bgi bleed\b"
    re.compile(rewritten)


def test_every_shipped_pattern_still_compiles_and_quantifiers_keep_their_reach():
    vocab = load_vocabulary()
    assert vocab.expand(r"\bsymptoms?\b") == r"\b(?:symptoms?|sx)\b"  # the "?" stays on the plural
    assert vocab.expand(r"\bweeks\b") == r"\b(?:weeks|wks?)\b"


@pytest.mark.parametrize("item, letter, note, signal", [
    ("Gabapentin 600 mg TID #90", "He has axial low back pain only, with no radicular symptoms.",
     "axial LBP only, no radicular sx.", "service_indication_contradicted"),
    ("Celebrex 200 mg #30", "She has a history of a GI bleed on ibuprofen.", "h/o GI bleed on ibuprofen.", "gi_risk"),
])
def test_a_note_reads_like_the_letter(item, letter, note, signal):
    assert extract_signals({"item": item, "summary": letter})[signal].value
    assert extract_signals({"item": item, "summary": note})[signal].value


def test_a_shorthand_key_must_be_plain_words(tmp_path):
    drugs = tmp_path / "drugs.toml"
    drugs.write_text('[class.opioid]\ncategory = "opioid"\n')
    bad = tmp_path / "abbreviations.toml"
    bad.write_text("[shorthand]\nsymptoms = 'sx'\n'histor(y|ies)' = 'hx'\n")
    with pytest.raises(KnowledgeError, match=r"abbreviations.toml:3: .*plain lower-case words"):
        load_vocabulary(str(drugs), str(bad))
