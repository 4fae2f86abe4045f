"""The item's dose (`imr_ml.signals.dose`): strength, units, frequency and quantity read into a
daily dose, judged against the label maximum of `features/drugs.toml` [dose], and its MME.

Items and summaries are written for these tests (no real letter text).
"""

import re
from pathlib import Path

import pytest

from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.scoring.hints import hints_for
from imr_ml.signals import SignalValues, extract_signals

DRUGS = Path(__file__).resolve().parents[1] / "features" / "drugs.toml"


def dose(item: str, summary: str = "") -> dict:
    s = extract_signals({"item": item, "summary": summary})
    return {k: s[k].value for k in ("item_daily_dose_mg", "item_dose_max_mg", "item_dose_above_max",
                                    "item_days_supply", "item_morphine_equivalent", "item_acetaminophen_mg",
                                    "item_dose_from_quantity", "morphine_equivalent")}


@pytest.mark.parametrize("sig, per_day", [
    ("qd", 1), ("daily", 1), ("once a day", 1), ("QHS", 1), ("hs", 1), ("at bedtime", 1), ("q.d.", 1),
    ("BID", 2), ("b.i.d.", 2), ("twice a day", 2), ("2x/day", 2), ("2 times a day", 2), ("q12h", 2),
    ("every 12 hours", 2), ("TID", 3), ("t.i.d.", 3), ("three times daily", 3), ("3x a day", 3), ("q8h", 3),
    ("every 8 hours", 3), ("QID", 4), ("four times a day", 4), ("q6h", 4), ("q 6 hours", 4), ("every 6 hrs", 4),
    ("q4h", 6), ("q4-6h", 6), ("every 4 to 6 hours", 6), ("q6h prn", 4), ("prn q8h", 3), ("once a week", 1 / 7),
    ("weekly", 1 / 7), ("once a month", 1 / 30),
])
def test_each_frequency(sig, per_day):
    assert dose(f"Gabapentin 100 mg {sig}")["item_daily_dose_mg"] == round(100 * per_day, 1)


@pytest.mark.parametrize("item, daily", [
    ("Gabapentin 300 mg 1 cap tid", 900), ("Gabapentin 300 mg 2 caps tid", 1800),
    ("Gabapentin 300 mg 1-2 caps tid", 1800),            # a range: the upper bound
    ("Gabapentin 300 mg take one to two capsules TID", 1800),
    ("Gabapentin 300mg one tab TID", 900), ("Gabapentin 300 mg, 3 tabs qhs", 900),
    ("Clonidine 100 mcg BID", 0.2), ("Clonidine 0.1 mg BID", 0.2),
])
def test_units_per_dose_and_mass_units(item, daily):
    assert dose(item)["item_daily_dose_mg"] == daily


def test_a_daily_cap_limits_the_dose():
    assert dose("Tramadol 50 mg 1-2 tabs q4-6h prn, max 8 tabs/day")["item_daily_dose_mg"] == 400
    assert dose("Tramadol 50 mg 1-2 tabs q4-6h prn, not to exceed 8 per day")["item_dose_above_max"] is False
    assert dose("Tramadol 50 mg 1-2 tabs q4-6h prn")["item_dose_above_max"] is True


def test_a_combination_reads_its_strengths_in_the_vocabulary_order():
    d = dose("Norco 10/325 1-2 q4h")
    assert (d["item_daily_dose_mg"], d["item_acetaminophen_mg"], d["item_morphine_equivalent"]) == (120, 3900, 120)
    assert dose("Norco 10-325 mg 2 tabs every 4-6 hours #240")["item_days_supply"] == 20
    assert dose("Hydrocodone/APAP 10mg/325mg 1 tab q6h")["item_acetaminophen_mg"] == 1300
    assert dose("Ultracet 37.5/325 2 tabs qid")["item_daily_dose_mg"] == 300


@pytest.mark.parametrize("item, mme", [
    ("Norco 10/325 q6h", 40), ("OxyContin 20 mg q12h", 60), ("Tramadol 50 mg q6h", 20),  # CDC 2016: 0.1
    ("Percocet 10/325 mg 1 tab 2x/day", 30), ("MS Contin 30 mg bid", 60), ("Dilaudid 4 mg q4h", 96),
    ("Duragesic 50 mcg/hr patch q72h", 120), ("Fentanyl 25 mcg/h transdermal patch #10", 60),
])
def test_mme_of_the_item(item, mme):
    assert dose(item)["item_morphine_equivalent"] == mme


