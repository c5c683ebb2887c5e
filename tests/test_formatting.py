"""One formatter for every number people read (`procure.fmt`), and exact numbers in files.

The rules of each kind are checked at their edges (rounding up to the next suffix, zero,
negative, NaN, infinity); then every human-facing surface on the starter problem of
``procure init``: ``summary()``, the command line's solve, frontier, sweep and explain
tables, the Excel number formats, an example script.  None may show a raw dollar figure
(``20,789,720,427``) or a share as a fraction (``0.4004``); ``--json``, CSV and the workbook's
cells keep the exact numbers.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import procure
from procure.base import fmt
from procure.cli import main
from procure.report import tables
from procure.sweeps.sweep import display_table

ROOT = Path(__file__).resolve().parent.parent
#: A raw dollar figure: four or more groups of digits (a billion or more, written out).
RAW_DOLLARS = re.compile(r"\d{1,3}(,\d{3}){3,}")
#: A number with more than 4 decimals (0.59993, 0.007147) or in scientific notation (3.236e-05).
RAW_FRACTION = re.compile(r"\b\d+\.\d{5,}\b|\d\.?\d*e[-+]\d+")


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0, "$0"),
        (-0.0, "$0"),
        (3.456, "$3.46"),
        (3.5, "$3.50"),
        (87, "$87"),
        (999.4, "$999"),
        (999.6, "$1.00k"),  # rounds up into the next suffix, never "$1e+03"
        (1234, "$1.23k"),
        (902e6, "$902M"),
        (999.96e6, "$1.00B"),
        (20.79e9, "$20.8B"),
        (24e9, "$24.0B"),  # trailing zero kept: a column reads $24.0B beside $21.2B
        (163e9, "$163B"),
        (-1.1e9, "-$1.10B"),
        (5e12, "$5.00T"),
        (1.5e15, "$1,500T"),
        (1e-7, "$0"),
        (math.nan, "n/a"),
        (None, "n/a"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_money(x: Any, text: str) -> None:
    assert fmt.money(x) == text


def test_money_signs_and_digits() -> None:
    assert fmt.money(5e6, sign=True) == "+$5.00M"
    assert fmt.money(0, sign=True) == "$0"  # zero has no sign
    assert fmt.money(-5e6, sign=True) == "-$5.00M"
    assert fmt.money(20.79e9, 5) == "$20.790B"
    assert fmt.money(87, 1) == "$87"  # never fewer digits than the whole part
    assert fmt.money_interval(-1_100_160_611, -1_092_191_153, sign=True) == "[-$1.10B, -$1.09B]"
    # ends that read the same at three digits get more, until they differ
    assert fmt.money_interval(1_000_100_000, 1_000_200_000) == "[$1.0001B, $1.0002B]"


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (0.4001, 1, "40.0%"),
        (0.59993, 1, "60.0%"),
        (0, 1, "0%"),
        (7.147e-5, 1, "<0.1%"),  # not zero, never shown as zero
        (-7e-5, 1, ">-0.1%"),
        (-0.25, 1, "-25.0%"),
        (1.0, 1, "100.0%"),
        (math.nan, 1, "n/a"),
        (0.2, None, "20%"),  # a limit a person set: as exactly as it was given
        (0.555, None, "55.5%"),
        (0.33333, None, "33.33%"),
    ],
)
def test_share(x: float, digits: int | None, text: str) -> None:
    assert fmt.share(x, digits) == text


@pytest.mark.parametrize(
    ("kind", "x", "text"),
    [
        ("power", 0.13054386, "0.131 GW"),
        ("power", 1.0, "1.000 GW"),
        ("power", 0.0, "0.000 GW"),
        ("power", 1e-5, "0.01 MW"),  # below half a megawatt: MW, never "0.000 GW"
        ("power", -0.0015, "-0.002 GW"),
        ("power", 2_000_004_000.0, "2,000,004,000.000 GW"),  # thousands separators (a fuzzed cap once crashed here)
        ("count", 1199999.6, "1,200,000"),
        ("count", -0.4, "0"),
        ("count", -1234.0, "-1,234"),
        ("gap", 9.905e-05, "0.01%"),
        ("gap", 4.73e-05, "0.005%"),
        ("gap", 0.0123, "1.23%"),
        ("gap", 0.0, "0.00%"),
        ("gap", 1e-14, "0.00%"),  # round-off, not "1e-14%"
        ("gap", -1e-14, "0.00%"),
        ("seconds", 0.2252, "0.23 s"),
        ("seconds", 9.999, "10.0 s"),
        ("seconds", 59.96, "1 min 0 s"),  # not "60.0 s"
        ("seconds", 124.4, "2 min 4 s"),
        ("seconds", 3700, "1 h 2 min"),
        ("hhi", 0.52109178, "0.5211"),
        ("number", 1200.0, "1,200"),
        ("number", 0.123456, "0.1235"),
        ("number", -0.0, "0"),
    ],
)
def test_other_kinds(kind: str, x: float, text: str) -> None:
    assert fmt.FORMATTERS[kind](x) == text


def test_every_kind_reads_missing_and_infinite_values_alike() -> None:
    for kind, show in fmt.FORMATTERS.items():
        assert show(math.nan) == "n/a", kind
        assert show(math.inf) == "inf", kind
        assert show(-math.inf) == "-inf", kind
    assert set(fmt.EXCEL_FORMATS) == set(fmt.FORMATTERS)


def test_kinds_by_header_field_and_unit() -> None:
    assert fmt.kind_of("spend ($)") == "money" and fmt.kind_of("cost (PV $)") == "money"
    assert fmt.kind_of("nvidia (share)") == "share" and fmt.kind_of("power cap (GW)") == "power"
    assert fmt.kind_of("demand 2029 (PFLOP/s)") == "count" and fmt.kind_of("gb300 (units)") == "count"
    assert fmt.kind_of("HHI") == "hhi" and fmt.kind_of("gap") == "gap" and fmt.kind_of("solve time (s)") == "seconds"
    assert fmt.kind_of("period") is None and fmt.kind_of("status") is None
    assert fmt.kind_of_field("offers[gb300].unit_cost[2027]") == "money"
    assert fmt.kind_of_field("power_cap_gw[2027]") == "power"
    assert fmt.kind_of_field("risk.max_share") == "share"
    assert fmt.kind_of_field("pue") == "number"
    assert fmt.field("total_budget", 32e9) == "$32.0B"
    assert fmt.field("power_cap_gw[2026]", 0.1, sign=True) == "+0.100 GW"
    assert fmt.amount(1_200_000, "compute") == "1,200,000 compute"
    assert fmt.amount(1_200_000, "compute", named=False) == "1,200,000"
    assert fmt.amount(7.94e9, "$", sign=True) == "+$7.94B"
    assert fmt.amount(0.5, "share") == "50.0%"


def test_table_formats_numbers_only_and_keeps_the_frame() -> None:
    frame = pd.DataFrame({"cost": [20.79e9, math.nan, None], "flag": [True, False, True], "who": ["a", "b", "c"]})
    shown = fmt.table(frame, {"cost": "money", "flag": "money", "who": "money", "missing": "share"})
    assert list(shown["cost"]) == ["$20.8B", "n/a", "n/a"]
    assert list(shown["flag"]) == [True, False, True]  # truth values are not amounts
    assert list(shown["who"]) == ["a", "b", "c"]
    assert frame["cost"].iloc[0] == 20.79e9  # the frame itself is untouched


# --------------------------------------------------------------------------- the surfaces


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter problem of ``procure init`` (no disruption scenarios, total_budget $32B)."""
    folder = tmp_path_factory.mktemp("starter") / "st"
    assert main(["init", str(folder)]) == 0
    return folder / "problem.toml"


