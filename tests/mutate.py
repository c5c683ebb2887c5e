"""Mutation check: plant a seeded sample of small bugs in procure and count the ones the tests catch.

A small AST mutator (no dependency beyond the test extra) enumerates every candidate mutant of
the target files deterministically, takes a seeded sample stratified over the target groups
(the plan checker `evaluate`, the formulation, the readers), and runs a fixed, fast subset of
the test suite against each mutant in a copy of the repository:

    python tests/mutate.py --seed 1 --sample 20 --report mutation.json   # what CI runs
    python tests/mutate.py --list [-v]                  # candidates per target (-v: every one, with its ID)
    python tests/mutate.py --mutant 'procure/problem/evaluate.py:_max_share:return#0'   # rerun one (repeatable)
    python tests/mutate.py --targets default,procure/analysis/explain.py --sample 30

Operators: ``cmp`` (``<``↔``<=``, ``>``↔``>=``, ``<``↔``>``, ``==``↔``!=``, ``in``↔``not in``,
``is``↔``is not``), ``arith`` (``+``↔``-``, ``*``↔``/``, also augmented), ``const`` (0↔1,
n→n+1, True↔False), ``bool`` (``and``↔``or``, numpy ``&``↔``|``), ``not`` (``not``/``~``/unary
``-`` removed), ``return`` (an early ``return []`` / ``return`` / ``return True|False`` at the top
of a function returning a list / None / bool: a checker that never reports), ``drop`` (one
element of a list or tuple literal dropped: a checker left out of ``CHECKS``), ``delete`` (a call
statement, a ``raise`` or an assignment that updates a value replaced by ``pass``: a row never
appended, a ``define_*`` never called) and ``cond`` (an ``if`` test made ``True`` or ``False``).
Docstrings, annotations, decorators, f-strings, logging, ``__all__``, type unions and the numbers of
module-level data rows (a starter's prices) are never mutated; an edit that leaves the module's tree
unchanged is left out.  A mutant's ID is ``file:function:operator#k`` (the k-th of that operator in
that function), so edits elsewhere in the file keep it.

Each mutant is written into its own copy of the repository (``procure``, ``tests``, ``docs``,
``examples``, ``benchmarks``, ``pyproject.toml``, ``README.md``) and the target's tests run there
with ``python -m pytest -x -q -p no:cacheprovider --hypothesis-seed=SEED``, ``PYTHONPATH`` set to
the copy (so subprocesses the tests start import the mutant too) and a probe plugin that refuses
to run unless ``procure`` is imported from the copy and turns off hypothesis's shrinking (a failing
example is enough).  A mutant is *caught* when a test fails, when
it times out (``--timeout``, or twice its tests' baseline time if longer; reported apart) or when
``procure`` no longer imports (reported apart; every mutant compiles, so only a runtime error at
import time gets there).  The unmutated copy runs the same test sets first (the baseline): a failing
baseline makes the score meaningless, and the script exits 2.  ``--tests`` runs other tests instead
(``--tests tests`` for the whole suite, e.g. to see whether anything catches a survivor).

The score: "caught N of M (P%)".  The exit status is 0 whatever the score, unless ``--min-score``
is given and not reached (1).  The sample depends on the seed and on the target files' text: a
change to a target changes its candidates and so may change the sample.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- targets and their tests

#: The tests each target's mutants run against: fast files and tests (about 15-40 s a subset on an idle
#: machine, pytest's start included) that exercise the target, so that a sample of 20 mutants runs in
#: about 10 minutes on 2 cores.  Four sets in all, ordered per target so the tests most likely to catch
#: its mutants run first (-x stops there); one baseline per set.  Files that do not exist (yet) are left out.
CHECK_CATCHES = "tests/test_check_catches.py"  # one test per rule: break it, check() must name it
V2_REFERENCE = "tests/test_v2_against_reference.py"  # plans pass the reference checker, optimum = reference
REFERENCE = "tests/test_against_reference.py"  # brute force, an independent PuLP model and checker
COMMERCIAL = "tests/test_commercial.py"  # tiers, take-or-pay, max_spend, sites, workloads by hand (1 s)
DISCOUNTS = "tests/test_published_discounts.py"  # published volume-discount instances (3+ tiers; 1 s)
EVALUATE_TESTS = (
    CHECK_CATCHES,
    COMMERCIAL,
    DISCOUNTS,
    "tests/test_solve.py",
    V2_REFERENCE,
    "tests/test_risk.py",
    "tests/test_requirement_tolerance.py",
    "tests/test_options.py::test_check_names_plans_that_misuse_an_option",  # options' own checks (1 s)
    "tests/test_options.py::test_check_counts_an_options_reservation_cap_in_units_of_whole_lots",
    "tests/test_build_out.py::test_unserved_demand_keeps_a_problem_without_room_feasible",
)
#: The requirement records: their checks first, then what reads their words and removals.
RULE_TESTS = (
    *EVALUATE_TESTS,
    "tests/test_rule_records.py",
    "tests/test_vendor_rules.py",
    "tests/test_rule_costs.py",
)
INPUTS_TESTS = (CHECK_CATCHES, V2_REFERENCE, COMMERCIAL, DISCOUNTS, "tests/test_solve.py", "tests/test_risk.py")
FORMULATION_TESTS = (
    COMMERCIAL,
    DISCOUNTS,
    f"{REFERENCE}::test_plans_pass_the_independent_checker",
    f"{REFERENCE}::test_tiny_instances_match_brute_force",
    V2_REFERENCE,
    "tests/test_build_out.py",
)
BUILD_TESTS = ("tests/test_build_out.py", *FORMULATION_TESTS[:-1])  # the same set, build-out tests first
RISK_TESTS = ("tests/test_risk.py", f"{REFERENCE}::test_tiny_hhi_instances_match_brute_force_within_tolerance")
_READERS = (
    "tests/test_validation.py",
    "tests/test_robustness.py",
    f"{REFERENCE}::test_invalid_input_raises_problem_error",
    "tests/test_build_out.py::test_bad_build_and_penalty_fields_are_named",
    "tests/test_hostile_inputs.py",
)
_SOLVED = f"{REFERENCE}::test_plans_pass_the_independent_checker"  # defaults read wrong show in solved plans
READER_TESTS = (*_READERS, "tests/test_tables.py", _SOLVED)
TABLES_TESTS = ("tests/test_tables.py", *_READERS, _SOLVED)  # the same set, table tests first


@dataclass(frozen=True)
class Target:
    path: str  # relative to the repository
    group: str  # the sample is stratified over groups first
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    t.path: t
    for t in (
        Target("procure/problem/evaluate.py", "evaluate", EVALUATE_TESTS),
        Target("procure/problem/rules.py", "evaluate", RULE_TESTS),
        Target("procure/model/families.py", "formulation", FORMULATION_TESTS),
        Target("procure/model/risk.py", "formulation", RISK_TESTS),
        Target("procure/model/power_build.py", "formulation", BUILD_TESTS),
        Target("procure/problem/validate.py", "readers", READER_TESTS),
        Target("procure/problem/table_input.py", "readers", TABLES_TESTS),
        Target("procure/problem/io.py", "readers", READER_TESTS),
        Target("procure/problem/inputs.py", "readers", INPUTS_TESTS),
        # not in the default set (--targets default,procure/analysis/explain.py)
        Target("procure/analysis/explain.py", "explain", ("tests/test_explain.py",)),
    )
}
DEFAULT_TARGETS = tuple(p for p, t in TARGETS.items() if t.group != "explain")
#: Tests for a file given with --targets that has no entry above.
GENERIC_TESTS = (CHECK_CATCHES, "tests/test_solve.py", "tests/test_validation.py")

#: What the copy holds (enough for every test: docs and examples are read by some).
COPIED = ("procure", "tests", "docs", "examples", "benchmarks", "pyproject.toml", "README.md")
IGNORED = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache", "*.pyc", ".benchmarks")

# --------------------------------------------------------------------------- the mutator

CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt,),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt,),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
ARITH_SWAPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
MASK_SWAPS: dict[type, type] = {ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
#: Calls never mutated nor deleted: print, and any method of these (messages, logs).
QUIET_BASES = {"logger", "log", "logging", "_log", "_logger", "LOGGER", "warnings"}
#: numpy calls whose tuple arguments are shapes or axes (dropping an element only breaks the shape).
SHAPE_CALLS = {"zeros", "ones", "full", "empty", "reshape", "broadcast_to", "tile", "transpose", "zeros_like"}
SKIP_MARKS = ("pragma: no cover", "mutate: skip")


@dataclass
class Mutant:
    id: str
    file: str
    line: int
    func: str
    op: str
    before: str
    after: str
    # the edit: replace source[start:end] (offsets into the file's text) with `text`
    start: int
    end: int
    text: str
    likely_equivalent: str = ""


@dataclass
class Outcome:
    id: str
    file: str
    line: int
    op: str
    before: str
    after: str
    status: str  # killed, timeout, import, error, survived
    caught_by: str = ""
    seconds: float = 0.0
    likely_equivalent: str = ""
    detail: str = ""

    @property
    def caught(self) -> bool:
        return self.status in ("killed", "timeout", "import", "error")


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _offsets(source: str) -> list[int]:
    """Character offset of the start of each line (1-based lines as the ast module counts them)."""
    return [0, 0] + [m.end() for m in re.finditer("\n", source)]


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _quiet(node: ast.AST) -> bool:
    """A call to print or to a logger's or the warnings module's function."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name):
        return f.id == "print"
    return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in QUIET_BASES


