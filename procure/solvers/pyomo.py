"""Adapters for any solver Pyomo drives: ``solve(problem, solver="pyomo:NAME")``.

The model is translated by `procure.pyomo_model.translate` (the same
formulation, named as in procure's results) and handed to
``pyomo.environ.SolverFactory``.  Options are mapped to each solver's own
names; statuses to procure's five.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

import numpy as np

from ..model.linear import LinearModel
from .base import Adapter, Capabilities, RawSolution, SolveOptions, register

__all__ = ["PYOMO_SOLVERS", "PyomoAdapter"]

#: procure name → (Pyomo SolverFactory name, option names for time limit, relative gap, threads, install hint)
PYOMO_SOLVERS: dict[str, tuple[str, str, str, str | None, str]] = {
    "highs": ("appsi_highs", "time_limit", "mip_rel_gap", "threads", "pip install highspy"),
    "cbc": ("cbc", "sec", "ratioGap", "threads", "apt-get install coinor-cbc (or conda install coincbc)"),
    "glpk": ("glpk", "tmlim", "mipgap", None, "apt-get install glpk-utils (or conda install glpk)"),
    "scip": ("scip_direct", "limits/time", "limits/gap", "parallel/maxnthreads", "pip install pyscipopt"),
    "gurobi": (
        "gurobi_direct",
        "TimeLimit",
        "MIPGap",
        "Threads",
        "pip install gurobipy (size-limited without a licence)",
    ),
    "cplex": (
        "cplex_direct",
        "timelimit",
        "mip_tolerances_mipgap",
        "threads",
        "pip install cplex (community edition, size-limited)",
    ),
    "xpress": (
        "xpress_direct",
        "maxtime",
        "miprelstop",
        "threads",
        "pip install xpress (community licence, size-limited)",
    ),
}


#: Options always passed to a solver.  CBC 2.10's preprocessing can return a worse plan and
#: call it optimal on small models (coin-or/Cbc issues #283 and #720; seen in procure's tests).
FIXED_OPTIONS: dict[str, dict[str, object]] = {"cbc": {"preprocess": "off"}}


class PyomoAdapter(Adapter):
    """A solver driven through Pyomo; subclasses set ``pyomo_name`` and ``option_names``."""

    pyomo_name: ClassVar[str] = ""
    option_names: ClassVar[tuple[str, str, str | None]] = ("", "", None)
    capabilities = Capabilities(integer=True, quadratic=False, duals=False, warm_start=False, iis=False)

    @classmethod
    def available(cls) -> bool:
        try:
            import pyomo.environ as pyo
        except ImportError:
            return False
        try:
            return bool(pyo.SolverFactory(cls.pyomo_name).available(exception_flag=False))
        except Exception:  # a broken solver plugin counts as not installed
            return False

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        import pyomo.environ as pyo
        from pyomo.opt import TerminationCondition as TC

        from ..pyomo_model import translate

        started = time.perf_counter()
        m = translate(model, quadratic=self.capabilities.quadratic)
        opt = pyo.SolverFactory(self.pyomo_name)
        for key, value in FIXED_OPTIONS.get(self.pyomo_name, {}).items():
            opt.options[key] = value
        limit_name, gap_name, threads_name = self.option_names
        if options.time_limit is not None:
            opt.options[limit_name] = (
                max(1, math.ceil(options.time_limit)) if self.pyomo_name == "glpk" else float(options.time_limit)
            )
        opt.options[gap_name] = float(options.mip_gap)
        if options.threads is not None and threads_name is not None:
            opt.options[threads_name] = int(options.threads)
        try:
            results = opt.solve(m, load_solutions=False, tee=options.verbose)
        except Exception as exc:  # community editions refuse models above their size limit
            text = str(exc)
            if any(word in text.lower() for word in ("too many", "size", "maximum", "licen")):
                return RawSolution(
                    "error", None, solver=self.name, message=f"{self.name}: size-limited edition: {text}"
                )
            raise
        condition = results.solver.termination_condition
        solutions = getattr(results, "solution", [])
        has_plan = len(solutions) > 0 and condition not in (TC.infeasible, TC.infeasibleOrUnbounded, TC.unbounded)
        x = None
        objective = math.nan
        if has_plan:
            m.solutions.load_from(results)
            x = np.array([v.value if v.value is not None else 0.0 for v in m.procure_columns], dtype=float)
            objective = float(pyo.value(m.cost))
        bound = _lower_bound(results)
        seconds = time.perf_counter() - started
        common: dict[str, Any] = dict(seconds=seconds, solver=self.name)
        if condition == TC.optimal and has_plan:
            return RawSolution("optimal", x, objective, bound if math.isfinite(bound) else objective, **common)
        if condition in (TC.infeasible, TC.infeasibleOrUnbounded):
            return RawSolution("infeasible", None, **common)
        if condition == TC.unbounded:
            return RawSolution("unbounded", None, **common)
        if has_plan:
            return RawSolution("feasible", x, objective, bound, message=f"stopped: {condition}", **common)
        return RawSolution("error", None, message=f"{self.name} stopped without a plan: {condition}", **common)


def _lower_bound(results: Any) -> float:
    try:
        value = float(results.problem.lower_bound)
    except (AttributeError, TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


for _name, (_pyomo_name, _limit, _gap, _threads, _hint) in PYOMO_SOLVERS.items():
    _quadratic = _name in ("scip", "gurobi", "cplex", "xpress")
    register(
        f"pyomo:{_name}",
        type(
            f"Pyomo{_name.capitalize()}Adapter",
            (PyomoAdapter,),
            {
                "name": f"pyomo:{_name}",
                "pyomo_name": _pyomo_name,
                "option_names": (_limit, _gap, _threads),
                "install_hint": f"{_hint}; Pyomo itself: pip install pyomo",
                "capabilities": Capabilities(integer=True, quadratic=_quadratic),
                "__doc__": f"{_name} through Pyomo ({_pyomo_name}).",
            },
        ),
    )
