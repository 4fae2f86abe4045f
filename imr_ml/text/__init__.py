"""The generic text-matching engine the signals are built on: literal prefilter
(`literals`), matcher (`matcher`, with the word index of `wordindex`), document index with
sentences and clauses (`document`) and NegEx (`negex`), compiled from TOML (`engine`).
It knows no domain names; cue sets declare their role in TOML (`role = "negation"`)."""

from imr_ml.text.document import Document
from imr_ml.text.engine import Engine, compile_engine, matcher_of
from imr_ml.text.literals import required_literals
from imr_ml.text.matcher import LiteralPositions, Matcher, lower_text
from imr_ml.text.negex import NEGATION, CueHit, CueSet, TextRule, nearest_cue, nearest_of, overlaps, rule_spans

__all__ = ["NEGATION", "CueHit", "CueSet", "Document", "Engine", "LiteralPositions", "Matcher", "TextRule",
           "compile_engine", "lower_text", "matcher_of", "nearest_cue", "nearest_of", "overlaps",
           "required_literals", "rule_spans"]
