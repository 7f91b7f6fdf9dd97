"""Report: the stakeholder report, one self-contained HTML page for decision makers.

``evidence`` (what it shows, read from the pipeline's outputs), ``segments`` (the
model card's per-segment metrics), ``plots`` and ``page`` (the HTML); entry point
``python -m churn.report``.
"""
