"""The model registry: annotated git tags, in the format of GTO (which the lock pulls in).

* ``<artifact>@v<major>.<minor>.<patch>`` **registers** a version: the commit whose
  ``dvc.lock`` records that model (and whose DVC remote holds its bytes);
* ``<artifact>#<stage>#<n>`` **assigns** a stage (``prod``: the model in service) to the
  version registered on the same commit; the assignment with the highest ``n`` holds.

``<artifact>`` is the model artifact of ``dvc.yaml`` (``artifacts:``, type ``model``). The
tags' messages hold the reasons and figures of each decision, so the registry explains
itself: ``git tag -n20 -l '<artifact>*'``, or ``gto show`` / ``gto history``. (GTO orders
assignments by the tags' creation times, to the second: two assignments within one second
may then be listed in either order. The counter ``n`` is unambiguous; this module uses it.)

Serve a registered version with ``python -m churn.serve --rev <artifact>@v1.1.0``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from churn.core.errors import ChurnError, ConfigError
from churn.core.paths import PIPELINE_FILE

VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


class RegistryError(ChurnError):
    """The registry cannot do what was asked (no such version, nothing in service, ...)."""


@dataclass(frozen=True)
class Version:
    name: str  # v1.2.0
    tag: str  # <artifact>@v1.2.0
    commit: str

    @property
    def key(self) -> tuple[int, int, int]:
        match = VERSION.match(self.name)
        assert match  # only matching tags are read
        return (int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True)
class Assignment:
    number: int
    tag: str
    version: Version


def _git(root: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RegistryError(f"`git {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def artifact_name(root: Path) -> str:
    """The model artifact declared in ``dvc.yaml`` (``artifacts:``, type ``model``)."""
    path = root / PIPELINE_FILE
    try:
        artifacts = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("artifacts") or {}
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: run from the repository root") from None
    models = [name for name, spec in artifacts.items() if (spec or {}).get("type") == "model"]
    if not models:
        raise ConfigError(f"{path} declares no artifact of type model (artifacts:)")
    return models[0]


class Registry:
    """The registry of one artifact in the git repository at ``root``."""

    def __init__(self, root: Path, artifact: str | None = None) -> None:
        self.root = Path(root)
        self.artifact = artifact or artifact_name(self.root)

    def _tags(self, pattern: str) -> dict[str, str]:
        """Tags matching ``pattern`` -> the commit each points at."""
        out = _git(
            self.root,
            "for-each-ref",
            "--format=%(refname:strip=2) %(*objectname) %(objectname)",
            f"refs/tags/{pattern}",
        )
        tags = {}
        for line in out.splitlines():
            name, *shas = line.split()
            tags[name] = shas[0]  # the peeled commit of an annotated tag
        return tags

    def versions(self) -> list[Version]:
        """Registered versions, oldest first."""
        found = []
        prefix = f"{self.artifact}@"
        for tag, commit in self._tags(f"{self.artifact}@v*").items():
            name = tag.removeprefix(prefix)
            if VERSION.match(name):
                found.append(Version(name, tag, commit))
        return sorted(found, key=lambda v: v.key)

    def version(self, name: str) -> Version:
        for v in self.versions():
            if name in (v.name, v.tag):
                return v
        known = ", ".join(v.name for v in self.versions()) or "none"
        raise RegistryError(f"{self.artifact} has no version {name!r} (registered: {known})")

    def assignments(self, stage: str) -> list[Assignment]:
        """The stage's assignments, oldest first."""
        by_commit = {v.commit: v for v in self.versions()}
        found = []
        for tag, commit in self._tags(f"{self.artifact}#{stage}#*").items():
            number = tag.rsplit("#", 1)[1]
            if number.isdigit() and commit in by_commit:
                found.append(Assignment(int(number), tag, by_commit[commit]))
        return sorted(found, key=lambda a: a.number)

    def in_stage(self, stage: str) -> Version | None:
        """The version the stage holds now (its newest assignment), or None."""
        assigned = self.assignments(stage)
        return assigned[-1].version if assigned else None

    def previous_in_stage(self, stage: str) -> Version | None:
        """The version the stage held before the current one took it over."""
        assigned = self.assignments(stage)
        if not assigned:
            return None
        current = assigned[-1].version
        for a in reversed(assigned):
            if a.version != current:
                return a.version
        return None

    def next_version(self) -> str:
        """v1.0.0 for the first version, then the next minor version."""
        versions = self.versions()
        if not versions:
            return "v1.0.0"
        major, minor, _ = versions[-1].key
        return f"v{major}.{minor + 1}.0"

    def register(self, commit: str, message: str) -> Version:
        """Register the model of ``commit`` as the next version (an annotated tag)."""
        for v in self.versions():
            if v.commit == commit:
                raise RegistryError(f"commit {commit[:12]} is already registered as {v.tag}")
        name = self.next_version()
        tag = f"{self.artifact}@{name}"
        _git(self.root, "tag", "-a", tag, commit, "-m", message)
        return Version(name, tag, commit)

    def assign(self, version: Version, stage: str, message: str) -> Assignment:
        """Put ``version`` in ``stage`` (an annotated tag on its commit)."""
        assigned = self.assignments(stage)
        number = assigned[-1].number + 1 if assigned else 1
        tag = f"{self.artifact}#{stage}#{number}"
        _git(self.root, "tag", "-a", tag, version.commit, "-m", message)
        return Assignment(number, tag, version)

    def message(self, tag: str) -> str:
        return _git(self.root, "tag", "-l", "--format=%(contents)", tag).strip()
