"""The layers and rules of the house, read from the source.

web -> mobility -> optimizer; the optimizer is a leaf; only mobility.planning
imports it; the worker side (mobility.bookings) and the staff side
(mobility.dispatch) do not import each other; private modules stay private; views
hold no SQL and no graph code; modules and functions stay small enough to read.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mobility", "optimizer", "web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Full dotted names of the modules a file imports (relative imports resolved)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = package[: len(package) - node.level + 1]
                base = ".".join([*prefix, base] if base else prefix)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def offenders(package: str, forbidden: str) -> list[str]:
    """Files of ``package`` importing ``forbidden`` or anything under it."""
    found = []
    for path in files(package):
        if any(n == forbidden or n.startswith(forbidden + ".") for n in imports_of(path)):
            found.append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("forbidden", ["flask", "sqlalchemy", "mobility", "web"])
def test_optimizer_does_not_import(forbidden: str) -> None:
    assert offenders("optimizer", forbidden) == []


def test_optimizer_imports_only_stdlib_numpy_ortools_and_numba() -> None:
    # numba compiles the dial-a-ride search of optimizer/lns/, and nothing else
    allowed = set(sys.stdlib_module_names) | {"numpy", "ortools", "optimizer", "__future__"}
    extra = {
        str(p.relative_to(ROOT)): {n.split(".")[0] for n in imports_of(p)} - allowed
        for p in files("optimizer")
    }
    extra = {f: n for f, n in extra.items() if n}
    assert extra and all(
        f.startswith("optimizer/lns/") and n == {"numba"} for f, n in extra.items()
    )


def test_mobility_does_not_import_flask_or_web() -> None:
    assert offenders("mobility", "flask") == [] and offenders("mobility", "web") == []


def test_only_the_planning_adapter_imports_the_optimizer() -> None:
    users = offenders("mobility", "optimizer")
    assert users and all(f.startswith("mobility/planning/") for f in users), users
    assert offenders("web", "optimizer") == []


def test_worker_side_and_staff_side_do_not_import_each_other() -> None:
    assert offenders("mobility/bookings", "mobility.dispatch") == []
    assert offenders("mobility/dispatch", "mobility.bookings") == []


def test_private_modules_are_imported_only_inside_their_package() -> None:
    leaks = []
    for package in PACKAGES:
        for path in files(package):
            here = _module_name(path)
            for name in imports_of(path):
                parts = name.split(".")
                private = [i for i, part in enumerate(parts) if part.startswith("_")]
                if not private or parts[0] not in PACKAGES or parts[-1] == "__future__":
                    continue
                owner = ".".join(parts[: private[0]])
                if not (here == owner or here.startswith(owner + ".")):
                    leaks.append(f"{here} imports {name}")
    assert leaks == []


#: Calls that are SQL or transactions: views call services instead.
_SQL_CALLS = {"select", "commit", "execute", "scalar", "scalars", "query", "flush", "add"}


def test_views_hold_no_sql_and_no_graph_code() -> None:
    found = []
    for path in files("web"):
        rel = str(path.relative_to(ROOT))
        names = imports_of(path)
        sql = sorted(n for n in names if n.startswith("sqlalchemy"))
        if rel != "web/db.py" and set(sql) - {"sqlalchemy.orm", "sqlalchemy.orm.Session"}:
            found.append(f"{rel}: imports {sql}")
        if rel != "web/graphs.py" and any(n.startswith("mobility.roads") for n in names):
            found.append(f"{rel}: imports the road graph")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in _SQL_CALLS and rel != "web/db.py":
                    found.append(f"{rel}:{node.lineno} calls {name}()")
    assert found == []


def test_modules_stay_under_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for package in PACKAGES
        for p in files(package)
        if (n := p.read_text(encoding="utf-8").count("\n")) > 500
    }
    assert long == {}


def test_functions_stay_under_80_lines() -> None:
    long = []
    for package in PACKAGES:
        for path in files(package):
            rel = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > 80:
                        long.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_the_architecture_test_sees_the_packages() -> None:
    seen = {_module_name(p) for package in PACKAGES for p in files(package)}
    assert {"mobility.planning", "mobility.roads.graph", "web.dispatch", "optimizer.solve"} <= seen
    assert "optimizer.solve" in imports_of(ROOT / "mobility" / "planning" / "__init__.py")
