"""Published instances reproduced with their reported optima."""

from __future__ import annotations

import pytest

import procure

# Hillier & Lieberman, *Introduction to Operations Research* (9th ed., McGraw-Hill 2010),
# Section 3.4, "Personnel scheduling" (Union Airways): agents work one of five 8-hour shifts;
# each shift covers a run of consecutive 2-hour periods; a minimum number of agents must be
# on duty in each of 10 periods; minimize the daily cost.  Reported optimum: (x1..x5) =
# (48, 31, 39, 43, 15), Z = $30,610.
#
# In procure's terms a shift is an offer that can only be "bought" in the period it starts
# (max_units 0 elsewhere) and stays "operational" for the periods it covers (lifetime);
# the minimum staffing is the demand, one agent is one unit of compute.
SHIFT_START = {"shift1": 1, "shift2": 2, "shift3": 4, "shift4": 6, "shift5": 9}
SHIFT_LENGTH = {"shift1": 4, "shift2": 4, "shift3": 4, "shift4": 4, "shift5": 2}
DAILY_COST = {"shift1": 170, "shift2": 160, "shift3": 175, "shift4": 180, "shift5": 195}
MIN_AGENTS = [48, 79, 65, 87, 64, 73, 82, 43, 52, 15]


def union_airways() -> dict:
    periods = list(range(1, 11))
    return {
        "name": "union-airways",
        "periods": periods,
        "demand": dict(zip(periods, MIN_AGENTS)),
        "offers": [
            {
                "name": shift,
                "vendor": "airline",
                "unit_cost": DAILY_COST[shift],
                "compute": 1,
                "lifetime": SHIFT_LENGTH[shift],
                "max_units": {p: (1000 if p == SHIFT_START[shift] else 0) for p in periods},
            }
            for shift in SHIFT_START
        ],
    }


def test_union_airways_reported_optimum() -> None:
    result = procure.solve(union_airways(), mip_gap=0)
    assert result.status == "optimal"
    assert result.cost == pytest.approx(30_610, abs=1e-6)
    bought = {shift: int(result.purchases.loc[start, shift]) for shift, start in SHIFT_START.items()}
    assert bought == {"shift1": 48, "shift2": 31, "shift3": 39, "shift4": 43, "shift5": 15}
    assert result.check() == []
