"""Shadow prices (`Result.sensitivity`) and finite changes (`Result.marginal_value`).

- every price agrees with a finite difference of the plan's own objective, computed by
  `procure.evaluate` from the changed problem at the same purchases (independent of the
  model): relaxing each requirement a little, and tightening it where the plan still meets it
  (where it does not, the price is ``inf``);
- closed forms by hand (expected loss, CVaR, take-or-pay, one more unit of supply);
- mutants that forget the unscaling or flip a sign fail the same comparison;
- a binding power cap is worth 0 with purchases fixed, and its finite value is the one an
  independent re-solve gives; a change's interval holds the exact change.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference.strategies import problems

import procure
import procure.analysis.duals as duals
import procure.solvers.lp_basis as lp_basis
from procure.analysis.sensitivity import KINDS, MarginalValue, Sensitivity
from procure.model import Index
from procure.model.risk import HHI_TOL
from procure.problem.evaluate import evaluate, objective_of, violations
from procure.problem.fields import get_value, set_value

ROOT = Path(__file__).resolve().parent.parent

#: Field units per unit of the table (the documented units: MW of a GW cap, points of a share).
PER = {"MW": 1e-3, "pt": 0.01}
#: Fields whose value is a cap: raising it relaxes it (the others are lowered to relax them).
CAPS = ("power_cap_gw", "budget", "total_budget", "max_share", "max_spend", "max_cvar", "max_hhi", "max_units")


def _raising_relaxes(path: str) -> bool:
    field = path.split(".")[-1].split("[")[0]
    return field in CAPS


def _at_plan(problem: procure.Problem, result: procure.Result) -> tuple[float, list[str]]:
    """The objective of the result's purchases for ``problem``, and the constraints they break."""
    ev = result.evaluation
    assert ev is not None
    mine = evaluate(problem, ev.placed, ev.split)
    return objective_of(problem, mine), violations(problem, mine, hhi_tol=HHI_TOL)


#: Defaults of the fields a table may price but a problem's mapping leaves out (problem-format.md).
DEFAULTS = {"risk.min_vendor_share": 0.1, "risk.max_share": 1.0}


def _value(problem: procure.Problem | dict[str, Any], path: str) -> Any:
    value = get_value(problem, path)
    return DEFAULTS.get(path) if value is None else value


def _moved(problem: procure.Problem, path: str, amount: float) -> procure.Problem | None:
    """``problem`` with ``amount`` added to the field at ``path`` (None if that is not valid)."""
    data = problem.to_dict()
    value = _value(data, path)
    if isinstance(value, dict):
        value = {k: v + amount for k, v in value.items()}
    else:
        value = value + amount
    set_value(data, path, value)
    try:
        return procure.Problem.from_dict(data)
    except procure.ProblemError:
        return None


def _step(value: float) -> float:
    return 1e-5 * max(abs(value), 1e-3)


def _close(fd: float, price: float, objective: float, step: float) -> bool:
    noise = 1e-9 * max(abs(objective), 1.0) / step
    return abs(fd - price) <= noise + 1e-4 * abs(price) + 1e-9


def _one_side(
    result: procure.Result, path: str, value: float, direction: float
) -> tuple[float, float, list[str]] | None:
    """The plan's objective change per unit when the field at ``path`` moves in ``direction``,
    or the constraints it breaks at the smallest of a few shrinking steps (None when the move is
    not a valid problem).  The objective is piecewise linear in the field: a step that crosses
    a kink (a take-or-pay a few dollars from the spend) gives a chord, not the derivative, so
    the step shrinks until two successive rates agree."""
    broken: list[str] = []
    rate: tuple[float, float, list[str]] | None = None
    for shrink in (1.0, 1e-2, 1e-4):
        h = _step(value) * shrink
        moved = _moved(result.problem, path, direction * h)
        if moved is None:
            return rate
        after, broken = _at_plan(moved, result)
        if broken:
            break
        smaller = ((after - result.objective) / h, h, [])
        if rate is not None and _close(rate[0], smaller[0], result.objective, smaller[1]):
            return rate
        rate = smaller
    return rate if rate is not None else (math.nan, math.nan, broken)


