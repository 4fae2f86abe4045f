"""Typed records of a synthetic letter: its latent facts (drawn first, no text yet) and each
item as the letter shows it. The truth rows are read off these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from imr_ml.synth.phrasing import Placeholders


@dataclass
class LatentItem:
    """One disputed item: what is requested, its hidden state and its drawn outcome."""

    category: str
    name: str  # as the request names it ("Acupuncture 2 times a week for 6 weeks")
    kind: str  # "med" (a drug and a count), "visits" (a number of sessions) or "plain"
    modality: str | None  # the treatment the case summary talks about ("acupuncture", "Norco")
    quantity: int | None
    restate: Callable[[int], str] | None  # the same item with another quantity (partial authorisations)
    item_state: str  # response to earlier use of the modality (one of dgp.STATES)
    ur_modified: int
    retrospective: int
    ca_no_citation: int
    x: dict[str, float]  # the value of every planted effect (dgp.EFFECTS keys)
    noise: float
    logit: float
    p: float  # P(overturned)
    label: int  # 1 = overturned


@dataclass
class LatentLetter:
    """The patient, the claim's dates and the disputed items of one letter."""

    index: int
    layout: str
    case_number: str
    words: Placeholders  # pronouns, side and how the patient is called, for the phrase bank
    region: dict  # a body region of the phrase bank
    age: int
    female: int
    working: int
    permanent_and_stationary: int
    prior_surgery: int
    opioid_use: int
    chronicity_days: int
    date_of_injury: date
    ur_date: date
    received: date
    assigned: date
    decision: date
    items: list[LatentItem]


@dataclass
class ShownItem:
    """An item as the letter prints it, and the parts of a partial authorisation."""

    item: str  # the IMR-eligible item under the decision
    named: str  # the item as the UR restatement names it (retrospective form included)
    heading: str | None = None  # a partial authorisation's heading, in place of "<item>:"
    original_request: str | None = None
    authorized_portion: str | None = None
    date_of_service: str | None = None  # of a retrospective request
