"""Explore: statistics, plots and an offline EDA report of the clean table.

``stats`` (the numbers), ``plots`` (the PNGs), ``page`` (the HTML report);
entry point ``python -m churn.explore`` (stage explore).
"""
