"""Typed parameters: ``params.yaml`` loaded into validated objects, one section at a time.

Each section is a class that names its section (``TrainParams.section == "train"``);
``load(TrainParams)`` reads and validates it, so the keys a stage reads are exactly
the keys ``dvc.yaml`` lists for it. Unknown or misspelled keys are errors that name
the key. A step whose params need its own code (the data sources of ``collect``)
defines its section next to that code, on the same ``Section`` base.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from churn.core.errors import ConfigError
from churn.core.io import load_yaml

if TYPE_CHECKING:
    pass

PARAMS_FILE = Path("params.yaml")


class Strict(BaseModel):
    """A params block: unknown keys are errors, values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(Strict):
    """A top-level section of ``params.yaml``; ``section`` is its key there."""

    section: ClassVar[str]


# --- compute: how the stages process data (batches, samples, the engine) -----------------


class DaskParams(Strict):
    """Where the ``dask`` engine runs."""

    #: A running scheduler (``tcp://host:8786``), or null: each stage starts a LocalCluster
    #: of ``workers`` processes on this machine and stops it when done.
    scheduler: str | None = None
    #: LocalCluster only: worker processes, and threads per worker.
    workers: int = Field(default=2, ge=1)
    threads_per_worker: int = Field(default=1, ge=1)


class ComputeParams(Section):
    """How the stages process data: in bounded batches here, or partition by partition on Dask.

    Neither the engine nor the batch size changes what the pipeline computes: a table
    is cut into the same parts, and each part is processed by the same functions.
    """

    section = "compute"

    #: local: every stage in its own process, batch by batch; dask: the same work,
    #: part by part, on a Dask cluster (``dask`` below).
    engine: Literal["local", "dask"] = "local"
    #: Rows read, processed and written at a time; a table of more rows is written as a
    #: folder of parts (buckets of the identifier's hash) of about this many rows.
    batch_rows: int = Field(ge=1000)
    #: Cross-validation, tuning, explanations, exploration, the evaluation plots and the
    #: report's segments work on a seeded sample of at most this many rows of a table.
    sample_rows: int = Field(ge=1000)
    #: Seed of those samples (a row is in a sample by a hash of its identifier and this).
    seed: int = 0
    #: Worker processes of the local engine (batches, figures), and threads of the heavy
    #: steps (the full LightGBM fit, DuckDB): how fast, not what is computed (train aside:
    #: LightGBM).
    threads: int = Field(default=2, ge=1)
    dask: DaskParams = DaskParams()


# --- validate ----------------------------------------------------------------------------


class ValidateParams(Section):
    section = "validate"

    min_rows: int = Field(ge=0)
    max_rows: int = Field(gt=0)
    #: Largest fraction of blank values tolerated in a column that allows blanks.
    max_blank_fraction: float = Field(ge=0, le=1)
    #: Fraction of rows allowed to break a row-level expectation before the data is
    #: rejected. 0 rejects any bad row; a positive value lets ``clean`` quarantine them.
    row_error_tolerance: float = Field(ge=0, le=1)
    #: Smallest share of rows each target class must hold: above ``1 -`` this share for one
    #: class, the target is almost constant and the data is rejected. 0 turns the check off.
    min_target_class_share: float = Field(default=0.01, ge=0, lt=0.5)

    @model_validator(mode="after")
    def _bounds(self) -> ValidateParams:
        if self.min_rows > self.max_rows:
            raise ValueError("min_rows must not exceed max_rows")
        return self


# --- clean -------------------------------------------------------------------------------


class CleanParams(Section):
    section = "clean"

    #: The stage fails when more than this fraction of input rows is quarantined.
    max_quarantine_fraction: float = Field(ge=0, le=1)


# --- split -------------------------------------------------------------------------------


class SplitParams(Section):
    section = "split"

    seed: int
    train: float = Field(gt=0, lt=1)
    validation: float = Field(gt=0, lt=1)
    test: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitParams:
        total = self.train + self.validation + self.test
        if abs(total - 1) > 1e-9:
            raise ValueError(f"train + validation + test must be 1, got {total:g}")
        return self


# --- train -------------------------------------------------------------------------------


class LogisticRegressionParams(Strict):
    C: float = Field(gt=0)
    max_iter: int = Field(gt=0)
    class_weight: Literal["balanced"] | None = None


