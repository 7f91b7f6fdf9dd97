"""Explain: which input columns the model relies on (permutation importance).

``importance`` (the table and its bar chart); entry point ``python -m churn.explain``.
"""
