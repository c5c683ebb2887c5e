"""mpi-sppy (Pyomo's stochastic programming library) for problems with demand scenarios.

`to_mpisppy` states a problem's scenario tree the way mpi-sppy wants it: one Pyomo model per
demand path (`procure.pyomo_model`'s translation of procure's one formulation), with its
probability and its list of ``ScenarioNode`` s, the nodes named ``ROOT``, ``ROOT_k``,
``ROOT_k_j``, … in the order that puts scenario ``i`` under the ``i``-th leaf.  Stage ``t + 1``
holds the purchases (lots per placement) and power builds of period position ``t``; a tree
whose first period already branches gets a ROOT stage with no decision of its own.

`solve_mpisppy` (or ``procure.solve(problem, solver="mpisppy:ef" | "mpisppy:ph")``) solves it:

- ``ef``: mpi-sppy's ``ExtensiveForm`` with HiGHS (``appsi_highs``), in this process;
- ``ph``: progressive hedging with linearized proximal terms.  Serial when not run under
  ``mpiexec`` (in this process: after every iteration, plans from ROOT's rounded xbar and from
  one path's ROOT decisions, and the Lagrangian bound of that iteration's W); with several MPI
  ranks a hub and spokes (an ``xhatshuffle`` incumbent spoke, and a Lagrangian bound spoke when
  the ranks are a multiple of 3).

PH's plans come from one evaluator, `_fixed_root`, serial and on the incumbent spoke alike: ROOT's
decisions held (integers rounded) and the extensive form below each child of ROOT solved by HiGHS
with procure's gap and the time left, so every later decision is the best recourse for that ROOT
(W and prox off: its value is the plan's expected cost).

Whatever mpi-sppy answers, every path's purchases and builds are read back into procure's
plan arrays, evaluated by procure's evaluator against that path's problem, and the tree's
objective recomputed from those plans (never taken from the solver).  ``optimal`` only with a
bound mpi-sppy's solves proved and a gap within ``mip_gap``.

Run on several ranks (see ``docs/scaling-out.md``)::

    mpiexec -n 3 python -m mpi4py -m procure.mpisppy problem.toml --method ph --out result.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..base.errors import ProblemError, SolverNotAvailable
from ..core.pipeline import MAX_CERTIFY_ROUNDS, built_from, split_from, verdict
from ..core.result import Result
from ..model.bounds import cost_bounds
from ..model.linear import LinearModel
from ..model.risk import HHI_TOL
from ..model.sets import model_data
from ..problem.evaluate import evaluate, objective_of, polish_split, violations
from ..problem.format import Problem, as_problem
from ..solvers import get_adapter
from ..solvers.base import Adapter, Capabilities, RawSolution, SolveOptions, register
from ..solvers.options import solve_options
from .mpisppy_ph import (
    DEFAULT_ITERATIONS,
    DEFAULT_RHO,
    PH_OPTIONS,
    Answer,
    failure,
    ph_settings,
    run_ef,
    run_ph_serial,
    run_ph_wheel,
    time_left,
)
from .mpisppy_tree import INSTALL_HINT, MpiSppyTree, mpisppy_module, to_mpisppy, world
from .tree_result import TreeResult
from .tree_solve import nonanticipativity_violations, path_results

__all__ = [
    "INSTALL_HINT",
    "METHODS",
    "MpiSppyAdapter",
    "MpiSppyTree",
    "main",
    "solve_for",
    "solve_mpisppy",
    "to_mpisppy",
]

#: ``procure.solve(..., solver="mpisppy:METHOD")``.
METHODS = ("ef", "ph")

# --------------------------------------------------------------------------- the result


def _read(mt: MpiSppyTree, x: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], list[Any], list[Any]]:
    """Each procure path's (P, T) units bought, workload split and GW started, from its solution."""

    placed, split, built = [], [], []
    for s in range(mt.tree.n_paths):
        data, model = mt.built(s)
        xs = x[mt.tree.names[s]].copy()
        xs[model.lots] = np.round(xs[model.lots])
        placed.append(xs[model.lots] * data.lot_p[:, None])
        built.append(built_from(model, xs))
        split.append(polish_split(mt.tree.problems[s], placed[-1], split_from(model, xs), built[-1]))
    return placed, split, built


