"""The adapter contract: what a solver adapter takes, what it returns, and the registry.

An adapter translates a `LinearModel` for one solver and translates the
answer back; it knows nothing of offers or vendors.  Statuses are mapped to
procure's five: ``optimal``, ``feasible`` (stopped with a plan), ``infeasible``,
``unbounded`` and ``error``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ProblemError, SolverNotAvailable
from ..model.linear import Index, LinearModel

__all__ = [
    "STATUSES",
    "Adapter",
    "Capabilities",
    "RawSolution",
    "Session",
    "SolveOptions",
    "available_solvers",
    "get_adapter",
    "register",
]

STATUSES = ("optimal", "feasible", "infeasible", "unbounded", "error")


@dataclass(frozen=True)
class Capabilities:
    """What an adapter's solver can do."""

    integer: bool = True
    quadratic: bool = False
    duals: bool = False
    warm_start: bool = False
    iis: bool = False


@dataclass(frozen=True)
class SolveOptions:
    """Options every adapter maps to its solver's own.

    ``warm_start`` holds model-unit values for some columns (``warm_start_ids``);
    an adapter that cannot use it ignores it.  Without a warm start, an adapter
    may look for a starting plan among the columns ``lp_support_ids`` that the
    LP relaxation uses (the others held at zero); one that cannot ignores them.
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    verbose: bool = False
    warm_start_ids: np.ndarray | None = None
    warm_start: np.ndarray | None = None
    lp_support_ids: np.ndarray | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RawSolution:
    """A solver's answer in model units."""

    status: str
    x: np.ndarray | None
    objective: float = math.nan
    bound: float = math.nan
    seconds: float = 0.0
    solver: str = ""
    message: str = ""
    nodes: int | None = None

    @property
    def has_plan(self) -> bool:
        return self.x is not None and self.status in ("optimal", "feasible")


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

    def open(self, model: LinearModel) -> Session:
        """Keep ``model`` for repeated solves with changes in between."""
        return Session(self, model)


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
    """Names of the registered solvers that are installed here."""
    return [name for name, cls in sorted(_CLASSES.items()) if cls.available()]
