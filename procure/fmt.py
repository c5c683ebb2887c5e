"""The one formatter people read numbers through.

Every human-facing surface (``summary()``, the command line's tables, repairs, frontier
and sweep tables, the HTML report, Excel number formats, the examples) shows numbers
through these functions, so a quantity looks the same wherever it appears:

=========  ==========================  ==========================================
kind       text                        rule
=========  ==========================  ==========================================
money      ``$20.8B``, ``$902M``       three significant digits, magnitude suffix
share      ``40.0%``                   a fraction shown as a percentage, 1 decimal
power      ``0.131 GW``                gigawatts with 3 decimals
count      ``1,200,000``               whole numbers with thousands separators
gap        ``0.01%``                   a relative gap as a percentage
seconds    ``0.22 s``, ``2 min 4 s``   wall time
number     ``1.23e+06``, ``0.4``       anything else: 4 significant digits
=========  ==========================  ==========================================

Machine outputs (JSON, CSV, DataFrames) keep full precision; only what people read
goes through here.  `EXCEL_FORMATS` gives the same rules as Excel number formats, so a
workbook's cells hold the exact numbers and show them as the text does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd

__all__ = [
    "EXCEL_FORMATS",
    "FORMATTERS",
    "amount",
    "count",
    "gap",
    "money",
    "number",
    "power",
    "seconds",
    "share",
    "table",
]


def _finite(x: float) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def money(x: float) -> str:
    """Dollars with a magnitude suffix: ``$1.23B``, ``$456M``, ``$12.3k``."""
    if not _finite(x):
        return "n/a"
    x = float(x)
    sign = "-" if x < 0 else ""
    x = abs(x)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        # round first so that 999.96M shows as $1B, not $1e+03M
        if float(f"{x / size:.3g}") >= 1:
            return f"{sign}${x / size:,.3g}{unit}" if x < 1000 * size else f"{sign}${x / size:,.0f}{unit}"
    return f"{sign}${x:,.0f}"


def share(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.4001`` → ``40.0%`` (``0`` → ``0%``)."""
    if not _finite(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0%"
    text = f"{100 * x:.{digits}f}%"
    # a share that is not zero never reads as zero
    return text if float(text[:-1]) != 0 else ("<" if x > 0 else ">-") + f"{10 ** -digits:.{digits}f}%"


def power(gw: float) -> str:
    """Gigawatts with three decimals: ``0.131 GW``."""
    return "n/a" if not _finite(gw) else f"{float(gw):,.3f} GW"


def count(n: float) -> str:
    """A whole number with thousands separators: ``1,200,000``."""
    return "n/a" if not _finite(n) else f"{float(n):,.0f}"


def gap(x: float) -> str:
    """A relative gap as a percentage: ``9.9e-05`` → ``0.01%``."""
    if not _finite(x):
        return "n/a"
    return f"{100 * float(x):.2f}%" if abs(x) >= 1e-4 or x == 0 else f"{100 * float(x):.1g}%"


def seconds(s: float) -> str:
    """Wall time: ``0.22 s``, ``12.3 s``, ``2 min 4 s``."""
    if not _finite(s):
        return "n/a"
    s = float(s)
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s"


def number(x: float) -> str:
    """Anything else, with four significant digits: ``0.4``, ``1.235e+06``."""
    if not _finite(x):
        return "n/a" if x is None or not isinstance(x, (int, float)) or math.isnan(x) else str(x)
    x = float(x)
    return f"{x:,.0f}" if x == round(x) and abs(x) < 1e15 else f"{x:.4g}"


def amount(x: float, unit: str) -> str:
    """A quantity in its unit: dollars via `money`, GW via `power`, anything else as
    ``1,200,000 compute``."""
    if unit == "$":
        return money(x)
    if unit == "GW":
        return power(x)
    text = count(x) if _finite(x) and abs(float(x)) >= 1e4 else number(x)
    return f"{text} {unit}".rstrip()


#: The formatter of each kind, by name (what `table` and the Excel formats key on).
FORMATTERS: Mapping[str, Callable[[float], str]] = {
    "money": money,
    "share": share,
    "power": power,
    "count": count,
    "gap": gap,
    "seconds": seconds,
    "number": number,
}

#: The same rules as Excel number formats (the cell keeps the exact number).
EXCEL_FORMATS: Mapping[str, str] = {
    "money": '[>=1000000000]"$"#,##0.00,,,"B";[>=1000000]"$"#,##0.0,,"M";"$"#,##0',
    "share": "0.0%",
    "power": '0.000" GW"',
    "count": "#,##0",
    "gap": "0.00%",
    "seconds": '0.00" s"',
    "number": "General",
}


def table(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``frame`` for people to read: each column named in ``kinds`` formatted as
    its kind (a key of `FORMATTERS`), text right-aligned; other columns as they are."""
    out = frame.copy()
    for column, kind in kinds.items():
        if column in out.columns:
            formatter = FORMATTERS[kind]
            out[column] = [v if isinstance(v, str) else formatter(v) for v in out[column]]
    return out
