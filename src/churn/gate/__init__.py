"""Gate: stop the pipeline when the model is below the bars in params.yaml.

``bars`` (the checks); entry point ``python -m churn.gate``.
"""
