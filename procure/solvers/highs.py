"""Built-in adapter: HiGHS through highspy, the whole model passed in one call.

Three guards stand between HiGHS and procure's answers:

- *numbers*: arrays a solver cannot take (NaN, values HiGHS reads as infinite
  where a finite one was meant, coefficients beyond its matrix limit) are
  refused before HiGHS sees them (`guard_numbers`), so that no input can
  crash the process;
- *honesty*: the objective is computed from the plan; HiGHS's own report of
  it must agree, and its bound must not exceed it.  HiGHS 1.16 breaks this
  when a starting plan meets its presolve: it evaluates the start without a
  constant of the presolved problem, prunes every better plan against that
  false value and reports the start as optimal.  Such an answer is detected
  and the model solved again without the start; a bound is never adjusted;
- *interrupts*: the solve runs in a worker thread, so that Ctrl-C stops HiGHS
  at its next callback and its best plan is kept.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..base.errors import NumericsError, ProblemError
from ..model.linear import Index, LinearModel
from ..model.scaling import MatrixForm, matrix_form, objective_scale
from ..problem.rules import RULES
from .base import Adapter, Capabilities, RawSolution, Session, SolveOptions, register, status_for
from .redcost import reduced_cost_bounds

__all__ = ["FIELDS_OF", "STATUS_MAP", "HighsAdapter", "guard_numbers"]

_banner_shown = False

#: HiGHS model status name → termination (see `procure.solvers.base.TERMINATIONS`).
STATUS_MAP: dict[str, str] = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kObjectiveBound": "objective_limit",
    "kObjectiveTarget": "objective_limit",
    "kInterrupt": "interrupted",
    "kHighsInterrupt": "interrupted",
    "kMemoryLimit": "memory_limit",
    "kUnknown": "numerical",
    "kNotset": "error",
    "kLoadError": "error",
    "kModelError": "error",
    "kPresolveError": "error",
    "kSolveError": "error",
    "kPostsolveError": "error",
    "kModelEmpty": "error",
}

#: Options procure sets from `solve()`'s own arguments: not to be given in ``solver_options``.
MANAGED_OPTIONS = {
    "time_limit": "time_limit",
    "mip_rel_gap": "mip_gap",
    "threads": "threads",
    "output_flag": "verbose",
}

#: HiGHS's tolerances: its defaults, and what a strict re-solve uses.
TOLERANCES = {
    "mip_feasibility_tolerance": (1e-6, 1e-9),
    "primal_feasibility_tolerance": (1e-7, 1e-9),
}

#: HiGHS's ``mip_heuristic_effort`` when a solve asks for no other (HiGHS's own default is 0.05).
#: Measured on every benchmark family (``benchmarks/README.md``, "HiGHS's heuristic effort"):
#: over 22 problems HiGHS alone took 598 s at 0.05, 406 s at 0.3 and 409 s at 0.5 (60 s a
#: problem it does not prove); 0.5 was faster on seeds 0–1, 0.3 on the held-out seed 2, and
#: 0.3 proves every problem 0.5 proves and one more.
HEURISTIC_EFFORT = 0.3

#: HiGHS's ``mip_max_nodes`` when no limit is asked for (its default).
NO_NODE_LIMIT = 2**31 - 1

#: Relative agreement required between the plan's objective and the one HiGHS reports.
AGREE = 1e-6


@contextlib.contextmanager
def _quiet_stdout(quiet: bool) -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when its first instance is made)."""
    if not quiet:
        yield
        return
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (some notebooks): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class StopSearch:
    """A flag HiGHS's interrupt callbacks read: set, it stops the solve at the next callback.

    Each callback also says when not to stop: HiGHS keeps an interrupt between runs of one
    instance, so a kept model (a `Planner`'s, a frontier's) solved again after Ctrl-C would
    otherwise stop at its first callback, every time.  An exception must never escape a
    callback (HiGHS's search would change), hence the ``try``."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def stop_now(self, e: Any) -> bool:
        """Whether this callback stops the run (``e``: HiGHS's callback event)."""
        return self.event.is_set()

    def __call__(self, e: Any) -> None:
        try:
            e.interrupt(self.stop_now(e))
        except Exception:  # pragma: no cover - defensive: see the docstring
            pass


def new_highs(verbose: bool, stop: StopSearch | None = None) -> Any:
    import highspy

    global _banner_shown
    with _quiet_stdout(quiet=not verbose and not _banner_shown):
        h = highspy.Highs()
    _banner_shown = True
    h.setOptionValue("output_flag", bool(verbose))
    if stop is not None:
        h.cbMipInterrupt += stop
        h.cbSimplexInterrupt += stop
        h.cbIpmInterrupt += stop
    return h


def _option(h: Any, key: str) -> Any:
    value = h.getOptionValue(key)
    return value[-1] if isinstance(value, tuple) else value  # some highspy versions add a status


def _set(h: Any, key: str, value: Any) -> None:
    """Set an option procure chose; a refusal is a bug here, not the user's."""
    import highspy

    if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS refused option {key}={value!r}")


def _set_threads(h: Any, threads: int | None) -> None:
    """HiGHS's thread pool is global: resize it only when asked for another size."""
    if threads is None:
        return
    if _option(h, "threads") != threads:
        h.resetGlobalScheduler(True)
        _set(h, "threads", int(threads))


def user_options(h: Any, solver_options: Any) -> None:
    """Pass the caller's ``solver_options``; an option HiGHS rejects is a `ProblemError`."""
    import highspy

    for key, value in solver_options.items():
        path = f"solver_options.{key}"
        if key in MANAGED_OPTIONS:
            raise ProblemError(
                f"{path}: set by procure; use solve({MANAGED_OPTIONS[key]}=...) instead", path=path, value=value
            )
        if not isinstance(key, str) or h.getOptionType(key)[0] != highspy.HighsStatus.kOk:
            raise ProblemError(f"{path}: HiGHS has no option {key!r}", path=path, value=value)
        if not isinstance(value, (bool, int, float, str)) or h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
            raise ProblemError(f"{path}: HiGHS rejects the value {value!r}", path=path, value=value)


#: HiGHS presolve's "sparsify" rule (bit 14 of ``presolve_rule_off``) grows faster than the model
#: on the cumulative fleet rows of long horizons and checks neither the time limit nor interrupts
#: (a minute on 2.5M nonzeros): it is off above this many nonzeros.
SPARSIFY = 1 << 14
SPARSIFY_MOST_NONZEROS = 100_000


def configure(h: Any, options: SolveOptions, nonzeros: int = 0) -> None:
    _set(h, "output_flag", bool(options.verbose))
    _set(h, "presolve_rule_off", SPARSIFY if nonzeros > SPARSIFY_MOST_NONZEROS else 0)
    _set_threads(h, options.threads)
    _set(h, "mip_rel_gap", float(options.mip_gap))
    _set(h, "mip_abs_gap", 0.0 if options.mip_gap == 0 else 1e-6)
    _set(h, "time_limit", float(options.time_limit) if options.time_limit is not None else math.inf)
    for key, (default, strict) in TOLERANCES.items():
        _set(h, key, strict if options.strict else default)
    effort = HEURISTIC_EFFORT if options.heuristic_effort is None else options.heuristic_effort
    _set(h, "mip_heuristic_effort", float(effort))
    _set(h, "mip_max_nodes", NO_NODE_LIMIT if options.node_limit is None else int(options.node_limit))
    user_options(h, options.solver_options)  # the caller's mip_heuristic_effort, if any, wins


#: The field (path) and the fields behind each block of the formulation, for messages about
#: numbers out of range: the blocks that state no requirement here, each requirement family's
#: from its record (`procure.problem.rules.RULES`).
FIELDS_OF: dict[str, tuple[str, str]] = {
    "lots": ("offers", "unit_cost, lot_size, opex_per_year, power_kw, electricity_price"),
    "compute": ("offers", "compute, installed"),
    "vendor_compute": ("offers", "compute, lot_size, installed"),
    "split": ("workloads", "workloads, efficiency"),
    "workload_capacity": ("offers", "lot_size, installed"),
    "take_or_pay": ("vendors", "min_spend"),
    "min_vendor_share": ("risk.min_vendor_share", "min_vendor_share, demand"),
    "hhi_term": ("risk.hhi_weight", "hhi_weight"),
    "hhi_cut": ("risk.hhi_weight", "HHI of compute far above demand"),
    "shortfall": ("risk.scenarios", "availability, demand"),
    "tail": ("risk.risk_weight", "shortfall_penalty, probability, cvar_alpha"),
    "value_at_risk": ("risk.risk_weight", "risk_weight, shortfall_penalty"),
    "tier_units": ("offers", "price_tiers"),
    **{r.name: r.behind for r in RULES if r.relax is not None},
}
_YOURS = ("extra", "rows or columns you added")


#: The span of numbers a scaled model may hold: beyond it HiGHS loses accuracy, calls a model
#: "Empty", or (seen in fuzzing) crashes.  Scaled models of real problems span about 1e6.
MAX_SPAN = 1e10  # largest / smallest non-zero |matrix entry|, and the same of |costs|
MAX_BOUND = 1e12  # largest |finite bound|, in the solver's (scaled) units
HIGHS_INFINITY = 1e20  # HiGHS reads |values| from here on as infinite


def _where(blocks: list[Any], k: int) -> tuple[str, str, str]:
    """The name of member ``k`` of a list of blocks, the field path and the fields behind its block."""
    starts = [b.start for b in blocks]
    b = blocks[int(np.searchsorted(starts, k, side="right")) - 1]
    path, fields = FIELDS_OF.get(b.name.split("[")[0], _YOURS)
    name = b.index.names(b.name)[k - b.start]
    return (name if len(name) <= 40 else name[:39] + "…"), path, fields


def _span(values: np.ndarray) -> tuple[int, int, float]:
    """Positions of the smallest and largest non-zero |value|, and their ratio."""
    size = np.abs(values)
    nz = np.flatnonzero(size > 0)
    if not nz.size:
        return -1, -1, 1.0
    low, high = nz[np.argmin(size[nz])], nz[np.argmax(size[nz])]
    return int(low), int(high), float(size[high] / size[low])


def guard_numbers(form: MatrixForm, *, solve: bool = True) -> tuple[str, str]:
    """Why HiGHS cannot be given ``form`` safely, as (field path, reason); ``("", "")`` when it
    can.  Refused: a non-finite number, a finite bound beyond `MAX_BOUND` (HiGHS reads 1e20 as
    infinite), a lower bound of +inf, matrix entries or costs spanning more than `MAX_SPAN`.
    A form only written to a file (not ``solve``) is held to HiGHS's infinity alone."""
    most = MAX_BOUND if solve else HIGHS_INFINITY
    model = form.model
    A = form.A
    if A.nnz and not np.isfinite(A.data).all():
        entry = int(np.flatnonzero(~np.isfinite(A.data))[0])
        column = int(np.searchsorted(A.indptr, entry, side="right")) - 1
        row, path, fields = _where(model.rows, int(A.indices[entry]))
        return path, f"the coefficient of {_where(model.columns, column)[0]} in {row} is not finite ({fields})"
    if not np.isfinite(form.cost).all() or not math.isfinite(form.offset):
        return "offers", "the objective is not finite (costs or risk weights beyond the supported ranges)"
    for values, blocks in (
        (form.col_lower, model.columns),
        (form.col_upper, model.columns),
        (form.row_lower, model.rows),
        (form.row_upper, model.rows),
    ):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.isnan(values) | (np.isfinite(values) & (np.abs(values) >= most)))
        if bad.size:
            name, path, fields = _where(blocks, int(bad[0]))
            return path, f"a bound of {name} is out of range ({fields})"
    for lower, blocks in ((form.col_lower, model.columns), (form.row_lower, model.rows)):
        plus = np.flatnonzero(np.isposinf(lower))
        if plus.size:
            name, path, _ = _where(blocks, int(plus[0]))
            return path, f"the lower bound of {name} is +inf"
    if not solve:
        return "", ""
    low, high, ratio = _span(A.data)
    if ratio > MAX_SPAN:
        small, large = (_where(model.rows, int(A.indices[e])) for e in (low, high))
        return small[1], (
            f"coefficients span {ratio:.1g} (at most {MAX_SPAN:g}), from {small[0]} ({small[2]}) to {large[0]}"
        )
    low, high, ratio = _span(form.cost)
    if ratio > MAX_SPAN:
        small, large = _where(model.columns, low), _where(model.columns, high)
        return small[1], f"costs span {ratio:.1g} (at most {MAX_SPAN:g}), from {small[0]} ({small[2]}) to {large[0]}"
    return "", ""


