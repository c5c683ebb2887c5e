"""Published price-break (quantity-discount) purchasing instances, in the public problem format.

`PUBLISHED = [(name, problem_dict, reported_optimum), ...]` holds instances whose optimal
plan is reported by the source; `HAND_VERIFIED` holds one whose data are published but whose
optimum the sources do not print (the value there is derived by hand below).  Both are
checked against the independent PuLP reference (tests/reference); `procure.solve` can reuse
them with the same assertion.

Mapping used for both: one period, one offer per supplier (each its own vendor), one unit of
compute per item, `demand` = the quantity to buy, the supplier's capacity as `max_units`,
its discount schedule as `price_tiers`.  An incremental schedule "p_1 up to B_1, p_2 from B_1
up to B_2, ..." becomes tiers [{from 0: p_1}, {from B_1: p_2}, ...] (the spec's incremental
cost is the area under that step curve).  The spec's `demand` is "at least"; both sources buy
"at least" / "exactly" the requirement, which has the same optimum here (every price is > 0,
so buying beyond the requirement only costs).
"""

from __future__ import annotations

import math

import pytest

try:
    from tests.reference import checker, pulp_model, spec
except ImportError:  # pytest run with tests/ (not the repo root) on sys.path
    from reference import checker, pulp_model, spec


# --------------------------------------------------------------------------- #
# 1. "Purchasing with price breaks" (incremental discounts, three suppliers).
#
# Source: FICO Xpress example `purchase.mos` (S. Heipcke, Dash Associates 2001), described in
# the Xpress-Mosel User Guide, section "Purchasing with price breaks" (Table 5.1 "Price
# profile", Figure 5.1), and in C. Guéret, C. Prins, M. Sevaux, "Applications of optimization
# with Xpress-MP" (Dash Optimization, 2002; transl. S. Heipcke), Section 3.4.5 "Special
# Ordered Sets of type 2" / teaching material Section 2.4 "SOS-2: Purchasing with price breaks".
# Data (Table 5.1; REQ = 600 items):
#     supplier  price 1  break 1  price 2  break 2  price 3  break 3
#        1        9.2      100      9.0      200      7.0     1000
#        2        9.0       50      8.5      250      8.3     2000
#        3       11.0      100      8.5      300      7.5     4000
# ("if you buy 150 items from supplier 1, you pay 9.2·100 + 9·50"), and at most MAXPERC % of
# REQ from each supplier: MAXPERC = (40, 35, 40) -> at most 240, 210, 240 items.  The MAXPERC
# values and the reported Xpress solution buy = (240, 210, 150) are as recorded in the GAMS
# translation of the example (A. Savitsky, GAMS-dev/gamsworld, XpressLib/IVE Examples/
# purchase.gms: "XPress solutions buy.fx['s1'] = 240, ['s2'] = 210, ['s3'] = 150").
# Reported optimum: the cost of that plan,
#     s1: 9.2·100 + 9·100 + 7·40 = 2100;  s2: 9·50 + 8.5·160 = 1810;  s3: 11·100 + 8.5·50 = 1525
#     total 5435.
# (The optimum is not unique: s2 and s3 both pay 8.5 at the margin, e.g. (240, 120, 240) also
# costs 5435, so only the cost is asserted.)  The last breakpoints (1000, 2000, 4000) are the
# end of each price curve and lie above the MAXPERC caps, so they do not bind.
# --------------------------------------------------------------------------- #
XPRESS_PURCHASE = {
    "name": "xpress-purchase-price-breaks",
    "periods": [1],
    "demand": 600,
    "offers": [
        {
            "name": "supplier1",
            "vendor": "supplier1",
            "compute": 1,
            "max_units": 240,  # 40 % of 600
            "discount": "incremental",
            "price_tiers": [
                {"from_units": 0, "unit_cost": 9.2},
                {"from_units": 100, "unit_cost": 9.0},
                {"from_units": 200, "unit_cost": 7.0},
            ],
        },
        {
            "name": "supplier2",
            "vendor": "supplier2",
            "compute": 1,
            "max_units": 210,  # 35 % of 600
            "discount": "incremental",
            "price_tiers": [
                {"from_units": 0, "unit_cost": 9.0},
                {"from_units": 50, "unit_cost": 8.5},
                {"from_units": 250, "unit_cost": 8.3},
            ],
        },
        {
            "name": "supplier3",
            "vendor": "supplier3",
            "compute": 1,
            "max_units": 240,  # 40 % of 600
            "discount": "incremental",
            "price_tiers": [
                {"from_units": 0, "unit_cost": 11.0},
                {"from_units": 100, "unit_cost": 8.5},
                {"from_units": 300, "unit_cost": 7.5},
            ],
        },
    ],
}
XPRESS_REPORTED_PLAN = {"supplier1": {1: 240}, "supplier2": {1: 210}, "supplier3": {1: 150}}