def assert_prices_match_finite_differences(result: procure.Result, s: Sensitivity, *, tighten: bool = True) -> None:
    """Every price of ``s`` against the change of the plan's own objective when the requirement
    moves a little (fields priced per period but stated once are compared in total); where the
    plan cannot meet the moved requirement however small the step, the price is infinite."""
    problem = result.problem
    objective = result.objective
    table = s.table
    for path, rows in table[table["kind"] != "supply"].groupby("path", sort=False):
        per = PER.get(rows["unit"].iloc[0], 1.0)
        value = _value(problem, path)
        value = float(np.max(list(value.values()))) if isinstance(value, dict) else float(value)
        sign = 1.0 if _raising_relaxes(path) else -1.0
        price = float(rows["shadow_price"].sum())
        costs = rows["tightening_cost"].to_numpy()
        if value == 0 and (np.isnan(costs).any() or math.isnan(price)):
            # documented: moving a zero can add part of the model (HHI terms of a period that
            # gains demand): no derivative exists there
            continue
        relaxed = _one_side(result, path, value, sign)
        if relaxed is not None:
            rate, h, broken = relaxed
            if broken:  # less demand can break an HHI cap (HHI counts shares of demand)
                assert price == -math.inf, (path, broken, price)
            else:
                assert _close(-rate * per, price, objective, h / per), (path, -rate * per, price)
        tighter = _one_side(result, path, value, -sign) if tighten else None
        if tighter is not None:
            rate, h, broken = tighter
            if broken:
                assert np.isinf(costs).any(), (path, broken, costs)
            else:
                assert _close(rate * per, float(costs.sum()), objective, h / per), (path, rate * per, costs)


def assert_supply_prices_match(result: procure.Result, s: Sensitivity) -> None:
    """Where supply binds, the price is what a little more of the offer (bought at its best site)
    saves per unit, at the plan, when nothing else stops it; 0 where it would not pay."""
    problem = result.problem
    ev = result.evaluation
    assert ev is not None
    inputs = problem.inputs
    for row in s.supply.itertuples():
        i = problem.offer_names.index(row.offer)
        t = problem.periods.index(int(row.period))
        if not row.binding:
            assert row.shadow_price == 0.0
            continue
        if problem.offers[i].price_tiers is not None or ev.purchases[i, t] <= 0:
            continue  # a tier's binary or a first order: discrete steps, not a rate
        data = problem.to_dict()
        set_value(data, f"offers[{row.offer}].max_units[{row.period}]", row.value + inputs.lot[i])
        more = procure.Problem.from_dict(data)
        h = 1e-4
        best = 0.0
        for p in np.flatnonzero(inputs.offer_of == i):
            placed = ev.placed.copy()
            placed[p, t] += h
            mine = evaluate(more, placed, ev.split)
            broken = [b for b in violations(more, mine, hhi_tol=HHI_TOL) if not b.startswith("lots[")]
            if not broken:
                best = max(best, (result.objective - objective_of(more, mine)) / h)
        assert _close(best, row.shadow_price, result.objective, h), (row.path, best, row.shadow_price)


# --------------------------------------------------------------------------- by hand

RISKY: dict[str, Any] = {
    "periods": [2026, 2027],
    "demand": {"2026": 100, "2027": 200},
    "offers": [
        {"name": "a", "vendor": "x", "unit_cost": 5, "compute": 1.0, "max_units": 120, "power_kw": 1},
        {"name": "b", "vendor": "y", "unit_cost": 30, "compute": 1.0, "power_kw": 1},
    ],
    "vendors": [{"name": "x", "min_spend": 5000}],
    "discount_rate": 0.1,
    "risk": {
        "scenarios": [{"name": "x-half", "probability": 0.1, "availability": {"x": 0.5}}],
        "shortfall_penalty": 100,
        "risk_weight": 1,
        "cvar_alpha": 0.0,
    },
}