def _negligible_costs_dropped(form: MatrixForm) -> MatrixForm:
    """``form`` with objective terms below 1/`MAX_SPAN` of the largest set to 0, where that can
    only lower the objective (a non-negative cost on a non-negative column): the solver's bound
    then still holds for the full objective, which procure computes from the plan."""
    size = np.abs(form.cost)
    if not size.size or size.max() == 0:
        return form
    tiny = (size > 0) & (size < size.max() / MAX_SPAN) & (form.cost > 0) & (form.col_lower >= 0)
    if not tiny.any():
        return form
    cost = np.where(tiny, 0.0, form.cost)
    # what is left is brought near unit size again, as `objective_scale` does (a power of two)
    factor = float(np.exp2(-np.round(np.log2(np.median(np.abs(cost[cost != 0]))))))
    return replace(form, cost=cost * factor, offset=form.offset * factor, obj_scale=form.obj_scale * factor)


def _refuse(trouble: tuple[str, str]) -> NumericsError:
    path, why = trouble
    return NumericsError(
        f"{path}: numbers too far apart for a solver: {why}; see 'Supported ranges' in docs/problem-format.md",
        path=path,
    )


def pass_model(h: Any, form: MatrixForm, *, solve: bool = True) -> None:
    """Hand the whole matrix form to HiGHS in one call; a form to ``solve`` must pass
    `guard_numbers` (one only written to a file need not)."""
    trouble = guard_numbers(form, solve=solve)
    if trouble[0]:
        raise _refuse(trouble)
    A = form.A
    h.passModel(
        A.shape[1],
        A.shape[0],
        A.nnz,
        1,  # column-wise
        1,  # minimize
        float(form.offset),
        form.cost,
        highs_inf(form.col_lower),
        highs_inf(form.col_upper),
        highs_inf(form.row_lower),
        highs_inf(form.row_upper),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data,
        form.integrality.astype(np.int32),
    )


