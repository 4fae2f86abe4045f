"""The data-generating process of the synthetic letters: the planted effects and the draws.

Real letters cannot ship with the project, so the test suite, the demo and the benchmarks
use letters generated here. Every sentence is written for this project (phrase bank:
`features/synth_phrases.toml`); real letters were only used to learn the *layout*.

Three layouts are emitted (default mix 80% "2016", 10% "2013", 10% "2014"), one renderer
each in `imr_ml/synth/layouts/`.

Data-generating process
-----------------------
Letter ``i`` of a run with seed ``s`` is drawn from its own ``random.Random`` (seeded from
``s`` and ``i``), so any range of letters can be generated independently and a letter does
not depend on how many others are generated.

Per letter (patient) the latent variables are: age (22-68), sex, body region and mechanism,
chronicity (days from injury to the UR denial; ~15% under a year, otherwise log-normal with
a median of ~3 years), ``working`` (~35%, less likely for old claims),
``permanent_and_stationary`` (more likely for old claims), ``opioid_use`` (~45%; forced to 1
when an opioid is disputed), ``prior_surgery`` (~25%), whether the claims administrator cited
no guideline (``ca_no_citation``, ~10% of letters, plus ~3% of single items).

Per disputed item (1 item in ~60% of letters, otherwise 2-8, categories drawn without
replacement from the taxonomy in `features/taxonomy.toml`): the response to earlier use of
the same modality (``item_state``: none / ``prior_trial_without_benefit`` /
``functional_improvement`` / ``no_functional_improvement``; diagnostic categories are always
"none"), ``ur_modified`` (~15%; rendered as a partial authorisation heading in about half of
the 2016 letters), ``retrospective`` (~10%), and for visit-based categories the requested
number of visits (``quantity_above_guideline`` when it exceeds the 6-visit trial).

The true log-odds that the denial is overturned is

    logit = INTERCEPT + logit(1 - uphold_prior[category]) + sum(EFFECTS[k] * x[k]) + N(0, NOISE_SD)

with the coefficients in `EFFECTS` below (also written to ``DIR/dgp.json``; every key is
also a column of ``truth.jsonl``). ``age_decades`` and ``female`` are null controls with a
coefficient of 0. ``label ~ Bernoulli(sigmoid(logit))``; INTERCEPT is tuned so that about 10%
of items are overturned. The case summary expresses every latent signal in text (several
phrasings, affirmed and negated forms, hedges, plans that are not history, and distractor
sentences about other, non-disputed modalities); the decision rationale argues the drawn label.
"""

from __future__ import annotations

import math
from functools import lru_cache

from imr_ml.synth.phrasing import phrases, taxonomy

# ------------------------------------------------------------------ the planted effects
INTERCEPT = 0.05
NOISE_SD = 0.5
EFFECTS: dict[str, float] = {
    "prior_trial_without_benefit": -1.2,
    "functional_improvement": 1.4,
    "no_functional_improvement": -0.8,
    "permanent_and_stationary": -0.4,
    "opioid_use": -0.3,
    "opioid_item_without_fi": -0.8,  # opioid item and no documented functional improvement
    "prior_surgery_surgical_item": 0.4,  # prior surgery AND a surgical/perioperative item
    "ur_modified": 0.5,
    "working": 0.6,
    "retrospective": 0.3,
    "chronicity_years": -0.15,  # per year from injury to UR denial
    "quantity_above_guideline": -0.7,  # > 6 visits of acupuncture/chiro/PT/passive/psych
    "ca_no_citation": 0.4,
    "age_decades": 0.0,  # null control: (age - 45) / 10
    "female": 0.0,  # null control
}
GUIDELINE_TRIAL_VISITS = 6
LayoutMix = tuple[tuple[str, float], ...]  # (layout name, share of letters)
DEFAULT_LAYOUT_MIX: LayoutMix = (("2016", 0.8), ("2013", 0.1), ("2014", 0.1))

CATEGORY_WEIGHTS = {
    "opioid": 10, "physical_therapy": 10, "imaging_mri": 8, "topical": 8, "injection": 7,
    "acupuncture": 6, "muscle_relaxant": 6, "dme": 6, "other_medication": 6, "evaluation": 6,
    "chiropractic": 5, "electrodiagnostic": 5, "surgery": 4, "gi_protectant": 4,
    "lab_testing": 4, "perioperative": 3, "nsaid": 3, "psych": 3, "program": 3,
    "passive_modality": 3, "imaging_other": 2, "medical_food": 2, "other": 1,
}
MEDICATION = {"opioid", "muscle_relaxant", "nsaid", "gi_protectant", "other_medication"}
THERAPY = {"acupuncture", "chiropractic", "physical_therapy", "passive_modality", "psych"}
SURGICAL = {"surgery", "perioperative"}
DIAGNOSTIC = {"imaging_mri", "imaging_other", "electrodiagnostic", "lab_testing", "evaluation",
              "surgery", "perioperative", "other"}
# (none, prior_trial_without_benefit, functional_improvement, no_functional_improvement)
STATE_PROBS = {
    "opioid": (0.10, 0.10, 0.30, 0.50),
    "medication": (0.30, 0.10, 0.25, 0.35),
    "therapy": (0.40, 0.25, 0.15, 0.20),
    "injection": (0.50, 0.20, 0.20, 0.10),
    "other": (0.40, 0.20, 0.15, 0.25),
}
STATES = ("none", "prior_trial_without_benefit", "functional_improvement", "no_functional_improvement")
VISIT_QTYS = (3, 4, 6, 6, 6, 8, 8, 10, 12, 12, 12, 16, 18, 24)


def sigmoid(x: float) -> float:
    """P(overturned) of a log-odds."""
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    """Log-odds of a probability."""
    return math.log(p / (1.0 - p))


@lru_cache(maxsize=1)
def category_table() -> tuple[list[str], list[float], dict[str, float]]:
    """The categories an item is drawn from, their cumulative weights (for one bisect per
    draw) and their base log-odds of an overturn (from the taxonomy's uphold priors)."""
    tax = taxonomy()
    cats = [c for c in CATEGORY_WEIGHTS if c in tax and c in phrases()["items"]]
    cum, acc = [], 0.0
    for c in cats:
        acc += CATEGORY_WEIGHTS[c]
        cum.append(acc)
    return cats, cum, {c: _logit(1.0 - tax[c].uphold_prior) for c in cats}


def category_logits() -> dict[str, float]:
    """Base log-odds of an overturn per category (`category_logit` of the formula)."""
    return dict(category_table()[2])


def state_group(category: str) -> str:
    """Which row of STATE_PROBS a category's item state is drawn from."""
    if category == "opioid":
        return "opioid"
    if category in MEDICATION:
        return "medication"
    if category in THERAPY:
        return "therapy"
    if category == "injection":
        return "injection"
    return "other"


def dgp() -> dict:
    """The data-generating process as data (written to DIR/dgp.json)."""
    return {
        "effects": dict(EFFECTS),
        "intercept": INTERCEPT,
        "noise_sd": NOISE_SD,
        "category_logit": category_logits(),
        "guideline_trial_visits": GUIDELINE_TRIAL_VISITS,
        "layout_mix": dict(DEFAULT_LAYOUT_MIX),
        "formula": "logit = intercept + category_logit[category] + sum(effects[k] * truth[k]) + noise",
    }
