"""Every rule has a plan that breaks it, and only it: `Result.check` names that rule, and a
solve whose adapter returns that plan is never ``optimal``.

A checker that is only ever tested on valid plans can silently stop checking.  For each rule
(each constraint family `procure.evaluate` checks) this file

1. solves a small problem that has the rule at a loose value (a valid plan);
2. breaks that rule alone, by an amount hypothesis draws: either the rule's limit is
   tightened just past what the plan uses (caps, floors, counts), or the plan itself is
   changed where the rule is about the plan's shape (whole lots, power blocks, the split
   across workloads);
3. asserts `check()` reports the rule, and nothing else;
4. for the tightened limits, registers an adapter that answers every solve of the tightened
   problem with the old plan and claims a proof: procure must not report it ``optimal``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procure
from procure.model.linear import LinearModel
from procure.problem.evaluate import evaluate, objective_of
from procure.solvers.base import Adapter, Capabilities, RawSolution, SolveOptions, register

PERIODS = [2026, 2027, 2028]

#: Three vendors, prices that make the cheapest one win everything when nothing stops it.
BASE: dict[str, Any] = {
    "name": "one-rule",
    "periods": PERIODS,
    "demand": {"2026": 1000, "2027": 2500, "2028": 6000},
    "offers": [
        {"name": "tpu", "vendor": "google", "unit_cost": 30000, "compute": 2.3, "power_kw": 1.1, "lot_size": 8},
        {"name": "trn", "vendor": "amazon", "unit_cost": 21000, "compute": 1.2, "power_kw": 0.9, "lot_size": 4},
        {"name": "gpu", "vendor": "nvidia", "unit_cost": 42000, "compute": 2.5, "power_kw": 1.7, "lot_size": 6},
    ],
    "pue": 1.2,
    "electricity_price": 60,
    "discount_rate": 0.05,
}

#: A solved loose problem: its plan is valid.
Plan = procure.Result


def _period(t: int) -> str:
    return str(PERIODS[t])


def _per_period(values: np.ndarray | list[float]) -> dict[str, float]:
    return {_period(t): float(v) for t, v in enumerate(values)}


def _positive(values: np.ndarray, pick: int) -> tuple[int, ...]:
    """The ``pick``-th (cyclically) index where ``values > 0``."""
    where = list(zip(*np.nonzero(values > 1e-9)))
    assert where, "the loose plan uses nothing this rule could limit"
    return tuple(int(k) for k in where[pick % len(where)])


@dataclass(frozen=True)
class Rule:
    """A rule, a loose problem that has it, and how to break it by ``amount`` ∈ (0, 1)."""

    name: str
    prefix: str  # how `check()` names it
    loose: Callable[[], dict[str, Any]]
    tighten: Callable[[dict[str, Any], Plan, float, int], dict[str, Any]] | None = None
    # changes the plan: (problem, result, amount, pick) → (placed, split, built)
    reshape: Callable[[dict[str, Any], Plan, float, int], tuple[np.ndarray, Any, Any]] | None = None


def _with(**fields: Any) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        p = copy.deepcopy(BASE)
        for key, value in fields.items():
            if key == "risk":
                p.setdefault("risk", {}).update(copy.deepcopy(value))
            else:
                p[key] = copy.deepcopy(value)
        return p

    return make


def _offer_field(name: str, value: Any) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        p = copy.deepcopy(BASE)
        for offer in p["offers"]:
            offer[name] = value
        return p

    return make


# ----------------------------------------------------------------------------- tightened limits


def _demand(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    (t,) = _positive(r.evaluation.compute, pick)
    p["demand"][_period(t)] = float(r.evaluation.compute[t]) * (1 + a)
    return p


def _cap_below(used: np.ndarray, loose: float, a: float, pick: int) -> dict[str, float]:
    """A per-period cap ``loose`` everywhere but in one period the plan uses, where it is ``a`` below use."""
    (t,) = _positive(used, pick)
    caps = np.full(len(PERIODS), loose)
    caps[t] = used[t] * (1 - a)
    return _per_period(caps)


def _power(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    p["power_cap_gw"] = _cap_below(r.evaluation.power_gw, 100.0, a, pick)
    return p


def _budget(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    p["budget"] = _cap_below(r.evaluation.paid, 1e13, a, pick)
    return p


def _total_budget(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    p["total_budget"] = float(r.evaluation.paid.sum()) * (1 - a)
    return p


def _max_spend(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    (v,) = _positive(r.evaluation.spend_by_vendor.sum(axis=1), pick)
    vendor = r.problem.vendor_names[v]
    for entry in p["vendors"]:
        if entry["name"] == vendor:
            entry["max_spend"] = float(r.evaluation.spend_by_vendor[v].sum()) * (1 - a)
    return p


def _supply(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    (i, _) = _positive(r.evaluation.purchases, pick)
    p["offers"][i]["max_units"] = _cap_below(r.evaluation.purchases[i], 1e7, a, pick)
    return p


def _min_order(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    i, t = _positive(r.evaluation.purchases, pick)
    p["offers"][i]["min_order"] = int(r.evaluation.purchases[i, t] * (1 + a)) + 1
    return p


def _max_share(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    (v,) = _positive(r.evaluation.shares.max(axis=1), pick)
    p["vendors"] = [{"name": r.problem.vendor_names[v], "max_share": float(r.evaluation.shares[v].max()) * (1 - a)}]
    return p


def _min_share(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    ev = r.evaluation
    lowest = ev.shares[:, ev.demand > 0].min(axis=1)  # (V,) each vendor's smallest share
    (v,) = _positive((lowest < 0.5).astype(float), pick)
    room = 1.0 - 0.01 * (len(lowest) - 1) - lowest[v]  # the other vendors keep their 1% floors
    p["vendors"][v]["min_share"] = float(lowest[v] + a * room)
    return p


def _max_new_compute(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    ev, inputs = r.evaluation, r.problem.inputs
    bought = np.zeros((len(r.problem.vendor_names), len(PERIODS)))
    np.add.at(bought, inputs.vendor_of, inputs.compute[:, None] * ev.purchases)
    (v, _) = _positive(bought, pick)
    p["vendors"][v]["max_new_compute"] = _cap_below(bought[v], 1e9, a, pick)
    return p


def _vendor_loss(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    ev = r.evaluation
    kept = ((ev.compute[None, :] - ev.compute_by_vendor) / ev.demand[None, :]).min()
    assert kept < 1
    p["risk"]["survive_vendor_loss"] = float(kept + a * (1 - kept))
    return p


def _min_vendors(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    ev = r.evaluation
    share = 0.01 + 0.5 * a
    count = (ev.compute_by_vendor >= share * ev.demand[None, :] * (1 + 1e-6)).sum(axis=0)
    need = int(count.min()) + 1
    assert need <= len(r.problem.vendor_names)
    p["risk"].update({"min_vendors": need, "min_vendor_share": share})
    return p


def _max_hhi(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    most = float(np.nanmax(r.evaluation.hhi))
    p["risk"]["max_hhi"] = min(1.0, most * (1 - 0.02 - 0.9 * a))  # well past the tangent-cut tolerance
    assert p["risk"]["max_hhi"] < most - 1e-4
    return p


def _max_cvar(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    cvar = r.evaluation.cvar
    assert cvar > 0
    p["risk"]["max_cvar"] = cvar * (1 - a)
    return p


def _site_power(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    (s, _) = _positive(r.evaluation.site_power_gw, pick)
    p["sites"][s]["power_cap_gw"] = _cap_below(r.evaluation.site_power_gw[s], 100.0, a, pick)
    return p


def _workload_demand(p: dict[str, Any], r: Plan, a: float, pick: int) -> dict[str, Any]:
    served = r.split.groupby(["workload", "period"])["compute"].sum()
    (w, period), value = list(served[served > 0].items())[pick % int((served > 0).sum())]
    p["workloads"][w][str(period)] = float(value) * (1 + a)
    return p


# ----------------------------------------------------------------------------- broken plans


def _lots(p: dict[str, Any], r: Plan, a: float, pick: int) -> tuple[np.ndarray, Any, Any]:
    placed = np.array(r.evaluation.placed)
    k, t = _positive(placed, pick)
    lot = r.problem.offers[k].lot_size
    placed[k, t] += a if a < 0.5 else max(1.0, round(a * (lot - 1)))  # a fraction, or part of a lot
    return placed, None, None


def _builds(p: dict[str, Any], r: Plan, a: float, pick: int) -> tuple[np.ndarray, Any, Any]:
    built = np.array(r.evaluation.built)
    t = pick % built.shape[1]
    block = p["power_build"]["block_gw"]
    kind = pick % 3
    if kind == 0:
        built[0, t] = -block * (1 + a)  # negative
    elif kind == 1:
        built[0, t] += block * (0.05 + 0.9 * a)  # not whole blocks
    else:
        built[0, t] = p["power_build"]["max_gw"] + block * math.ceil(1 + 5 * a)  # above max_gw
    return np.array(r.evaluation.placed), None, built


def _split(p: dict[str, Any], r: Plan, a: float, pick: int) -> tuple[np.ndarray, Any, Any]:
    split = np.array(r.evaluation.split)
    fleet = r.evaluation.fleet
    i, t = _positive(fleet, pick)
    w = int(np.flatnonzero(r.problem.inputs.efficiency[i] > 0)[0])
    split[i, w, t] += (fleet[i, t] - split[i, :, t].sum()) + 1 + a * fleet[i, t]  # more than the fleet
    return np.array(r.evaluation.placed), split, None


SITES = [
    {"name": "east", "power_cap_gw": 100.0, "vendors": ["google", "nvidia"]},
    {"name": "west", "power_cap_gw": 100.0, "pue": 1.4},
]
WORKLOADS = {
    "training": {"2026": 600, "2027": 1500, "2028": 4000},
    "inference": {"2026": 400, "2027": 1000, "2028": 2000},
}
EFFICIENCY = {"tpu": {"training": 1.0, "inference": 0.8}, "trn": {"training": 0.5}, "gpu": {}}


def _workloads() -> dict[str, Any]:
    p = _with(workloads=WORKLOADS)()
    del p["demand"]
    for offer in p["offers"]:
        offer["efficiency"] = EFFICIENCY[offer["name"]]
    return p


RULES = (
    Rule("demand", "demand[", _with(), _demand),
    Rule("power", "power_cap[", _with(power_cap_gw=100.0), _power),
    Rule("budget", "budget[", _with(budget=1e13), _budget),
    Rule("total_budget", "total_budget:", _with(total_budget=1e14), _total_budget),
    Rule(
        "max_spend",
        "max_spend[",
        _with(vendors=[{"name": v, "max_spend": 1e13} for v in ("google", "amazon", "nvidia")]),
        _max_spend,
    ),
    Rule("supply", "max_units[", _offer_field("max_units", 1e7), _supply),
    Rule("min_order", "min_order[", _offer_field("min_order", 1), _min_order),
    Rule("max_share", "max_share[", _with(risk={"max_share": 0.7}), _max_share),
    Rule(
        "min_share",
        "min_share[",
        _with(vendors=[{"name": v, "min_share": 0.01} for v in ("google", "amazon", "nvidia")]),
        _min_share,
    ),
    Rule(
        "max_new_compute",
        "max_new_compute[",
        _with(vendors=[{"name": v, "max_new_compute": 1e9} for v in ("google", "amazon", "nvidia")]),
        _max_new_compute,
    ),
    Rule("vendor_loss", "vendor_loss[", _with(risk={"survive_vendor_loss": 0.1}), _vendor_loss),
    Rule("min_vendors", "min_vendors[", _with(risk={"min_vendors": 1}), _min_vendors),
    Rule("max_hhi", "max_hhi[", _with(risk={"max_hhi": 1.0}), _max_hhi),
    Rule(
        "max_cvar",
        "max_cvar:",
        _with(
            risk={
                "scenarios": [{"name": "cut", "probability": 0.1, "availability": {"amazon": 0.2, "google": 0.5}}],
                "shortfall_penalty": 5000,
                "cvar_alpha": 0.5,
                "max_cvar": 1e15,
            }
        ),
        _max_cvar,
    ),
    Rule("site_power", "site_power[", _with(sites=SITES), _site_power),
    Rule("workload_demand", "workload_demand[", _workloads, _workload_demand),
    Rule("lots", "lots[", _with(), reshape=_lots),
    Rule(
        "power_build",
        "power_build[",
        _with(power_cap_gw=0.5, power_build={"cost_per_gw": 1e9, "block_gw": 0.25, "max_gw": 2.0}),
        reshape=_builds,
    ),
    Rule("workload_capacity", "workload_capacity[", _workloads, reshape=_split),
)
TIGHTENED = [r for r in RULES if r.tighten is not None]
BY_NAME = {r.name: r for r in RULES}

_LOOSE: dict[str, Plan] = {}


def loose_plan(rule: Rule) -> Plan:
    """The loose problem's optimal plan (solved once per rule): valid, so check() is silent."""
    if rule.name not in _LOOSE:
        result = procure.solve(rule.loose(), mip_gap=1e-6, threads=1)
        assert result.status == "optimal", (rule.name, result.message)
        assert result.check() == [], (rule.name, result.check())
        _LOOSE[rule.name] = result
    return _LOOSE[rule.name]