def test_no_frequency_is_a_30_day_supply_and_never_above_the_maximum():
    d = dose("Norco 10/325 #120")
    assert (d["item_daily_dose_mg"], d["item_days_supply"], d["item_dose_from_quantity"]) == (40, 30, True)
    assert d["morphine_equivalent"] is None  # an assumed supply does not feed the MME rule
    over = dose("Prilosec 20 mg #90")  # 60 mg a day for 30 days, or 20 mg a day for 90
    assert over["item_daily_dose_mg"] == 60 and over["item_dose_above_max"] is False
    assert dose("Omeprazole 20 mg 1 cap tid #90")["item_dose_above_max"] is True
    assert dose("Tramadol 50mg #60 x 10 days")["item_daily_dose_mg"] == 300
    assert dose("Tramadol 50mg #60 x 10 days")["item_dose_from_quantity"] is False


@pytest.mark.parametrize("item", ["Gabapentin", "Gabapentin 300 mg", "Neurontin #90", "Norco 1-2 tabs q6h",
                                  "Physical therapy 2x/week x 6 weeks", "Tylenol #3", "Lidocaine 5% ointment",
                                  "Gabapentin 250 mg/5 ml oral solution 6 ml tid", "Tramadol 25mg/ml suspension tid"])
def test_no_dose_written_is_no_dose(item):
    d = dose(item)
    assert d["item_daily_dose_mg"] is None and d["item_morphine_equivalent"] is None
    assert d["item_dose_above_max"] is False


@pytest.mark.parametrize("above, within, maximum", [
    ("Gabapentin 1600 mg TID", "Gabapentin 1200 mg TID", 3600),
    ("Ibuprofen 800 mg 5 times a day", "Ibuprofen 800 mg QID", 3200),
    ("Meloxicam 15 mg BID", "Meloxicam 15 mg daily", 15),
    ("Cyclobenzaprine 10 mg QID", "Cyclobenzaprine 10 mg TID", 30),
    ("Tramadol 100 mg q4h", "Tramadol 100 mg QID", 400),
    ("Tramadol ER 200 mg BID", "Tramadol ER 300 mg daily", 300),  # the extended-release label's maximum
    ("Zolpidem 10 mg 2 tabs qhs", "Zolpidem 10 mg qhs", 10),
    ("Duloxetine 60 mg 3 caps daily", "Duloxetine 60 mg BID", 120),
])
def test_the_label_maximum(above, within, maximum):
    assert (dose(above)["item_dose_above_max"], dose(above)["item_dose_max_mg"]) == (True, maximum)
    assert dose(within)["item_dose_above_max"] is False


def test_brand_and_generic_are_one_dose():
    assert dose("Neurontin 600 TID") == dose("gabapentin 600 mg three times daily")
    assert dose("Motrin 800mg tid")["item_daily_dose_mg"] == dose("Ibuprofen 800 mg TID")["item_daily_dose_mg"] == 2400


def test_lidocaine_patches_at_once():
    assert dose("Lidoderm 5% patch, apply 4 patches daily")["item_dose_above_max"] is True
    assert dose("Lidoderm 5% patch, apply 1-3 patches 12 hrs on 12 hrs off #90")["item_dose_above_max"] is False
    assert dose("Lidoderm 5% patch #120")["item_dose_above_max"] is False  # a quantity alone: maybe 40 days


def test_a_bare_name_takes_the_summarys_sig_of_the_same_drug():
    summary = "Chronic low back pain. Medications: Neurontin 1600 mg three times daily; Norco 10/325 q4h."
    d = dose("Gabapentin", summary)
    assert (d["item_daily_dose_mg"], d["item_dose_above_max"]) == (4800, True)
    s = extract_signals({"item": "Gabapentin", "summary": summary})
    assert s["item_dose_above_max"].evidence[0][0] == "summary"
    assert dose("Norco", summary)["item_morphine_equivalent"] == 60
    assert dose("Cyclobenzaprine", summary)["item_daily_dose_mg"] is None  # another drug's sig is not its
    assert dose("Gabapentin 300 mg TID", summary)["item_daily_dose_mg"] == 900  # the item's own sig first
    assert dose("Gabapentin", "He takes Neurontin 600 mg.")["item_daily_dose_mg"] is None  # no frequency


