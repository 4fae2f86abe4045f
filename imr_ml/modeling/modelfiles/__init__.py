"""A model at run time: model directories read and written safely, the built-in model, the
knowledge and precedents a model keeps. Scoring depends on this room and the estimator, never
on training."""