def _tree_result(
    mt: MpiSppyTree, answer: Answer, options: SolveOptions, started: float, certified: bool, method: str
) -> TreeResult:
    """The `TreeResult` of an answer: plans evaluated by procure, objective from the plans, an
    honest status (EF: HiGHS's claim; PH: ``optimal`` when the plan is within ``mip_gap`` of the
    bound), kept only when every plan passes procure's check and the bound is proved."""

    tree = mt.tree
    solver = f"mpisppy:{method}"
    results: dict[str, Result] = {}
    objective = cost = gap = math.nan
    bound = answer.bound if certified else math.nan
    termination, message = answer.termination, answer.message
    status = "infeasible" if answer.termination == "infeasible" else "error"
    if answer.x is not None:
        placed, split, built = _read(mt, answer.x)
        evs = [evaluate(p, a, b, c) for p, a, b, c in zip(tree.problems, placed, split, built)]
        broken = [
            f"{n}: {line}"
            for n, p, ev in zip(tree.names, tree.problems, evs)
            for line in violations(p, ev, hhi_tol=HHI_TOL)
        ]
        broken += nonanticipativity_violations(tree, evs)
        if not broken:
            objectives = np.array([objective_of(p, ev) for p, ev in zip(tree.problems, evs)])
            objective = float(tree.probability @ objectives)
        # optimal: the plan's own objective within mip_gap of the proved bound (for EF, HiGHS must
        # say so too; the plan's objective can exceed the model's where HHI is only cut from below)
        close = math.isfinite(bound) and objective - bound <= (options.mip_gap + 1e-9) * max(abs(objective), 1e-12)
        proved = method == "ph" or termination in ("optimal", "gap_reached")
        claim = "optimal" if close and proved else "feasible"
        if method == "ef" and proved and not close and math.isfinite(objective):
            termination = "numerical"  # as procure's pipeline says of HHI cuts that stop short
        if mt.built(0)[1].hhi is not None:
            message = "; ".join(filter(None, [message, "HHI by its initial tangent cuts only (not refined)"]))
        raw = RawSolution(claim, None, bound=bound, termination=termination, message=message)
        status, termination, message, bound, gap = verdict(raw, broken, objective, bound, certified)
        if status != "error":
            results, cost = path_results(tree, status, placed, split, built, solver)
        else:
            objective = math.nan
    return TreeResult(
        status=status,
        objective=objective,
        cost=cost,
        bound=bound,
        gap=gap,
        solve_seconds=time.perf_counter() - started,
        solver=solver,
        message=message,
        problem=mt.problem,
        termination=termination,
        tree=tree,
        scenario_results=results,
    )


def _wider(mt: MpiSppyTree, answer: Answer, widened: bool) -> np.ndarray | None:
    """Lot bounds that admit every plan better than the answer's (None when the tree's do); for
    an infeasible answer, the provisional bounds ×1000 (once, unless ``widened``)."""

    if not mt.provisional.any():
        return None
    if answer.x is None:
        if answer.termination == "infeasible" and not widened:
            return np.where(mt.provisional, mt.upper * 1000, mt.upper)
        return None
    placed, split, built = _read(mt, answer.x)
    tree = mt.tree
    evs = [evaluate(p, a, b, c) for p, a, b, c in zip(tree.problems, placed, split, built)]
    objective = float(tree.probability @ np.array([objective_of(p, ev) for p, ev in zip(tree.problems, evs)]))
    certified = cost_bounds(model_data(tree.problems[0]), objective / float(tree.probability.min()))
    widen = mt.provisional & np.isfinite(certified) & (certified > mt.upper)
    return np.where(widen, certified, mt.upper) if widen.any() else None