def _stringy(node: ast.expr) -> bool:
    """A string (an f-string, a literal, or a conditional between them): ``+`` joins text."""
    if isinstance(node, ast.IfExp):
        return _stringy(node.body) or _stringy(node.orelse)
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _type_like(node: ast.BinOp) -> bool:
    """``A | B`` of classes or None (a type union, not a mask)."""
    return any(
        (isinstance(side, ast.Name) and side.id[:1].isupper())
        or (isinstance(side, ast.Constant) and side.value is None)
        or (isinstance(side, ast.Attribute) and side.attr[:1].isupper())
        for side in (node.left, node.right)
    )


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _assigns_all(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.Assign, ast.AnnAssign)) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in getattr(stmt, "targets", [getattr(stmt, "target", None)])
    )


def _static_test(test: ast.expr) -> bool:
    """``if TYPE_CHECKING`` and version checks: nothing a test can see."""
    text = ast.unparse(test)
    return "TYPE_CHECKING" in text or "version_info" in text or isinstance(test, ast.Constant)


def _returns_kind(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    if fn.returns is None or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(fn)):
        return None
    text = ast.unparse(fn.returns).replace(" ", "")
    if text == "list" or text.startswith("list["):
        return "list"
    if text in ("None", "NoReturn"):
        return "none"
    if text == "bool":
        return "bool"
    return None


