"""Number formatting for reports and messages."""

from __future__ import annotations

import math

__all__ = ["amount", "money"]


def money(x: float) -> str:
    """Dollars with a magnitude suffix: ``$1.23B``, ``$456M``, ``$12.3k``."""
    if not math.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    x = abs(x)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= size:
            return f"{sign}${x / size:,.3g}{unit}" if x < 1000 * size else f"{sign}${x / size:,.0f}{unit}"
    return f"{sign}${x:,.0f}"


def amount(x: float, unit: str) -> str:
    """A quantity in its unit: dollars via `money`, anything else as ``1.23e+06 compute``."""
    if unit == "$":
        return money(x)
    text = f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"
    return f"{text} {unit}".rstrip()