def _row(s: Sensitivity, path: str, period: int | None = None) -> pd.Series:
    t = s.table
    rows = t[(t["path"] == path) & ((t["period"] == period) if period is not None else True)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_prices_by_hand_expected_loss_take_or_pay_and_supply() -> None:
    result = procure.solve(RISKY, mip_gap=0)
    assert result.purchases["a"].tolist() == [120, 120] and result.purchases["b"].tolist() == [0, 0]
    s = result.sensitivity()
    # expected loss (alpha 0) = 0.1 × 100 × Σ_t d_t × (demand_t − 0.5 × compute_t): one unit less
    # demand in t saves risk_weight × 0.1 × 100 × d_t
    assert _row(s, "demand[2026]")["shadow_price"] == pytest.approx(10.0, rel=1e-9)
    assert _row(s, "demand[2027]")["shadow_price"] == pytest.approx(10.0 / 1.1, rel=1e-9)
    assert _row(s, "demand[2027]")["tightening_cost"] == pytest.approx(10.0 / 1.1, rel=1e-9)
    # take-or-pay: 2,400 spent of 5,000: each $ less of minimum spend saves $1
    take = _row(s, "vendors[x].min_spend")
    assert take["shadow_price"] == pytest.approx(1.0) and take["binding"]
    assert take["tightening_cost"] == pytest.approx(1.0)
    # one more unit of a in 2026 costs 5 (it counts toward the minimum spend: net 0) and halves
    # a shortfall of one unit in both years: 0.1 × 100 × 0.5 × (1 + 1/1.1)
    supply = _row(s, "offers[a].max_units[2026]", 2026)
    assert supply["binding"] and supply["slack"] == 0
    assert supply["shadow_price"] == pytest.approx(5.0 * (1 + 1 / 1.1), rel=1e-9)
    assert supply["tightening_cost"] == math.inf  # fewer units than bought: the purchases must change
    assert_prices_match_finite_differences(result, s)
    assert_supply_prices_match(result, s)


def test_cvar_price_by_hand() -> None:
    # CVaR at 0.9 of a loss L with probability 0.05 (nominal 0.95) is L / 2: the tail holds the
    # scenario and 0.05 of the nominal case
    problem = copy.deepcopy(RISKY)
    problem["risk"].update(
        cvar_alpha=0.9, scenarios=[{"name": "x-half", "probability": 0.05, "availability": {"x": 0.5}}]
    )
    del problem["vendors"]
    problem["offers"][1]["unit_cost"] = 1000  # dearer than the risk it removes: shortfalls stay
    result = procure.solve(problem, mip_gap=0)
    assert result.purchases["b"].sum() == 0
    s = result.sensitivity()
    assert _row(s, "demand[2026]")["shadow_price"] == pytest.approx(0.5 * 100, rel=1e-9)
    assert _row(s, "demand[2027]")["shadow_price"] == pytest.approx(0.5 * 100 / 1.1, rel=1e-9)
    assert_prices_match_finite_differences(result, s)


def test_hhi_price_of_demand_is_negative() -> None:
    # HHI counts shares of demand: less demand makes the same fleet look more concentrated
    problem = copy.deepcopy(RISKY)
    problem["risk"] = {"hhi_weight": 1000.0}
    del problem["vendors"]
    result = procure.solve(problem, mip_gap=0)
    s = result.sensitivity()
    ev = result.evaluation
    assert ev is not None
    c, d = ev.compute_by_vendor[:, 0], 100.0
    # d/dD of 1000 · Σ_v (C_v / D)² = −2000 · Σ C_v² / D³; lowering demand raises the objective
    assert _row(s, "demand[2026]")["shadow_price"] == pytest.approx(-2000 * (c**2).sum() / d**3, rel=1e-6)
    assert_prices_match_finite_differences(result, s)


def test_binding_power_cap_is_worth_nothing_locally_and_its_finite_value_is_a_resolve() -> None:
    # the cheap offer draws more power; the cap binds in 2026
    problem: dict[str, Any] = {
        "periods": [2026, 2027],
        "demand": {"2026": 100, "2027": 100},
        "offers": [
            {"name": "hot", "vendor": "x", "unit_cost": 10, "compute": 1, "power_kw": 2},
            {"name": "cool", "vendor": "y", "unit_cost": 15, "compute": 1, "power_kw": 1},
        ],
        "power_cap_gw": 0.00015,
    }
    base = procure.solve(problem, mip_gap=0)
    s = base.sensitivity()
    cap = _row(s, "power_cap_gw[2026]")
    assert cap["binding"] and cap["slack"] == pytest.approx(0, abs=1e-9)
    assert cap["unit"] == "MW" and cap["value"] == pytest.approx(0.15)
    assert cap["shadow_price"] == 0.0 and cap["tightening_cost"] == math.inf
    assert not s.power.empty and set(s.power["kind"]) == {"power"}
    assert_prices_match_finite_differences(base, s)
    # finite: 0.01 MW more in both years (what is bought in 2026 still runs in 2027) lets 10 units
    # of "cool" be "hot" instead, $5 cheaper each
    value = base.marginal_value({"power_cap_gw": 0.00001}, mip_gap=0)
    changed = copy.deepcopy(problem)
    changed["power_cap_gw"] = 0.00016
    independent = procure.solve(changed, mip_gap=0)
    assert value.change == pytest.approx(independent.objective - base.objective, abs=1e-9)
    assert value.change == pytest.approx(-50.0)
    assert value.certain and value.low == pytest.approx(value.change) and value.high == pytest.approx(value.change)
    assert value.per_unit == pytest.approx(-50.0 / 0.00001)
    assert value.changes == {"power_cap_gw": 0.00001}
    same = base.marginal_value({"power_cap_gw": {"2026": 0.00001, "2027": 0.00001}}, mip_gap=0)
    assert same.change == pytest.approx(value.change)
    assert same.changes == {"power_cap_gw[2026]": 0.00001, "power_cap_gw[2027]": 0.00001}
    only_2026 = base.marginal_value({"power_cap_gw[2026]": 0.00001}, mip_gap=0)
    assert only_2026.change == pytest.approx(0.0, abs=1e-9)  # 2027's cap still holds the fleet
    assert isinstance(value, MarginalValue) and "exact" in value.note and "power_cap_gw +0.01 MW" in repr(value)


def test_marginal_values_of_one_result_share_one_kept_model() -> None:
    """Each call re-solves in the model the previous call kept (numbers changed in place), and
    each answer is still that of an independent solve of the changed problem."""
    from procure.core import re_solve as resolve

    problem = procure.Problem.from_file(ROOT / "examples" / "gigawatt_2026.toml")
    base = procure.solve(problem)
    sessions = []
    for amount in (0.05, -0.05, 0.1):  # 1.25 GW in 2026 is too little
        value = base.marginal_value({"power_cap_gw[2026]": amount})
        pipeline = resolve.pipeline_for(base, {"solver": base.solver}, "test")
        state = resolve.kept_model(base, pipeline)
        assert state is not None
        sessions.append(state.session)
        resolve.keep_model(base, pipeline, state)
        changed = procure.problem.fields.apply_changes(problem, {"power_cap_gw[2026]": 1.3 + amount})
        independent = procure.solve(changed)
        assert value.new_status == independent.status == ("infeasible" if amount < 0 else "optimal")
        if amount > 0:
            assert value.new_objective == pytest.approx(independent.objective, rel=2e-4)
    assert sessions[0] is sessions[1] is sessions[2]
    other = procure.solve(problem)
    assert resolve.kept_model(other, resolve.pipeline_for(other, {"solver": other.solver}, "test")) is None


# --------------------------------------------------------------------------- at random


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        problems(scenarios=True),
        problems(scenarios=True, hhi=True),
        problems(commercial=True, scenarios=True),
        problems(sites=True, scenarios=True),
        problems(workloads=True, scenarios=True, hhi=True),
    )
)
def test_prices_agree_with_finite_differences(problem: dict[str, Any]) -> None:
    result = procure.solve(problem, mip_gap=0)
    assume(result.status == "optimal")
    s = result.sensitivity()
    assert s.objective == result.objective
    # a tighter workload or vendor count may be met by another split or another counted vendor:
    # the fixed LP holds both, the evaluation does not
    tighten = result.problem.workloads is None and result.problem.risk.min_vendors == 0
    assert_prices_match_finite_differences(result, s, tighten=tighten)
    assert_supply_prices_match(result, s)
    t = s.table
    priced = t.dropna(subset=["shadow_price", "tightening_cost"])
    # convexity: what relaxing saves never exceeds what tightening costs
    assert (priced["shadow_price"] <= priced["tightening_cost"] + 1e-6 * (1 + priced["tightening_cost"].abs())).all()
    assert t["shadow_price"].notna().all() or (t.loc[t["shadow_price"].isna(), "value"] == 0).all()
    assert (t.loc[~t["binding"] & (t["kind"] != "supply"), "slack"] > 0).all()