class _Enumerator:
    """Every mutant of one file, in a fixed order (a walk of the tree)."""

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.lines = source.split("\n")
        self.starts = _offsets(source)
        self.tree = ast.parse(source)
        self.found: list[Mutant] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.seen: set[tuple[int, int, str]] = set()
        self.noops = 0
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    # ---- positions and recording

    def _offset(self, line: int, col: int) -> int:
        """Offset of (line, col); ``col`` counts UTF-8 bytes, as the ast module reports it."""
        text = self.lines[line - 1]
        return self.starts[line] + len(text.encode("utf-8")[:col].decode("utf-8"))

    def _span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self._offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self._offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def _add(self, func: str, op: str, node: ast.AST, new: ast.AST | None, text: str, **kw: Any) -> None:
        """Record a mutant replacing ``node`` (or inserting, with ``kw['at']``) by ``text``."""
        line = node.lineno  # type: ignore[attr-defined]
        if any(mark in self.lines[line - 1] for mark in SKIP_MARKS):
            return
        if "at" in kw:
            start = end = kw["at"]
            before = "(start of function)"
        else:
            start, end = self._span(node)
            before = self.source[start:end]
            if new is not None and ast.dump(node) == ast.dump(new):
                self.noops += 1
                return
        key = (start, end, text)
        if key in self.seen:  # the same edit reached twice
            self.noops += 1
            return
        self.seen.add(key)
        k = self.counts[(func, op)]
        self.counts[(func, op)] += 1
        after = kw.get("after", text)
        self.found.append(
            Mutant(
                id=f"{self.path}:{func}:{op}#{k}",
                file=self.path,
                line=line,
                func=func,
                op=op,
                before=_short(before),
                after=_short(after),
                start=start,
                end=end,
                text=text,
                likely_equivalent=kw.get("equivalent", ""),
            )
        )

    def _expr(self, func: str, op: str, node: ast.expr, new: ast.expr, **kw: Any) -> None:
        self._add(func, op, node, new, f"({ast.unparse(new)})", after=ast.unparse(new), **kw)

    # ---- the walk

    def run(self) -> list[Mutant]:
        self._body(self.tree.body, "<module>")
        return self.found

    def _body(self, body: list[ast.stmt], func: str) -> None:
        for stmt in body:
            self._stmt(stmt, func)

    def _stmt(self, stmt: ast.stmt, func: str) -> None:
        if _is_docstring(stmt) or _assigns_all(stmt) or isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(stmt, func)
            return
        if isinstance(stmt, ast.ClassDef):
            inner = stmt.name if func == "<module>" else f"{func}.{stmt.name}"
            self._body(stmt.body, inner)
            return
        if isinstance(stmt, ast.If) and _static_test(stmt.test):
            return
        self._delete(stmt, func)
        if isinstance(stmt, ast.AugAssign) and type(stmt.op) in ARITH_SWAPS and not _stringy(stmt.value):
            aug = copy.deepcopy(stmt)
            aug.op = ARITH_SWAPS[type(stmt.op)]()
            self._add(func, "arith", stmt, aug, ast.unparse(aug))
        if isinstance(stmt, ast.If):
            for value in (True, False):
                self._expr(func, "cond", stmt.test, ast.Constant(value))
        # expressions of this statement (not of nested statements), then nested statements
        for name, value in ast.iter_fields(stmt):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, ast.expr):
                    self._exprs(item, func)
                elif isinstance(item, ast.stmt):
                    self._stmt(item, func)
                elif isinstance(item, ast.ExceptHandler):
                    if item.type is not None:
                        self._exprs(item.type, func)
                    self._body(item.body, func)
                elif isinstance(item, (ast.withitem, ast.match_case)):
                    for sub in ast.iter_child_nodes(item):
                        if isinstance(sub, ast.expr):
                            self._exprs(sub, func)
                    if isinstance(item, ast.match_case):
                        self._body(item.body, func)

    def _function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, outer: str) -> None:
        func = fn.name if outer == "<module>" else f"{outer}.{fn.name}"
        for default in [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]:
            self._exprs(default, func)
        body = [s for s in fn.body if not _is_docstring(s)]
        kind = _returns_kind(fn)
        if body and kind is not None:
            first = body[0]
            line_text = self.lines[first.lineno - 1]
            indent = line_text[: len(line_text) - len(line_text.lstrip())]
            if first.col_offset == len(indent.encode("utf-8")):  # the statement starts its line
                at = self.starts[first.lineno]
                returns = {"list": ["return []"], "none": ["return"], "bool": ["return True", "return False"]}[kind]
                for r in returns:
                    self._add(func, "return", first, None, f"{indent}{r}\n", at=at, after=r)
        self._body(fn.body, func)

    def _delete(self, stmt: ast.stmt, func: str) -> None:
        """A call statement, a raise, an augmented assignment or an update of a value → ``pass``."""
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            if _quiet(stmt.value):
                return
        elif isinstance(stmt, (ast.Raise, ast.AugAssign)):
            pass
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):  # only a rebinding: `x = f(x)` (else a NameError at once)
                if not any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(stmt.value)):
                    return
            elif not isinstance(target, (ast.Subscript, ast.Attribute)):
                return
        else:
            return
        self._add(func, "delete", stmt, None, "pass")

    def _exprs(self, root: ast.expr, func: str) -> None:
        """Mutants of every node of an expression tree (f-strings and quiet calls left alone)."""
        stack = [root]
        while stack:
            node = stack.pop(0)
            if isinstance(node, ast.JoinedStr):
                continue
            if _quiet(node):
                continue
            if isinstance(node, (ast.Lambda,)):
                stack.append(node.body)
                continue
            self._node(node, func)
            stack.extend(ast.iter_child_nodes(node))  # type: ignore[arg-type]

    def _node(self, node: ast.AST, func: str) -> None:
        if isinstance(node, ast.Compare):
            for pos, op in enumerate(node.ops):
                for swap in CMP_SWAPS.get(type(op), ()):
                    new = copy.deepcopy(node)
                    new.ops[pos] = swap()
                    self._expr(func, "cmp", node, new)
        elif isinstance(node, ast.BinOp):
            swaps = ARITH_SWAPS if not (_stringy(node.left) or _stringy(node.right)) else {}
            if type(node.op) in swaps:
                swapped = copy.deepcopy(node)
                swapped.op = swaps[type(node.op)]()
                equivalent = ""
                if isinstance(node.right, ast.Constant) and (
                    (node.right.value == 0 and isinstance(node.op, (ast.Add, ast.Sub)))
                    or (node.right.value == 1 and isinstance(node.op, (ast.Mult, ast.Div)))
                ):
                    equivalent = "an identity operand"
                self._expr(func, "arith", node, swapped, equivalent=equivalent)
            if type(node.op) in MASK_SWAPS and not (func == "<module>" or _type_like(node)):
                masked = copy.deepcopy(node)
                masked.op = MASK_SWAPS[type(node.op)]()
                self._expr(func, "bool", node, masked)
        elif isinstance(node, ast.BoolOp):
            logic = copy.deepcopy(node)
            logic.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self._expr(func, "bool", node, logic)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert, ast.USub)):
            if not (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)):
                self._expr(func, "not", node, copy.deepcopy(node.operand))
        elif isinstance(node, ast.Constant):
            self._const(node, func)
        elif isinstance(node, (ast.List, ast.Tuple)) and isinstance(node.ctx, ast.Load) and len(node.elts) >= 2:
            self._drop(node, func)

    def _const(self, node: ast.Constant, func: str) -> None:
        v = node.value
        if isinstance(v, bool):
            new_value: Any = not v
        elif isinstance(v, int):
            new_value = {0: 1, 1: 0}.get(v, v + 1)
        elif isinstance(v, float):
            new_value = {0.0: 1.0, 1.0: 0.0}.get(v, v + 1.0)
            if new_value == v or not (abs(new_value) < float("inf")):
                return
        else:
            return
        parent = self.parents.get(node)
        if isinstance(parent, ast.keyword) and parent.arg == "stacklevel":
            return
        if func == "<module>" and isinstance(parent, (ast.List, ast.Tuple)) and len(parent.elts) >= 3:
            if all(isinstance(e, ast.Constant) for e in parent.elts):
                return  # a row of a module-level data table (a starter's prices): data, not logic
        self._expr(func, "const", node, ast.Constant(new_value))

    def _drop(self, node: ast.List | ast.Tuple, func: str) -> None:
        parent = self.parents.get(node)
        if isinstance(parent, ast.Subscript) and parent.slice is node:
            return  # an index
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set)):
            return  # a row of a table that is unpacked: dropping an element only breaks the unpacking
        if isinstance(parent, (ast.Return, ast.Assign, ast.AnnAssign)) and isinstance(node, ast.Tuple):
            if isinstance(parent, ast.Return) or any(isinstance(t, ast.Tuple) for t in getattr(parent, "targets", [])):
                return  # a tuple of results (the caller unpacks it)
        if isinstance(parent, ast.Call) and _call_name(parent) in SHAPE_CALLS:
            return
        if isinstance(parent, ast.keyword) and parent.arg in ("axis", "shape", "axes"):
            return
        names_only = isinstance(parent, ast.Call) and _call_name(parent) == "Index" and parent.args[1:2] == [node]
        for pos in range(len(node.elts)):
            new = copy.deepcopy(node)
            del new.elts[pos]
            text = ast.unparse(new)
            if isinstance(node, ast.Tuple) and len(new.elts) == 1 and not text.startswith("("):
                text = f"({text})"
            self._add(
                func,
                "drop",
                node,
                new,
                f"({text})",
                after=f"drop {_short(ast.unparse(node.elts[pos]), 40)}",
                equivalent="an Index's labels (names of rows or columns only)" if names_only else "",
            )


