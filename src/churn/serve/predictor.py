"""Records -> churn probabilities, with the same fitted pipeline ``evaluate`` uses.

The pipeline takes a plain customer record (the contract's feature columns, in
contract order, with the clean dtypes); ``frame`` builds exactly that, so the
service computes what ``evaluate`` computes (tested on the whole test split).
``CompiledPipeline`` runs the same fitted objects with less pandas per call; it
is used only when it gives bit-for-bit the pipeline's probabilities.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from churn.core.contract import Contract, Kind
from churn.features.step import FeatureStep


def frame(records: Sequence[Mapping[str, Any]], contract: Contract) -> pd.DataFrame:
    """The model's input table for ``records`` (mappings holding at least the features).

    The contract's feature columns, in contract order, with the clean dtypes (those
    of the split files the model was evaluated on).
    """
    columns = {
        c.name: pd.array([r[c.name] for r in records], dtype=c.clean_dtype)
        for c in contract.features
    }
    return pd.DataFrame(columns)


class CompiledPipeline:
    """The fitted pipeline's ``predict_proba``, without pandas per-column overheads.

    ``features -> preprocess -> rest``: the same fitted objects compute the same
    numbers; only the hand-over changes. The column transformer's parts get numpy
    arrays of their columns instead of DataFrames (a DataFrame makes the one-hot
    encoder validate each column as a pandas Series: ~3 ms per call, whatever the
    number of rows), then their outputs are stacked as ``ColumnTransformer`` stacks
    dense outputs (``np.hstack`` in column-transformer order). Each part is a shallow
    copy without ``feature_names_in_`` (an array has no names to check; the names were
    checked when choosing the columns). ``compile_pipeline`` builds it only for the
    layout it supports and only if it gives exactly the pipeline's probabilities.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        features, preprocess = pipeline.steps[0][1], pipeline.steps[1][1]
        self.features = features
        self.parts: list[tuple[Any, list[str]]] = []
        for _name, transformer, columns in preprocess.transformers_:
            if isinstance(transformer, str):  # "drop" (remainder); checked by `supported`
                continue
            part = copy.copy(transformer)
            if hasattr(part, "feature_names_in_"):
                del part.feature_names_in_
            self.parts.append((part, list(columns)))
        self.rest = pipeline[2:]

    @staticmethod
    def supported(pipeline: Any) -> bool:
        """True for features -> dense ColumnTransformer (no passthrough, no weights) -> rest.

        Anything this does not see (e.g. a pandas output set on a step) is caught by the
        exact comparison in ``compile_pipeline``.
        """
        if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 3:
            return False
        features, preprocess = pipeline.steps[0][1], pipeline.steps[1][1]
        return (
            isinstance(features, FeatureStep)
            and isinstance(preprocess, ColumnTransformer)
            and not preprocess.sparse_output_
            and preprocess.transformer_weights is None
            and all(t == "drop" or not isinstance(t, str) for _, t, _ in preprocess.transformers_)
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        engineered = self.features.transform(X)
        # A part's columns go as one array: str columns as an object array (what the
        # encoder makes of a DataFrame column), numeric ones as int64/float64.
        Xt = np.hstack([part.transform(engineered[cols].to_numpy()) for part, cols in self.parts])
        return self.rest.predict_proba(Xt)


def probe_frame(contract: Contract) -> pd.DataFrame:
    """Records that visit every allowed category and the range ends of every number."""
    base = dict(contract.example)
    records = [base]
    for column in contract.features:
        if column.kind is Kind.CATEGORY:
            records += [{**base, column.name: value} for value in column.allowed]
        else:
            kind = int if column.kind is Kind.INTEGER else float
            middle = (column.minimum + column.maximum) / 2
            records += [
                {**base, column.name: kind(v)} for v in (column.minimum, middle, column.maximum)
            ]
    return frame(records, contract)


def compile_pipeline(pipeline: Any, contract: Contract) -> CompiledPipeline | None:
    """The compiled form of ``pipeline``, or None when its layout is not supported or
    when it does not give exactly (bit for bit) the pipeline's probabilities on
    ``probe_frame`` records, one at a time and all together."""
    if not CompiledPipeline.supported(pipeline):
        return None
    compiled = CompiledPipeline(pipeline)
    probe = probe_frame(contract)
    with sklearn.config_context(assume_finite=True):
        for X in (probe, probe.iloc[:1], probe.iloc[-1:]):
            if not np.array_equal(compiled.predict_proba(X), pipeline.predict_proba(X)):
                return None
    return compiled


def predict_proba(
    pipeline: Any, records: Sequence[Mapping[str, Any]], contract: Contract
) -> np.ndarray:
    """Probability of churn for each record (``pipeline``: fitted, or its compiled form)."""
    # The request schema already rejects NaN and infinity: skip scikit-learn's re-check.
    with sklearn.config_context(assume_finite=True):
        return pipeline.predict_proba(frame(records, contract))[:, 1]


class MicroBatcher:
    """Predicts for concurrent requests together: one pipeline call for all waiting records.

    The fitted pipeline costs milliseconds per call whatever the number of rows
    (pandas and scikit-learn overheads), so under load the records of all requests
    waiting while the previous call ran go through in one call. There is no added
    delay: an idle service predicts a lone request at once. Calls run in one worker
    thread, leaving the event loop free to read and validate the next requests.
    """

    def __init__(self, pipeline: Any, contract: Contract) -> None:
        self.contract = contract
        compiled = compile_pipeline(pipeline, contract)
        #: True when predictions go through the ``CompiledPipeline`` (same probabilities).
        self.compiled = compiled is not None
        self.pipeline = compiled or pipeline
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._pending: list[tuple[Sequence[Mapping[str, Any]], asyncio.Future]] = []
        self._draining = False
        self._task: asyncio.Task | None = None

    @property
    def idle(self) -> bool:
        """True when no request is waiting for or in a pipeline call."""
        return not self._pending and not self._draining

    async def predict(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((records, future))
        if not self._draining:
            self._draining = True
            # Keep a reference: the event loop holds tasks only weakly.
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._run(loop, batch)
        finally:
            self._draining = False

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list) -> None:
        records = [r for recs, _ in batch for r in recs]
        try:
            probabilities = await loop.run_in_executor(
                self._executor, predict_proba, self.pipeline, records, self.contract
            )
        except Exception as exc:
            if len(batch) > 1:
                # One bad request must not fail the others: retry each on its own.
                for item in batch:
                    await self._run(loop, [item])
                return
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        start = 0
        for recs, future in batch:
            if not future.done():  # the client may have gone
                future.set_result(probabilities[start : start + len(recs)])
            start += len(recs)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
