"""The package's shape: no import cycles, and no stage whose dvc.yaml deps miss its code.

DVC reruns a stage only when one of its declared deps changed. A module that a stage
imports but does not declare would let an edit there go unnoticed: the outputs would
no longer be reproducible from the recorded deps. So every stage's import closure
(its entry module, everything it imports from the package, transitively, and the
package ``__init__`` files Python runs on the way) must be covered by its deps.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.support.sandbox import REPO_ROOT

SRC = REPO_ROOT / "src"
PACKAGE = SRC / "churn"


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


FILES = module_files()


@cache
def imports(name: str) -> frozenset[str]:
    """The package modules that module ``name`` imports (anywhere in it, lazily too)."""
    path = FILES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target and target not in FILES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return frozenset(found)


def with_parents(name: str) -> set[str]:
    """``name`` and the packages Python imports first (``churn``, ``churn.core``, ...)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        for module in with_parents(name):
            if module not in seen:
                seen.add(module)
                todo.extend(imports(module))
    return seen


def entry_module(cmd: str) -> str:
    """The module a stage runs: ``python -m churn.x`` runs ``churn.x`` (a package's __main__)."""
    match = re.search(r"python -m (churn[\w.]*)", cmd)
    assert match, f"stage command {cmd!r} does not run `python -m churn...`"
    name = match.group(1)
    return f"{name}.__main__" if f"{name}.__main__" in FILES else name


def stages() -> dict[str, dict]:
    pipeline = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    return {name: stage.get("do", stage) for name, stage in pipeline["stages"].items()}


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_module_of_the_package_imports_in_a_circle():
    assert cycles({name: imports(name) for name in FILES}) == []


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_base_imports_nothing_from_the_steps():
    for name in FILES:
        if name.startswith("churn.core."):
            above = {m for m in imports(name) if not m.startswith("churn.core")}
            assert above == set(), f"{name} imports {sorted(above)}"


def test_package_init_files_define_nothing():
    # Importing any module runs its packages' __init__ files: they stay docstrings, so a
    # stage's deps need not list them (the root's, which every stage lists, pins BLAS).
    for name, path in FILES.items():
        if path.name == "__init__.py" and name != "churn":
            body = ast.parse(path.read_text(encoding="utf-8")).body
            assert len(body) == 1 and isinstance(body[0], ast.Expr), f"{path} holds code"


@pytest.mark.parametrize("stage", sorted(stages()))
def test_stage_deps_cover_every_module_its_command_imports(stage):
    spec = stages()[stage]
    deps = [str(d) for d in spec.get("deps", []) if not str(d).startswith("${")]
    missing = []
    for module in sorted(closure(entry_module(spec["cmd"]))):
        path = FILES[module].relative_to(REPO_ROOT).as_posix()
        if path == "src/churn/__init__.py" or FILES[module].name != "__init__.py":
            covered = any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)
            if not covered:
                missing.append(path)
    assert missing == [], f"stage {stage}: dvc.yaml deps miss {missing}"


def test_the_closure_reaches_modules_imported_indirectly():
    # train -> churn.train.fit -> churn.train.pipeline -> churn.features: two hops away.
    reached = closure(entry_module("python -m churn.train"))
    assert {"churn.train.fit", "churn.train.pipeline", "churn.features"} <= reached
    assert "churn.validate.suite" not in reached
