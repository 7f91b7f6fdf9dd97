"""The problem file: what is predicted, for whom, what it is worth, and the data contract.

The first step of an ML project, defining the problem, is a YAML file a user edits
and reviews like any other change (``problems/telco.yaml`` for the worked example;
``params.yaml`` names the one in use under ``problem.file``). It declares:

* the unit being scored (``customer``) and its identifier column (or none: a
  deterministic row id is made from the row's content);
* the target column, its positive value, and the words for the event
  (``churn``, ``left``/``stayed``) that the reports, the API and the dashboards use;
* the action taken on a positive prediction and its economics (``business``);
* the segments of the model card, the feature set (named code, see
  ``churn.features``) and the columns an optional expansion applies to;
* the data contract: every column with its type, allowed values or range,
  and the known repairs (aliases such as ``0/1`` for ``No/Yes``, a blank that means
  0 under a condition).

``load_problem`` validates it with pydantic and reports every mistake with the
key's path in the file, then builds the ``Contract`` every step receives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from churn.core.contract import BlankRule, Column, Contract, Kind
from churn.core.errors import ConfigError
from churn.core.io import load_yaml
from churn.core.params import BusinessParams, GateBars, Section, Strict, load

#: The column made for a problem whose unit has no identifier (see ``row_ids``).
ROW_ID = "row_id"

Name = Annotated[str, Field(min_length=1)]


class ProblemParams(Section):
    """``params.yaml``: which problem file the pipeline runs on."""

    section = "problem"

    #: The problem file, relative to the repository root.
    file: str


# --- the file's schema ------------------------------------------------------------------------


class ColumnSpec(Strict):
    """One column of the contract, as written in the problem file."""

    type: Literal["id", "category", "integer", "number"]
    description: Name
    #: category: the allowed clean values, in the order reports show them.
    values: list[str] | None = None
    #: category: extra raw spellings and the clean value each means ("1": "Yes").
    aliases: dict[str, str] = Field(default_factory=dict)
    #: integer/number: inclusive bounds.
    min: float | None = None
    max: float | None = None
    #: id: a regular expression every identifier must match.
    pattern: str | None = None
    #: A blank that is not an error: {means: value, when: {column: value}, name: words}.
    blank: BlankSpec | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> ColumnSpec:
        if self.type == "category":
            if not self.values:
                raise ValueError("a category column needs `values` (its allowed values)")
            if len(set(self.values)) != len(self.values):
                raise ValueError(f"`values` has duplicates: {self.values}")
            unknown = sorted(set(self.aliases.values()) - set(self.values))
            if unknown:
                raise ValueError(f"`aliases` map to {unknown}, which are not in `values`")
        elif self.values is not None or self.aliases:
            raise ValueError(f"`values` and `aliases` are for category columns, not {self.type}")
        if self.type in ("integer", "number"):
            if self.min is None or self.max is None:
                raise ValueError(f"an {self.type} column needs `min` and `max`")
            if self.min > self.max:
                raise ValueError(f"min ({self.min:g}) must not exceed max ({self.max:g})")
        elif self.min is not None or self.max is not None:
            raise ValueError(f"`min` and `max` are for numeric columns, not {self.type}")
        if self.pattern is not None:
            if self.type != "id":
                raise ValueError("`pattern` is for the id column")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"`pattern` is not a regular expression: {exc}") from None
        if self.blank is not None and self.type not in ("integer", "number"):
            raise ValueError("`blank` repairs are for numeric columns")
        return self


class BlankSpec(Strict):
    """A blank raw value that means ``means`` when the columns of ``when`` hold those values."""

    means: float
    #: How reports name the repair, e.g. "set to 0 for new customers".
    name: Name
    when: dict[str, float | str] = Field(default_factory=dict)


ColumnSpec.model_rebuild()


class Unit(Strict):
    """What one row is."""

    name: Name
    plural: Name
    #: The identifier column, or null: then each row gets a deterministic ``row_id``.
    id: str | None


class Target(Strict):
    """The column predicted and the words for its event."""

    column: Name
    #: The value that counts as the event (1); every other allowed value counts as 0.
    positive: Name
    #: The event as a noun ("churn", "default"): "churn rate", and the name of the 0/1
    #: label column of the modelling table and the API's decision field.
    event: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: What a unit did when the event happened / did not ("left" / "stayed").
    happened: Name
    not_happened: Name
    #: The units with the event, as a noun ("leavers", "defaulters").
    positives: Name
    #: The service's two decisions, as its metrics label them ("churn" / "stay").
    decision_labels: tuple[Name, Name]


class Action(Strict):
    """What is done for a unit predicted positive, in the report's words."""

    #: "contact": "contact customers whose churn probability is at least 0.15"; its
    #: -ing form and its past participle ("contacting", "contacted").
    verb: Name
    doing: Name
    done: Name
    #: "retention campaign".
    campaign: Name
    #: The report's opening paragraph: the problem, the action, why a threshold.
    story: Name


