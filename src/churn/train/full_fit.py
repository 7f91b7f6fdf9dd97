"""Fit the LightGBM head on every row of a training split of any size.

Cross-validation and tuning work on a seeded sample (``fit.fit_model``); when the
training split is larger than the sample, the LightGBM head chosen there is fitted
again on every row, batch by batch:

* the categories are collected slice by slice, in the same pass as the sample
  (``CategoryCodes.partial_fit``: the same step as a fit on the whole), and every row
  is encoded (a byte per category, four per number: about 40 bytes a row for the
  worked example);
* local engine: each slice is encoded in the sample pass, against its own categories
  (``encode_slice``), and its codes are remapped once every slice's categories are
  known (``combine``): the split is read once. LightGBM fits the encoded rows with
  ``compute.threads`` threads;
* dask engine: the slices, read again and encoded on the workers, are the partitions
  of a ``dask.dataframe`` and ``lightgbm.dask`` fits them there; the booster comes
  back as a plain ``LGBMClassifier`` (``to_local``).

Either way the saved model is the same kind of ``Pipeline`` as on small data
(features, encoding, ``LGBMClassifier``), so the service, the decision and every
later stage are unchanged. The two engines grow their trees differently
(lightgbm.dask merges histograms across workers), so their models agree in
quality, not bit for bit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from churn.core import tables
from churn.core.compute import DaskEngine, Engine, LocalEngine, Reader, exact_partitions
from churn.core.params import ComputeParams, TrainParams
from churn.features.encoding import CategoryCodes
from churn.train.families import FAMILIES
from churn.train.fit import TrainingResult, fit_model
from churn.train.pipeline import TREE_FAMILIES, Design, with_features

log = logging.getLogger("churn")


@dataclass(frozen=True)
class Trained:
    """The model to save, how it was chosen, and the rows each step used."""

    model: Any
    result: TrainingResult
    #: Rows of the training split, of the sample cross-validated, of the final fit.
    rows: int
    sample_rows: int
    fitted_rows: int

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.rows


def train_table(
    path: str | Path,
    design: Design,
    params: TrainParams,
    compute: ComputeParams,
    engine: Engine,
    id_column: str,
) -> Trained:
    """Tune and cross-validate on a seeded sample of the split at ``path`` (every row when
    it is no larger than ``compute.sample_rows``), then fit: LightGBM on every row, any
    other family (or a calibrated LightGBM) on the sample."""
    # One pass: the sample, and what the fit on every row needs of every slice: on the
    # local engine the slice encoded (its codes remapped once every category is known),
    # on Dask its categories (the workers encode their partitions as they fit).
    cols = design.columns
    if isinstance(engine, DaskEngine):
        also = partial(categories_of, columns=list(cols.categorical))
    else:
        also = partial(
            encode_slice,
            numeric=list(cols.numeric),
            categorical=list(cols.categorical),
            label=design.label,
        )
    start = time.perf_counter()
    table, rows, found = tables.read_sample_and(
        path,
        id_column,
        compute.sample_rows,
        compute.seed,
        engine,
        compute.batch_rows,
        also=also,
    )
    # One BLAS/OpenMP thread: faster on data this small, and the same bytes on any machine.
    read = time.perf_counter()
    sampled = len(table) < rows
    with threadpool_limits(limits=1):
        # A sample: LightGBM (uncalibrated) is fitted below on every row, not on it.
        result = fit_model(table, design, params, TREE_FAMILIES if sampled else ())
    chosen = time.perf_counter()
    if not sampled:
        return Trained(result.model, result, rows, rows, rows)
    family = result.family or params.model  # train.model auto: the family chosen
    if result.model is None:
        log.info(
            "%s: CV on a sample of %s of %s rows (read in %.1f s, CV in %.1f s); fitting on "
            "every row (%s engine)",
            family,
            f"{len(table):,}",
            f"{rows:,}",
            read - start,
            chosen - read,
            engine.name,
        )
        model = fit_all_rows(
            path,
            design,
            found or [],
            family,
            result.params,
            params.seed,
            engine,
            compute.batch_rows,
            compute.threads,
        )
        return Trained(model, result, rows, len(table), rows)
    log.info(
        "%s is fitted on a sample of %s of %s rows (on every row: train.model lightgbm, "
        "train.calibration none)",
        family,
        f"{len(table):,}",
        f"{rows:,}",
    )
    return Trained(result.model, result, rows, len(table), len(table))


def _distinct(column: pa.ChunkedArray) -> pa.Array:
    """The distinct values of a column, in order of appearance, without missing values
    (of a dictionary column: the values its rows use, decoded)."""
    values = column.unique().drop_null()
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def categories_of(table: pa.Table, piece: Any, columns: list[str]) -> pd.DataFrame:
    """The distinct values of ``columns`` in one slice (a column per input column)."""
    return pd.DataFrame({c: pd.Series(_distinct(table.column(c)).to_pandas()) for c in columns})


@dataclass
class SliceCodes:
    """One slice of the training split, encoded before every slice's categories are known.

    A categorical column is held as codes into the slice's own categories (``local``:
    its distinct values, in order of appearance), remapped by ``combine`` to the codes
    of the sorted categories of every slice, the codes ``CategoryCodes.transform`` gives.
    Without ``codes`` (a categorical column that is not text) only ``categories`` is
    set, and the rows are encoded in a second pass.
    """

    #: The distinct values of each categorical column (``categories_of``).
    categories: pd.DataFrame
    local: dict[str, list[str]] | None = None
    codes: dict[str, np.ndarray] | None = None
    numeric: dict[str, np.ndarray] | None = None
    label: np.ndarray | None = None


def encode_slice(
    table: pa.Table, piece: Any, numeric: list[str], categorical: list[str], label: str
) -> SliceCodes:
    """The ``SliceCodes`` of one slice (its Arrow table, text or dictionary columns): the
    encoding without a second read."""
    import pyarrow.compute as pc

    if not all(tables.is_text(table.schema.field(c).type) for c in categorical):
        return SliceCodes(categories_of(table, piece, categorical))
    table = table.unify_dictionaries()  # the chunks of a column share one dictionary
    local, codes = {}, {}
    for c in categorical:
        column = table.column(c).combine_chunks()
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        # The values the rows use, in order of appearance (a dictionary read from a file
        # holds those of whole row groups), and the codes renumbered to them.
        used = pc.unique(column.indices).drop_null()
        local[c] = column.dictionary.take(used).to_pylist()
        small = np.min_scalar_type(-len(local[c]) - 1)  # the codes go back to the main process
        renumber = np.full(len(column.dictionary) + 1, -1, dtype=small)  # last: missing
        renumber[used.to_numpy()] = np.arange(len(used))
        codes[c] = renumber[column.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
    frame = table.select([*numeric, label]).to_pandas()
    return SliceCodes(
        categories=pd.DataFrame({c: pd.Series(local[c], dtype="str") for c in categorical}),
        local=local,
        codes=codes,
        numeric={c: frame[c].to_numpy(dtype=np.float32, na_value=np.nan) for c in numeric},
        label=frame[label].to_numpy(dtype=np.int8),
    )


def combine(slices: list[SliceCodes], codes: CategoryCodes) -> pd.DataFrame:
    """The encoded rows of every slice, in order (``codes`` fitted on their categories):
    the frame that encoding each slice with ``codes`` and joining them gives."""
    columns: dict[str, Any] = {
        c: np.concatenate([s.numeric[c] for s in slices]) for c in codes.numeric
    }
    for c in codes.categorical:
        position = {value: i for i, value in enumerate(codes.categories_[c])}
        small = np.min_scalar_type(-len(position) - 1)
        parts = []
        for s in slices:
            # The last entry maps the missing code (-1) to missing.
            lookup = np.array([*(position[v] for v in s.local[c]), -1], dtype=small)
            parts.append(lookup[s.codes[c]])
        dtype = pd.CategoricalDtype(codes.categories_[c])
        columns[c] = pd.Categorical.from_codes(np.concatenate(parts), dtype=dtype)
    return pd.DataFrame(columns)


def encode(df: pd.DataFrame, piece: Any, codes: CategoryCodes, label: str) -> pd.DataFrame:
    """One slice encoded for the trees, with its 0/1 label."""
    return codes.transform(df).assign(**{label: df[label].to_numpy(dtype=np.int8)})


def read_encoded(piece: tables.Slice, names: list[str], codes: CategoryCodes, label: str):
    """One slice of ``names`` read and encoded (a partition of the training frame)."""
    return encode(tables.read_slice(piece, names), piece, codes, label)


def fit_all_rows(
    path: str | Path,
    design: Design,
    found: list[Any],
    family: str,
    hyperparameters: dict[str, Any],
    seed: int,
    engine: Engine,
    batch_rows: int,
    threads: int,
) -> Pipeline:
    """The model (feature step, encoding, LightGBM) fitted on every row at ``path``.

    ``found``: what the sample pass collected of each slice of the table: its categories
    (``categories_of``), or the slice encoded (``encode_slice``).
    """
    cols = design.columns
    pieces = tables.slices(path, batch_rows)
    codes = CategoryCodes(list(cols.numeric), list(cols.categorical))
    for each in found:
        codes.partial_fit(each.categories if isinstance(each, SliceCodes) else each)
    encoded_already = bool(found) and all(
        isinstance(each, SliceCodes) and each.codes is not None for each in found
    )
    model = FAMILIES[family](hyperparameters, seed)
    columns = [*cols.all, design.label]
    start = time.perf_counter()
    if isinstance(engine, DaskEngine):
        model = _fit_on_dask(engine, pieces, columns, codes, design.label, model, path)
        log.info("%s fitted on the cluster in %.1f s", family, time.perf_counter() - start)
    else:
        if encoded_already:  # in the sample pass
            encoded = combine(found, codes)
            y = pd.Series(np.concatenate([each.label for each in found]), name=design.label)
            found.clear()  # the slices' codes: their memory back before the fit
        else:
            parts = engine.map(
                partial(tables.read_slice, columns=columns),
                pieces,
                partial(encode, codes=codes, label=design.label),
            )
            encoded = pd.concat(parts, ignore_index=True)
            del parts
            y = encoded.pop(design.label)
        if isinstance(engine, LocalEngine):
            engine.close()  # its idle workers' memory back before the fit, the peak
        read = time.perf_counter()
        model.set_params(n_jobs=threads)
        model.fit(encoded, y)
        log.info(
            "%s fitted on %s rows: %s in %.1f s, fitted in %.1f s (%s threads)",
            family,
            f"{len(encoded):,}",
            "codes joined" if encoded_already else "read and encoded",
            read - start,
            time.perf_counter() - read,
            threads,
        )
    model.set_params(n_jobs=1)  # the service predicts a few rows at a time: one thread
    fitted = with_features(
        Pipeline([("preprocess", codes), ("model", model)]), design.feature_step()
    )
    # Stateless: fitting records the input columns (a plain record's).
    fitted.steps[0][1].fit(pd.DataFrame(columns=list(cols.features)))
    return fitted


def _fit_on_dask(
    engine: DaskEngine,
    pieces: list[tables.Slice],
    columns: list[str],
    codes: CategoryCodes,
    label: str,
    model: Any,
    path: str | Path,
) -> Any:
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    meta = encode(tables.empty_frame(path, columns), None, codes, label)
    params = model.get_params()
    params.pop("n_jobs")  # lightgbm.dask gives each worker as many threads as it has
    distributed = DaskLGBMClassifier(client=engine.client, **params)
    with exact_partitions():
        frame = dd.from_map(
            Reader(partial(read_encoded, names=columns, codes=codes, label=label)),
            pieces,
            meta=meta,
        )
        distributed.fit(frame.drop(columns=[label]), frame[label])
    return distributed.to_local()
