"""The default model: the features of `imr_ml.featurize` and a logistic regression whose
coefficients are shrunk toward the guideline knowledge (`features/guidelines.toml`)."""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline

from imr_ml.featurize import build_features, feature_blocks
from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.modeling.estimator.directions import rule_directions
from imr_ml.modeling.estimator.prior_lr import PriorLogisticRegression


def knowledge_prior(names, guidelines=None, share_directions=True) -> dict[str, np.ndarray | float]:
    """The Gaussian prior of the classifier's coefficients for the structured features.

    A rule's coefficient starts at its stated strength (sign fixed where the guideline fixes
    the direction), `field__category_prior` near 1 (the published base rate of the
    category), everything else at 0. A signal or field that a fixed-direction rule reads
    shares that rule's direction (`imr_ml.modeling.estimator.directions`): the letters may weaken it to
    0, never turn it against the guideline that reads the same evidence; one that rules read
    in opposite directions (by service) is held at 0 and counts through those rules.

    Parameters
    ----------
    names : sequence of str
        The structured feature names, in column order.
    guidelines : str or None
        Path of the guidelines TOML (None: the shipped one).
    share_directions : bool
        False leaves the signals and fields free of the rules' directions (the model before
        they were shared: `experiments/contradictions.py` measures both).

    Returns
    -------
    dict
        `PriorLogisticRegression` arguments: `prior_mean`, `prior_sd`, `lower`, `upper`
        (arrays over `names`), `intercept_mean`, `intercept_sd`, `default_sd`.
    """
    g = load_guidelines(guidelines)
    pr = g.prior
    rules = {f"rule__{r.name}": r for r in g.rules}
    sd_of = {"signal": pr.get("signal_sd", 0.5), "field": pr.get("field_sd", 0.5),
             "item": pr.get("category_sd", 0.4), "rule": 0.3}
    directions = rule_directions(names, guidelines) if share_directions else {}
    mean, sd = np.zeros(len(names)), np.zeros(len(names))
    lower, upper = np.full(len(names), -np.inf), np.full(len(names), np.inf)
    for j, n in enumerate(names):
        sd[j] = sd_of.get(n.split("__", 1)[0], pr.get("field_sd", 0.5))
        if n == "field__category_prior":
            mean[j], sd[j] = pr.get("category_prior_mean", 1.0), pr.get("category_prior_sd", 0.2)
        elif n in rules:
            r = rules[n]
            mean[j], sd[j] = r.strength, r.sd
            if r.fixed_sign:
                lower[j], upper[j] = (0.0, np.inf) if r.strength > 0 else (-np.inf, 0.0)
        elif n in directions:  # 0: rules read it both ways; it counts through them alone
            lower[j], upper[j] = {1: (0.0, np.inf), -1: (-np.inf, 0.0), 0: (0.0, 0.0)}[directions[n]]
    return {"prior_mean": mean, "prior_sd": sd, "lower": lower, "upper": upper,
            "intercept_mean": float(pr.get("intercept_mean", 0.0)), "intercept_sd": float(pr.get("intercept_sd", 0.5)),
            "default_sd": float(pr.get("word_sd", 0.15))}


def build_pipeline(*, prior_weight=1.0, knowledge_only=False, share_directions=True, **feature_opts) -> Pipeline:
    """Features + `PriorLogisticRegression` shrunk toward the guideline knowledge.

    Parameters
    ----------
    prior_weight : float
        Scales every prior precision (chosen by letter-grouped cross-validation in `train`).
    knowledge_only : bool
        True: learn nothing from data; the model is the published base rate of the category
        moved by the guideline rules that apply.
    share_directions : bool
        Whether the signals and fields a fixed-direction rule reads share its direction
        (`knowledge_prior`).
    **feature_opts
        Arguments of `imr_ml.featurize.build_features`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps `features` (the feature pipeline) and `clf` (the classifier), unfitted.
    """
    features = build_features(**feature_opts)
    structured = feature_blocks(features).get("structured")
    names = structured.layout() if structured is not None else []
    prior = knowledge_prior(names, feature_opts.get("guidelines"), share_directions)
    return Pipeline([("features", features),
                     ("clf", PriorLogisticRegression(**prior, prior_weight=prior_weight, fit_data=not knowledge_only))])
