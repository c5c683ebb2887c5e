"""Tabular input: problems from CSV files, Excel workbooks and pandas DataFrames.

A table holds one list-of-records field of the problem format (``offers``,
``sites``, ``vendors``, ``demand_scenarios``, ``risk.scenarios``): one row per
record, one column per field.  A column's header is the field's path inside the
record, as error paths write it:

- ``compute``, ``lot_size``: one value;
- ``unit_cost``: one number for every period, or ``unit_cost[2027]``, one
  column per period (not both for the same field);
- ``efficiency.training``, ``installed.oregon``, ``availability.nvidia``,
  ``workloads.training[2027]``: one key of a mapping;
- ``power_build.cost_per_gw[2027]``: a field of a nested record;
- ``price_tiers[0].from_units``, ``price_tiers[1].unit_cost``: a field of the
  n-th (from 0) record of a nested list;
- a list of names or periods (a site's ``vendors``, a scenario's ``periods``):
  one cell, comma-separated (``google, nvidia``) or a JSON list;
- a whole mapping or nested list may also be one cell of JSON text
  (``efficiency`` = ``{"training": 0.8}``).

Empty cells mean "field absent"; rows with every cell empty are skipped.  A
whole problem in one workbook has a sheet ``problem`` (or ``settings``) of
``field`` / ``value`` rows, with one column per period for per-period fields,
and one sheet per table (see docs/problem-format.md, "Tables (CSV and Excel)").

Every error names the file (and sheet), the row and the column; validation
errors raised on the assembled problem are traced back to the cell.

Inputs are not trusted: an Excel cell reads as what it holds (a formula as its
computed value; a formula without one, or an error value such as ``#N/A``, is an
error naming the cell, never an empty cell); a reference names a regular file in
the problem file's folder (or in a folder the caller allows); files, rows,
columns and cells are bounded (`procure.problem.io.MAX_FILE_BYTES`, `MAX_ROWS`,
`MAX_COLUMNS`, `MAX_CELLS`, `MAX_UNZIPPED_BYTES`) before a grid is made.
"""

from __future__ import annotations

import csv
import dataclasses
import decimal
import difflib
import functools
import io
import json
import math
import numbers
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from xml.parsers import expat

import numpy as np
import pandas as pd

from ..base.errors import ProblemError
from ..base.hooks import provide, provided
from .io import RepeatedKey, json_object, read_file, read_mapping, write_text, write_workbook
from .validate import parse_periods, show

if TYPE_CHECKING:
    from .format import Problem  # built through `Problem.from_dict` (format imports this module)

__all__ = [
    "TABLE_FIELDS",
    "Column",
    "Settings",
    "Table",
    "TableError",
    "build",
    "flatten",
    "locate",
    "parse_column",
    "problem_from_excel",
    "problem_from_file",
    "problem_from_tables",
    "problem_to_excel",
    "read_table",
    "write_starter",
]

# --------------------------------------------------------------------------- schema


class Leaf(Enum):
    """How one cell is read."""

    NUMBER = "a number"
    INTEGER = "a whole number"
    TEXT = "text"
    NAMES = "a list of names"
    PERIODS = "a list of periods"
    JSON = "JSON text"
    INSTALLED = "a whole number (or JSON text)"


@dataclass(frozen=True)
class PerPeriodSpec:
    """A per-period number: one column ``field`` or one column per period ``field[2027]``."""


@dataclass(frozen=True)
class Keyed:
    """A mapping name -> value (``efficiency``, ``installed``, ``workloads``, ``availability``)."""

    value: Spec
    plain: Leaf = Leaf.JSON  # a column of the bare field name


@dataclass(frozen=True)
class Record:
    """A mapping of known fields (a record, ``power_build``, ``risk``)."""

    fields: Mapping[str, Spec]


@dataclass(frozen=True)
class Records:
    """A list of records (an offer's ``price_tiers``)."""

    fields: Mapping[str, Spec]


Spec = Leaf | PerPeriodSpec | Keyed | Record | Records

PP = PerPeriodSpec()
NUM, INT, TEXT = Leaf.NUMBER, Leaf.INTEGER, Leaf.TEXT

BUILD = Record({"cost_per_gw": PP, "block_gw": NUM, "max_gw": PP, "lead_time": INT, "fixed_cost": PP})

#: The fields of a record of each table, keyed by the problem field the table holds.
TABLE_FIELDS: dict[str, Mapping[str, Spec]] = {
    "offers": {
        "name": TEXT,
        "vendor": TEXT,
        "unit_cost": PP,
        "price_tiers": Records({"from_units": INT, "unit_cost": PP}),
        "discount": TEXT,
        "efficiency": Keyed(NUM),
        "compute": NUM,
        "power_kw": NUM,
        "opex_per_year": NUM,
        "lot_size": INT,
        "min_order": INT,
        "max_units": PP,
        "lifetime": INT,
        "lead_time": INT,
        "installed": Keyed(INT, plain=Leaf.INSTALLED),
        "installed_life": INT,
    },
    "sites": {
        "name": TEXT,
        "power_cap_gw": PP,
        "pue": NUM,
        "electricity_price": PP,
        "vendors": Leaf.NAMES,
        "power_build": BUILD,
    },
    "vendors": {
        "name": TEXT,
        "onboarding_cost": NUM,
        "max_share": NUM,
        "min_spend": NUM,
        "max_spend": NUM,
        "min_share": NUM,
        "max_new_compute": PP,
    },
    "demand_scenarios": {"name": TEXT, "probability": NUM, "demand": PP, "workloads": Keyed(PP)},
    "risk.scenarios": {"name": TEXT, "probability": NUM, "availability": Keyed(NUM), "periods": Leaf.PERIODS},
    "options": {
        "name": TEXT,
        "offer": TEXT,
        "max_units": INT,
        "reserve_cost": NUM,
        "reserve_period": INT,
        "exercise_price": PP,
        "exercise_until": INT,
    },
}

#: The sheet of each table in a workbook (and the sheet a reference without ``#sheet`` looks for first).
SHEETS: dict[str, str] = {
    "offers": "offers",
    "sites": "sites",
    "vendors": "vendors",
    "demand_scenarios": "demand_scenarios",
    "risk.scenarios": "scenarios",
    "options": "options",
}

#: A record's kind in messages: ``row 3 (offer 'tpu-v7')``.
KINDS: dict[str, str] = {
    "offers": "offer",
    "sites": "site",
    "vendors": "vendor",
    "demand_scenarios": "demand scenario",
    "risk.scenarios": "scenario",
    "options": "option",
}

RISK = {
    "max_share": NUM,
    "min_vendors": INT,
    "min_vendor_share": NUM,
    "survive_vendor_loss": NUM,
    "hhi_weight": NUM,
    "max_hhi": NUM,
    "shortfall_penalty": NUM,
    "cvar_alpha": NUM,
    "risk_weight": NUM,
    "max_cvar": NUM,
    "scenario_cvar_weight": NUM,
    "scenario_cvar_alpha": NUM,
}

#: The rows of a workbook's ``problem`` sheet: the top-level fields that are not tables.
SETTINGS: dict[str, Spec] = {
    "name": TEXT,
    "periods": Leaf.PERIODS,
    "demand": PP,
    "workloads": Keyed(PP),
    "power_cap_gw": PP,
    "pue": NUM,
    "electricity_price": PP,
    "budget": PP,
    "total_budget": NUM,
    "discount_rate": NUM,
    "unserved_penalty": NUM,
    "power_build": BUILD,
    "risk": Record(RISK),
}

SETTINGS_SHEETS = ("problem", "settings")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

