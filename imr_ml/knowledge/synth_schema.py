"""The shape of `features/synth_phrases.toml`, the synthetic-letter generator's phrase bank
(apart from `schema` for its length: the bank has one list per kind of sentence)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

# Every phrase list the generator draws from (`imr_ml.synth`); a list it does not know is a
# misspelling, refused like any unknown key.
PHRASE_LISTS = (
    "people", "opening", "mechanism_sentence", "mechanisms", "ur_denied", "ur_modified", "ur_modified_also",
    "ur_denied_also", "appeal", "retro", "work_yes", "work_no", "work_unclear", "jobs", "ps_yes", "ps_no",
    "meds_list", "opioid_explicit", "opioid_none", "meds_none", "surgery_yes", "surgery_no", "surgery_plan",
    "trial_no_benefit", "trial_no_benefit_med", "functional_improvement", "no_functional_improvement", "naive",
    "distractor_modalities", "activities", "tolerances", "visit", "plan", "pain", "specialties", "licensure",
    "how_made", "credentials_sentence", "rationale_open_upheld", "rationale_open_overturned",
    "rationale_guideline", "reason_upheld_trial", "reason_upheld_no_fi", "reason_upheld_quantity",
    "reason_upheld_opioid", "reason_upheld_generic", "reason_overturned_fi", "reason_overturned_working",
    "reason_overturned_generic", "close_upheld", "close_overturned", "background_meds", "opioid_names", "brands",
    "chapter_cited",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RegionPhrases(_Strict):
    name: str
    sided: bool = False
    complaint: list[str]
    site: list[str]
    surg: list[str]
    surgery_item: list[str]
    injection_item: list[str]
    emg: list[str]
    chapter: str
    odg: str
    exam: list[str]


class ItemPhrases(_Strict):
    visit_based: bool = False
    mod: list[str] = []
    templates: list[str] = []
    drugs: list[str] = []


_lists: dict[str, Any] = {name: (list[str], ...) for name in PHRASE_LISTS}
SynthPhrasesFile = create_model(
    "SynthPhrasesFile", __base__=_Strict, region=(list[RegionPhrases], ...), items=(dict[str, ItemPhrases], ...),
    **_lists)


def synth_checks(data: dict) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """An item kind with nothing to draw from."""
    for category, spec in data.get("items", {}).items():
        if isinstance(spec, dict) and not spec.get("templates") and not spec.get("drugs"):
            yield ("items", category), "has no templates and no drugs to draw an item from"
