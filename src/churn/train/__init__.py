"""Train: the model pipeline, cross-validated (and tuned) on the training split.

``families`` (the estimators ``train.model`` may name), ``pipeline`` (preprocessing,
optional expansion and selection, the estimator; the whole model from a plain
record), ``cv`` (stratified k-fold scores), ``tuning`` (grid, random, Optuna),
``fit`` (tune, cross-validate, fit, and what the stage records); entry point
``python -m churn.train``.
"""
