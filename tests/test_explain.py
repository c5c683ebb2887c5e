"""`procure.explain`: conflicts and repairs of problems without a plan, checked by solving.

Every repair is applied and solved (it must have a plan that passes `check()`),
shrunk by 1% it must have none (minimality), fixed requirements never move, and
on small problems the sizes are checked against arithmetic done by hand.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import procure
from procure.model.sets import model_data
from procure.problem.evaluate import evaluate, violations
from procure.problem.fields import apply_changes, get_value


def one_period(**extra: Any) -> dict[str, Any]:
    """Demand 100 in 2026; chips of 1 compute and 1 kW, $10 each, bought one at a time."""
    problem: dict[str, Any] = {
        "periods": [2026],
        "demand": 100,
        "offers": [
            {"name": "a", "vendor": "va", "unit_cost": 10, "compute": 1, "power_kw": 1},
            {"name": "b", "vendor": "vb", "unit_cost": 12, "compute": 1, "power_kw": 1, "max_units": 30},
        ],
    }
    problem.update(extra)
    return problem


def shrunk(problem: procure.Problem, diagnosis: procure.Diagnosis, repair: int, by: float = 0.01) -> procure.Problem:
    """The repaired problem with every change made ``by`` smaller."""
    rows = diagnosis.repairs[diagnosis.repairs.repair == repair]
    changes = {r.requirement: r.old + (1 - by) * (r.new - r.old) for r in rows.itertuples()}
    return apply_changes(problem, changes)


def assert_repairs_hold(problem: procure.Problem, diagnosis: procure.Diagnosis, fixed: tuple[str, ...] = ()) -> None:
    table = diagnosis.repairs
    for k in sorted(set(table.repair)):
        repaired = diagnosis.apply(k)
        result = procure.solve(repaired)
        assert result.has_plan, (k, result.message)
        assert result.check() == []
        rows = table[table.repair == k]
        assert math.isclose(rows.cost.iloc[0], result.objective, rel_tol=2e-4)
        for r in rows.itertuples():
            assert not any(r.requirement == f or r.requirement.startswith((f + "[", f + ".")) for f in fixed)
            assert get_value(repaired, r.requirement) == pytest.approx(r.new)
            assert r.change == pytest.approx(r.new - r.old)
        if rows.minimal.iloc[0] and not set(rows.unit) & {"units", "vendors"}:
            assert procure.solve(shrunk(problem, diagnosis, k)).status == "infeasible", rows


def test_power_cap_against_demand_by_hand() -> None:
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6))  # 50 kW for 100 kW of chips
    d = procure.explain(problem)
    assert not d.has_plan and d.conflict_minimal
    assert {r.path for r in d.conflict} == {"demand[2026]", "power_cap_gw[2026]"}
    table = d.repairs
    power = table[table.requirement == "power_cap_gw[2026]"]
    assert power.new.iloc[0] == pytest.approx(100e-6, rel=1e-5)  # 100 chips need 100 kW
    assert power.cost.iloc[0] == pytest.approx(1000.0, rel=1e-4)  # 100 chips of "a" at $10
    demand = table[table.requirement == "demand[2026]"]
    assert demand.new.iloc[0] == pytest.approx(50.0, rel=3e-3)  # 50 kW runs 50 chips
    assert_repairs_hold(problem, d)
    assert d.message.startswith("no plan satisfies every constraint")
    assert "power cap in 2026" in d.message and "raise the power cap in 2026" in str(d)


def test_share_cap_against_supply_by_hand() -> None:
    # va may hold at most half, vb can supply only 30 of the 100 needed
    problem = procure.Problem.from_dict(one_period(vendors=[{"name": "va", "max_share": 0.5}]))
    d = procure.explain(problem)
    assert {r.family for r in d.conflict} == {"max_share", "supply", "demand"} or {r.family for r in d.conflict} == {
        "max_share",
        "supply",
    }
    table = d.repairs
    share = table[table.requirement == "vendors[va].max_share"]
    assert share.new.iloc[0] == pytest.approx(0.7, abs=2e-3)  # 70 of 100 from va
    supply = table[table.requirement == "offers[b].max_units[2026]"]
    assert supply.new.iloc[0] == 50  # whole units: 50 from vb, 50 from va
    assert_repairs_hold(problem, d)


def test_fixed_requirements_never_move() -> None:
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6, budget=1200))
    free = procure.explain(problem)
    assert any(r.startswith("power_cap_gw") for r in free.repairs.requirement)
    for fixed in (("power_cap_gw",), ("demand",), ("budget", "demand")):
        d = procure.explain(problem, fixed=fixed)
        assert len(d.repairs) > 0
        assert_repairs_hold(problem, d, fixed)


def test_no_single_family_gives_one_joint_repair() -> None:
    # two caps, each of which needs the other raised: only a joint repair exists with demand fixed
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6, budget=500))
    d = procure.explain(problem, fixed=["demand"])
    assert len(set(d.repairs.repair)) >= 1
    joint = d.repairs[d.repairs.repair == 0]
    assert set(joint.requirement) == {"power_cap_gw[2026]", "budget[2026]"}
    assert not joint.minimal.iloc[0]
    assert_repairs_hold(problem, d, ("demand",))


def test_prices_and_priorities_order_the_repairs() -> None:
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6))
    cheap_power = procure.explain(problem, prices={"power_cap_gw": 1.0, "demand": 1e6})
    assert cheap_power.repairs.requirement.iloc[0] == "power_cap_gw[2026]"
    last_power = procure.explain(problem, priorities={"power_cap_gw": 10})
    assert last_power.repairs.requirement.iloc[-1] == "power_cap_gw[2026]"


def test_a_problem_with_a_plan_has_nothing_to_repair() -> None:
    d = procure.explain(one_period())
    assert d.has_plan and d.conflict == () and d.repairs.empty
    with pytest.raises(IndexError):
        d.apply(0)


def test_result_explain_and_message_come_from_the_diagnosis() -> None:
    result = procure.solve(one_period(power_cap_gw=50e-6))
    assert result.status == "infeasible"
    d = result.explain()
    assert {r.path for r in d.conflict} == {"demand[2026]", "power_cap_gw[2026]"}
    assert result.message == d.message
    assert "power cap in 2026" in result.message and "raise the power cap in 2026" in result.message


def test_bad_fixed_is_refused() -> None:
    with pytest.raises(ValueError, match="fixed"):
        procure.explain(one_period(power_cap_gw=50e-6), fixed=[""])


@st.composite
def infeasible_problems(draw: st.DrawFn) -> dict[str, Any]:
    periods = [2026, 2027]
    demand = {str(p): draw(st.integers(20, 200)) for p in periods}
    offers = [
        {
            "name": f"o{k}",
            "vendor": f"v{k % 2}",
            "unit_cost": draw(st.integers(5, 30)),
            "compute": draw(st.sampled_from([1, 2, 4])),
            "power_kw": draw(st.sampled_from([1, 2, 3])),
            "lot_size": draw(st.sampled_from([1, 2, 5])),
            "max_units": draw(st.integers(10, 120)),
        }
        for k in range(3)
    ]
    problem: dict[str, Any] = {"periods": periods, "demand": demand, "offers": offers}
    limit = draw(st.sampled_from(["power", "budget", "share", "power+budget"]))
    need = max(demand.values())
    if "power" in limit:
        problem["power_cap_gw"] = draw(st.floats(0.05, 0.6)) * need * 1e-6
    if "budget" in limit:
        problem["budget"] = draw(st.floats(0.5, 3.0)) * need
    if limit == "share":
        problem["risk"] = {"max_share": draw(st.sampled_from([0.3, 0.45, 0.6]))}
    return problem


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(infeasible_problems(), st.sampled_from([(), ("demand",), ("power_cap_gw", "budget")]))
def test_random_infeasible_problems(raw: dict[str, Any], fixed: tuple[str, ...]) -> None:
    problem = procure.Problem.from_dict(raw)
    if procure.solve(problem).has_plan:
        return
    d = procure.explain(problem, fixed=fixed)
    assert d.conflict, d.message
    assert_repairs_hold(problem, d, fixed)


def test_workload_demand_is_served_in_proportion() -> None:
    problem = procure.Problem.from_dict(
        {
            "periods": [2026, 2027],
            "workloads": {"training": {"2026": 100, "2027": 200}, "inference": {"2026": 50, "2027": 80}},
            "offers": [
                {"name": "a", "vendor": "va", "unit_cost": 10, "compute": 1, "power_kw": 1,
                 "efficiency": {"training": 1.0, "inference": 0.5}},
                {"name": "b", "vendor": "vb", "unit_cost": 14, "compute": 1, "power_kw": 1,
                 "efficiency": {"training": 0.0, "inference": 1.0}},
            ],
            "power_cap_gw": {"2026": 120e-6, "2027": 1},
        }
    )  # fmt: skip
    d = procure.explain(problem)
    table = d.repairs
    served = table[table.requirement.str.startswith("workloads")]
    assert set(served.requirement) == {"workloads[training][2026]", "workloads[inference][2026]"}
    assert (served.new / served.old).to_numpy() == pytest.approx([0.8, 0.8], rel=3e-3)  # 120 kW of 150
    power = table[table.requirement == "power_cap_gw[2026]"]
    assert power.new.iloc[0] == pytest.approx(150e-6, rel=1e-5)
    assert_repairs_hold(problem, d)


def test_an_hhi_cap_is_repaired_against_the_exact_hhi(small: dict[str, Any]) -> None:
    small["risk"] = {"max_hhi": 0.3}
    problem = procure.Problem.from_dict(small)
    d = procure.explain(problem)
    table = d.repairs
    assert not any(table.requirement.str.startswith("demand"))  # less demand can raise HHI
    hhi = table[table.requirement == "risk.max_hhi"]
    assert len(hhi) == 1
    assert procure.solve(d.apply(int(hhi.repair.iloc[0]))).hhi.max() <= hhi.new.iloc[0] + 1e-6
    assert_repairs_hold(problem, d)


def test_an_hhi_cap_is_repaired_by_one_least_hhi_solve(small: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The least cap is found by minimizing the largest period HHI, not by bisecting the cap: a
    cap 0.1% of the change tighter than the repair has no plan, the repair has one."""
    module = importlib.import_module("procure.analysis.explain")  # `procure.explain` is the function

    solved: list[Any] = []
    real = module.least_max_hhi
    monkeypatch.setattr(module, "least_max_hhi", lambda *a: solved.append(real(*a)) or solved[-1])
    small["risk"] = {"max_hhi": 0.3}
    problem = procure.Problem.from_dict(small)
    d = procure.explain(problem)
    hhi = d.repairs[d.repairs.requirement == "risk.max_hhi"]
    assert len(hhi) == 1 and bool(hhi.minimal.iloc[0])
    assert len(solved) == 1 and solved[0].proved
    assert hhi.new.iloc[0] == pytest.approx(solved[0].value, rel=1e-4)
    # its plan (the repair's warm start) has that largest HHI and keeps every other requirement
    placed = solved[0].lots * model_data(problem).lot_p[:, None]
    assert np.nanmax(evaluate(problem, placed).hhi) == pytest.approx(solved[0].value, rel=1e-9)
    k = int(hhi.repair.iloc[0])
    assert violations(d.apply(k), evaluate(d.apply(k), placed)) == []
    result = procure.solve(d.apply(k))
    assert result.has_plan and float(result.hhi.max()) <= hhi.new.iloc[0] + 1e-6
    assert procure.solve(shrunk(problem, d, k, by=1e-3)).status == "infeasible"


