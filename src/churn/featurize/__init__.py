"""Featurize: the modelling table, with the engineered features computed once.

``table`` builds it (identifier, contract features, the engineered features of the
problem's feature set from ``churn.features``, 0/1 label); entry point
``python -m churn.featurize``.
"""
