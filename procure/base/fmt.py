"""The one formatter people read numbers through.

Every human-facing surface (``summary()``, the command line's tables, repairs, frontier
and sweep tables, the HTML report, Excel number formats, the examples) shows numbers
through these functions, so a quantity looks the same wherever it appears (kind, text,
rule):

    money     $20.8B, $24.0B, $902M    three significant digits, magnitude suffix
    share     40.0%                    a fraction shown as a percentage, 1 decimal
    power     0.131 GW                 gigawatts with 3 decimals
    count     1,200,000                whole numbers with thousands separators
    gap       0.01%                    a relative gap as a percentage
    seconds   0.22 s, 2 min 4 s        wall time
    hhi       0.3601                   a concentration index, 4 decimals
    number    1,200, 0.4, 1.235e+06    anything else: 4 significant digits

A missing value (None, NaN) reads ``n/a`` and an infinite one ``inf`` or ``-inf``, in
every kind.  `kind_of` tells the kind of a table column by the unit in its header
(``"spend ($)"`` is money), `kind_of_field` the kind of a problem field by its path
(``offers[gb300].unit_cost`` is money), `amount` a quantity by its unit.

Machine outputs (JSON, CSV, DataFrames) keep full precision; only what people read
goes through here.  `EXCEL_FORMATS` gives the same rules as Excel number formats, so a
workbook's cells hold the exact numbers and show them as the text does.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = [
    "EXCEL_FORMATS",
    "FIELD_KINDS",
    "FORMATTERS",
    "UNIT_KINDS",
    "amount",
    "count",
    "field",
    "gap",
    "hhi",
    "kind_of",
    "kind_of_field",
    "money",
    "money_interval",
    "number",
    "power",
    "seconds",
    "share",
    "table",
]


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _missing(x: Any) -> str:
    """The text of a value that is not a finite number: ``inf``, ``-inf``, else ``n/a``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _signed(text: str, sign: bool) -> str:
    """``text`` with a leading ``+`` when ``sign`` is asked for and it has no ``-`` (nor
    reads zero: ``$0``, ``0%``)."""
    shows = text == "inf" or re.search(r"[1-9]", text) is not None
    return "+" + text if sign and shows and not text.startswith(("-", "+")) else text


def _significant(v: float, digits: int) -> str:
    """``v`` (1 to 1000) with ``digits`` significant digits, trailing zeros kept (so that a column
    reads $24.0B beside $21.2B) and never fewer digits than its whole part."""
    whole = len(str(int(float(f"{v:.{digits}g}"))))
    return f"{v:,.{max(digits - whole, 0)}f}"


def money(x: float, digits: int = 3, *, sign: bool = False) -> str:
    """Dollars with ``digits`` significant digits and a magnitude suffix.

    Parameters
    ----------
    x : float
        Dollars.
    digits : int
        Significant digits (at least one).
    sign : bool
        Show ``+`` before an amount above zero (a change; zero reads ``$0``).

    Returns
    -------
    str
        ``$1.23B``, ``$456M``, ``$24.0B``, ``$12.3k``, ``$87``, ``$3.46``, ``-$1.10B``; ``n/a`` for
        NaN or None, ``inf`` / ``-inf`` for infinities.
    """
    if not _finite(x):
        return _signed(_missing(x), sign)
    x = float(x) + 0.0  # no "-0"
    minus = "-" if x < 0 else ""
    x = abs(x)
    digits = max(int(digits), 1)
    # the largest suffix the amount reaches; one up when rounding makes it 1,000 (999.96M: $1.00B)
    k = max((k for k, (_, size) in enumerate(_SCALES) if x >= size), default=0)
    while True:
        unit, size = _SCALES[k]
        if k == 0:
            if x >= 1:  # whole dollars without ".0" ($87), cents as they are ($3.46, $3.50)
                text = _significant(x, digits)
                if float(text.replace(",", "")) >= 1000:  # 999.6: $1.00k
                    k += 1
                    continue
                text = re.sub(r"\.0+$", "", text)
            else:
                text = f"{x:.{digits}g}"
                if "e" in text:  # far below a cent
                    text = "0"
            return _signed(f"{minus if text != '0' else ''}${text}", sign)
        if x >= 1000 * size and k == len(_SCALES) - 1:
            return _signed(f"{minus}${x / size:,.0f}{unit}", sign)
        text = _significant(x / size, digits)
        if float(text.replace(",", "")) >= 1000 and k < len(_SCALES) - 1:
            k += 1
            continue
        return _signed(f"{minus}${text}{unit}", sign)