# --------------------------------------------------------------------------- columns


class TableError(ProblemError):
    """A table (file, sheet or DataFrame) cannot be read; the message names file, sheet, row and column."""


def _raise(message: str, *, path: str = "", value: Any = None) -> NoReturn:
    raise TableError(message, path=path, value=value)


@dataclass(frozen=True)
class Column:
    """One column: its header, the keys of its value inside a record, how its cells are read.

    ``keys`` holds field names and mapping keys (``str``), tier positions and
    periods (``int``); ``spread`` is true for a per-period field given as one
    column (one number for every period).
    """

    header: str
    keys: tuple[str | int, ...]
    leaf: Leaf
    spread: bool = False


class _Bad(ValueError):
    """Why one header or cell cannot be read (the caller adds where)."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PERIOD = re.compile(r"\[\s*(-?[0-9]+)\s*\]$")
_INDEX = re.compile(r"\[\s*([0-9]+)\s*\]\.")


def parse_column(header: str, fields: Mapping[str, Spec], periods: Sequence[int] | None) -> Column:
    """The `Column` a header names among a record's ``fields``.

    Raises
    ------
    _Bad
        If the header names no field, or a period not in ``periods``.
    """
    return _field(header, header.strip(), (), fields, periods)


def _field(
    header: str, rest: str, keys: tuple[str | int, ...], fields: Mapping[str, Spec], periods: Sequence[int] | None
) -> Column:
    match = _NAME.match(rest)
    name = match.group(0) if match else rest
    if match is None or name not in fields:
        where = ".".join(str(k) for k in keys)
        near = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}?" if near else f"known fields: {', '.join(fields)}"
        raise _Bad(f"unknown field{f' of {where}' if where else ''}; {hint}")
    return _descend(header, rest[match.end() :], (*keys, name), fields[name], periods)


def _descend(header: str, rest: str, keys: tuple[str | int, ...], spec: Spec, periods: Sequence[int] | None) -> Column:
    dotted = ".".join(str(k) for k in keys)
    if isinstance(spec, Leaf):
        if rest:
            raise _Bad(f"{dotted} is one value ({spec.value}): nothing may follow it")
        return Column(header, keys, spec)
    if isinstance(spec, PerPeriodSpec):
        if not rest:
            return Column(header, keys, NUM, spread=True)
        match = _PERIOD.fullmatch(rest)
        if match is None:
            raise _Bad(f"{dotted} is per-period: name the column {dotted} or {dotted}[period], e.g. {dotted}[2027]")
        period = int(match.group(1))
        if periods is not None and period not in periods:
            raise _Bad(f"period {period} is not one of the periods ({periods[0]}..{periods[-1]})")
        return Column(header, (*keys, period), NUM)
    if not rest:
        return Column(header, keys, spec.plain if isinstance(spec, Keyed) else Leaf.JSON)
    if isinstance(spec, Records):
        match = _INDEX.match(rest)
        if match is None:
            example = f"{dotted}[0].{next(iter(spec.fields))}"
            raise _Bad(f"{dotted} is a list of records: name a field of one, e.g. {example}")
        return _field(header, rest[match.end() :], (*keys, int(match.group(1))), spec.fields, periods)
    if not rest.startswith(".") or len(rest) < 2:
        raise _Bad(f"{dotted} is a mapping: name one key, e.g. {dotted}.<key>")
    if isinstance(spec, Record):
        return _field(header, rest[1:], keys, spec.fields, periods)
    key = rest[1:]
    if isinstance(spec.value, PerPeriodSpec):
        match = _PERIOD.search(key)
        if match is not None and match.start() > 0:
            return _descend(header, key[match.start() :], (*keys, key[: match.start()]), PP, periods)
        return Column(header, (*keys, key), NUM, spread=True)
    return Column(header, (*keys, key), spec.value if isinstance(spec.value, Leaf) else Leaf.JSON)


def _path_text(keys: Sequence[str | int]) -> str:
    """Keys as a field path: ``unit_cost[2027]``, ``price_tiers[1].from_units``, ``installed.oregon``."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


# --------------------------------------------------------------------------- cells


class CellProblem:
    """A spreadsheet cell that holds no value procure can read: an Excel error (``#N/A``,
    ``#DIV/0!``), or a formula without a computed value.  It stands in the grid in place of the
    value, so that the error names the file, sheet, row, record and column like any bad cell."""

    __slots__ = ("ref", "why")

    def __init__(self, ref: str, why: str) -> None:
        self.ref = ref
        self.why = why

    def __repr__(self) -> str:
        return f"cell {self.ref}"

    __str__ = __repr__


def _is_na(value: Any) -> bool:
    """``value`` is a missing value (None, NaN, NaT, pd.NA); never raises, whatever ``value`` is."""
    if value is None:
        return True
    if isinstance(value, (str, int, CellProblem)):
        return False
    if isinstance(value, float):
        return value != value
    try:
        missing = pd.isna(value)
    except Exception:  # an object pandas cannot test
        return False
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def _empty(value: Any) -> bool:
    """A cell is empty: missing, or text of only spaces."""
    if isinstance(value, str):
        return not value.strip()
    return _is_na(value)


def _blank(cells: pd.Series) -> pd.Series:
    """True where a cell is empty (missing, or text of only spaces)."""
    return pd.Series([_empty(v) for v in cells], index=cells.index, dtype=bool)


_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE_TEXT = re.compile(r"[+-]?[0-9]{1,30}")


def _number(value: Any) -> float:
    """A cell as a float (possibly not finite); booleans and complex numbers are not numbers.

    Raises
    ------
    _Bad
        If the cell is not a number.
    """
    if type(value) is float:
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.fullmatch(text) is None:
            raise _Bad("is not a number")
        return float(text)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise _Bad("is not a number")
    try:
        return float(value)
    except OverflowError:  # an int (or Fraction) beyond any float
        return math.inf
    except (TypeError, ValueError, ArithmeticError):
        raise _Bad("is not a number") from None


def _finite(value: Any) -> float:
    x = _number(value)
    if not math.isfinite(x):
        raise _Bad("is not a finite number")
    return x


def _integer(value: Any) -> int:
    """A cell as a whole number: ``64``, ``64.0`` or ``"64"`` (not ``64.5``, not ``inf``)."""
    if type(value) is int:
        return value
    if isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    try:
        x = _finite(value)
    except _Bad:
        x = math.nan
    if not x.is_integer():
        raise _Bad("is not a whole number")
    return int(x)


