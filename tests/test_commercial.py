"""Commercial terms, sites and workloads, checked on instances small enough to solve by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import procure


def one_offer(**offer: Any) -> dict[str, Any]:
    base = {"name": "chip", "vendor": "v", "compute": 1.0}
    return {"periods": [1], "demand": 150, "offers": [{**base, **offer}]}


TIERS = [{"from_units": 0, "unit_cost": 10}, {"from_units": 100, "unit_cost": 6}]


def test_incremental_tiers_price_each_unit_at_its_tier() -> None:
    result = procure.solve(one_offer(price_tiers=TIERS), mip_gap=0)
    assert result.cost == pytest.approx(100 * 10 + 50 * 6)
    assert result.check() == []


def test_all_units_tiers_can_make_buying_more_cheaper() -> None:
    problem = one_offer(price_tiers=TIERS, discount="all_units")
    problem["demand"] = 90
    result = procure.solve(problem, mip_gap=0)
    assert result.purchases.loc[1, "chip"] == 100  # 100 × $6 beats 90 × $10
    assert result.cost == pytest.approx(600)


def test_tiers_with_lots_and_min_order() -> None:
    problem = one_offer(price_tiers=TIERS, lot_size=40, min_order=80)
    problem["demand"] = 30
    result = procure.solve(problem, mip_gap=0)
    assert result.purchases.loc[1, "chip"] == 80  # the minimum order, two lots
    assert result.cost == pytest.approx(800)


def test_tier_prices_per_period() -> None:
    tiers = [{"from_units": 0, "unit_cost": {"1": 10, "2": 8}}, {"from_units": 100, "unit_cost": {"1": 6, "2": 5}}]
    problem = {
        "periods": [1, 2],
        "demand": {"1": 0, "2": 150},
        "offers": [{"name": "chip", "vendor": "v", "compute": 1, "price_tiers": tiers}],
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.cost == pytest.approx(100 * 8 + 50 * 5)


def test_take_or_pay_is_paid_and_can_be_beaten_by_discounted_purchases() -> None:
    problem = {
        "periods": [1, 2],
        "demand": {"1": 0, "2": 300},
        "discount_rate": 0.1,
        "offers": [{"name": "chip", "vendor": "v", "compute": 1, "unit_cost": 1, "lead_time": 1}],
        "vendors": [{"name": "v", "min_spend": 1000}],
    }
    result = procure.solve(problem, mip_gap=0)
    # 300 units in period 1 run in period 2; the other 700 of the minimum are cheaper bought
    # (and never used) in period 2, discounted, than paid as take-or-pay at period 0
    assert result.cost == pytest.approx(300 + 700 / 1.1)
    assert result.purchases["chip"].tolist() == [300, 700]
    problem["discount_rate"] = 0.0
    flat = procure.solve(problem, mip_gap=0)
    assert flat.cost == pytest.approx(1000)
    assert flat.cost_breakdown["take_or_pay"].sum() == pytest.approx(700) or flat.purchases["chip"].sum() == 1000


def test_take_or_pay_counts_against_total_budget() -> None:
    problem = {
        "periods": [1],
        "demand": 100,
        "total_budget": 900,
        "offers": [
            {"name": "a", "vendor": "x", "compute": 1, "unit_cost": 1},
            {"name": "b", "vendor": "y", "compute": 1, "unit_cost": 2},
        ],
        "vendors": [{"name": "x", "min_spend": 1000}],
    }
    assert procure.solve(problem).status == "infeasible"  # the minimum spend alone exceeds the budget


def test_max_spend_moves_purchases_to_another_vendor() -> None:
    problem = {
        "periods": [1],
        "demand": 100,
        "offers": [
            {"name": "a", "vendor": "x", "compute": 1, "unit_cost": 1},
            {"name": "b", "vendor": "y", "compute": 1, "unit_cost": 3},
        ],
        "vendors": [{"name": "x", "max_spend": 40}],
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.purchases.loc[1].tolist() == [40, 60]
    assert result.cost == pytest.approx(40 + 180)


SITES = {
    "periods": [1, 2],
    "demand": {"1": 100, "2": 300},
    "pue": 1.2,
    "electricity_price": 100,
    "power_cap_gw": 1.0,
    "offers": [
        {
            "name": "tpu",
            "vendor": "google",
            "compute": 1,
            "unit_cost": 1,
            "power_kw": 1000,
            "installed": {"oregon": 50},
        },
        {"name": "gpu", "vendor": "nvidia", "compute": 1, "unit_cost": 2, "power_kw": 1000, "max_units": 300},
    ],
    "sites": [
        {"name": "oregon", "vendors": ["google"], "power_cap_gw": 0.24, "pue": 1.1, "electricity_price": 50},
        {"name": "ohio", "power_cap_gw": {"1": 0.5, "2": 0.5}},
    ],
}


def test_sites_cap_power_and_host_vendors() -> None:
    result = procure.solve(SITES, mip_gap=0)
    assert result.status == "optimal"
    assert result.check() == []
    table = result.by_site.set_index(["period", "site", "offer"])
    assert ("oregon", "gpu") not in {(s, o) for _, s, o in table.index}  # oregon hosts only google
    # oregon: 0.24 GW / (1.1 × 1 MW) = 218 TPUs at most; the rest of period 2 comes from ohio
    oregon = table.xs("oregon", level="site")["fleet"]
    assert oregon.loc[(2, "tpu")] == 218
    assert result.purchases.loc[:, "tpu"].sum() + 50 + result.purchases.loc[:, "gpu"].sum() >= 300
    site_power = result.by_site.assign(gw=lambda d: d.fleet * 1e-3).pivot_table(
        index="period", columns="site", values="gw", aggfunc="sum"
    )
    assert site_power.loc[2, "oregon"] * 1.1 <= 0.24 + 1e-9
    assert site_power.loc[2, "ohio"] * 1.2 <= 0.5 + 1e-9


def test_sites_energy_uses_each_sites_price_and_pue() -> None:
    result = procure.solve(SITES, mip_gap=0)
    fleet = result.by_site.assign(kw=lambda d: d.fleet * 1000.0)
    price = {"oregon": 50 * 1.1, "ohio": 100 * 1.2}
    expected = sum(row.kw * 8.76 * price[row.site] for row in fleet.itertuples())
    assert result.cost_breakdown["energy"].sum() == pytest.approx(expected)


def test_installed_must_name_sites() -> None:
    problem = copy.deepcopy(SITES)
    problem["offers"][1]["installed"] = 5
    with pytest.raises(procure.ProblemError, match=r"offers\[1\]\.installed: 5 must be a mapping"):
        procure.solve(problem)


WORKLOADS = {
    "periods": [1],
    "workloads": {"training": 100, "inference": 60},
    "offers": [
        {"name": "tpu", "vendor": "google", "compute": 1, "unit_cost": 3, "efficiency": {"inference": 0.5}},
        {"name": "inf", "vendor": "amazon", "compute": 1, "unit_cost": 2, "efficiency": {"training": 0}},
    ],
}


def test_workloads_split_the_fleet() -> None:
    result = procure.solve(WORKLOADS, mip_gap=0)
    assert result.status == "optimal"
    assert result.check() == []
    # training only on tpu (100 units); inference: 60 on inf at $2 beats 120 tpu at $3
    assert result.purchases.loc[1].tolist() == [100, 60]
    served = result.split.groupby("workload")["compute"].sum()
    assert served["training"] == pytest.approx(100)
    assert served["inference"] == pytest.approx(60)
    assert set(result.split.columns) == {"period", "workload", "offer", "units", "compute"}


def test_workload_split_is_checked() -> None:
    result = procure.solve(WORKLOADS, mip_gap=0)
    ev = result.evaluation
    tampered = procure.core.result.make_result(result.problem, "optimal", ev.placed, ev.split * 0.5)
    assert any(line.startswith("workload_demand[") for line in tampered.check())
