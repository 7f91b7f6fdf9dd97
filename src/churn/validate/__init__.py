"""Validate: the data contract as Great Expectations suites, run on the raw snapshot.

``checks`` (the expectations, built from the contract), ``suite`` (run them and
summarise), ``messages`` (failures in words), ``report`` (the offline HTML page);
entry point ``python -m churn.validate`` (stage validate). The clean stage runs
the clean-data suite from here too.
"""
