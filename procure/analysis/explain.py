"""Why a problem has no plan: the requirements in conflict, and the repairs that would each give one.

`explain` answers in the user's words.  Every requirement row of procure's
model (demand, power caps, supply, budgets, share caps, vendor-loss survival,
vendor count, HHI and CVaR caps, spend caps) is named by the field of the
problem that states it — its *path*, as sweeps use (``power_cap_gw[2027]``,
``vendors[google].max_share``) — and by a phrase ("power cap in 2027").

- **Conflict**: a set of requirements that cannot hold together, found by a
  deletion filter: whole families first, then single rows, each dropped for
  good when the rest is still infeasible (proved by the solver).  Without a
  time limit the set is irreducible: keeping every requirement but any one of
  its members gives a plan.  What could not be decided in time stays in (the
  set is then still infeasible, but ``conflict_minimal`` is False).
- **Repairs**: alternatives, each enough on its own.  For each family of
  requirements in the conflict (each vendor's share cap on its own), the least
  change of that family's fields that gives a plan: found by an elastic
  model, least within the relative gap ``mip_gap`` (at most 1e-4; the rows
  may give at a price per unit of their own size, or the caller's prices),
  for limits that are right-hand sides; by bisection on the field for
  caps that are coefficients (shares, vendor-loss survival, vendor count);
  and for the HHI cap by one solve that minimizes the largest period HHI
  with every other requirement kept (`least_max_hhi`).
  Each repair is applied to the problem and solved:
  its ``cost`` column is the repaired problem's optimal objective, and only
  repairs whose problem was solved with a plan are listed.  When no single
  family suffices, one repair changes several (``minimal`` is then False).

A repair is rounded outwards by a few parts per million so that the repaired
problem keeps a plan despite solver tolerances; shrunk by 1% it has none.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.errors import NumericsError
from ..base.hooks import provide
from ..core.pipeline import Pipeline, relaxation_cuts
from ..core.result import Outcome
from ..model.build import BuiltModel, Extra
from ..model.elastic import elastic_model
from ..model.risk import HHI_TOL
from ..model.sets import ModelData, model_data
from ..problem.fields import apply_changes, get_value
from ..problem.format import Problem, as_problem
from ..problem.rules import RULES, Rule
from ..solvers import DEFAULT_SOLVER
from ..solvers.base import Adapter, SolveOptions
from ..solvers.options import set_up
from .least_hhi import least_max_hhi
from .tree_diagnosis import tree_diagnosis_model

__all__ = ["Diagnosis", "Requirement", "explain"]

#: Seconds a diagnosis may take when the call gives no time limit.
DEFAULT_SECONDS = 120.0
#: Relative widening of a repair beyond the least change the solver found (solver tolerances).
MARGIN = 2e-6
#: Bisection stops when the bracket is this fraction of the change (so 1% less has no plan).
BISECT_TOL = 2e-3
#: Share of the diagnosis's time left that the one solve that finds a repair (a least
#: violation, the least HHI cap) may take: the repair must still be solved (`_verified`).
SEARCH_SHARE = 0.5
#: Requirement families whose repair is one solve (the least HHI cap): tried before the others.
ONE_SOLVE = ("max_hhi",)

REPAIR_COLUMNS = ["repair", "requirement", "old", "new", "change", "unit", "cost", "status", "minimal", "description"]


@dataclass(frozen=True)
class Requirement:
    """One requirement as the user stated it.

    Attributes
    ----------
    path : str
        The field that states it (``power_cap_gw[2027]``, ``vendors[google].max_share``).
    text : str
        The requirement in words ("power cap in 2027 ≤ 0.8 GW").
    family : str
        The kind of requirement (``power_cap``, ``max_share``, …).
    period : int or None
        The period it applies to (None for horizon-wide requirements).
    """

    path: str
    text: str
    family: str
    period: int | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Diagnosis:
    """What `procure.explain` found.

    Attributes
    ----------
    problem : Problem
        The problem diagnosed.
    has_plan : bool
        True when the problem has a plan after all (nothing to explain).
    conflict : tuple of Requirement
        Requirements that cannot hold together.
    conflict_minimal : bool
        True when every member was shown to be needed (irreducible).
    message : str
        One line: the conflict and the first repairs (``result.message`` of an infeasible solve).
    fixed : tuple of str
        The path prefixes that no repair may change.
    seconds : float
        Wall time of the diagnosis.

    Repairs are in `repairs` (a DataFrame, one row per field change); `apply`
    gives a repaired problem.
    """

    problem: Problem
    has_plan: bool
    conflict: tuple[Requirement, ...]
    conflict_minimal: bool
    message: str
    fixed: tuple[str, ...] = ()
    seconds: float = 0.0
    _repairs: tuple[_Repair, ...] = field(default=(), repr=False)

    @property
    def repairs(self) -> pd.DataFrame:
        """One row per field change: ``repair`` (id; a repair may change several fields),
        ``requirement`` (the field's path), ``old``, ``new``, ``change`` (new − old, in the
        field's unit), ``unit``, ``cost`` (the repaired problem's optimal objective),
        ``status`` (of that solve), ``minimal`` and ``description`` (in words).  Sorted by
        the caller's priorities, then by what the repair costs (``cost`` plus relaxation
        prices)."""
        rows = [
            {
                "repair": k,
                "requirement": c.path,
                "old": c.old,
                "new": c.new,
                "change": c.new - c.old,
                "unit": c.unit,
                "cost": r.cost,
                "status": r.status,
                "minimal": r.minimal,
                "description": c.describe(),
            }
            for k, r in enumerate(self._repairs)
            for c in r.changes
        ]
        return pd.DataFrame(rows, columns=REPAIR_COLUMNS)

    def display(self) -> pd.DataFrame:
        """`repairs` for people to read (a copy, of text): ``old``, ``new`` and ``change`` in
        the field's unit (dollars as ``$17.9B``, GW with three decimals, compute and units with
        thousands separators, shares as percentages; the change signed), ``cost`` in dollars
        (see `procure.fmt`)."""
        shown = self.repairs
        for column, sign in (("old", False), ("new", False), ("change", True)):
            shown[column] = [fmt.amount(v, u, sign=sign, named=False) for v, u in zip(shown[column], shown["unit"])]
        return fmt.table(shown, {"cost": "money"})

    @property
    def conflict_table(self) -> pd.DataFrame:
        """The conflict as a table: ``requirement`` (path), ``family``, ``period``, ``text``."""
        return pd.DataFrame(
            [{"requirement": r.path, "family": r.family, "period": r.period, "text": r.text} for r in self.conflict],
            columns=["requirement", "family", "period", "text"],
        )

    def apply(self, repair: int) -> Problem:
        """The problem with repair ``repair`` (a ``repairs.repair`` id) made; it has a plan."""
        if not 0 <= repair < len(self._repairs):
            raise IndexError(f"repair {repair} does not exist (there are {len(self._repairs)})")
        return self._repairs[repair].problem

    def __str__(self) -> str:
        if self.has_plan:
            return f"{self.problem.name}: the problem has a plan; there is nothing to repair"
        lines = [f"{self.problem.name}: no plan satisfies every requirement.", "", "These cannot hold together:"]
        lines += [f"  - {r.text}" for r in self.conflict]
        if not self.conflict_minimal:
            lines.append("  (not shown to be irreducible in the time given)")
        if not self._repairs:
            lines += ["", "No repair was found among the requirements that may change."]
            return "\n".join(lines)
        lines += ["", "Any one of these repairs gives a plan:"]
        for k, r in enumerate(self._repairs):
            what = "; ".join(c.describe() for c in r.changes[:4])
            more = f" (and {len(r.changes) - 4} more changes)" if len(r.changes) > 4 else ""
            lines.append(f"  {k}. {what}{more} — the plan then costs {_money(r.cost)}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(str(self))


@dataclass(frozen=True)
class _Change:
    path: str
    old: float
    new: float
    unit: str
    what: str  # the requirement in words, without its value

    def describe(self) -> str:
        if self.unit == "share":
            return f"let {self.what} reach {fmt.share(self.new)} (from {fmt.share(self.old)})"
        verb = "raise" if self.new > self.old else "lower"
        if self.what.startswith("demand"):
            share = self.new / self.old if self.old else 0.0
            return (
                f"serve {fmt.share(share)} of the {self.what} "
                f"({fmt.amount(self.new, self.unit)} of {fmt.amount(self.old, self.unit)})"
            )
        by, to = fmt.amount(abs(self.new - self.old), self.unit), fmt.amount(self.new, self.unit)
        return f"{verb} the {self.what} by {by} to {to}"


@dataclass(frozen=True)
class _Repair:
    changes: tuple[_Change, ...]
    problem: Problem
    cost: float
    status: str
    minimal: bool
    penalty: float  # cost plus the caller's relaxation prices (for sorting)
    priority: float


def _money(value: float) -> str:
    return fmt.money(value) if math.isfinite(value) else "an unknown amount"


# ---------------------------------------------------------------------------- requirements


#: The requirement families a diagnosis relaxes, by row block: their records
#: (`procure.problem.rules.RULES`) say each one's field, words, unit and how it moves.
FAMILIES: dict[str, Rule] = {r.name: r for r in RULES if r.relax is not None}

#: The order in which the deletion filter tries to drop whole families: the records' order (the
#: buyer's own rules first, the physical and financial limits next, demand last), so that a
#: conflict names the plainest requirements that cannot hold together.
DELETION_ORDER = tuple(FAMILIES)


@dataclass(frozen=True)
class _Row:
    row: int  # row id in the diagnosis model
    family: str
    position: int  # within its block
    label: tuple[Any, ...]
    requirement: Requirement
    lever: str  # what one repair changes: the family, or family/vendor for share caps
    block: str = ""  # its row block in the diagnosis model, when not named by the family (a tree's paths)
    scenario: int = 0  # the demand path whose model holds it (a tree's diagnosis)
    where: str = ""  # " on path 'late'" (a tree's diagnosis)

    @property
    def model_block(self) -> str:
        return self.block or self.family


def _requirement_rows(built: BuiltModel, data: ModelData, problem: Problem) -> list[_Row]:
    out: list[_Row] = []
    for block in built.model.rows:
        spec = FAMILIES.get(block.name)
        if block.definition:
            continue
        if spec is None:
            if block.name in built.extra_blocks:  # the caller's own rows: in a conflict, never repaired
                names = block.index.names(block.name)
                out += [
                    _Row(block.start + k, block.name, k, (), Requirement(names[k], names[k], block.name), block.name)
                    for k in range(len(block.index))
                ]
            continue
        free = np.isneginf(built.model.row_lower[block.start : block.stop]) & np.isposinf(
            built.model.row_upper[block.start : block.stop]
        )  # a cap the problem does not set (max_cvar without a value): no requirement
        for k in np.flatnonzero(~free):
            lab = block.index.label(int(k))
            period = next((int(x) for x in lab if isinstance(x, (int, np.integer))), None)
            req = Requirement(spec.path_of(lab), spec.text_of(lab, data, problem), block.name, period)
            per_vendor = spec.relax == "scalar" and spec.path.startswith("vendors[")  # one lever per vendor
            lever = f"{block.name}/{lab[0]}" if per_vendor else block.name
            out.append(_Row(block.start + int(k), block.name, int(k), lab, req, lever))
    return out


def _is_fixed(path: str, fixed: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f + "[") or path.startswith(f + ".") for f in fixed)


# ---------------------------------------------------------------------------- the solver side


class _Clock:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()


class _Oracle:
    """Is the diagnosis model feasible with some requirement rows dropped?  One kept session,
    objective zero, rows freed and restored in place."""

    def __init__(
        self, built: BuiltModel, data: ModelData, adapter: Adapter, options: SolveOptions, clock: _Clock
    ) -> None:
        model = built.model
        self.session = adapter.open(model)
        self.session.set_objective(np.zeros(model.num_cols), 0.0)
        self.lower, self.upper = model.row_lower.copy(), model.row_upper.copy()
        self.built, self.data, self.options, self.clock = built, data, options, clock

    def feasible(self, free: np.ndarray) -> bool | None:
        """True / False as proved by the solver; None when it could not tell in time."""
        left = self.clock.left()
        if left < 0.05:
            return None
        free = np.asarray(free, dtype=np.int64)
        n = len(free)
        self.session.set_row_bounds(free, np.full(n, -np.inf), np.full(n, np.inf))
        try:
            options = replace(self.options, time_limit=left, mip_gap=1.0, verbose=False)
            # HHI tangents where the relaxation's plan breaks the exact HHI (valid for every plan,
            # kept for later questions): a cap no plan keeps is then an infeasible LP, where the
            # grid's tangents alone left it to a search (tight-power seed 0: 1.8 s)
            relaxation_cuts(self.session, self.built, self.data, options, time.perf_counter())
            raw = self.session.solve(options)
        finally:
            self.session.set_row_bounds(free, self.lower[free], self.upper[free])
        if raw.interrupted:
            raise KeyboardInterrupt
        if raw.has_plan:
            return True
        return False if raw.status == "infeasible" else None


def _conflict(rows: list[_Row], oracle: _Oracle) -> tuple[list[_Row], bool]:
    """A deletion filter: families first, then rows.  Returns the conflict and whether every
    member was shown to be needed."""
    if oracle.feasible(np.zeros(0, dtype=np.int64)) is not False:
        # the model's tangent cuts relax an HHI cap (a plan of the relaxation breaks the exact
        # HHI), or time ran out: the HHI caps and demand, not shown to be irreducible
        hhi = [r for r in rows if r.family in ("max_hhi", "demand", "workload_demand")]
        return (hhi if any(r.family == "max_hhi" for r in hhi) else []), False
    dropped: set[int] = set()
    minimal = True
    present = {r.family for r in rows}
    families = [f for f in DELETION_ORDER if f in present] + sorted(present - set(DELETION_ORDER))
    for fam in families:  # whole families: few solves drop most rows
        trial = dropped | {r.row for r in rows if r.family == fam}
        answer = oracle.feasible(np.fromiter(trial, dtype=np.int64))
        if answer is False:
            dropped = trial
        elif answer is None:
            minimal = False
    for r in rows:
        if r.row in dropped:
            continue
        trial = dropped | {r.row}
        answer = oracle.feasible(np.fromiter(trial, dtype=np.int64))
        if answer is False:
            dropped = trial
        elif answer is None:
            minimal = False
    return [r for r in rows if r.row not in dropped], minimal


# ---------------------------------------------------------------------------- repairs


@dataclass
class _Context:
    problem: Problem
    data: ModelData
    built: BuiltModel
    rows: list[_Row]
    adapter: Adapter
    options: SolveOptions
    pipeline: Pipeline
    clock: _Clock
    fixed: tuple[str, ...]
    prices: Mapping[str, float]
    priorities: Mapping[str, float]
    conflict: tuple[Requirement, ...] = ()
    datas: tuple[ModelData, ...] = ()  # with demand scenarios: each path's data (``data`` is the first's)

    @property
    def tree(self) -> bool:
        return bool(self.datas)

    def data_of(self, r: _Row) -> ModelData:
        """The data of the path whose model holds ``r`` (demand differs between paths)."""
        return self.datas[r.scenario] if self.datas else self.data


def _price_of(path: str, table: Mapping[str, float], default: float) -> float:
    best, length = default, -1
    for prefix, value in table.items():
        if _is_fixed(path, [prefix]) and len(prefix) > length:
            best, length = float(value), len(prefix)
    return best


def _elastic(ctx: _Context, lever_rows: list[_Row]) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """The least weighted violation of ``lever_rows`` (the rest hard): slack per row of the
    diagnosis model, the elastic plan's columns, and whether the solve proved it least (else
    the best violation found in its time); or None."""
    model = ctx.built.model
    masks: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    for r in lever_rows:
        block = model.row_block(r.model_block)
        assert block is not None
        masks.setdefault(r.model_block, np.zeros(len(block.index), dtype=bool))[r.position] = True
    if ctx.prices:
        for name in masks:
            block = model.row_block(name)
            assert block is not None
            w = np.ones(len(block.index))
            for r in lever_rows:
                if r.model_block == name:
                    w[r.position] = _price_of(r.requirement.path, ctx.prices, 1.0) * _unit_scale(ctx, r)
            weights[name] = w
    elastic, relaxed = elastic_model(model, set(masks), rows=masks, weights=weights or None)
    left = ctx.clock.left()
    if left < 0.1:
        return None
    try:
        # least within the solve's relative gap: proving a least violation to 1e-9 over whole lots
        # is a hard knapsack (tens of seconds on a 3-offer problem) for a repair no reader needs that exact
        gap = min(ctx.options.mip_gap, 1e-4)
        # a least violation under an HHI cap can stay open for minutes: `SEARCH_SHARE` of the time
        options = replace(ctx.options, time_limit=left * SEARCH_SHARE, mip_gap=gap, verbose=False)
        session = ctx.adapter.open(elastic)
        # the elastic plan's columns come first: HHI tangents at its relaxation's shares bound it
        relaxation_cuts(session, ctx.built, ctx.data, options, time.perf_counter())
        raw = session.solve(options)
    except NumericsError:  # slack prices too far apart for the solver: this lever gives no repair
        return None
    if raw.interrupted:
        raise KeyboardInterrupt
    if not raw.has_plan or raw.x is None:
        return None
    slack = np.zeros(model.num_rows)
    for name, ids, _sign, _unit in relaxed:
        block = model.row_block(name)
        assert block is not None
        slack[block.start : block.stop] = raw.x[ids]
    return slack, raw.x[: model.num_cols], raw.status == "optimal"


def _unit_scale(ctx: _Context, r: _Row) -> float:
    """Field units per unit of a row's slack (supply rows count lots)."""
    if r.family == "supply":
        return float(ctx.data.lot[ctx.data.offers.index(r.label[0])])
    return 1.0