def _shortened(by: float, calls: list[int]) -> Any:
    """`_rhs_changes` whose first candidate is ``by`` (relative) short of what the elastic model
    found, as a solver's feasibility tolerance can leave it: that candidate has no plan."""
    module = importlib.import_module("procure.analysis.explain")  # `procure.explain` is the function

    real = module._rhs_changes

    def short(ctx: Any, rows: Any, slack: Any) -> Any:
        changes = real(ctx, rows, slack)
        calls.append(len(changes))
        if len(calls) > 1:
            return changes
        return [dataclasses.replace(c, new=c.old + (c.new - c.old) * (1 - by)) for c in changes]

    return short


def test_a_first_candidate_without_a_plan_is_widened_until_it_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Power for 100 chips of 1 kW under a 50 kW cap: the need is 100 kW exactly.  A first
    candidate 1e-4 short (of the 50 kW change) has no plan; widening makes it one that does."""
    module = importlib.import_module("procure.analysis.explain")  # `procure.explain` is the function

    calls: list[int] = []
    widened: list[Any] = []
    real_widen = module._widen
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6))
    short = apply_changes(problem, {"power_cap_gw": 50e-6 + 50e-6 * (1 - 1e-4)})
    assert procure.solve(short).status == "infeasible"  # the candidate really has no plan
    monkeypatch.setattr(module, "_rhs_changes", _shortened(1e-4, calls))
    monkeypatch.setattr(module, "_widen", lambda c: widened.append(c) or real_widen(c))
    diagnosis = procure.explain(problem)
    assert widened, "the first candidate was never widened"
    power = diagnosis.repairs[diagnosis.repairs.requirement == "power_cap_gw[2026]"]
    assert len(power) == 1
    assert 100e-6 <= power.new.iloc[0] <= 100e-6 * (1 + 1e-3)
    assert_repairs_hold(problem, diagnosis)


def test_a_candidate_that_widening_cannot_save_is_not_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first candidate half the need: three widenings leave it without a plan, so it is
    dropped; whatever the diagnosis lists still has a plan."""
    module = importlib.import_module("procure.analysis.explain")  # `procure.explain` is the function

    calls: list[int] = []
    monkeypatch.setattr(module, "_rhs_changes", _shortened(0.5, calls))
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6))
    diagnosis = procure.explain(problem)
    assert calls
    short = diagnosis.repairs[
        (diagnosis.repairs.requirement == "power_cap_gw[2026]") & (diagnosis.repairs.new < 100e-6 * (1 - 1e-6))
    ]
    assert short.empty, short
    assert_repairs_hold(problem, diagnosis)


def test_a_least_violation_the_solver_did_not_prove_is_no_minimal_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    """The elastic solve may stop at its share of the time with the best violation so far: the
    repair it gives still holds, but is not promised least."""
    from procure.solvers.highs import HighsSession

    real = HighsSession.solve

    def unproved(self: Any, options: Any) -> Any:
        raw = real(self, options)
        if any(b.name.startswith("relax[") for b in self.model.columns) and raw.has_plan:
            return dataclasses.replace(raw, status="feasible", bound=math.nan)
        return raw

    monkeypatch.setattr(HighsSession, "solve", unproved)
    problem = procure.Problem.from_dict(one_period(power_cap_gw=50e-6))
    d = procure.explain(problem, solver="highs")
    power = d.repairs[d.repairs.requirement == "power_cap_gw[2026]"]
    assert len(power) == 1 and not bool(power.minimal.iloc[0])
    assert_repairs_hold(problem, d)