#: Money's magnitude suffixes, smallest first.
_SCALES = (("", 1.0), ("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12))


def money_interval(low: float, high: float, *, sign: bool = False) -> str:
    """An interval of dollars, ``[-$1.10B, -$1.09B]``: three significant digits, more (up to
    twelve) while its ends would read the same though they differ."""
    digits = 3
    while digits < 12 and low != high and money(low, digits) == money(high, digits):
        digits += 1
    return f"[{money(low, digits, sign=sign)}, {money(high, digits, sign=sign)}]"


def share(x: float, digits: int | None = 1, *, sign: bool = False) -> str:
    """A fraction as a percentage: ``0.4001`` → ``40.0%``.

    ``0`` reads ``0%``, and a share that is not zero never reads as zero (``<0.1%``).
    ``digits`` are the decimals; None gives as few as show the share exactly, at most two
    (for a limit a person set: ``0.2`` → ``20%``, ``0.555`` → ``55.5%``).  With ``sign``, an
    amount above zero gets a ``+`` (a change, in points).
    """
    if not _finite(x):
        return _signed(_missing(x), sign)
    x = float(x)
    if x == 0:
        return _signed("0%", sign)
    if digits is None:
        digits = next((d for d in (0, 1) if abs(round(100 * x, d) - 100 * x) <= 1e-9 * abs(100 * x)), 2)
    text = f"{100 * x:.{digits}f}%"
    if float(text[:-1]) == 0:
        text = ("<" if x > 0 else ">-") + f"{10**-digits:.{digits}f}%"
    return _signed(text, sign)


def power(gw: float, *, sign: bool = False) -> str:
    """Gigawatts with three decimals: ``0.131 GW``; a power that is not zero never reads
    ``0.000 GW``: below half a megawatt it is shown in MW, three significant digits
    (``0.00001`` → ``0.01 MW``)."""
    if not _finite(gw):
        return _signed(_missing(gw), sign)
    gw = float(gw) + 0.0
    text = f"{gw:,.3f}"
    if float(text.replace(",", "")) == 0:
        return _signed(f"{1000 * gw:.3g} MW" if gw != 0 else "0.000 GW", sign)
    return _signed(f"{text} GW", sign)


def count(n: float, *, sign: bool = False) -> str:
    """A whole number with thousands separators: ``1,200,000`` (``1199999.6`` → ``1,200,000``)."""
    if not _finite(n):
        return _signed(_missing(n), sign)
    return _signed(f"{round(float(n)) + 0:,}", sign)


def gap(x: float) -> str:
    """A relative gap as a percentage with two decimals: ``0.0123`` → ``1.23%``; a gap below
    0.01% with one significant digit: ``9.9e-05`` → ``0.01%``, ``4.7e-06`` → ``0.0005%``;
    below 0.0001%, a solver's round-off (``1e-14``), ``0.00%``."""
    if not _finite(x):
        return _missing(x)
    x = float(x) + 0.0
    if abs(x) >= 1e-4 or abs(x) < 1e-6:
        return f"{100 * x:.2f}%".replace("-0.00%", "0.00%")
    return f"{100 * x:.1g}%"


def seconds(s: float) -> str:
    """Wall time: ``0.22 s``, ``12.3 s``, ``2 min 4 s``, ``1 h 5 min``."""
    if not _finite(s):
        return _missing(s)
    s = float(s) + 0.0
    if round(s, 1) < 60:
        return f"{s:.2f} s" if round(s, 2) < 10 else f"{s:.1f} s"
    if round(s) < 3600:
        minutes, rest = divmod(round(s), 60)
        return f"{minutes} min {rest} s"
    hours, rest = divmod(round(s / 60), 60)
    return f"{hours} h {rest} min"


def hhi(x: float, *, sign: bool = False) -> str:
    """A concentration index (Herfindahl, 0 to 1) with four decimals: ``0.3601``."""
    return _signed(_missing(x) if not _finite(x) else f"{float(x) + 0.0:.4f}", sign)


def number(x: float, *, sign: bool = False) -> str:
    """Anything else: a whole number with separators (``1,200``), else four significant
    digits (``0.4``, ``1.235e+06``)."""
    if not _finite(x):
        return _signed(_missing(x), sign)
    x = float(x) + 0.0
    text = f"{round(x):,}" if x == round(x) and abs(x) < 1e15 else f"{x:,.4g}"
    return _signed(text, sign)


#: The formatters of the kinds that show a change's sign (``sign=True``).
_SIGNED: Mapping[str, Callable[..., str]] = {
    "money": money,
    "share": share,
    "power": power,
    "count": count,
    "hhi": hhi,
    "number": number,
}

#: The kind of a quantity by its unit: the units of repairs (`procure.Diagnosis.repairs`),
#: of shadow prices and of report headers (``"spend ($)"``).
UNIT_KINDS: Mapping[str, str] = {
    "$": "money",
    "PV $": "money",
    "GW": "power",
    "share": "share",
    "compute": "count",
    "PFLOP/s": "count",
    "units": "count",
    "vendors": "count",
    "s": "seconds",
    "HHI": "hhi",
}


def amount(x: float, unit: str, *, sign: bool = False, named: bool = True) -> str:
    """A quantity in its unit: dollars via `money`, GW via `power`, a share via `share`, a
    number of something as ``1,200,000 compute`` (whole numbers from 10,000 up, else 4
    significant digits), an HHI as ``0.3600``, anything else as ``0.5 pt``.  ``sign`` shows
    ``+`` on a change; ``named=False`` leaves out the unit's name (``1,200,000``; a table
    with a column of units)."""
    kind = UNIT_KINDS.get(unit)
    if kind in ("money", "power", "share", "hhi"):
        return _SIGNED[kind](x, sign=sign)
    text = count(x, sign=sign) if _finite(x) and abs(float(x)) >= 1e4 else number(x, sign=sign)
    return f"{text} {unit}".rstrip() if named else text


#: The formatter of each kind, by name (what `table` and the Excel formats key on).
FORMATTERS: Mapping[str, Callable[[float], str]] = {
    "money": money,
    "share": share,
    "power": power,
    "count": count,
    "gap": gap,
    "seconds": seconds,
    "hhi": hhi,
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
    "hhi": "0.0000",
    "number": "General",
}

_UNIT = re.compile(r"\(([^()]*)\)\s*$")


def kind_of(header: str) -> str | None:
    """The kind of a table column by its header, as procure's tables name them: the unit in
    trailing parentheses (``"spend ($)"``, ``"cost (PV $)"`` → money, ``"(share)"`` → share,
    ``"(GW)"`` → power, ``"(units)"``, ``"(PFLOP/s)"`` → count, ``"(s)"`` → seconds, see
    `UNIT_KINDS`), ``"HHI"`` → hhi, ``"gap"`` → gap; None for any other header."""
    text = str(header).strip()
    found = _UNIT.search(text)
    if found is not None:
        return UNIT_KINDS.get(found.group(1).strip())
    if text.upper() == "HHI":
        return "hhi"
    return "gap" if text == "gap" else None


#: The kind of each field of the problem format by its name (the last name of its path).
FIELD_KINDS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "budget",
            "total_budget",
            "unit_cost",
            "onboarding_cost",
            "min_spend",
            "max_spend",
            "opex_per_year",
            "electricity_price",
            "cost_per_gw",
            "fixed_cost",
            "unserved_penalty",
            "shortfall_penalty",
            "hhi_weight",
            "max_cvar",
        ),
        "money",
    ),
    **dict.fromkeys(("power_cap_gw", "block_gw", "max_gw"), "power"),
    **dict.fromkeys(("max_share", "min_vendor_share", "survive_vendor_loss", "discount_rate", "probability"), "share"),
    **dict.fromkeys(("demand", "max_units", "min_order", "lot_size", "from_units", "min_vendors"), "count"),
    "max_hhi": "hhi",
}