@pytest.fixture(scope="module")
def solved(starter: Path) -> procure.Result:
    result = procure.solve(starter)
    assert result.has_plan
    return result


def _readable(text: str) -> None:
    """No raw dollar figure and no share as a long fraction."""
    assert not RAW_DOLLARS.search(text), RAW_DOLLARS.search(text)
    assert not RAW_FRACTION.search(text), RAW_FRACTION.search(text)


def test_summary_shows_each_kind_by_one_rule(solved: procure.Result) -> None:
    text = solved.summary()
    _readable(text)
    table = text.split("units bought:")[0].splitlines()[2:]
    header = table[0].split()
    assert header[:4] == ["demand", "compute", "power", "power"]  # power, power cap
    rows = [line for line in table[2:] if line.strip()]
    for line in rows:
        assert len(re.findall(r"\b\d\.\d{3} GW", line)) == 2  # power and its cap: 3 decimals each
        assert re.search(r"\$\d+\.\d{2}B", line)  # spend: $3.27B, $5.17B
        assert len(re.findall(r"(?:\d+\.\d|<0\.1|\b0)%", line)) == 3  # a share per vendor, as a percentage
    assert f"(gap {fmt.gap(solved.gap)})" in text


def test_solve_prints_readable_numbers_and_json_keeps_them_exact(
    starter: Path, solved: procure.Result, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", str(starter), "--quiet"]) == 0
    _readable(capsys.readouterr().out)
    assert main(["solve", str(starter), "--quiet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cost"] == pytest.approx(solved.cost, rel=1e-12)
    assert data["cost"] != round(data["cost"], -6)  # dollars and cents, not $20.8B
    assert 0 < data["shares"]["nvidia"]["2026"] < 1  # a fraction, not 40.0


def test_frontier_table_and_progress(starter: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "frontier.csv"
    assert main(["frontier", str(starter), "--points", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    _readable(printed.out)
    _readable(printed.err)
    assert re.search(r"level \d+\.\d% → optimal, cost \$\d", printed.err)  # max_share as a percentage
    lines = printed.out.splitlines()
    assert "share nvidia" in lines[0]
    assert all(len(re.findall(r"\$\d", line)) == 2 for line in lines[2:])  # cost and objective
    assert all(len(re.findall(r"%", line)) == 5 for line in lines[2:])  # level, risk, 3 shares
    table = pd.read_csv(out)
    assert table["cost"].min() > 1e9 and 0 < table["share nvidia"].max() < 1  # the file is exact
    assert not table["cost"].eq(table["cost"].round(-6)).all()


def test_frontier_display_by_measure(starter: Path) -> None:
    front = procure.frontier(starter, "hhi", points=2)
    shown = front.display()
    assert re.fullmatch(r"0\.\d{4}", shown["risk"].iloc[0])  # an index, four decimals
    assert shown["cost"].iloc[0].startswith("$") and str(front) == shown.to_string()
    assert front.table["risk"].dtype == float  # the table keeps its numbers


def test_sweep_table_without_scenarios_leaves_out_cvar(
    starter: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "sweep.json"
    assert main(["sweep", str(starter), "--vary", "total_budget=20e9,30e9", "-q", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    _readable(printed)
    header = printed.splitlines()[0].split()
    assert "cvar" not in header and "gap" in header
    assert "$20.0B" in printed and "$30.0B" in printed  # the varied total_budget, as money
    assert re.search(r"\b0\.0\d%", printed)  # the gap as a percentage
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows[0]["total_budget"] == 20e9 and rows[0]["cvar"] == 0  # the file has every column, exact
    assert 0 < rows[0]["gap"] < 1e-3


def test_sweep_display_keeps_cvar_with_scenarios() -> None:
    table = pd.DataFrame(
        {"risk.max_share": [0.5], "status": ["optimal"], "objective": [2e9], "cost": [2e9], "gap": [1e-5]}
        | {"share[a]": [0.25], "peak_power_gw": [0.5], "cvar": [3.1e8], "message": [""], "seconds": [0.1]}
    )
    with_cvar = display_table(table)
    assert with_cvar.loc[0, "cvar"] == "$310M" and with_cvar.loc[0, "risk.max_share"] == "50.0%"
    assert with_cvar.loc[0, "share[a]"] == "25.0%" and with_cvar.loc[0, "peak_power_gw"] == "0.500 GW"
    assert "cvar" not in display_table(table, scenarios=False).columns


#: Demand that costs $7.5B against a total budget of $1B: repairs in dollars and in compute.
OVER_BUDGET = """\
name = "over-budget"
periods = [2026, 2027]
demand = { "2026" = 100_000, "2027" = 150_000 }
total_budget = 1e9

[[offers]]
name = "a"
vendor = "va"
unit_cost = 30_000
compute = 1
power_kw = 1
"""


def test_explain_repairs_in_their_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "problem.toml"
    plan.write_text(OVER_BUDGET, encoding="utf-8")
    assert main(["explain", str(plan), "--quiet"]) == 1
    printed = capsys.readouterr().out
    _readable(printed)
    assert "total budget ($1.00B)" in printed and "raise the total budget by $3.50B to $4.50B" in printed
    repairs = printed.split("Repairs")[1]
    budget = next(line for line in repairs.splitlines() if "total_budget" in line)
    assert re.search(r"\$1\.00B +\$4\.50B +\+\$3\.50B +\$ +\$4\.50B", budget)  # old, new, change, cost
    demand = [line for line in repairs.splitlines() if "demand[" in line]
    assert len(demand) == 2 and all(re.search(r"\d{2,3},\d{3} +\d+,\d{3} +-\d+,\d{3} +compute", d) for d in demand)
    assert main(["explain", str(plan), "--quiet", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["repairs"]
    budget_row = next(r for r in rows if r["requirement"] == "total_budget")
    assert budget_row["old"] == 1e9 and 3.4e9 < budget_row["change"] < 3.6e9  # dollars, exact in JSON


def test_excel_cells_keep_numbers_and_carry_formats(solved: procure.Result, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "plan.xlsx"
    solved.to_excel(path)
    book = openpyxl.load_workbook(path)
    summary = {row[0].value: row[1] for row in book["summary"].iter_rows(min_row=2)}
    assert summary["objective ($)"].value == pytest.approx(solved.objective, rel=1e-14)  # the number, not text
    assert summary["objective ($)"].number_format == fmt.EXCEL_FORMATS["money"]
    assert summary["cost (PV $)"].number_format == fmt.EXCEL_FORMATS["money"]
    assert (
        summary["gap"].value == pytest.approx(solved.gap, rel=1e-14)
        and summary["gap"].number_format == fmt.EXCEL_FORMATS["gap"]
    )
    assert summary["solve time (s)"].number_format == fmt.EXCEL_FORMATS["seconds"]
    assert summary["units bought (units)"].number_format == fmt.EXCEL_FORMATS["count"]
    assert summary["model rows"].number_format == fmt.EXCEL_FORMATS["count"]
    assert summary["status"].number_format == "General"
    for sheet in book.worksheets[1:]:
        headers = [c.value for c in sheet[1]]
        for k, header in enumerate(headers, start=1):
            cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=k, max_col=k)]
            numeric = [c for c in cells if isinstance(c.value, (int, float))]
            if header == "period" or not numeric:
                continue
            kind = fmt.kind_of(str(header))
            assert kind is not None, f"{sheet.title}: {header} has no kind"
            assert {c.number_format for c in numeric} == {fmt.EXCEL_FORMATS[kind]}, (sheet.title, header)


def test_csv_keeps_full_precision(solved: procure.Result) -> None:
    text = solved.to_csv()
    capex = pd.read_csv(pd.io.common.StringIO(text))["capex ($)"]
    assert np.allclose(capex.sum(), solved.spend.sum(), rtol=1e-12)


def test_the_spend_total_is_the_total_budget(solved: procure.Result) -> None:
    spend = tables.spend_table(solved)
    total = tables.total_row(spend, solved)
    assert solved.problem.total_budget == 32e9
    assert spend["budget ($)"].sum() == 36e9  # the periods' budgets add up to more
    assert total["budget ($)"] == 32e9  # the horizon's cap is total_budget
    assert total["spend ($)"] == pytest.approx(spend["spend ($)"].sum())
    free = replace(solved, problem=replace(solved.problem, total_budget=None))
    assert tables.total_row(tables.spend_table(free), free)["budget ($)"] == 36e9


def test_example_prints_through_fmt() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gigawatt_2026.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    _readable(out)
    assert "total cost (present value): $163B" in out
    assert re.search(r"\d\.\d{3} GW +\d\.\d{3} GW +\d+\.\d%", out)  # used, cap, % of cap