def _unscaled_matrix_form(model: Any, **kw: Any) -> Any:
    from dataclasses import replace

    from procure.model.scaling import matrix_form

    form = matrix_form(model, **kw)
    return replace(form, row_scale=np.ones_like(form.row_scale), obj_scale=1.0)


def test_forgotten_unscaling_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = copy.deepcopy(RISKY)
    problem["demand"] = {"2026": 1e5, "2027": 2e5}  # rows and objective far from unit size
    problem["offers"][0]["max_units"] = 1.2e5
    problem["vendors"][0]["min_spend"] = 5e6
    result = procure.solve(problem, mip_gap=0)
    assert_prices_match_finite_differences(result, result.sensitivity())
    monkeypatch.setattr(lp_basis, "matrix_form", _unscaled_matrix_form)
    with pytest.raises(AssertionError):
        assert_prices_match_finite_differences(result, result.sensitivity())


def test_flipped_sign_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    result = procure.solve(RISKY, mip_gap=0)
    slope = duals.FixedPlan.slope
    monkeypatch.setattr(duals.FixedPlan, "slope", lambda self, change: tuple(-x for x in slope(self, change)))
    with pytest.raises(AssertionError):
        assert_prices_match_finite_differences(result, result.sensitivity())


def test_a_binding_cap_without_continuous_response_is_priced_zero_not_by_a_degenerate_dual() -> None:
    # take-or-pay meets the total budget: duals are not unique there (HiGHS may return any
    # split of them); relaxing the total budget is worth nothing, lowering the minimum spend $1
    problem = copy.deepcopy(RISKY)
    problem["risk"] = {}
    problem["total_budget"] = 5000
    result = procure.solve(problem, mip_gap=0)
    s = result.sensitivity()
    total = _row(s, "total_budget")
    assert total["binding"] and total["shadow_price"] == 0.0 and total["tightening_cost"] == math.inf
    take = _row(s, "vendors[x].min_spend")
    assert take["shadow_price"] == pytest.approx(1.0) and take["tightening_cost"] == math.inf
    assert_prices_match_finite_differences(result, s)


