"""One orchestration path and what it promises: Planner = solve, results that cannot be
changed from outside, rows of the caller's own, solver options and terminations, and
calls that keep within their time limit, stop on Ctrl-C and never crash."""

from __future__ import annotations

import copy
import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import checker
from reference.strategies import problems

import procure
from procure.model import Handles, LinearModel, ModelData
from procure.solvers.options import available_cores

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- Planner = solve


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        return {k: v * factor for k, v in value.items()}
    return value * factor


@st.composite
def variants(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A problem and a variant with the same structure (other prices, demand, caps)."""
    base = draw(st.one_of(problems(), problems(commercial=True), problems(sites=True), problems(scenarios=True)))
    variant = copy.deepcopy(base)
    factor = st.sampled_from([0.5, 0.8, 1.25, 2.0])
    for offer in variant["offers"]:
        if "unit_cost" in offer and draw(st.booleans()):
            offer["unit_cost"] = _scaled(offer["unit_cost"], draw(factor))
        if "max_units" in offer and draw(st.booleans()):  # a supply cap below the last plan's purchases
            cut = draw(st.sampled_from([0.0, 0.5]))
            units = offer["max_units"]
            if isinstance(units, dict):
                offer["max_units"] = {k: int(v * cut) for k, v in units.items()}
            else:
                offer["max_units"] = int(units * cut)
    if draw(st.booleans()):
        variant["demand"] = _scaled(variant["demand"], draw(factor))
    for key in ("power_cap_gw", "budget", "total_budget"):
        if key in variant and draw(st.booleans()):
            variant[key] = _scaled(variant[key], draw(factor))
    return base, variant


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(variants())
def test_planner_answers_what_solve_answers(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, variant = case
    planner = procure.Planner(base, mip_gap=0)
    first = planner.solve()
    again = planner.solve(variant)
    for problem, got in ((base, first), (variant, again)):
        want = procure.solve(problem, mip_gap=0)
        assert got.status == want.status, (got.message, want.message)
        if want.has_plan:
            assert math.isclose(got.objective, want.objective, rel_tol=1e-6, abs_tol=1e-6)
            assert got.check() == []


def test_planner_keeps_the_model_for_a_change_of_numbers(small: dict[str, Any]) -> None:
    planner = procure.Planner(small, mip_gap=0)
    planner.solve()
    assert planner.last_mode == "built"
    cheaper = copy.deepcopy(small)
    cheaper["offers"][0]["unit_cost"] = 20000
    result = planner.solve(cheaper)
    assert planner.last_mode == "kept"
    assert result.objective == pytest.approx(procure.solve(cheaper, mip_gap=0).objective, rel=1e-9)
    other = copy.deepcopy(small)
    other["offers"].pop()
    other["vendors"] = []
    planner.solve(other)
    assert planner.last_mode == "built"


def test_a_supply_cut_below_the_last_plan_is_solved_in_the_kept_model() -> None:
    """The last plan buys more than the new supply allows: it must not be held as a start."""
    problem = procure.Problem.from_file(ROOT / "examples" / "gigawatt_2026.toml")
    planner = procure.Planner(problem)
    bought = planner.solve().purchases.loc[2026, "gb300-nvl72"]
    assert bought > 0
    cut = procure.problem.fields.apply_changes(problem, {"offers[gb300-nvl72].max_units[2026]": int(bought * 0.85)})
    got = planner.solve(cut)
    assert planner.last_mode == "kept"
    want = procure.solve(cut)
    assert got.status == "optimal", got.message
    assert got.purchases.loc[2026, "gb300-nvl72"] <= int(bought * 0.85)
    assert got.objective == pytest.approx(want.objective, rel=2e-4)
    assert checker.violations(cut.to_dict(), got.purchases) == []


def test_the_kept_model_offers_its_earlier_plans_as_starts(monkeypatch: Any) -> None:
    """Solving A, B, then A again: A's plan is in the pool, nearest A's LP optimum, and within the
    gap of its bound, so the third solve needs no search (and gives A's optimum)."""
    from procure.solvers import highs

    answered: list[bool] = []
    within = highs._start_within_gap

    def recording(*args: Any) -> Any:
        done, start = within(*args)
        answered.append(done is not None)
        return done, start

    monkeypatch.setattr(highs, "_start_within_gap", recording)
    other = procure.Problem.from_file(ROOT / "examples" / "gigawatt_2026.toml")
    problem = procure.problem.fields.apply_changes(other, {"offers[gb300-nvl72].unit_cost": 24_000})  # A: cheap GB300
    planner = procure.Planner(problem, solver="highs")
    first = planner.solve()
    second = planner.solve(other)
    assert not np.array_equal(first.purchases.to_numpy(), second.purchases.to_numpy())
    state = planner._state
    assert state is not None and len(state.pool) == 2
    again = planner.solve(problem)
    assert planner.last_mode == "kept"
    assert again.status == "optimal"
    assert again.objective == pytest.approx(first.objective, rel=1e-4)
    assert answered == [False, False, True], "A's plan, kept in the pool, was not the answer"
    assert planner._state is not None and len(planner._state.pool) == 2
    assert np.array_equal(planner._state.pool[0], planner._state.lots)  # the latest first


def test_changed_coefficients_rescale_the_kept_model(small: dict[str, Any]) -> None:
    """A coefficient changed by a factor of 10⁶ in a kept model: the model is scaled as a fresh one
    would be (so HiGHS's tolerances mean the same), and the answer is the fresh model's."""
    from procure.model.scaling import matrix_form

    planner = procure.Planner(small, mip_gap=0)
    planner.solve()
    changed = copy.deepcopy(small)
    changed["offers"][0]["compute"] = _scaled(small["offers"][0]["compute"], 1e-6)
    got = planner.solve(changed)
    assert planner.last_mode == "kept"
    assert planner._state is not None
    session = planner._state.session
    fresh = matrix_form(session.model)
    drift = np.abs(np.log2(fresh.row_scale / session.form.row_scale))
    assert drift.max() <= 4
    want = procure.solve(changed, mip_gap=0)
    assert got.status == want.status
    if want.has_plan:
        assert got.objective == pytest.approx(want.objective, rel=1e-6)


# --------------------------------------------------------------------------- one source of truth


def test_result_tables_are_copies(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    cost, objective = result.cost, result.objective
    purchases = result.purchases
    purchases.loc[:, :] = 0
    by_site, fleet, breakdown = result.by_site, result.fleet, result.cost_breakdown
    by_site.loc[:, "bought"] = 0
    fleet.iloc[0, 0] = 10**6
    breakdown.loc[:, "total"] = 0.0
    assert result.check() == []
    assert result.cost == cost and result.objective == objective
    assert (result.purchases.to_numpy() > 0).any()
    assert result.cost_breakdown["total"].sum() == pytest.approx(cost)
    assert result.purchases is not result.purchases


def test_the_evaluation_is_read_only(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    assert result.evaluation is not None
    with pytest.raises(ValueError):
        result.evaluation.placed[0, 0] = 0
    with pytest.raises(ValueError):
        result.problem.inputs.demand[0] = 0
    with pytest.raises(AttributeError):
        result.cost = 0.0  # type: ignore[misc]


# --------------------------------------------------------------------------- rows of your own


def at_most_40_percent_per_offer_in_2027(model: LinearModel, handles: Handles, data: ModelData) -> None:
    """The docs' example: no offer is more than 40% of the units bought in 2027."""
    t, T = data.period_index(2027), data.n_periods
    bought = handles.units_bought()[t::T]  # one row per offer: units bought in 2027
    total = np.ones((data.n_offers, 1)) @ bought.sum(axis=0)  # every row: all units bought in 2027
    model.add_matrix_rows("offer_share_2027", handles.grid("offer"), bought - 0.4 * total, upper=0.0)


def _three_offers() -> dict[str, Any]:
    return {
        "periods": [2026, 2027, 2028],
        "demand": {"2026": 100, "2027": 400, "2028": 800},
        "offers": [
            {"name": "cheap", "vendor": "a", "unit_cost": 10, "compute": 1, "lifetime": 1},
            {"name": "mid", "vendor": "b", "unit_cost": 12, "compute": 1, "lifetime": 1},
            {"name": "dear", "vendor": "c", "unit_cost": 15, "compute": 1, "lifetime": 1},
        ],
    }


def test_extra_rows_bind_and_are_checked() -> None:
    problem = _three_offers()
    plain = procure.solve(problem, mip_gap=0)
    capped = procure.solve(problem, mip_gap=0, extra=at_most_40_percent_per_offer_in_2027)
    assert capped.status == "optimal" and capped.check() == []
    bought = capped.purchases.loc[2027]
    assert (bought <= 0.4 * bought.sum() + 1e-9).all()
    assert capped.objective > plain.objective
    # units last one year: 2027's 400 are 160 cheap + 160 mid + 80 dear (the cheapest mix under the cap)
    assert bought.tolist() == [160, 160, 80]
    assert checker.violations(problem, capped.purchases) == []
    assert capped.extra_rows is not None
    # the rows are checked at the plan under check: the uncapped plan breaks them
    tampered = procure.core.result.make_result(
        capped.problem, "optimal", plain.evaluation.placed, extra_rows=capped.extra_rows
    )
    assert any(line.startswith("offer_share_2027[cheap]") for line in tampered.check())


def test_a_redundant_extra_row_changes_nothing(small: dict[str, Any]) -> None:
    def loose(model: LinearModel, handles: Handles, data: ModelData) -> None:
        model.add_matrix_rows("everything", handles.grid("vendor", "period"), handles.vendor_compute(), lower=0.0)

    assert procure.solve(small, mip_gap=0, extra=loose).objective == pytest.approx(
        procure.solve(small, mip_gap=0).objective, rel=1e-9
    )


def test_extra_rows_reach_planner_and_frontier() -> None:
    problem = _three_offers()
    planner = procure.Planner(problem, mip_gap=0, extra=at_most_40_percent_per_offer_in_2027)
    assert planner.solve().purchases.loc[2027].tolist() == [160, 160, 80]
    problem["risk"] = {"hhi_weight": 1.0}
    front = procure.frontier(problem, "max_share", points=3, mip_gap=0, extra=at_most_40_percent_per_offer_in_2027)
    for result in front.results:
        bought = result.purchases.loc[2027]
        assert (bought <= 0.4 * bought.sum() + 1e-9).all()


def test_an_infeasible_extra_row_is_named_in_the_diagnosis() -> None:
    def none_in_2027(model: LinearModel, handles: Handles, data: ModelData) -> None:
        t, T = data.period_index(2027), data.n_periods
        fleet, installed = handles.fleet()
        model.add_matrix_rows("no_fleet_2027", handles.grid("offer"), fleet[t::T], upper=-installed[t::T])

    result = procure.solve(_three_offers(), extra=none_in_2027)
    assert result.status == "infeasible"
    assert "no_fleet_2027" in result.message or "demand[2027]" in result.message


# --------------------------------------------------------------------------- options and statuses


def test_solver_options_reach_highs(small: dict[str, Any]) -> None:
    off = procure.solve(small, mip_gap=0, solver_options={"presolve": "off", "random_seed": 3})
    assert off.status == "optimal"
    assert off.objective == pytest.approx(procure.solve(small, mip_gap=0).objective, rel=1e-9)
    with pytest.raises(procure.ProblemError, match=r"solver_options\.presolv: HiGHS has no option"):
        procure.solve(small, solver_options={"presolv": "off"})
    with pytest.raises(procure.ProblemError, match=r"solver_options\.presolve: HiGHS rejects"):
        procure.solve(small, solver_options={"presolve": "sometimes"})
    with pytest.raises(procure.ProblemError, match=r"use solve\(time_limit=\.\.\.\)"):
        procure.solve(small, solver_options={"time_limit": 3})


@pytest.mark.parametrize(
    "solver, good, bad",
    [
        ("pyomo:cbc", {"cuts": "off"}, {"bogus": 1}),
        ("pyomo:glpk", {"cuts": ""}, {"bogus": 1}),  # glpsol --cuts
        ("pyomo:scip", {"presolving/maxrounds": 2}, {"bogus/x": 1}),
        ("pyomo:highs", {"presolve": "off"}, {"bogus": 1}),
    ],
)
def test_solver_options_reach_pyomo_solvers(
    small: dict[str, Any], solver: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    if solver not in procure.available_solvers():
        pytest.skip(f"{solver} is not installed")
    result = procure.solve(small, solver=solver, mip_gap=0, solver_options=good)
    assert result.status == "optimal", result.message
    with pytest.raises(procure.ProblemError, match="solver_options"):
        procure.solve(small, solver=solver, solver_options=bad)
    if solver == "pyomo:cbc":
        with pytest.raises(procure.ProblemError, match=r"solver_options\.sec"):
            procure.solve(small, solver=solver, solver_options={"sec": 5})


def test_duals_are_asked_only_of_solvers_that_have_them() -> None:
    from procure.solvers import get_adapter
    from procure.solvers.base import SolveOptions

    get_adapter("highs").check_options(SolveOptions(duals=True))
    if "pyomo:glpk" in procure.available_solvers():
        with pytest.raises(procure.ProblemError, match="does not report duals"):
            get_adapter("pyomo:glpk").check_options(SolveOptions(duals=True))


def test_terminations(small: dict[str, Any]) -> None:
    assert procure.solve(small, mip_gap=0).termination == "optimal"
    impossible = copy.deepcopy(small)
    impossible["power_cap_gw"] = 0.001
    result = procure.solve(impossible)
    assert (result.status, result.termination) == ("infeasible", "infeasible")
    loose = procure.solve(small, mip_gap=0.5)
    assert loose.status == "optimal" and loose.termination in ("optimal", "gap_reached")
    assert loose.gap <= 0.5


def test_threads_cannot_exceed_the_machine(small: dict[str, Any]) -> None:
    cores = available_cores()
    with pytest.raises(procure.ProblemError, match=f"more than the {cores} core"):
        procure.solve(small, threads=cores + 1)
    with pytest.raises(procure.ProblemError, match="threads"):
        procure.solve(small, threads=10**9)
    assert procure.solve(small, threads=1).status == "optimal"


def test_write_model_raises_when_it_cannot_write(small: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        procure.write_model(small, tmp_path / "missing" / "plan.mps")
    (tmp_path / "dir.mps").mkdir()
    with pytest.raises(IsADirectoryError):
        procure.write_model(small, tmp_path / "dir.mps")
    written = procure.write_model(small, tmp_path / "plan.lp")
    assert written.stat().st_size > 0


# --------------------------------------------------------------------------- time limits and Ctrl-C


def _long_periods(count: int) -> dict[str, Any]:
    return {
        "periods": list(range(2026, 2026 + count)),
        "demand": 1000,
        "offers": [
            {"name": "tpu", "vendor": "google", "unit_cost": 30000, "compute": 2.3, "power_kw": 1.1, "lot_size": 256},
            {"name": "trn", "vendor": "amazon", "unit_cost": 20000, "compute": 0.667, "lot_size": 64, "min_order": 640},
            {"name": "gpu", "vendor": "nvidia", "unit_cost": 40000, "compute": 2.5, "power_kw": 1.7, "lot_size": 72},
        ],
        "vendors": [{"name": "nvidia", "onboarding_cost": 1e8}],
        "power_cap_gw": 5.0,
        "risk": {"max_share": 0.6, "min_vendors": 2},
    }


def test_time_limit_bounds_the_whole_call() -> None:
    """1,000 periods (2.5M nonzeros; this took over 20 s with a 2 s limit): building, solving and
    answering keep within a few seconds of the limit (HiGHS's presolve of a model this size
    overruns by about a second per million nonzeros; the margin allows for a loaded machine)."""
    started = time.perf_counter()
    result = procure.solve(_long_periods(1000), time_limit=2)
    assert time.perf_counter() - started < 2 + 5
    assert result.status in ("optimal", "feasible", "error")


def test_a_frontier_keeps_to_its_time_limit(tmp_path: Path) -> None:
    """The limit bounds the whole frontier, not each point: the starter's HHI frontier takes
    over ten seconds unlimited (its tight levels are hard MIPs)."""
    from procure.cli import main

    assert main(["init", str(tmp_path / "s")]) == 0
    problem = procure.Problem.from_file(tmp_path / "s" / "problem.toml")
    started = time.perf_counter()
    front = procure.frontier(problem, measure="hhi", points=5, time_limit=1.5)
    assert time.perf_counter() - started < 1.5 + 2.0
    assert len(front.table) == 5
    assert all(r.has_plan and r.check() == [] for r in front.results)


def test_diagnosis_shares_the_time_limit() -> None:
    problem = _long_periods(200)
    problem["power_cap_gw"] = 0.0001  # infeasible in every period
    started = time.perf_counter()
    result = procure.solve(problem, time_limit=1)
    assert time.perf_counter() - started < 1 + 2.0
    assert result.status == "infeasible"
    assert result.message.startswith("no plan satisfies every constraint")


INTERRUPTED = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {benchmarks!r})
    from generate import generate
    import procure
    problem = generate(6, 15, 10, seed=7, scenarios=50)   # minutes to prove at mip_gap=0
    print("solving", flush=True)
    try:
        procure.solve(problem, mip_gap=0, threads=1)
        print("finished")
    except procure.Interrupted as stop:
        r = stop.result
        print("interrupted", r.status, r.termination, r.has_plan, r.check() == [], flush=True)
    """
)


@pytest.mark.slow  # kept out of `pytest -q` for its time; CI runs it with -m slow
def test_ctrl_c_stops_a_solve_within_a_second_and_keeps_the_plan() -> None:
    script = INTERRUPTED.format(benchmarks=str(ROOT / "benchmarks"))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "solving"
    time.sleep(10)  # well into the branch and bound, with a plan found (the start takes 2–7 s)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert time.perf_counter() - sent < 1.5
    assert out.split() == ["interrupted", "feasible", "interrupted", "True", "True"]


def test_extra_rows_are_exported(tmp_path: Path) -> None:
    path = procure.write_model(_three_offers(), tmp_path / "capped.lp", extra=at_most_40_percent_per_offer_in_2027)
    assert "offer_share_2027(cheap)" in path.read_text()
    pytest.importorskip("pyomo.environ")
    m = procure.to_pyomo(_three_offers(), extra=at_most_40_percent_per_offer_in_2027)
    assert "cheap" in m.offer_share_2027


def test_problems_and_results_pickle(small: dict[str, Any]) -> None:
    import pickle

    small["sites"] = [{"name": "east"}, {"name": "west", "vendors": ["google"]}]
    small["offers"][1]["installed"] = {"east": 500}
    result = procure.solve(small)
    again = pickle.loads(pickle.dumps(result))
    assert again.problem == result.problem
    assert again.objective == result.objective and again.check() == []


@pytest.mark.skipif("cbc" not in procure.available_solvers(), reason="CBC is not installed")
def test_the_cbc_adapter_keeps_to_the_time_limit_in_wall_clock_seconds() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    problem = generate(6, 15, 10, seed=7, scenarios=50)  # minutes to prove at mip_gap=0
    started = time.perf_counter()
    result = procure.solve(problem, solver="cbc", mip_gap=0, threads=1, time_limit=3)
    assert time.perf_counter() - started < 3 + 1.5
    assert result.termination == "time_limit" and result.status == "feasible"


def test_a_ctrl_c_as_highs_finishes_is_not_lost(small: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after HiGHS's last interrupt callback: HiGHS ends proved, yet the solve must say
    interrupted (a sweep of quick solves lost such presses and ran on to exit 0)."""
    from procure.solvers.highs import HighsSession

    real = HighsSession._run

    def pressed_at_the_end(self: HighsSession, h: Any) -> bool:
        real(self, h)
        return True  # what `_run` says when KeyboardInterrupt reached its wait

    monkeypatch.setattr(HighsSession, "_run", pressed_at_the_end)
    with pytest.raises(procure.Interrupted) as stop:
        procure.solve(small, solver="highs", threads=1)
    result = stop.value.result
    assert result.termination == "interrupted" and result.status == "feasible" and result.check() == []


def _ctrl_c_once(planner: procure.Planner, problem: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Solve ``problem`` with the planner as Ctrl-C stops HiGHS at its first callback (what
    `_run` does when KeyboardInterrupt reaches its wait, the flag left set as a real one is);
    the model statuses HiGHS ended its runs with."""
    from procure.solvers.highs import HighsSession

    real = HighsSession._run
    statuses: list[Any] = []

    def ctrl_c_at_once(self: HighsSession, h: Any) -> bool:
        self._stop.event.set()
        h.run()
        statuses.append(h.getModelStatus())
        return True

    monkeypatch.setattr(HighsSession, "_run", ctrl_c_at_once)
    with pytest.raises(procure.Interrupted):
        planner.solve(problem)
    monkeypatch.setattr(HighsSession, "_run", real)
    return statuses


def test_a_kept_model_solves_again_after_ctrl_c(small: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS keeps an interrupt between runs of one instance: after Ctrl-C stopped a planner's
    solve, the next solve of its kept model must run, not stop at its first callback."""
    import highspy

    planner = procure.Planner(small, solver="highs", threads=1)
    first = planner.solve()
    assert first.status == "optimal"
    statuses = _ctrl_c_once(planner, small, monkeypatch)
    assert statuses and statuses[-1] == highspy.HighsModelStatus.kInterrupt  # HiGHS itself was stopped
    try:
        again = planner.solve(small)
    except procure.Interrupted:  # a KeyboardInterrupt: it would end the whole test run
        pytest.fail("the kept model stopped at once: HiGHS's interrupt from the last run was kept")
    assert planner.last_mode == "kept"
    assert again.status == "optimal" and again.termination != "interrupted"
    assert again.cost == pytest.approx(first.cost, rel=1e-9)


def test_a_kept_model_without_a_usable_start_solves_after_ctrl_c(
    small: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Ctrl-C that stopped the last solve is not read again by the next one, even when that
    one tries no start (the last plan breaks the new supply caps) before its search."""
    for offer in small["offers"]:
        offer["max_units"] = 100_000
    planner = procure.Planner(small, solver="highs", threads=1)
    first = planner.solve()
    bought = first.purchases.sum(axis=0).idxmax()  # the offer bought most: its cap falls below that
    _ctrl_c_once(planner, small, monkeypatch)
    capped = copy.deepcopy(small)
    for offer in capped["offers"]:
        if offer["name"] == bought:
            offer["max_units"] = int(first.purchases[bought].max()) // 2
    try:
        again = planner.solve(capped)
    except procure.Interrupted:  # a KeyboardInterrupt: it would end the whole test run
        pytest.fail("the next solve read the last Ctrl-C again")
    assert planner.last_mode == "kept"
    assert again.has_plan and again.termination != "interrupted"
    assert again.check() == []


def test_the_retry_without_presolve_leaves_a_kept_model_presolving(
    small: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A solve that HiGHS's presolve failed is solved again without it; HiGHS keeps options
    between runs, so the kept model's next solves must presolve again, as a fresh one does."""
    from procure.core.pipeline import Pipeline
    from procure.problem.format import as_problem
    from procure.solvers.base import RawSolution, SolveOptions, get_adapter
    from procure.solvers.highs import HighsSession

    state = Pipeline(get_adapter("highs"), SolveOptions()).open(as_problem(small))
    session = state.session
    assert isinstance(session, HighsSession)
    real = HighsSession._solve_once
    asked: list[str] = []

    def presolve_fails_once(self: HighsSession, options: SolveOptions, started: float) -> RawSolution:
        asked.append(str(options.solver_options.get("presolve", "")))
        if len(asked) == 1:
            return RawSolution("error", None, solver="highs", message="Solve error", termination="error")
        return real(self, options, started)

    def presolve_now() -> str:
        value = session.h.getOptionValue("presolve")
        return str(value[-1] if isinstance(value, tuple) else value)  # some highspy versions add a status

    monkeypatch.setattr(HighsSession, "_solve_once", presolve_fails_once)
    raw = session.solve(SolveOptions(threads=1))
    assert raw.status == "optimal" and asked == ["", "off"]  # the retry ran without presolve
    assert presolve_now() != "off"
    again = session.solve(SolveOptions(threads=1))
    assert again.status == "optimal" and asked[-1] == "" and presolve_now() != "off"
