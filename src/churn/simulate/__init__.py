"""A simulated production stream for the worked example, and the demo that replays it.

Developer tooling, apart from the pipeline (like ``experiments``): ``stream`` builds
months of records under declared scenarios (no drift, covariate shift, concept drift, a
data-quality incident) with their outcomes and a manifest of what was injected;
``replay`` sends a month through the real service's ``/predict/batch``; ``demo`` runs the
whole loop in a copy of the repository: train the monitored model, score the months
through the service and batch scoring, load the outcomes, run the monitor.
``python -m churn.simulate --help``.
"""
