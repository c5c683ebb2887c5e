"""Shadow prices of a plan (integers fixed) and the honest finite answer by re-solving.

`sensitivity(result)` holds every purchase of the plan — its whole lots and its yes/no
decisions — and asks the linear program that is left (`procure.analysis.duals.FixedPlan`) how fast the
objective moves as each requirement moves: power caps (overall and per site), budgets, demand,
supply, share caps, contract terms and risk caps.  Prices are in business units ($ per MW of
power cap, $ per $ of budget, $ per unit of compute, $ per unit of supply, $ per percentage
point of a share cap) and come both ways: what relaxing a requirement by one unit saves, and
what tightening it by one unit costs.  They are *local*: they hold only for changes small
enough not to change any purchase.

`marginal_value(result, changes)` gives the finite answer, purchases free to change: the
changed problem solved again (`procure.resolve`), with the change in the optimum bracketed by
the bounds both solves proved.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.errors import ProblemError
from ..base.fmt import money
from ..base.hooks import provide
from ..core.re_solve import checked_options, keep_model, kept_model, minus, optimum, pipeline_for, resolve, start_lots
from ..core.result import Outcome, Result
from ..problem.evaluate import PlanEvaluation
from ..problem.fields import get_value, set_value
from ..problem.format import Problem
from ..problem.rules import RULES
from .duals import NO_PERIOD, Change, FixedPlan, StructureChanged

__all__ = ["KINDS", "MarginalValue", "Sensitivity", "marginal_value", "sensitivity"]

#: The views of a `Sensitivity`, in the order its table lists them.
KINDS = ("compute", "power", "budget", "supply", "shares", "contracts", "risk")

#: Relative step of the differences that turn a change of a field into a change of the model
#: (exact for fields that enter linearly; central for HHI's 1/demand, an error near 1e-8).
STEP = 1e-4

NOTE = (
    "Local values, integers fixed: every purchase of the plan (whole lots, orders, onboarding, "
    "counted vendors, price tiers) is held as it is, so a price holds only for changes small "
    "enough not to change any purchase. shadow_price: how much the objective falls per unit a requirement is relaxed "
    "(a cap raised, a requirement lowered); tightening_cost: how much it rises per unit the "
    "requirement is tightened (inf: the plan's purchases cannot meet a tighter one). A binding "
    "cap with price 0 is worth something only if purchases change: ask "
    "result.marginal_value({path: amount}) for the re-solved answer."
)

COLUMNS = [
    "path",
    "kind",
    "period",
    "site",
    "vendor",
    "offer",
    "workload",
    "unit",
    "value",
    "used",
    "slack",
    "binding",
    "shadow_price",
    "tightening_cost",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Sensitivity:
    """Shadow prices of a plan, purchases held fixed (see `sensitivity`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per requirement (and period): ``path`` (as `procure.paths` names it, e.g.
        ``power_cap_gw[2027]``, ``sites[oregon].power_cap_gw[2027]``, ``budget[2026]``,
        ``total_budget``, ``demand[2028]``, ``offers[gb200].max_units[2027]``,
        ``vendors[nvidia].max_share[2027]``), ``kind`` (its view), ``period``, ``site``,
        ``vendor``, ``offer``, ``workload`` (where relevant), ``unit`` (of ``value``, ``used``,
        ``slack``; prices are $ per that unit), ``value`` (the requirement), ``used`` (the
        plan's amount), ``slack`` (room left before it binds, ≥ 0 for a met requirement),
        ``binding``, ``shadow_price`` ($ the objective falls per unit of relaxation),
        ``tightening_cost`` ($ it rises per unit of tightening; inf when the plan's purchases
        cannot meet a tighter requirement).  Each access returns a new frame.  For a demand
        tree two columns lead: ``scenario`` (the path, or ``"(all paths)"`` for a field every
        path states alike, moved in every path at once) and ``probability``; each path's
        prices are weighted by its probability (`TREE_NOTE`).
    objective : float
        The plan's objective (the optimum of its LP with integers fixed).
    note : str
        What these values are and are not.
    exact : bool
        False when some price fell back on HiGHS's single dual point (a degenerate LP whose
        optimal dual face could not be recovered within tolerances): such a price may be
        one-sided.
    """

    rows: pd.DataFrame = field(repr=False)
    objective: float
    note: str = NOTE
    exact: bool = True

    @property
    def table(self) -> pd.DataFrame:
        """The long table (a copy)."""
        return self.rows.copy()

    def _view(self, kind: str) -> pd.DataFrame:
        return self.rows[self.rows["kind"] == kind].reset_index(drop=True)

    @property
    def power(self) -> pd.DataFrame:
        """Power caps, overall and per site, per period: $ per MW."""
        return self._view("power")

    @property
    def budget(self) -> pd.DataFrame:
        """Budgets per period and the total budget: $ per $ of budget."""
        return self._view("budget")

    @property
    def compute(self) -> pd.DataFrame:
        """Demand per period (or per workload and period): the marginal cost of compute, $ per
        compute unit."""
        return self._view("compute")

    @property
    def supply(self) -> pd.DataFrame:
        """Supply (``max_units``) per offer and period: $ per unit of supply."""
        return self._view("supply")

    @property
    def shares(self) -> pd.DataFrame:
        """Share caps per vendor (or ``risk.max_share``) and share floors (``min_share``), per
        period: $ per percentage point."""
        return self._view("shares")

    @property
    def contracts(self) -> pd.DataFrame:
        """Vendors' minimum (take-or-pay) and maximum spend ($ per $), and their compute
        allocations per period (``max_new_compute``, $ per compute unit)."""
        return self._view("contracts")

    @property
    def risk(self) -> pd.DataFrame:
        """Risk caps and rules: ``max_cvar`` ($ per $), ``max_hhi`` ($ per 0.01 of HHI),
        ``survive_vendor_loss`` and ``min_vendor_share`` ($ per percentage point of demand)."""
        return self._view("risk")

    @property
    def binding(self) -> pd.DataFrame:
        """The requirements the plan meets exactly (no slack)."""
        return self.rows[self.rows["binding"]].reset_index(drop=True)

    def summary(self, rows: int = 20) -> str:
        """A readable report: the binding requirements and every non-zero price."""
        t = self.rows
        lines = [
            f"shadow prices of the plan (objective {money(self.objective)}), purchases held fixed",
            "local values (integers fixed): they hold only for changes small enough not to change any purchase",
        ]
        if not self.exact:
            lines.append("some prices are one-sided: the LP is degenerate there (see the note)")
        priced = (t["shadow_price"].abs() > 0) | (t["tightening_cost"].abs() > 0)
        priced = priced & ~(t["binding"] & (t["shadow_price"] == 0) & np.isinf(t["tightening_cost"]))
        # prices first (the largest effect first), then what binds with purchases holding it
        effect = t["shadow_price"].abs().where(t["shadow_price"].abs() < np.inf, 0.0) * t["value"].abs()
        offered = ~((t["kind"] == "supply") & (t["value"] == 0))  # no supply at all is no decision
        shown = t.assign(_priced=priced, _effect=effect)[priced | (t["binding"] & offered)]
        shown = shown.sort_values(["_priced", "_effect"], ascending=False, kind="stable")
        if shown.empty:
            lines.append("no requirement binds and none has a price")
            return "\n".join(lines)
        text = shown.assign(
            slack=[_quantity(s, u) for s, u in zip(shown["slack"], shown["unit"])],
            relaxing=[_price(p, u) for p, u in zip(shown["shadow_price"], shown["unit"])],
            tightening=[_price(p, u) for p, u in zip(shown["tightening_cost"], shown["unit"])],
        )[["path", "slack", "binding", "relaxing", "tightening"]]
        lines.append("")
        lines.append(text.head(rows).to_string(index=False))
        if len(text) > rows:
            lines.append(f"… and {len(text) - rows} more (see .table)")
        lines.append("")
        lines.append(
            "relaxing: $ the objective falls per unit relaxed; tightening: $ it rises per unit tightened "
            "(inf: purchases would have to change; ask result.marginal_value)"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary(rows=10)


def _quantity(x: float, unit: str) -> str:
    return fmt.amount(x, unit) if math.isfinite(x) else "n/a"


def _price(x: float, unit: str) -> str:
    return f"{money(x)}/{unit}" if math.isfinite(x) else money(x)


@dataclass(frozen=True)
class MarginalValue:
    """What a finite change of the problem is worth, by solving the changed problem.

    Attributes
    ----------
    changes : mapping
        The changes as applied: path (with a period where one was meant) → amount added.
    base_objective, new_objective : float
        The optimal objective before (the result's) and after the change (inf: no plan).
    change : float
        ``new_objective − base_objective`` (negative: the change saves money).
    low, high : float
        The change as proved: ``[new bound − base objective, new objective − base bound]``
        (±inf where a solve proved no bound).  Equal to ``change`` when both solves are exact.
    base_cost, new_cost, cost_change : float
        The same for the plans' cost (without risk terms).
    amount : float or None
        The amount added, for a single change (one path, one number); None otherwise.
    per_unit : float
        ``change / amount`` ($ of objective per unit added; NaN unless a single change).
    base_status, new_status : str
        Statuses of the two solves; ``base_gap``, ``new_gap`` their gaps.
    certain : bool
        Both solves proved their optimum exactly (``low == high``, up to round-off).
    note : str
        What the answer means, and how uncertain it is.
    result : Result
        The changed problem's result.
    """

    changes: Mapping[str, float]
    base_objective: float
    new_objective: float
    change: float
    low: float
    high: float
    base_cost: float
    new_cost: float
    cost_change: float
    amount: float | None
    per_unit: float
    base_status: str
    new_status: str
    base_gap: float
    new_gap: float
    certain: bool
    note: str
    result: Outcome = field(repr=False)

    def summary(self) -> str:
        """The answer in words."""
        what = ", ".join(f"{path} {fmt.field(path, amount, sign=True)}" for path, amount in self.changes.items())
        lines = [f"change: {what}"]
        if math.isfinite(self.change):
            lines.append(
                f"objective {money(self.base_objective)} → {money(self.new_objective)}: {_signed(self.change)}"
                + (
                    f" ({_signed(self.per_unit)} per unit of {next(iter(self.changes))})"
                    if math.isfinite(self.per_unit)
                    else ""
                )
            )
            lines.append(f"cost {money(self.base_cost)} → {money(self.new_cost)}: {_signed(self.cost_change)}")
        lines.append(self.note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _signed(x: float) -> str:
    return money(x, sign=True)


# --------------------------------------------------------------------------- the requirements


@dataclass
class _Entry:
    """One requirement (one period of it, where it has periods), before its price is known.
    ``value`` and ``used`` are in the field's own units; ``per`` field units make one unit of
    the table (GW per MW: 1e-3; a share per percentage point: 0.01)."""

    path: str
    kind: str
    relax: int  # +1: raising the value relaxes it (a cap); −1: lowering it does (a requirement)
    unit: str
    per: float
    value: float
    used: float
    period: int | None = None
    site: str = ""
    vendor: str = ""
    offer: str = ""
    workload: str = ""
    lot: float = 0.0  # supply: binding while another lot does not fit
    shadow: float = math.nan
    tighten: float = math.nan


@dataclass
class _Field:
    """A field of the problem whose small change prices its entries: ``periodic`` for a
    per-period value (each period moved by its own step at once), ``by_period`` when its rows
    carry periods (each entry priced on its period's rows); ``low``/``high`` its valid range."""

    path: str
    entries: list[_Entry]
    periodic: bool
    by_period: bool
    low: float = 0.0
    high: float = math.inf
    central: bool = False  # the model is not linear in it (HHI's 1/demand): step both ways


@dataclass
class _Collect:
    """The fields `_fields` gathers, and how each kind of field is stated."""

    problem: Problem
    ev: PlanEvaluation
    out: list[_Field] = field(default_factory=list)

    @property
    def hhi(self) -> bool:
        """HHI counts shares of demand: demand moves the model non-linearly."""
        risk = self.problem.risk
        return risk.hhi_weight > 0 or risk.max_hhi is not None

    def periodic(
        self, path: str, kind: str, relax: int, unit: str, per: float, value: Any, used: Any, **kw: Any
    ) -> None:
        entries = [
            _Entry(f"{path}[{p}]", kind, relax, unit, per, float(value[t]), float(used[t]), p, **kw)
            for t, p in enumerate(self.problem.periods)
        ]
        self.out.append(_Field(path, entries, True, True, central=self.hhi and kind == "compute"))

    def per_period_rows(
        self, path: str, kind: str, relax: int, unit: str, per: float, value: float, used: np.ndarray, **kw: Any
    ) -> None:
        entries = [  # one field for every period: the path stays the field's, the period is a column
            _Entry(path, kind, relax, unit, per, value, float(used[t]), p, **kw)
            for t, p in enumerate(self.problem.periods)
            if math.isfinite(used[t])
        ]
        if entries:
            self.out.append(_Field(path, entries, False, True, 0.0, 1.0))

    def scalar(self, path: str, kind: str, relax: int, unit: str, value: float, used: float, **kw: Any) -> None:
        self.out.append(_Field(path, [_Entry(path, kind, relax, unit, 1.0, value, used, **kw)], False, False))


def _fields(problem: Problem, ev: PlanEvaluation) -> list[_Field]:
    """Every requirement the problem states, with the plan's amounts (supply apart: its units
    are priced as bounds of the lots, `_supply_entries`), as each rule's record prices it."""
    f = _Collect(problem, ev)
    for record in RULES:
        for p in record.priced(problem, ev):
            labels = dict(p.labels)
            if p.shape == "periodic":
                f.periodic(p.path, p.group, p.relax, p.unit, p.per, p.value, p.used, **labels)
            elif p.shape == "rows":
                f.per_period_rows(p.path, p.group, p.relax, p.unit, p.per, p.value, p.used, **labels)
            else:
                f.scalar(p.path, p.group, p.relax, p.unit, p.value, p.used, **labels)
    return f.out


def _supply_entries(problem: Problem, ev: PlanEvaluation) -> list[_Entry]:
    inputs = problem.inputs
    out = []
    for i, name in enumerate(problem.offer_names):
        for t, p in enumerate(problem.periods):
            cap = inputs.max_units[i, t]
            if np.isfinite(cap):
                used = float(ev.purchases[i, t])
                out.append(
                    _Entry(
                        f"offers[{name}].max_units[{p}]",
                        "supply",
                        1,
                        "units",
                        1.0,
                        float(cap),
                        used,
                        p,
                        offer=name,
                        vendor=problem.offers[i].vendor,
                        lot=float(inputs.lot[i]),
                    )
                )
    return out


# --------------------------------------------------------------------------- pricing


def _stepped(problem: Problem, f: _Field, plus: bool, steps: np.ndarray) -> Problem | None:
    """``problem`` with field ``f`` moved by ``steps`` (one per entry) up or down; None when no
    entry moves or the moved value is not valid."""
    if not np.any(steps):
        return None
    data = problem.to_dict()
    sign = 1.0 if plus else -1.0
    try:
        if f.periodic:
            set_value(data, f.path, {e.period: e.value + sign * h for e, h in zip(f.entries, steps)})
        else:
            set_value(data, f.path, f.entries[0].value + sign * float(steps[0]))
        return Problem.from_dict(data)
    except ProblemError:
        return None


def _steps(f: _Field) -> tuple[np.ndarray, np.ndarray]:
    """Steps up and down for each entry: relative to the value (and to the field's largest value,
    so that a zero moves too), 0 where the move would leave the field's range."""
    values = np.array([e.value for e in f.entries], dtype=float)
    size = STEP * np.maximum.reduce(
        [np.abs(values), np.full_like(values, 1e-3 * np.abs(values).max(initial=0.0)), np.full_like(values, 1e-3)]
    )
    if not f.periodic:
        size = np.full_like(values, size.max(initial=0.0))
    up = np.where(values + size <= f.high, size, 0.0)
    down = np.where(values - size >= f.low, size, 0.0)
    if not f.central:  # the model is linear in the field: one side is exact, and one build
        down = np.where(up > 0, 0.0, down)
    return up, down


def _price_field(fixed: FixedPlan, problem: Problem, f: _Field) -> None:
    """Fill in each entry's shadow price and tightening cost (NaN where the model's structure
    changes with the field, so that no derivative exists)."""
    up, down = _steps(f)
    width = up + down
    if f.periodic:
        changes = _periodic_changes(fixed, problem, f, up, down)
    else:
        try:
            whole = fixed.change(_stepped(problem, f, True, up), _stepped(problem, f, False, down), float(width[0]))
        except StructureChanged:
            changes = [None] * len(f.entries)
        else:
            if f.by_period:
                changes = [whole.only(fixed.row_period == e.period) for e in f.entries]
            else:
                changes = [whole]
    for e, change, w in zip(f.entries, changes, width):
        if change is None or w <= 0:
            continue
        rise, fall = fixed.slope(change)
        relax, tighten = (rise, fall) if e.relax > 0 else (fall, rise)
        e.shadow, e.tighten = -relax * e.per, tighten * e.per


def _periodic_changes(
    fixed: FixedPlan, problem: Problem, f: _Field, up: np.ndarray, down: np.ndarray
) -> list[Change | None]:
    """Changes per period of a per-period field: every period moved at once (each value enters
    only its period's rows); one period at a time where that changes the model's structure."""
    periods = np.array([e.period for e in f.entries], dtype=np.int64)
    width = up + down
    row_width = np.full(len(fixed.row_period), np.nan)
    known = fixed.row_period != NO_PERIOD
    position = np.searchsorted(periods, fixed.row_period[known])
    position = np.clip(position, 0, len(periods) - 1)
    row_width[known] = np.where(periods[position] == fixed.row_period[known], width[position], np.nan)
    try:
        whole = fixed.change(_stepped(problem, f, True, up), _stepped(problem, f, False, down), row_width)
        return [whole.only(fixed.row_period == p) for p in periods]
    except StructureChanged:
        pass
    out: list[Change | None] = []
    for k in range(len(periods)):
        only = np.zeros(len(periods))
        only[k] = 1.0
        try:
            out.append(
                fixed.change(
                    _stepped(problem, f, True, up * only), _stepped(problem, f, False, down * only), float(width[k])
                )
            )
        except StructureChanged:
            out.append(None)
    return out


def _price_supply(fixed: FixedPlan, problem: Problem, entries: list[_Entry]) -> None:
    """Supply: where it binds (another lot does not fit), the most one more lot at any site
    would save, per unit (``−`` the largest reduced cost of its lots over the dual face, with the
    supply row itself left out)."""
    data, built = fixed.data, fixed.built
    block = built.model.row_block("supply")
    row_of: dict[tuple[int, int], int] = {}
    if block is not None:
        for k in range(len(block.index)):
            i, t = block.index.keys[k]
            row_of[(int(i), int(t))] = block.start + k
    period_at = {p: t for t, p in enumerate(problem.periods)}
    offer_at = {name: i for i, name in enumerate(problem.offer_names)}
    for e in entries:
        slack = e.value - e.used
        e.tighten = math.inf if slack < 1.0 - 1e-9 else 0.0
        if slack >= e.lot - 1e-9:
            e.shadow = 0.0
            continue
        i, t = offer_at[e.offer], period_at[int(e.period or 0)]
        ignore = np.array([row_of[(i, t)]]) if (i, t) in row_of else None
        best = 0.0
        for p in np.flatnonzero(data.offer_of == i):
            rate = fixed.column_slope(int(built.lots[p, t]), ignore_rows=ignore)
            if math.isfinite(rate):
                best = max(best, -rate / e.lot)
        e.shadow = best


def _table(entries: list[_Entry], objective: float) -> pd.DataFrame:
    rows = []
    for e in entries:
        value, used = e.value / e.per, e.used / e.per
        slack = e.relax * (value - used)
        scale = max(abs(value), abs(used), 1.0)
        binding = slack < e.lot - 1e-9 if e.kind == "supply" else slack <= 1e-9 * scale  # the plan's own numbers
        noise = 1e-9 * max(abs(objective), 1.0) / scale  # a price whose whole effect is round-off
        shadow = 0.0 if abs(e.shadow) <= noise else e.shadow
        tighten = 0.0 if abs(e.tighten) <= noise else e.tighten
        rows.append(
            {
                "path": e.path,
                "kind": e.kind,
                "period": e.period,
                "site": e.site,
                "vendor": e.vendor,
                "offer": e.offer,
                "workload": e.workload,
                "unit": e.unit,
                "value": value,
                "used": used,
                "slack": slack,
                "binding": bool(binding),
                "shadow_price": shadow,
                "tightening_cost": tighten,
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["period"] = table["period"].astype("Int64")
    table["binding"] = table["binding"].astype(bool)
    order = {kind: k for k, kind in enumerate(KINDS)}
    return table.sort_values("kind", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


@provide("sensitivity")
def sensitivity(result: Outcome, **solve_options: Any) -> Sensitivity:
    """Shadow prices of ``result``'s plan in business units, with its whole lots fixed.

    Every purchase of the plan — whole lots, orders, onboarding, the vendors counted toward
    ``min_vendors``, price tiers — is held as it is; what is left is a linear program (vendor
    compute, the workload split, take-or-pay, shortfalls, CVaR and HHI terms) whose optimum is
    the plan's objective.  For each requirement the problem states, its price is the rate at
    which that optimum moves as the requirement moves, each way, computed exactly over the LP's
    optimal dual face (so also where duals are not unique).  Prices are local: they hold only
    for changes small enough not to change any purchase.  A cap that only purchases use
    (power, budget, supply) is worth nothing with purchases fixed, even when it binds; what it
    is worth when purchases may change is `marginal_value`.

    Parameters
    ----------
    result : Result
        A result with a plan.
    **solve_options
        ``time_limit`` and ``threads`` for the LP solves (HiGHS, whatever solver found the
        plan); ``extra`` must be given again when the result was solved with rows of your own.
        The other options of `procure.solve` are accepted and not needed.

    Returns
    -------
    Sensitivity
        The long ``table`` and its views (``power``, ``budget``, ``compute``, ``supply``,
        ``shares``, ``contracts``, ``risk``), with a ``note`` on what they mean.

    Raises
    ------
    ProblemError
        If the result has no plan, or an option is unknown or invalid; for a demand tree
        whose paths are linked by more than its held purchases (``risk.scenario_cvar_weight``,
        power builds of any size).

    Examples
    --------
    >>> s = procure.solve(problem).sensitivity()        # doctest: +SKIP
    >>> s.power[["path", "slack", "binding", "shadow_price"]]   # doctest: +SKIP
    """
    if result.problem.demand_scenarios:
        return _tree_sensitivity(result, solve_options)
    started = time.perf_counter()
    _, options, extra = checked_options(result, solve_options, "sensitivity")
    ev = result.evaluation if isinstance(result, Result) else None
    if ev is None or not result.has_plan:
        raise ProblemError(f"sensitivity: the result has no plan to price (status {result.status!r})", path="status")
    problem = result.problem
    fixed = FixedPlan(
        problem,
        ev.placed,
        built_gw=ev.built,
        options=(ev.reserved, ev.exercised),
        extra=extra,
        threads=options.threads,
        time_limit=options.time_limit,
    )
    fields = _fields(problem, ev)
    supply = _supply_entries(problem, ev)
    out_of_time = False
    for f in fields:
        if options.time_limit is not None and time.perf_counter() - started > options.time_limit:
            out_of_time = True
            break
        _price_field(fixed, problem, f)
    if not out_of_time:
        _price_supply(fixed, problem, supply)
    entries = [e for f in fields for e in f.entries] + supply
    note = NOTE
    if out_of_time:
        note += " The time limit ran out before every price was computed (those are NaN)."
    if not math.isclose(fixed.objective, result.objective, rel_tol=1e-6, abs_tol=1e-6):
        note += (
            f" The LP's optimum ({fixed.objective:.10g}) differs from the plan's objective"
            f" ({result.objective:.10g}): the prices are those of the LP."
        )
    return Sensitivity(_table(entries, result.objective), result.objective, note, fixed.exact)


#: What a tree's prices are (`sensitivity` of a `TreeResult`).
TREE_NOTE = (
    "A demand tree: each path's requirements priced on its own plan (the tree's purchases held), each "
    "price weighted by the path's probability, so it is the change of the tree's expected objective per "
    "unit of that path's requirement. Rows of scenario '(all paths)': a field every path states alike, "
    "moved in every path at once (the sum of the paths' weighted prices). "
)
#: The ``scenario`` of a field moved in every path at once.
ALL_PATHS = "(all paths)"


def _tree_sensitivity(result: Any, solve_options: Mapping[str, Any]) -> Sensitivity:
    """`sensitivity` of a `TreeResult`: with every purchase held, the extensive form's LP is one LP
    per path (no decision links them), so its prices are the paths' prices weighted by their
    probabilities.  Refused where a decision or the objective links the paths."""
    problem = result.problem
    if problem.risk.scenario_cvar_weight > 0:
        raise ProblemError(
            "sensitivity: not available with risk.scenario_cvar_weight > 0: the CVaR of the paths' costs links "
            "the paths, so a price is not a probability-weighted sum of theirs (ask marginal_value instead)",
            path="risk.scenario_cvar_weight",
            value=problem.risk.scenario_cvar_weight,
        )
    builds = [problem.power_build, *(site.power_build for site in problem.sites)]
    if any(b is not None and b.block_gw is None for b in builds):
        raise ProblemError(
            "sensitivity: not available for a demand tree with power builds of any size (no block_gw): the GW "
            "built are continuous decisions shared by the paths that agree so far (ask marginal_value instead)",
            path="power_build",
        )
    tree = result.tree
    if tree is None or not result.has_plan:
        raise ProblemError(f"sensitivity: the result has no plan to price (status {result.status!r})", path="status")
    parts, exact = [], True
    for name, probability in zip(tree.names, np.asarray(tree.probability, dtype=float) / np.sum(tree.probability)):
        path = result.scenario_results[name].sensitivity(**solve_options)
        exact = exact and path.exact
        table = path.table
        table[["shadow_price", "tightening_cost"]] *= probability
        parts.append(table.assign(scenario=name, probability=probability))
    rows = pd.concat(parts, ignore_index=True)
    rows = pd.concat([rows, _every_path(rows, len(parts))], ignore_index=True)
    rows = rows[["scenario", "probability", *[c for c in rows.columns if c not in ("scenario", "probability")]]]
    return Sensitivity(rows, result.objective, TREE_NOTE + NOTE, exact)


def _every_path(rows: pd.DataFrame, n_paths: int) -> pd.DataFrame:
    """Rows of the fields every path states with the same value (demand apart: each path has its
    own), moved in every path at once: the sum of the paths' weighted prices."""
    keys = ["path", "period"]
    keyed = rows.assign(period=rows["period"].fillna(-1))
    same = keyed.groupby(keys, dropna=False).agg(
        n=("scenario", "nunique"), values=("value", "nunique"), kind=("kind", "first")
    )
    shared = same[(same["n"] == n_paths) & (same["values"] == 1) & (same["kind"] != "compute")].index
    if not len(shared):
        return rows.iloc[:0]
    picked = keyed.set_index(keys).loc[shared].reset_index()
    first = picked.groupby(keys, sort=False).first().reset_index()
    sums = picked.groupby(keys, sort=False)[["shadow_price", "tightening_cost"]].sum(min_count=1).reset_index()
    out = first.drop(columns=["shadow_price", "tightening_cost"]).merge(sums, on=keys)
    out["slack"] = picked.groupby(keys, sort=False)["slack"].min().to_numpy()
    out["binding"] = picked.groupby(keys, sort=False)["binding"].any().to_numpy()
    out["used"] = np.nan  # each path uses its own amount
    out["period"] = out["period"].where(out["period"] != -1)
    return out.assign(scenario=ALL_PATHS, probability=1.0)[rows.columns]


# --------------------------------------------------------------------------- finite changes


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _changed(problem: Problem, changes: Mapping[str, Any]) -> tuple[Problem, dict[str, float], float | None]:
    """``problem`` with each amount added to the field its path names; the changes applied
    (path with period → amount) and the amount of a single change."""
    if not isinstance(changes, Mapping) or not changes:
        raise ProblemError(
            "changes: give a mapping {path: amount added}, e.g. {'power_cap_gw[2027]': 0.1}",
            path="changes",
            value=changes,
        )
    data = problem.to_dict()
    periods = list(problem.periods)
    applied: dict[str, float] = {}
    single: float | None = None
    for path, amount in changes.items():
        current = get_value(data, path)
        if current is None:
            raise ProblemError(
                f"{path}: is not set, so there is nothing to add to (set the field itself instead)",
                path=str(path),
                value=amount,
            )
        if isinstance(amount, Mapping):
            by_period = _period_amounts(path, amount, periods)
            base = _per_period(path, current, periods)
            set_value(data, path, {p: base[p] + by_period.get(p, 0.0) for p in periods})
            applied.update({f"{path}[{p}]": a for p, a in by_period.items()})
            if len(changes) == 1 and len(by_period) == 1:
                single = next(iter(by_period.values()))
            continue
        if not _is_number(amount) or not math.isfinite(float(amount)):
            raise ProblemError(
                f"{path}: the amount to add must be a number, got {amount!r}", path=str(path), value=amount
            )
        if _is_number(current):
            set_value(data, path, float(current) + float(amount))
        elif isinstance(current, Mapping):
            base = _per_period(path, current, periods)
            set_value(data, path, {p: base[p] + float(amount) for p in periods})
        else:
            raise ProblemError(
                f"{path}: holds {current!r}, to which a number cannot be added", path=str(path), value=amount
            )
        applied[str(path)] = float(amount)
        if len(changes) == 1:
            single = float(amount)
    return Problem.from_dict(data), applied, single


def _period_amounts(path: str, amount: Mapping[Any, Any], periods: list[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for key, value in amount.items():
        try:
            period: int | None = int(str(key).strip())
        except ValueError:
            period = None
        if period is None or period not in periods:
            raise ProblemError(
                f"{path}: {key!r} is not a period of the problem (periods: {periods})", path=str(path), value=key
            )
        if not _is_number(value) or not math.isfinite(float(value)):
            raise ProblemError(
                f"{path}[{period}]: the amount to add must be a number, got {value!r}",
                path=f"{path}[{period}]",
                value=value,
            )
        out[period] = float(value)
    return out


def _per_period(path: str, current: Any, periods: list[int]) -> dict[int, float]:
    """A per-period value as {period: number} (one number spread over every period)."""
    if _is_number(current):
        return {p: float(current) for p in periods}
    if isinstance(current, Mapping):
        out = {}
        for key, value in current.items():
            try:
                period = int(str(key).strip())
            except ValueError:
                raise ProblemError(f"{path}: is not a per-period value", path=str(path)) from None
            out[period] = float(value)
        if set(out) == set(periods):
            return out
    raise ProblemError(f"{path}: is not a per-period value, so amounts per period cannot be added", path=str(path))


@provide("marginal_value")
def marginal_value(result: Outcome, changes: Mapping[str, Any], **solve_options: Any) -> MarginalValue:
    """The change in the optimum when ``changes`` are made to ``result``'s problem, by solving it.

    Parameters
    ----------
    result : Result
        The base: its problem, plan (the changed problem's solve starts from it when it is
        still a plan), objective and proved bound.
    changes : mapping
        Path → amount *added* to the field's current value: a number (added to every period
        of a per-period field), or a mapping ``{period: amount}`` for a per-period field;
        ``{"power_cap_gw": {"2027": 0.1}}`` and ``{"power_cap_gw[2027]": 0.1}`` are the same.
        Paths as in `procure.paths`; a field that is not set (no cap) cannot be added to.
    **solve_options
        As for `procure.solve` (default: the result's solver).

    Returns
    -------
    MarginalValue
        Base and new objective and cost, the change, and the interval the two solves prove
        for it; per unit for a single change.

    Raises
    ------
    ProblemError
        If a path or an amount is invalid, or the changed problem is.
    """
    pipeline = pipeline_for(result, solve_options, "marginal_value")
    problem, applied, single = _changed(result.problem, changes)
    # one model per result, kept between calls: each finite change is solved in it, warm
    new, state = resolve(pipeline, problem, start_lots(result, problem), kept_model(result, pipeline))
    keep_model(result, pipeline, state)
    base_obj, base_bound = optimum(result)
    new_obj, new_bound = optimum(new)
    # bounds never exceed objectives, so low ≤ change ≤ high; a missing bound leaves that side open
    change = minus(new_obj, base_obj)
    low = minus(new_bound, base_obj) if not math.isnan(new_bound) else -math.inf
    high = minus(new_obj, base_bound) if not math.isnan(base_bound) else math.inf
    if math.isnan(change):
        low = high = math.nan
    scale = max(abs(base_obj) if math.isfinite(base_obj) else 1.0, 1.0)
    certain = (math.isinf(change) and low == high == change) or (
        math.isfinite(low) and math.isfinite(high) and high - low <= 1e-9 * scale
    )
    note = _marginal_note(result, new, change, low, high, certain)
    cost_change = minus(new.cost if new.has_plan else math.nan, result.cost if result.has_plan else math.nan)
    per_unit = change / single if single not in (None, 0.0) and math.isfinite(change) else math.nan
    return MarginalValue(
        changes=applied,
        base_objective=base_obj,
        new_objective=new_obj,
        change=change,
        low=low,
        high=high,
        base_cost=result.cost,
        new_cost=new.cost,
        cost_change=cost_change,
        amount=single,
        per_unit=per_unit,
        base_status=result.status,
        new_status=new.status,
        base_gap=result.gap,
        new_gap=new.gap,
        certain=certain,
        note=note,
        result=new,
    )


def _marginal_note(result: Outcome, new: Outcome, change: float, low: float, high: float, certain: bool) -> str:
    if not result.has_plan and not new.has_plan:
        return f"neither the problem nor the changed one has a plan ({result.status}, {new.status})"
    if not new.has_plan:
        return f"the changed problem has no plan ({new.status}: {new.message})"
    if not result.has_plan:
        return f"the change gives a plan where there was none ({result.status} → {new.status})"
    if certain:
        return "exact: both solves proved their optimum"
    return (
        f"uncertain within the solvers' gaps: the change lies in {fmt.money_interval(low, high, sign=True)} "
        f"(statuses {result.status}/{new.status}, gaps {fmt.gap(result.gap)}/{fmt.gap(new.gap)}); "
        "solve both with mip_gap=0 for an exact answer"
    )