# --------------------------------------------------------------------------- the object


def test_sensitivity_tables_views_and_text(small: dict[str, Any]) -> None:
    small["risk"].update(
        scenarios=[{"name": "tpu-cut", "probability": 0.1, "availability": {"google": 0.5}}],
        shortfall_penalty=1e4,
        risk_weight=1.0,
    )
    small["budget"] = 3e8
    small["offers"][0]["max_units"] = 2560
    small["vendors"].append({"name": "google", "max_share": 0.5})
    result = procure.solve(small)
    s = result.sensitivity()
    t = s.table
    assert list(t.columns[:8]) == ["path", "kind", "period", "site", "vendor", "offer", "workload", "unit"]
    assert set(t["kind"]) <= set(KINDS)
    views = [s.compute, s.power, s.budget, s.supply, s.shares, s.contracts, s.risk]
    assert sum(len(v) for v in views) == len(t)
    assert set(s.budget["path"]) == {"budget[2026]", "budget[2027]", "budget[2028]"}
    assert set(s.shares["path"]) == {"vendors[google].max_share", "risk.max_share"}
    assert set(s.shares["period"]) == {2026, 2027, 2028}
    assert s.power["unit"].eq("MW").all() and s.shares["unit"].eq("pt").all()
    assert s.compute["unit"].eq("compute").all() and s.supply["unit"].eq("units").all()
    before = s.table
    t.loc[:, "shadow_price"] = -1.0  # a copy: the result keeps its own
    power = s.power
    power.loc[:, "slack"] = -1.0
    pd.testing.assert_frame_equal(s.table, before)
    assert "integers fixed" in s.note and "marginal_value" in s.note
    text = repr(s)
    assert "local values" in text and "purchases held fixed" in text
    assert s.binding["binding"].all()


