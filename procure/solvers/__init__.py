"""Solver adapters and their registry."""

from . import auto as _auto  # noqa: F401  (registers auto: HiGHS and CBC raced by deterministic work)
from . import cbc as _cbc  # noqa: F401  (registers cbc, the CBC program)
from . import highs as _highs  # noqa: F401  (registers the built-in adapter)
from . import pyomo as _pyomo  # noqa: F401  (registers pyomo:NAME adapters)
from .base import (
    DEFAULT_SOLVER,
    Adapter,
    Capabilities,
    RawSolution,
    SolveOptions,
    available_solvers,
    get_adapter,
    register,
)

__all__ = [
    "DEFAULT_SOLVER",
    "Adapter",
    "Capabilities",
    "RawSolution",
    "SolveOptions",
    "available_solvers",
    "get_adapter",
    "register",
]
