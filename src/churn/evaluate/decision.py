"""The business decision: the contact threshold, chosen on validation, and its record.

The threshold that maximises expected profit per customer is chosen on the
VALIDATION predictions; the test split only measures the choice. The result is a
``churn.core.decision.Decision``, which the service reads back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churn.core.decision import Decision
from churn.core.params import BusinessParams
from churn.evaluate.business import Economics, best_threshold

#: What the threshold maximises, and where (recorded in the decision file).
OBJECTIVE = "expected profit per customer"
CHOSEN_ON = "validation"


def choose_threshold(
    y_validation: np.ndarray, p_validation: np.ndarray, grid: np.ndarray, econ: Economics
) -> float:
    """The grid threshold with the highest validation profit per customer (lowest on ties)."""
    threshold, _ = best_threshold(y_validation, p_validation, grid, econ)
    return threshold


def make_decision(
    threshold: float,
    *,
    model_path: str,
    model_md5: str,
    money: BusinessParams,
    reports: dict[str, dict[str, Any]],
) -> Decision:
    """The decision record: the threshold, the model it belongs to, and what it is worth.

    ``reports`` holds each split's ``business.decision_report`` (rounded as logged).
    """
    econ = Economics.from_params(money)
    return Decision(
        threshold=threshold,
        chosen_on=CHOSEN_ON,
        objective=OBJECTIVE,
        model_path=model_path,
        model_md5=model_md5,
        break_even_threshold=round(econ.break_even_threshold, 6),
        economics=money.model_dump(),
        expected_profit_per_customer={s: r["profit_tuned_threshold"] for s, r in reports.items()},
        contacted_share={s: r["contacted_share_tuned_threshold"] for s, r in reports.items()},
    )
