"""Clean: repair the known dirt, quarantine untrustworthy rows, lose nothing.

``rules`` (the repairs and quarantine reasons, from the data contract); entry
point ``python -m churn.clean`` (stage clean), which also runs the clean-data
suite of ``churn.validate``.
"""
