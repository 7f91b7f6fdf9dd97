"""A throwaway copy of this repository, for end-to-end tests and benchmarks.

The copy holds the files git tracks (plus uncommitted edits to them), in a
fresh git repository with one commit, and uses the same Python environment,
so the real ``dvc`` CLI runs there exactly as a user's clone would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The repository this checkout of the tests belongs to (tests are never installed).
REPO_ROOT = Path(__file__).resolve().parents[2]


def _tracked_files(root: Path) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    return [Path(p) for p in out.decode().split("\0") if p]


def environment() -> dict[str, str]:
    """This process's environment with the virtual environment's bin folder first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("GIT_AUTHOR_NAME", "churn-tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "churn-tests@localhost")
    env.setdefault("GIT_COMMITTER_NAME", "churn-tests")
    env.setdefault("GIT_COMMITTER_EMAIL", "churn-tests@localhost")
    env["DVC_NO_ANALYTICS"] = "1"
    # Each copy keeps its cross-validation scores in its own .cache (as a clone would).
    env.pop("CHURN_CACHE_DIR", None)
    return env


@dataclass
class Sandbox:
    path: Path

    def run(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        """Run a command in the copy; output is captured as text."""
        result = subprocess.run(
            list(args),
            cwd=self.path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("dvc", *args, check=check)

    def make(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``make`` in the copy with this Python environment (never building one).

        The copy has no ``.venv``: plain ``make`` would install a whole environment
        there first (minutes, and the network).
        """
        env = Path(sys.prefix)
        stamp = str(env / ".installed")
        return self.run(
            "make", "-o", stamp, f"BIN={env / 'bin'}", f"STAMP={stamp}", *args, check=check
        )

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "--allow-empty", "-m", message)


def create(destination: Path, root: Path = REPO_ROOT, rev: str | None = None) -> Sandbox:
    """Copy the repository's tracked files into ``destination`` and commit them.

    With ``rev`` (a commit, branch or tag), the files of that revision instead of the
    work tree's (benchmarks compare a revision with the work tree this way).
    """
    destination.mkdir(parents=True, exist_ok=True)
    if rev is not None:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev], cwd=root, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    else:
        for rel in _tracked_files(root):
            src = root / rel
            if not src.is_file():
                continue  # deleted in the work tree
            dst = destination / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    box = Sandbox(destination)
    box.run("git", "init", "-q", "-b", "main")
    box.commit("sandbox copy")
    return box


def copy(source: Sandbox, destination: Path) -> Sandbox:
    """A copy of ``source`` (work tree, git history, DVC cache) at ``destination``.

    DVC's per-folder state (``.dvc/tmp``: file-hash database, locks, experiment
    queue) is left out; the copy rebuilds it. Copying a sandbox where the pipeline
    ran takes a fraction of a second, running the pipeline again many seconds.
    """
    top = source.path / ".dvc"

    def ignore(folder: str, names: list[str]) -> list[str]:
        return ["tmp"] if Path(folder) == top else []

    shutil.copytree(source.path, destination, symlinks=True, ignore=ignore)
    return Sandbox(destination)
