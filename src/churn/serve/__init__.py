"""The prediction service: the trained pipeline behind HTTP (FastAPI), observable.

Modules: ``schema`` (request/response models generated from the data contract),
``model_source`` (the served model, from the workspace or a git revision, verified
against ``dvc.lock``), ``predictor`` (records -> probabilities with the fitted
pipeline), ``prediction_log`` (durable SQLite log), ``metrics`` (Prometheus),
``app`` (the FastAPI app factory) and ``__main__`` (``make serve``).
"""
