"""A plan's linear program with its integers fixed, and exact one-sided derivatives of its optimum.

Holding every whole-lot purchase and every yes/no decision (orders, onboarding, counted
vendors, price tiers) as a plan has them, procure's model is a linear program in what is
left: vendor compute, the workload split, tier units, take-or-pay, shortfalls, CVaR and the
HHI terms.  Its optimum is the plan's objective.  `FixedPlan` builds that LP through the one
formulation (`procure.core.pipeline.Pipeline.build`), with a tangent cut at each of the plan's exact
vendor shares so that its HHI is the plan's, solves it (through `procure.solvers.lp_basis`,
which keeps the LP's basis) and answers how fast its
optimum moves:

- `FixedPlan.change` turns a change of the problem (a field moved a small step each way) into
  the change of the LP's row bounds per unit, coefficient changes folded in at the plan.  It
  builds the changed problem's model and compares arrays: there is no second copy of the math;
- `FixedPlan.slope` gives the one-sided derivatives of the optimum along such a change: the
  largest and smallest ``δ·y`` over the *optimal dual face* (the duals ``y`` that satisfy
  complementary slackness with the LP's solution).  Where duals are unique that is the dual
  value; where they are not — a binding cap that only purchases use, CVaR at its value-at-risk,
  a take-or-pay that meets a budget — it is still the exact rate in each direction, and
  ``inf`` when the fixed purchases cannot meet the change at all;
- `FixedPlan.column_slope` does the same for raising the bound of one fixed column (one more
  lot of an offer).

The derivatives are computed in procure's scaled form (`procure.model.scaling`: rows and
columns scaled by powers of two, the objective by a power of two) and converted back:
a model dual is ``y_scaled · row_scale / obj_scale``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..base.errors import ProblemError
from ..core.pipeline import Pipeline
from ..model.bounds import first_bounds
from ..model.build import BuiltModel, Extra
from ..model.held import Held
from ..model.linear import LinearModel
from ..model.risk import hhi_cut_rows
from ..model.sets import model_data
from ..problem.evaluate import OptionPlan, evaluate
from ..problem.format import Problem
from ..solvers.base import SolveOptions, get_adapter
from ..solvers.lp_basis import BasisSolution, ResolvableLp, solve_with_basis

__all__ = ["Change", "FixedPlan", "StructureChanged"]

#: Relative distance (in procure's scaled units) within which a row or a column the basis keeps
#: basic still counts as at its bound, for complementary slackness: the round-off of a solution
#: whose values the fixed purchases determine, far below any real slack.
ACTIVE_TOL = 1e-9
#: The adapter that settles the plan's yes/no decisions before its LP: the one whose LP engine
#: (`procure.solvers.lp_basis`) keeps the basis, so both see the same numbers.
LP_SOLVER = "highs"


class StructureChanged(Exception):
    """The changed problem's model has other rows or columns than the plan's: no derivative."""


@dataclass(frozen=True)
class Change:
    """A change of the fixed LP per unit of a parameter: of each row's lower and upper bound
    (a coefficient change folded in at the plan: ``Δbound − ΔA·x``), and of the objective at the
    plan (cost and constant changes)."""

    lower: np.ndarray
    upper: np.ndarray
    constant: float = 0.0

    def only(self, rows: np.ndarray) -> Change:
        """The part of this change on the rows where ``rows`` is true."""
        return Change(np.where(rows, self.lower, 0.0), np.where(rows, self.upper, 0.0), 0.0)


@dataclass(frozen=True)
class _Arrays:
    """What a derivative compares between two builds of a model."""

    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    offset: float
    shape: tuple[tuple[str, int], ...]  # (name, size) of every column and row block
    cvar_unit: float

    @classmethod
    def of(cls, built: BuiltModel) -> _Arrays:
        m = built.model
        shape = tuple((f"c:{b.name}", len(b.index)) for b in m.columns) + tuple(
            (f"r:{b.name}", len(b.index)) for b in m.rows
        )
        unit = built.cvar.unit if built.cvar is not None else math.nan
        return cls(
            m.A.tocsr().copy(),
            m.row_lower.copy(),
            m.row_upper.copy(),
            m.col_lower.copy(),
            m.col_upper.copy(),
            m.cost.copy(),
            float(m.offset),
            shape,
            unit,
        )


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a − b`` for bounds, 0 where both are the same infinity; `StructureChanged` where only one
    is infinite (a cap that appears or vanishes)."""
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    if (np.isinf(a) != np.isinf(b)).any():
        raise StructureChanged("a bound appears or vanishes")
    with np.errstate(invalid="ignore"):
        return np.where(same_inf, 0.0, a - b)