def _warm_start(h: Any, form: MatrixForm, options: SolveOptions) -> bool:
    if options.warm_start is None or options.warm_start_ids is None:
        return False
    ids = np.asarray(options.warm_start_ids, dtype=np.int32)
    h.setSolution(len(ids), ids, np.asarray(options.warm_start, dtype=float) / form.col_scale[ids])
    return True


#: the starting plan's sub-MIP: a looser gap and a node budget keep it a small part of a solve
START_GAP = 3e-4
START_NODES = 200
START_TIME_SHARE = 0.25
#: seconds (per million nonzeros, and at least) a time limit must leave for a starting plan
START_LEAST_SECONDS = 1.0
#: hold reduced-cost bounds during the search (benchmarks switch it off to measure what it buys)
REDUCED_COST_BOUNDS = True


def _lp_support_start(h: Any, form: MatrixForm, options: SolveOptions, run: Any) -> _Held | None:
    """Hand HiGHS a starting plan found among the columns the LP relaxation uses;
    with it, the reduced-cost bounds (`procure.solvers.redcost`) to hold during
    the search (None when no plan was handed over).

    Columns of ``options.lp_support_ids`` at zero in the LP optimum are held at
    zero and the rest solved as a MIP to a loose gap within a node budget.  On
    procurement models the LP buys few offers, so this small MIP finds in a
    fraction of a second a plan about as good as the one HiGHS's root heuristics
    take most of a solve to find, and a good incumbent early prunes the search.
    Both runs take a share of the time limit; every change is undone before the
    real solve.
    """
    import highspy

    if options.lp_support_ids is None or options.warm_start is not None or not form.integrality.any():
        return None
    if options.time_limit is not None and options.time_limit < START_LEAST_SECONDS * (1 + form.A.nnz / 1e6):
        return None  # too little time: HiGHS's own presolve of the LP would take most of it
    n = len(form.cost)
    every = np.arange(n, dtype=np.int32)
    saved = {key: _option(h, key) for key in ("mip_rel_gap", "mip_max_nodes", "time_limit")}
    started = time.perf_counter()

    def share() -> float:  # of the time still left, for each of the two runs
        if options.time_limit is None:
            return math.inf
        return max(START_TIME_SHARE * (float(options.time_limit) - (time.perf_counter() - started)), 0.01)

    h.changeColsIntegrality(n, every, np.zeros(n, dtype=np.int32))
    try:
        _set(h, "time_limit", share())
        if run(h):
            return None
        relaxed = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        x = np.asarray(h.getSolution().col_value, dtype=float) if relaxed else None
        d = np.asarray(h.getSolution().col_dual, dtype=float) if relaxed else None
    finally:
        h.changeColsIntegrality(n, every, form.integrality.astype(np.int32))
        _set(h, "time_limit", saved["time_limit"])
    if x is None or d is None:
        return None
    ids = np.asarray(options.lp_support_ids, dtype=np.int32)
    unused = ids[(x[ids] <= 1e-9) & (form.col_lower[ids] == 0)]
    at_zero = _Held(unused, np.zeros(len(unused)), np.zeros(len(unused)))
    at_zero.hold(h)
    try:
        _set(h, "mip_rel_gap", max(START_GAP, float(options.mip_gap)))
        _set(h, "mip_max_nodes", START_NODES)
        _set(h, "time_limit", share())
        if run(h):
            return None
        found = h.getInfo().primal_solution_status == 2
        start = np.asarray(h.getSolution().col_value, dtype=float) if found else None
    finally:
        at_zero.undo(h, form)
        for key, value in saved.items():
            _set(h, key, value)
    if start is None:
        return None
    relaxation, known = (float(form.cost @ y + form.offset) for y in (x, start))  # from the plans
    ids, lower, upper = reduced_cost_bounds(form.col_lower, form.col_upper, form.integrality, x, d, relaxation, known)
    held = _Held(ids.astype(np.int32), lower, upper) if REDUCED_COST_BOUNDS else _Held.none()
    held.hold(h)  # before the start: changing bounds makes HiGHS drop a solution it was given
    h.setSolution(n, every, start)
    return held


