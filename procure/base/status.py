"""The words of a result: its status and why the solver stopped, as string enums.

A `Status` or `Termination` is a `str` (``result.status == "optimal"`` holds, JSON and
pandas see the text), and the enum is the one list of the words procure uses."""

from __future__ import annotations

from enum import Enum

__all__ = ["TERMINATIONS", "Status", "Termination"]


class _Word(str, Enum):
    """A string enum that prints as its value (as `enum.StrEnum`, which Python 3.10 lacks)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    def __repr__(self) -> str:  # messages quote the word, as for a plain string
        return repr(str(self.value))


class Status(_Word):
    """``result.status``: what the caller may rely on (see docs/model.md, "What a status promises")."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


class Termination(_Word):
    """``result.termination``: why the solver stopped (`TERMINATIONS` says it in words)."""

    NONE = ""
    OPTIMAL = "optimal"
    GAP_REACHED = "gap_reached"
    TIME_LIMIT = "time_limit"
    NODE_LIMIT = "node_limit"
    SOLUTION_LIMIT = "solution_limit"
    ITERATION_LIMIT = "iteration_limit"
    CONVERGED = "converged"
    OBJECTIVE_LIMIT = "objective_limit"
    MEMORY_LIMIT = "memory_limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    INTERRUPTED = "interrupted"
    INCONSISTENT = "inconsistent"
    NUMERICAL = "numerical"
    ERROR = "error"


#: Each termination in words.
TERMINATIONS: dict[Termination, str] = {
    Termination.OPTIMAL: "proved optimal (gap 0)",
    Termination.GAP_REACHED: "proved within the requested relative gap",
    Termination.TIME_LIMIT: "stopped at the time limit",
    Termination.NODE_LIMIT: "stopped at a node limit",
    Termination.SOLUTION_LIMIT: "stopped at a limit on solutions found",
    Termination.ITERATION_LIMIT: "stopped at an iteration limit",
    Termination.CONVERGED: "progressive hedging's iterates agreed (which proves no gap by itself)",
    Termination.OBJECTIVE_LIMIT: "stopped at an objective bound or target",
    Termination.MEMORY_LIMIT: "stopped at a memory limit",
    Termination.INFEASIBLE: "proved infeasible",
    Termination.UNBOUNDED: "proved unbounded",
    Termination.INFEASIBLE_OR_UNBOUNDED: "proved infeasible or unbounded (not which)",
    Termination.INTERRUPTED: "interrupted (Ctrl-C)",
    Termination.INCONSISTENT: "the solver's answer contradicted itself (its bound is not trusted)",
    Termination.NUMERICAL: "numerical trouble",
    Termination.ERROR: "the solver failed",
}
