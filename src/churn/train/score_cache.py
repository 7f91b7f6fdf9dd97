"""Each family's cross-validation, kept so that a change to one family rescores that family only.

With ``train.model: auto`` the train stage cross-validates every family, and in the
experiment loop one parameter changes at a time: the other families' scores are
the ones of the previous run. Each family's result (its per-fold ROC-AUC and its
out-of-fold probabilities) is kept under a key that hashes everything it is
computed from: the family's pipeline with its hyperparameters, the training rows
and labels, the number of folds and the seed, the source of the ``churn``
package, and the versions of the libraries that compute it. Every fit is seeded,
so a kept result is the result a new computation gives, to the bit
(``tests/test_score_cache.py`` checks it); the stage's outputs do not depend on
whether it was there.

The folder is ``.cache/churn/cv`` under the working directory (git-ignored, like
the other tool caches; ``make clean`` removes it), or ``$CHURN_CACHE_DIR/cv``;
``CHURN_CACHE_DIR=off`` turns the cache off. The ``MAX_ENTRIES`` most recently used
results are kept (a result is about 8 bytes per training row).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np

log = logging.getLogger("churn")

DEFAULT_DIR = Path(".cache/churn")
ENV = "CHURN_CACHE_DIR"
MAX_ENTRIES = 256
#: Libraries whose version can change a score (the fits, the folds, the arrays).
LIBRARIES = ("scikit-learn", "lightgbm", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")


def folder() -> Path | None:
    """Where results are kept, or ``None`` when ``$CHURN_CACHE_DIR`` is ``off``."""
    setting = os.environ.get(ENV, "")
    if setting.strip().lower() in {"off", "0", "false", "no"}:
        return None
    return (Path(setting) if setting else DEFAULT_DIR) / "cv"


def code_version() -> str:
    """A hash of the ``churn`` package's source and the versions of ``LIBRARIES``."""
    package = Path(__file__).resolve().parents[1]
    sources = sorted(package.rglob("*.py"))
    files = [(p.relative_to(package).as_posix(), p.read_bytes()) for p in sources]
    versions = []
    for name in LIBRARIES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, None))
    return joblib.hash((files, versions))


class ScoreCache:
    """Per-family results under keys of (pipeline, data, folds, code); see the module text."""

    def __init__(self, location: Path, data_key: str, code_key: str):
        self.location = location
        self.data_key = data_key
        self.code_key = code_key

    @classmethod
    def open(cls, X: Any, y: Any, n_splits: int, seed: int) -> ScoreCache | None:
        """The cache for these rows and folds, or ``None`` if it is turned off."""
        location = folder()
        if location is None:
            return None
        return cls(location, joblib.hash((X, y, n_splits, seed)), code_version())

    def key(self, head: Any) -> str:
        return joblib.hash((head, self.data_key, self.code_key))

    def _path(self, key: str) -> Path:
        return self.location / f"{key}.npz"

    def get(self, head: Any) -> tuple[list[float], np.ndarray] | None:
        """The family's per-fold scores and out-of-fold probabilities, if kept."""
        path = self._path(self.key(head))
        try:
            # Plain arrays, never a pickle: nothing here executes what the folder holds.
            with np.load(path, allow_pickle=False) as kept:
                scores, out_of_fold = kept["scores"], kept["out_of_fold"]
        except Exception:  # none yet, or a partial or foreign file: compute (and overwrite)
            return None
        os.utime(path)  # most recently used
        return [float(s) for s in scores], np.asarray(out_of_fold, dtype=np.float64)

    def put(self, head: Any, scores: list[float], out_of_fold: np.ndarray) -> None:
        """Keep a result; a folder that cannot be written costs speed, never the run."""
        try:
            self.location.mkdir(parents=True, exist_ok=True)
            path = self._path(self.key(head))
            # Written aside, then renamed: a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=self.location, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    scores=np.asarray(scores, dtype=np.float64),
                    out_of_fold=np.asarray(out_of_fold, dtype=np.float64),
                )
            os.replace(temporary, path)
            prune(self.location.glob("*.npz"), MAX_ENTRIES)
        except OSError as exc:
            log.warning(
                "cross-validation scores not kept in %s (%s): the next run scores every "
                "family again; set %s to a writable folder, or to off",
                self.location,
                exc.strerror or exc,
                ENV,
            )


def prune(entries: Iterable[Path], keep: int) -> None:
    """Remove all but the ``keep`` most recently used ``entries``."""
    dated = []
    for entry in entries:
        try:
            dated.append((entry.stat().st_mtime, entry))
        except FileNotFoundError:  # removed by a concurrent run
            continue
    dated.sort(reverse=True)
    for _, entry in dated[keep:]:
        entry.unlink(missing_ok=True)
