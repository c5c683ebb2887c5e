"""Contract v3's vendor rules, end to end: ``vendors[v].min_share`` (a floor commitment) and
``vendors[v].max_new_compute`` (a vendor's allocation per period).

Each is checked through every consumer: validation names bad values, the model holds them
(hand-computed optima), `check()` names a plan that breaks them (tests/test_check_catches.py
too), `explain` names them in a conflict and repairs them, `sensitivity` lists them,
`rule_costs` removes them, trees hold them on every path, and the report shows them.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import procure
from procure.base.errors import ProblemError

PERIODS = [2026, 2027]

#: Two vendors; "cheap" (x) wins everything unless a rule says otherwise.  One unit = 1 compute.
BASE: dict[str, Any] = {
    "name": "floors",
    "periods": PERIODS,
    "demand": {"2026": 100, "2027": 200},
    "offers": [
        {"name": "cheap", "vendor": "x", "unit_cost": 10.0, "compute": 1.0},
        {"name": "dear", "vendor": "y", "unit_cost": 15.0, "compute": 1.0},
    ],
}


def _with(**fields: Any) -> dict[str, Any]:
    p = copy.deepcopy(BASE)
    p.update(copy.deepcopy(fields))
    return p


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("vendors", "risk", "path", "words"),
    [
        ([{"name": "x", "min_share": 1.0}], {}, "vendors[0].min_share", ""),
        ([{"name": "x", "min_share": -0.1}], {}, "vendors[0].min_share", ""),
        ([{"name": "x", "min_share": "a lot"}], {}, "vendors[0].min_share", ""),
        ([{"name": "x", "max_share": 0.3, "min_share": 0.4}], {}, "vendors[0].min_share", "max_share"),
        ([{"name": "y", "min_share": 0.6}], {"max_share": 0.5}, "vendors[0].min_share", "max_share"),
        ([{"name": "x", "min_share": 0.6}, {"name": "y", "min_share": 0.5}], {}, "vendors", "more than 1"),
        ([{"name": "x", "max_new_compute": -5}], {}, "vendors[0].max_new_compute", ""),
        ([{"name": "x", "max_new_compute": {"2026": 5}}], {}, "vendors[0].max_new_compute", ""),
    ],
)
def test_bad_vendor_rules_are_named(vendors: list[dict[str, Any]], risk: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ProblemError) as err:
        procure.Problem.from_dict(_with(vendors=vendors, risk=risk))
    assert err.value.path == path, str(err.value)
    assert words in str(err.value)


def test_vendor_rules_round_trip_through_dicts_and_tables(tmp_path: Any) -> None:
    p = procure.Problem.from_dict(
        _with(vendors=[{"name": "y", "min_share": 0.25, "max_new_compute": {"2026": 80, "2027": 90}}])
    )
    assert procure.Problem.from_dict(p.to_dict()) == p
    book = tmp_path / "p.xlsx"
    p.to_excel(book)
    assert procure.Problem.from_excel(book) == p


# --------------------------------------------------------------------------- the model


def test_a_floor_buys_the_dear_vendor_by_hand() -> None:
    # y must hold 25% of operational compute: 25 of 100 in 2026, 50 of 200 in 2027 (units live
    # forever, so 2027 needs 25 more of y and 75 more of x).  Cost: x 75·10 + 75·10 = 1500,
    # y 25·15 + 25·15 = 750; 2250 in all (no discounting).
    r = procure.solve(_with(vendors=[{"name": "y", "min_share": 0.25}]), mip_gap=0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(2250.0)
    assert (r.shares["y"].to_numpy() >= 0.25 - 1e-9).all()
    assert r.check() == []


def test_an_allocation_caps_what_is_bought_per_period_by_hand() -> None:
    # x may sell 60 compute per period: 2026 buys 60 x + 40 y, 2027 buys 60 x + 40 y more.
    # Cost: 120·10 + 80·15 = 2400.
    r = procure.solve(_with(vendors=[{"name": "x", "max_new_compute": 60}]), mip_gap=0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(2400.0)
    assert r.purchases["cheap"].to_numpy() == pytest.approx([60, 60])
    assert r.check() == []


def test_an_allocation_counts_purchases_when_bought_not_when_they_arrive() -> None:
    # lead time 1: what arrives in 2027 was bought in 2026 and counts against 2026's allocation.
    p = _with(vendors=[{"name": "x", "max_new_compute": {"2026": 150, "2027": 0}}])
    p["demand"] = {"2026": 0, "2027": 150}
    for offer in p["offers"]:
        offer["lead_time"] = 1
    r = procure.solve(p, mip_gap=0)
    assert r.status == "optimal"
    assert r.purchases.loc[2026, "cheap"] == pytest.approx(150)
    assert r.objective == pytest.approx(1500.0)


def test_a_floor_leaves_periods_without_demand_alone() -> None:
    p = _with(vendors=[{"name": "y", "min_share": 0.5}], demand={"2026": 0, "2027": 100})
    p["offers"][0]["installed"] = 10  # x's installed fleet runs in 2026, with no demand there
    r = procure.solve(p, mip_gap=0)
    assert r.status == "optimal"
    # 2027: 50 of y against x's 10 installed + 40 bought: 40·10 + 50·15 = 1150
    assert r.objective == pytest.approx(1150.0)
    assert r.check() == []


def test_a_floor_for_a_vendor_no_site_hosts_is_infeasible_and_explained() -> None:
    p = _with(
        vendors=[{"name": "y", "min_share": 0.2}],
        sites=[{"name": "only-x", "vendors": ["x"]}],
    )
    r = procure.solve(p)
    assert r.status == "infeasible"
    d = procure.explain(p)
    assert "vendors[y].min_share" in {q.path for q in d.conflict}
    fixes = d.repairs[d.repairs["requirement"] == "vendors[y].min_share"]
    assert not fixes.empty and (fixes["new"] == 0).all(), d.repairs
    assert "share floor" in str(d)


def test_an_allocation_too_small_for_demand_is_explained_with_a_repair_that_works() -> None:
    p = _with(vendors=[{"name": "x", "max_new_compute": 50}, {"name": "y", "max_new_compute": 20}])
    d = procure.explain(p)
    paths = {q.path for q in d.conflict}
    assert any(path.startswith("vendors[") and ".max_new_compute[" in path for path in paths), paths
    assert "allocation of" in str(d)
    fixes = d.repairs[d.repairs["requirement"].str.contains("max_new_compute")]
    assert not fixes.empty
    assert (fixes["status"] == "optimal").all()


# --------------------------------------------------------------------------- consumers


def test_sensitivity_lists_floors_and_allocations() -> None:
    p = _with(vendors=[{"name": "y", "min_share": 0.25}, {"name": "x", "max_new_compute": 90}])
    r = procure.solve(p, mip_gap=0)
    s = r.sensitivity()
    assert set(s.shares["path"]) >= {"vendors[y].min_share"}
    assert {f"vendors[x].max_new_compute[{t}]" for t in PERIODS} <= set(s.contracts["path"])
    floor = s.shares[s.shares["path"] == "vendors[y].min_share"]
    assert floor["binding"].any()  # y holds exactly 25% where the floor binds


def test_rule_costs_remove_floors_and_allocations() -> None:
    p = _with(vendors=[{"name": "y", "min_share": 0.25}, {"name": "x", "max_new_compute": 90}])
    r = procure.solve(p, mip_gap=0)
    costs = r.rule_costs(mip_gap=0).set_index("rule")["cost"]
    # without the floor: x 90 + y 10 in 2026, x 90 + y 10 in 2027: 1800 + 300 = 2100;
    # with it: y 25 + x 75, then y 25 + x 75: 1500 + 750 = 2250 → the floor costs 150.
    assert costs["vendors[y].min_share"] == pytest.approx(150.0)
    # without the allocation: the floor alone, 2250 → it costs 0.
    assert costs["vendors[x].max_new_compute"] == pytest.approx(0.0, abs=1e-6)


def test_a_tree_holds_both_rules_on_every_path() -> None:
    p = _with(vendors=[{"name": "y", "min_share": 0.3}, {"name": "x", "max_new_compute": 150}])
    del p["demand"]
    p["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "demand": {"2026": 100, "2027": 150}},
        {"name": "high", "probability": 0.5, "demand": {"2026": 100, "2027": 400}},
    ]
    r = procure.solve(p, mip_gap=0)
    assert r.status == "optimal"
    for name, path in r.scenario_results.items():
        assert path.check() == [], name
        shares = path.shares["y"].to_numpy()
        assert (shares >= 0.3 - 1e-9).all(), (name, shares)
        bought_x = path.purchases["cheap"].to_numpy()
        assert (bought_x <= 150 + 1e-9).all(), (name, bought_x)


def test_the_report_shows_floors_and_allocations(tmp_path: Any) -> None:
    p = _with(vendors=[{"name": "y", "min_share": 0.25}, {"name": "x", "max_new_compute": 90}])
    r = procure.solve(p)
    html = r.report(rule_costs=True)
    assert "min_share" in html or "floor" in html
    assert "max_new_compute" in html or "allocation" in html
    assert np.isfinite(r.objective)
    # the inputs' vendor table shows each vendor's floor and allocation, by name
    assert "min share (share)" in html and "max new compute" in html
