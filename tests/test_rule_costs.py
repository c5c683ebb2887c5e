"""What each business rule costs (`Result.rule_costs`).

- the rules listed are those the problem states, found here from the problem format alone;
- removing a rule never raises the optimum, and each rule's cost is the optimum with it minus
  the optimum of the problem without it built and solved independently here (and, for linear
  problems, by the reference PuLP/CBC model of the spec);
- with a gap, the interval reported holds the exact cost; an infeasible problem's culprit
  costs ``inf``; the re-solves keep the solver's model where only numbers change.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference.pulp_model import solve_reference
from reference.strategies import problems

import procure
from procure.analysis.rule_costs import COLUMNS, rules_of
from procure.core.re_solve import pipeline_for, resolve, start_lots
from procure.model.risk import HHI_TOL

Remove = Callable[[dict[str, Any]], None]


def _named(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in entries if e["name"] == name)


def stated_rules(problem: dict[str, Any]) -> dict[str, Remove]:
    """The business rules a problem mapping states, each with how to take it out (written from
    docs/problem-format.md: the loosest value of each field)."""
    out: dict[str, Remove] = {}
    risk = problem.get("risk") or {}

    def setter(*keys: str, value: Any = None, drop: bool = False) -> Remove:
        def remove(p: dict[str, Any]) -> None:
            node: Any = p
            for k in keys[:-1]:
                node = _named(node, k[1:]) if k.startswith("@") else node[k]
            if drop:
                del node[keys[-1]]
            else:
                node[keys[-1]] = value

        return remove

    for v in problem.get("vendors", []):
        if v.get("max_share") is not None and v["max_share"] < 1:
            out[f"vendors[{v['name']}].max_share"] = setter("vendors", "@" + v["name"], "max_share", value=1.0)
    if risk.get("max_share", 1.0) < 1:
        out["risk.max_share"] = setter("risk", "max_share", value=1.0)
    if risk.get("min_vendors", 0) > 0:
        out["risk.min_vendors"] = setter("risk", "min_vendors", value=0)
        if risk.get("min_vendor_share", 0.1) > 1e-3:  # out: a token presence, 0.1% of demand
            out["risk.min_vendor_share"] = setter("risk", "min_vendor_share", value=1e-3)
    if risk.get("survive_vendor_loss", 0) > 0:
        out["risk.survive_vendor_loss"] = setter("risk", "survive_vendor_loss", value=0)
    if risk.get("hhi_weight", 0) > 0:
        out["risk.hhi_weight"] = setter("risk", "hhi_weight", value=0)
    if risk.get("max_hhi") is not None:
        out["risk.max_hhi"] = setter("risk", "max_hhi", drop=True)
    if risk.get("risk_weight", 0) > 0:
        out["risk.risk_weight"] = setter("risk", "risk_weight", value=0)
    if risk.get("max_cvar") is not None:
        out["risk.max_cvar"] = setter("risk", "max_cvar", drop=True)
    for site in problem.get("sites", []):
        if site.get("vendors") is not None:
            out[f"sites[{site['name']}].vendors"] = setter("sites", "@" + site["name"], "vendors", drop=True)
    for v in problem.get("vendors", []):
        if v.get("min_spend", 0) > 0:
            out[f"vendors[{v['name']}].min_spend"] = setter("vendors", "@" + v["name"], "min_spend", value=0)
        if v.get("max_spend") is not None:
            out[f"vendors[{v['name']}].max_spend"] = setter("vendors", "@" + v["name"], "max_spend", drop=True)
    if problem.get("budget") is not None:
        out["budget"] = setter("budget", drop=True)
    if problem.get("total_budget") is not None:
        out["total_budget"] = setter("total_budget", drop=True)
    return out


def _slack(problem: dict[str, Any]) -> float:
    """How far two HHI plans' objectives may differ (each is within HHI_TOL per period of its model)."""
    weight = (problem.get("risk") or {}).get("hhi_weight", 0)
    return 2 * weight * len(problem["periods"]) * HHI_TOL


def assert_rule_costs_are_independent_resolves(
    problem: dict[str, Any], table: pd.DataFrame, base: procure.Result
) -> None:
    rules = stated_rules(problem)
    assert set(table["rule"]) == set(rules)
    slack = _slack(problem)
    for row in table.itertuples():
        without = copy.deepcopy(problem)
        rules[row.rule](without)
        independent = procure.solve(without, mip_gap=0)
        assert independent.status == "optimal", (row.rule, independent.status)
        tol = 1e-6 * max(1.0, abs(base.objective)) + slack
        # removing a rule never raises the optimum
        assert independent.objective <= base.objective + tol, (row.rule, independent.objective, base.objective)
        assert row.objective_without == pytest.approx(independent.objective, rel=1e-6, abs=1e-6 + slack), row.rule
        # both optima are known to HiGHS's tolerances (about 1e-7 of the objective), so is their difference
        assert row.cost == pytest.approx(base.objective - independent.objective, rel=1e-6, abs=tol)
        assert row.cost >= 0
        assert row.low <= row.cost + tol and row.cost <= row.high + tol
        assert row.objective_with == base.objective