def _rhs_changes(ctx: _Context, lever_rows: list[_Row], slack: np.ndarray) -> list[_Change]:
    """Field changes that make room for the slack the elastic model needed, row by row; a field
    that several rows state (every demand path's rows of a shared limit) changes by the most any
    of them needs."""
    out: dict[str, _Change] = {}
    for r in lever_rows:
        amount = float(slack[r.row])
        if amount <= 1e-9:
            continue
        spec = FAMILIES[r.family]
        old = _old_value(ctx, r)
        if r.family == "supply":
            lot = _unit_scale(ctx, r)
            lots = math.floor(old / lot + 1e-9) + math.ceil(amount - 1e-6)
            new = float(lots * lot)
        elif spec.relax == "lower":
            new = max(old - amount * (1 + MARGIN) - 1e-9 * abs(old), 0.0)
        else:
            new = old + amount * (1 + MARGIN) + 1e-9 * abs(old)
        seen = out.get(r.requirement.path)
        if new != old and (seen is None or abs(new - old) > abs(seen.new - seen.old)):
            out[r.requirement.path] = _Change(r.requirement.path, old, new, spec.unit, spec.what_of(r.label))
    return list(out.values())


def _old_value(ctx: _Context, r: _Row) -> float:
    """The field's value in force (a default the problem leaves out included), as its record reads it."""
    return FAMILIES[r.family].value_of(r.label, ctx.data_of(r), ctx.problem)


