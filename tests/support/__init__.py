"""Helpers for the tests and benchmarks (never installed with the package).

``sandbox`` (a throwaway git copy of the repository for the real dvc CLI),
``measure`` (wall, CPU and peak memory of a command), ``synthetic`` (large
resampled Telco sources).
"""
