"""HHI refinement (`procure.core.pipeline.refine_hhi`): loose rounds place the tangent cuts, one
solve at the caller's gap answers, and a plan is cut again wherever its exact HHI breaks a
promise of the model (`hhi_short`).  A mutant that skips a violated cut must fail here."""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import procure
import procure.core.pipeline as pipeline
from procure.base.errors import NumericsError
from procure.core.pipeline import Pipeline, add_hhi_cuts, relaxation_cuts, retire_hhi_cuts
from procure.model.linear import Index, LinearModel
from procure.model.risk import HHI_TOL
from procure.model.sets import model_data
from procure.problem.table_input import write_starter
from procure.solvers.base import RawSolution, SolveOptions, get_adapter
from procure.solvers.lp_basis import relaxation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate


def _problem(small: dict[str, Any], **risk: float) -> dict[str, Any]:
    problem = copy.deepcopy(small)
    problem["risk"] = {**problem.get("risk", {}), **risk}
    return problem


def _model(cost: float) -> tuple[LinearModel, np.ndarray]:
    """Two HHI terms h[0], h[1] of one period under a cap row h0 + h1 ≤ 0.5."""
    m = LinearModel()
    terms = m.add_columns("hhi_term", Index.grid(vendor=("a", "b")), cost=cost).reshape(2, 1)
    m.add_rows("max_hhi", Index.scalar(), np.zeros(2, dtype=int), terms.ravel(), 1.0, upper=0.5)
    return m, terms


@pytest.mark.parametrize(
    ("cost", "x", "under", "short"),
    [
        (0.0, [0.1, 0.1], [0.05, 0.05], False),  # cap slack even with the exact squares: no cut
        (0.0, [0.2, 0.25], [0.06, 0.0], True),  # the exact squares break the cap
        (0.0, [0.2, 0.25], [HHI_TOL / 2, 0.0], False),  # within the tolerance
        (1.0, [0.1, 0.1], [0.05, 0.05], True),  # priced: the objective must be exact
        (1.0, [0.1, 0.1], [HHI_TOL / 4, HHI_TOL / 4], False),  # priced, within the tolerance
        (1.0, [600.0, 600.0], [HHI_TOL * 400, HHI_TOL * 400], False),  # HHI 1,200: relatively within
        (1.0, [600.0, 600.0], [HHI_TOL * 800, HHI_TOL * 800], True),  # HHI 1,200: relatively beyond
    ],
)
def test_hhi_short(cost: float, x: list[float], under: list[float], short: bool) -> None:
    m, terms = _model(cost)
    squares = np.array(x) + np.array(under)  # each term this far below its square
    got = pipeline.hhi_short(m, terms, squares[:, None], np.array(x))
    assert got is short
    assert isinstance(m.A, sp.csr_matrix)


