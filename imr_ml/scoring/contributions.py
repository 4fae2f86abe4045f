"""Contributions that add up (what an explanation shows): the model's log-odds for a request split into a baseline and
one contribution per feature, in plain words.

The baseline is a bare request of the same treatment category: its category (and the
published base rate behind it) with no signal, no guideline rule, no word, and the typical
claim's numbers (every other feature 0: numbers are centred on the typical claim). A
feature's contribution is what the model credits it with against that baseline
(`imr_ml.modeling.estimator.model.ScoringModel.contributions`: for the linear models trained today,
its coefficient times its change), so that ``baseline.logit + sum(contributions) == logit``
exactly, and an explanation never lists a feature that did not change (summary length, age
at the reference).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from imr_ml.knowledge.bundle import SHIPPED, Knowledge
from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.modeling.estimator.model import ScoringModel
from imr_ml.signals import category_prior, load_rules

FIELD_LABELS = {
    "retrospective": "the request is retrospective (service already given)",
    "partial_authorization": "UR authorised part of the request",
    "requested_quantity": "the number of visits or units requested",
    "exceeds_trial": "more visits than the guideline's initial trial",
    "prior_sessions": "the number of earlier sessions of the same treatment",
    "prior_same_modality": "the same treatment was given before",
    "chronicity_decades": "time from injury to the UR denial",
    "age_decades": "the worker's age",
    "item_additional": "the request continues or repeats a treatment",
    "item_post_op": "the request is for the post-operative period",
    "item_purchase": "a purchase (not a rental)",
    "item_rental": "a rental",
    "category_prior": "the published overturn rate of the category",
    "surgery_in_dispute": "a surgery is also disputed in the application",
    "periop_surgery_not_in_dispute": "a perioperative service whose surgery is not disputed",
}

# The claims administrator's citation tags (`[guideline]` of signals.toml) that do not read as
# "cited X".
CITED = {
    "not_cited": "the claims administrator cited no guideline",
    "none": "no claims administrator's guideline given",
    "other": "the claims administrator cited a guideline not recognised",
    "non_mtus": "the claims administrator cited a non-MTUS guideline",
    "mtus": "the claims administrator cited the MTUS",
    "odg": "the claims administrator cited ODG",
    "acoem": "the claims administrator cited ACOEM",
}

# Body regions of `[region]` (signals.toml) as a request names them.
REGIONS = {"lumbar": "the low back (lumbar)", "cervical": "the neck (cervical)", "thoracic": "the mid back (thoracic)",
           "psych": "a psychological condition"}


@lru_cache(maxsize=4096)
def feature_label(name: str, knowledge: Knowledge = SHIPPED) -> str:
    """Plain words for a feature name (`rule__x`, `signal__x`, `field__x`, ...), from the
    knowledge files the model reads (`LoadedModel.knowledge`; the shipped ones by default)."""
    group, _, rest = name.partition("__")
    if group == "rule":
        for r in load_guidelines(knowledge.guidelines).rules:
            if r.name == rest:
                return f"guideline: {r.label}"
    if group == "signal":
        base = rest.removesuffix("_same_modality")
        for t in load_rules(knowledge.signals).text_rules:
            if t.name == base:
                text = t.description.rstrip(".")
                return text + (" (the requested treatment itself)" if base != rest else "")
        return rest.replace("_", " ")
    if group == "item" and rest.startswith("category__"):
        return f"treatment category: {_category_label(rest.split('__', 1)[1], knowledge.taxonomy)}"
    if group == "field":
        level = rest.split("__", 1)[-1]
        if rest.startswith("ca_guideline__"):
            return CITED.get(level, f"the claims administrator cited {level.replace('_', ' ')}")
        if rest.startswith("item_region__"):
            return f"requested for {REGIONS.get(level, 'the ' + level.replace('_', '/'))}"
        return FIELD_LABELS.get(rest, rest.replace("_", " "))
    m = re.match(r"(summary|item)__tfidf__(.+)", name)
    if m:
        return f'the word "{m.group(2).replace("_", " ")}" in the {m.group(1)}'
    return name


@lru_cache(maxsize=256)
def _category_label(category: str, taxonomy: str | None) -> str:
    for c in load_taxonomy(taxonomy):
        if c.name == category:
            return c.label
    return category.replace("_", " ")


@lru_cache(maxsize=256)
def category_rate(category: str, taxonomy: str | None = None) -> float:
    """The overturn rate of the treatment category `category` from the taxonomy TOML `taxonomy` (the
    model's; None: the shipped one), published where a figure exists; the rate of "other" for a
    category the taxonomy does not have.
    """
    rates = {c.name: c.overturn_rate for c in load_taxonomy(taxonomy)}
    return rates.get(category, rates["other"])


class Explainer:
    """The additive decomposition of one fitted model's log-odds against a bare request.

    Parameters
    ----------
    model : ScoringModel
        The fitted model's adapter (`imr_ml.modeling.estimator.model.scoring_model`).
    knowledge : Knowledge
        The knowledge files the model reads (labels, category rates and priors).
    counts : mapping of str to int, or None
        Training items each feature fired on (the manifest's ``training_counts``; None: not
        known, as for the built-in model, which learnt from none).
    """

    def __init__(self, model: ScoringModel, knowledge: Knowledge = SHIPPED, counts: Mapping[str, int] | None = None,
                 ) -> None:
        self.model = model
        self.knowledge = knowledge
        self._labels: dict[int, str] = {}
        self.names = model.feature_names
        self.index = {n: j for j, n in enumerate(self.names)}
        self.prior = model.prior_coef()
        self.counts = counts
        self._baselines: dict[str, tuple[float, dict[int, float]]] = {}
        self._baseline_p: dict[str, float] = {}

    def label(self, j: int) -> str:
        """Plain words for the feature column `j`, from the model's knowledge files (worked out once):
        `feature_label` of its name.
        """
        found = self._labels.get(j)
        if found is None:
            found = self._labels[j] = feature_label(self.names[j], self.knowledge)
        return found

    def reference(self, category: str) -> dict[int, float]:
        """The baseline request of the treatment category `category`: {column: value} of its non-zero
        features (the category and its prior).
        """
        ref = {}
        for name, value in (("item__category__" + category, 1.0),
                            ("field__category_prior", category_prior(category, self.knowledge.taxonomy))):
            j = self.index.get(name)
            if j is not None:
                ref[j] = value
        return ref

    def baseline(self, category: str) -> tuple[float, dict[int, float]]:
        """The bare request of the treatment category `category`, worked out once: its log-odds and its
        reference vector.
        """
        if category not in self._baselines:
            ref = self.reference(category)
            self._baselines[category] = (self.model.reference_logit(ref), ref)
        return self._baselines[category]

    def baseline_probability(self, category: str) -> float:
        """The calibrated P(overturned) of the bare request of the treatment category `category`, worked
        out once, rounded to 4 places.
        """
        if category not in self._baseline_p:
            base, _ = self.baseline(category)
            self._baseline_p[category] = round(float(self.model.calibrate([base])[0]), 4)
        return self._baseline_p[category]

    def contributions(self, idx, values, category: str) -> tuple[float, list[tuple[int, float, float, float]]]:
        """A row's log-odds split into the baseline and one contribution per feature, with the
        part of each that the guideline knowledge alone gives (its prior weight times its change
        from the baseline; the rest is the letters' adjustment).

        Parameters
        ----------
        idx : array-like of int
            Columns of the row's non-zero features.
        values : array-like of float
            Their values.
        category : str
            The row's treatment category (whose bare request is the baseline).

        Returns
        -------
        (float, list of (int, float, float, float))
            The baseline log-odds, and (column, value, contribution, guideline's part) of every
            feature whose value differs from the baseline, largest contribution first.
        """
        base, ref = self.baseline(category)
        prior = self.prior
        parts = [(j, v, c, float(prior[j] * (v - ref.get(j, 0.0)))) for j, v, c in
                 self.model.contributions(idx, values, ref)]
        return base, sorted(parts, key=lambda t: -abs(t[2]))

    def n_items(self, j: int) -> int | None:
        """Training items feature `j` fired on (0 for a feature that fired on none; None when
        not known).

        Parameters
        ----------
        j : int
            A feature column.

        Returns
        -------
        int or None
            The count.
        """
        return None if self.counts is None else int(self.counts.get(self.names[j], 0))

    def baseline_what(self, category: str) -> str:
        """The baseline request of the treatment category `category`, in words (one phrase)."""
        return f"a request for {_category_label(category, self.knowledge.taxonomy)} stating none of the findings below"