#: log2 of how far a kept model's row or column scale may drift from a fresh model's before
#: changed coefficients reload the model with fresh scaling (4: a factor of 16)
RESCALE_DRIFT = 4.0

#: answer a warm start that is within the gap of the LP bound without a search (tests switch it off)
START_WITHIN_GAP = True


def _start_within_gap(
    h: Any, form: MatrixForm, options: SolveOptions, run: Any, started: float, solver: str
) -> tuple[RawSolution | None, np.ndarray | None]:
    """A warm start that is already within ``mip_gap`` of the LP relaxation's bound, as the
    answer (None when there is none), and the start to hand the search otherwise.

    A kept model re-solved after a change (a sweep, a Planner) often has, among the
    plans of its earlier solves (``warm_start`` and ``other_starts``), one within the
    gap: the one nearest the LP optimum is tried (it is the new optimum far more often
    than the last plan is when the variants are unrelated draws), and the LP relaxation
    proves it.  Starts outside the model's column bounds (a supply cap now below them)
    are never tried.  The start's lots are held and the rest of the model solved
    (presolve leaves little); the plan is then ``optimal`` with the LP's objective as
    its bound, a bound HiGHS proved for this model.  Otherwise every change is undone
    and the search runs as usual, from the start tried.
    """
    import highspy

    if options.warm_start is None or options.warm_start_ids is None:
        return None, None
    ids = np.asarray(options.warm_start_ids, dtype=np.int32)
    starts = np.vstack([np.asarray(options.warm_start, dtype=float), *options.other_starts]) / form.col_scale[ids]
    tol = 1e-9 * np.maximum(1.0, np.abs(starts))
    inside = ((starts >= form.col_lower[ids] - tol) & (starts <= form.col_upper[ids] + tol)).all(axis=1)
    if not inside.any():
        return None, None
    starts = starts[inside]
    if not START_WITHIN_GAP or not form.integrality.any():
        return None, starts[0] * form.col_scale[ids]
    n = len(form.cost)
    every = np.arange(n, dtype=np.int32)
    limit = _option(h, "time_limit")
    h.changeColsIntegrality(n, every, np.zeros(n, dtype=np.int32))
    try:
        if options.time_limit is not None:
            _set(h, "time_limit", max(0.25 * float(options.time_limit), 0.01))
        if run(h) or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, starts[0] * form.col_scale[ids]
        relaxed = np.asarray(h.getSolution().col_value, dtype=float)
        lp = float(form.cost @ relaxed + form.offset)  # the LP optimum's objective, from its plan
    finally:
        h.changeColsIntegrality(n, every, form.integrality.astype(np.int32))
        _set(h, "time_limit", limit)
    scale = form.col_scale[ids]  # nearness in lots (model units), the first start on a tie
    y = starts[int(np.argmin(np.abs((starts - relaxed[ids]) * scale).sum(axis=1)))]
    start = y * scale
    held = _Held(ids, y, y)
    held.hold(h)
    try:
        if options.time_limit is not None:
            _set(h, "time_limit", max(float(options.time_limit) - (time.perf_counter() - started), 0.01))
        if run(h):
            return None, start
        raw = _answer(h, form, options, time.perf_counter() - started, solver)
    finally:
        held.undo(h, form)
        _set(h, "time_limit", limit)
    if not raw.has_plan:
        return None, start
    bound = min(form.to_model_objective(lp), raw.objective)  # as `_answer` does: no bound above the plan
    if raw.objective - bound > float(options.mip_gap) * max(abs(raw.objective), 1e-12):
        return None, start
    return replace(raw, status="optimal", termination="gap_reached", bound=bound, message="", nodes=0), start


