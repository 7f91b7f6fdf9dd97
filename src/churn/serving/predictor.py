"""Records -> churn probabilities, with the same fitted pipeline ``evaluate`` uses.

The pipeline takes a plain customer record (the contract's feature columns, in
contract order, with the clean dtypes); ``frame`` builds exactly that, so the
service computes what ``evaluate`` computes (tested on the whole test split).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from churn import contract
from churn.modeling import model_inputs

#: Clean dtype of each feature column (the dtypes the split files have).
DTYPES: dict[str, str] = {c.name: contract.clean_dtype(c) for c in contract.FEATURES}


def frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The model's input table for ``records`` (mappings holding at least the features)."""
    columns = {
        name: pd.array([r[name] for r in records], dtype=dtype) for name, dtype in DTYPES.items()
    }
    return model_inputs(pd.DataFrame(columns))


def predict_proba(pipeline: Any, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Probability of churn for each record."""
    # The request schema already rejects NaN and infinity: skip scikit-learn's re-check.
    with sklearn.config_context(assume_finite=True):
        return pipeline.predict_proba(frame(records))[:, 1]


class MicroBatcher:
    """Predicts for concurrent requests together: one pipeline call for all waiting records.

    The fitted pipeline costs milliseconds per call whatever the number of rows
    (pandas and scikit-learn overheads), so under load the records of all requests
    waiting while the previous call ran go through in one call. There is no added
    delay: an idle service predicts a lone request at once. Calls run in one worker
    thread, leaving the event loop free to read and validate the next requests.
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._pending: list[tuple[Sequence[Mapping[str, Any]], asyncio.Future]] = []
        self._draining = False
        self._task: asyncio.Task | None = None

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
                self._executor, predict_proba, self.pipeline, records
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
