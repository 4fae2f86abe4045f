"""Stage 4, the model, in four rooms, each importing only from the rooms before it:

- `estimator`: what is fitted and scored. `prior_lr` (the logistic regression shrunk toward
  the guideline priors), `directions` (the sign a guideline fixes), `pipeline`
  (`build_pipeline`: features and classifier), `model` (`ScoringModel`, the interface
  scoring, training and the card use: `scoring_model`)
- `evaluation`: how predictions are judged. `metrics`, `bootstrap` (letter resamples),
  `operating_point` (the flag's threshold and what flagging at it meant on held-out predictions)
- `modelfiles`: a model at run time. `loaded` (`LoadedModel`), `modelio` (model directories,
  read and written through `manifest`: seal and schema, `modeltrust`: budgets, allow-list, a
  scorable shape, `modeldir`: versions made current in one rename, with `modelerrors`), the
  knowledge and precedent copies a model keeps (`knowledge_files`, `precedent_files`), the
  training ranges scoring warns about (`ranges`), the built-in model (`builtin`)
- `training`: the procedure, in the order the data meet it. `data` (canonical rows, labels,
  letters, fingerprint, `TrainError`), `rowcheck`, `splits` (always whole letters), `fitting`
  (`TrainOptions`, the prior-weight search, the calibrated fit), `estimate` (the outer CV),
  `streaming` (the large-corpus procedure), `baselines`, `card` (the model card), `train`
  (the orchestrator: `train`, `save`, `evaluate`), `progress` (the `Reporter` protocol)
"""
