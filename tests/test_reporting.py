"""The stakeholder report: segment metrics, the joined predictions, and the page's content."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from churn.core.decision import Decision
from churn.core.errors import ConfigError, DataError
from churn.core.html import number
from churn.core.problem import parse_problem
from churn.report.evidence import Evidence
from churn.report.page import render_report
from churn.report.plots import draw_plots
from churn.report.segments import all_segments, join_predictions, segment_metrics
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import PROBLEM, TELCO, WORDS


def small_test_split() -> pd.DataFrame:
    """Six customers with hand-checkable metrics at threshold 0.5."""
    return pd.DataFrame(
        {
            "customerID": ["0001-AAAAA", "0002-AAAAA", "0003-AAAAA", "0004-AAAAA",
                           "0005-AAAAA", "0006-AAAAA"],
            "Contract": ["Two year", "Month-to-month", "Month-to-month", "Month-to-month",
                         "Month-to-month", "Two year"],
            "SeniorCitizen": ["No", "Yes", "No", "Yes", "No", "No"],
            "churn": [0, 1, 1, 0, 0, 0],
            "probability": [0.2, 0.9, 0.6, 0.7, 0.1, 0.6],
        }
    )  # fmt: skip


def test_segment_metrics_by_contract_match_hand_computed_values():
    rows = segment_metrics(small_test_split(), TELCO, "Contract", threshold=0.5)
    # The contract's order of levels; "One year" has no customer here and is left out.
    assert [r["segment"] for r in rows] == ["Month-to-month", "Two year"]
    monthly, two_year = rows
    assert monthly["rows"] == 4
    assert monthly["positive_rate"] == 0.5
    # churners 0.9, 0.6 vs stayers 0.7, 0.1: 3 of the 4 pairs ranked right
    assert monthly["roc_auc"] == 0.75
    assert monthly["contacted_share"] == 0.75  # 0.9, 0.6, 0.7 >= 0.5
    assert monthly["positives_reached"] == 1.0
    assert monthly["mean_probability"] == pytest.approx(0.575)
    # No churner: ROC-AUC and churners reached are undefined, not 0 or 1.
    assert two_year == {
        "segment": "Two year",
        "rows": 2,
        "positive_rate": 0.0,
        "mean_probability": 0.4,
        "roc_auc": None,
        "contacted_share": 0.5,
        "positives_reached": None,
    }


def test_segment_metrics_follow_the_threshold():
    df = small_test_split()
    seniors = {r["segment"]: r for r in segment_metrics(df, TELCO, "SeniorCitizen", 0.8)}
    assert seniors["Yes"]["contacted_share"] == 0.5  # only 0.9
    assert seniors["Yes"]["positives_reached"] == 1.0
    assert seniors["No"]["contacted_share"] == 0.0
    assert seniors["No"]["positives_reached"] == 0.0
    # Segments add up to the whole split.
    assert sum(r["rows"] for r in seniors.values()) == len(df)


def test_all_segments_names_a_missing_column():
    with pytest.raises(DataError, match="InternetService"):
        all_segments(small_test_split(), TELCO, ["Contract", "InternetService"], 0.5)


def test_segments_outside_the_contract_are_refused():
    text = (REPO_ROOT / "problems" / "telco.yaml").read_text()
    text = text.replace("segments: [Contract, SeniorCitizen", "segments: [Contract, tenure")
    with pytest.raises(ConfigError, match=r"segments \['tenure'\] are not categorical"):
        parse_problem(text, "problems/telco.yaml")


def test_join_predictions_keeps_the_split_columns_and_adds_the_probability():
    split = small_test_split().drop(columns="probability")
    predictions = small_test_split()[["customerID", "churn", "probability"]].iloc[::-1]
    joined = join_predictions(predictions, split, TELCO, predictions_file="p", split_file="s")
    assert list(joined["customerID"]) == list(split["customerID"])
    assert list(joined["probability"]) == [0.2, 0.9, 0.6, 0.7, 0.1, 0.6]


def test_join_predictions_refuses_stale_files():
    split = small_test_split().drop(columns="probability")
    predictions = small_test_split()[["customerID", "churn", "probability"]]
    with pytest.raises(DataError, match="only one of the two files") as err:
        join_predictions(predictions.iloc[1:], split, TELCO, predictions_file="p.parquet",
                         split_file="s.parquet")  # fmt: skip
    assert "p.parquet" in str(err.value) and "customerID" in str(err.value)
    flipped = predictions.assign(churn=predictions["churn"].where(predictions.index != 3, 1))
    with pytest.raises(DataError, match="label differs"):
        join_predictions(flipped, split, TELCO, predictions_file="p", split_file="s")


# --- the page ------------------------------------------------------------------------------


def small_evidence(threshold: float = 0.15, segments=None, default: float = 0.5) -> Evidence:
    """Evidence shaped like the pipeline's files, with distinctive numbers."""
    grid = np.round(np.arange(0, 1, 0.05), 2)
    profit = [
        {"threshold": float(t), "profit_per_customer": round(8 - 20 * (t - 0.2) ** 2, 6),
         "contacted_share": round(1 - float(t), 6)}
        for t in grid
    ]  # fmt: skip
    gains = [
        {"contacted_share": i / 20, "churners_caught": round(min(1.0, (i / 20) ** 0.5), 6),
         "lift": 1.0}
        for i in range(1, 21)
    ]  # fmt: skip
    df = small_test_split()
    return Evidence(
        validation={"evaluated": 28, "expectations": [{"success": True}], "rows": 7043},
        clean={
            "exact_duplicates_removed": 2,
            "quarantine_reasons": {"tenure out of range": 3},
            "quarantined_fraction": 0.000426,
            "repairs": {"TotalCharges_blank_set_to_0_for_new_customers": 11},
            "rows_clean": 7038,
            "rows_in": 7043,
            "rows_quarantined": 3,
        },
        stats={
            "rows": 7038,
            "positives": 1869,
            "positive_rate": 0.265558,
            "categorical": {
                "Contract": {
                    "levels": [
                        {"value": "Month-to-month", "positive_rate": 0.427097, "count": 3875},
                        {"value": "One year", "positive_rate": 0.112695, "count": 1473},
                        {"value": "Two year", "positive_rate": 0.028319, "count": 1695},
                    ]
                }
            },
            "numeric": {"tenure": {"iqr": 46.0}},
            "numeric_by_target": {"tenure": {"No": {"median": 38.0}, "Yes": {"median": 10.0}}},
        },
        train={
            "cv": {"folds": 5, "roc_auc_mean": 0.850297, "roc_auc_std": 0.00831},
            "hyperparameters": {"C": 1.0},
            "model": "logistic_regression",
            "tuning": {"candidates": 0, "method": "none"},
        },
        tuning=[{"candidate": 0, "roc_auc_mean": 0.850297}],
        decision=Decision(
            threshold=threshold,
            chosen_on="validation",
            objective="expected profit per customer",
            model_path="models/model.joblib",
            model_md5="2e20ad30a67fa341b208b70469c20a17",
            break_even_threshold=0.164179,
            economics={
                "acceptance_rate": 0.3,
                "contact_cost": 1.0,
                "customer_lifetime_value": 200.0,
                "offer_cost": 10.0,
            },
            expected_profit_per_customer={"test": 9.937559, "validation": 10.2},
            contacted_share={"test": 0.548723, "validation": 0.52},
        ),
        metrics={
            split: {
                "roc_auc": 0.837748,
                "profit_tuned_threshold": 9.937559,
                "profit_default_threshold": 6.786187,
                "profit_contact_all": 6.748344,
                "top_decile_lift": 2.920283,
                "emp": 10.156283,
            }
            for split in ("validation", "test")
        },
        profit={"validation": profit, "test": profit},
        gains={"validation": gains, "test": gains},
        segments=all_segments(df, TELCO, segments or ["Contract", "SeniorCitizen"], threshold),
        split_rows={"train": 4926, "validation": 1055, "test": 1057},
        default_threshold=default,
        drivers=["Contract"],
    )


