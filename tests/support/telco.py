"""The worked example's problem, read from problems/telco.yaml exactly as the stages read it."""

from churn.core.problem import read_problem
from tests.support.sandbox import REPO_ROOT

PROBLEM = read_problem(REPO_ROOT / "problems" / "telco.yaml")
TELCO = PROBLEM.contract
WORDS = PROBLEM.words

from churn.features.sets import feature_set, set_params  # noqa: E402
from churn.featurize.table import build_feature_table  # noqa: E402
from churn.train.pipeline import design_for  # noqa: E402

#: The feature set of the problem file, its params, and the design of its models.
FEATURES = feature_set(PROBLEM.features.set)
FEATURE_PARAMS = set_params(FEATURES, PROBLEM.features.params)
DESIGN = design_for(TELCO, PROBLEM.features)


def feature_table(clean):
    """The modelling table of clean Telco rows, as the featurize stage builds it."""
    return build_feature_table(clean, TELCO, FEATURES, FEATURE_PARAMS)
