"""The documentation's examples run, and docs/api.md matches the docstrings.

Fenced ```python blocks of docs/guide.md and README.md run in order, one namespace per file,
in a temporary directory holding a copy of examples/; ```bash blocks run each ``procure``
command through ``procure.cli.main`` and expect exit code 0.  A block preceded by the line
``<!-- no-run -->`` is skipped (installation, dask clusters, MPI).  An ```output block holds
what the python block before it prints: the words must match, and each number within
`NUMBER_TOLERANCE` (relative) or half a unit of its last shown digit, so that what the docs
show cannot drift from what procure prints.
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
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
#: relative difference allowed between a number the docs show and the one printed
NUMBER_TOLERANCE = 1e-3


def _close(shown: str, printed: str) -> bool:
    e, a = float(shown.replace(",", "")), float(printed.replace(",", ""))
    mantissa = shown.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(shown.lower().split("e")[1]) if "e" in shown.lower() else 0
    half_digit = 0.5 * 10.0 ** (exponent - decimals)
    return abs(a - e) <= max(NUMBER_TOLERANCE * abs(e), half_digit)


def output_differs(printed: str, shown: str) -> str | None:
    """Why ``printed`` is not what the docs show (None when it is): the words between numbers
    equal (spaces collapsed), the numbers close (`_close`); ``...`` in ``shown`` stands for any
    text (a solve time, say), as in doctest."""
    printed, shown = " ".join(printed.split()), " ".join(shown.split())
    pattern, numbers = [], []
    for k, part in enumerate(shown.split("...")):
        if k:
            pattern.append(".*?")
        for j, text in enumerate(NUMBER.split(part)):
            if j:
                pattern.append(f"({NUMBER.pattern})")
            pattern.append(re.escape(text))
        numbers += NUMBER.findall(part)
    found = re.fullmatch("".join(pattern), printed, flags=re.S)
    if found is None:
        return f"prints {printed!r}, the docs show {shown!r}"
    for a, e in zip(found.groups(), numbers):
        if not _close(e, a):
            return f"prints {a} where the docs show {e}: {printed!r}"
    return None


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
    assert any(lang == "output" for _, lang, _ in found), "no printed output is checked"
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    printed: str | None = None
    for line, lang, code in found:
        where = f"{doc.name}, block at line {line}"
        if lang == "python":
            with contextlib.redirect_stdout(io.StringIO()) as out:
                try:
                    exec(compile(code, where, "exec"), namespace)
                except Exception as error:  # name the block: a traceback into exec'd text is hard to read
                    raise AssertionError(f"{where} failed: {error!r}") from error
            printed = out.getvalue()
        elif lang == "output":
            assert printed is not None, f"{where}: an output block must follow a python block"
            differs = output_differs(printed, code)
            assert differs is None, f"{where}: {differs}"
            printed = None
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


@pytest.mark.parametrize(
    ("printed", "shown", "same"),
    [
        ("cost $163.1B", "cost $163.1B", True),
        ("cost $163.14B", "cost $163.1B", True),  # within half a unit of the shown digit
        ("cost $163.3B", "cost $163.1B", False),
        ("raise the cap by 0.4954 GW", "raise the cap by 0.4953 GW", True),  # within 1e-3
        ("raise the cap by 0.4999 GW", "raise the cap by 0.4953 GW", False),
        ("-$11B per unit of power_cap_gw[2026]", "-$11B per GW: $11M per MW", False),  # words drifted
        ("VSS = 7.2992e+06", "VSS = 7.2992e+06", True),
        ("a 1,234 b", "a 1,235 b", True),
        ("a 1,234 b", "a 1,240 b", False),
        ("optimal, highs in 0.05 s", "optimal, ... s", True),  # ... stands for any text
        ("optimal, highs in 0.05 s", "feasible, ... s", False),
        ("cost $87M in 3 s", "cost $88M ... s", False),  # numbers outside ... still compared
    ],
)
def test_printed_output_is_compared_word_for_word_and_number_by_number(printed: str, shown: str, same: bool) -> None:
    assert (output_differs(printed, shown) is None) is same