def render_small(**kw) -> str:
    ev = small_evidence(**kw)
    return render_report(ev, PROBLEM, draw_plots(ev, WORDS, dpi=40), boxplots=b"\x89PNG")


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_states_the_decision_and_its_value():
    html = render_small()
    text = visible_text(html)
    assert "at least 0.15" in text
    assert "9.94 per customer" in text  # the tuned threshold, test split
    assert "6.79" in text and "6.75" in text  # the 0.5 threshold and contacting everyone
    assert "3.15" in text  # 9.94 - 6.79: the gain over the default threshold
    assert "9,938 per 1,000 customers" in text
    assert "2.92 times" in text  # lift
    assert "0.164" in text  # break-even


def test_report_shows_data_quality_and_the_model():
    text = visible_text(render_small())
    assert "7,043" in text and "7,038" in text
    assert "3 rows (0.04%) were set aside" in text and "tenure out of range 3" in text
    assert "TotalCharges blank set to 0 for new customers: 11 rows" in text
    assert "2 exact duplicate rows removed" in text
    assert "28 automatic checks" in text and "all passed" in text
    assert "26.6%" in text  # churn rate
    assert "logistic regression" in text and "0.850 ± 0.008" in text
    assert "train.model: auto" in text  # a single family: how to compare them all
    assert "train 4,926, validation 1,055, test 1,057" in text


