"""Collect: read a configured source into the raw snapshot (step 1 of the pipeline).

Every source kind is one class holding its params and its reader: ``files``
(csv, parquet: a file or a folder of batch files), ``sql`` (SQLAlchemy) and
``http`` (a paginated JSON API). ``sources`` lists the kinds; ``snapshot``
writes the raw snapshot and the fingerprint DVC watches for databases and APIs.
Entry points: ``python -m churn.collect`` (stage collect) and
``python -m churn.collect.source_state`` (stage source_state).
"""