def _edits(ctx: _Context, changes: Iterable[_Change]) -> dict[str, Any]:
    """Paths and values for `apply_changes`: per-period changes of a site cap the site does
    not state itself become the whole field."""
    edits: dict[str, Any] = {}
    for c in changes:
        if c.path.startswith("sites[") and ".power_cap_gw[" in c.path:
            whole = c.path[: c.path.rindex("[")]
            if get_value(ctx.problem, whole) is None:
                site = ctx.problem.site_names.index(c.path[6 : c.path.index("]")])
                current = edits.get(whole) or {
                    int(p): float(v) for p, v in zip(ctx.data.periods, ctx.data.site_cap_gw[site])
                }
                current[int(c.path[c.path.rindex("[") + 1 : -1])] = c.new
                edits[whole] = current
                continue
        if c.unit == "vendors":
            edits[c.path] = round(c.new)
        elif c.unit == "units":
            edits[c.path] = float(c.new)
        else:
            edits[c.path] = c.new
    return edits


def _solve(ctx: _Context, problem: Problem, start: np.ndarray | None = None) -> Outcome | None:
    """``problem`` solved within the diagnosis's time, warm from whole lots ``start`` if given."""
    left = ctx.clock.left()
    if left < 0.1:
        return None
    options = replace(
        ctx.options, time_limit=left if ctx.options.time_limit is None else min(left, ctx.options.time_limit)
    )
    pipeline = replace(ctx.pipeline, options=options)
    state = None
    if start is not None and not problem.demand_scenarios:
        state = pipeline.open(problem)
        state.lots = start
    result, _ = pipeline.run(problem, state=state)
    return result


