"""Stage 4, the model: data frames, splits, estimators, training, baselines, metrics, model files."""