def broken(rule: Rule, amount: float, pick: int) -> tuple[dict[str, Any], Plan]:
    """The problem and a result whose plan breaks ``rule`` alone."""
    result = loose_plan(rule)
    problem = rule.loose()
    if rule.tighten is not None:
        tight = rule.tighten(problem, result, amount, pick)
        return tight, replace(result, problem=procure.Problem.from_dict(tight))
    assert rule.reshape is not None
    placed, split, built = rule.reshape(problem, result, amount, pick)
    p = result.problem
    ev = evaluate(
        p,
        placed,
        split if split is not None else result.evaluation.split,
        built if built is not None else result.evaluation.built,
    )
    return problem, replace(result, evaluation=ev, cost=ev.cost, objective=objective_of(p, ev))


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_loose_problem_has_a_valid_plan(rule: Rule) -> None:
    assert loose_plan(rule).check() == []


@settings(max_examples=60)
@given(rule=st.sampled_from(RULES), amount=st.floats(0.001, 0.9), pick=st.integers(0, 50))
def test_check_names_the_one_rule_a_plan_breaks(rule: Rule, amount: float, pick: int) -> None:
    _, result = broken(rule, amount, pick)
    found = result.check()
    assert found, f"{rule.name}: check() found nothing"
    assert all(line.startswith(rule.prefix) for line in found), (rule.name, found)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@pytest.mark.parametrize("pick", [0, 1, 2])  # power_build's three ways to break (negative, part block, > max_gw)
