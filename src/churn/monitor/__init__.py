"""Monitoring statistics: input and score drift, calibrated alarms, performance over time.

Pure functions (arrays and DataFrames in, dataclasses out); the monitor stage does the I/O.

- ``drift``: per-column drift of one period against a reference (PSI, Wasserstein,
  Jensen-Shannon, KS, chi-square) with Benjamini-Hochberg adjusted p-values;
- ``alarms``: per-column alarm thresholds calibrated on no-drift resamples of the period's
  size, and the drift rule that uses them;
- ``performance``: realized performance once labels arrive (bootstrap intervals, per
  segment) and a confidence-based estimate before they do.
"""
