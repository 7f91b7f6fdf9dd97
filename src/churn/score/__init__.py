"""Batch scoring: a file, or any source kind ``collect`` reads, scored with the deployed model.

``python -m churn.score`` checks every row with the data contract (the cleaning rules of
``churn.clean``), scores the clean rows with the model and threshold the service would use,
writes the scored table and the contact list, and records every prediction in the
prediction log the service writes, for monitoring (``churn.monitor``).
"""