PUBLISHED: list[tuple[str, dict, float]] = [
    ("xpress-purchase-price-breaks", XPRESS_PURCHASE, 5435.0),
]


# --------------------------------------------------------------------------- #
# 2. Bid evaluation (incremental volume discounts, setup costs, a minimum quantity).
#
# Source: J. Bracken, G. P. McCormick, "Selected Applications of Nonlinear Programming"
# (Wiley, New York, 1968), Chapter 3, pp. 28-36; as GAMS Model Library model BID (SEQ=19),
# "Bid Evaluation".  Requirement 239600.48 units; bids (setup $, price $/unit, q-min, q-max):
#     a.1     3855.84   61.150           33000
#     b.1   125804.84   68.099   22000   70000
#     b.2               66.049   70000  100000
#     b.3               64.099  100000  150000
#     b.4               62.119  150000  160000
#     c.1    13456.00   62.190          165600
#     d.1     6583.98   72.488           12000
#     e.1               70.150           42000
#     e.2               68.150   42000   77000
# GAMS "ripples" the setup up the segments, setup_{s+1} = setup_s + q-max_s·(price_s −
# price_{s+1}), so a vendor's cost is setup + the incremental (area-under-steps) price of its
# quantity: setup -> vendor `onboarding_cost` (paid iff anything is bought), segments ->
# incremental `price_tiers`, b's q-min 22000 -> `min_order`, last q-max -> `max_units`.
# The requirement is not a whole number; a unit here is 1/100 item (compute 0.01, prices / 100,
# quantities · 100), so every plan of the continuous model whose quantities are multiples of
# 0.01 is a plan here -- and the optimum is one (all quantities at bounds but one).
#
# NOT REPORTED by the sources I could read (the GAMS model and its ports print no objective),
# so this is a hand-derived optimum, kept apart from PUBLISHED:
#   a (61.15) and c (62.19) are the cheapest by far and are bought to capacity:
#   33000 + 165600 = 198600; 41000.48 remain.  Cheapest way to buy them: e alone (no setup,
#   70.15 < 42000 units) 2,876,183.672; b alone 125804.84 + 68.099·41000.48 = 2,917,896.53;
#   d at 12000 + e 2,910,823.65; b is dearer than c at every volume below 150000
#   (average > 62.19 including its setup), so it never replaces c.
#   Optimum = 3855.84 + 33000·61.15 + 13456 + 165600·62.19 + 41000.48·70.15 = 15,210,109.512.
# --------------------------------------------------------------------------- #
_S = 100  # units per item