class Features(Strict):
    """The engineered features: a named set of code in ``churn.features`` and its params."""

    #: A feature set of ``churn.features`` (``telco``), or ``none`` for the generic pipeline.
    set: Name = "none"
    params: dict[str, Any] = Field(default_factory=dict)
    #: Numeric columns (input or engineered) the optional expansion of ``train.features``
    #: applies to (splines, interactions, polynomial terms).
    expand: list[str] = Field(default_factory=list)


class ReportWords(Strict):
    """What the stakeholder report says that only the problem's owner knows."""

    #: One paragraph: what one row is and what the data holds.
    data: Name
    #: The model card: what the scores are for, and what they are not for.
    intended_use: Name
    not_intended: Name
    #: Problem-specific limitations, one sentence each.
    limitations: list[Name] = Field(default_factory=list)
    #: Inputs whose use for targeting should be reviewed (e.g. protected attributes).
    sensitive: list[str] = Field(default_factory=list)
    #: Categorical columns whose target rate the report shows as drivers; empty: the three
    #: with the widest spread of target rates in the data.
    drivers: list[str] = Field(default_factory=list)
    #: The labels of the economics table, by ``business`` key.
    economics: dict[str, Name] = Field(default_factory=dict)


class ProblemFile(Strict):
    """The whole problem file."""

    #: A few words for titles ("Customer churn").
    name: Name
    #: One or two sentences: what is predicted and why (API docs, report lead).
    description: Name
    unit: Unit
    target: Target
    action: Action
    business: BusinessParams
    #: The bars a model must clear on the test split (the gate stage).
    gate: GateBars
    #: Categorical columns of the model card's per-segment tables.
    segments: list[str] = Field(min_length=1)
    features: Features = Features()
    report: ReportWords
    #: The data contract, column by column, in the data's order.
    columns: dict[str, ColumnSpec] = Field(min_length=2)
    #: A valid record (the features only) for the API's documentation and the tests;
    #: made from the contract when absent.
    example: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProblemFile:
        names = list(self.columns)
        ids = [n for n, c in self.columns.items() if c.type == "id"]
        if self.unit.id is None:
            if ids:
                raise ValueError(f"unit.id is null but {ids} is an id column: name it in unit.id")
            if ROW_ID in names:
                raise ValueError(f"unit.id is null, so `{ROW_ID}` is made: rename that column")
        elif self.unit.id not in names or self.columns[self.unit.id].type != "id":
            raise ValueError(f"unit.id {self.unit.id!r} must be a column of type id")
        elif len(ids) > 1:
            raise ValueError(f"only one id column is allowed, found {ids}")
        target = self.columns.get(self.target.column)
        if target is None or target.type != "category":
            raise ValueError(f"target.column {self.target.column!r} must be a category column")
        if self.target.positive not in (target.values or []):
            raise ValueError(
                f"target.positive {self.target.positive!r} is not one of the target's values "
                f"{target.values}"
            )
        if self.target.event in names:
            raise ValueError(f"target.event {self.target.event!r} clashes with a column name")
        categorical = {
            n for n, c in self.columns.items() if c.type == "category" and n != self.target.column
        }
        for where, listed in (
            ("segments", self.segments),
            ("report.drivers", self.report.drivers),
        ):
            wrong = [s for s in listed if s not in categorical]
            if wrong:
                raise ValueError(
                    f"{where} {wrong} are not categorical input columns "
                    f"(choose from {sorted(categorical)})"
                )
        inputs = set(names) - {self.target.column, *ids}
        wrong = [s for s in self.report.sensitive if s not in inputs]
        if wrong:
            raise ValueError(f"report.sensitive {wrong} are not input columns")
        unknown = sorted(set(self.report.economics) - set(BusinessParams.model_fields))
        if unknown:
            raise ValueError(
                f"report.economics labels unknown business keys {unknown} "
                f"(known: {sorted(BusinessParams.model_fields)})"
            )
        for name, spec in self.columns.items():
            for other, value in (spec.blank.when if spec.blank else {}).items():
                if other not in self.columns or other == name:
                    raise ValueError(f"columns.{name}.blank.when names an unknown column {other!r}")
                if self.columns[other].type == "category" and value not in (
                    self.columns[other].values or []
                ):
                    raise ValueError(
                        f"columns.{name}.blank.when: {value!r} is not a value of {other}"
                    )
        return self