def solve_mpisppy(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    method: str = "ef",
    options: SolveOptions | None = None,
    *,
    started: float | None = None,
) -> TreeResult:
    """Solve a problem with ``demand_scenarios`` through mpi-sppy.

    ``method``: ``"ef"`` (the extensive form, HiGHS through Pyomo) or ``"ph"`` (progressive
    hedging; serial in this process, hub and spokes when run on several MPI ranks, where every
    rank must call it and each gets the same result).  ``options``: procure's `SolveOptions`
    (``time_limit`` for the whole call, ``mip_gap``, ``threads``; ``solver_options``:
    ``max_iterations`` and ``rho`` for PH, anything else goes to HiGHS under its own names).

    The plans are procure's: every path's lots and builds are read back, evaluated by procure
    and the objective recomputed from them.  ``bound`` is the lower bound mpi-sppy's solves
    proved (EF: HiGHS's MIP bound; PH: the best of the wait-and-see and Lagrangian bounds);
    ``optimal`` only when the plan's objective is within ``mip_gap`` of it.
    """
    started = time.perf_counter() if started is None else started
    options = options or SolveOptions()
    if method not in METHODS:
        known = ", ".join(f"mpisppy:{m}" for m in METHODS)
        raise ProblemError(f"solver: 'mpisppy:{method}' is not a known solver (known here: {known})", path="solver")
    _check_options(method, options)
    mpisppy_module()
    mt = to_mpisppy(problem)
    comm = world()
    if method == "ef" and comm.size > 1:
        raise ProblemError(
            f"solver: mpisppy:ef solves the extensive form in one process; run it without mpiexec "
            f"(this is rank {comm.rank} of {comm.size}), or use mpisppy:ph on several ranks",
            path="solver",
        )
    answer: Answer | None = None
    certified, widened = True, False
    for _ in range(MAX_CERTIFY_ROUNDS + 1):
        answer = _run(mt, method, options, started, comm)
        wider = _wider(mt, answer, widened)
        certified = wider is None
        left = time_left(options, started)
        stop = certified or (left is not None and left <= 0.05)
        if comm.size > 1:  # every rank takes rank 0's decision (their clocks differ)
            stop, certified = comm.bcast((stop, certified), root=0)
        if stop:
            break
        assert wider is not None
        widened = widened or answer.x is None
        mt = to_mpisppy(mt.problem, wider)
    assert answer is not None
    if not certified:
        note = "lot bounds could not be certified in time: the gap is unknown"
        answer.message = "; ".join(filter(None, [answer.message, note]))
    return _tree_result(mt, answer, options, started, certified, method)


def _run(mt: MpiSppyTree, method: str, options: SolveOptions, started: float, comm: Any) -> Answer:
    """One solve by ``method``; mpi-sppy's own failures (one rank's) become status ``error``."""
    if options.threads is not None:  # HiGHS's thread pool is global: sized by the first solve after a reset
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    try:
        if method == "ef":
            return run_ef(mt, options, started)
        if comm.size > 1:
            return run_ph_wheel(mt, options, started, comm)
        return run_ph_serial(mt, options, started)
    except (ProblemError, SolverNotAvailable, KeyboardInterrupt):
        raise
    except Exception as exc:
        if comm.size > 1:  # the other ranks wait in a collective: stop the job (mpi4py aborts it)
            raise
        return failure(exc)


def solve_for(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    solver: str,
    options: SolveOptions,
    extra: Any = None,
    started: float | None = None,
) -> TreeResult:
    """``procure.solve(problem, solver="mpisppy:METHOD", ...)``."""
    method = solver.split(":", 1)[1]
    if method not in METHODS:
        known = ", ".join(f"mpisppy:{m}" for m in METHODS)
        raise ProblemError(
            f"solver: {solver!r} is not a known solver (known here: {known})", path="solver", value=solver
        )
    prob = as_problem(problem)
    if not prob.demand_scenarios:
        raise ProblemError(
            f"solver: {solver!r} solves problems with demand_scenarios and this one has none "
            "(use solver='highs', or any other adapter)",
            path="solver",
            value=solver,
        )
    if extra is not None:
        raise ProblemError(f"extra: rows of your own are not supported with solver {solver!r}", path="extra")
    return solve_mpisppy(prob, method, options, started=started)


