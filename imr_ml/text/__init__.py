"""The generic text-matching engine the signals are built on: literal prefilter, matcher,
clauses and NegEx. It knows no domain names; cue sets declare their role in TOML."""
