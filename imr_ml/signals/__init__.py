"""Stage 2, clinical signals read from the pre-decision text, driven by `features/signals.toml`:
the compiled rules (`rules`), prior use of the item's treatment (`prior`) and every signal
of a row (`extract`), built on the matching engine of `imr_ml.text`."""

from imr_ml.signals.extract import (
    REQUIRED_SIGNALS,
    SAME_MODALITY_SIGNALS,
    Signal,
    SignalValues,
    extract_signals,
    signals_as_dict,
)
from imr_ml.signals.readers import category_prior, guideline_tags, parse_quantity
from imr_ml.signals.rules import SignalRules, clear_caches, load_rules, signal_names

__all__ = ["REQUIRED_SIGNALS", "SAME_MODALITY_SIGNALS", "Signal", "SignalRules", "SignalValues", "category_prior",
           "clear_caches", "extract_signals", "guideline_tags", "load_rules", "parse_quantity", "signal_names",
           "signals_as_dict"]
