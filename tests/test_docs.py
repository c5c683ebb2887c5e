"""The documentation's examples run, and docs/api.md matches the docstrings.

Fenced ```python blocks of docs/guide.md and README.md run in order, one namespace per file,
in a temporary directory holding a copy of examples/; ```bash blocks run each ``procure``
command through ``procure.cli.main`` and expect exit code 0.  A block preceded by the line
``<!-- no-run -->`` is skipped (installation, dask clusters, MPI).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

import procure
from procure.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "guide.md", ROOT / "README.md"]
NO_RUN = "<!-- no-run -->"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line, language, code) of each block to run, in order."""
    text = path.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.strip() == NO_RUN:
            continue
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)))
    return found


def commands(code: str) -> list[list[str]]:
    """The ``procure`` commands of a bash block (``&&`` chains split, comments dropped)."""
    out = []
    for line in code.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            argv = shlex.split(part)
            assert argv[0] == "procure", f"not a procure command (mark the block {NO_RUN}): {part}"
            out.append(argv[1:])
    return out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_examples_in_docs_run(doc: Path, workdir: Path) -> None:
    found = blocks(doc)
    assert any(lang == "python" for _, lang, _ in found)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for line, lang, code in found:
        where = f"{doc.name}, block at line {line}"
        if lang == "python":
            try:
                exec(compile(code, where, "exec"), namespace)
            except Exception as error:  # name the block: a traceback into exec'd text is hard to read
                raise AssertionError(f"{where} failed: {error!r}") from error
        elif lang == "bash":
            for argv in commands(code):
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                    code_ = main(argv)
                assert code_ == 0, f"{where}: procure {shlex.join(argv)} exited {code_}: {err.getvalue()}"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_readme_keeps_the_newcomer_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && python examples/gigawatt_2026.py" in readme
    assert "bash .ci/setup && python -m pytest -q" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash .ci/setup" in ci and "python -m pytest -q" in ci  # CI runs README's command


def _gen_api() -> Any:
    spec = importlib.util.spec_from_file_location("gen_api", ROOT / "docs" / "gen_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_page_is_up_to_date() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert text == _gen_api().generate(), "docs/api.md is out of date: run python docs/gen_api.py"


def _takes_arguments(obj: Any) -> bool:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    return any(p.name != "self" for p in sig.parameters.values())


@pytest.mark.parametrize("name", procure.__all__)
def test_public_callables_document_their_arguments(name: str) -> None:
    obj = getattr(procure, name)
    target = type(obj).__call__ if name == "sample" else obj  # procure.sample is an object you call
    doc = inspect.getdoc(target) or ""
    assert doc, f"procure.{name} has no docstring"
    if _takes_arguments(target):
        # classes describe their fields as Parameters (built by you) or Attributes (built by procure)
        sections = ("Parameters", "Returns", "Attributes") if inspect.isclass(obj) else ("Parameters", "Returns")
        assert any(re.search(rf"^{s}\n-+$", doc, re.M) for s in sections), (
            f"procure.{name}: its docstring has no {' or '.join(sections)} section"
        )