def _verified(ctx: _Context, changes: list[_Change], minimal: bool, start: np.ndarray | None = None) -> _Repair | None:
    """The repair solved (warm from whole lots ``start``, a plan it has, if known); widened
    (×100, twice) while solver tolerances leave it without a plan."""
    for _ in range(3):
        try:
            repaired = apply_changes(ctx.problem, _edits(ctx, changes))
        except ValueError:
            return None
        result = _solve(ctx, repaired, start)
        if result is None:
            return None
        if result.has_plan:
            penalty = result.objective + sum(_price_of(c.path, ctx.prices, 0.0) * abs(c.new - c.old) for c in changes)
            priority = max((_price_of(c.path, ctx.priorities, 0.0) for c in changes), default=0.0)
            return _Repair(tuple(changes), repaired, result.objective, result.status, minimal, penalty, priority)
        if result.status != "infeasible":
            return None
        changes = [_widen(c) for c in changes]
    return None


def _widen(c: _Change) -> _Change:
    step = 100 * MARGIN * max(abs(c.new - c.old), 1e-9 * max(abs(c.old), 1.0))
    if c.unit in ("units", "vendors"):
        return c
    return replace(c, new=c.new + step if c.new > c.old else max(c.new - step, 0.0))


def _feasible_problem(ctx: _Context, problem: Problem) -> bool | None:
    """Does ``problem`` have a plan?  Its diagnosis model (every requirement a row, generous lot
    bounds) solved once with no objective: the first plan found answers."""
    left = ctx.clock.left()
    if left < 0.1:
        return None
    # tangent cuts relax the HHI cap: only the pipeline's refined answer is exact; a tree's is its extensive form
    if problem.risk.max_hhi is not None or problem.demand_scenarios:
        return _has_plan(ctx.pipeline, problem, left)
    built = ctx.pipeline.diagnosis_model(model_data(problem))
    model = built.model
    if model.empty_conflicts().size:
        return False
    model.set_cost(np.arange(model.num_cols), 0.0)
    raw = ctx.adapter.solve(model, replace(ctx.options, time_limit=left, mip_gap=1.0, verbose=False))
    if raw.interrupted:
        raise KeyboardInterrupt
    if raw.has_plan:
        return True
    return False if raw.status == "infeasible" else None


