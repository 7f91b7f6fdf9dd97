"""churn: a reproducible, data-versioned customer-churn pipeline.

The modules follow the data flow: ``sources`` (collect) -> ``validation`` ->
``cleaning`` -> ``features`` -> ``splitting`` -> ``modeling`` (train) ->
``evaluation``. ``contract`` is the one description of the data that all of
them share.
"""

__version__ = "0.1.0"
