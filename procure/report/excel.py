"""Spreadsheet exports: `to_excel` (a workbook, one sheet per table) and `to_csv` (the plan as
one long table).

The sheets are the tables of `procure.report.tables`, with the unit of every column in its
header and periods as rows; for a `TreeResult` every table by period gains a leading
``scenario`` column (one block of rows per demand path) and the workbook adds ``scenarios``
and ``here and now``.  Written with openpyxl.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..base import fmt
from ..base.hooks import provide
from ..core.result import Outcome, Result
from ..problem.io import write_text, write_workbook
from ..stochastic.tree_result import TreeResult
from . import tables

__all__ = ["FORMULA_PREFIXES", "SHEETS", "csv_text", "sheets", "to_csv", "to_excel"]

#: Sheets of the workbook (besides ``summary``) and the table each holds, in order.
SHEETS: dict[str, Callable[[Result], pd.DataFrame]] = {
    "periods": tables.periods_table,
    "purchases": tables.purchases_table,
    "fleet": tables.fleet_table,
    "compute": tables.compute_table,
    "power": tables.power_table,
    "spend": tables.spend_table,
    "cost breakdown": tables.cost_table,
    "shares": tables.shares_table,
    "by site": tables.plan_table,
}


def _paths(result: Outcome) -> list[tuple[str, Result]]:
    """The plans to export: the result's own, or each demand path's."""

    if isinstance(result, TreeResult) and result.tree is not None and result.scenario_results:
        return [(n, result.scenario_results[n]) for n in result.tree.names]
    assert isinstance(result, Result)
    return [("", result)]


def _stacked(result: Outcome, make: Callable[[Result], pd.DataFrame]) -> pd.DataFrame:
    """A table of every path, a leading ``scenario`` column for a tree; index as columns."""
    parts = []
    for name, r in _paths(result):
        table = make(r)
        table = table.reset_index() if table.index.name == "period" else table.reset_index(drop=True)
        if name:
            table.insert(0, "scenario", name)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def sheets(result: Outcome) -> dict[str, pd.DataFrame]:
    """Every sheet of the workbook as a frame (``summary`` first), as `to_excel` writes them."""

    out = {"summary": pd.DataFrame(tables.summary_rows(result), columns=["field", "value"])}
    if not result.has_plan:
        return out
    if isinstance(result, TreeResult):
        out["scenarios"] = tables.scenario_table(result).reset_index()
        now = result.here_and_now
        out["here and now"] = now.rename(columns=_here_and_now).reset_index()
    for name, make in SHEETS.items():
        out[name] = _stacked(result, make)
    if result.problem.options:  # units reserved and bought through each capacity option
        out["options"] = tables.options_table(result).reset_index()
    return out


def _here_and_now(column: str) -> str:
    """A column of ``here_and_now`` with its unit: ``<offer> (units)``, ``<site> build started (GW)``."""
    if column.startswith("build GW"):
        return f"{column.removeprefix('build GW').strip()} build started (GW)".lstrip()
    return f"{column} (units)"


def _cell(value: Any) -> Any:
    """A summary value Excel can hold (NaN as an empty cell)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number_format(header: str) -> str | None:
    """The Excel number format of a column by its header: that of its kind (`procure.base.fmt.kind_of`,
    `procure.base.fmt.EXCEL_FORMATS`); None for a column of text or of plain numbers."""
    kind = fmt.kind_of(header)
    return None if kind is None or kind == "number" else fmt.EXCEL_FORMATS[kind]


def _style(sheet: Any, frame: pd.DataFrame) -> None:
    """Freeze the header row, size the columns, give every numeric column the number format of
    its kind; on ``summary`` each value the format of its field's kind."""
    from openpyxl.utils.cell import get_column_letter  # openpyxl only when a workbook is written

    sheet.freeze_panes = "A2"
    for k, header in enumerate(frame.columns, start=1):
        letter = get_column_letter(k)
        sheet.column_dimensions[letter].width = max(10, min(40, len(str(header)) + 2))
        number_format = _number_format(str(header))
        if number_format is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
            cell.number_format = number_format
    if sheet.title == "summary":
        sheet.column_dimensions["B"].width = 40
        for name, value in sheet.iter_rows(min_row=2, min_col=1, max_col=2):
            number_format = _number_format(_summary_header(str(name.value)))
            if number_format is not None and isinstance(value.value, (int, float)):
                value.number_format = number_format


def _summary_header(field: str) -> str:
    """A summary field as a header `procure.base.fmt.kind_of` reads (``model rows`` are counts)."""
    return f"{field} (units)" if field.startswith("model ") else field


@provide("to_excel")
def to_excel(result: Outcome, path: str | os.PathLike[str]) -> None:
    """Write ``result`` as an Excel workbook at ``path``.

    Sheets: ``summary`` (field, value), then with a plan ``scenarios`` and ``here and now``
    for a tree, ``periods``, ``purchases``, ``fleet``, ``compute``, ``power``, ``spend``,
    ``cost breakdown``, ``shares``, ``by site`` (see `SHEETS`) and ``options`` with capacity
    options: one row per period (per
    scenario and period for a tree; per period, site and offer for ``by site``), units in the
    headers.  Every cell keeps its exact number and carries the Excel number format of its kind
    (`procure.base.fmt.EXCEL_FORMATS`): dollars as ``$20.79B``, shares as percents, GW with three
    decimals, units with thousands separators, the gap as a percent, the solve time in seconds.

    Text (names, messages) is written as text, never as a formula: a name ``=HYPERLINK(…)`` is
    shown as it is, not run.  The file is written whole or not at all (a temporary file renamed
    into place).

    Raises
    ------
    ProblemError
        If a text does not fit in an Excel cell (more than 32,767 characters), naming the sheet
        and the cell.
    """
    frames = sheets(result)
    frames["summary"] = frames["summary"].assign(value=[_cell(v) for v in frames["summary"]["value"]])
    write_workbook(path, frames, style=_style)


#: The first characters that make a spreadsheet read a CSV cell as a formula (``=``, ``+``, ``-``,
#: ``@``, and tab and carriage return, which some spreadsheets skip before looking).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A text cell as a CSV file holds it safely: one beginning with a formula prefix (see
    `FORMULA_PREFIXES`) gets a leading single quote (``=1+2`` is written ``'=1+2``), which
    spreadsheets show as text; other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@provide("to_csv")
def to_csv(result: Result | TreeResult, path: str | os.PathLike[str] | None = None) -> str:
    """The plan as one long CSV table (`procure.report.tables.plan_table`): columns ``period``,
    ``site``, ``offer``, ``vendor``, ``bought (units)``, ``fleet (units)``, ``compute
    (PFLOP/s)``, ``power (GW)``, ``capex ($)``, led by ``scenario`` for a tree.  Returns the text;
    writes it to ``path`` if given (whole, or not at all).  No plan gives the header only.

    Every field is quoted (a name holding a comma, a quote or a line break stays one cell of one
    row), and a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    written with a leading single quote (``'=x``) so that no spreadsheet runs it as a formula
    (see `csv_text`); numbers are written as they are."""
    table = _stacked(result, tables.plan_table)
    safe = table.map(csv_text).rename(columns=csv_text)
    text = safe.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    if path is not None:
        write_text(path, text)
    return text