@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        problems(),
        problems(commercial=True),
        problems(sites=True, scenarios=True),
        problems(commercial=True, sites=True, scenarios=True, hhi=True),
    )
)
def test_rule_costs_are_independent_resolves(problem: dict[str, Any]) -> None:
    base = procure.solve(problem, mip_gap=0)
    assume(base.status == "optimal")
    table = base.rule_costs(mip_gap=0)
    assert list(table.columns) == COLUMNS
    costs = table["cost"].to_numpy()
    assert (np.diff(costs) <= 1e-9 * max(1.0, abs(base.objective))).all()  # dearest first
    assert_rule_costs_are_independent_resolves(problem, table, base)


@settings(max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(problems(commercial=True), problems(sites=True, scenarios=True)))
def test_rule_costs_match_the_reference_model(problem: dict[str, Any]) -> None:
    base = procure.solve(problem, mip_gap=0)
    assume(base.status == "optimal" and stated_rules(problem))
    table = base.rule_costs(mip_gap=0)
    rules = stated_rules(problem)
    for row in table.itertuples():
        without = copy.deepcopy(problem)
        rules[row.rule](without)
        status, objective, _ = solve_reference(without, time_limit=10)
        if status != "optimal":  # the reference ran out of time: nothing to compare
            continue
        assert objective is not None
        assert row.objective_without == pytest.approx(objective, rel=1e-6, abs=1e-6), row.rule


def test_rule_costs_of_the_small_problem(small: dict[str, Any]) -> None:
    small["budget"] = 3e8
    small["vendors"].append({"name": "google", "max_share": 0.5, "min_spend": 1e8})
    base = procure.solve(small, mip_gap=0)
    table = base.rule_costs(mip_gap=0)
    assert list(table["rule"])[:1] == [table.loc[table["cost"].idxmax(), "rule"]]
    assert set(table["rule"]) == {
        "vendors[google].max_share",
        "risk.max_share",
        "risk.min_vendors",
        "risk.min_vendor_share",
        "risk.survive_vendor_loss",
        "vendors[google].min_spend",
        "budget",
    }
    described = dict(zip(table["rule"], table["description"]))
    assert described["vendors[google].max_share"] == "google share of compute ≤ 50%"
    assert described["risk.max_share"] == "every other vendor's share of compute ≤ 60%"
    assert described["vendors[google].min_spend"] == "take-or-pay: $100M with google"
    assert "sorted" in table.attrs["note"]
    assert (table["status"] == "optimal").all()
    assert_rule_costs_are_independent_resolves(small, table, base)
    assert [r.path for r in rules_of(base.problem)] == [  # the order of the rules' records
        "risk.min_vendors",
        "risk.min_vendor_share",
        "risk.survive_vendor_loss",
        "vendors[google].max_share",
        "risk.max_share",
        "vendors[google].min_spend",
        "budget",
    ]


def test_priced_terms_report_objective_and_cost_apart(small: dict[str, Any]) -> None:
    small["risk"].update(
        scenarios=[{"name": "tpu-cut", "probability": 0.1, "availability": {"google": 0.5}}],
        shortfall_penalty=1e4,
        risk_weight=2.0,
        hhi_weight=1e6,
    )
    base = procure.solve(small, mip_gap=0)
    table = base.rule_costs(mip_gap=0).set_index("rule")
    for rule in ("risk.risk_weight", "risk.hhi_weight"):
        row = table.loc[rule]
        # without the term the objective loses it: the rule costs at least the term itself less
        # what the plan saved by it, and the plan's cost change is only the dollars spent on it
        assert row["cost"] >= row["plan_cost_change"] - 1e-6 * base.objective
        assert row["plan_cost_with"] == pytest.approx(base.cost)
    without = copy.deepcopy(small)
    without["risk"]["risk_weight"] = 0
    plain = procure.solve(without, mip_gap=0)
    assert table.loc["risk.risk_weight", "plan_cost_without"] == pytest.approx(plain.cost, rel=1e-6)


def test_interval_holds_the_exact_cost(small: dict[str, Any]) -> None:
    loose = procure.solve(small, mip_gap=0.05)
    table = loose.rule_costs(mip_gap=0.05).set_index("rule")
    exact = procure.solve(small, mip_gap=0).rule_costs(mip_gap=0).set_index("rule")
    slack = 1e-6 * abs(loose.objective)
    for rule, row in table.iterrows():
        truth = exact.loc[rule, "cost"]
        assert row["low"] - slack <= truth <= row["high"] + slack, (rule, row["low"], truth, row["high"])
        assert row["low"] >= 0