class FixedPlan:
    """The LP of ``problem`` with the plan's whole lots (``placed``, (P, T) units per placement)
    and yes/no decisions fixed, solved by HiGHS.

    Parameters
    ----------
    problem : Problem
        The problem the plan is for (the plan must satisfy it).
    placed : numpy.ndarray
        (P, T) units bought per placement and period (whole lots).
    extra : callable, optional
        The caller's rows (``solve(..., extra=fn)``), built into every model.
    threads, time_limit : optional
        For the two HiGHS solves (binaries with lots fixed, then the LP).

    Attributes
    ----------
    x : numpy.ndarray
        The LP's solution, model units.
    objective : float
        The LP's optimum (the plan's objective).
    duals : numpy.ndarray or None
        HiGHS's row duals (one point of the optimal dual face), model units.
    """

    def __init__(
        self,
        problem: Problem,
        placed: np.ndarray,
        *,
        built_gw: np.ndarray | None = None,
        options: OptionPlan | None = None,
        extra: Extra | None = None,
        threads: int | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.problem = problem
        self.data = data = model_data(problem)
        lots = np.round(np.asarray(placed, dtype=float) / data.lot_p[:, None])
        first, _ = first_bounds(data)
        # lot bounds are the big-M of the indicator rows (an order placed, a vendor onboarded) and
        # limit the top price tier: room beyond the plan keeps them from stopping a marginal lot
        # that the problem allows (only the plan's lots are fixed; the bounds themselves are not)
        most = np.maximum(first, lots)
        self.upper = np.where(np.isfinite(most), 2 * most + 1, most)
        solve = SolveOptions(mip_gap=0.0, threads=threads, time_limit=time_limit)
        self._pipeline = Pipeline(get_adapter(LP_SOLVER), solve, extra=extra)
        ev = evaluate(problem, lots * data.lot_p[:, None])
        self._tangents = self._tangent_points(ev.compute_by_vendor)
        self.built = built = self.build(problem)
        self.base = _Arrays.of(built)
        m = built.model
        O, (P, T) = data.n_options, lots.shape
        reserved, exercised = options if options is not None else (np.zeros(O), np.zeros((O, P, T)))
        # every purchase, reservation and exercise of the plan is held (continuous GW stay free)
        Held(T, lots * data.lot_p[:, None], None, np.asarray(reserved, float), np.asarray(exercised, float)).hold(
            m, built.handles, data
        )
        builds = built.handles.builds
        if builds is not None and built_gw is not None:  # whole blocks are integers of the plan too
            blocks = np.isfinite(data.build_block)[:, None] & (builds.cols >= 0)
            count = np.round(np.asarray(built_gw, dtype=float) / builds.gw[:, None])[blocks]
            m.set_col_bounds(builds.cols[blocks], count, count)
        solved = self._solve(m, solve)
        self.x, self.duals = solved.x, solved.duals
        self.objective = m.objective_value(self.x)
        self.fixed = m.col_lower == m.col_upper
        self.row_period = _row_periods(m)
        self._face = _Face(solved, self.fixed)

    # ----------------------------------------------------------------- building

    def _tangent_points(self, compute_by_vendor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Members (vendor, position among the periods with demand) and the plan's exact shares:
        a tangent there makes the LP's HHI term the plan's own (not the cuts' under-estimate)."""
        data = self.data
        periods = np.flatnonzero(data.demand > 0)
        risk = self.problem.risk
        if not (risk.hhi_weight > 0 or risk.max_hhi is not None) or not periods.size:
            return None
        V = data.n_vendors
        v, p = (a.ravel() for a in np.meshgrid(np.arange(V), np.arange(len(periods)), indexing="ij"))
        return v, p, compute_by_vendor[v, periods[p]] / data.demand[periods[p]]

    def build(self, problem: Problem) -> BuiltModel:
        """``problem``'s model through the one formulation, with this plan's lot bounds and its
        exact-share HHI tangents (at the same shares, whatever the demand of ``problem``)."""
        data = self.data if problem is self.problem else model_data(problem)
        built = self._pipeline.build(data, self.upper)
        if built.hhi is not None and self._tangents is not None:
            if not np.array_equal(built.hhi.periods, np.flatnonzero(self.data.demand > 0)):
                raise StructureChanged("the periods with demand changed")
            v, p, at = self._tangents
            index, row, col, val, lower = hhi_cut_rows(data, built.hhi, built.compute, v, p, at)
            built.model.add_rows("hhi_cut", index, row, col, val, lower=lower, unit="share²", definition=True)
        return built

    @staticmethod
    def _solve(m: LinearModel, options: SolveOptions) -> BasisSolution:
        """Binaries consistent with the fixed lots (a MIP in them alone, through the adapter), then
        the LP with every integer column fixed, in a HiGHS of its own so that its basis is kept."""
        ints = np.flatnonzero(m.integrality)
        raw = get_adapter(LP_SOLVER).solve(m, options)
        if not raw.has_plan or raw.x is None:
            raise ProblemError(f"the plan does not fit its own model with its lots fixed ({raw.status}: {raw.message})")
        values = np.round(raw.x[ints])
        m.set_col_bounds(ints, values, values)
        m.integrality = np.zeros(m.num_cols, dtype=bool)
        return solve_with_basis(m, options)

    # ----------------------------------------------------------------- derivatives

    def change(self, plus: Problem | None, minus: Problem | None, step: np.ndarray | float) -> Change:
        """The change of the LP per unit of a parameter, from ``plus`` (the problem with the
        parameter ``step⁺`` higher) and ``minus`` (``step⁻`` lower; None: that side is the plan's
        own problem), by differences of the two models' arrays (central when both are given).

        ``step`` is the distance between the two problems: a number, or one per row (a field
        changed in every period at once, each period by its own step).  Raises `StructureChanged`
        when a model has other rows or columns than the plan's."""
        high = self.base if plus is None else _Arrays.of(self.build(plus))
        low = self.base if minus is None else _Arrays.of(self.build(minus))
        for other in (high, low):
            if other.shape != self.base.shape or not _same_unit(other.cvar_unit, self.base.cvar_unit):
                raise StructureChanged("the model's blocks changed")
            free = ~self.fixed
            col_moved = (np.abs(_difference(other.col_lower, self.base.col_lower)) > 0) | (
                np.abs(_difference(other.col_upper, self.base.col_upper)) > 0
            )
            if (col_moved & free).any():
                raise StructureChanged("a column bound changed")
        width = np.broadcast_to(np.asarray(step, dtype=float), high.row_lower.shape)
        dA = (high.A - low.A) @ self.x
        d_lower = np.where(np.isfinite(self.base.row_lower), _difference(high.row_lower, low.row_lower) - dA, 0.0)
        d_upper = np.where(np.isfinite(self.base.row_upper), _difference(high.row_upper, low.row_upper) - dA, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.where(d_lower != 0, d_lower / width, 0.0)
            upper = np.where(d_upper != 0, d_upper / width, 0.0)
        if np.isnan(lower).any() or np.isnan(upper).any():
            raise StructureChanged("a row without a step of its own changed")
        constant = float((high.cost - low.cost) @ self.x + high.offset - low.offset)
        if constant != 0.0:
            if np.ndim(step) != 0:
                raise StructureChanged("the objective's constant changed with a per-period step")
            constant /= float(step)
        return Change(lower, upper, constant)

    @property
    def exact(self) -> bool:
        """False once a derivative fell back on HiGHS's single dual point (see `_Face`)."""
        return self._face.exact

    def slope(self, change: Change) -> tuple[float, float]:
        """One-sided derivatives of the optimum along ``change``: (rate as the parameter rises,
        rate as it falls), each the objective's change per unit moved (``inf``: the fixed
        purchases cannot follow that way)."""
        up, down = self._face.extremes(change)
        return up + change.constant, down - change.constant

    def column_slope(self, column: int, *, ignore_rows: np.ndarray | None = None) -> float:
        """The objective's rate of change as column ``column``'s (fixed) value rises, all else
        held (``inf`` when a binding row stops it); rows ``ignore_rows`` are left out (the
        requirement whose relaxation is asked about)."""
        return self._face.column_rate(column, ignore_rows)


def _same_unit(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _row_periods(m: LinearModel) -> np.ndarray:
    """(rows,) the period label of each row (a sentinel for rows without one)."""
    out = np.full(m.num_rows, np.iinfo(np.int64).min, dtype=np.int64)
    for block in m.rows:
        if "period" in block.index.dims:
            d = block.index.dims.index("period")
            labels = np.asarray(block.index.labels[d], dtype=np.int64)
            out[block.start : block.stop] = labels[block.index.keys[:, d]]
    return out


#: The periods of rows without one.
NO_PERIOD = np.iinfo(np.int64).min


class _Face:
    """The optimal dual face of the fixed LP as an LP of its own, in procure's scaled units.

    Variables: a dual ``y⁺ ≥ 0`` for every row at its lower bound and ``y⁻ ≤ 0`` for every row
    at its upper bound; constraints: for every column not fixed, its reduced cost
    ``c − Aᵀy`` is 0 between its bounds, ≥ 0 at its lower bound, ≤ 0 at its upper bound (fixed
    columns take any reduced cost).  Each query changes the objective and re-solves warm."""

    def __init__(self, solved: BasisSolution, fixed: np.ndarray) -> None:
        form = solved.form
        self.form = form
        m = form.model
        rs, cs = form.row_scale, form.col_scale
        activity = (m.A @ solved.x) * rs
        lower, upper = form.row_lower, form.row_upper

        def near(a: np.ndarray, bound: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore"):
                return np.isfinite(bound) & (np.abs(a - bound) <= ACTIVE_TOL * (1.0 + np.abs(bound)))

        # at a bound: where HiGHS's basis holds it there, or where the solution sits on it (a
        # degenerate basis keeps some of those basic; they too can take a dual)
        used = np.diff(form.A.tocsr().indptr) > 0  # a row without terms constrains nothing
        low_rows = np.isfinite(lower) & (solved.rows_at[0] | near(activity, lower))
        high_rows = np.isfinite(upper) & (solved.rows_at[1] | near(activity, upper))
        equal = np.isfinite(lower) & (lower == upper) & (low_rows | high_rows)  # an equality: both sides
        self.rows_low = np.flatnonzero(used & (low_rows | equal))
        self.rows_high = np.flatnonzero(used & (high_rows | equal))
        xs = solved.x / cs
        at_low = np.isfinite(form.col_lower) & (solved.cols_at[0] | near(xs, form.col_lower))
        at_high = np.isfinite(form.col_upper) & (solved.cols_at[1] | near(xs, form.col_upper))
        cols = np.flatnonzero(~fixed & ~(at_low & at_high))
        self.cols = cols
        A = form.A.tocsr()
        B = sp.vstack([A[self.rows_low], A[self.rows_high]]).tocsc()[:, cols]  # (duals, columns)
        self.B = B
        c = form.cost[cols]
        row_low = np.where(at_high[cols] & ~at_low[cols], c, np.where(at_low[cols], -np.inf, c))
        row_high = np.where(at_low[cols] & ~at_high[cols], c, np.where(at_high[cols], np.inf, c))
        n_low, n_high = len(self.rows_low), len(self.rows_high)
        self.n = n_low + n_high
        var_lower = np.concatenate([np.zeros(n_low), np.full(n_high, -np.inf)])
        var_upper = np.concatenate([np.full(n_low, np.inf), np.zeros(n_high)])
        self.var_lower, self.var_upper = var_lower, var_upper
        self.duals = solved.duals
        self.exact = True  # False once a query had to fall back on HiGHS's one dual point
        self._lp = ResolvableLp(B.T.tocsc(), var_lower, var_upper, row_low, row_high) if self.n else None

    def _optimize(self, cost: np.ndarray, sense: int) -> float:
        assert self._lp is not None
        return self._lp.optimum(cost, sense)

    def _variables(self, per_row_low: np.ndarray, per_row_high: np.ndarray) -> np.ndarray:
        return np.concatenate([per_row_low[self.rows_low], per_row_high[self.rows_high]])

    def extremes(self, change: Change) -> tuple[float, float]:
        """(max, −min) of ``change · y`` over the face, model units: the rates of the optimum as
        the parameter rises and falls."""
        rs, scale = self.form.row_scale, self.form.obj_scale
        cost = self._variables(change.lower * rs, change.upper * rs)
        if not np.any(cost):
            return 0.0, 0.0
        if self._lp is None:  # no row at a bound: the face is the origin
            return 0.0, 0.0
        high = self._optimize(cost, -1)
        low = self._optimize(cost, 1)
        if math.isnan(high) or math.isnan(low):
            return self._fallback(change)
        return high / scale, -low / scale

    def _fallback(self, change: Change) -> tuple[float, float]:
        """HiGHS's own dual point for both directions (when the face LP came out empty)."""
        self.exact = False
        if self.duals is None:
            return math.nan, math.nan
        y = self.duals
        value = float(np.where(y > 0, change.lower, change.upper) @ y)
        return value, -value

    def column_rate(self, column: int, ignore_rows: np.ndarray | None) -> float:
        """Model units: the largest reduced cost of fixed column ``column`` over the face; the
        objective's right-derivative in its value is its positive part, and a negative value
        means that more of it would pay (by that much per unit)."""
        form = self.form
        a = np.asarray(form.A[:, column].todense()).ravel()
        per_row = np.concatenate([a[self.rows_low], a[self.rows_high]])
        c = float(form.cost[column])
        scale = form.obj_scale * float(form.col_scale[column])
        if self._lp is None:
            return c / scale
        held = np.zeros(0, dtype=np.int64)
        if ignore_rows is not None and ignore_rows.size:
            mine = np.concatenate([np.isin(self.rows_low, ignore_rows), np.isin(self.rows_high, ignore_rows)])
            held = np.flatnonzero(mine)
        if held.size:
            self._lp.hold(held)
        try:
            low = self._optimize(per_row, 1)  # reduced cost c − a·y is largest where a·y is least
        finally:
            if held.size:
                self._lp.release(held)
        if math.isnan(low):
            self.exact = False
            if self.duals is None:
                return math.nan
            model_a = np.asarray(self.form.model.A[:, column].todense()).ravel()
            return float(self.form.model.cost[column] - model_a @ self.duals)
        return (c - low) / scale
