from imr_ml.scoring.hints import hints_for


def test_functional_improvement_hint_names_the_prior_visits():
    hints = hints_for({"category": "acupuncture", "prior_sessions": 6, "functional_improvement_same_modality": False})
    assert any("after the prior 6 acupuncture visits" in h for h in hints)


def test_hint_not_shown_when_improvement_is_documented_or_category_differs():
    assert not any("prior 6" in h for h in hints_for(
        {"category": "acupuncture", "prior_sessions": 6, "functional_improvement_same_modality": True}))
    assert not any("prior 6" in h for h in hints_for(
        {"category": "imaging_mri", "prior_sessions": 6, "functional_improvement_same_modality": False}))


def test_numeric_conditions():
    over = hints_for({"category": "physical_therapy", "exceeds_trial": True, "requested_quantity": 12})
    assert any(h.startswith("12 visits exceed") for h in over)
    open_ended = hints_for({"category": "nsaid", "requested_quantity": 0})
    assert any("quantity, frequency and duration" in h for h in open_ended)
    assert not any("quantity, frequency" in h for h in hints_for({"category": "nsaid", "requested_quantity": 60}))


def test_imaging_hint_only_when_no_red_flag_or_deficit_is_documented():
    from imr_ml.signals import extract_signals

    def hints(summary):
        sig = extract_signals({"summary": summary, "item": "MRI of the lumbar spine"})
        return hints_for({k: s.value for k, s in sig.items()})

    assert any("red flags" in h for h in hints("Chronic low back pain, unchanged for two years."))
    assert not any("red flags" in h for h in hints(
        "Progressive leg weakness with foot drop and new bowel incontinence since last week."))
