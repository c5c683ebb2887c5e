"""The adapter contract: what a solver adapter takes, what it returns, and the registry.

An adapter translates a `LinearModel` for one solver and translates the
answer back; it knows nothing of offers or vendors.  Every answer carries one
of procure's five statuses (``optimal``, ``feasible`` — stopped with a plan —,
``infeasible``, ``unbounded``, ``error``) and a *termination*, the solver's
reason for stopping in one vocabulary shared by all adapters (`TERMINATIONS`).
Each adapter states its mapping from the solver's own statuses declaratively
(a ``STATUS_MAP``), as CVXPY does.

An adapter never vouches for more than its solver proved: ``bound`` is the
solver's proven lower bound for the model it was given, or NaN when the
answer gives no reason to trust one.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..base.errors import ProblemError, SolverNotAvailable
from ..base.status import TERMINATIONS, Status, Termination
from ..model.linear import Index, LinearModel

__all__ = [
    "DEFAULT_SOLVER",
    "STATUSES",
    "TERMINATIONS",
    "Adapter",
    "Capabilities",
    "RawSolution",
    "Session",
    "SolveOptions",
    "available_solvers",
    "get_adapter",
    "objective_bounded_below",
    "register",
    "status_for",
]

STATUSES = tuple(Status)


@dataclass(frozen=True)
class Capabilities:
    """What an adapter's solver can do; the pipeline reads these before asking for it.

    ``quadratic``: convex quadratic rows (exact HHI); ``duals``: row duals of a linear
    model (`SolveOptions.duals`); ``warm_start``: a starting plan
    (`SolveOptions.warm_start`); ``whole_problem``: the adapter solves a problem itself
    (mpi-sppy on a demand tree, `Adapter.solve_problem`) instead of procure's formulation.
    """

    quadratic: bool = False
    duals: bool = False
    warm_start: bool = False
    whole_problem: bool = False


@dataclass(frozen=True)
class SolveOptions:
    """Options every adapter maps to its solver's own.

    ``warm_start`` holds model-unit values for some columns (``warm_start_ids``);
    it is passed only to adapters whose capabilities include ``warm_start``.
    ``other_starts`` are more values for the same columns (the plans of earlier
    solves of a kept model) that an adapter may try instead; one that cannot ignores them.
    Without a warm start, an adapter may look for a starting plan among the
    columns ``lp_support_ids`` that the LP relaxation uses (the others held at
    zero); one that cannot ignores them.  ``solver_options`` go to the solver
    under its own names (an option it rejects is a `ProblemError`); ``duals``
    asks for row duals (linear models only); ``strict`` asks for tighter
    feasibility and integrality tolerances (a re-solve after a plan broke a
    constraint by more than procure's check allows).  ``heuristic_effort`` is the share
    of a branch and bound spent looking for plans (HiGHS's ``mip_heuristic_effort``;
    None: the solver's default); procure raises it for the extensive forms of demand
    trees, whose hard part is finding a good plan, not the bound.  ``race`` False asks
    ``solver="auto"`` for HiGHS alone (procure sets it for those extensive forms too).
    ``node_limit`` stops a branch and bound after that many nodes (None: no limit).
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    verbose: bool = False
    warm_start_ids: np.ndarray | None = None
    warm_start: np.ndarray | None = None
    other_starts: tuple[np.ndarray, ...] = ()
    lp_support_ids: np.ndarray | None = None
    solver_options: Mapping[str, object] = field(default_factory=dict)
    duals: bool = False
    strict: bool = False
    heuristic_effort: float | None = None
    race: bool = True
    node_limit: int | None = None


@dataclass(frozen=True)
class RawSolution:
    """A solver's answer in model units.

    ``objective`` is the value of ``x`` in the model (computed from ``x``, not
    taken from the solver); ``bound`` the solver's proven lower bound, NaN when
    not established; ``duals`` row duals when asked for and available.
    """

    status: str  # a `Status` (words are coerced to it, and checked, when the solution is made)
    x: np.ndarray | None
    objective: float = math.nan
    bound: float = math.nan
    seconds: float = 0.0
    solver: str = ""
    message: str = ""
    nodes: int | None = None
    termination: str = Termination.NONE  # a `Termination`
    duals: np.ndarray | None = None

    def __post_init__(self) -> None:
        # the one vocabulary: an adapter's word outside it is a bug, caught here
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "termination", Termination(self.termination))

    @property
    def has_plan(self) -> bool:
        return self.x is not None and self.status in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def interrupted(self) -> bool:
        return self.termination == Termination.INTERRUPTED

    def as_interrupted(self) -> RawSolution:
        """This answer as one Ctrl-C stopped: its plan kept (``feasible``, nothing proved), or
        ``error`` without one."""
        status = Status.FEASIBLE if self.has_plan else Status.ERROR
        message = TERMINATIONS[Termination.INTERRUPTED]
        return replace(self, status=status, termination=Termination.INTERRUPTED, message=message)


def status_for(termination: str, has_plan: bool, model: LinearModel) -> str:
    """procure's status for a solver's termination: ``optimal`` only for a proof, and
    ``infeasible`` for "infeasible or unbounded" only when the objective is bounded below."""
    if termination in ("optimal", "gap_reached"):
        return "optimal" if has_plan else "error"
    if termination in ("infeasible", "unbounded"):
        return termination
    if termination == "infeasible_or_unbounded":
        return "infeasible" if objective_bounded_below(model) else "error"
    return "feasible" if has_plan else "error"


def objective_bounded_below(model: LinearModel) -> bool:
    """True when every objective term is bounded below by its column's bounds (as in every
    model procure builds: costs are non-negative on non-negative columns)."""
    c = model.cost
    low = (c == 0) | ((c > 0) & np.isfinite(model.col_lower)) | ((c < 0) & np.isfinite(model.col_upper))
    return bool(np.all(low))


class Session:
    """A model kept between solves, changed in place and solved again.

    This default re-solves the changed `LinearModel` from scratch; an adapter
    whose solver can keep a model (HiGHS) overrides it to change the solver's
    copy in place and warm-start.
    """

    def __init__(self, adapter: Adapter, model: LinearModel) -> None:
        self.adapter = adapter
        self.model = model

    def set_col_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        self.model.set_col_bounds(ids, lower, upper)

    def set_row_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        self.model.set_row_bounds(ids, lower, upper)

    def set_cost(self, ids: np.ndarray, cost: Any) -> None:
        self.model.set_cost(ids, cost)

    def set_objective(self, cost: np.ndarray, offset: float) -> None:
        """Replace the whole objective (every coefficient and the constant)."""
        self.model.offset = float(offset)
        self.set_cost(np.arange(self.model.num_cols), cost)

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.model.set_coefficients(rows, cols, vals)

    def add_rows(
        self, name: str, index: Index, row: np.ndarray, col: np.ndarray, val: np.ndarray, **kw: Any
    ) -> np.ndarray:
        return self.model.add_rows(name, index, row, col, val, **kw)

    def solve(self, options: SolveOptions) -> RawSolution:
        return self.adapter.solve(self.model, options)


class Adapter(ABC):
    """A solver behind procure's model.  Subclasses set ``name``, ``capabilities``,
    ``install_hint`` and implement `available` and `solve`."""

    name: str = ""
    capabilities: Capabilities = Capabilities()
    install_hint: str = ""

    @classmethod
    @abstractmethod
    def available(cls) -> bool:
        """True when the solver can be used on this machine."""

    @abstractmethod
    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        """Solve ``model``; never raise for solver trouble (return status ``"error"``)."""

    def solve_problem(self, problem: Any, options: SolveOptions, extra: Any, started: float) -> Any:
        """Solve a whole problem and return its result (adapters with ``whole_problem`` only)."""
        raise NotImplementedError(f"solver {self.name!r} solves procure's formulation, not whole problems")

    def open(self, model: LinearModel) -> Session:
        """Keep ``model`` for repeated solves with changes in between."""
        return Session(self, model)

    def check_options(self, options: SolveOptions) -> None:
        """Raise `ProblemError` for anything ``options`` asks that this solver cannot do.

        Adapters that can vet ``solver_options`` before a solve (names, values)
        extend this."""
        if options.duals and not self.capabilities.duals:
            raise ProblemError(f"duals: solver {self.name!r} does not report duals", path="duals", value=True)

    def usable(self, options: SolveOptions) -> SolveOptions:
        """``options`` without what this adapter cannot use (a warm start it cannot take)."""
        if options.warm_start is not None and not self.capabilities.warm_start:
            return replace(options, warm_start=None, warm_start_ids=None, other_starts=())
        return options


#: The adapter a solve uses when the caller names none: HiGHS and CBC raced by deterministic
#: work (`procure.solvers.auto`), the faster engine on most procurement models.
DEFAULT_SOLVER = "auto"

_CLASSES: dict[str, type[Adapter]] = {}


def register(name: str, cls: type[Adapter]) -> None:
    """Make ``cls`` available as ``solve(..., solver=name)``."""
    _CLASSES[name] = cls


def get_adapter(name: str) -> Adapter:
    """The adapter registered as ``name``.

    Raises
    ------
    ProblemError
        If no adapter has that name.
    SolverNotAvailable
        If it exists but its solver is not installed (the message says how to install it).
    """
    if not isinstance(name, str) or name not in _CLASSES:
        known = ", ".join(sorted(_CLASSES))
        raise ProblemError(f"solver: {name!r} is not a known solver (known: {known})", path="solver", value=name)
    cls = _CLASSES[name]
    if not cls.available():
        raise SolverNotAvailable(f"solver {name!r} is not installed: {cls.install_hint}")
    return cls()


def available_solvers() -> list[str]:
    """Names of the registered solvers that are installed here.

    Returns
    -------
    list of str
        Sorted names to pass as ``solver=`` (``"auto"``, ``"highs"``, ``"cbc"``,
        ``"pyomo:glpk"``, …); a solver procure knows but that is not installed is left out.
        ``"mpisppy:ef"`` and ``"mpisppy:ph"`` (mpi-sppy, for problems with demand trees) are
        listed where mpi-sppy is installed.
    """
    return [name for name, cls in sorted(_CLASSES.items()) if cls.available()]