class MpiSppyAdapter(Adapter):
    """``solver="mpisppy:ef"`` / ``"mpisppy:ph"``: mpi-sppy solves a problem with demand
    scenarios as a whole (`solve_for`), through `procure.solve`, `Planner`, `frontier` and
    `sweep` alike.  procure's own linear models (a diagnosis of an infeasible tree, the
    duals of a plan) go to HiGHS, the engine mpi-sppy's solves use."""

    method = "ef"
    capabilities = Capabilities(whole_problem=True)
    install_hint = INSTALL_HINT

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"mpisppy:{self.method}"

    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec("mpisppy") is not None

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        return get_adapter("highs").solve(model, options)

    def check_options(self, options: SolveOptions) -> None:
        _check_options(self.method, options)

    def solve_problem(self, problem: Any, options: SolveOptions, extra: Any, started: float) -> TreeResult:
        return solve_for(problem, self.name, options, extra, started)


class MpiSppyPH(MpiSppyAdapter):
    method = "ph"


register("mpisppy:ef", MpiSppyAdapter)
register("mpisppy:ph", MpiSppyPH)


def _check_options(method: str, options: SolveOptions) -> None:
    """``solver_options``: PH's own keys only with PH, the rest vetted by HiGHS."""

    ph_keys = [k for k in options.solver_options if k in PH_OPTIONS]
    if method != "ph" and ph_keys:
        raise ProblemError(
            f"solver_options.{ph_keys[0]}: an option of mpisppy:ph, not of mpisppy:{method}",
            path=f"solver_options.{ph_keys[0]}",
        )
    if method == "ph":
        ph_settings(options)
    highs = {k: v for k, v in options.solver_options.items() if k not in PH_OPTIONS}
    get_adapter("pyomo:highs").check_options(replace(options, solver_options=highs, duals=False))


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m mpi4py -m procure.mpisppy",
        description="Solve a problem with demand scenarios through mpi-sppy (under mpiexec for PH on several ranks).",
    )
    ap.add_argument("problem", help="the problem (.toml or .json)")
    ap.add_argument("--method", choices=METHODS, default="ph")
    ap.add_argument("--out", help="write the result's to_dict() JSON here (rank 0)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds for the whole solve")
    ap.add_argument("--mip-gap", type=float, default=1e-4, help="relative gap for 'optimal' (and of HiGHS)")
    ap.add_argument("--max-iterations", type=int, default=None, help=f"PH iterations (default {DEFAULT_ITERATIONS})")
    ap.add_argument("--rho", type=float, default=None, help=f"PH's ρ relative to each decision's cost ({DEFAULT_RHO})")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads per rank")
    ap.add_argument("--verbose", action="store_true", help="mpi-sppy's and HiGHS's own output")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Solve on every rank and write the `TreeResult` from rank 0; exit 0 with a plan, 1 without,
    2 for bad input, 3 when mpi-sppy is missing or failed.  Only rank 0 exits with that code
    (the others with 0): under ``python -m mpi4py`` a rank's non-zero exit calls ``MPI_Abort``,
    and one abort ends the run where an abort on every rank at once can leave the launcher
    waiting."""
    code = _main(argv)
    return code if _rank() == 0 else 0


def _rank() -> int:
    try:
        return int(world().rank)
    except Exception:  # no MPI: this process is the only rank
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    rank = 0
    try:
        rank = int(world().rank)
        extra: dict[str, Any] = {}
        if args.max_iterations is not None:
            extra["max_iterations"] = args.max_iterations
        if args.rho is not None:
            extra["rho"] = args.rho
        options = solve_options(args.time_limit, args.mip_gap, args.threads, args.verbose, extra)
        result = solve_mpisppy(args.problem, args.method, options)
    except ProblemError as exc:
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except SolverNotAvailable as exc:
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 3
    if rank == 0:
        text = json.dumps(result.to_dict(), indent=1, allow_nan=False)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        else:
            print(text)
        gap = "" if not math.isfinite(result.gap) else f", gap {result.gap:.3%}"
        why = f"; {result.message}" if result.message else ""
        print(
            f"{result.status}: objective {result.objective:,.6g}, bound {result.bound:,.6g}{gap} "
            f"({result.solve_seconds:.1f} s{why})",
            file=sys.stderr,
        )
    return 0 if result.has_plan else 1 if result.status in ("infeasible", "unbounded") else 3


if __name__ == "__main__":
    sys.exit(main())
