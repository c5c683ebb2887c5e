"""Why a problem has no plan: the requirements in conflict and the alternative repairs.

Skeleton: filled in by the diagnosis work of issue 11.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Diagnosis", "explain"]


class Diagnosis:
    """Skeleton."""


def explain(problem: Any, *, fixed: Any = (), **solve_options: Any) -> Diagnosis:
    """Diagnose an infeasible problem."""
    raise NotImplementedError
