"""A long-lived process that solves problems for `test_robustness.py`'s fuzz test.

Reads one problem a line on stdin (base64 of a pickle, so that nan, inf, 2**70,
10**400 and int keys arrive as they are), solves it with
``procure.solve(problem, time_limit=2, threads=1)``, and answers one JSON line
on its stdout: ``{"kind": "solved" | "problem_error" | "exception", ...}``.
A crash (a signal) or a hang shows as no answer; the test restarts the worker.

A "solved" answer describes the result (`solved`): its ``status``, whether it holds a
plan (``has_plan``: an evaluation, or per-path results for a tree), whether its objective is
finite, ``violations`` (what ``result.check()`` finds, at most `MAX_VIOLATIONS` of them, and
their ``violation_count``), and ``bound_ok``: for status "optimal", whether its bound is
finite and not above its objective (what procure promises, within 1e-6 relative); None
for other statuses.  An exception while looking at the result is an "exception" answer.

A value ``("__deep__", "list" | "dict", depth)`` stands for a list or dict nested
``depth`` deep: built here, as no pickle could carry it.
"""

from __future__ import annotations

import base64
import faulthandler
import json
import math
import os
import pickle
import sys
import traceback
from typing import Any

DEEP = "__deep__"
MAX_VIOLATIONS = 20  # violations listed in a "solved" answer (their count is given too)


def nested(kind: str, depth: int) -> Any:
    value: Any = [] if kind == "list" else {}
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def expand(value: Any) -> Any:
    """``value`` with every deep-nesting stand-in built (the problem itself nests only a few levels)."""
    if isinstance(value, tuple) and len(value) == 3 and value[0] == DEEP:
        return nested(value[1], value[2])
    if isinstance(value, dict):
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def answer(problem: Any) -> dict[str, Any]:
    import procure

    try:
        result = procure.solve(problem, time_limit=2, threads=1)
    except procure.ProblemError as exc:
        return {"kind": "problem_error", "message": str(exc)[:2000], "length": len(str(exc)), "path": exc.path}
    except Exception as exc:
        return _exception(exc)
    try:
        return solved(result)
    except Exception as exc:  # the result itself is broken (its check or its tables raise)
        return _exception(exc, "while looking at the solved result: ")


def _exception(exc: Exception, where: str = "") -> dict[str, Any]:
    text = "".join(traceback.format_exception(exc))
    return {"kind": "exception", "type": type(exc).__name__, "message": where + text[-3000:]}


def solved(result: Any) -> dict[str, Any]:
    """The "solved" answer for a `procure.Result` (or `TreeResult`): see the module docstring."""
    objective, bound = float(result.objective), float(result.bound)
    has_plan = result.evaluation is not None or bool(getattr(result, "scenario_results", None))
    violations = [str(v) for v in result.check()] if has_plan else []  # check() raises without a plan
    bound_ok = None
    if result.status == "optimal":
        bound_ok = math.isfinite(bound) and bound <= objective + 1e-6 * max(1.0, abs(objective))
    return {
        "kind": "solved",
        "status": result.status,
        "has_plan": has_plan,
        "objective_finite": math.isfinite(objective),
        "objective": repr(objective),
        "bound": repr(bound),
        "bound_ok": bound_ok,
        "violations": [v[:300] for v in violations[:MAX_VIOLATIONS]],
        "violation_count": len(violations),
        "message": str(result.message)[:300],
    }


def main() -> None:
    faulthandler.enable()  # a crash prints the stack on stderr
    out = os.fdopen(os.dup(1), "w")  # answers go here; the solver's own output goes nowhere
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    import procure

    out.write(json.dumps({"kind": "ready", "procure": procure.__file__}) + "\n")
    out.flush()
    for line in sys.stdin:
        problem = expand(pickle.loads(base64.b64decode(line)))
        out.write(json.dumps(answer(problem)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