class RandomForestParams(Strict):
    n_estimators: int = Field(gt=0)
    max_depth: int | None = Field(default=None, gt=0)
    min_samples_leaf: int = Field(ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"
    #: Share of the rows each tree is grown on (a seeded bootstrap sample); null: all.
    max_samples: float | None = Field(default=None, gt=0, le=1)
    class_weight: Literal["balanced", "balanced_subsample"] | None = None


class HistGradientBoostingParams(Strict):
    learning_rate: float = Field(gt=0)
    max_iter: int = Field(gt=0)
    max_leaf_nodes: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0)
    class_weight: Literal["balanced"] | None = None


class DecisionTreeParams(Strict):
    max_depth: int | None = Field(default=None, gt=0)
    min_samples_leaf: int = Field(ge=1)
    criterion: Literal["gini", "entropy", "log_loss"] = "gini"
    class_weight: Literal["balanced"] | None = None


class SvmParams(Strict):
    #: linear: LinearSVC (fast on 5k rows); rbf: kernel SVC (slower, seconds per fit).
    #: Either way the margins become probabilities with CalibratedClassifierCV (sigmoid).
    kernel: Literal["linear", "rbf"] = "linear"
    C: float = Field(gt=0)
    #: rbf only: kernel width ("scale" = 1 / (n_features * X.var())).
    gamma: float | Literal["scale", "auto"] = "scale"
    calibration_folds: int = Field(default=3, ge=2)
    class_weight: Literal["balanced"] | None = None


class MlpParams(Strict):
    hidden_layer_sizes: list[int] = Field(min_length=1)
    alpha: float = Field(ge=0)
    learning_rate_init: float = Field(gt=0)
    max_iter: int = Field(gt=0)
    #: Stop when a seeded 10% slice of the training fold stops improving.
    early_stopping: bool = True


class LightGBMParams(Strict):
    """LightGBM's gradient-boosted trees (``lightgbm.LGBMClassifier``), built for large data."""

    n_estimators: int = Field(gt=0)
    learning_rate: float = Field(gt=0)
    num_leaves: int = Field(ge=2)
    #: -1: no limit (the leaves bound the trees).
    max_depth: int = Field(default=-1, ge=-1)
    min_child_samples: int = Field(ge=1)
    reg_lambda: float = Field(ge=0)
    #: Row subsampling per tree (seeded), every ``subsample_freq`` trees (0: none).
    subsample: float = Field(default=1.0, gt=0, le=1)
    subsample_freq: int = Field(default=0, ge=0)
    colsample_bytree: float = Field(default=1.0, gt=0, le=1)
    class_weight: Literal["balanced"] | None = None


class FeatureStepParams(Strict):
    """Optional feature steps inside the fitted pipeline (after the engineered features)."""

    #: Extra terms built from the numeric columns the problem file lists under
    #: ``features.expand``: none | splines (cubic B-splines) | interactions (pairwise
    #: products) | polynomial.
    expansion: Literal["none", "splines", "interactions", "polynomial"] = "none"
    #: splines: number of knots; interactions/polynomial: degree.
    n_knots: int = Field(default=5, ge=2)
    degree: int = Field(default=2, ge=2, le=3)
    #: Keep the k best encoded features: none | mutual_info | chi2 | model
    #: (model = importance in a seeded extra-trees forest, via SelectFromModel).
    selection: Literal["none", "mutual_info", "chi2", "model"] = "none"
    k: int = Field(default=20, ge=1)