# --- what the steps receive -------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The problem's words, for every text the pipeline writes (reports, API, dashboards)."""

    #: A few words for titles ("Customer churn").
    name: str
    #: The unit, singular and plural ("customer", "customers").
    unit: str
    units: str
    #: The event as a noun ("churn"): "churn rate".
    event: str
    #: What a unit did when the event happened / did not ("left" / "stayed").
    happened: str
    not_happened: str
    #: The units with the event ("leavers").
    positives: str
    #: The action on a positive prediction: "contact", "contacting", "contacted".
    verb: str
    doing: str
    done: str
    #: The action's campaign ("retention campaign").
    campaign: str

    @classmethod
    def of(cls, spec: ProblemFile) -> Words:
        return cls(
            name=spec.name,
            unit=spec.unit.name,
            units=spec.unit.plural,
            event=spec.target.event,
            happened=spec.target.happened,
            not_happened=spec.target.not_happened,
            positives=spec.target.positives,
            verb=spec.action.verb,
            doing=spec.action.doing,
            done=spec.action.done,
            campaign=spec.action.campaign,
        )


class Problem(BaseModel):
    """A validated problem file and the contract built from it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    #: The file it was read from (for messages and the reports).
    path: str
    spec: ProblemFile
    contract: Contract

    @property
    def business(self) -> BusinessParams:
        return self.spec.business

    @property
    def words(self) -> Words:
        return Words.of(self.spec)

    @property
    def segments(self) -> list[str]:
        return list(self.spec.segments)

    @property
    def features(self) -> Features:
        return self.spec.features

    @property
    def unit(self) -> Unit:
        return self.spec.unit

    @property
    def target(self) -> Target:
        return self.spec.target

    @property
    def action(self) -> Action:
        return self.spec.action

    @property
    def report(self) -> ReportWords:
        return self.spec.report


def build_contract(spec: ProblemFile, path: str = "the problem file") -> Contract:
    """The ``Contract`` that the problem file's ``columns`` (and unit, target) describe."""
    columns = []
    if spec.unit.id is None:
        columns.append(
            Column(
                ROW_ID,
                Kind.ID,
                f"Row identifier made by collect (the {spec.unit.name} has none)",
                pattern=r"^r[0-9a-f]{16}$",
            )
        )
    for name, c in spec.columns.items():
        blank = None
        if c.blank is not None:
            blank = BlankRule(value=c.blank.means, name=c.blank.name, when=dict(c.blank.when))
        columns.append(
            Column(
                name,
                Kind(c.type),
                c.description,
                allowed=tuple(c.values or ()),
                aliases=dict(c.aliases),
                minimum=c.min,
                maximum=c.max,
                pattern=c.pattern,
                blank=blank,
            )
        )
    contract = Contract(
        columns=tuple(columns),
        id_column=spec.unit.id or ROW_ID,
        target=spec.target.column,
        positive=spec.target.positive,
        label=spec.target.event,
        example={},
        made_id=spec.unit.id is None,
    )
    example = spec.example or default_example(contract)
    wrong = sorted(set(example) ^ set(contract.feature_names))
    if wrong:
        raise ConfigError(
            f"{path}: example: its keys must be exactly the input columns; these differ: {wrong}"
        )
    return dataclasses.replace(contract, example=example)


def default_example(contract: Contract) -> dict[str, Any]:
    """A valid record: each category's first value, each number's midpoint."""
    record: dict[str, Any] = {}
    for c in contract.features:
        if c.kind is Kind.CATEGORY:
            record[c.name] = c.allowed[0]
        else:
            middle = ((c.minimum or 0) + (c.maximum or 0)) / 2
            record[c.name] = int(middle) if c.kind is Kind.INTEGER else round(middle, 2)
    return record


def parse_problem(text: str, path: str) -> Problem:
    """The problem in ``text`` (the content of the file ``path``), validated."""
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping (name, unit, target, columns, ...)")
    try:
        spec = ProblemFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if not key:  # a check across keys: its message names them
                lines.append(f"  {err['msg'].removeprefix('Value error, ')}")
            elif err["type"] == "extra_forbidden":
                lines.append(f"  {key}: unknown key (misspelled?)")
            elif err["type"] == "missing":
                lines.append(f"  {key}: required key is missing")
            else:
                message = err["msg"].removeprefix("Value error, ")
                lines.append(f"  {key}: {message}")
        raise ConfigError(
            f"{path}: the problem file is not valid:\n"
            + "\n".join(lines)
            + "\n  what to do: fix these keys (README, 'Use your own data', shows every key)"
        ) from None
    return Problem(path=path, spec=spec, contract=build_contract(spec, path))


def read_problem(path: str | Path) -> Problem:
    """Read and validate the problem file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"problem file {path} not found: check problem.file in params.yaml "
            "(paths are relative to the repository root)"
        ) from None
    return parse_problem(text, path.as_posix())


def load_problem(params_file: str | Path = "params.yaml", root: str | Path = ".") -> Problem:
    """The problem ``params.yaml`` names (``problem.file``), validated."""
    return read_problem(Path(root) / load(ProblemParams, Path(root) / params_file).file)


def row_ids(rows: list[str]) -> list[str]:
    """Deterministic identifiers for rows without one: a digest of the row's text.

    Identical rows get identical ids (and are then exact duplicates, as they should be).
    """
    return ["r" + hashlib.blake2b(row.encode("utf-8"), digest_size=8).hexdigest() for row in rows]
