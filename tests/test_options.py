"""Capacity options (contract v3): reservations decided now, exercised later, valued.

Hand-computed optima on tiny problems, validation, `check()` on plans that misuse an
option, trees (the reservation shared before the branch, exercises per path),
``option_value`` and the tables and round trips.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import procure
from procure.base.errors import ProblemError
from procure.problem.evaluate import evaluate, violations

PERIODS = [2026, 2027]

#: tpu is cheap but its supply is 60 units a period; gpu is dear.  One unit = 1 compute.  tpu
#: units cost 1 a period to run (so nothing is bought before it is needed), gpu units nothing.
BASE: dict[str, Any] = {
    "name": "options",
    "periods": PERIODS,
    "demand": {"2026": 100, "2027": 200},
    "offers": [
        {"name": "tpu", "vendor": "google", "unit_cost": 10.0, "compute": 1.0, "max_units": 60, "opex_per_year": 1.0},
        {"name": "gpu", "vendor": "nvidia", "unit_cost": 30.0, "compute": 1.0},
    ],
    "options": [{"name": "up-to", "offer": "tpu", "max_units": 80, "reserve_cost": 1.0, "exercise_price": 12.0}],
}


def _problem(**changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(BASE)
    p.update(copy.deepcopy(changes))
    return p


def test_an_option_fills_what_supply_cannot_by_hand() -> None:
    # 2026: 60 tpu + 40 through the option; 2027: 60 tpu + 40 more through it (80 reserved).
    # tpu 120·10 = 1200, reservation 80·1 = 80, exercise 80·12 = 960, opex 100 + 200: 2540.
    r = procure.solve(_problem(), mip_gap=0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(2540.0)
    table = r.options
    assert table.loc["up-to", "reserved"] == 80
    assert table.loc["up-to", "exercised"] == 80
    assert list(table.loc["up-to", PERIODS]) == [40, 40]
    assert r.purchases["tpu"].tolist() == [60, 60]  # options do not count against supply
    assert r.check() == []


def test_the_option_is_worth_what_it_saves_by_hand() -> None:
    # without it: 120 tpu·10 + 80 gpu·30 + tpu opex 60 + 120 = 3780; with it 2540: it saves 1240
    r = procure.solve(_problem(), mip_gap=0)
    value = r.option_value("up-to", mip_gap=0)
    assert value.value == pytest.approx(1240.0)
    assert value.low == pytest.approx(1240.0) and value.high == pytest.approx(1240.0)
    assert value.certain
    assert "saves $1.24k" in str(value)


def test_a_dear_option_is_not_reserved() -> None:
    p = _problem()
    p["options"][0]["reserve_cost"] = 25.0  # 25 + 12 (+ opex) > 30: gpu is cheaper
    r = procure.solve(p, mip_gap=0)
    assert r.options.loc["up-to", "reserved"] == 0
    assert r.objective == pytest.approx(3780.0)
    assert r.option_value("up-to", mip_gap=0).value == pytest.approx(0.0, abs=1e-6)


def test_the_window_limits_exercise_and_lead_time_applies() -> None:
    p = _problem()
    p["options"][0].update(exercise_until=2026)
    r = procure.solve(p, mip_gap=0)
    # only 2026 may exercise: all 80 there (80·13 = 1040, one more year of opex for 40: 40)
    # beats 40 there and 40 gpu in 2027 (520 + 1200): 1200 + 1040 + opex 140 + 200 = 2580
    assert r.objective == pytest.approx(2580.0)
    assert r.options.loc["up-to", 2027] == 0
    assert r.options.loc["up-to", 2026] == 80


def test_option_capex_counts_in_the_budget_and_the_vendor_spend() -> None:
    # the 2540 plan spends 600 + 80 (reservation) + 40·12 = 1160 in 2026; with 1150 it reserves 70
    # (600 + 70 + 480 = 1150) and 2027 buys 30 through the option and 10 gpu:
    # 1200 + 70 + 70·12 + 10·30 + tpu opex 100 + 190 (gpu runs free) = 2700
    p = _problem(budget={"2026": 1150, "2027": 1e9})
    r = procure.solve(p, mip_gap=0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(2700.0)
    assert r.options.loc["up-to", "reserved"] == 70
    assert r.spend.loc[2026] == pytest.approx(1150.0)
    assert r.spend_by_vendor.loc[2026, "google"] == pytest.approx(1150.0)
    assert r.check() == []


@pytest.mark.parametrize(
    ("option", "path"),
    [
        ({"name": "a", "offer": "nope", "max_units": 5}, "options[0].offer"),
        ({"name": "a", "offer": "tpu"}, "options[0].max_units"),
        ({"name": "a", "offer": "tpu", "max_units": -1}, "options[0].max_units"),
        ({"name": "a", "offer": "tpu", "max_units": 5, "reserve_period": 2030}, "options[0].reserve_period"),
        (
            {"name": "a", "offer": "tpu", "max_units": 5, "reserve_period": 2027, "exercise_until": 2026},
            "options[0].exercise_until",
        ),
        ({"name": "a", "offer": "tpu", "max_units": 5, "strike": 3}, "options[0].strike"),
        ({"name": "a", "offer": "tpu", "max_units": 5, "reserve_cost": -2}, "options[0].reserve_cost"),
    ],
)
def test_bad_options_are_named(option: dict[str, Any], path: str) -> None:
    with pytest.raises(ProblemError) as err:
        procure.Problem.from_dict(_problem(options=[option]))
    assert err.value.path == path, str(err.value)


def test_two_options_with_one_name_are_refused() -> None:
    option = BASE["options"][0]
    with pytest.raises(ProblemError) as err:
        procure.Problem.from_dict(_problem(options=[option, option]))
    assert err.value.path == "options[1].name"


def test_an_offer_with_tiers_needs_an_exercise_price() -> None:
    p = _problem()
    p["offers"][0].pop("unit_cost")
    p["offers"][0]["price_tiers"] = [{"from_units": 0, "unit_cost": 10.0}, {"from_units": 50, "unit_cost": 9.0}]
    p["options"][0].pop("exercise_price")
    with pytest.raises(ProblemError) as err:
        procure.Problem.from_dict(p)
    assert err.value.path == "options[0].exercise_price"


def test_options_round_trip_through_dicts_and_workbooks(tmp_path: Any) -> None:
    p = procure.Problem.from_dict(_problem())
    assert procure.Problem.from_dict(p.to_dict()) == p
    p.to_excel(tmp_path / "p.xlsx")
    assert procure.Problem.from_excel(tmp_path / "p.xlsx") == p


def test_check_names_plans_that_misuse_an_option() -> None:
    r = procure.solve(_problem(), mip_gap=0)
    ev = r.evaluation
    problem = r.problem
    more = ev.exercised.copy()
    more[0, 0, 1] += 10  # 90 exercised of 80 reserved
    found = violations(problem, evaluate(problem, ev.placed, None, None, (ev.reserved, more)))
    assert found and all(line.startswith("options[up-to]") for line in found), found
    late = _problem()
    late["options"][0]["exercise_until"] = 2026
    tight = procure.Problem.from_dict(late)
    found = violations(tight, evaluate(tight, ev.placed, None, None, (ev.reserved, ev.exercised)))
    assert any("window" in line for line in found), found


def test_check_counts_an_options_reservation_cap_in_units_of_whole_lots() -> None:
    """tpu in lots of 4 and an option of 80 units (20 lots): reserving all 80 is allowed, one lot
    more is not (a check that divided units by the lot size would refuse the first)."""
    lots = _problem()
    lots["offers"][0]["lot_size"] = 4
    problem = procure.Problem.from_dict(lots)
    r = procure.solve(problem, mip_gap=0)
    assert r.has_plan and r.check() == []
    ev = r.evaluation
    exercised = np.zeros_like(ev.exercised)
    for reserved, broken in ((80.0, False), (84.0, True)):
        found = violations(problem, evaluate(problem, ev.placed, None, None, (np.array([reserved]), exercised)))
        assert any(line.startswith("options[up-to]") for line in found) is broken, (reserved, found)


def test_a_tree_reserves_before_the_branch_and_exercises_per_path() -> None:
    p = _problem()
    del p["demand"]
    p["periods"] = [2026, 2027]
    p["demand_scenarios"] = [
        {"name": "slow", "probability": 0.5, "demand": {"2026": 100, "2027": 110}},
        {"name": "fast", "probability": 0.5, "demand": {"2026": 100, "2027": 200}},
    ]
    r = procure.solve(p, mip_gap=0)
    assert r.status == "optimal"
    assert r.check() == []
    reserved = r.options["reserved"]
    assert reserved.loc["slow"].tolist() == reserved.loc["fast"].tolist()  # one decision in 2026
    assert r.options.loc[("slow", "up-to"), 2027] <= r.options.loc[("fast", "up-to"), 2027]
    # 2026: 60 tpu + 40 through the option, 80 reserved (fast needs them): 600 + 480 + 80, opex 100;
    # slow buys 10 tpu in 2027 (100, opex 110); fast 60 tpu + 40 through the option (1080, opex 200).
    # Expected: 1260 + ½(210) + ½(1280) = 2005
    assert r.objective == pytest.approx(2005.0)
    value = r.option_value("up-to", mip_gap=0)
    assert value.value > 0 and np.isfinite(value.value)


def test_the_summary_report_and_workbook_show_options(tmp_path: Any) -> None:
    r = procure.solve(_problem(), mip_gap=0)
    text = r.summary()
    assert "capacity options" in text and "up-to" in text
    html = r.report()
    assert "Capacity options" in html and "reserved (units)" in html
    r.to_excel(tmp_path / "r.xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["options"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["option", "offer", "reserved (units)", "exercised (units)"]
    assert [c.value for c in sheet[2]][:4] == ["up-to", "tpu", 80, 80]


def test_vss_holds_the_mean_paths_reservation_too() -> None:
    """EEV holds every here-and-now decision of the mean path's plan, its reservation included:
    the mean path (2027 demand 155) reserves only the 40 units it buys in 2026 (its 2027 needs
    fit tpu's supply), so the fast path must buy 40 gpu in 2027."""
    p = _problem()
    del p["demand"]
    p["demand_scenarios"] = [
        {"name": "slow", "probability": 0.5, "demand": {"2026": 100, "2027": 110}},
        {"name": "fast", "probability": 0.5, "demand": {"2026": 100, "2027": 200}},
    ]
    r = procure.solve(p, mip_gap=0)
    vss = r.vss(mip_gap=0)
    # EEV: 2026 600 + 480 + 40 (reserved) + opex 100 = 1220; slow 100 + opex 110; fast 60 tpu +
    # 40 gpu = 1800 + opex 160 → 1220 + ½·210 + ½·1960 = 2305; RP 2005: VSS 300.  Holding the lots
    # alone (the reservation free) would give EEV = RP.
    assert vss.value == pytest.approx(300.0)


def test_sensitivity_holds_the_plans_reservations_and_exercises() -> None:
    """Prices are those of the plan with every decision held, options included: the LP's
    optimum is the plan's objective (a free reservation would let the LP re-choose it)."""
    r = procure.solve(_problem(), mip_gap=0)
    s = r.sensitivity()
    assert "differs from the plan's objective" not in s.note
    assert s.objective == pytest.approx(r.objective)
    assert set(s.table["path"]) >= {"demand[2026]", "demand[2027]"}
