"""Closing the loop: retrain on new labelled data, challenge the champion, promote, roll back.

- ``policy``: whether to train a challenger now (the monitor's verdicts, a schedule, new labels);
- ``window``: the challenger's training window and the challenge's evidence, as files;
- ``comparison``: champion against challenger on the same rows (paired bootstrap) and the rule;
- ``challenge``: the stage that applies them in the challenger's experiment;
- ``registry``, ``audit``, ``service``, ``loop``: the git tags, the decision log, the service
  switch and the steps on a real repository; ``__main__``: ``python -m churn.retrain``.
"""
