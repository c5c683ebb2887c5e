"""The package's structure: layers as folders that import only downward, no import cycle, no
private name taken from another module, no procure import hidden inside a function.

The layer order is read from the import-linter contract in pyproject.toml (the one record of
it); `lint-imports` runs that contract, and these tests check the same rules on grimp's graph
independently, each with a planted breach that must be caught.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "procure"


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [f"procure.{name}" for name in contract["layers"]]  # top first


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("procure", exclude_type_checking_imports=True)


def _layer_of(module: str, layers: list[str]) -> int | None:
    for k, layer in enumerate(layers):
        if module == layer or module.startswith(layer + "."):
            return k
    return None


def upward_imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Imports from a layer to one above it (a smaller index in the top-first list)."""
    layers = _layers()
    out = []
    for module in sorted(graph.modules):
        here = _layer_of(module, layers)
        if here is None:
            continue
        for target in graph.find_modules_directly_imported_by(module):
            there = _layer_of(target, layers)
            if there is not None and there < here:
                out.append((module, target))
    return out


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module."""
    modules = sorted(graph.modules)
    at = {m: k for k, m in enumerate(modules)}
    edges = [(at[m], at[t]) for m in modules for t in graph.find_modules_directly_imported_by(m) if t in at]
    rows, cols = (np.array(x, dtype=int) for x in zip(*edges))
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(modules), len(modules)))
    _, label = connected_components(matrix, directed=True, connection="strong")
    groups = [[modules[k] for k in np.flatnonzero(label == g)] for g in np.unique(label)]
    return [g for g in groups if len(g) > 1]


def test_every_module_is_in_a_layer(graph: grimp.ImportGraph) -> None:
    layers = _layers()
    loose = [m for m in graph.modules if _layer_of(m, layers) is None]
    # the package itself, its command entry points and mpi-sppy's `python -m procure.mpisppy`
    assert sorted(loose) == ["procure", "procure.__main__", "procure.mpisppy"]


def test_layers_import_only_downward(graph: grimp.ImportGraph) -> None:
    assert upward_imports(graph) == []


def test_an_upward_import_is_caught() -> None:
    planted = grimp.build_graph("procure", exclude_type_checking_imports=True)
    planted.add_import(importer="procure.core.result", imported="procure.analysis.explain")
    assert ("procure.core.result", "procure.analysis.explain") in upward_imports(planted)


def test_the_import_graph_has_no_cycle(graph: grimp.ImportGraph) -> None:
    assert cycles(graph) == []


def test_a_cycle_is_caught() -> None:
    planted = grimp.build_graph("procure", exclude_type_checking_imports=True)
    planted.add_import(importer="procure.problem.evaluate", imported="procure.core.result")
    assert any({"procure.problem.evaluate", "procure.core.result"} <= set(g) for g in cycles(planted))


def _imports(path: Path) -> list[tuple[ast.ImportFrom, bool]]:
    """Every ``from … import`` of procure in a file, with whether it sits inside a function."""
    tree = ast.parse(path.read_text())
    out: list[tuple[ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and (child.level or (child.module or "").startswith("procure")):
                out.append((child, inside))
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return out


def private_imports(paths: list[Path]) -> list[str]:
    return [
        f"{path.name}:{node.lineno} {alias.name}"
        for path in paths
        for node, _ in _imports(path)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_no_module_imports_another_modules_private_names() -> None:
    assert private_imports(sorted(PACKAGE.rglob("*.py"))) == []


def test_a_private_import_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("from .core.pipeline import Pipeline, _hidden\nfrom .base import __version__\n")
    assert private_imports([planted]) == ["planted.py:1 _hidden"]


def test_no_procure_import_inside_a_function() -> None:
    """Cycles were once dodged by imports inside functions; with none left, each import is at
    the top of its module where the layers contract sees it."""
    inside = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node, hidden in _imports(path)
        if hidden
    ]
    assert inside == []


def test_import_linter_contract_is_kept() -> None:
    """import-linter (the test extra) runs the contract itself."""
    beside = Path(sys.executable).parent / "lint-imports"
    command = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert command is not None, "import-linter is not installed (pip install -e '.[test]')"
    done = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


#: Functions whose bodies are longer than a screen (issue 22 asks for none): none is left.
LONG_FUNCTIONS: set[tuple[str, str]] = set()
SCREEN = 60


def long_functions(paths: list[Path]) -> set[tuple[str, str]]:
    """(file, function) of every function whose body, docstring left out, is over `SCREEN` lines."""
    out = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.body[0]
                documented = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
                start = first.end_lineno + 1 if documented and len(node.body) > 1 else first.lineno
                if (node.end_lineno or start) - start + 1 > SCREEN:
                    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
                    out.add((where, node.name))
    return out


def test_function_bodies_fit_on_a_screen() -> None:
    found = long_functions(sorted(PACKAGE.rglob("*.py")))
    assert found - LONG_FUNCTIONS == set(), "new functions longer than a screen"
    assert LONG_FUNCTIONS - found == set(), "split already: take it off LONG_FUNCTIONS"


def test_a_long_function_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    body = "\n".join(f"    x{k} = {k}" for k in range(SCREEN + 1))
    planted.write_text(f'def long():\n    """Doc."""\n{body}\n\n\ndef short():\n    return 1\n')
    assert long_functions([planted]) == {("planted.py", "long")}


#: Heavy modules that `import procure` leaves to the functions that use them (a workbook read or
#: written, a plot, a split polished by linprog, a tree reduced): each costs the command line a
#: tenth of a second or more at every start.
LAZY = ("openpyxl", "matplotlib", "scipy.optimize", "scipy.spatial", "scipy.special", "pyomo", "dask", "mpisppy")


def test_import_procure_leaves_heavy_modules_to_their_users() -> None:
    code = "import sys, procure; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = run.stdout.split()
    early = sorted({lazy for name in loaded for lazy in LAZY if name == lazy or name.startswith(lazy + ".")})
    assert not early, f"`import procure` loads {early}"
    assert "procure.problem.table_input" in loaded  # the modules that use them are loaded: the check is live