def test_sensitivity_with_sites_and_workloads() -> None:
    problem: dict[str, Any] = {
        "periods": [2026, 2027],
        "workloads": {"training": {"2026": 60, "2027": 120}, "inference": 40},
        "offers": [
            {
                "name": "a",
                "vendor": "x",
                "unit_cost": 10,
                "compute": 1,
                "power_kw": 1,
                "efficiency": {"inference": 0.5},
            },
            {"name": "b", "vendor": "y", "unit_cost": 14, "compute": 1, "power_kw": 1},
        ],
        "sites": [{"name": "east", "power_cap_gw": 0.0001, "vendors": ["x"]}, {"name": "west"}],
        "power_cap_gw": 0.0003,
        "risk": {
            "scenarios": [{"name": "y-out", "probability": 0.2, "availability": {"y": 0.0}}],
            "shortfall_penalty": 50,
            "risk_weight": 1,
        },
    }
    result = procure.solve(problem, mip_gap=0)
    s = result.sensitivity()
    paths = set(s.table["path"])
    assert {"workloads[training][2026]", "workloads[inference][2027]"} <= paths
    assert {"sites[east].power_cap_gw[2026]", "power_cap_gw[2026]"} <= paths
    assert set(s.power["site"]) == {"", "east"}  # west takes power_cap_gw: priced with it
    assert_prices_match_finite_differences(result, s, tighten=False)


def test_sensitivity_needs_a_plan_and_known_options() -> None:
    infeasible = procure.solve(
        {
            "periods": [1],
            "demand": 10,
            "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1, "max_units": 1}],
        }
    )
    assert infeasible.status == "infeasible"
    with pytest.raises(procure.ProblemError, match="no plan"):
        infeasible.sensitivity()
    result = procure.solve(RISKY)
    with pytest.raises(procure.ProblemError, match="unknown option"):
        result.sensitivity(colour="red")
    with pytest.raises(procure.ProblemError, match="time_limit"):
        result.sensitivity(time_limit=-1)


def test_extra_rows_must_be_given_again() -> None:
    def cap_a(model: Any, handles: Any, data: Any) -> None:
        bought = handles.units_bought()  # row i·T + t: offer a in 2026 is row 0
        model.add_matrix_rows("a_2026", Index.scalar(), bought[0:1], upper=110.0)

    result = procure.solve(RISKY, extra=cap_a, mip_gap=0)
    assert result.purchases.loc[2026, "a"] == 110
    with pytest.raises(procure.ProblemError, match="extra"):
        result.sensitivity()
    with pytest.raises(procure.ProblemError, match="extra"):
        result.marginal_value({"demand[2026]": 1})
    s = result.sensitivity(extra=cap_a)
    assert_prices_match_finite_differences(result, s)


