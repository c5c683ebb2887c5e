"""`to_dict()`: a result as a plain, JSON-ready mapping (NaN becomes ``None``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..base.hooks import provide

if TYPE_CHECKING:
    from ..core.result import Result

__all__ = ["to_dict"]


def _num(x: Any) -> Any:
    x = float(x)
    return None if not math.isfinite(x) else (int(x) if x.is_integer() and abs(x) < 2**53 else x)


def _frame(df: pd.DataFrame) -> dict[str, dict[int, Any]]:
    return {str(c): _series(df[c]) for c in df.columns}


def _series(s: pd.Series) -> dict[int, Any]:
    return {int(i): _num(v) for i, v in zip(s.index.to_numpy(), s.to_numpy())}


def _rows(df: pd.DataFrame, text: tuple[str, ...]) -> list[dict[str, Any]]:
    """A long table as records: the ``text`` columns as strings, the others as numbers."""
    return [
        {c: (str(v) if c in text else _num(v)) for c, v in zip(df.columns, row)}
        for row in df.itertuples(index=False, name=None)
    ]


@provide("to_dict")
def to_dict(result: Result) -> dict[str, Any]:
    """Every field and table of ``result`` as plain Python values."""
    return {
        "name": result.problem.name,
        "status": result.status,
        "termination": result.termination,
        "message": result.message,
        "objective": _num(result.objective),
        "cost": _num(result.cost),
        "bound": _num(result.bound),
        "gap": _num(result.gap),
        "solver": result.solver,
        "solve_seconds": _num(result.solve_seconds),
        "purchases": _frame(result.purchases),
        "fleet": _frame(result.fleet),
        "compute_by_vendor": _frame(result.compute_by_vendor),
        "shares": _frame(result.shares),
        "compute": _series(result.compute),
        "power_gw": _series(result.power_gw),
        "spend": _series(result.spend),
        "cost_breakdown": _frame(result.cost_breakdown),
        "hhi": _series(result.hhi),
        "cvar": _num(result.cvar),
        "expected_loss": _num(result.expected_loss),
        "shortfall": _frame(result.shortfall),
        "scenarios": {str(k): {c: _num(v) for c, v in row.items()} for k, row in result.scenarios.iterrows()},
        "by_site": _rows(result.by_site, ("site", "offer")),
        "split": _rows(result.split, ("workload", "offer")),
        "power_build": _frame(result.power_build),
        "power_capacity_gw": _frame(result.power_capacity_gw),
        "unserved": _series(result.unserved),
    }
