"""Featurize: the modelling table, with the engineered features computed once.

``table`` builds it (identifier, contract features, engineered features of
``churn.features``, 0/1 label); entry point ``python -m churn.featurize``.
"""
