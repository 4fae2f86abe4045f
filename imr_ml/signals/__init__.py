"""Stage 2, clinical signals read from the pre-decision text, driven by `features/signals.toml`."""