@dataclass(frozen=True)
class _Held:
    """Column bounds held during one MIP run (solver units), undone after it."""

    ids: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def none(cls) -> _Held:
        return cls(np.zeros(0, dtype=np.int32), np.zeros(0), np.zeros(0))

    def hold(self, h: Any) -> None:
        if len(self.ids):
            h.changeColsBounds(len(self.ids), self.ids, highs_inf(self.lower), highs_inf(self.upper))

    def undo(self, h: Any, form: MatrixForm) -> None:
        if len(self.ids):
            ids = self.ids
            h.changeColsBounds(len(ids), ids, highs_inf(form.col_lower[ids]), highs_inf(form.col_upper[ids]))


def _termination(h: Any, status: Any) -> str:
    name = status.name if hasattr(status, "name") else str(status)
    found = STATUS_MAP.get(name, "error")
    if found == "solution_limit" and _option(h, "mip_max_nodes") < NO_NODE_LIMIT:
        return "node_limit"
    return found


def _answer(h: Any, form: MatrixForm, options: SolveOptions, seconds: float, solver: str) -> RawSolution:
    """Translate HiGHS's status and solution back to model units, trusting no more than it proved."""
    status = h.getModelStatus()
    info = h.getInfo()
    model = form.model
    is_mip = bool(form.integrality.any())
    termination = _termination(h, status)
    has_plan = info.primal_solution_status == 2
    y = np.asarray(h.getSolution().col_value, dtype=float)
    x = form.to_model_x(y) if has_plan else None
    objective = bound = math.nan
    message = ""
    if has_plan:
        value = float(form.cost @ y + form.offset)  # the plan's own objective, in the solver's units
        reported = float(info.objective_function_value)
        dual = float(info.mip_dual_bound) if is_mip else (value if termination == "optimal" else math.nan)
        objective = form.to_model_objective(value)
        slack = AGREE * max(1.0, abs(value))
        if abs(reported - value) > slack or dual > value + slack:
            message = (
                f"HiGHS reported objective {form.to_model_objective(reported):.10g} and bound "
                f"{form.to_model_objective(dual):.10g} for a plan worth {objective:.10g}: its bound is not trusted"
            )
            termination = "inconsistent"
        elif math.isfinite(dual):
            bound = form.to_model_objective(min(dual, value))
    duals = None
    if options.duals and not is_mip and termination == "optimal":
        # d(model objective)/d(model rhs) = scaled dual · row scale / objective scale
        duals = np.asarray(h.getSolution().row_dual, dtype=float) * form.row_scale / form.obj_scale
    if termination not in ("optimal", "infeasible", "unbounded") and not message:
        message = f"stopped: {h.modelStatusToString(status)}"
        if not has_plan and termination not in ("infeasible_or_unbounded",):
            message = f"stopped before any plan was found: {h.modelStatusToString(status)}"
    return RawSolution(
        status_for(termination, has_plan, model),
        x,
        objective,
        bound,
        seconds=seconds,
        solver=solver,
        message=message,
        nodes=int(info.mip_node_count) if is_mip else None,
        termination=termination,
        duals=duals,
    )


