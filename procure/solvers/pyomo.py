"""Adapters for any solver Pyomo drives: ``solve(problem, solver="pyomo:NAME")``.

The model is translated by `procure.solvers.pyomo_model.translate` (the same
formulation, named as in procure's results) and handed to
``pyomo.environ.SolverFactory``.  Options are mapped to each solver's own
names; statuses to procure's five.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..base.errors import ProblemError
from ..model.linear import LinearModel
from ..model.scaling import MatrixForm, matrix_form
from .base import Adapter, Capabilities, RawSolution, SolveOptions, register, status_for
from .highs import new_highs, user_options
from .pyomo_model import translate

__all__ = ["PYOMO_SOLVERS", "STATUS_MAP", "PyomoAdapter"]

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


#: Solvers run as programs whose log tells options they do not know ("No match for NAME").
LOGGED = {"cbc"}


def _unknown_options(log: str, options: SolveOptions) -> str:
    """The first of ``options.solver_options`` a solver's log says it does not know ("" if none)."""
    for key in options.solver_options:
        if f"No match for {key} " in log or f"No match for {key}\n" in log:
            return str(key)
    return ""


#: Options always passed to a solver.  CBC 2.10's preprocessing can return a worse plan and
#: call it optimal on small models (coin-or/Cbc issues #283 and #720; seen in procure's tests).
FIXED_OPTIONS: dict[str, dict[str, object]] = {"cbc": {"preprocess": "off"}}

#: Options always passed to a solver, on every run.  SCIP holds the GIL while it writes its
#: log into the pipe Pyomo reads it from (in a thread that then cannot run): once a log passes
#: the pipe's 64 KB, SCIP waits on the pipe forever, past any time limit (seen at 26,900 nodes
#: after 12 s).  Its log is never shown, even with ``verbose``.
QUIET_OPTIONS: dict[str, dict[str, object]] = {"scip_direct": {"display/verblevel": 0}}


#: Pyomo termination condition name → procure termination (see `procure.solvers.base.TERMINATIONS`).
STATUS_MAP: dict[str, str] = {
    "optimal": "optimal",
    "globallyOptimal": "optimal",
    "locallyOptimal": "optimal",
    "infeasible": "infeasible",
    "unbounded": "unbounded",
    "infeasibleOrUnbounded": "infeasible_or_unbounded",
    "maxTimeLimit": "time_limit",
    "maxIterations": "iteration_limit",
    "maxEvaluations": "node_limit",
    "minFunctionValue": "objective_limit",
    "minStepLength": "numerical",
    "userInterrupt": "interrupted",
    "resourceInterrupt": "memory_limit",
    "intermediateNonInteger": "numerical",
    "feasible": "solution_limit",
    "other": "error",
    "unknown": "error",
    "noSolution": "error",
    "invalidProblem": "error",
    "solverFailure": "error",
    "internalSolverError": "error",
    "error": "error",
    "licensingProblems": "error",
}

#: Options procure sets from `solve()`'s own arguments, per Pyomo solver (not for ``solver_options``).
_MANAGED = {"time_limit", "mip_gap", "threads"}


