"""Great Expectations, imported with its usage analytics off and its logging quiet.

Nothing this project runs may reach the network. The package imports Great
Expectations (about 4 s) through this module: the validation suite when it first
runs, and, ahead of them, the fork server of the validate and clean stages' worker
processes (``churn.core.compute.start_workers_early``), so that the setting is in
place before Great Expectations reads it, whichever process imports it first.
"""

import logging
import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.ERROR)

# The names the validation suite uses, after the setting they read.
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402

__all__ = ["ProgressBarsConfig", "gx", "gxe", "pandas_execution_engine"]