@pytest.mark.parametrize("risk", [{"max_hhi": 0.5}, {"max_hhi": 0.55}, {"hhi_weight": 5e8}])
def test_staged_rounds_match_rounds_at_the_callers_gap(
    small: dict[str, Any], risk: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loose rounds then one tight solve give the optimum every round at the caller's gap gives."""
    problem = _problem(small, **risk)
    staged = procure.solve(problem, solver="highs", mip_gap=0, threads=1)
    monkeypatch.setattr(pipeline, "REFINE_GAP", 0.0)
    monkeypatch.setattr(pipeline, "HHI_NEIGHBOURS", 0)
    plain = procure.solve(problem, solver="highs", mip_gap=0, threads=1)
    assert staged.status == plain.status == "optimal"
    assert staged.check() == [] and plain.check() == []
    tol = risk.get("hhi_weight", 0.0) * float(staged.evaluation.discount.sum()) * HHI_TOL + 1e-6 * plain.objective
    assert staged.objective == pytest.approx(plain.objective, abs=tol)
    assert staged.bound <= staged.objective + 1e-6 * abs(staged.objective)
    if "max_hhi" in risk:
        assert (staged.hhi <= risk["max_hhi"] + HHI_TOL).all()


def test_a_loose_round_never_answers_optimal(small: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """With refinement rounds at gap 1 (any plan), the answer is still proved at the caller's gap."""
    monkeypatch.setattr(pipeline, "REFINE_GAP", 1.0)
    result = procure.solve(_problem(small, max_hhi=0.55), solver="highs", mip_gap=1e-6, threads=1)
    assert result.status == "optimal" and result.gap <= 1e-6
    assert (result.hhi <= 0.55 + HHI_TOL).all()


@pytest.mark.parametrize(("exact", "gaps"), [(False, [1e-3, 1e-3, 1e-5]), (True, [1e-5, 1e-5])])
def test_a_solver_that_states_hhi_exactly_solves_every_round_at_the_callers_gap(exact: bool, gaps: list[float]) -> None:
    """Rounds of a stub: the first plan needs a cut, the next none.  A linear solver's rounds
    that place cuts are loose, then one at the caller's gap answers; a quadratic solver's first
    plan most often needs no cut, so each of its rounds is at the caller's gap."""
    asked: list[float] = []
    plans = iter([True, False, False])

    def solve(options: SolveOptions) -> RawSolution:
        asked.append(options.mip_gap)
        return RawSolution("optimal", np.zeros(1), 0.0, 0.0)

    answer = pipeline.refine_hhi(
        solve,
        lambda _raw, options: solve(options),
        lambda _x: next(plans),
        SolveOptions(mip_gap=1e-5),
        time.perf_counter(),
        exact=exact,
    )
    assert answer.status == "optimal"
    assert asked == gaps


def test_a_mutant_that_skips_a_violated_cut_is_caught(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the cuts a capped plan needs leaves a plan above the cap: never reported as a plan."""
    write_starter(tmp_path)
    starter = procure.Problem.from_file(tmp_path / "problem.toml")
    problem = replace(starter, risk=replace(starter.risk, max_hhi=0.45))
    result = procure.solve(problem, solver="highs", threads=1)
    assert result.status == "optimal" and result.check() == []
    assert (result.hhi <= 0.45 + HHI_TOL).all()
    monkeypatch.setattr(pipeline, "hhi_short", lambda *a: False)
    mutant = procure.solve(problem, solver="highs", threads=1)
    assert mutant.status == "error" and "max_hhi" in mutant.message


def _starter(tmp_path: Any, **risk: float) -> procure.Problem:
    write_starter(tmp_path)
    starter = procure.Problem.from_file(tmp_path / "problem.toml")
    return replace(starter, risk=replace(starter.risk, **risk))


@pytest.mark.parametrize("risk", [{"max_hhi": 0.34}, {"hhi_weight": 1e10}])
def test_relaxation_rounds_leave_an_lp_whose_shares_need_no_cut(tmp_path: Any, risk: dict[str, float]) -> None:
    """After the rounds at the LP relaxation, its plan keeps every promise of the model with
    its exact HHI (no further cut), and its optimum is the best bound a tangent grid can give."""
    problem = _starter(tmp_path, **risk)
    state = Pipeline(get_adapter("highs"), SolveOptions()).open(problem)
    before = relaxation(state.session.model, SolveOptions())
    assert before is not None
    rounds = relaxation_cuts(state.session, state.built, state.data, SolveOptions(), 0.0)
    assert rounds > 0
    after = relaxation(state.session.model, SolveOptions())
    assert after is not None and after[1] > before[1]  # the bound rose
    assert not add_hhi_cuts(state.session, state.built, state.data, after[0])
    result = procure.solve(problem, solver="highs", threads=1)
    assert result.status == "optimal" and result.check() == []
    assert after[1] <= result.objective * (1 + 1e-9)  # a relaxation: never above the optimum


def test_relaxation_rounds_change_no_answer(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rounds only add valid cuts: without them the same optimum (within the gap) is proved."""
    problem = _starter(tmp_path, max_hhi=0.34)
    with_rounds = procure.solve(problem, solver="highs", threads=1, mip_gap=1e-6)
    monkeypatch.setattr(pipeline, "RELAXATION_ROUNDS", 0)
    without = procure.solve(problem, solver="highs", threads=1, mip_gap=1e-6)
    assert with_rounds.status == without.status == "optimal"
    assert with_rounds.objective == pytest.approx(without.objective, rel=2e-6)


def test_relaxation_cuts_that_cannot_be_stated_leave_the_mip_rounds_to_answer(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = pipeline.add_hhi_cuts

    def first_fails(*args: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:  # the first call is the relaxation's, before any MIP
            raise NumericsError("cut coefficients out of range")
        return real(*args)

    monkeypatch.setattr(pipeline, "add_hhi_cuts", first_fails)
    result = procure.solve(_starter(tmp_path, max_hhi=0.4), solver="highs", threads=1)
    assert calls["n"] > 1
    assert result.status == "optimal" and result.check() == []
    assert (result.hhi <= 0.4 + HHI_TOL).all()


@pytest.mark.parametrize("solver", ["highs", "auto"])
def test_retired_cuts_are_free_rows_and_the_next_solve_is_exact_again(tmp_path: Any, solver: str) -> None:
    """A frontier switches off the cuts of other levels before each point (`retire_hhi_cuts`):
    every HHI cut row of the kept model is free, in the solver's copy too, and the next solve
    places the cuts it needs: the same optimum, with an exact HHI under the cap."""
    problem = _starter(tmp_path, max_hhi=0.36)
    options = SolveOptions(threads=1)
    pipe = Pipeline(get_adapter(solver), options)
    state = pipe.open(problem)
    first = pipe.solve(state, options, time.perf_counter())
    assert first.raw.status == "optimal"
    model = state.session.model
    cut_rows = np.concatenate([np.arange(b.start, b.stop) for b in model.rows if b.name == "hhi_cut"])
    assert np.isfinite(model.row_lower[cut_rows]).all()
    assert retire_hhi_cuts(state.session) == len(cut_rows)
    assert np.isneginf(model.row_lower[cut_rows]).all()
    held = getattr(state.session, "highs", state.session).h.getLp()  # the copy HiGHS solves
    assert np.all(np.asarray(held.row_lower_)[cut_rows] <= -1e30)
    assert retire_hhi_cuts(state.session) == 0  # nothing left to switch off
    again = pipe.solve(state, options, time.perf_counter())
    assert again.raw.status == "optimal"
    assert again.raw.objective == pytest.approx(first.raw.objective, rel=2e-4)
    x = again.raw.x
    assert x is not None
    hhi = state.built.hhi
    assert hhi is not None
    share = x[state.built.compute[:, hhi.periods]] / state.data.demand[hhi.periods]
    assert (share**2).sum(axis=0).max() <= 0.36 + HHI_TOL


def test_each_hhi_frontier_point_starts_without_the_cuts_of_other_levels(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every level after the cheapest is solved from a model whose HHI cuts are all switched off
    (its own relaxation rounds place the ones it needs); each point is still a checked plan."""
    import procure.analysis.frontier as frontier_module

    active: list[int] = []
    real = frontier_module.retire_hhi_cuts

    def spy(session: Any) -> int:
        n = real(session)
        model = session.model
        rows = [np.arange(b.start, b.stop) for b in model.rows if b.name == "hhi_cut"]
        active.append(int(np.isfinite(model.row_lower[np.concatenate(rows)]).sum()))
        return n

    monkeypatch.setattr(frontier_module, "retire_hhi_cuts", spy)
    front = procure.frontier(_starter(tmp_path), "hhi", points=3, solver="highs", threads=1, mip_gap=1e-3)
    assert active == [0, 0]  # points 2 and 3
    assert all(r.status == "optimal" and r.check() == [] for r in front.results)
    levels = front.table["level"].to_numpy()
    assert (front.table["risk"].to_numpy() <= levels * (1 + 1e-6) + HHI_TOL).all()


def _tight_power_capped() -> procure.Problem:
    """A generated problem whose power caps force concentration: no plan keeps HHI ≤ 0.2962."""
    problem = procure.Problem.from_dict(generate(4, 4, 5, seed=0, family="tight-power"))
    return replace(problem, risk=replace(problem.risk, max_hhi=0.2962))


def test_feasibility_rounds_make_a_cap_no_plan_keeps_an_infeasible_lp() -> None:
    """With no objective (a diagnosis's question), tangents at the relaxation's plan make an HHI
    cap below the least HHI of any plan an infeasible LP, where the grid's tangents alone leave
    the LP feasible and the answer to a search."""
    problem = _tight_power_capped()
    pipe = Pipeline(get_adapter("highs"), SolveOptions())
    data = model_data(problem)
    built = pipe.diagnosis_model(data)
    session = pipe.adapter.open(built.model)
    session.set_objective(np.zeros(built.model.num_cols), 0.0)
    assert relaxation(session.model, SolveOptions()) is not None  # the grid alone: a plan of the LP
    rounds = relaxation_cuts(session, built, data, SolveOptions(), time.perf_counter())
    assert rounds >= 1
    assert relaxation(session.model, SolveOptions()) is None
    assert session.solve(SolveOptions(mip_gap=1.0, threads=1)).status == "infeasible"


def test_an_hhi_conflict_is_isolated_within_seconds() -> None:
    """The deletion filter's questions are answered at the LP (tight-power seed 0: before the
    feasibility rounds its first solves took 2–8 s each and 30 s isolated nothing)."""
    d = procure.explain(_tight_power_capped(), repairs=False, time_limit=15, threads=1)
    assert d.conflict_minimal
    assert {r.path for r in d.conflict} == {"demand[2028]", "power_cap_gw[2028]", "risk.max_hhi"}