def test_model_card_has_a_table_per_segment_column():
    html = render_small(segments=["SeniorCitizen", "Contract"])
    assert html.index("By SeniorCitizen") < html.index("By Contract")
    card = visible_text(html[html.index('id="model-card"') :])
    # Month-to-month: 4 customers, 50.0% churn, ROC-AUC 0.75, 75.0% contacted (threshold 0.15)
    assert "Month-to-month 4 50.0% 0.750 75.0% 100.0%" in card
    assert "Two year 2 0.0% — 100.0% —" in card
    assert "2e20ad30a67fa341b208b70469c20a17" in card


def test_report_is_self_contained_and_byte_stable():
    first, second = render_small(), render_small()
    assert first == second
    assert "<script" not in first.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", first)
    images = re.findall(r'<img src="([^"]+)"', first)
    assert len(images) == 5  # drivers, boxplots, profit, gains, segments
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_the_default_threshold_is_the_one_the_metrics_used():
    # The comparison threshold is params evaluate.threshold, not a fixed 0.5 in the text.
    text = visible_text(render_small(default=0.4))
    assert "Model, threshold 0.40 (the usual default)" in text
    assert "0.50" not in text and "well below 0.4 because" in text


def test_number_with_no_decimals_keeps_the_zeros_of_integers():
    # 10 months must not print as "1" (trailing zeros are stripped from decimals only).
    assert number(10.0, 0) == "10"
    assert number(1200.0, 0) == "1,200"
    assert number(2.50, 2) == "2.5"


def test_model_card_names_segments_whose_leavers_are_mostly_missed():
    df = small_test_split()
    df.loc[0, "churn"] = 1  # a two-year leaver scored 0.2: missed at threshold 0.5
    ev = small_evidence(threshold=0.5)
    ev = Evidence(**{**ev.__dict__, "segments": all_segments(df, TELCO, ["Contract"], 0.5)})
    text = visible_text(render_report(ev, PROBLEM, draw_plots(ev, WORDS, 40)))
    assert "fewer than half of the leavers in: Contract = Two year (0.0% of 1 leavers)" in text
    assert "fewer than half" not in visible_text(render_small())


def with_selection(best: str, winner: str) -> Evidence:
    """Small evidence whose train metrics hold a model selection (train.model: auto)."""
    ev = small_evidence()
    families = {
        "logistic_regression": (0.8451, 0.0012, 0.0015, 10.1),
        "lightgbm": (0.8463, 0.0, 0.0, 10.3),
        "decision_tree": (0.8249, 0.0214, 0.0046, 9.7),
    }
    if best == "logistic_regression":
        families["logistic_regression"] = (0.8503, 0.0, 0.0, 10.25)
        families["lightgbm"] = (0.8484, 0.0019, 0.0008, 10.12)
    selection = {
        "rule": "the first family ...",
        "best": best,
        "winner": winner,
        "candidates": ["logistic_regression", "decision_tree", "lightgbm"],
        "families": {
            name: {
                "roc_auc_mean": mean, "roc_auc_std": 0.008, "difference_from_best": gap,
                "difference_se": se, "within_margin": gap <= se, "chosen": name == winner,
                "profit_oof": profit, "threshold_oof": 0.15,
            }
            for name, (mean, gap, se, profit) in families.items()
        },
    }  # fmt: skip
    return Evidence(
        **{**ev.__dict__, "train": {**ev.train, "model": winner, "selection": selection}}
    )


def models_section(ev: Evidence) -> str:
    html = render_report(ev, PROBLEM, draw_plots(ev, WORDS, 40))
    return visible_text(html[html.index('id="models"') : html.index('id="decision"')])


def test_the_models_section_shows_every_family_and_why_a_simpler_one_won():
    text = models_section(with_selection(best="lightgbm", winner="logistic_regression"))
    assert "3 model families were compared, simplest first" in text
    assert text.index("logistic regression (deployed)") < text.index("decision tree")
    assert "0.846 ± 0.008 best 10.30" in text  # LightGBM: the best mean, out-of-fold profit
    assert "0.845 ± 0.008 0.001 ± 0.002 10.10" in text  # the gap and its standard error
    assert "Gradient-boosted trees (LightGBM) had the highest cross-validated ROC-AUC" in text
    assert "logistic regression is simpler and only 0.001 below it" in text
    assert "Fit times are in the training log" in text
    assert "0.838 (test)" in text


def test_the_models_section_when_the_best_is_also_the_simplest():
    text = models_section(with_selection(best="logistic_regression", winner="logistic_regression"))
    assert "Logistic regression had the highest cross-validated ROC-AUC (0.850)" in text
    assert "also the simplest family compared, so it was deployed" in text


def test_segment_roc_auc_is_scikit_learns_to_the_last_bit():
    from sklearn.metrics import roc_auc_score

    from churn.report.segments import roc_auc

    rng = np.random.default_rng(0)
    for i in range(300):
        n = int(rng.integers(4, 300))
        y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
        score = rng.random(n) if i % 2 else np.round(rng.random(n), 1)  # ties on even i
        assert roc_auc(y, score) == roc_auc_score(y, score)
