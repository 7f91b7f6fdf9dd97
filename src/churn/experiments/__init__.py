"""Developer tooling, apart from the pipeline: compare runs, comment on pull requests, rank.

``compare`` (this workspace against a base revision, as a Markdown report with
plots), ``pr_comment`` (post that report as one pull-request comment, images kept
on the repository's own host), ``rank`` (experiments sorted by a metric) and
``directions`` (which way each metric improves). Entry point:
``python -m churn.experiments {compare,pr-comment,rank} --help``.
"""
