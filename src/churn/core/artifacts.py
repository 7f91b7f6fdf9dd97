"""Model artifacts: load a pickled model only when its bytes are the ones DVC recorded.

A joblib/pickle file can run arbitrary code when loaded, so a model file is
loaded only after its md5 matches the hash that ``dvc.lock`` (in git) records
for it. A tampered or stale file is refused with a message saying what to do.
joblib is kept (rather than skops) because its files are byte-reproducible.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import joblib

from churn.core.errors import ArtifactError
from churn.core.io import load_yaml

LOCK_FILE = Path("dvc.lock")

__all__ = [
    "ArtifactError",
    "file_md5",
    "load_model",
    "load_model_with_md5",
    "recorded_md5",
    "verify",
]


def file_md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_md5(path: str | Path, lock: str | Path = LOCK_FILE) -> str:
    """The md5 that ``dvc.lock`` records for the output ``path`` (relative to the lock's folder)."""
    lock = Path(lock)
    try:
        stages = load_yaml(lock.read_text(encoding="utf-8"))["stages"]
    except FileNotFoundError:
        raise ArtifactError(f"{lock} not found: run `dvc repro` to train a model") from None
    rel = Path(path)
    if rel.is_absolute():
        rel = rel.relative_to(lock.resolve().parent)
    for stage in stages.values():
        for out in stage.get("outs", []):
            if Path(out["path"]) == rel:
                return out["md5"]
    raise ArtifactError(f"{rel} is not an output of any stage in {lock}")


def verify(path: str | Path, lock: str | Path = LOCK_FILE) -> str:
    """Check ``path`` against ``dvc.lock``; return its md5."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path} not found: run `dvc repro` (or `dvc pull`) first")
    expected = recorded_md5(path, lock)
    actual = file_md5(path)
    if actual != expected:
        raise ArtifactError(
            f"{path} does not match {lock}: its md5 is {actual}, dvc.lock records {expected}. "
            "Refusing to load it (a pickled model runs code when loaded).\n"
            "  what to do: `dvc checkout` restores the recorded model, `dvc repro` retrains it"
        )
    return actual


def load_model(path: str | Path, lock: str | Path = LOCK_FILE) -> Any:
    """Load a model after verifying its bytes against ``dvc.lock``."""
    verify(path, lock)
    return joblib.load(path)


def load_model_with_md5(path: str | Path, md5: str, recorded_in: str) -> Any:
    """Load a model after verifying its bytes against ``md5``, recorded in ``recorded_in``.

    For a model that is not the workspace's (e.g. the champion copied beside a challenger),
    whose md5 was read from its own commit's ``dvc.lock``.
    """
    actual = file_md5(path)
    if actual != md5:
        raise ArtifactError(
            f"{path} has md5 {actual}, {recorded_in} records {md5}. Refusing to load it "
            "(a pickled model runs code when loaded)."
        )
    return joblib.load(path)
