"""Stage 3, rows to features, scikit-learn style.

`build_features()` is a Pipeline whose first step drops every column that is not in
`imr_ml.schema.PRE_DECISION` (so no later step can see a post-decision field), followed by
a FeatureUnion of

* `signal__<name>`, `item__category__<cat>`, `field__<name>`, `rule__<name>`: the structured
  block (`structured.SignalFeatures`): clinical signals (0/1), the item's treatment category
  (one-hot), the structured fields of `imr_ml.signals.fields`, the guideline rules that fire;
* `summary__tfidf__<word>`, `item__tfidf__<word>`: TF-IDF of the summary and the item
  (`text.TextFeatures`, off by default).

Modules: `frame` (rows to the PRE_DECISION frame), `selector`, `text`, `structured`, `union`
(assembly, feature groups). The classifier on top is `imr_ml.modeling.estimator.pipeline`.
"""

from imr_ml.featurize.frame import to_frame
from imr_ml.featurize.selector import PreDecisionSelector
from imr_ml.featurize.structured import SignalFeatures, rows_seen_once
from imr_ml.featurize.text import TOKEN_PATTERN, TextFeatures
from imr_ml.featurize.union import GROUPS, build_features, feature_blocks, feature_groups

__all__ = ["GROUPS", "TOKEN_PATTERN", "PreDecisionSelector", "SignalFeatures", "TextFeatures", "build_features",
           "feature_blocks", "feature_groups", "rows_seen_once", "to_frame"]