def _scalar_repair(ctx: _Context, lever_rows: list[_Row]) -> _Repair | None:
    """The least change of one coefficient-like field (share cap, HHI cap, vendor count, …),
    by bisection between its value and the value that removes the rule."""
    r = lever_rows[0]
    spec, path = FAMILIES[r.family], r.requirement.path
    if r.family in ("demand", "workload_demand"):
        return _demand_repair(ctx, lever_rows)
    old = _old_value(ctx, r)
    if r.family == "max_share":
        loose, integer = _share_used(ctx, lever_rows), False
    elif r.family == "max_hhi" and not ctx.tree:  # one least-HHI solve finds the cap
        least = least_max_hhi(ctx.pipeline, ctx.problem, ctx.clock.left() * SEARCH_SHARE)
        if least is None:
            return None
        if least.value <= old:  # HHI alone is not what has no plan
            return None
        new = least.value * (1 + MARGIN) + HHI_TOL
        # the least-HHI plan keeps the new cap: a start, so a plan is known however hard the cap is
        change = _Change(path, old, new, spec.unit, spec.what_of(r.label))
        return _verified(ctx, [change], least.proved, least.lots)
    elif spec.loosest is not None:  # bisect between the value in force and the one that holds always
        loose, integer = spec.loosest, spec.integer
    else:  # max_cvar: from the elastic plan's slack on its one row
        found = _elastic(ctx, lever_rows)
        if found is None:
            return None
        slack = found[0]
        cvar = ctx.built.cvar
        scale = cvar.unit if cvar is not None else 1.0
        loose, integer = old + float(slack[r.row]) * scale * (1 + 1e-3) + 1e-6 * max(old, 1.0), False

    def at(value: float) -> Problem:
        return apply_changes(ctx.problem, {path: int(value) if integer else value})

    if not (math.isfinite(old) and math.isfinite(loose)):
        return None
    try:
        return _bisected_repair(ctx, r, spec, path, old, loose, integer, at)
    except ValueError:  # a value the field does not take (ProblemError): no repair by this field
        return None