def enumerate_mutants(path: str, root: Path = ROOT) -> tuple[list[Mutant], int]:
    """Every candidate mutant of ``path`` (relative to ``root``) and the number of no-op edits skipped."""
    source = (root / path).read_text(encoding="utf-8")
    enum = _Enumerator(path, source)
    return enum.run(), enum.noops


def mutated_source(m: Mutant, root: Path = ROOT) -> str:
    source = (root / m.file).read_text(encoding="utf-8")
    return source[: m.start] + m.text + source[m.end :]


def check_mutant(m: Mutant, root: Path = ROOT) -> str:
    """'' when the mutant compiles and changes the module's tree, else why not."""
    source = (root / m.file).read_text(encoding="utf-8")
    new = mutated_source(m, root)
    try:
        tree = ast.parse(new)
        compile(new, m.file, "exec")
    except SyntaxError as exc:
        return f"does not compile: {exc.msg}"
    if ast.dump(tree) == ast.dump(ast.parse(source)):
        return "no-op"
    return ""


# --------------------------------------------------------------------------- sampling


def _largest_remainder(total: int, weights: dict[str, float], caps: dict[str, int], floor: int = 0) -> dict[str, int]:
    """``total`` split over keys in proportion to ``weights``, at least ``floor`` each and at most ``caps``."""
    keys = sorted(weights)
    out = {k: min(floor, caps[k]) for k in keys}
    left = total - sum(out.values())
    while left > 0:
        open_ = [k for k in keys if out[k] < caps[k]]
        if not open_:
            break
        w = sum(weights[k] for k in open_) or 1.0
        share = {k: left * weights[k] / w for k in open_}
        add = {k: min(int(share[k]), caps[k] - out[k]) for k in open_}
        if sum(add.values()) == 0:  # hand out one at a time, largest remainder first (ties: name order)
            k = max(open_, key=lambda k: (share[k] - int(share[k]), weights[k]))
            add = {k: 1}
        for k, n in add.items():
            out[k] += n
        left -= sum(add.values())
    return out


