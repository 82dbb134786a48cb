"""Layers: web -> mobility -> optimizer, and the optimizer is a leaf."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    """Top-level module names imported by each file of a package."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("forbidden", ["flask", "sqlalchemy", "mobility", "web"])
def test_optimizer_does_not_import(forbidden: str) -> None:
    offenders = [f for f, names in imported_modules("optimizer").items() if forbidden in names]
    assert offenders == []


def test_optimizer_imports_only_stdlib_numpy_ortools_and_numba() -> None:
    import sys

    # numba compiles the dial-a-ride search of optimizer/lns.py, and only that file
    allowed = set(sys.stdlib_module_names) | {"numpy", "ortools", "optimizer", "__future__"}
    extra = {f: names - allowed for f, names in imported_modules("optimizer").items()}
    assert {f: n for f, n in extra.items() if n} == {"optimizer/lns.py": {"numba"}}


def test_mobility_does_not_import_flask_or_web() -> None:
    offenders = [f for f, names in imported_modules("mobility").items() if names & {"flask", "web"}]
    assert offenders == []


def test_the_architecture_test_sees_the_packages() -> None:
    assert any(f.endswith("roadgraph.py") for f in imported_modules("mobility"))
