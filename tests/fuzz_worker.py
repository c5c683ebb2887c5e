"""A long-lived process that solves problems for `test_robustness.py`'s fuzz test.

Reads one problem a line on stdin (base64 of a pickle, so that nan, inf, 2**70,
10**400 and int keys arrive as they are), solves it with
``procure.solve(problem, time_limit=2, threads=1)``, and answers one JSON line
on its stdout: ``{"kind": "solved" | "problem_error" | "exception", ...}``.
A crash (a signal) or a hang shows as no answer; the test restarts the worker.

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
        text = "".join(traceback.format_exception(exc))
        return {"kind": "exception", "type": type(exc).__name__, "message": text[-3000:]}
    objective = result.objective
    return {
        "kind": "solved",
        "status": result.status,
        "objective_finite": objective is not None and math.isfinite(objective),
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
