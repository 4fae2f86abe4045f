"""The estimator: the guideline-prior logistic regression, the pipeline it ends, and the
adapter scoring reads a fitted one through (`ScoringModel`). Imports nothing else of modeling."""