def test_mme_meets_the_stated_one_at_the_larger():
    assert dose("Norco 10/325 2 tabs q4h", "MED 60.")["morphine_equivalent"] == 120
    assert dose("Norco 10/325 q6h", "Her MED is 150 mg a day.")["morphine_equivalent"] == 150
    assert dose("Norco 10/325 q6h")["morphine_equivalent"] == 40


def _fired(item: str, summary: str = "") -> set[str]:
    values = SignalValues(extract_signals({"item": item, "summary": summary}))
    return {r.name for r in fired_rules(values, item, load_guidelines())}


@pytest.mark.parametrize("rule, fires, not_", [
    ("medication_dose_above_label_maximum", "Gabapentin 1600 mg TID", "Gabapentin 1200 mg TID"),
    ("medication_dose_above_label_maximum", "Celebrex 200 mg TID", "Celebrex 200 mg #90"),
    ("acetaminophen_above_4g_day", "Norco 5/325 2 tabs q3h", "Norco 10/325 2 tabs q4h"),  # 5,200 / 3,900 mg
    ("opioid_dose_above_90_mme", "OxyContin 40 mg TID", "OxyContin 20 mg BID"),
])
def test_dose_rules(rule, fires, not_):
    assert rule in _fired(fires)
    assert rule not in _fired(not_)


def test_acetaminophen_counts_once():
    fired = _fired("Norco 5/325 2 tabs q3h")
    assert "acetaminophen_above_4g_day" in fired and "medication_dose_above_label_maximum" not in fired


def test_hints_name_the_dose_and_its_maximum():
    values = SignalValues(extract_signals({"item": "Gabapentin 1600 mg TID", "summary": ""}))
    assert any("4800 mg a day" in h and "3600 mg a day" in h for h in hints_for(values))
    patches = SignalValues(extract_signals({"item": "Lidoderm 5% patch, 4 patches daily", "summary": ""}))
    assert any("more than 3 patches" in h for h in hints_for(patches))


@pytest.fixture(scope="module")
def builtin():
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    return load_model_dir("builtin")


@pytest.mark.parametrize("above, within", [
    ("Gabapentin 1600 mg TID", "Gabapentin 1200 mg TID"),
    ("Naproxen 550 mg QID", "Naproxen 550 mg BID"),
    ("Tizanidine 4 mg 4 tabs TID", "Tizanidine 4 mg TID"),
    ("Norco 5/325 2 tabs q3h", "Norco 5/325 1 tab q6h"),
    ("Sumatriptan 100 mg 3 tabs daily", "Sumatriptan 100 mg daily"),
])
def test_builtin_model_orders_an_above_maximum_pair(builtin, above, within):
    from imr_ml.scoring.score import score_rows
    summary = "Chronic low back and neck pain since a lifting injury in 2015. The medication helps her function."
    rows = [{"item": above, "summary": summary}, {"item": within, "summary": summary}]
    p_above, p_within = (r["p_overturned"] for r in score_rows(builtin, rows))
    assert p_above < p_within


@pytest.mark.parametrize("line, change, message", [
    ("gabapentin = { max_daily_mg = 3600 }", "gabapentin = { max_daily_mg = -3600 }", "greater than 0"),
    ("gabapentin = { max_daily_mg = 3600 }", "gabapentin = { max_dialy_mg = 3600 }", "unknown key 'max_dialy_mg'"),
    ("gabapentin = { max_daily_mg = 3600 }", "gabapentine = { max_daily_mg = 3600 }", "unknown ingredient"),
    ("gabapentin = { max_daily_mg = 3600 }", "gabapentin = { max_daily_mg = 3600, mme_factor = 1 }", "no opioid"),
])
def test_the_dose_table_is_validated(tmp_path, line, change, message):
    text = DRUGS.read_text()
    assert text.count(line) == 1
    bad = tmp_path / "drugs.toml"
    bad.write_text(text.replace(line, change))
    with pytest.raises(KnowledgeError, match=re.escape(message)) as err:
        load_vocabulary(str(bad))
    lineno = text[:text.index(line)].count("\n") + 1
    assert f"drugs.toml:{lineno}:" in str(err.value)


def test_the_dose_table_covers_the_oral_drugs_and_every_counted_opioid():
    vocab = load_vocabulary()
    assert sum(1 for d in vocab.drugs.values() if d.dose and d.dose.max_daily_mg) >= 80
    for name in ("hydrocodone", "oxycodone", "tramadol", "tapentadol", "morphine", "hydromorphone", "oxymorphone",
                 "methadone", "fentanyl", "codeine"):
        assert vocab.drugs[name].dose.mme_factor, name
