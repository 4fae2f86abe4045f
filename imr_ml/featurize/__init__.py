"""Stage 3, rows to features: the transformers and the one `build_pipeline()`."""

from imr_ml.featurize.pipeline import build_pipeline, to_frame

__all__ = ["build_pipeline", "to_frame"]
