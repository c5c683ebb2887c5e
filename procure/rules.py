"""What each business rule of a problem costs: the optimum without it minus the optimum with it.

Skeleton: filled in by the rule-cost work of issue 11.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .result import Result

__all__ = ["rule_costs"]


def rule_costs(result: Result, **solve_options: Any) -> pd.DataFrame:
    """One row per rule the problem states, sorted by what it costs."""
    raise NotImplementedError
