"""Split: stratified, seeded train / validation / test partitions of the modelling table.

``stratified`` (the partition); entry point ``python -m churn.split``.
"""
