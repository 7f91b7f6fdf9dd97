"""Feature engineering: named feature sets, shared by featurize, train and the service.

A feature set adds engineered columns to records, row by row (nothing is learned
from data): ``sets`` lists them (``telco``, and ``none`` for the generic pipeline)
and checks one against the contract; ``telco`` is the worked example's; ``step``
wraps a set as the stateless scikit-learn step the trained model starts with, so
the service and ``evaluate`` compute exactly what ``featurize`` wrote.
"""