def _bisected_repair(
    ctx: _Context,
    r: _Row,
    spec: Rule,
    path: str,
    old: float,
    loose: float,
    integer: bool,
    at: Callable[[float], Problem],
) -> _Repair | None:
    if integer:
        if _feasible_problem(ctx, at(loose)) is not True:
            return None
        good, bad, minimal = loose, old, True
        while abs(good - bad) > 1:
            mid = float(int((good + bad) / 2))
            answer = _feasible_problem(ctx, at(mid))
            if answer is None:
                minimal = False
                break
            good, bad = (mid, bad) if answer else (good, mid)
    else:
        bisected = _bisect(ctx, at, old, loose)
        if bisected is None:
            return None
        good, minimal = bisected
    return _verified(ctx, [_Change(path, old, float(good), spec.unit, spec.what_of(r.label))], minimal)


def _share_used(ctx: _Context, lever_rows: list[_Row]) -> float:
    """The highest share the vendor reaches in the elastic plan that lets its cap give (1 when
    there is none): a bracket for the bisection."""
    found = None if ctx.tree else _elastic(ctx, lever_rows)  # a tree: a share per path; bracket to 1
    if found is None:
        return 1.0
    compute = found[1][ctx.built.compute]
    v = ctx.data.vendors.index(lever_rows[0].label[0])
    share = compute[v] / np.maximum(compute.sum(axis=0), 1e-12)
    return min(float(share.max()) * (1 + 1e-4) + 1e-6, 1.0)


def _bisect(ctx: _Context, at: Callable[[float], Problem], old: float, loose: float) -> tuple[float, bool] | None:
    """The value nearest ``old`` (which has no plan) between it and ``loose`` (which must have
    one) that gives a plan, and whether the bracket closed to `BISECT_TOL` of the change."""
    if _feasible_problem(ctx, at(loose)) is not True:
        return None
    good, bad = loose, old
    for _ in range(60):
        if abs(good - bad) <= BISECT_TOL * abs(good - old):
            break
        mid = (good + bad) / 2
        answer = _feasible_problem(ctx, at(mid))
        if answer is None:
            break
        good, bad = (mid, bad) if answer else (good, mid)
    closed = abs(good - bad) <= BISECT_TOL * abs(good - old)
    if good != loose:  # a hair outwards, for the solver's tolerances
        good = good + (good - old) * 1e-6
    return good, closed


def _demand_repair(ctx: _Context, lever_rows: list[_Row]) -> _Repair | None:
    """Serve a fraction of demand: one factor on the demand of the periods in conflict (all
    periods when none is), found by bisection, since demand also sets the vendor-loss,
    vendor-count and HHI terms."""
    if ctx.problem.risk.max_hhi is not None:  # shares of less demand are larger: not monotone, no bisection
        return None
    in_conflict = [r for r in lever_rows if r.requirement in ctx.conflict]
    for rows in filter(None, (in_conflict, lever_rows if len(in_conflict) < len(lever_rows) else [])):
        spec = FAMILIES[rows[0].family]
        old = {r.requirement.path: _old_value(ctx, r) for r in rows}
        whats = {r.requirement.path: spec.what_of(r.label) + r.where for r in rows}

        def changes(
            f: float, old: dict[str, float] = old, whats: dict[str, str] = whats, spec: Rule = spec
        ) -> list[_Change]:
            return [_Change(p, v, v * f, spec.unit, whats[p]) for p, v in old.items() if v > 0]

        def at(f: float, changes: Callable[[float], list[_Change]] = changes) -> Problem:
            return apply_changes(ctx.problem, _edits(ctx, changes(f)))

        found = _bisect(ctx, at, 1.0, 0.0)
        if found is not None and found[0] > 1e-6:  # serving nothing is no repair
            return _verified(ctx, changes(found[0]), found[1])
    return None


def _lever_repair(ctx: _Context, lever_rows: list[_Row]) -> _Repair | None:
    if FAMILIES[lever_rows[0].family].relax == "scalar":
        return _scalar_repair(ctx, lever_rows)
    found = _elastic(ctx, lever_rows)
    if found is None:
        return None
    changes = _rhs_changes(ctx, lever_rows, found[0])
    return _verified(ctx, changes, found[2]) if changes else None