class RangeSpec(Strict):
    """A numeric search range; ``log`` samples it on a log scale. Ints stay ints."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RangeSpec:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


#: One hyperparameter's search space: a list of choices, or a numeric range.
SearchDimension = list[Any] | RangeSpec


class TuningParams(Strict):
    #: none: fit the hyperparameters as written | grid | random | bayes (Optuna TPE).
    method: Literal["none", "grid", "random", "bayes"] = "none"
    #: Candidates tried by random and bayes.
    n_iter: int = Field(default=20, ge=1)
    #: grid: points taken from each range (log-spaced when ``log``); lists are used as is.
    grid_points: int = Field(default=3, ge=2)
    #: Progress lines per candidate (0 silent, 1 one line per candidate, 2+ per fold).
    verbose: int = Field(default=1, ge=0)


ModelName = Literal[
    "logistic_regression",
    "random_forest",
    "hist_gradient_boosting",
    "decision_tree",
    "svm",
    "mlp",
    "lightgbm",
]


class SelectionParams(Strict):
    """``train.model: auto``: which families compete, simplest first, and how one wins."""

    #: The candidates, simplest first: on a tie within the margin the earlier one wins.
    families: list[ModelName] = Field(min_length=1)
    #: The winner is the first family whose mean CV ROC-AUC is below the best family's by
    #: at most this many standard errors of the paired per-fold difference (0: the best).
    standard_errors: float = Field(default=1.0, ge=0)
    #: Fits run side by side (threads; each fit itself uses one thread).
    n_jobs: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _unique(self) -> SelectionParams:
        repeated = sorted({f for f in self.families if self.families.count(f) > 1})
        if repeated:
            raise ValueError(f"families are listed more than once: {repeated}")
        return self


class TrainParams(Section):
    section = "train"

    seed: int
    #: A family, or auto: score every family of ``selection`` and fit the winner.
    model: ModelName | Literal["auto"]
    cv_folds: int = Field(ge=2)
    logistic_regression: LogisticRegressionParams
    random_forest: RandomForestParams
    hist_gradient_boosting: HistGradientBoostingParams
    decision_tree: DecisionTreeParams
    svm: SvmParams
    mlp: MlpParams
    lightgbm: LightGBMParams
    selection: SelectionParams
    features: FeatureStepParams = FeatureStepParams()
    #: Recalibrate the final model's probabilities with k-fold CalibratedClassifierCV.
    calibration: Literal["none", "sigmoid", "isotonic"] = "none"
    tuning: TuningParams = TuningParams()
    #: Per family: hyperparameter -> list of choices or {low, high, log, integer}.
    search_space: dict[ModelName, dict[str, SearchDimension]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _auto_is_not_tuned(self) -> TrainParams:
        if self.model == "auto" and self.tuning.method != "none":
            raise ValueError(
                "model auto compares the families with their hyperparameters as written; "
                "tuning searches one family: set train.model to a family to tune it "
                "(or train.tuning.method to none)"
            )
        return self

    def candidates(self) -> list[str]:
        """The families to score: all of ``selection`` with auto, else the one named."""
        return list(self.selection.families) if self.model == "auto" else [self.model]

    def family_params(self, family: str) -> dict[str, Any]:
        """The hyperparameters of ``family`` as written in params.yaml."""
        return getattr(self, family).model_dump()

    def estimator_params(self) -> dict[str, Any]:
        """The hyperparameters of the selected model family."""
        if self.model == "auto":
            raise ValueError("model auto has no hyperparameters of its own: choose a family")
        return self.family_params(self.model)

    def space(self) -> dict[str, SearchDimension]:
        """The search space of the selected family (empty when none is declared)."""
        return dict(self.search_space.get(self.model, {}))


# --- evaluate ----------------------------------------------------------------------------


class EvaluateParams(Section):
    section = "evaluate"

    #: Threshold on the predicted churn probability for the label-based metrics.
    threshold: float = Field(gt=0, lt=1)


# --- business: the problem file's ``business`` block (read by evaluate, report, monitor) ---


class BusinessParams(Strict):
    """The campaign's economics (Verbraken et al. 2013, EMP for churn).

    Written in the problem file (``business``), whose wording says what each value
    means for its problem; the names are those of the EMP profit model.
    """

    #: Customer lifetime value kept when a would-be churner accepts the offer.
    customer_lifetime_value: float = Field(gt=0)
    #: Cost of the incentive, paid by every contacted customer who accepts it.
    offer_cost: float = Field(ge=0)
    #: Cost of contacting one customer.
    contact_cost: float = Field(ge=0)
    #: Share of contacted would-be churners who accept the offer and stay.
    acceptance_rate: float = Field(gt=0, le=1)
    #: EMP: the acceptance rate is uncertain, drawn from Beta(alpha, beta)
    #: (the paper's 6, 14 has mean 0.3).
    emp_alpha: float = Field(gt=0)
    emp_beta: float = Field(gt=0)
    #: Candidate decision thresholds: 0, step, 2*step, ... below 1.
    threshold_step: float = Field(gt=0, lt=0.5)

    @model_validator(mode="after")
    def _offer_below_value(self) -> BusinessParams:
        if self.offer_cost >= self.customer_lifetime_value:
            raise ValueError("offer_cost must be below customer_lifetime_value")
        return self


# --- explain -----------------------------------------------------------------------------


class ExplainParams(Section):
    section = "explain"

    seed: int
    #: Shuffles per column for permutation importance.
    n_repeats: int = Field(ge=1)
    scoring: Literal["roc_auc", "average_precision", "neg_log_loss"] = "roc_auc"
    #: At most this many validation rows (a seeded sample of a larger split): each
    #: shuffle of each column predicts them all again.
    sample_rows: int = Field(default=10_000, ge=100)


# --- gate --------------------------------------------------------------------------------


class GateParams(Section):
    """Whether the quality gate stops the pipeline (its bars are the problem file's)."""

    section = "gate"

    #: false: report the result without failing (useful for sweeps of weaker models).
    enforce: bool = True


class GateBars(Strict):
    """The bars the trained model must clear on the test split (the problem file's ``gate``)."""

    min_test_roc_auc: float = Field(ge=0, le=1)
    min_test_top_decile_lift: float = Field(ge=0)


# --- explore -----------------------------------------------------------------------------


class ExploreParams(Section):
    section = "explore"

    #: Tukey's rule: a value is an outlier when it lies more than this many IQRs
    #: below the first quartile or above the third.
    iqr_multiplier: float = Field(gt=0)
    #: Bins of the histograms.
    histogram_bins: int = Field(ge=2, le=500)
    #: Resolution of the PNG plots.
    dpi: int = Field(ge=30, le=300)
    #: The pair plot draws at most this many customers (a seeded sample beyond that).
    scatter_max_points: int = Field(ge=100)
    seed: int


# --- report (the stakeholder report) -------------------------------------------------------


class ReportParams(Section):
    """The stakeholder report (its segments and words are the problem file's)."""

    section = "report"

    #: Resolution of the report's PNG plots.
    dpi: int = Field(ge=30, le=300)


# --- serve (the prediction service; no pipeline stage reads it) ----------------------------


class ServeParams(Section):
    section = "serve"

    #: Largest number of customers one POST /predict/batch may carry (a larger one gets 422).
    max_batch_size: int = Field(gt=0, le=100_000)
    #: Largest request body in bytes (a larger one gets 413, refused before it is read in
    #: full). The service checks at start that a full batch of the example record fits.
    max_request_bytes: int = Field(gt=0, le=1_000_000_000)
    #: SQLite file of the prediction log (relative to the repository root).
    prediction_log: str
    #: Predictions committed to the log in one transaction at most (group commit).
    log_commit_batch: int = Field(gt=0, le=10_000)


S = TypeVar("S", bound=Section)


def read_params_file(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: run the stage from the repository root") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping of stage sections")
    return data


def parse_section(name: str, raw: Any, model: type[Any], origin: str = "params.yaml") -> Any:
    """Validate one section, turning pydantic's report into a message naming each key."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join([name, *(str(p) for p in err["loc"])])
            if err["type"] == "extra_forbidden":
                lines.append(f"  {key}: unknown key (misspelled?)")
            elif err["type"] == "missing":
                lines.append(f"  {key}: required key is missing")
            elif isinstance(err.get("input"), dict | list):
                # A whole section is not repeated: it may hold a URL with credentials.
                lines.append(f"  {key}: {err['msg']}")
            else:
                lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{origin}: invalid section {name!r}:\n" + "\n".join(lines)) from None


def load(section: type[S], path: str | Path = PARAMS_FILE) -> S:
    """Load and validate ``section`` (its ``section`` key) of ``params.yaml``."""
    data = read_params_file(path)
    if section.section not in data:
        raise ConfigError(f"{path}: section {section.section!r} is missing")
    return parse_section(section.section, data[section.section], section, str(path))


def load_keys(
    section: type[S], keys: Sequence[str], path: str | Path = PARAMS_FILE
) -> dict[str, Any]:
    """Only ``keys`` of ``section``, each validated as ``section`` types it.

    For a stage that reads a few keys of another stage's section (``dvc.yaml`` lists
    exactly those keys for it): the rest of that section is neither read nor checked.
    """
    data = read_params_file(path)
    raw = data.get(section.section)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: section {section.section!r} is missing")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key in keys:
        field = section.model_fields[key]
        name = f"{section.section}.{key}"
        if key not in raw:
            if field.is_required():
                problems.append(f"  {name}: required key is missing")
            else:
                values[key] = field.get_default()
            continue
        try:
            values[key] = TypeAdapter(Annotated[field.annotation, field]).validate_python(raw[key])
        except ValidationError as exc:
            problems += [f"  {name}: {e['msg']} (got {raw[key]!r})" for e in exc.errors()]
    if problems:
        raise ConfigError(f"{path}: invalid keys:\n" + "\n".join(problems))
    return values