class PyomoAdapter(Adapter):
    """A solver driven through Pyomo; subclasses set ``pyomo_name`` and ``option_names``."""

    pyomo_name: ClassVar[str] = ""
    option_names: ClassVar[tuple[str, str, str | None]] = ("", "", None)
    capabilities = Capabilities()

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

    def check_options(self, options: SolveOptions) -> None:
        super().check_options(options)
        if self.pyomo_name == "appsi_highs" and options.solver_options:
            user_options(new_highs(False), options.solver_options)  # HiGHS itself vets names and values
        managed = {name for name in self.option_names if name}
        for key, value in options.solver_options.items():
            path = f"solver_options.{key}"
            if not isinstance(key, str) or not key:
                raise ProblemError(f"{path}: an option name must be a non-empty string", path=path, value=value)
            if key in managed:
                raise ProblemError(
                    f"{path}: set by procure from solve()'s time_limit, mip_gap or threads", path=path, value=value
                )
            if not isinstance(value, (bool, int, float, str)):
                raise ProblemError(f"{path}: {value!r} is not a number, string or bool", path=path, value=value)

    def _options(self, opt: Any, options: SolveOptions, *, fixed: bool = True) -> None:
        if fixed:
            for key, value in FIXED_OPTIONS.get(self.pyomo_name, {}).items():
                opt.options[key] = value
        for key, value in QUIET_OPTIONS.get(self.pyomo_name, {}).items():
            opt.options[key] = value
        limit_name, gap_name, threads_name = self.option_names
        if options.time_limit is not None:
            opt.options[limit_name] = (
                max(1, math.ceil(options.time_limit)) if self.pyomo_name == "glpk" else float(options.time_limit)
            )
        opt.options[gap_name] = float(options.mip_gap)
        if options.threads is not None and threads_name is not None:
            opt.options[threads_name] = int(options.threads)
        for key, value in options.solver_options.items():
            opt.options[key] = value

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:

        started = time.perf_counter()
        # the scaled form HiGHS and CBC get: unscaled (objective near 10¹⁰, HHI's squares of
        # compute near 10⁻¹¹), SCIP declared the starter at max_hhi = 0.34 infeasible at its root
        form = matrix_form(model)
        m = translate(form.as_model(), quadratic=self.capabilities.quadratic)
        raw = self._run(form, m, options, fixed=True, started=started)
        if raw.termination != "error" or self.pyomo_name not in FIXED_OPTIONS:
            return raw
        # CBC 2.10 without preprocessing can crash where its bound tightening proves infeasibility;
        # its defaults then decide, but a plan they call optimal is not trusted (FIXED_OPTIONS)
        again = self._run(form, m, options, fixed=False, started=started)
        if again.status == "optimal":
            note = f"{raw.message}; with its own preprocessing, which can mislabel a worse plan optimal"
            return replace(again, status="feasible", termination="inconsistent", bound=math.nan, message=note)
        return again

    def _run(self, form: MatrixForm, m: Any, options: SolveOptions, *, fixed: bool, started: float) -> RawSolution:
        import pyomo.environ as pyo

        opt = pyo.SolverFactory(self.pyomo_name)
        self._options(opt, options, fixed=fixed)
        with tempfile.TemporaryDirectory(prefix="procure-") as folder:
            log = Path(folder) / "solver.log"
            kwargs: dict[str, Any] = {"logfile": str(log)} if self.pyomo_name in LOGGED else {}
            try:
                results = opt.solve(m, load_solutions=False, tee=options.verbose, **kwargs)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # community editions refuse large models; solvers refuse options
                return self._failed(form, m, options, str(exc), fixed=fixed, started=started)
            unknown = _unknown_options(log.read_text(errors="replace") if log.exists() else "", options)
        if unknown:
            raise ProblemError(
                f"solver_options.{unknown}: {self.name} has no option {unknown!r}", path=f"solver_options.{unknown}"
            )
        return self._answer(form, m, results, time.perf_counter() - started)

    def _failed(
        self, form: MatrixForm, m: Any, options: SolveOptions, text: str, *, fixed: bool, started: float
    ) -> RawSolution:
        """The answer when the solver raised: a size limit, options it rejects (the same solve
        without them works), or its own failure."""
        if any(word in text.lower() for word in ("too many", "size", "maximum", "licen")):
            message = f"{self.name}: size-limited edition: {text}"
            return RawSolution("error", None, solver=self.name, message=message, termination="error")
        if options.solver_options:
            plain = self._run(form, m, replace(options, solver_options={}), fixed=fixed, started=started)
            if plain.termination != "error":
                names = ", ".join(map(str, options.solver_options))
                raise ProblemError(f"solver_options: {self.name} rejects {names}: {text}", path="solver_options")
        message = f"{self.name} failed: {text}"
        return RawSolution("error", None, solver=self.name, message=message, termination="error")

    def _answer(self, form: MatrixForm, m: Any, results: Any, seconds: float) -> RawSolution:
        import pyomo.environ as pyo

        model = form.model
        condition = results.solver.termination_condition
        termination = STATUS_MAP.get(getattr(condition, "name", str(condition)), "error")
        solutions = getattr(results, "solution", [])
        proved_none = termination in ("infeasible", "unbounded", "infeasible_or_unbounded")
        x, objective, bound = None, math.nan, math.nan
        if len(solutions) > 0 and not proved_none:
            m.solutions.load_from(results)
            y = np.array([v.value if v.value is not None else 0.0 for v in m.procure_columns], dtype=float)
            scaled = float(pyo.value(m.cost))  # the plan's own objective, in solver units
            bound = lower_bound(results)
            if termination == "optimal" and not math.isfinite(bound):
                bound = scaled  # an LP, or a solver that reports optimality without a bound
            x = form.to_model_x(y)
            objective = float(model.cost @ x + model.offset)
            if math.isfinite(bound) and bound > scaled + 1e-6 * max(1.0, abs(scaled)):
                termination, bound = "inconsistent", math.nan
            elif math.isfinite(bound):
                bound = min(form.to_model_objective(bound), objective)
        message = "" if termination in ("optimal", "infeasible", "unbounded") else f"stopped: {condition}"
        if termination == "inconsistent":
            message = (
                f"{self.name} reported a bound above its plan's objective {objective:.10g}: the bound is not trusted"
            )
        if x is None and termination not in ("infeasible", "unbounded", "infeasible_or_unbounded"):
            message = f"{self.name} stopped without a plan: {condition}"
        status = status_for(termination, x is not None, model)
        return RawSolution(
            status, x, objective, bound, seconds=seconds, solver=self.name, message=message, termination=termination
        )


def lower_bound(results: Any) -> float:
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
                "capabilities": Capabilities(quadratic=_quadratic),
                "__doc__": f"{_name} through Pyomo ({_pyomo_name}).",
            },
        ),
    )
