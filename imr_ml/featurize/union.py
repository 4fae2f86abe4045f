"""The feature extractor: PRE_DECISION selection, then the structured and TF-IDF blocks."""

from __future__ import annotations

from sklearn.pipeline import FeatureUnion, Pipeline

from imr_ml.featurize.selector import PreDecisionSelector
from imr_ml.featurize.structured import SignalFeatures
from imr_ml.featurize.text import TextFeatures

GROUPS = ("rule", "signal", "field", "item", "summary")


def build_features(
    *,
    use_tfidf=False,
    use_signals=True,
    use_fields=True,
    use_category=True,
    use_rules=True,
    max_features=20000,
    item_max_features=2000,
    min_df=2,
    max_df=0.95,
    ngram_range=(1, 2),
    hashing=False,
    n_features=2**18,
    scale=False,
    tfidf_weight=0.5,
    rules=None,
    taxonomy=None,
    guidelines=None,
    criteria=None,
) -> Pipeline:
    """The feature extractor: PRE_DECISION column selection, then a FeatureUnion whose first
    block is the structured one (signals, category, fields, guideline rules: a layout fixed by
    the knowledge files, so the classifier's priors line up with its first columns), then,
    if `use_tfidf`, TF-IDF of the summary and of the item.

    Words are off by default: they encode how a letter is written (its boilerplate, its
    length) as much as what it says, so a short typed note would score differently from a
    letter stating the same facts. `tfidf_weight` multiplies the TF-IDF blocks.
    """
    parts: list[tuple[str, SignalFeatures | TextFeatures]] = []
    if use_signals or use_fields or use_category or use_rules:
        parts.append(("structured", SignalFeatures(
            rules=rules, taxonomy=taxonomy, guidelines=guidelines, use_signals=use_signals,
            use_fields=use_fields, use_category=use_category, use_rules=use_rules, scale=scale, criteria=criteria,
        )))
    if use_tfidf:
        parts.append(("summary", TextFeatures(
            "summary", max_features=max_features, min_df=min_df, max_df=max_df,
            ngram_range=ngram_range, hashing=hashing, n_features=n_features,
        )))
        parts.append(("item", TextFeatures(
            "item", max_features=item_max_features, min_df=min_df, max_df=1.0,
            ngram_range=ngram_range, hashing=hashing, n_features=min(n_features, 2**16),
        )))
    if not parts:
        raise ValueError("build_features: every feature group is switched off")
    weights = {"summary": tfidf_weight, "item": tfidf_weight} if use_tfidf and tfidf_weight != 1.0 else None
    union = FeatureUnion(parts, transformer_weights=weights, verbose_feature_names_out=False)
    return Pipeline([("select", PreDecisionSelector()), ("union", union)])


def feature_blocks(features: Pipeline) -> dict:
    """{block name: its step} of a `build_features` pipeline, in column order
    (`structured`, `summary`, `item`)."""
    return dict(features.named_steps["union"].transformer_list)


def feature_groups(names) -> dict[str, list[int]]:
    """{group: [column indices]} for `signal`, `summary`, `item`, `field` feature names."""
    groups: dict[str, list[int]] = {g: [] for g in GROUPS}
    for i, n in enumerate(names):
        g = str(n).split("__", 1)[0]
        groups.setdefault(g, []).append(i)
    return groups