def sample(candidates: dict[str, list[Mutant]], n: int, seed: int, root: Path = ROOT) -> list[Mutant]:
    """``n`` mutants: split equally over the target groups, then over each group's files in proportion
    to their candidates (at least one each), then drawn at random (seeded) from each file, skipping
    any that does not compile or changes nothing."""
    groups: dict[str, list[str]] = {}
    for path in candidates:
        groups.setdefault(TARGETS[path].group if path in TARGETS else path, []).append(path)
    sizes = {g: sum(len(candidates[p]) for p in files) for g, files in groups.items()}
    per_group = _largest_remainder(n, {g: 1.0 for g in groups}, sizes)
    chosen: list[Mutant] = []
    for g, files in sorted(groups.items()):
        k = per_group[g]
        floor = 1 if k >= len(files) else 0
        per_file = _largest_remainder(
            k, {p: float(len(candidates[p])) for p in files}, {p: len(candidates[p]) for p in files}, floor
        )
        for path in sorted(files):
            pool = list(candidates[path])
            random.Random(f"{seed}:{path}").shuffle(pool)
            taken = 0
            for m in pool:
                if taken == per_file[path]:
                    break
                if check_mutant(m, root):
                    continue
                chosen.append(m)
                taken += 1
    return chosen


# --------------------------------------------------------------------------- running

