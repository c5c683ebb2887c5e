"""Shadow prices of a plan (integers fixed) and the honest finite answer by re-solving.

Skeleton: filled in by the sensitivity work of issue 11.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .result import Result

__all__ = ["MarginalValue", "Sensitivity", "marginal_value", "sensitivity"]


class Sensitivity:
    """Skeleton."""


class MarginalValue:
    """Skeleton."""


def sensitivity(result: Result, **solve_options: Any) -> Sensitivity:
    """Shadow prices of ``result``'s plan with its whole lots fixed."""
    raise NotImplementedError


def marginal_value(result: Result, changes: Mapping[str, Any], **solve_options: Any) -> MarginalValue:
    """The change in optimal cost when ``changes`` ({path: delta}) are made, by re-solving."""
    raise NotImplementedError