def _joint_repair(ctx: _Context, movable: list[_Row]) -> _Repair | None:
    """All movable requirements at once (no single family was enough): the elastic plan's
    violations become the changes (right-hand sides by their slack; coefficient caps set to
    what the elastic plan uses).  Not minimal; none for a tree (its paths' plans differ)."""
    if ctx.tree:
        return None
    found = _elastic(ctx, movable)
    if found is None:
        return None
    # relax as few families as will do: drop each family whose rows gave while the rest suffices
    needed = [f for f in DELETION_ORDER if any(r.family == f and found[0][r.row] > 1e-9 for r in movable)]
    for family in list(needed):
        trial = [r for r in movable if r.family in needed and r.family != family]
        fewer = _elastic(ctx, trial) if trial else None
        if fewer is not None:
            needed, found = [f for f in needed if f != family], fewer
    movable = [r for r in movable if r.family in needed]
    slack, x, _ = found
    changes = _rhs_changes(ctx, [r for r in movable if FAMILIES[r.family].relax != "scalar"], slack)
    data = ctx.data
    compute = x[ctx.built.compute]  # (V, T)
    total = np.maximum(compute.sum(axis=0), 1e-12)
    by_lever: dict[str, list[_Row]] = {}
    for r in movable:
        if FAMILIES[r.family].relax == "scalar" and slack[r.row] > 1e-9:
            by_lever.setdefault(r.lever, []).append(r)
    for lever_rows in by_lever.values():
        r = lever_rows[0]
        spec = FAMILIES[r.family]
        if r.family in ("demand", "workload_demand"):
            for q in lever_rows:
                old = _old_value(ctx, q)
                new = max(old - float(slack[q.row]) * (1 + MARGIN), 0.0)
                changes.append(_Change(q.requirement.path, old, new, spec.unit, spec.what_of(q.label)))
            continue
        old = _old_value(ctx, r)
        if r.family == "max_share":
            v = data.vendors.index(r.label[0])
            new = min(float((compute[v] / total).max()) * (1 + MARGIN), 1.0)
        elif spec.term is not None and spec.term.rows == "share":  # a vendor's share term
            v = data.vendors.index(r.label[0])
            shares = (compute[v] / total)[spec.term.applies(data)[v]]
            if spec.term.sense == "≥":
                new = max(float(shares.min(initial=1.0)) * (1 - MARGIN), 0.0)
            else:
                new = min(float(shares.max(initial=0.0)) * (1 + MARGIN), 1.0)
        elif r.family == "vendor_loss":
            served = data.demand > 0
            keep = (total - compute)[:, served] / data.demand[served]
            new = max(float(keep.min()) * (1 - MARGIN), 0.0) if keep.size else 0.0
        elif r.family == "min_vendors":
            new = float(max(old - math.ceil(max(slack[q.row] for q in lever_rows) - 1e-6), 0))
        elif r.family == "max_hhi":
            new = min(old + max(float(slack[q.row]) for q in lever_rows) * (1 + MARGIN), 1.0)
        else:  # max_cvar
            cvar = ctx.built.cvar
            new = old + float(slack[r.row]) * (cvar.unit if cvar is not None else 1.0) * (1 + MARGIN)
        changes.append(_Change(r.requirement.path, old, new, spec.unit, spec.what_of(r.label)))
    return _verified(ctx, changes, False) if changes else None


# ---------------------------------------------------------------------------- the entry point


@provide("explain")
def explain(
    problem: Problem | Mapping[str, Any] | str,
    *,
    fixed: Sequence[str] = (),
    prices: Mapping[str, float] | None = None,
    priorities: Mapping[str, float] | None = None,
    repairs: bool = True,
    solver: str = DEFAULT_SOLVER,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    solver_options: Mapping[str, Any] | None = None,
) -> Diagnosis:
    """Why a problem has no plan: the requirements in conflict and repairs that each give one.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem to diagnose.
    fixed : sequence of str
        Path prefixes that must not move: ``["demand"]`` keeps every period's demand,
        ``["offers[tpu-v7]", "budget[2026]"]`` one offer's fields and one period's budget.
        They may still be part of the conflict; no repair changes them.
    prices : mapping, optional
        Relaxation prices by path prefix, in $ per unit of the field
        (``{"power_cap_gw": 2e9}``: a GW of cap is worth $2B to you): the elastic
        model then minimizes priced change, and repairs are sorted by cost plus price.
    priorities : mapping, optional
        Path prefix → number; repairs touching a higher number are listed later
        (``{"demand": 10}``: serve less demand only as a last resort).
    repairs : bool
        Find repairs (default) or only the conflict.
    solver, time_limit, mip_gap, threads, solver_options
        As for `procure.solve`; ``time_limit`` bounds the whole diagnosis
        (default 120 s), ``mip_gap`` applies to each repaired problem's solve.

    Returns
    -------
    Diagnosis
        ``conflict``, ``repairs`` (a DataFrame), ``apply(k)``, ``message``.

    Examples
    --------
    >>> d = procure.explain(problem, fixed=["demand"])       # doctest: +SKIP
    >>> d.repairs[["repair", "requirement", "old", "new", "cost"]]  # doctest: +SKIP
    >>> fixed_problem = d.apply(0)                            # doctest: +SKIP
    """
    prob = as_problem(problem)
    adapter, options = set_up(solver, time_limit, mip_gap, threads, False, solver_options)
    for f in fixed:
        if not isinstance(f, str) or not f:
            raise ValueError(f"fixed: {f!r} is not a path prefix (e.g. 'demand', 'power_cap_gw[2027]')")
    seconds = DEFAULT_SECONDS if time_limit is None else time_limit
    return diagnose_problem(
        prob, adapter, options, seconds, fixed=tuple(fixed), prices=prices, priorities=priorities, repairs=repairs
    )


