"""Stage 4, the model. Modules in the order the data meet them:

- `data`: canonical rows, labels, letters, fingerprint (`TrainError`)
- `rowcheck`: corpus rows refused with a one-line reason before they reach a model
- `splits`: grouped folds, the temporal split, the streaming hold-out (always whole letters)
- `prior_lr`: the logistic regression shrunk toward the guideline priors
- `fitting`: `TrainOptions`, the prior-weight search, the calibrated fit, thresholds
- `estimate`: the outer CV that measures the whole procedure
- `streaming`: the large-corpus procedure (features once, held-out calibration)
- `baselines`, `metrics`, `bootstrap`: what a model must beat, and how it is scored
- `operating_point`: what flagging at a threshold meant on held-out predictions
- `model`: `ScoringModel`, the interface scoring, streaming and the card use (`scoring_model`)
- `card`, `ranges`: the model card, the training ranges scoring warns about
- `train`: the orchestrator (`train`, `save`, `evaluate`)
- `loaded`, `modelio`, `builtin`: model directories, the built-in model; `modelio` reads and
  writes through `manifest` (seal, schema), `modeltrust` (budgets, allow-list, a scorable
  shape) and `modeldir` (versions made current in one rename), with `modelerrors`
- `progress`: the `Reporter` protocol long work reports to
"""