def kind_of_field(path: str) -> str:
    """The kind of a problem field by its path: ``offers[gb300].unit_cost[2027]`` → money,
    ``power_cap_gw[2027]`` → power, ``risk.max_share`` → share (see `FIELD_KINDS`);
    ``"number"`` for any other."""
    name = re.sub(r"\[[^\]]*\]", "", str(path)).rsplit(".", 1)[-1]
    return FIELD_KINDS.get(name, "number")


def field(path: str, x: float, *, sign: bool = False) -> str:
    """A value of the problem field at ``path`` as its kind reads it (`kind_of_field`):
    ``field("total_budget", 3.2e10)`` → ``$32.0B``, ``field("power_cap_gw[2026]", 0.1, sign=True)``
    → ``+0.100 GW``."""
    return _SIGNED[kind_of_field(path)](x, sign=sign)


def table(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``frame`` for people to read: each column named in ``kinds`` formatted as
    its kind (a key of `FORMATTERS`); a missing value (None, NaN) as ``n/a``; text, truth
    values and anything else that is not a number, and the other columns, as they are."""
    out = frame.copy()
    for column, kind in kinds.items():
        if column in out.columns:
            formatter = FORMATTERS[kind]
            out[column] = pd.Series([_cell(v, formatter) for v in out[column]], index=out.index, dtype=object)
    return out


def _cell(value: Any, formatter: Callable[[float], str]) -> Any:
    if value is None or (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))):
        return formatter(cast(float, value))
    return value
