"""The base every pipeline step stands on; it imports nothing from the steps.

``contract`` (the data contract), ``params`` (typed params.yaml), ``errors``,
``io`` (deterministic writers), ``lineage`` (where raw rows came from),
``artifacts`` (models verified against dvc.lock), ``decision`` (the contact
threshold file that evaluate writes and the service reads), ``paths`` (the
pipeline's file names, from dvc.yaml), ``figures`` (deterministic PNGs),
``html`` (self-contained HTML pages) and ``cli`` (what every entry point shares).
"""