class HighsSession(Session):
    """A model kept inside one HiGHS instance: changes go to HiGHS in scaled units."""

    def __init__(self, adapter: HighsAdapter, model: LinearModel) -> None:
        super().__init__(adapter, model)
        self.form = _negligible_costs_dropped(matrix_form(model))
        self._stop = StopSearch()
        self.h = self._load()

    def _load(self) -> Any:
        h = new_highs(False, self._stop)
        pass_model(h, self.form)
        return h

    def set_col_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        super().set_col_bounds(ids, lower, upper)
        ids = np.asarray(ids, dtype=np.int32)
        f = self.form
        f.col_lower[ids] = self.model.col_lower[ids] / f.col_scale[ids]
        f.col_upper[ids] = self.model.col_upper[ids] / f.col_scale[ids]
        self.h.changeColsBounds(len(ids), ids, highs_inf(f.col_lower[ids]), highs_inf(f.col_upper[ids]))

    def set_row_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        super().set_row_bounds(ids, lower, upper)
        ids = np.asarray(ids, dtype=np.int32)
        f = self.form
        f.row_lower[ids] = self.model.row_lower[ids] * f.row_scale[ids]
        f.row_upper[ids] = self.model.row_upper[ids] * f.row_scale[ids]
        self.h.changeRowsBounds(len(ids), ids, highs_inf(f.row_lower[ids]), highs_inf(f.row_upper[ids]))

    def set_cost(self, ids: np.ndarray, cost: Any) -> None:
        super().set_cost(ids, cost)
        f = self.form
        # a new objective may have another size: rescale it, or tolerances lose their meaning
        scale = objective_scale(self.model.cost, f.col_scale)
        self.form = f = _negligible_costs_dropped(
            replace(f, cost=self.model.cost * f.col_scale * scale, offset=self.model.offset * scale, obj_scale=scale)
        )
        every = np.arange(len(f.cost), dtype=np.int32)
        self.h.changeColsCost(len(every), every, f.cost)
        self.h.changeObjectiveOffset(float(f.offset))

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        super().set_coefficients(rows, cols, vals)
        f = self.form
        fresh = matrix_form(self.model)
        drift = np.abs(np.log2(np.concatenate([fresh.row_scale / f.row_scale, fresh.col_scale / f.col_scale])))
        if drift.max(initial=0.0) > RESCALE_DRIFT:
            # the kept scaling no longer suits the numbers: tolerances would mean something else
            # in the changed rows than in a fresh model (a tiny share within HiGHS's tolerance)
            self.form = _negligible_costs_dropped(fresh)
            self.h = self._load()
            return
        scaled = np.broadcast_to(np.asarray(vals, dtype=float), np.shape(rows)) * f.row_scale[rows] * f.col_scale[cols]
        # the kept matrix form must follow, or a reload would lose the change
        self.form = replace(f, A=(sp.diags(f.row_scale) @ self.model.A @ sp.diags(f.col_scale)).tocsc())
        for r, c, v in zip(np.ravel(rows), np.ravel(cols), np.ravel(scaled)):  # HiGHS changes one entry a call
            self.h.changeCoeff(int(r), int(c), float(v))

    def add_rows(
        self, name: str, index: Index, row: np.ndarray, col: np.ndarray, val: np.ndarray, **kw: Any
    ) -> np.ndarray:
        before, form = self.model.num_rows, self.form
        ids = super().add_rows(name, index, row, col, val, **kw)
        if len(ids) == 0:
            return ids
        self.form = self.form.with_rows(self.model, ids)
        trouble = guard_numbers(self.form)
        if trouble[0]:  # undo: the kept model stays the one HiGHS holds
            self.model.truncate_rows(before)
            self.form = form
            raise _refuse(trouble)
        f = self.form
        scaled = f.A[ids].tocsr()
        self.h.addRows(
            len(ids),
            highs_inf(f.row_lower[ids]),
            highs_inf(f.row_upper[ids]),
            scaled.nnz,
            scaled.indptr.astype(np.int32),
            scaled.indices.astype(np.int32),
            scaled.data,
        )
        return ids

    def _run(self, h: Any) -> bool:
        """Run HiGHS; True when Ctrl-C stopped it (it then holds its best plan so far).

        In the main thread the solve runs in a worker thread, so that a
        KeyboardInterrupt reaches Python at once and HiGHS stops at its next
        interrupt callback; elsewhere (no signal can arrive) it runs directly."""
        if threading.current_thread() is not threading.main_thread():
            h.run()
            return False
        done = threading.Event()

        def work() -> None:
            try:
                h.run()
            finally:
                done.set()

        worker = threading.Thread(target=work, name="procure-highs", daemon=True)
        worker.start()
        try:
            while not done.wait(0.05):
                pass
            return False
        except KeyboardInterrupt:
            self._stop.event.set()
        deadline = time.perf_counter() + 5.0
        while not done.is_set():
            try:
                if not done.wait(0.05) and time.perf_counter() > deadline:
                    raise KeyboardInterrupt  # HiGHS did not stop: give the process back to the user
            except KeyboardInterrupt:
                if time.perf_counter() > deadline:
                    raise
        return True

    def solve(self, options: SolveOptions) -> RawSolution:
        started = time.perf_counter()
        if threading.current_thread() is threading.main_thread():
            # a new solve: a Ctrl-C that stopped the last one is not this one's (only `_run`, in the
            # main thread, sets the flag, and it stays set to the end of the solve it stopped; a
            # race's worker leaves the flag to the race)
            self._stop.event.clear()
        raw = self._solve_once(options, started)
        if raw.interrupted:
            return raw
        if raw.termination == "inconsistent":
            # the start met HiGHS's presolve bug (module docstring): again in a fresh instance, cold
            cold = replace(options, warm_start=None, warm_start_ids=None, lp_support_ids=None)
            raw = self._again(raw, cold, started, "solved again without its start")
        if raw.termination in ("error", "numerical") and "presolve" not in options.solver_options:
            # HiGHS's presolve can fail to undo its reductions ("Solve error") or leave an
            # "Empty" model on badly scaled input: again in a fresh instance, without presolve
            plain = replace(options, solver_options={**options.solver_options, "presolve": "off"})
            raw = self._again(raw, plain, started, "solved again without presolve")
            self.h = self._load()  # HiGHS keeps options between runs: the next solve presolves again
        return raw

    def _again(self, raw: RawSolution, options: SolveOptions, started: float, how: str) -> RawSolution:
        """``raw``, or the answer of a fresh HiGHS with ``options`` when that one is no worse."""
        left = None if options.time_limit is None else options.time_limit - (time.perf_counter() - started)
        if left is not None and left <= 0.05:
            return replace(raw, seconds=time.perf_counter() - started)
        self.h = self._load()
        again = self._solve_once(replace(options, time_limit=left), started)
        if again.has_plan or not raw.has_plan:
            return again
        return replace(raw, seconds=again.seconds, message=f"{raw.message}; {how}: {again.message}")

    def _solve_once(self, options: SolveOptions, started: float) -> RawSolution:
        trouble = guard_numbers(self.form)  # changed bounds, costs or coefficients included
        if trouble[0]:
            raise _refuse(trouble)
        h = self.h
        configure(h, options, self.form.A.nnz)
        done, start = _start_within_gap(h, self.form, options, self._run, started, self.adapter.name)
        if done is not None:
            return done
        if start is not None:
            _warm_start(h, self.form, replace(options, warm_start=start))
        held = _lp_support_start(h, self.form, options, self._run) or _Held.none()
        try:  # the start's bounds are held until the answer is read
            seconds = time.perf_counter() - started
            if self._stop.event.is_set():  # Ctrl-C while looking for a starting plan: no plan yet
                message = "interrupted before any plan was found"
                return RawSolution(
                    "error", None, seconds=seconds, solver=self.adapter.name, message=message, termination="interrupted"
                )
            if options.time_limit is not None:  # the starting plan's time counts against the limit
                _set(h, "time_limit", max(options.time_limit - seconds, 0.01))
            stopped = self._run(h)
            raw = _answer(h, self.form, options, time.perf_counter() - started, self.adapter.name)
            if stopped and not raw.interrupted:
                # Ctrl-C came as HiGHS finished, after its last interrupt callback: still a Ctrl-C
                # (a sweep of quick solves would otherwise lose most of them and run on)
                raw = raw.as_interrupted()
            return raw
        finally:
            held.undo(h, self.form)


def highs_inf(values: np.ndarray) -> np.ndarray:
    import highspy

    return np.nan_to_num(values, neginf=-highspy.kHighsInf, posinf=highspy.kHighsInf)


class HighsAdapter(Adapter):
    """HiGHS (MIT licence), the default solver; installed with procure."""

    name = "highs"
    capabilities = Capabilities(duals=True, warm_start=True)
    install_hint = "pip install highspy"

    @classmethod
    def available(cls) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def check_options(self, options: SolveOptions) -> None:
        super().check_options(options)
        if options.solver_options:
            user_options(new_highs(False), options.solver_options)

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        return self.open(model).solve(options)

    def open(self, model: LinearModel) -> HighsSession:
        return HighsSession(self, model)


register("highs", HighsAdapter)