def test_the_rule_that_makes_a_problem_infeasible_costs_inf(small: dict[str, Any]) -> None:
    small["total_budget"] = 1e6  # far too little for the demand
    base = procure.solve(small, mip_gap=0)
    assert base.status == "infeasible"
    table = base.rule_costs(mip_gap=0).set_index("rule")
    assert table.loc["total_budget", "cost"] == math.inf
    assert table.loc["total_budget", "status"] == "optimal"
    others = table.drop(index="total_budget")
    assert others["cost"].isna().all() and (others["status"] == "infeasible").all()
    assert base.rule_costs(mip_gap=0)["rule"].iloc[0] == "total_budget"  # inf first, NaN last


def test_site_vendor_lists_are_rules_and_the_plan_starts_their_resolve() -> None:
    problem: dict[str, Any] = {
        "periods": [2026, 2027],
        "demand": {"2026": 100, "2027": 200},
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 10, "compute": 1, "power_kw": 1},
            {"name": "b", "vendor": "y", "unit_cost": 12, "compute": 1, "power_kw": 1},
        ],
        "sites": [
            {"name": "east", "vendors": ["y"], "power_cap_gw": 0.001, "electricity_price": 0},
            {"name": "west", "power_cap_gw": 0.00008, "electricity_price": 100},
        ],
    }
    base = procure.solve(problem, mip_gap=0)
    without = procure.Problem.from_dict(
        {**problem, "sites": [{k: v for k, v in problem["sites"][0].items() if k != "vendors"}, problem["sites"][1]]}
    )
    start = start_lots(base, without)
    assert start is not None and start.shape == (4, 2)  # a and b at both sites now
    table = base.rule_costs(mip_gap=0)
    assert list(table["rule"]) == ["sites[east].vendors"]
    assert table.loc[0, "cost"] > 0  # x may now use east's free power
    assert_rule_costs_are_independent_resolves(problem, table, base)


def test_resolves_keep_the_model_when_only_numbers_change(small: dict[str, Any]) -> None:
    small["risk"].update(
        scenarios=[{"name": "tpu-cut", "probability": 0.1, "availability": {"google": 0.5}}],
        shortfall_penalty=1e4,
        risk_weight=1.0,
        max_cvar=1e9,
    )
    base = procure.solve(small, mip_gap=0)
    pipeline = pipeline_for(base, {"mip_gap": 0}, "test")
    one = copy.deepcopy(small)
    one["risk"]["risk_weight"] = 0.5
    first, state = resolve(pipeline, procure.Problem.from_dict(one), start_lots(base, base.problem))
    two = copy.deepcopy(small)
    del two["risk"]["max_cvar"]
    second, kept = resolve(pipeline, procure.Problem.from_dict(two), start_lots(base, base.problem), state)
    assert kept.session is state.session  # numbers changed in place
    assert second.objective == pytest.approx(procure.solve(two, mip_gap=0).objective, rel=1e-9)
    three = copy.deepcopy(small)
    del three["risk"]["survive_vendor_loss"]
    third, fresh = resolve(pipeline, procure.Problem.from_dict(three), start_lots(base, base.problem), kept)
    assert fresh.session is not kept.session  # other rows: a new model
    assert third.objective == pytest.approx(procure.solve(three, mip_gap=0).objective, rel=1e-9)
    assert first.status == second.status == third.status == "optimal"


def test_progress_and_options(small: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    base = procure.solve(small, mip_gap=0)
    base.rule_costs(mip_gap=0, progress=True)
    assert "rule costs" in capsys.readouterr().err
    base.rule_costs(mip_gap=0, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(procure.ProblemError, match="unknown option"):
        base.rule_costs(gap=0)
    with pytest.raises(procure.ProblemError, match="mip_gap"):
        base.rule_costs(mip_gap=2)
    assert (
        procure.solve(
            {"periods": [1], "demand": 1, "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1}]}
        )
        .rule_costs()
        .empty
    )


def test_rule_costs_keep_the_base_model_for_rules_that_change_numbers(
    small: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    small["risk"].update(
        scenarios=[{"name": "tpu-cut", "probability": 0.1, "availability": {"google": 0.5}}],
        shortfall_penalty=1e4,
        risk_weight=1.0,
        max_cvar=1e9,
    )
    base = procure.solve(small, mip_gap=0)
    kept: list[str] = []
    original = procure.core.pipeline.Pipeline.kept

    def spy(self: Any, state: Any, problem: procure.Problem) -> Any:
        out = original(self, state, problem)
        if out is not None and problem is not state.problem:
            kept.append(problem.to_json())
        return out

    monkeypatch.setattr(procure.core.pipeline.Pipeline, "kept", spy)
    table = base.rule_costs(mip_gap=0).set_index("rule")
    # a cost, a bound and a coefficient: solved in the base model, changed in place
    changed_numbers = {"risk.risk_weight", "risk.max_cvar", "risk.min_vendor_share"}
    assert len(kept) == len(changed_numbers)
    assert set(table.index) >= changed_numbers
    monkeypatch.undo()
    assert_rule_costs_are_independent_resolves(small, table.reset_index(), base)