def _names(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip().startswith("["):
        items = _json(value)
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise _Bad("is not a JSON list of names")
        return items
    parts = [part.strip() for part in _text(value).split(",")]
    if not all(parts):
        raise _Bad("has an empty name (names are separated by commas)")
    return parts


def _periods(value: Any) -> list[int]:
    if isinstance(value, str) and value.strip().startswith("["):
        items = _json(value)
        if not isinstance(items, list):
            raise _Bad("is not a JSON list of periods")
        return [_whole(x) for x in items]
    if isinstance(value, str):
        return [_whole(part) for part in value.split(",")]
    return [_whole(value)]


def _whole(value: Any) -> int:
    """A whole number from a cell: ``2027``, ``2027.0`` or ``"2027"``."""
    try:
        return _integer(value)
    except _Bad:
        raise _Bad("is not a whole number") from None


def _text(value: Any) -> str:
    """A cell as text: text as it is, a number as written (``2027.0`` as ``2027``).

    Raises
    ------
    _Bad
        If the cell holds neither (a boolean, a complex number, a list, bytes, …).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise _Bad("is not text")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    try:
        return str(value)
    except ValueError:  # an integer of more digits than str() converts
        raise _Bad("is not text") from None


def _label(value: Any) -> str:
    """A header, field name or record name for messages and lookups; never raises."""
    try:
        return _text(value)
    except _Bad:
        return show(value)


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        raise _Bad("is not JSON text")
    try:
        return json_object(value)
    except json.JSONDecodeError as exc:
        raise _Bad(f"is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except RepeatedKey as exc:
        raise _Bad(f"is not valid here: JSON text whose {exc}") from None
    except RecursionError:
        raise _Bad("is JSON nested too deeply to read (a field nests only a few levels)") from None
    except ValueError:  # an integer of more digits than int() converts
        raise _Bad("is JSON holding an integer too long to read") from None


def _installed(value: Any) -> Any:
    if isinstance(value, str) and value.strip().startswith("{"):
        return _json(value)
    return _whole(value)


_PARSERS: dict[Leaf, Callable[[Any], Any]] = {
    Leaf.NUMBER: _finite,
    Leaf.INTEGER: _integer,
    Leaf.TEXT: _text,
    Leaf.NAMES: _names,
    Leaf.PERIODS: _periods,
    Leaf.JSON: _json,
    Leaf.INSTALLED: _installed,
}


def _read_cells(cells: Sequence[Any], leaf: Leaf) -> tuple[list[Any], list[str | None], list[int]]:
    """Read cells as ``leaf``: each one's value (``None`` where empty or bad), why it cannot be read
    (``None`` where it can), and the positions of the cells read."""
    parse = _PARSERS[leaf]
    values: list[Any] = []
    why: list[str | None] = []
    read: list[int] = []
    for k, value in enumerate(cells):
        if _empty(value):
            values.append(None)
            why.append(None)
        elif isinstance(value, CellProblem):
            values.append(None)
            why.append(value.why)
        else:
            try:
                values.append(parse(value))
                why.append(None)
                read.append(k)
            except _Bad as exc:
                values.append(None)
                why.append(str(exc))
    return values, why, read


def convert(cells: pd.Series, leaf: Leaf) -> tuple[pd.Series, pd.Series]:
    """Read a column of cells as ``leaf``.

    Returns
    -------
    values : Series
        The value of every cell, ``None`` where blank.
    why : Series
        ``None`` where the cell was read, else why it cannot be.
    """
    values, why, _ = _read_cells(list(cells), leaf)
    return pd.Series(values, index=cells.index, dtype=object), pd.Series(why, index=cells.index, dtype=object)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """A table as read: where it came from, each record's row and label, its columns.

    Parameters
    ----------
    field : str
        The problem field it holds (``"offers"``, ``"risk.scenarios"``).
    where : str
        ``"offers.csv"``, ``"catalog.xlsx, sheet offers"``, ``"offers table"``.
    rows : tuple of str
        Each record's row: ``"row 3"`` (spreadsheet rows, the header is row 1) or
        ``"index 2"`` (a DataFrame's index label).
    labels : tuple of str
        Each record's name, ``""`` when its row has none.
    columns : tuple of Column
        The columns, in order.
    records : tuple of dict
        The records, as the problem mapping takes them.
    """

    field: str
    where: str
    rows: tuple[str, ...]
    labels: tuple[str, ...]
    columns: tuple[Column, ...]
    records: tuple[dict[str, Any], ...] = ()

    def row_text(self, k: int) -> str:
        """``row 3 (offer 'tpu-v7')``."""
        label = self.labels[k]
        return f"{self.rows[k]} ({KINDS[self.field]} {show(label)})" if label else self.rows[k]

    def locate(self, k: int, rest: str) -> str:
        """Where field ``rest`` of record ``k`` is: ``offers.csv, row 3 (offer 'x'), column unit_cost[2027]``."""
        where = f"{self.where}, {self.row_text(k)}"
        headers = [c.header for c in self.columns]
        path = rest
        while path:
            if path in headers:
                return f"{where}, column {_col(path)}"
            below = [h for h in headers if h.startswith((f"{path}[", f"{path}."))]
            if below:
                shown = ", ".join(_col(h) for h in below[:4]) + (", …" if len(below) > 4 else "")
                return f"{where}, column{'s' if len(below) > 1 else ''} {shown}"
            path = _parent(path)
        return where


def _parent(path: str) -> str:
    """``a.b[2]`` -> ``a.b`` -> ``a`` -> ``""``."""
    match = re.search(r"(\[[^\]]*\]|\.[^.\[\]]*)$", path)
    return path[: match.start()] if match and match.start() > 0 else ""


def _col(header: str) -> str:
    """A header as messages show it: cut short."""
    return header if len(header) <= 60 else header[:59] + "…"


def _headers(first: Sequence[Any], where: str) -> list[str]:
    """Header texts of a table's first row: ``2027.0`` reads as ``2027``; duplicates are refused."""
    headers = []
    for j, h in enumerate(first):
        if isinstance(h, CellProblem):
            _raise(f"{where}, column {j + 1}: the header, {h}, {h.why} (the first row names the columns)")
        headers.append("" if _is_na(h) else _label(h).strip())
    seen: dict[str, int] = {}
    for j, header in enumerate(headers):
        if header and header in seen:
            _raise(
                f"{where}: column {_col(header)} is given twice (columns {seen[header] + 1} and {j + 1})",
                value=header,
            )
        seen[header] = j
    return headers


def _filled(body: pd.DataFrame) -> np.ndarray:
    """True for each row of ``body`` with a cell that is not empty."""
    if not body.shape[1]:
        return np.zeros(len(body), dtype=bool)
    filled = np.zeros(len(body), dtype=bool)
    for j in range(body.shape[1]):
        filled |= np.fromiter((not _empty(v) for v in body.iloc[:, j].tolist()), dtype=bool, count=len(body))
    return filled


def _clean(grid: pd.DataFrame, where: str) -> tuple[list[str], pd.DataFrame, list[int]]:
    """Headers, body (object cells, columns without header and cells dropped) and each body row's number."""
    grid = grid.astype(object)
    headers = _headers(list(grid.iloc[0]) if len(grid) else [], where)
    body = grid.iloc[1:]
    for j, header in enumerate(headers):
        if not header and not _blank(body.iloc[:, j]).all():
            _raise(f"{where}: column {j + 1} has values but no header (the first row names the columns)")
    keep = [j for j, h in enumerate(headers) if h]
    body = body.iloc[:, keep].set_axis([headers[j] for j in keep], axis=1)
    filled = _filled(body)
    rows = [int(i) + 1 for i in body.index[filled]]
    return [headers[j] for j in keep], body[filled].reset_index(drop=True), rows


def _check_overlaps(columns: Sequence[Column], where: str) -> None:
    """A per-period field given both as one column and as columns per period is an error."""
    spread = {c.keys: c for c in columns if c.spread}
    for column in columns:
        whole = spread.get(column.keys[:-1])
        if whole is not None and isinstance(column.keys[-1], int):
            _raise(
                f"{where}: columns {_col(whole.header)} and {_col(column.header)} both give {_path_text(whole.keys)}: "
                f"give one number for every period ({_col(whole.header)}) or one column per period, not both",
                value=column.header,
            )
    keys = [c.keys for c in columns]
    for column in columns:
        if keys.count(column.keys) > 1:
            twin = next(c for c in columns if c.keys == column.keys and c is not column)
            _raise(
                f"{where}: columns {_col(twin.header)} and {_col(column.header)} name the same field",
                value=column.header,
            )


def read_table(
    grid: pd.DataFrame,
    field: str,
    where: str,
    periods: Sequence[int] | None,
    *,
    header_row: bool = True,
) -> Table:
    """Read one table of records.

    Parameters
    ----------
    grid : DataFrame
        With ``header_row``, the sheet as read (the first row names the
        columns); else a DataFrame whose columns are the headers.
    field : str
        The problem field it holds, a key of `TABLE_FIELDS`.
    where : str
        How messages name the table (``"offers.csv"``).
    periods : sequence of int, optional
        The problem's periods, to check period columns (not checked if None).

    Returns
    -------
    Table
        The records with where each came from.

    Raises
    ------
    ProblemError
        Naming the file (and sheet), row and column of the first bad header or cell.
    """
    if header_row:
        headers, body, numbers = _clean(grid, where)
        rows = tuple(f"row {n}" for n in numbers)
    else:
        _check_size(grid.shape[0] + 1, grid.shape[1], where)
        body = grid.astype(object).set_axis(_headers([_label(c) for c in grid.columns], where), axis=1)
        filled = _filled(body)
        rows = tuple(f"index {_col(_label(label))}" for label in body.index[filled])
        body = body[filled].reset_index(drop=True)
        headers = list(body.columns)
    fields = TABLE_FIELDS[field]
    columns = []
    for header in headers:
        try:
            columns.append(parse_column(header, fields, periods))
        except _Bad as exc:
            _raise(f"{where}, column {_col(header)}: {exc}", path=field, value=header)
    _check_overlaps(columns, where)
    names = body["name"] if "name" in body.columns else pd.Series("", index=body.index)
    labels = tuple("" if b else _label(n) for n, b in zip(names, _blank(names)))
    table = Table(field, where, rows, labels, tuple(columns))
    return dataclasses.replace(table, records=tuple(_records(body, table)))


def _records(body: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = [{} for _ in range(len(body))]
    for j, column in enumerate(table.columns):
        cells = body.iloc[:, j].tolist()
        values, why, read = _read_cells(cells, column.leaf)
        k = next((k for k, w in enumerate(why) if w is not None), None)
        if k is not None:
            _raise(
                f"{table.where}, {table.row_text(k)}, column {_col(column.header)}: {show(cells[k])} {why[k]}",
                path=f"{table.field}[{k}].{_path_text(column.keys)}",
                value=cells[k],
            )
        for k in read:
            _put(records[k], column, values[k], table, k)
    return [_tiers(record, table, k) for k, record in enumerate(records)]


def _put(record: dict[Any, Any], column: Column, value: Any, table: Table, k: int) -> None:
    """Set ``value`` at ``column.keys`` inside ``record``."""
    holder: dict[Any, Any] = record
    for key in column.keys[:-1]:
        inner = holder.setdefault(key, {})
        if not isinstance(inner, dict):
            _raise(
                f"{table.where}, {table.row_text(k)}, column {_col(column.header)}: "
                f"{_path_text(column.keys[: column.keys.index(key) + 1])} is already given whole in another column",
                value=value,
            )
        holder = inner
    if column.keys[-1] in holder:
        _raise(
            f"{table.where}, {table.row_text(k)}, column {_col(column.header)}: "
            f"{_path_text(column.keys)} is already given in another column",
            value=value,
        )
    holder[column.keys[-1]] = value


def _tiers(record: dict[str, Any], table: Table, k: int) -> dict[str, Any]:
    """An offer's ``price_tiers`` read from ``price_tiers[i].…`` columns become a list (from tier 0, no gaps)."""
    tiers = record.get("price_tiers")
    if not isinstance(tiers, dict):
        return record
    order = sorted(tiers)
    if order != list(range(len(order))):
        gap = next(i for i in range(len(order) + 1) if i not in tiers)
        _raise(
            f"{table.where}, {table.row_text(k)}, columns price_tiers[{gap}].…: tier {gap} is empty but "
            f"tier {order[-1]} is given (tiers are numbered from 0 without gaps)",
            path=f"{table.field}[{k}].price_tiers",
        )
    record["price_tiers"] = [tiers[i] for i in order]
    return record


# --------------------------------------------------------------------------- reading files

#: The most rows of records a table may have (CSV, sheet or DataFrame; blank rows count, the header
#: row does not).  Reading and validating 100,000 records takes a few seconds.
MAX_ROWS = 100_000
#: The most columns a table may have (as many as an Excel sheet can).
MAX_COLUMNS = 16_384
#: The most cells a table may span (rows × columns, empty cells included), checked before the grid
#: of cells is made.
MAX_CELLS = 4_000_000
#: The most bytes the parts of a workbook may take once unzipped (a zip "bomb" unzips a few KB into GB).
MAX_UNZIPPED_BYTES = 128 * 2**20


def _check_size(rows: int, columns: int, where: str) -> None:
    """A grid of ``rows`` (the header row included) × ``columns`` cells fits the limits."""
    if rows > MAX_ROWS + 1:
        _raise(f"{where}: has more than the {MAX_ROWS:,} rows of records a table may have")
    if columns > MAX_COLUMNS:
        _raise(f"{where}: has more than the {MAX_COLUMNS:,} columns a table may have")
    if rows * columns > MAX_CELLS:
        _raise(
            f"{where}: spans {rows:,} rows × {columns:,} columns, more than the {MAX_CELLS:,} cells a table may span"
        )


def _read_csv(data: bytes, where: str) -> pd.DataFrame:
    """The cells of a CSV file (UTF-8, a byte-order mark allowed), the header row included, as text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        _raise(f"{where}: line {line}: byte 0x{data[exc.start]:02x} is not UTF-8 text (save the CSV as UTF-8)")
    rows: list[list[str]] = []
    width = 0
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        for row in reader:
            rows.append(row)
            width = max(width, len(row))
            _check_size(len(rows), width, where)
    except csv.Error as exc:
        why = "a cell is too long" if "field limit" in str(exc) else str(exc).split(":")[0]
        _raise(f"{where}, row {len(rows) + 1}: cannot be read as CSV ({why})")
    if not any(cell.strip() for row in rows for cell in row):
        _raise(f"{where}: the file is empty (the first row names the columns)")
    return pd.DataFrame(rows, columns=range(width), dtype=object) if rows else pd.DataFrame(dtype=object)


#: The namespaces of a sheet's elements (transitional, as Excel writes, and strict OOXML).
_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
#: The elements read, by their expat name (``namespace tag``).
_TAGS = {f"{space} {tag}": tag for space in _NAMESPACES for tag in ("row", "c", "v", "f", "is", "t", "rPh")}
_COORDINATE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,9})")


@functools.lru_cache(maxsize=1024)
def _column_index(letters: str) -> int:
    from openpyxl.utils.cell import column_index_from_string  # openpyxl only where a workbook is read

    return int(column_index_from_string(letters.upper()))


def _coordinate(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as ``B3``."""
    match = _COORDINATE.fullmatch(ref)
    if match is None:
        raise _Bad(f"a cell reference ({show(ref)}) is not valid")
    return int(match.group(2)), _column_index(match.group(1))


_NO_VALUE = (
    "holds a formula without a computed value (a workbook written by a program has none until Excel or "
    "LibreOffice opens and saves it): open and save the workbook, or give the value"
)
_UNREADABLE = "holds a value that cannot be read (the file is damaged, or was not written by a spreadsheet)"


@dataclass(frozen=True)
class _Styles:
    """What a sheet's cells need from the workbook: its shared strings, the styles that make a number
    a date or a duration, and the date epoch."""

    shared: Sequence[str]
    dates: frozenset[int]
    durations: frozenset[int]
    epoch: Any


def _value(kind: str, text: str | None, style: str, formula: bool, ref: str, styles: _Styles) -> Any:
    """The value of a cell of type ``kind`` whose ``<v>`` holds ``text``: what the spreadsheet last
    computed; ``None`` when empty; a `CellProblem` for an error value, a formula without a computed
    value, or a value that cannot be read."""
    if not text:
        return CellProblem(ref, _NO_VALUE) if formula and kind != "str" else None
    try:
        if kind == "n":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            if styles.dates and int(style or 0) in styles.dates:
                from openpyxl.utils.datetime import from_excel

                return from_excel(number, styles.epoch, timedelta=int(style) in styles.durations)
            return number
        if kind == "s":
            return styles.shared[int(text)]
        if kind == "str":
            return text
        if kind == "b":
            return bool(int(text))
        if kind == "e":
            from openpyxl.cell.cell import ERROR_CODES

            code = text if text in ERROR_CODES else show(text)
            return CellProblem(ref, f"holds the Excel error {code}: give a value")
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(text)
    except (ValueError, TypeError, IndexError, OverflowError, ArithmeticError):
        pass
    return CellProblem(ref, _UNREADABLE)


class _SheetReader:
    """Reads the cells of a sheet's XML as a stream (expat, no tree is built, so memory does not
    grow with the sheet): ``found(row, column, value)`` is called for every cell holding something.

    Text of inline strings is the plain text and the runs' text (not the phonetic guide), as
    openpyxl reads it.  ``found`` may raise to stop the reading.
    """

    def __init__(self, styles: _Styles, found: Callable[[int, int, Any], None]) -> None:
        self.styles = styles
        self.found = found
        self.row = self.column = 0
        self.cell: dict[str, str] | None = None
        self.formula = False
        self.text: list[str] | None = None  # the text being collected (<v>, or an inline string's <t>)
        self.v: str | None = None
        self.inline: list[str] | None = None
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _TAGS.get(name)
        if tag is None:
            return
        if tag == "c":
            self.cell, self.formula, self.v, self.inline = attrs, False, None, None
        elif self.cell is None:
            if tag == "row":
                number = attrs.get("r")
                self.row = self.row + 1 if number is None else _reference_number(number, "row")
                self.column = 0
        elif tag == "v" or (tag == "t" and self.inline is not None and not self.phonetic):
            self.text = []
        elif tag == "f":
            self.formula = True
        elif tag == "is":
            self.inline = []
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        tag = _TAGS.get(name)
        if tag is None or self.cell is None:
            return
        if tag == "v" and self.text is not None:
            self.v, self.text = "".join(self.text), None
        elif tag == "t" and self.text is not None and self.inline is not None:
            self.inline.append("".join(self.text))
            self.text = None
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            cell, self.cell = self.cell, None
            ref = cell.get("r")
            if ref is None:
                self.column += 1
                row, column = self.row, self.column
                ref = _ref(row, column)
            else:
                row, column = _coordinate(ref)
                self.column = column
            kind = cell.get("t", "n")
            if kind == "inlineStr":
                value: Any = "".join(self.inline) if self.inline is not None else None
            else:
                value = _value(kind, self.v, cell.get("s", ""), self.formula, ref, self.styles)
            if value is not None:
                self.found(row, column, value)

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def read(self, source: Any) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        while chunk := source.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _ref(row: int, column: int) -> str:
    """A cell's reference: ``B3`` (``R3C20000`` beyond the columns letters name)."""
    from openpyxl.utils.cell import get_column_letter

    return f"{get_column_letter(column)}{row}" if 1 <= column <= 18_278 else f"R{row}C{column}"


def _reference_number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Bad(f"a {what} number ({show(text)}) is not valid") from None


class Workbook:
    """An Excel workbook read once (its bytes); its sheets read as grids of cells.

    A formula cell reads as the value the spreadsheet last computed; a formula without one, and an
    Excel error (``#N/A``, ``#DIV/0!``), read as a `CellProblem`, which is an error naming the cell
    wherever it is read.  A sheet is refused before its grid is made when its cells lie beyond
    `MAX_ROWS` / `MAX_COLUMNS` or span more than `MAX_CELLS`.
    """

    def __init__(self, data: bytes, where: str) -> None:
        self.where = where
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = archive.infolist()
        except Exception:
            _raise(f"{where}: cannot be read as an Excel workbook (it is not an .xlsx file: not a zip archive)")
        unzipped = sum(part.file_size for part in parts)
        if unzipped > MAX_UNZIPPED_BYTES or len(parts) > 10_000:
            _raise(
                f"{where}: unzips into {unzipped:,} bytes in {len(parts):,} parts, more than the "
                f"{MAX_UNZIPPED_BYTES:,} bytes a workbook read by procure may take"
            )
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # the workbook's parts other than its sheets: the sheet list, shared strings, styles (which
                # numbers are dates) and epoch (openpyxl's load_workbook would also read every sheet to size it)
                reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
                reader.read_manifest()
                reader.read_strings()
                reader.read_workbook()
                apply_stylesheet(reader.archive, reader.wb)
                found = [(str(sheet.name), rel) for sheet, rel in reader.parser.find_sheets()]
        except Exception as exc:  # zipfile.BadZipFile, openpyxl's InvalidFileException, an XML ParseError, ...
            _raise(f"{where}: cannot be read as an Excel workbook ({type(exc).__name__}: {_col(str(exc))})")
        self.archive = reader.archive
        self.styles = _Styles(
            reader.shared_strings,
            frozenset(reader.wb._date_formats),
            frozenset(reader.wb._timedelta_formats),
            reader.wb.epoch,
        )
        self.parts = {name: rel for name, rel in found if rel.target in reader.valid_files}
        self.sheets: list[str] = list(self.parts)

    def grid(self, sheet: str) -> pd.DataFrame:
        """The cells of ``sheet``, the header row included (row r, column c at ``[r - 1, c - 1]``)."""
        if sheet not in self.sheets:
            _raise(f"{self.where}: no sheet {sheet!r} (sheets: {', '.join(self.sheets)})", value=sheet)
        where = f"{self.where}, sheet {sheet}"
        part = self.parts[sheet]
        if "chartsheet" in str(part.Type):
            _raise(f"{where}: is a chart sheet, not a sheet of cells", value=sheet)
        rows: list[int] = []
        columns: list[int] = []
        values: list[Any] = []
        size = [0, 0]  # rows and columns spanned so far

        def found(row: int, column: int, value: Any) -> None:
            if row < 1 or column < 1:
                raise _Bad(f"a cell reference (row {row}, column {column}) is not valid")
            if row > MAX_ROWS + 1 or column > MAX_COLUMNS:
                _raise(
                    f"{where}, cell {_ref(row, column)}: is beyond the {MAX_ROWS:,} rows "
                    f"of records and {MAX_COLUMNS:,} columns a table may have"
                )
            if row > size[0] or column > size[1]:
                size[:] = max(size[0], row), max(size[1], column)
                _check_size(size[0], size[1], where)
            rows.append(row)
            columns.append(column)
            values.append(value)

        try:
            with self.archive.open(part.target) as source:
                _SheetReader(self.styles, found).read(source)
        except TableError:
            raise
        except _Bad as exc:
            _raise(f"{where}: cannot be read: {exc}", value=sheet)
        except expat.ExpatError as exc:
            _raise(f"{where}: cannot be read: its XML is not well formed ({_col(str(exc))})", value=sheet)
        except Exception as exc:  # a damaged part, ...
            _raise(f"{where}: cannot be read ({type(exc).__name__}: {_col(str(exc))})", value=sheet)
        if not values:
            return pd.DataFrame(dtype=object)
        grid = np.full((size[0], size[1]), None, dtype=object)
        for row, column, value in zip(rows, columns, values):
            grid[row - 1, column - 1] = value
        return pd.DataFrame(grid, dtype=object)


def _as_roots(allow_paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None) -> list[Path]:
    if allow_paths is None:
        return []
    if isinstance(allow_paths, (str, os.PathLike)):
        allow_paths = [allow_paths]
    return [Path(p).resolve() for p in allow_paths]


def _inside(target: Path, roots: Sequence[Path]) -> bool:
    return any(target == root or root in target.parents for root in roots)


def _reference_table(
    base: Path,
    problem_file: Path,
    field: str,
    ref: str,
    periods: Sequence[int] | None,
    books: dict[Path, Workbook],
    roots: Sequence[Path],
) -> Table:
    """The table that ``field = ref`` of a problem file names (inside one of ``roots``)."""
    name, _, sheet = ref.partition("#") if ".xls" in ref.lower() else (ref, "", "")
    file = base / name.strip()
    suffix = file.suffix.lower()
    shown = f"{problem_file}: {field} = {show(ref)}"
    if suffix == ".csv" and sheet:
        _raise(f"{shown}: a CSV file has no sheets", path=field, value=ref)
    if suffix != ".csv" and suffix not in EXCEL_SUFFIXES:
        _raise(f"{shown}: a table is a .csv or .xlsx file (optionally .xlsx#sheet)", path=field, value=ref)
    try:
        target = file.resolve()
    except (OSError, RuntimeError, ValueError):  # a symbolic link loop, a NUL byte
        _raise(f"{shown}: is not a path that can be read", path=field, value=ref)
    if not _inside(target, roots):
        _raise(
            f"{shown}: the table is outside the folder of {problem_file.name}; a table is read from that "
            "folder or below it (allow another folder with allow_paths=[folder], on the command line "
            "--allow-path FOLDER)",
            path=field,
            value=ref,
        )
    if suffix == ".csv":
        data = read_file(target, str(file), follow=False)
        return read_table(_read_csv(data, str(file)), field, str(file), periods)
    book = books.get(target) or books.setdefault(
        target, Workbook(read_file(target, str(file), follow=False), str(file))
    )
    if not sheet:
        own = SHEETS[field]
        sheet = own if own in book.sheets else (field if field in book.sheets else book.sheets[0])
    return read_table(book.grid(sheet), field, f"{file}, sheet {sheet}", periods)


def _known_periods(raw: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The periods of a problem mapping (the validator's error if they are bad; None if absent)."""
    return parse_periods(raw["periods"]) if raw.get("periods") is not None else None


def _get(raw: Mapping[str, Any], field: str) -> Any:
    if field == "risk.scenarios":
        risk = raw.get("risk")
        return risk.get("scenarios") if isinstance(risk, Mapping) else None
    return raw.get(field)


def _set(raw: dict[str, Any], field: str, records: list[dict[str, Any]]) -> None:
    if field == "risk.scenarios":
        raw["risk"] = {**raw["risk"], "scenarios": records}
    else:
        raw[field] = records


def problem_from_file(
    path: str | os.PathLike[str], *, allow_paths: Sequence[str | os.PathLike[str]] | None = None
) -> Problem:
    """Read a problem from a ``.json`` or ``.toml`` file whose tables may be references.

    ``offers = "offers.csv"`` (a path relative to the problem file) or
    ``offers = "catalog.xlsx#offers"`` stands for the list of records in that
    table; so do ``sites``, ``vendors``, ``demand_scenarios``, ``options`` and, in
    ``risk``, ``scenarios``.

    Parameters
    ----------
    path : str or PathLike
        The problem file.
    allow_paths : sequence of str or PathLike, optional
        Folders (or files) outside the problem file's folder that tables may be read from.
        Without them a reference must name a file in that folder or below it, once symbolic
        links are resolved (``"../x.csv"`` and ``"/etc/x.csv"`` are refused).

    Returns
    -------
    Problem
        The validated problem.

    Raises
    ------
    ProblemError
        If the file, a table or a field is bad; errors in a table name its
        file (and sheet), row and column.
    """
    return problem_from_mapping(read_mapping(path), path, allow_paths=allow_paths)


@provide("problem_from_mapping")  # `Problem`'s own constructors and writer call these
def problem_from_mapping(
    raw: dict[str, Any],
    path: str | os.PathLike[str],
    *,
    allow_paths: Sequence[str | os.PathLike[str]] | None = None,
) -> Problem:
    """`problem_from_file` of the mapping ``raw`` already read from the problem file ``path``."""
    file = Path(path)
    refs = [f for f in TABLE_FIELDS if isinstance(_get(raw, f), str)]
    if not refs:
        return provided("problem_from_dict")(raw)
    periods = _known_periods(raw)
    books: dict[Path, Workbook] = {}
    roots = [file.parent.resolve(), *_as_roots(allow_paths)]
    tables = [_reference_table(file.parent, file, f, _get(raw, f), periods, books, roots) for f in refs]
    for table in tables:
        _set(raw, table.field, list(table.records))
    return build(raw, tables)


# --------------------------------------------------------------------------- tracing validation errors

_TABLE_PATH = re.compile(
    r"(risk\.scenarios|offers|sites|vendors|demand_scenarios|options)(?:\[([^\]]*)\](?:\.?(.*))?)?"
)


@dataclass(frozen=True)
class Settings:
    """Where the rows of a ``problem`` sheet are: field path -> spreadsheet row, and the period columns."""

    where: str
    rows: Mapping[str, int]
    periods: tuple[int, ...] = ()

    def locate(self, path: str) -> str | None:
        """``catalog.xlsx, sheet problem, row 4 (demand), column 2027`` for ``demand[2027]``."""
        match = _PERIOD.search(path)
        base, period = (path[: match.start()], int(match.group(1))) if match and match.start() else (path, None)
        for key in (path, base):
            if key in self.rows:
                column = str(period) if key == base and period in self.periods else "value"
                return f"{self.where}, row {self.rows[key]} ({key}), column {column}"
        while base:
            base = _parent(base)
            if base in self.rows:
                return f"{self.where}, row {self.rows[base]} ({base})"
        return None


def locate(path: str, tables: Sequence[Table], settings: Settings | None = None) -> str | None:
    """Where the field at ``path`` (``offers[2].unit_cost[2027]``, ``offers[tpu-v7].lot_size``) came from."""
    match = _TABLE_PATH.fullmatch(path)
    table = next((t for t in tables if match and t.field == match.group(1)), None)
    if match and table is not None:
        item, rest = match.group(2), match.group(3) or ""
        if item is None:
            return table.where
        k = int(item) if item.isdigit() and int(item) < len(table.records) else None
        if k is None and item in table.labels:
            k = table.labels.index(item)
        return table.locate(k, rest) if k is not None else table.where
    return settings.locate(path) if settings is not None else None


def build(raw: Mapping[str, Any], tables: Sequence[Table], settings: Settings | None = None) -> Problem:
    """`Problem.from_dict`, with a validation error's location in a table (file, sheet, row, column) added."""
    try:
        return provided("problem_from_dict")(raw)
    except TableError:
        raise
    except ProblemError as exc:
        where = locate(exc.path, tables, settings)
        if where is None:
            raise
        raise type(exc)(f"{where}: {exc}", path=exc.path, value=exc.value) from None


# --------------------------------------------------------------------------- whole problems


def _settings(grid: pd.DataFrame, where: str) -> tuple[dict[str, Any], Settings]:
    """The top-level fields of a ``problem`` sheet: columns ``field``, ``value`` and one per period."""
    headers, body, numbers = _clean(grid, where)
    if not headers or headers[0].lower() != "field":
        _raise(f"{where}: the first column is 'field' (then 'value', then one column per period)")
    value_column = len(headers) > 1 and headers[1].lower() == "value"
    period_headers = headers[2:] if value_column else headers[1:]
    columns: list[int] = []
    for header in period_headers:
        try:
            columns.append(_whole(header))
        except _Bad:
            _raise(
                f"{where}, column {_col(header)}: is not a period (after 'field' and 'value' each column is a period)"
            )
    names = body.iloc[:, 0].map(lambda f: "" if _is_na(f) or isinstance(f, CellProblem) else _label(f).strip())
    listed = list(names.index[names == "periods"])
    periods: tuple[int, ...] | None = None
    if listed and value_column:
        try:
            periods = tuple(_periods(body.iloc[listed[0], 1]))
        except _Bad:
            periods = None  # the validator names the bad periods row
    elif columns:
        periods = tuple(columns)
    raw: dict[str, Any] = {} if listed or not columns else {"periods": list(columns)}
    rows: dict[str, int] = {}
    for k in range(len(body)):
        _setting(body.iloc[k], numbers[k], raw, rows, where, value_column, columns, periods)
    if periods is not None:
        for header, p in zip(period_headers, columns):
            if p not in periods:
                _raise(
                    f"{where}, column {_col(header)}: period {p} is not one of the periods "
                    f"({periods[0]}..{periods[-1]})"
                )
    return raw, Settings(where, rows, tuple(columns))


def _setting(
    cells: pd.Series,
    row: int,
    raw: dict[str, Any],
    rows: dict[str, int],
    where: str,
    value_column: bool,
    columns: Sequence[int],
    periods: Sequence[int] | None,
) -> None:
    """One row of a ``problem`` sheet into ``raw``."""
    first = cells.iloc[0]
    at = f"{where}, row {row}"
    if isinstance(first, CellProblem):
        _raise(f"{at}, column field: {first} {first.why}")
    name = "" if _is_na(first) else _label(first).strip()
    if not name:
        _raise(f"{at}: values without a field name in column 'field'")
    try:
        column = parse_column(name, SETTINGS, periods)
    except _Bad as exc:
        top = _NAME.match(name)
        if top and top.group(0) in SHEETS:
            _raise(f"{at} ({_col(name)}): {top.group(0)} is a table: give it as the sheet {SHEETS[top.group(0)]!r}")
        if name == "risk.scenarios":
            _raise(f"{at} ({_col(name)}): risk.scenarios is a table: give it as the sheet 'scenarios'")
        _raise(f"{at} ({_col(name)}): {exc}", value=name)
    key = _path_text(column.keys)
    if key in rows:
        _raise(f"{at} ({_col(name)}): {key} is already given in row {rows[key]}", value=name)
    rows[key] = row
    value = cells.iloc[1:2] if value_column else pd.Series([], dtype=object)
    by_period = cells.iloc[2:] if value_column else cells.iloc[1:]
    has_value = not _blank(value).all()
    filled = ~_blank(by_period).to_numpy(dtype=bool)
    if has_value and filled.any():
        _raise(f"{at} ({_col(name)}): give the value column or the period columns, not both", value=name)
    if filled.any() and not column.spread:
        _raise(
            f"{at} ({_col(name)}): {key} is one value: give it in the value column, not in period columns", value=name
        )
    target = Table("", where, (f"row {row}",), (name,), (column,))
    if has_value:
        got, why = convert(value, column.leaf)
        if why.notna().any():
            _raise(
                f"{at} ({_col(name)}), column value: {show(value.iloc[0])} {why.iloc[0]}", path=key, value=value.iloc[0]
            )
        _put_top(raw, column, got.iloc[0], target)
    elif filled.any():
        got, why = convert(by_period, NUM)
        for j in range(len(by_period)):
            if pd.notna(why.iloc[j]):
                cell = by_period.iloc[j]
                _raise(f"{at} ({_col(name)}), column {columns[j]}: {show(cell)} {why.iloc[j]}", path=key, value=cell)
        per = Column(name, column.keys, NUM)
        _put_top(raw, per, {p: v for p, v, f in zip(columns, got, filled) if f}, target)


def _put_top(raw: dict[str, Any], column: Column, value: Any, target: Table) -> None:
    try:
        _put(raw, column, value, target, 0)
    except TableError as exc:
        _raise(str(exc).replace(f", column {_col(column.header)}", ""), value=value)


@provide("problem_from_excel")  # `Problem`'s own constructors and writer call these
def problem_from_excel(path: str | os.PathLike[str]) -> Problem:
    """Read a whole problem from one workbook (see `Problem.from_excel`)."""
    file = Path(path)
    book = Workbook(read_file(file, str(file)), str(file))
    given = [s for s in book.sheets if s.lower() in SETTINGS_SHEETS]
    if len(given) != 1:
        _raise(
            f"{file}: needs one sheet 'problem' (or 'settings') of field/value rows; "
            f"{'found ' + ', '.join(given) if given else 'sheets: ' + ', '.join(book.sheets)}",
            value=str(file),
        )
    sheet_of = {sheet: f for f, sheet in SHEETS.items()}
    for sheet in book.sheets:
        if sheet not in given and sheet not in sheet_of and not sheet.startswith("#"):
            near = difflib.get_close_matches(sheet, list(sheet_of), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"known sheets: problem, {', '.join(sheet_of)}"
            _raise(f"{file}, sheet {sheet}: unknown sheet ({hint}; a sheet named '#…' is ignored)", value=sheet)
    raw, settings = _settings(book.grid(given[0]), f"{file}, sheet {given[0]}")
    periods = _known_periods(raw)
    tables = [
        read_table(book.grid(sheet), sheet_of[sheet], f"{file}, sheet {sheet}", periods)
        for sheet in book.sheets
        if sheet in sheet_of
    ]
    for table in tables:
        if table.field == "risk.scenarios":
            raw.setdefault("risk", {})
        _set(raw, table.field, list(table.records))
    return build(raw, tables, settings)


@provide("problem_from_tables")  # `Problem`'s own constructors and writer call these
def problem_from_tables(tables: Mapping[str, Any], fields: Mapping[str, Any]) -> Problem:
    """A problem from DataFrames (keyed by problem field; ``scenarios`` is ``risk.scenarios``) and fields."""
    raw = dict(fields)
    periods = _known_periods(raw)
    read = []
    for name, frame in tables.items():
        if frame is None:
            continue
        field = "risk.scenarios" if name == "scenarios" else name
        if not isinstance(frame, pd.DataFrame):
            if field == "risk.scenarios":
                raw["risk"] = {**(raw.get("risk") or {}), "scenarios": frame}
            else:
                raw[field] = frame
            continue
        table = read_table(frame, field, f"{name} table", periods, header_row=False)
        if field == "risk.scenarios":
            raw["risk"] = dict(raw.get("risk") or {})
        _set(raw, field, list(table.records))
        read.append(table)
    return build(raw, read)


# --------------------------------------------------------------------------- writing


def _safe(key: str) -> bool:
    """A mapping key that can be part of a column header."""
    return bool(key) and not any(c in key for c in "[]") and key == key.strip()


def _list_text(items: Sequence[Any]) -> str:
    texts = [str(x) for x in items]
    if items and all(isinstance(x, int) for x in items):
        return ", ".join(texts)
    if items and all(isinstance(x, str) and _safe(x) and "," not in x and not x.startswith("[") for x in items):
        return ", ".join(texts)
    return json.dumps(list(items))


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(header, cell)`` pairs of a value of the problem mapping (the inverse of reading columns).

    Per-period mappings ``{2027: x}`` become ``prefix[2027]`` columns; other
    mappings ``prefix.key``; lists of records ``prefix[i].…``; lists of names or
    periods one comma-separated cell.  A mapping with a key no header can hold
    (empty, or with ``[``/``]``) becomes one cell of JSON text.
    """
    if isinstance(value, Mapping):
        if all(isinstance(k, int) for k in value) and value:
            for period, x in value.items():
                yield f"{prefix}[{period}]", x
        elif value and all(isinstance(k, str) and _safe(k) for k in value):
            for key, x in value.items():
                yield from flatten(x, f"{prefix}.{key}" if prefix else key)
        else:
            yield prefix, json.dumps(_jsonable(value))
    elif isinstance(value, (list, tuple)) and value and all(isinstance(x, Mapping) for x in value):
        for i, x in enumerate(value):
            yield from flatten(x, f"{prefix}[{i}]")
    elif isinstance(value, (list, tuple)):
        yield prefix, _list_text(value)
    else:
        yield prefix, value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def table_frame(records: Sequence[Mapping[str, Any]], periods: Sequence[int]) -> pd.DataFrame:
    """Records as a table: one row each, one column per header of `flatten`.

    A per-period field that is one number in some rows and a mapping in others
    gets one column per period throughout.
    """
    rows = [dict(flatten(record)) for record in records]
    headers = list(dict.fromkeys(h for row in rows for h in row))
    for whole in [h for h in headers if any(f"{h}[{p}]" in headers for p in periods)]:
        expanded = [f"{whole}[{p}]" for p in periods]
        for row in rows:
            if whole in row:
                x = row.pop(whole)
                row.update(dict.fromkeys(expanded, x))
        at = headers.index(whole)
        headers = list(dict.fromkeys([*headers[:at], *expanded, *headers[at + 1 :]]))
    return pd.DataFrame(rows, columns=headers, dtype=object)


def settings_frame(data: Mapping[str, Any], periods: Sequence[int]) -> pd.DataFrame:
    """The ``problem`` sheet: one row per top-level field, ``field`` / ``value`` / one column per period."""
    lines: dict[str, dict[str | int, Any]] = {}
    first = {key: data[key] for key in ("name", "periods") if key in data}
    for header, cell in flatten({**first, **data}):
        match = _PERIOD.search(header)
        if match and match.start():
            lines.setdefault(header[: match.start()], {})[int(match.group(1))] = cell
        else:
            lines[header] = {"value": cell}
    rows = [{"field": name, **cells} for name, cells in lines.items()]
    spread = any(isinstance(k, int) for cells in lines.values() for k in cells)
    return pd.DataFrame(rows, columns=["field", "value", *(periods if spread else [])], dtype=object)


def _exact(value: Any) -> Any:
    """A cell that reads back as ``value``: openpyxl writes 16 significant digits, so a float that
    needs 17 is written as its text (read back as the same number)."""
    if isinstance(value, float) and math.isfinite(value) and float(f"{value:.16g}") != value:
        return repr(value)
    return value


@provide("problem_to_excel")  # `Problem`'s own constructors and writer call these
def problem_to_excel(problem: Problem, path: str | os.PathLike[str]) -> Path:
    """Write ``problem`` as a workbook that `problem_from_excel` reads back equal (see `Problem.to_excel`).

    Text is written as text, never as a formula (a name ``=x`` stays ``=x``); the file is written whole
    or not at all.

    Raises
    ------
    ProblemError
        If a text does not fit in an Excel cell (more than 32,767 characters), naming the sheet, the
        cell and the field.
    """
    data = problem.to_dict()
    risk = data.get("risk") or {}
    frames: dict[str, pd.DataFrame] = {}
    fields: dict[str, str] = {}
    for field_name, sheet in SHEETS.items():
        records = risk.pop("scenarios", None) if field_name == "risk.scenarios" else data.pop(field_name, None)
        if records:
            frames[sheet] = table_frame(records, problem.periods).map(_exact)
            fields[sheet] = field_name
    if "risk" in data and not risk:
        del data["risk"]
    settings = settings_frame(data, problem.periods).map(_exact)

    def field_of(sheet: str, k: int, header: str) -> str:
        if sheet == "problem":
            name = str(settings.iloc[k, 0])
            return name if header in ("field", "value") else f"{name}[{header}]"
        return f"{fields[sheet]}[{k}].{header}"

    return write_workbook(path, {"problem": settings, **frames}, field_of=field_of)


# --------------------------------------------------------------------------- starter

STARTER_TOML = """\
# A starter procurement problem: edit it, then solve it with
#
#     procure solve problem.toml --report plan.html
#
# or, in Python: procure.solve("problem.toml").summary()
#
# The offers (what can be bought) are in offers.csv: one row per offer, one
# column per field; unit_cost[2027] is the unit cost in 2027.  See
# docs/problem-format.md for every field.  Compute is in PFLOP/s (dense BF16),
# power per chip in kW, money in dollars.  All numbers are illustrations.

name = "starter"
periods = [2026, 2027, 2028, 2029]

# compute that must be operational in each period
demand = { "2026" = 200_000, "2027" = 450_000, "2028" = 800_000, "2029" = 1_200_000 }

offers = "offers.csv"

# facility power = pue x IT power, capped in GW
pue = 1.15
power_cap_gw = { "2026" = 0.3, "2027" = 0.6, "2028" = 1.0, "2029" = 1.4 }
electricity_price = 70                 # $/MWh

# capex paid in each period, and over the horizon
budget = { "2026" = 6e9, "2027" = 8e9, "2028" = 10e9, "2029" = 12e9 }
total_budget = 32e9
discount_rate = 0.08

[risk]
max_share = 0.6                        # no vendor above 60% of operational compute
"""

STARTER_OFFERS = pd.DataFrame(
    {
        "name": ["gb300", "tpu-v7", "trainium3"],
        "vendor": ["nvidia", "google", "amazon"],
        "compute": [2.5, 2.3, 0.67],
        "power_kw": [1.75, 1.1, 1.3],
        "unit_cost[2026]": [45_000, 35_000, 18_000],
        "unit_cost[2027]": [43_000, 33_000, 17_000],
        "unit_cost[2028]": [41_000, 31_500, 16_000],
        "unit_cost[2029]": [39_000, 30_000, 15_000],
        "opex_per_year": [5_500, 3_650, 3_650],
        "lot_size": [72, 256, 64],
        "lifetime": [5, 5, 5],
        "max_units": [300_000, 250_000, 600_000],
    }
)


def write_starter(directory: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Write a starter problem: ``problem.toml`` (commented) and the ``offers.csv`` it references.

    Parameters
    ----------
    directory : str or PathLike
        Where to write (created if missing).
    force : bool
        Overwrite files that exist; without it an existing file is an error.

    Returns
    -------
    list of Path
        The files written, ``problem.toml`` first.

    Raises
    ------
    FileExistsError
        If a file exists and ``force`` is false (nothing is written then).
    """
    folder = Path(directory)
    files = {folder / "problem.toml": STARTER_TOML, folder / "offers.csv": STARTER_OFFERS.to_csv(index=False)}
    existing = [str(f) for f in files if f.exists()]
    if existing and not force:
        verb = "exists" if len(existing) == 1 else "exist"
        raise FileExistsError(f"{', '.join(existing)}: already {verb} (force=True overwrites)")
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in files.items():
        write_text(file, text)
    return list(files)