@provide("diagnose_problem")
def diagnose_problem(
    problem: Problem,
    adapter: Adapter,
    options: SolveOptions,
    seconds: float,
    *,
    fixed: tuple[str, ...] = (),
    prices: Mapping[str, float] | None = None,
    priorities: Mapping[str, float] | None = None,
    repairs: bool = True,
    known_infeasible: bool = False,
    extra: Extra | None = None,
    most: int | None = None,
) -> Diagnosis:
    """`explain` for callers that hold an adapter and options (the pipeline, for the message
    of an infeasible solve); the whole diagnosis keeps within ``seconds``.  ``extra``: the
    caller's own rows (`procure.solve`'s ``extra``), named in a conflict, never repaired;
    ``most``: stop after this many repairs (the conflict's own families are tried first)."""
    started = time.perf_counter()
    clock = _Clock(seconds)
    pipeline = Pipeline(adapter, options, extra=extra, explain=False)
    if not known_infeasible:
        if _has_plan(pipeline, problem, clock.left()):
            return Diagnosis(problem, True, (), True, "the problem has a plan", fixed, time.perf_counter() - started)
    datas: tuple[ModelData, ...] = ()
    if problem.demand_scenarios:  # the paths in conflict, their extensive form's requirements named by path
        built, rows, datas = tree_diagnosis_model(
            pipeline, problem, clock.left() / 2, has_plan=_has_plan, requirement_rows=_requirement_rows
        )
        data = datas[0]
        if any(f in ("demand", "workloads") for f in fixed):  # each path's demand is its scenario's
            fixed = (*fixed, "demand_scenarios")
    else:
        data = model_data(problem)
        built = pipeline.diagnosis_model(data)
        rows = _requirement_rows(built, data, problem)
    empty = built.model.empty_conflicts()
    if empty.size:  # constants alone break these rows: nothing bought can help
        ids = {int(e) for e in empty}
        conflict, minimal = [r for r in rows if r.row in ids], True
    else:
        conflict, minimal = _conflict(rows, _Oracle(built, data, adapter, options, clock))
    ctx = _Context(
        problem,
        data,
        built,
        rows,
        adapter,
        options,
        pipeline,
        clock,
        fixed,
        prices or {},
        priorities or {},
        tuple(r.requirement for r in conflict),
        datas,
    )
    found = _repairs(ctx, conflict, most) if repairs else []
    found.sort(key=lambda r: (r.priority, r.penalty))
    diagnosis = Diagnosis(problem, False, tuple(r.requirement for r in conflict), minimal, "", fixed, 0.0, tuple(found))
    return replace(diagnosis, message=one_line(diagnosis), seconds=time.perf_counter() - started)


def _has_plan(pipeline: Pipeline, problem: Problem, seconds: float) -> bool | None:
    """Does ``problem`` have a plan, by procure's own solve (the first plan answers)?  None when
    the solve could not tell."""
    options = replace(pipeline.options, time_limit=max(seconds, 0.1), mip_gap=1.0)
    result, _ = replace(pipeline, options=options).run(problem)
    return True if result.has_plan else (False if result.status == "infeasible" else None)


def _repairs(ctx: _Context, conflict: list[_Row], most: int | None = None) -> list[_Repair]:
    movable = [r for r in ctx.rows if not _is_fixed(r.requirement.path, ctx.fixed)]

    # every family may hold a repair (another conflict may need it too): the conflict's first,
    # the HHI cap (one least-HHI solve) and limits (one elastic solve each) before the other
    # caps and demand (a bisection each)
    def order(r: _Row) -> tuple[bool, bool, bool]:
        scalar = FAMILIES.get(r.family, FAMILIES["demand"]).relax == "scalar"
        return (r not in conflict, r.family not in ONE_SOLVE, scalar)

    levers = list(dict.fromkeys(r.lever for r in sorted(ctx.rows, key=order)))
    found: list[_Repair] = []
    for lever in levers:
        lever_rows = [r for r in movable if r.lever == lever and r.family in FAMILIES]
        repair = _lever_repair(ctx, lever_rows) if lever_rows else None
        if repair is not None:
            found.append(repair)
            if most is not None and len(found) >= most:
                break
    movable = [r for r in movable if r.family in FAMILIES]
    if not found and movable:
        joint = _joint_repair(ctx, movable)
        if joint is not None:
            found.append(joint)
    return found


def one_line(diagnosis: Diagnosis, most: int = 2) -> str:
    """The diagnosis in one line (what ``result.message`` says for an infeasible problem)."""
    head = "no plan satisfies every constraint"
    if not diagnosis.conflict:
        return f"{head} (the requirements in conflict could not be isolated in time)"
    names = ", ".join(r.text for r in diagnosis.conflict[:4])
    more = f" and {len(diagnosis.conflict) - 4} more" if len(diagnosis.conflict) > 4 else ""
    text = f"{head}: {names}{more} cannot hold together"
    shown = [
        "; ".join(c.describe() for c in r.changes[:2]) + (" …" if len(r.changes) > 2 else "")
        for r in diagnosis._repairs[:most]
    ]
    if shown:
        text += "; to repair: " + " | or ".join(shown)
    return text