def _bid_problem() -> dict:
    def tiers(rows: list[tuple[float, float]]) -> list[dict]:
        return [{"from_units": q * _S, "unit_cost": p / _S} for q, p in rows]

    return {
        "name": "bracken-mccormick-bid-evaluation",
        "periods": [1],
        "demand": 239600.48,
        "offers": [
            {"name": "a", "vendor": "a", "compute": 1 / _S, "unit_cost": 61.150 / _S, "max_units": 33000 * _S},
            {
                "name": "b",
                "vendor": "b",
                "compute": 1 / _S,
                "min_order": 22000 * _S,
                "max_units": 160000 * _S,
                "price_tiers": tiers([(0, 68.099), (70000, 66.049), (100000, 64.099), (150000, 62.119)]),
            },
            {"name": "c", "vendor": "c", "compute": 1 / _S, "unit_cost": 62.190 / _S, "max_units": 165600 * _S},
            {"name": "d", "vendor": "d", "compute": 1 / _S, "unit_cost": 72.488 / _S, "max_units": 12000 * _S},
            {
                "name": "e",
                "vendor": "e",
                "compute": 1 / _S,
                "max_units": 77000 * _S,
                "price_tiers": tiers([(0, 70.150), (42000, 68.150)]),
            },
        ],
        "vendors": [
            {"name": "a", "onboarding_cost": 3855.84},
            {"name": "b", "onboarding_cost": 125804.84},
            {"name": "c", "onboarding_cost": 13456.00},
            {"name": "d", "onboarding_cost": 6583.98},
        ],
    }


BID_EVALUATION = _bid_problem()

HAND_VERIFIED: list[tuple[str, dict, float]] = [
    ("bracken-mccormick-bid-evaluation", BID_EVALUATION, 15_210_109.512),
]


# --------------------------------------------------------------------------- #
# Tests against the independent reference
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "name, problem, optimum", PUBLISHED + HAND_VERIFIED, ids=lambda x: x if isinstance(x, str) else ""
)
def test_reference_reproduces_optimum(name: str, problem: dict, optimum: float) -> None:
    assert spec.validate(problem) == []
    status, objective, plan = pulp_model.solve_reference(problem, time_limit=60)
    assert status == "optimal", name
    assert math.isclose(objective, optimum, rel_tol=1e-9, abs_tol=1e-6), (name, objective, plan)
    assert checker.violations(problem, plan) == []


def test_xpress_reported_plan_costs_the_reported_optimum() -> None:
    assert checker.violations(XPRESS_PURCHASE, XPRESS_REPORTED_PLAN) == []
    assert checker.capex(XPRESS_PURCHASE, XPRESS_REPORTED_PLAN) == {
        "supplier1": {1: 2100.0},
        "supplier2": {1: 1810.0},
        "supplier3": {1: 1525.0},
    }
    assert checker.cost(XPRESS_PURCHASE, XPRESS_REPORTED_PLAN) == pytest.approx(5435.0, abs=1e-9)


def test_bid_hand_derived_plan() -> None:
    plan = {"a": {1: 33000 * _S}, "c": {1: 165600 * _S}, "e": {1: 4100048}}
    assert checker.violations(BID_EVALUATION, plan) == []
    assert checker.cost(BID_EVALUATION, plan) == pytest.approx(15_210_109.512, rel=1e-12)
    # The ripple of GAMS' setups equals the incremental price curve plus the first setup:
    # b at 100000 items: 125804.84 + 68.099·70000 + 66.049·30000 (GAMS: setup_3 + 64.099·100000).
    setup3 = 125804.84 + 70000 * (68.099 - 66.049) + 100000 * (66.049 - 64.099)
    b_plan = {"b": {1: 100000 * _S}}
    assert checker.capex(BID_EVALUATION, b_plan)["b"][1] + 125804.84 == pytest.approx(setup3 + 64.099 * 100000)


# --------------------------------------------------------------------------- #
# procure reproduces them
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "name, problem, optimum", PUBLISHED + HAND_VERIFIED, ids=lambda x: x if isinstance(x, str) else ""
)
def test_procure_reproduces_optimum(name: str, problem: dict, optimum: float) -> None:
    import procure

    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", (name, result.message)
    assert math.isclose(result.objective, optimum, rel_tol=1e-9, abs_tol=1e-6), (name, result.objective)
    assert result.check() == []
    assert checker.violations(problem, result.by_site) == []
