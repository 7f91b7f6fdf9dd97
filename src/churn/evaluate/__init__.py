"""Evaluate: the trained model on the validation and test splits, in statistics and money.

``metrics`` (classification metrics and their dvclive record), ``business`` (profit,
lift, EMP), ``decision`` (the contact threshold, chosen on validation); entry point
``python -m churn.evaluate``. ``explain``, ``gate`` and ``report`` read its outputs.
"""