def test_every_rule_is_caught_at_its_smallest_break(rule: Rule, pick: int) -> None:
    _, result = broken(rule, 0.001, pick)
    assert any(line.startswith(rule.prefix) for line in result.check()), rule.name


class Replay(Adapter):
    """Answers every model with one plan (lots, split and builds as given) and claims a proof."""

    name = "replay"
    capabilities = Capabilities()
    plan: Plan | None = None

    @classmethod
    def available(cls) -> bool:
        return True

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        assert self.plan is not None and self.plan.evaluation is not None
        ev = self.plan.evaluation
        data = self.plan.problem.inputs
        x = np.zeros(model.num_cols)
        for block in model.columns:
            keys = block.index.keys
            if block.name == "lots":
                x[block.ids] = (ev.placed / data.lot[data.offer_of][:, None]).ravel()
            elif block.name == "split" and ev.split is not None:
                x[block.ids] = ev.split[keys[:, 0], keys[:, 1], keys[:, 2]]
        value = float(model.cost @ x + model.offset)
        return RawSolution("optimal", x, value, value, solver=self.name, termination="optimal")


register("replay", Replay)


@settings(max_examples=25)
@given(rule=st.sampled_from(TIGHTENED), amount=st.floats(0.001, 0.9), pick=st.integers(0, 50))
def test_a_solver_that_returns_a_broken_plan_is_never_optimal(rule: Rule, amount: float, pick: int) -> None:
    tight, _ = broken(rule, amount, pick)
    Replay.plan = loose_plan(rule)
    try:
        answer = procure.solve(tight, solver="replay", mip_gap=0, threads=1)
    finally:
        Replay.plan = None
    assert answer.status != "optimal", (rule.name, answer.message)
    assert not answer.has_plan, (rule.name, answer.status)
    assert rule.prefix in answer.message, (rule.name, answer.message)