# --------------------------------------------------------------------------- marginal values


def test_marginal_value_paths_and_errors() -> None:
    result = procure.solve(RISKY, mip_gap=0)
    with pytest.raises(procure.ProblemError, match="not set"):
        result.marginal_value({"power_cap_gw[2026]": 0.1})  # there is no cap to add to
    with pytest.raises(procure.ProblemError, match="no offer"):
        result.marginal_value({"offers[nope].max_units": 1})
    with pytest.raises(procure.ProblemError, match="not a period"):
        result.marginal_value({"demand": {"2030": 1}})
    with pytest.raises(procure.ProblemError, match="number"):
        result.marginal_value({"demand[2026]": "ten"})
    with pytest.raises(procure.ProblemError, match="max_share"):
        result.marginal_value({"risk.max_share": 0.5})  # 1.5 is not a share
    with pytest.raises(procure.ProblemError):
        result.marginal_value({})
    both = result.marginal_value({"demand": 10, "offers[a].max_units[2027]": 5}, mip_gap=0)
    assert both.changes == {"demand": 10, "offers[a].max_units[2027]": 5}
    assert both.amount is None and math.isnan(both.per_unit)
    changed = copy.deepcopy(RISKY)
    changed["demand"] = {"2026": 110, "2027": 210}
    changed["offers"][0]["max_units"] = {"2026": 120, "2027": 125}
    assert both.new_objective == pytest.approx(procure.solve(changed, mip_gap=0).objective, rel=1e-9)
    assert both.result.problem == procure.Problem.from_dict(changed)


def test_marginal_value_that_leaves_no_plan() -> None:
    problem = copy.deepcopy(RISKY)
    problem["offers"][1]["max_units"] = 100
    result = procure.solve(problem, mip_gap=0)
    value = result.marginal_value({"demand[2027]": 1000})
    assert value.new_status == "infeasible"
    assert value.change == math.inf and value.low == math.inf and value.high == math.inf
    assert "no plan" in value.note


@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["demand", "power_cap_gw", "budget", "total_budget"]), st.sampled_from([-0.2, 0.3]))
def test_marginal_value_is_an_independent_resolve(problem: dict[str, Any], field: str, fraction: float) -> None:
    base = procure.solve(problem, mip_gap=0)
    assume(base.status == "optimal" and field in problem)
    current = get_value(base.problem, field)
    size = float(np.max(list(current.values()))) if isinstance(current, dict) else float(current)
    amount = fraction * size
    changed = _moved(base.problem, field, amount)
    assume(changed is not None and amount != 0)
    value = base.marginal_value({field: amount}, mip_gap=0)
    independent = procure.solve(changed.to_dict(), mip_gap=0)
    assert value.new_status == independent.status
    if independent.has_plan:
        assert value.change == pytest.approx(independent.objective - base.objective, rel=1e-6, abs=1e-6)
        assert value.per_unit == pytest.approx(value.change / amount, rel=1e-9)
        assert (
            value.low
            <= value.change + 1e-6 * max(1, abs(value.change))
            <= value.high + 2e-6 * max(1, abs(value.change))
        )


def test_marginal_value_interval_holds_the_exact_change(small: dict[str, Any]) -> None:
    loose = procure.solve(small, mip_gap=0.05)
    value = loose.marginal_value({"risk.max_share": 0.1}, mip_gap=0.05)
    exact_base = procure.solve(small, mip_gap=0)
    changed = copy.deepcopy(small)
    changed["risk"]["max_share"] = 0.7
    exact_new = procure.solve(changed, mip_gap=0)
    truth = exact_new.objective - exact_base.objective
    slack = 1e-6 * abs(exact_base.objective)
    assert value.low - slack <= truth <= value.high + slack
    if not value.certain:
        assert "uncertain" in value.note
