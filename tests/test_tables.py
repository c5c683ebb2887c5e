"""Tabular input: CSV/Excel references from problem files, whole workbooks, DataFrames, starter files."""

from __future__ import annotations

import copy
import importlib.util
import math
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from reference.strategies import problems

import procure
from procure import Problem, ProblemError
from procure.problem.table_input import TABLE_FIELDS, table_frame, write_starter
from procure.problem.validate import (
    DEMAND_SCENARIO_FIELDS,
    OFFER_FIELDS,
    SCENARIO_FIELDS,
    SITE_FIELDS,
    VENDOR_FIELDS,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GIGAWATT = EXAMPLES / "gigawatt_2026.toml"
FAST = {"time_limit": 20, "mip_gap": 1e-6}


def _example(name: str) -> dict[str, Any]:
    """``build_problem()`` of examples/<name>.py."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.build_problem()


def _toml_without(field: str) -> str:
    """gigawatt_2026.toml without its ``[[field]]`` tables."""
    text = GIGAWATT.read_text(encoding="utf-8")
    return re.sub(rf"\[\[{field}\]\]\n(?:[^\[\n].*\n|\n)*", "", text)


def _gigawatt_dir(tmp_path: Path, offers_csv: str) -> Path:
    (tmp_path / "offers.csv").write_text(offers_csv, encoding="utf-8")
    problem = tmp_path / "problem.toml"
    text = _toml_without("offers").replace('name = "gigawatt-2026"', 'name = "gigawatt-2026"\noffers = "offers.csv"')
    problem.write_text(text, encoding="utf-8")
    return problem


@pytest.fixture(scope="module")
def gigawatt() -> Problem:
    return Problem.from_file(GIGAWATT)


def test_schema_covers_every_field() -> None:
    """A field added to the format must be added to the tables' schema too."""
    assert set(TABLE_FIELDS["offers"]) == set(OFFER_FIELDS)
    assert set(TABLE_FIELDS["sites"]) == set(SITE_FIELDS)
    assert set(TABLE_FIELDS["vendors"]) == set(VENDOR_FIELDS)
    assert set(TABLE_FIELDS["demand_scenarios"]) == set(DEMAND_SCENARIO_FIELDS)
    assert set(TABLE_FIELDS["risk.scenarios"]) == set(SCENARIO_FIELDS)


# --------------------------------------------------------------------------- CSV references


def test_csv_reference_equals_inline(tmp_path: Path, gigawatt: Problem) -> None:
    frame = table_frame(gigawatt.to_dict()["offers"], gigawatt.periods)
    assert "unit_cost[2027]" in frame.columns and "unit_cost" not in frame.columns
    problem_file = _gigawatt_dir(tmp_path, frame.to_csv(index=False))
    from_csv = Problem.from_file(problem_file)
    assert from_csv.to_dict() == gigawatt.to_dict()
    assert from_csv.offers[1].lot_size == 64 and isinstance(from_csv.offers[1].lot_size, int)
    inline, tabled = procure.solve(GIGAWATT, **FAST), procure.solve(problem_file, **FAST)
    assert inline.status == tabled.status == "optimal"
    assert math.isclose(inline.objective, tabled.objective, rel_tol=1e-9)


def test_per_period_and_scalar_columns(tmp_path: Path) -> None:
    csv = (
        "name,vendor,compute,unit_cost[2026],unit_cost[2027],max_units,lot_size,lifetime\n"
        "a,x,2,100,90,1000,8.0,\n"
        "b,y,1,50,50,,, 3\n"
    )
    (tmp_path / "o.csv").write_text(csv, encoding="utf-8")
    (tmp_path / "p.toml").write_text('periods = [2026, 2027]\ndemand = 10\noffers = "o.csv"\n', encoding="utf-8")
    p = Problem.from_file(tmp_path / "p.toml")
    assert p.offers[0].unit_cost == (100.0, 90.0)
    assert p.offers[0].max_units == (1000.0, 1000.0)
    assert p.offers[1].max_units is None  # empty cell: absent
    assert p.offers[0].lot_size == 8 and p.offers[1].lot_size == 1
    assert p.offers[0].lifetime is None and p.offers[1].lifetime == 3


def test_nested_columns(tmp_path: Path) -> None:
    """Mapping keys, nested records and tiers as dotted columns; lists of names in one cell."""
    offers = (
        "name,vendor,compute,price_tiers[0].from_units,price_tiers[0].unit_cost,"
        "price_tiers[1].from_units,price_tiers[1].unit_cost[2026],price_tiers[1].unit_cost[2027],"
        "efficiency.training,installed.east\n"
        "a,x,2,0,100,50,90,80,0.5,16\n"
        "b,y,1,0,50,,,,,\n"
    )
    sites = "name,vendors,power_build.cost_per_gw[2026],power_build.cost_per_gw[2027],power_build.lead_time\n"
    sites += 'east,"x, y",1e9,2e9,1\nwest,[],,,\n'
    (tmp_path / "o.csv").write_text(offers, encoding="utf-8")
    (tmp_path / "s.csv").write_text(sites, encoding="utf-8")
    toml = 'periods = [2026, 2027]\noffers = "o.csv"\nsites = "s.csv"\n[workloads]\ntraining = 5\ninference = 7\n'
    (tmp_path / "p.toml").write_text(toml, encoding="utf-8")
    p = Problem.from_file(tmp_path / "p.toml")
    a = p.offers[0]
    assert a.price_tiers is not None and [t.from_units for t in a.price_tiers] == [0, 50]
    assert a.price_tiers[1].unit_cost == (90.0, 80.0)
    assert dict(a.efficiency or {}) == {"training": 0.5}
    assert dict(a.installed) == {"east": 16}  # type: ignore[arg-type]
    assert dict(p.offers[1].installed) == {}  # type: ignore[arg-type]
    assert p.sites[0].vendors == ("x", "y") and p.sites[1].vendors == ()
    assert p.sites[0].power_build is not None and p.sites[0].power_build.cost_per_gw == (1e9, 2e9)
    assert p.sites[0].power_build.lead_time == 1 and p.sites[1].power_build is None


def test_xlsx_reference_with_and_without_sheet(tmp_path: Path, gigawatt: Problem) -> None:
    frame = table_frame(gigawatt.to_dict()["offers"], gigawatt.periods)
    with pd.ExcelWriter(tmp_path / "catalog.xlsx") as writer:
        pd.DataFrame({"note": ["first sheet"]}).to_excel(writer, sheet_name="readme", index=False)
        frame.to_excel(writer, sheet_name="chips", index=False)
        frame.to_excel(writer, sheet_name="offers", index=False)
    for ref in ("catalog.xlsx#chips", "catalog.xlsx"):
        text = _toml_without("offers").replace('name = "gigawatt-2026"', f'name = "gigawatt-2026"\noffers = "{ref}"')
        (tmp_path / "p.toml").write_text(text, encoding="utf-8")
        assert Problem.from_file(tmp_path / "p.toml").to_dict() == gigawatt.to_dict()


def test_vendors_and_scenarios_references(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("name,max_share,onboarding_cost\nx,0.7,\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("name,probability,periods,availability.x\nban,0.1,2027,0\n", encoding="utf-8")
    toml = (
        'periods = [2026, 2027]\ndemand = 10\nvendors = "v.csv"\n'
        '[[offers]]\nname = "a"\nvendor = "x"\ncompute = 1\nunit_cost = 1\n'
        '[[offers]]\nname = "b"\nvendor = "y"\ncompute = 1\nunit_cost = 2\n'
        '[risk]\nscenarios = "d.csv"\nshortfall_penalty = 5\n'
    )
    (tmp_path / "p.toml").write_text(toml, encoding="utf-8")
    p = Problem.from_file(tmp_path / "p.toml")
    assert p.vendors[0].max_share == 0.7 and p.vendors[0].onboarding_cost == 0.0
    (scenario,) = p.risk.scenarios
    assert scenario.periods == (2027,) and dict(scenario.availability) == {"x": 0.0}


# --------------------------------------------------------------------------- Excel round trips


def _round_trip(problem: Problem, path: Path) -> Problem:
    return Problem.from_excel(problem.to_excel(path))


@pytest.mark.parametrize("source", ["gigawatt_2026.toml", "three_clouds", "uncertain_growth", "diversification"])
def test_excel_round_trip_examples(tmp_path: Path, source: str) -> None:
    if source.endswith(".toml"):
        problem = Problem.from_file(EXAMPLES / source)
    elif source == "diversification":
        problem = Problem.from_dict(_example("gigawatt_2026"))
    else:
        problem = Problem.from_dict(_example(source))
    assert _round_trip(problem, tmp_path / "p.xlsx").to_dict() == problem.to_dict()
    assert Problem.from_file(tmp_path / "p.xlsx").to_dict() == problem.to_dict()
    if source == "three_clouds":
        assert problem.sites and any(o.price_tiers for o in problem.offers)
    if source == "uncertain_growth":
        assert problem.demand_scenarios


def test_excel_round_trip_with_disruptions(tmp_path: Path, small: dict[str, Any]) -> None:
    small["risk"]["scenarios"] = [
        {"name": "ban", "probability": 0.1, "availability": {"nvidia": 0}, "periods": [2027, 2028]},
        {"name": "quake", "probability": 0.05},
    ]
    small["risk"]["shortfall_penalty"] = 1e5
    problem = Problem.from_dict(small)
    back = _round_trip(problem, tmp_path / "p.xlsx")
    assert back.to_dict() == problem.to_dict()
    assert pd.ExcelFile(tmp_path / "p.xlsx").sheet_names == ["problem", "offers", "vendors", "scenarios"]


@settings(max_examples=25)
@given(
    problems(
        max_offers=3,
        max_periods=3,
        scenarios=True,
        commercial=True,
        sites=True,
        workloads=True,
        unserved=True,
        power_build=True,
    )
)
def test_excel_round_trip_random(tmp_path_factory: pytest.TempPathFactory, raw: dict[str, Any]) -> None:
    problem = Problem.from_dict(raw)
    path = tmp_path_factory.mktemp("rt") / "p.xlsx"
    assert _round_trip(problem, path).to_dict() == problem.to_dict()


@settings(max_examples=10)
@given(problems(max_offers=2, max_periods=3, workloads=True, demand_scenarios=True, power_build=True))
def test_excel_round_trip_random_demand_scenarios(
    tmp_path_factory: pytest.TempPathFactory, raw: dict[str, Any]
) -> None:
    problem = Problem.from_dict(raw)
    path = tmp_path_factory.mktemp("rt") / "p.xlsx"
    assert _round_trip(problem, path).to_dict() == problem.to_dict()


def test_settings_sheet_keys_with_periods(tmp_path: Path) -> None:
    """``demand[2027]`` keys in the value column, a ``settings`` sheet, ``#notes`` ignored."""
    with pd.ExcelWriter(tmp_path / "p.xlsx") as writer:
        settings_rows = {
            "field": ["periods", "demand[2026]", "demand[2027]", "risk.max_share"],
            "value": ["2026, 2027", 5, 7, 1],
        }
        pd.DataFrame(settings_rows).to_excel(writer, sheet_name="settings", index=False)
        offers = {"name": ["a"], "vendor": ["x"], "compute": [1], "unit_cost": [3]}
        pd.DataFrame(offers).to_excel(writer, sheet_name="offers", index=False)
        pd.DataFrame({"anything": [1]}).to_excel(writer, sheet_name="#notes", index=False)
    p = Problem.from_excel(tmp_path / "p.xlsx")
    assert p.periods == (2026, 2027) and p.demand == (5.0, 7.0) and p.risk.max_share == 1.0


# --------------------------------------------------------------------------- from_tables


def test_from_tables_equals_from_dict(small: dict[str, Any]) -> None:
    expected = Problem.from_dict(small)
    fields = {k: v for k, v in small.items() if k not in ("offers", "vendors")}
    offers = pd.DataFrame(
        {
            "name": ["tpu", "trn2", "gb200"],
            "vendor": ["google", "amazon", "nvidia"],
            "unit_cost[2026]": [30000, 20000, 42000],
            "unit_cost[2027]": [30000, 20000, 38000],
            "unit_cost[2028]": [30000, 20000, 35000],
            "compute": [2.3, 0.667, 2.5],
            "power_kw": [1.1, 1.0, 1.7],
            "lot_size": [256, 64, 72],
            "lifetime": [5, None, None],
            "installed": [None, 500, None],
            "min_order": [None, 640, None],
        }
    )
    vendors = pd.DataFrame({"name": ["nvidia"], "onboarding_cost": [1e8]})
    got = Problem.from_tables(offers=offers, vendors=vendors, **fields)
    assert got.to_dict() == expected.to_dict()
    bad = offers.assign(lot_size=[256, 6.5, 72])
    with pytest.raises(ProblemError, match=r"^offers table, index 1 \(offer 'trn2'\), column lot_size: 6\.5 is not"):
        Problem.from_tables(offers=bad, vendors=vendors, **fields)


# --------------------------------------------------------------------------- errors


def _offers_error(tmp_path: Path, csv: str, toml_extra: str = "") -> ProblemError:
    (tmp_path / "offers.csv").write_text(csv, encoding="utf-8")
    text = f'periods = [2026, 2027]\ndemand = 10\noffers = "offers.csv"\n{toml_extra}'
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProblemError) as info:
        Problem.from_file(tmp_path / "p.toml")
    return info.value


HEAD = "name,vendor,compute,unit_cost[2026],unit_cost[2027]\n"


def test_error_bad_number(tmp_path: Path) -> None:
    error = _offers_error(tmp_path, HEAD + "a,x,1,5,5\ntpu-v7,x,1,5,abc\n")
    where = f"{tmp_path / 'offers.csv'}, row 3 (offer 'tpu-v7'), column unit_cost[2027]: 'abc' is not a number"
    assert str(error) == where
    assert error.path == "offers[1].unit_cost[2027]" and error.value == "abc"


def test_error_unknown_column(tmp_path: Path) -> None:
    error = _offers_error(tmp_path, "name,vendor,compute,unit_cst\na,x,1,\n")
    assert str(error).startswith(f"{tmp_path / 'offers.csv'}, column unit_cst: unknown field; did you mean 'unit_cost'")


def test_error_scalar_and_per_period_columns(tmp_path: Path) -> None:
    error = _offers_error(tmp_path, "name,vendor,compute,unit_cost,unit_cost[2027]\na,x,1,5,\n")
    assert "columns unit_cost and unit_cost[2027] both give unit_cost" in str(error)
    assert str(error).startswith(str(tmp_path / "offers.csv"))


def test_error_period_not_in_periods(tmp_path: Path) -> None:
    error = _offers_error(tmp_path, HEAD.replace("\n", ",unit_cost[2031]\n") + "a,x,1,5,5,\n")
    assert "column unit_cost[2031]: period 2031 is not one of the periods (2026..2027)" in str(error)


def test_error_traced_from_validation(tmp_path: Path) -> None:
    error = _offers_error(tmp_path, HEAD + "a,x,1,5,5\nb,y,1,5,-1\n")
    assert str(error) == (
        f"{tmp_path / 'offers.csv'}, row 3 (offer 'b'), column unit_cost[2027]: "
        "offers[1].unit_cost[2027]: -1.0 is negative"
    )
    assert error.path == "offers[1].unit_cost[2027]"
    missing = _offers_error(tmp_path, HEAD + "a,x,1,5,\n")
    assert "row 2 (offer 'a'), columns unit_cost[2026], unit_cost[2027]: offers[0].unit_cost: misses period" in str(
        missing
    )
    no_compute = _offers_error(tmp_path, "name,vendor,unit_cost\na,x,5\n")
    assert str(no_compute).endswith("row 2 (offer 'a'): offers[0].compute: is required")


def test_error_missing_file_and_sheet(tmp_path: Path, gigawatt: Problem) -> None:
    (tmp_path / "p.toml").write_text('periods = [2026]\ndemand = 1\noffers = "nope.csv"\n', encoding="utf-8")
    with pytest.raises(ProblemError, match=r"nope\.csv: no such file"):
        Problem.from_file(tmp_path / "p.toml")
    gigawatt.to_excel(tmp_path / "book.xlsx")
    (tmp_path / "p.toml").write_text('periods = [2026]\ndemand = 1\noffers = "book.xlsx#chips"\n', encoding="utf-8")
    with pytest.raises(ProblemError, match=r"book\.xlsx: no sheet 'chips' \(sheets: problem, offers, vendors\)"):
        Problem.from_file(tmp_path / "p.toml")
    with pytest.raises(ProblemError, match=r"missing\.xlsx: no such file"):
        Problem.from_excel(tmp_path / "missing.xlsx")


def test_errors_in_workbook_name_sheet_row_column(tmp_path: Path, gigawatt: Problem) -> None:
    path = gigawatt.to_excel(tmp_path / "g.xlsx")
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    sheets["offers"].loc[2, "lot_size"] = "many"
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    with pytest.raises(ProblemError) as info:
        Problem.from_excel(path)
    assert (
        str(info.value)
        == f"{path}, sheet offers, row 4 (offer 'trainium3'), column lot_size: 'many' is not a whole number"
    )
    sheets["offers"].loc[2, "lot_size"] = 64
    problem_sheet = sheets["problem"]
    problem_sheet.loc[problem_sheet["field"] == "demand", 2028] = -5
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    with pytest.raises(ProblemError) as info:
        Problem.from_excel(path)
    row = int(problem_sheet.index[problem_sheet["field"] == "demand"][0]) + 2
    assert str(info.value) == f"{path}, sheet problem, row {row} (demand), column 2028: demand[2028]: -5.0 is negative"
    assert info.value.path == "demand[2028]"
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name="offer" if name == "offers" else name, index=False)
    with pytest.raises(ProblemError, match=r"sheet offer: unknown sheet \(did you mean 'offers'\?"):
        Problem.from_excel(path)


# --------------------------------------------------------------------------- starter


def test_write_starter_solves_and_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    files = write_starter(folder)
    assert [f.name for f in files] == ["problem.toml", "offers.csv"] and all(f.exists() for f in files)
    problem = Problem.from_file(folder / "problem.toml")
    assert len(problem.offers) == 3 and len(problem.vendor_names) == 3
    assert problem.power_cap_gw is not None and problem.budget is not None
    result = procure.solve(folder / "problem.toml", **FAST)
    assert result.status == "optimal" and result.purchases.to_numpy().sum() > 0
    (folder / "offers.csv").write_text("edited\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"offers\.csv"):
        write_starter(folder)
    assert (folder / "offers.csv").read_text(encoding="utf-8") == "edited\n"
    write_starter(folder, force=True)
    assert Problem.from_file(folder / "problem.toml").to_dict() == problem.to_dict()
    shutil.rmtree(folder)


def test_to_dict_unchanged_by_reading(small: dict[str, Any]) -> None:
    """Reading tables does not touch the caller's mapping."""
    before = copy.deepcopy(small)
    Problem.from_tables(**small)
    assert small == before


def test_a_value_and_period_columns_for_one_field_are_refused(tmp_path: Path, gigawatt: Problem) -> None:
    """The problem sheet gives a field one value or one per period, never both."""
    path = gigawatt.to_excel(tmp_path / "g.xlsx")
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    problem_sheet = sheets["problem"]
    given = problem_sheet["field"] == "pue"
    assert problem_sheet.loc[given, "value"].notna().all()
    problem_sheet.loc[given, 2028] = 1.3
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    with pytest.raises(ProblemError, match=r"give the value column or the period columns, not both"):
        Problem.from_excel(path)


@pytest.mark.parametrize("name", ["offers.txt", "offers", "offers.csv.bak"])
def test_a_table_reference_that_is_not_csv_or_xlsx_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("name,vendor\n", encoding="utf-8")
    (tmp_path / "p.toml").write_text(f'periods = [2026]\ndemand = 1\noffers = "{name}"\n', encoding="utf-8")
    with pytest.raises(ProblemError, match=r"a table is a \.csv or \.xlsx file"):
        Problem.from_file(tmp_path / "p.toml")


def test_a_read_error_names_the_line_after_leading_blank_lines(tmp_path: Path) -> None:
    from procure.problem.io import MAX_KEY_PARTS

    deep = ".".join(["a"] * MAX_KEY_PARTS)
    (tmp_path / "p.toml").write_text(f"\n\nperiods = [2026]\n{deep} = 1\n", encoding="utf-8")
    with pytest.raises(ProblemError, match=r"line 4: a key of"):
        Problem.from_file(tmp_path / "p.toml")
