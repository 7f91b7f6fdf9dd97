"""The source kinds ``collect.source.kind`` may name, and the ``collect`` params section.

A new kind is one module (a ``Source`` subclass with its params and reader, see
``base``) plus one line in ``KINDS``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from churn.collect.files import CsvSource, ParquetSource
from churn.collect.http import HttpSource
from churn.collect.sql import SqlSource
from churn.core.params import Section

#: Every source kind, by the ``kind`` that selects it.
KINDS = (CsvSource, ParquetSource, SqlSource, HttpSource)

AnySource = Annotated[
    CsvSource | ParquetSource | SqlSource | HttpSource, Field(discriminator="kind")
]

#: Must equal ``paths.source_state`` in dvc.yaml (DVC cannot read it from here).
SOURCE_STATE_FILE = "data/raw/source_state.json"


class CollectParams(Section):
    section = "collect"

    source: AnySource
    #: What DVC hashes to decide whether collect reruns: the source path for files, the
    #: fingerprint file for databases and APIs (dvc.yaml cannot derive it from ``source``).
    watch: str
    #: ``[source]`` generates the always-run stage ``source_state@source`` that fingerprints a
    #: database or API; ``[]`` for files, so that a no-op ``dvc repro`` runs nothing.
    fingerprint: list[Literal["source"]] = Field(default_factory=list, max_length=1)

    @model_validator(mode="after")
    def _watch_matches_source(self) -> CollectParams:
        if self.source.hashable_by_dvc:
            expected, fingerprint = self.source.path, []  # type: ignore[union-attr]
        else:
            expected, fingerprint = SOURCE_STATE_FILE, ["source"]
        if self.watch != expected or self.fingerprint != fingerprint:
            raise ValueError(
                f"a {self.source.kind} source needs `watch: {expected}` and "
                f"`fingerprint: {fingerprint}` under collect (see README, Data sources)"
            )
        return self