PROBE = '''\
"""Loaded by tests/mutate.py with -p: refuse to run unless procure comes from this copy."""
import os
import sys

root = os.path.realpath(os.environ["MUTATE_COPY"])
try:
    import procure
except BaseException as exc:
    with open(os.path.join(root, "mutate-import-error.txt"), "w") as f:
        f.write(f"{type(exc).__name__}: {exc}")
    raise
where = os.path.realpath(procure.__file__)
if not where.startswith(root + os.sep):
    sys.exit(f"mutate_probe: procure imported from {where}, not from the copy {root}")


def pytest_sessionstart(session):
    """After conftest's hypothesis profile, before the test modules: no shrinking (a failing example
    is enough to catch a mutant, and shrinking one can take minutes)."""
    from hypothesis import Phase, settings

    phases = [p for p in settings.default.phases if p not in (Phase.shrink, Phase.explain)]
    settings.register_profile("mutate", parent=settings.default, phases=phases)
    settings.load_profile("mutate")
'''


class Runner:
    def __init__(self, work: Path, seed: int, verbose: bool) -> None:
        self.work = work
        self.seed = seed
        self.verbose = verbose
        self.base = work / "base"
        self.lock = threading.Lock()
        self.count = 0
        self.procs: set[subprocess.Popen[bytes]] = set()
        self.stopped = False

    def snapshot(self) -> None:
        """One copy of the repository as it is now: every run copies this, not the live tree."""
        self.base.mkdir(parents=True)
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, self.base / name, ignore=IGNORED)
            elif src.exists():
                shutil.copy2(src, self.base / name)
        (self.base / "mutate_probe.py").write_text(PROBE, encoding="utf-8")

    def _copy(self, name: str) -> Path:
        dest = self.work / name
        shutil.copytree(self.base, dest, symlinks=True)
        return dest

    def run_tests(self, where: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, str, float, str]:
        """(status, first failing test, seconds, output tail) of the tests in the copy ``where``."""
        xml = where / "mutate-junit.xml"
        present = [t for t in tests if (where / t.split("::")[0]).exists()]
        if not present:  # pytest would run its testpaths: the whole suite
            raise RuntimeError(f"none of the tests exists: {', '.join(tests)}")
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-n",
            "0",  # one process: the probe plugin reads the run it is loaded in
            "-p",
            "no:cacheprovider",
            "-p",
            "mutate_probe",
            f"--hypothesis-seed={self.seed}",
            f"--junitxml={xml}",
            *present,
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(where) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["MUTATE_COPY"] = str(where)
        env["PYTHONHASHSEED"] = "0"
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=where, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        with self.lock:
            self.procs.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
            status = "survived" if proc.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            _kill(proc)
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # a process of its own session still holds the pipe
                out = b""
            status = "timeout"
        finally:
            with self.lock:
                self.procs.discard(proc)
        seconds = time.monotonic() - start
        text = out.decode("utf-8", "replace")
        tail = "\n".join(text.strip().splitlines()[-15:])
        if "mutate_probe: procure imported from" in text:
            raise RuntimeError(f"the tests did not import the copy's procure:\n{tail}")
        if status == "failed" and (where / "mutate-import-error.txt").exists():
            return "import", (where / "mutate-import-error.txt").read_text(encoding="utf-8"), seconds, tail
        if status == "failed":
            first = _first_failure(xml)
            return ("killed" if first else "error"), first or f"pytest exit {proc.returncode}", seconds, tail
        return status, "", seconds, tail

    def mutant(self, index: int, m: Mutant, tests: tuple[str, ...], timeout: float, total: int) -> Outcome:
        if self.stopped:
            raise KeyboardInterrupt
        where = self._copy(f"mutant-{index}")
        try:
            (where / m.file).write_text(mutated_source(m, self.base), encoding="utf-8")
            status, by, seconds, tail = self.run_tests(where, tests, timeout)
        finally:
            shutil.rmtree(where, ignore_errors=True)
        o = Outcome(m.id, m.file, m.line, m.op, m.before, m.after, status, by, round(seconds, 1), m.likely_equivalent)
        if status == "error":
            o.detail = tail
        with self.lock:
            self.count += 1
            print(f"[{self.count}/{total}] {_status_text(o)}  {m.id}  ({seconds:.0f} s)", flush=True)
            if self.verbose and status in ("error", "import"):
                print(tail, flush=True)
        return o

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            for proc in list(self.procs):
                _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """The test run and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _first_failure(xml: Path) -> str:
    """The first failing or erroring test in a junit report ('' when none is recorded)."""
    try:
        root = ET.parse(xml).getroot()
    except (OSError, ET.ParseError):
        return ""
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            cls = case.get("classname", "")
            module = cls.replace(".", "/") + ".py" if cls else case.get("file", "")
            return f"{module}::{case.get('name', '')}"
    return ""


def _status_text(o: Outcome) -> str:
    return {
        "killed": "caught",
        "timeout": "caught (timeout)",
        "import": "caught (import)",
        "error": "caught (error)",
        "survived": "SURVIVED",
    }.get(o.status, o.status)


def tests_of(path: str) -> tuple[str, ...]:
    return TARGETS[path].tests if path in TARGETS else GENERIC_TESTS


# --------------------------------------------------------------------------- the command


def _targets(spec: str) -> list[str]:
    out: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        names = DEFAULT_TARGETS if item == "default" else (item,)
        for name in names:
            if not (ROOT / name).is_file():
                raise SystemExit(f"mutate: no such target file {name}")
            if name not in out:
                out.append(name)
    return out


def _table(outcomes: list[Outcome]) -> Iterator[str]:
    yield f"{'where':<34} {'op':<7} {'before → after':<62} result"
    for o in outcomes:
        change = _short(f"{o.before} → {o.after}", 62)
        result = _status_text(o) + (f" by {o.caught_by}" if o.status == "killed" else "")
        if o.likely_equivalent:
            result += f" [maybe equivalent: {o.likely_equivalent}]"
        yield f"{o.file + ':' + str(o.line):<34} {o.op:<7} {change:<62} {result}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1, help="sample and hypothesis seed (default 1)")
    parser.add_argument("--sample", type=int, default=20, help="mutants to run (default 20)")
    parser.add_argument(
        "--targets", default="default", help="comma-separated files; 'default' = " + ", ".join(DEFAULT_TARGETS)
    )
    parser.add_argument("--list", action="store_true", help="print the candidates per target and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="with --list: every candidate")
    parser.add_argument("--mutant", action="append", default=[], help="run this mutant ID (repeatable)")
    parser.add_argument(
        "--tests",
        help="comma-separated test files or ids to run instead of each target's subset (e.g. 'tests' for all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant (default 120)")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--min-score", type=float, help="exit 1 when the share caught (percent) is below this")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the unmutated copy")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    started = time.monotonic()
    override = tuple(t.strip() for t in (args.tests or "").split(",") if t.strip())

    def suite(path: str) -> tuple[str, ...]:
        return override or tests_of(path)

    targets = _targets(args.targets)
    if args.mutant:
        extra = {m.split(":")[0] for m in args.mutant if m.split(":")[0] not in targets}
        targets += sorted(e for e in extra if (ROOT / e).is_file())
    runner: Runner | None = None
    source = ROOT
    if not args.list:  # mutants are cut from the snapshot the tests run in (the live tree may change meanwhile)
        runner = Runner(Path(tempfile.mkdtemp(prefix="procure-mutate-")), args.seed, args.verbose)
        runner.snapshot()
        source = runner.base
    try:
        return _main(args, targets, source, runner, suite, started)
    finally:
        if runner is not None:
            runner.stop()
            if not args.keep:
                shutil.rmtree(runner.work, ignore_errors=True)


def _main(
    args: argparse.Namespace,
    targets: list[str],
    source: Path,
    runner: Runner | None,
    suite: Callable[[str], tuple[str, ...]],
    started: float,
) -> int:
    candidates: dict[str, list[Mutant]] = {}
    noops = 0
    for path in targets:
        found, skipped = enumerate_mutants(path, source)
        candidates[path] = found
        noops += skipped

    total = sum(len(v) for v in candidates.values())
    if args.list:
        for path, found in candidates.items():
            ops = Counter(m.op for m in found)
            group = TARGETS[path].group if path in TARGETS else "other"
            detail = ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
            print(f"{path:<30} {group:<12} {len(found):>5}  ({detail})")
            if args.verbose:
                for m in found:
                    flag = f"  [maybe equivalent: {m.likely_equivalent}]" if m.likely_equivalent else ""
                    print(f"    {m.id}  L{m.line}  {m.before} → {m.after}{flag}")
        flagged = sum(bool(m.likely_equivalent) for found in candidates.values() for m in found)
        print(
            f"{'total':<43} {total:>5}  ({noops} no-op or duplicate edits left out, {flagged} flagged maybe equivalent)"
        )
        return 0

    if args.mutant:
        by_id = {m.id: m for found in candidates.values() for m in found}
        missing = [i for i in args.mutant if i not in by_id]
        if missing:
            raise SystemExit(f"mutate: no mutant {', '.join(missing)} (see --list -v)")
        chosen = [by_id[i] for i in args.mutant]
        for m in chosen:
            why = check_mutant(m, source)
            if why:
                raise SystemExit(f"mutate: {m.id} {why}")
    else:
        chosen = sample(candidates, args.sample, args.seed, source)
    print(
        f"mutate: {total} candidate mutants in {len(targets)} files ({noops} no-op or duplicate edits left out); "
        f"running {len(chosen)} (seed {args.seed}), {args.jobs} at a time",
        flush=True,
    )

    assert runner is not None
    report: dict[str, Any] = {
        "seed": args.seed,
        "sample": len(chosen),
        "targets": {p: {"candidates": len(candidates[p]), "tests": list(suite(p))} for p in targets},
        "noop_edits_left_out": noops,
    }
    try:
        # one baseline per set of tests (targets may list the same tests in another order)
        limits: dict[frozenset[str], float] = {}
        took: dict[frozenset[str], float] = {}
        suites: dict[frozenset[str], tuple[str, ...]] = {}
        for m in chosen:
            suites.setdefault(frozenset(suite(m.file)), suite(m.file))
        if not args.no_baseline:
            pool = ThreadPoolExecutor(max_workers=max(args.jobs, 1))
            try:
                results = list(pool.map(lambda t: (t, _baseline(runner, t, args.timeout)), suites.values()))
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
            report["baseline"] = []
            for tests, (status, by, seconds, tail) in results:
                report["baseline"].append(
                    {"tests": list(tests), "passed": status == "survived", "seconds": round(seconds, 1)}
                )
                print(
                    f"baseline: {'passes' if status == 'survived' else 'FAILS'} in {seconds:.0f} s: {' '.join(tests)}",
                    flush=True,
                )
                if status != "survived":
                    print(f"mutate: the unmutated code fails its tests ({by}):\n{tail}", file=sys.stderr)
                    _write(args.report, report)
                    return 2
                limits[frozenset(tests)] = max(args.timeout, 2 * seconds)
                took[frozenset(tests)] = seconds
        # the slowest sets first (their baseline's time), so that the two workers finish together
        order = sorted(range(len(chosen)), key=lambda k: -took.get(frozenset(suite(chosen[k].file)), 0.0))
        pool = ThreadPoolExecutor(max_workers=max(args.jobs, 1))
        try:
            futures = {
                k: pool.submit(
                    runner.mutant,
                    k,
                    chosen[k],
                    suite(chosen[k].file),
                    limits.get(frozenset(suite(chosen[k].file)), args.timeout),
                    len(chosen),
                )
                for k in order
            }
            outcomes = [futures[k].result() for k in range(len(chosen))]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    except KeyboardInterrupt:
        runner.stop()
        print("mutate: interrupted", file=sys.stderr)
        return 130

    caught = sum(o.caught for o in outcomes)
    n = len(outcomes)
    share = 100.0 * caught / n if n else 100.0
    kinds = Counter(o.status for o in outcomes)
    wall = time.monotonic() - started
    print()
    for line in _table(outcomes):
        print(line)
    print()
    survivors = [o for o in outcomes if not o.caught]
    maybe = [o for o in outcomes if o.likely_equivalent]
    print(
        f"caught {caught} of {n} ({share:.0f}%): {kinds['killed']} by a failing test, {kinds['timeout']} timed out, "
        f"{kinds['import']} broke the import, {kinds['error']} other errors; {len(survivors)} survived; "
        f"{len(maybe)} flagged as maybe equivalent (a survivor may still be equivalent: read it)"
    )
    print(f"wall time {wall:.0f} s")
    report.update(
        {
            "caught": caught,
            "total": n,
            "score_percent": round(share, 1),
            "by_status": dict(kinds),
            "wall_seconds": round(wall, 1),
            "mutants": [asdict(o) for o in outcomes],
            "survivors": [o.id for o in survivors],
        }
    )
    _write(args.report, report)
    if args.min_score is not None and share < args.min_score:
        print(f"mutate: score {share:.0f}% below --min-score {args.min_score:g}%", file=sys.stderr)
        return 1
    return 0


def _baseline(runner: Runner, tests: tuple[str, ...], timeout: float) -> tuple[str, str, float, str]:
    where = runner._copy(f"baseline-{abs(hash(tests))}")
    try:
        return runner.run_tests(where, tests, max(timeout, 600.0))
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _write(path: Path | None, report: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
