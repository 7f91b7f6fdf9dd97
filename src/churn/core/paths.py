"""The pipeline's file names, defined once: in ``dvc.yaml`` (``vars: - paths: ...``).

The stages get their paths as arguments from ``dvc.yaml``; code that runs outside
``dvc repro`` (the service, monitoring, retraining) reads the same definitions
here instead of repeating them, for the workspace or for any git revision.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from churn.core.errors import ConfigError
from churn.core.io import load_yaml

PIPELINE_FILE = "dvc.yaml"
#: DVC's record of the last run (its name is fixed by DVC).
LOCK_FILE = "dvc.lock"

Reader = Callable[[str], bytes | None]


def parse_paths(text: bytes | str, where: str = PIPELINE_FILE) -> dict[str, str]:
    """The ``paths`` variables of a ``dvc.yaml``'s ``vars`` list."""
    try:
        data = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    for entry in data.get("vars") or []:
        if isinstance(entry, dict) and isinstance(entry.get("paths"), dict):
            return {str(k): str(v) for k, v in entry["paths"].items()}
    raise ConfigError(f"{where} has no `vars: - paths:` block naming the pipeline's files")


def read_paths(read: Reader, where: str = "the workspace") -> dict[str, str]:
    """The pipeline's paths from ``dvc.yaml`` as ``read`` sees it (workspace or revision)."""
    text = read(PIPELINE_FILE)
    if text is None:
        raise ConfigError(f"{PIPELINE_FILE} not found in {where}")
    return parse_paths(text, f"{PIPELINE_FILE} ({where})")


def workspace_paths(root: str | Path = ".") -> dict[str, str]:
    """The pipeline's paths in the work tree at ``root``."""
    path = Path(root) / PIPELINE_FILE
    try:
        return parse_paths(path.read_bytes(), str(path))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: run from the repository root") from None