def test_the_replay_adapter_is_honest_on_the_plan_it_was_given() -> None:
    """The same adapter on the loose problem itself: the plan is valid, and procure accepts it."""
    rule = BY_NAME["max_share"]
    Replay.plan = loose_plan(rule)
    try:
        answer = procure.solve(rule.loose(), solver="replay", mip_gap=0, threads=1)
    finally:
        Replay.plan = None
    assert answer.has_plan and answer.check() == []
    assert answer.objective == pytest.approx(loose_plan(rule).objective, rel=1e-9)


def test_check_names_a_tree_plan_that_anticipates() -> None:
    """Two paths with the same 2026 demand: a plan that buys differently in 2026 on one of them
    (each path's plan valid on its own) breaks non-anticipativity alone."""
    from procure.stochastic.tree_solve import tree_objective

    p = copy.deepcopy(BASE)
    demand = p.pop("demand")
    p["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "demand": demand},
        {"name": "high", "probability": 0.5, "demand": {**demand, "2028": 9000}},
    ]
    tree = procure.solve(p, mip_gap=1e-6, threads=1)
    assert tree.status == "optimal" and tree.check() == []
    high = tree.scenario_results["high"]
    placed = np.array(high.evaluation.placed)
    placed[0, 0] += high.problem.offers[0].lot_size  # one more lot in 2026, on one path only
    ev = evaluate(high.problem, placed, high.evaluation.split, high.evaluation.built)
    changed = replace(high, evaluation=ev, cost=ev.cost, objective=objective_of(high.problem, ev))
    results = {**tree.scenario_results, "high": changed}
    names = tree.tree.names
    costs = np.array([results[n].cost for n in names])
    objectives = np.array([results[n].objective for n in names])
    anticipating = replace(
        tree,
        scenario_results=results,
        cost=float(tree.tree.probability @ costs),
        objective=tree_objective(tree.problem, tree.tree.probability, objectives, costs),
    )
    found = anticipating.check()
    assert found and all(line.startswith("non-anticipativity[high,2026]") for line in found), found


def test_every_checker_of_check_has_a_rule_here() -> None:
    """A rule added to `procure.problem.evaluate.CHECKS` without a breaking plan here fails this test."""
    from procure.problem.evaluate import CHECKS

    # workload_demand/_capacity, power_build; options: tests/test_options.py (plans misusing an option)
    covered = set(BY_NAME) | {"workloads", "builds", "options"}
    assert {check.__name__.lstrip("_") for check in CHECKS} <= covered
