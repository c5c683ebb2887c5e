"""Judging a plan out of sample: its here-and-now decisions held, fresh demand paths solved for the rest.

A tree's plan is optimal for the paths of its tree; whether it is a good plan is a question about
the demand that will come.  `out_of_sample` answers it: every decision of the here-and-now
periods (units bought per placement, power builds, capacity options reserved then and exercised
then) is held at the plan's values, and each fresh demand path — thousands, drawn from a growth
model or given as a DataFrame — is solved for its best recourse over the remaining periods.  The
paths run through `procure.sweep` (one kept model per chunk of paths, demand numbers changed in
place, each solve warm from the last plan; chunks in parallel on a dask client), so the expected
cost comes with a 95% interval and the whole distribution of cost and unserved demand.

`compare` judges the tree's plan and the mean-forecast plan (the optimum of the mean demand path)
on the same paths, with the paired difference; `saa_gap` bounds the optimality gap of a plan
by sample-average approximation (a lower bound from independent sampled trees, an upper bound
from the plan's out-of-sample cost).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.errors import Interrupted, ProblemError
from ..base.hooks import provide, provided
from ..core.re_solve import checked_options
from ..core.result import Outcome, Result
from ..core.solve import solve
from ..problem.format import Problem, as_problem
from ..stochastic import tree_solve as stochastic
from ..stochastic.tree_result import TreeResult
from ..stochastic.tree_solve import mean_value_problem
from .sweep import sweep

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..model.build import Extra, Handles
    from ..model.linear import LinearModel
    from ..model.sets import ModelData
    from .sweep import Sweep

__all__ = ["Comparison", "Held", "OutOfSample", "SaaGap", "compare", "out_of_sample", "saa_gap"]

#: Confidence level of every interval.
LEVEL = 0.95
#: Quantiles of cost and unserved demand reported.
QUANTILES = (0.05, 0.5, 0.95)
#: Below this many paths with a plan the interval is flagged as rough.
FEW = 30
#: Statuses of a path with a plan.
PLANNED = ("optimal", "feasible")


# --------------------------------------------------------------------------- holding decisions


@dataclass(frozen=True, eq=False)
class Held(stochastic.Held):
    """The here-and-now decisions of a plan (`procure.stochastic.tree_solve.Held`), held in every model
    built with them: a build hook, ``extra=``, of `procure.solve` (it pickles, so dask workers
    build with it too), which adds the caller's own rows (``extra``) first."""

    extra: Extra | None = None

    def __call__(self, model: LinearModel, handles: Handles, data: ModelData) -> None:
        """Add the caller's rows, then fix the held columns' bounds at the plan's values.

        Parameters
        ----------
        model : LinearModel
            The model being built.
        handles : Handles
            Its decision blocks.
        data : ModelData
            The problem's arrays.
        """
        if self.extra is not None:
            self.extra(model, handles, data)
        self.hold(model, handles, data)

    def same_as(self, other: Held) -> bool:
        """Whether ``other`` holds the same decisions (and the same caller's rows).

        Parameters
        ----------
        other : Held
            The other decisions.

        Returns
        -------
        bool
        """
        mine = (self.placed, self.built, self.reserved, self.exercised)
        theirs = (other.placed, other.built, other.reserved, other.exercised)
        return (
            self.periods == other.periods
            and self.extra is other.extra
            and all(_equal(a, b) for a, b in zip(mine, theirs))
        )


def _equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _plan_of(result: Outcome) -> tuple[Result, int, Problem]:
    """The path result whose here-and-now decisions are held, how many periods they span, and the
    one-path problem the fresh paths change (the tree's, without its scenarios)."""
    if not result.has_plan:
        raise ProblemError(
            f"out_of_sample: the result has no plan to hold (status {result.status!r}: {result.message})",
            path="status",
            value=result.status,
        )
    if isinstance(result, TreeResult):
        tree = result.tree
        assert tree is not None
        return result.scenario_results[tree.names[0]], tree.here_and_now, tree.problems[0]
    assert isinstance(result, Result)
    return result, min(1, len(result.problem.periods)), result.problem


def held_decisions(plan: Result, periods: int, extra: Extra | None = None) -> Held:
    """The decisions ``plan`` makes in its first ``periods`` periods, as a `Held` build hook.

    Parameters
    ----------
    plan : Result
        A one-path result with a plan (a tree's path result, or a deterministic result).
    periods : int
        The leading periods to hold.
    extra : callable, optional
        The caller's own rows, kept in every model.

    Returns
    -------
    Held
        The hook that fixes those decisions.
    """
    ev = plan.evaluation
    assert ev is not None
    base = stochastic.held_from(ev, plan.problem.inputs.option_reserve_t, periods)
    return Held(base.periods, base.placed, base.built, base.reserved, base.exercised, extra)


# --------------------------------------------------------------------------- demand paths


def _period(label: Any) -> int:
    try:
        value = float(label)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value != int(value):
        raise ProblemError(f"paths: column {label!r} is not a period", path="paths", value=label)
    return int(value)


def _workloads(problem: Problem) -> list[str]:
    """The problem's workloads (those of its demand scenarios), or none."""
    if problem.workloads:
        return list(problem.workloads)
    if problem.demand_scenarios and problem.demand_scenarios[0].workloads:
        return list(problem.demand_scenarios[0].workloads)
    return []


def _demand_of(problem: Problem) -> np.ndarray:
    """(W or 1, T) the problem's demand (per workload when it has workloads)."""
    if problem.workloads:
        return np.array([list(v) for v in problem.workloads.values()], dtype=float)
    return np.array([list(problem.demand or ())], dtype=float)


def demand_paths(problem: Problem, paths: pd.DataFrame) -> np.ndarray:
    """(N, W or 1, T) demand of each path, read from a DataFrame whose rows are paths and whose
    columns are ``problem``'s periods, or (workload, period) pairs for a problem with workloads.

    Parameters
    ----------
    problem : Problem
        The problem the paths are of.
    paths : pandas.DataFrame
        One row per path.

    Returns
    -------
    numpy.ndarray
        The demand, periods in the problem's order.

    Raises
    ------
    ProblemError
        If a period (or workload) is missing or unknown, or a demand is negative or not finite.
    """
    if not isinstance(paths, pd.DataFrame):
        raise ProblemError(
            f"paths: expected a DataFrame (rows = paths, columns = periods), got {type(paths).__name__}",
            path="paths",
        )
    periods = list(problem.periods)
    workloads = _workloads(problem)
    multi = isinstance(paths.columns, pd.MultiIndex)
    if workloads and not multi:
        raise ProblemError(
            f"paths: the problem has workloads ({', '.join(workloads)}): give (workload, period) columns",
            path="paths",
        )
    if multi and (not workloads or paths.columns.nlevels != 2):
        raise ProblemError("paths: (workload, period) columns are for a problem with workloads", path="paths")
    columns = list(paths.columns)
    keys = [(str(c[0]), _period(c[1])) for c in columns] if multi else [("", _period(c)) for c in columns]
    wanted = [(w, p) for w in (workloads or [""]) for p in periods]
    position = {k: j for j, k in enumerate(keys)}
    missing = [k for k in wanted if k not in position]
    unknown = sorted(set(keys) - set(wanted))
    if missing or unknown or len(position) != len(keys):
        name = (lambda k: f"({k[0]}, {k[1]})") if multi else (lambda k: str(k[1]))
        what = (
            f"misses {', '.join(map(name, missing[:5]))}"
            if missing
            else f"has unknown columns {', '.join(map(name, unknown[:5]))}"
            if unknown
            else "repeats a column"
        )
        raise ProblemError(f"paths: the columns must be the problem's periods; the DataFrame {what}", path="paths")
    values = paths.to_numpy(dtype=float)[:, [position[k] for k in wanted]]
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ProblemError(
            f"paths: path {paths.index[row]!r} has a demand that is negative or not a number",
            path="paths",
            value=paths.index[row],
        )
    return values.reshape(len(paths), max(len(workloads), 1), len(periods))


def _changes(problem: Problem, demand: np.ndarray) -> list[dict[str, Any]]:
    """One sweep variant per path: its whole demand (or its workloads')."""
    periods = list(problem.periods)
    names = _workloads(problem)
    if names:
        return [{"workloads": {w: dict(zip(periods, row.tolist())) for w, row in zip(names, path)}} for path in demand]
    return [{"demand": dict(zip(periods, path[0].tolist()))} for path in demand]


# --------------------------------------------------------------------------- statistics


def mean_interval(values: Any, level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean of the finite ``values``, the ends of its Student-t confidence interval at ``level``
    (the normal approximation for many values), and how many values there were.

    Parameters
    ----------
    values : array-like
        The sample; NaN and infinities are left out.
    level : float
        Confidence level.

    Returns
    -------
    tuple of (float, float, float, int)
        ``(mean, low, high, n)``; NaN ends with fewer than two values.
    """
    from scipy.stats import t

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def _interval_text(low: float, high: float) -> str:
    return f"95% interval {fmt.money_interval(low, high)}" if math.isfinite(low) else "no interval (too few paths)"


# --------------------------------------------------------------------------- the answer


@dataclass(frozen=True, eq=False)  # its table is a DataFrame: compare tables, not results
class OutOfSample:
    """A plan judged on fresh demand paths (see `out_of_sample`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per path, indexed as the paths were: ``status`` (``optimal``/``feasible`` with
        a plan; ``infeasible`` when no recourse exists under the held decisions; ``error``,
        ``not run``), ``cost`` and ``objective`` of the path's plan (present value, NaN without
        a plan), ``unserved`` (compute-unit-periods of demand left unserved, summed over the
        periods), ``differs`` (the path's demand in the held periods is not the plan's),
        ``seconds`` and ``message``.
    held_periods : tuple of int
        The periods whose decisions were held.
    label : str
        Which plan this is (``"tree plan"``, ``"mean-forecast plan"``, ``"plan"``).
    unserved_penalty : float or None
        The penalty that priced unserved demand (None: demand was a must).
    seconds : float
        Wall time.
    """

    table: pd.DataFrame
    held_periods: tuple[int, ...]
    label: str
    unserved_penalty: float | None
    seconds: float

    def __len__(self) -> int:
        return len(self.table)

    @property
    def planned(self) -> pd.DataFrame:
        """The rows of the paths with a plan."""
        return self.table[self.table["status"].isin(PLANNED)]

    @property
    def n(self) -> int:
        """Paths with a plan: the sample behind every statistic."""
        return len(self.planned)

    def interval(self, column: str = "cost") -> tuple[float, float, float]:
        """``(mean, low, high)``: the mean of a column of `table` (``cost``, ``objective``,
        ``unserved``) over the paths with a plan, and its 95% confidence interval.

        Parameters
        ----------
        column : str
            The column.

        Returns
        -------
        tuple of (float, float, float)
        """
        return mean_interval(self.planned[column])[:3]

    @property
    def expected_cost(self) -> float:
        """Mean cost over the paths with a plan (infinite in truth when some path has none
        for want of a recourse: see `share_infeasible`)."""
        return self.interval()[0]

    @property
    def cost_interval(self) -> tuple[float, float, float]:
        """``(mean, low, high)``: the expected cost and its 95% confidence interval."""
        return self.interval()

    @property
    def expected_unserved(self) -> float:
        """Mean unserved demand (compute-unit-periods) over the paths with a plan."""
        return float(self.planned["unserved"].mean()) if self.n else math.nan

    @property
    def quantiles(self) -> pd.DataFrame:
        """The 5%, 50% and 95% quantiles of ``cost`` and ``unserved`` over the paths with a plan."""
        planned = self.planned[["cost", "unserved"]].astype(float)
        if planned.empty:
            return pd.DataFrame(math.nan, index=pd.Index(QUANTILES, name="quantile"), columns=["cost", "unserved"])
        out = planned.quantile(list(QUANTILES))
        out.index.name = "quantile"
        return out

    @property
    def share_without_plan(self) -> float:
        """Share of the paths without a plan (infeasible, failed or not run)."""
        return 1.0 - self.n / len(self) if len(self) else math.nan

    @property
    def share_infeasible(self) -> float:
        """Share of the paths with no recourse under the held decisions."""
        return float((self.table["status"] == "infeasible").mean()) if len(self) else math.nan

    def plot(self, ax: Any = None, *, bins: int | None = None) -> Figure:
        """Histogram of the paths' cost, the mean and median marked (matplotlib).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        bins : int, optional
            Histogram bins (default: from the number of paths).

        Returns
        -------
        matplotlib.figure.Figure
        """
        missing = len(self) - self.n
        note = f"; {fmt.count(missing)} without a plan" if missing else ""
        title = f"Out-of-sample cost of the {self.label} over {fmt.count(self.n)} paths{note}"
        figure = provided("sweep_plot")(cast("Sweep", self)).cost(ax, bins=bins, title=title)
        figure.axes[0].set_ylabel("paths")
        return figure

    def summary(self) -> str:
        """The expected cost with its interval, quantiles, unserved demand and paths without a plan."""
        mean, low, high = self.cost_interval
        held = ", ".join(map(str, self.held_periods)) or "none"
        lines = [
            f"{self.label} out of sample: {fmt.count(len(self))} paths, decisions of {held} held",
            f"  expected cost {fmt.money(mean)}, {_interval_text(low, high)} (n = {fmt.count(self.n)})",
        ]
        if 0 < self.n < FEW:
            lines.append(f"  few paths with a plan (under {FEW}): the interval is rough")
        q = self.quantiles
        cost, unserved = q["cost"].to_numpy(dtype=float), q["unserved"].to_numpy(dtype=float)
        lines.append("  cost quantiles " + ", ".join(f"{p:.0%} {fmt.money(c)}" for p, c in zip(QUANTILES, cost)))
        lines.append(
            f"  unserved demand (compute-periods): expected {fmt.count(self.expected_unserved)}, "
            + ", ".join(f"{p:.0%} {fmt.count(u)}" for p, u in zip(QUANTILES, unserved))
        )
        infeasible = self.share_infeasible
        lines.append(
            f"  without a plan: {fmt.share(self.share_without_plan)} of paths"
            + (f" ({fmt.share(infeasible)} infeasible under the held decisions)" if infeasible else "")
        )
        if infeasible and self.unserved_penalty is None:
            lines.append("  the plan has no recourse on some paths: unserved_penalty= prices the shortfall instead")
        differs = int(self.table["differs"].sum())
        if differs:
            whose = "path's" if differs == 1 else "paths'"
            lines.append(f"  {fmt.count(differs)} {whose} demand in the held periods is not the plan's (held anyway)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"OutOfSample({self.label}: {len(self)} paths, expected cost {fmt.money(self.expected_cost)}, "
            f"{fmt.share(self.share_without_plan)} without a plan)"
        )


def _table(sweep: Sweep, index: pd.Index, differs: np.ndarray) -> pd.DataFrame:
    """The per-path table of the sweep that solved the paths."""
    rows = sweep.table
    status = rows["status"].astype(str).to_numpy()
    unserved = np.array([float(r.unserved.sum()) if r is not None and r.has_plan else math.nan for r in sweep])
    unserved[~np.isin(status, PLANNED)] = math.nan
    message = rows["message"].astype(str).to_numpy().copy()
    message[status == "infeasible"] = "no plan satisfies every constraint with the here-and-now decisions held"
    table = pd.DataFrame(
        {
            "status": status,
            "cost": rows["cost"].to_numpy(dtype=float),
            "objective": rows["objective"].to_numpy(dtype=float),
            "unserved": unserved,
            "differs": differs,
            "seconds": rows["seconds"].to_numpy(dtype=float),
            "message": message,
        },
        index=index,
    )
    table.index.name = index.name or "path"
    return table


# --------------------------------------------------------------------------- out_of_sample


def _checked(result: Outcome, options: Mapping[str, Any], what: str) -> None:

    checked_options(result, options, what)


def _path_problem(problem: Problem, unserved_penalty: float | None) -> Problem:
    """``problem`` (one path) as the sweep's base, with ``unserved_penalty`` when given."""
    if unserved_penalty is None:
        return problem
    data = problem.to_dict()
    data["unserved_penalty"] = unserved_penalty
    return Problem.from_dict(data)


def _judge(
    base: Problem,
    held: Held,
    paths: pd.DataFrame,
    label: str,
    penalty: float | None,
    client: Any,
    progress: bool,
    chunk_size: int | None,
    options: Mapping[str, Any],
) -> OutOfSample:
    """Solve every path of ``paths`` on ``base`` with ``held`` decisions (the sweep machinery)."""

    started = time.perf_counter()
    demand = demand_paths(base, paths)
    H = held.periods
    early, planned = demand[:, :, :H], _demand_of(base)[None, :, :H]
    differs = (np.abs(early - planned) > 1e-9 * np.maximum(1.0, early)).any(axis=(1, 2))

    def answer(done: Sweep) -> OutOfSample:
        table = _table(done, paths.index, differs)
        return OutOfSample(table, tuple(base.periods[:H]), label, penalty, time.perf_counter() - started)

    try:
        done = sweep(
            base,
            _changes(base, demand),
            executor=client,
            progress=progress,
            chunk_size=chunk_size,
            explain=False,
            **{**options, "extra": held},
        )
    except Interrupted as stop:  # Ctrl-C: the paths solved so far, the rest "not run"
        raise Interrupted(answer(stop.result)) from None
    return answer(done)


@provide("out_of_sample")
def out_of_sample(
    result: Outcome,
    paths: pd.DataFrame,
    *,
    client: Any = None,
    unserved_penalty: float | None = None,
    time_limit: float | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
    **solve_options: Any,
) -> OutOfSample:
    """Judge ``result``'s plan on fresh demand paths: its here-and-now decisions held, every path
    solved for its best recourse.

    Parameters
    ----------
    result : TreeResult or Result
        A plan.  For a `TreeResult` the decisions of its `here_and_now_periods` (those made
        before the first branch) are held; for the `Result` of a problem without demand
        scenarios, those of its first period.  Held are the units bought per placement, the
        power builds, the capacity options reserved in those periods and the units exercised
        in them.
    paths : pandas.DataFrame
        One row per demand path; columns are the problem's periods (``2026`` or ``"2026"``),
        or (workload, period) pairs (a two-level column index) for a problem with workloads.
        A path's early periods should equal the plan's demand there; where they differ the
        decisions are held all the same (the ``differs`` column says which).
    client : distributed.Client, concurrent.futures.Executor, str, optional
        Where the chunks of paths run (as `procure.sweep`'s ``executor``): None in this process.
    unserved_penalty : float, optional
        Price demand left unserved at this $ per compute unit and period (as the problem's
        field of that name), so that every path has a plan.  Without it (and without one in
        the problem) a path whose demand the held decisions cannot meet has status
        ``"infeasible"``: the plan has no recourse there.
    time_limit : float, optional
        Seconds per path.
    progress : bool
        A tqdm bar on standard error (only at a terminal).
    chunk_size : int, optional
        Paths per chunk, each solved through one kept model (`procure.sweep`'s default).
    **solve_options
        ``solver``, ``mip_gap``, ``threads`` (default 1), ``verbose``, ``solver_options``,
        ``extra`` as for `procure.solve` (``extra`` must be given again when ``result`` was
        solved with it).

    Returns
    -------
    OutOfSample
        The per-path table, the expected cost with its 95% interval, the quantiles of cost and
        unserved demand and the share of paths without a plan.

    Raises
    ------
    ProblemError
        If the result has no plan, ``paths`` does not match the problem or an option is wrong.
    Interrupted
        On Ctrl-C, with the `OutOfSample` of the paths solved so far (the rest ``not run``).

    Notes
    -----
    Each path's problem is the plan's own (for a tree: without its demand scenarios), with the
    path's ``demand``; paths are solved by `procure.sweep` in chunks, each through one kept
    model whose demand numbers change in place and whose solves start from the last plan, so
    the table is the same on every executor.  The interval is Student's t on the paths with a
    plan (the normal approximation once there are some 30 of them).
    """
    _checked(result, {**solve_options, "time_limit": time_limit}, "out_of_sample")
    plan, H, problem = _plan_of(result)
    held = held_decisions(plan, H, solve_options.pop("extra", None))
    base = _path_problem(problem, unserved_penalty)
    label = "tree plan" if isinstance(result, TreeResult) else "plan"
    penalty = base.unserved_penalty
    options = {**solve_options, "time_limit": time_limit}
    return _judge(base, held, paths, label, penalty, client, progress, chunk_size, options)


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two plans judged on the same paths (see `compare`).

    Attributes
    ----------
    plan : OutOfSample
        The tree's plan.
    other : OutOfSample
        The plan it is compared with (by default the mean-forecast plan).
    """

    plan: OutOfSample
    other: OutOfSample

    @property
    def table(self) -> pd.DataFrame:
        """Per path: ``cost`` of each plan and ``difference`` (other's cost − the plan's; NaN
        where either has no plan)."""
        both = self.plan.table["status"].isin(PLANNED) & self.other.table["status"].isin(PLANNED)
        difference = (self.other.table["cost"] - self.plan.table["cost"]).where(both)
        return pd.DataFrame(
            {
                self.plan.label: self.plan.table["cost"],
                self.other.label: self.other.table["cost"],
                "difference": difference,
            }
        )

    @property
    def difference_interval(self) -> tuple[float, float, float]:
        """``(mean, low, high)``: the expected paired difference (what the plan saves over the
        other, per path) and its 95% interval, over the paths where both have a plan."""
        return mean_interval(self.table["difference"])[:3]

    @property
    def difference(self) -> float:
        """The expected saving of the plan over the other (positive: the plan is cheaper)."""
        return self.difference_interval[0]

    @property
    def n(self) -> int:
        """Paths where both plans have a plan."""
        return int(self.table["difference"].notna().sum())

    def summary(self) -> str:
        """Both plans' summaries and the paired difference."""
        mean, low, high = self.difference_interval
        return "\n".join(
            [
                self.plan.summary(),
                self.other.summary(),
                f"{self.other.label} − {self.plan.label}: {fmt.money(mean, sign=True)} per path, "
                f"{_interval_text(low, high)} (paired, n = {fmt.count(self.n)})",
            ]
        )

    def __str__(self) -> str:
        return self.summary()


def compare(
    result: TreeResult,
    paths: pd.DataFrame,
    *,
    against: Outcome | None = None,
    client: Any = None,
    unserved_penalty: float | None = None,
    time_limit: float | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
    **solve_options: Any,
) -> Comparison:
    """Judge a tree's plan and the mean-forecast plan on the same paths (`out_of_sample` of each).

    Parameters
    ----------
    result : TreeResult
        The tree's plan.
    paths : pandas.DataFrame
        The demand paths, as for `out_of_sample`.
    against : Result, optional
        The other plan, whose decisions in the tree's here-and-now periods are held (default:
        the optimum of the mean demand path, `procure.stochastic.tree_solve.mean_value_problem`, solved
        with ``solve_options``).
    client, unserved_penalty, time_limit, progress, chunk_size
        As for `out_of_sample`.
    **solve_options
        As for `out_of_sample` (the mean-forecast plan is solved with them too).

    Returns
    -------
    Comparison
        Both judgements and the paired difference of cost with its 95% interval.

    Raises
    ------
    ProblemError
        If ``result`` is not a tree's result with a plan, or the mean-forecast problem has none.
    """

    if not isinstance(result, TreeResult):
        raise ProblemError("compare: the result of a problem with demand_scenarios is needed", path="result")
    _checked(result, {**solve_options, "time_limit": time_limit}, "compare")
    plan, H, problem = _plan_of(result)
    label = "plan"
    if against is None:
        against = solve(mean_value_problem(result.problem), time_limit=time_limit, **solve_options)
        label = "mean-forecast plan"
        if not against.has_plan:
            raise ProblemError(
                f"compare: the mean demand path has no plan ({against.status}: {against.message})", path="result"
            )
    other, _, _ = _plan_of(against)
    extra = solve_options.pop("extra", None)
    base = _path_problem(problem, unserved_penalty)
    options = {**solve_options, "time_limit": time_limit}
    args = (base.unserved_penalty, client, progress, chunk_size, options)
    held, held_other = held_decisions(plan, H, extra), held_decisions(other, H, extra)
    mine = _judge(base, held, paths, "tree plan", *args)
    if held.same_as(held_other):  # the same decisions held: the same table, solved once
        return Comparison(mine, replace(mine, label=label))
    return Comparison(mine, _judge(base, held_other, paths, label, *args))


# --------------------------------------------------------------------------- SAA


@dataclass(frozen=True, eq=False)
class SaaGap:
    """A sample-average-approximation estimate of a plan's optimality gap (see `saa_gap`).

    Attributes
    ----------
    trees : tuple of float
        Each independent sampled tree's proved bound on its optimum.
    lower_interval : tuple of (float, float, float)
        ``(mean, low, high)``: the lower bound on the true optimum, with its 95% interval.
    upper_interval : tuple of (float, float, float)
        ``(mean, low, high)``: the plan's out-of-sample expected objective (an upper bound),
        with its 95% interval; infinite when some path has no recourse.
    out_of_sample : OutOfSample
        The candidate plan judged on the evaluation paths.
    candidate : Result
        The plan judged.
    """

    trees: tuple[float, ...]
    lower_interval: tuple[float, float, float]
    upper_interval: tuple[float, float, float]
    out_of_sample: OutOfSample
    candidate: Outcome

    @property
    def lower(self) -> float:
        return self.lower_interval[0]

    @property
    def upper(self) -> float:
        return self.upper_interval[0]

    @property
    def gap(self) -> float:
        """Upper minus lower bound: what the plan may cost above the best plan, in expectation."""
        return self.upper - self.lower

    @property
    def gap_interval(self) -> tuple[float, float, float]:
        """``(gap, low, high)``: the two bounds' half-widths added in quadrature (the samples are
        independent)."""
        (lo, lo_low, _), (up, up_low, _) = self.lower_interval, self.upper_interval
        gap = up - lo
        half = math.hypot(lo - lo_low, up - up_low) if math.isfinite(gap) else math.nan
        return gap, gap - half, gap + half

    def summary(self) -> str:
        """Both bounds and the gap, each with its interval."""
        lo, lo_low, lo_high = self.lower_interval
        up, up_low, up_high = self.upper_interval
        gap, low, high = self.gap_interval
        relative = gap / abs(up) if math.isfinite(gap) and up else math.nan
        return "\n".join(
            [
                f"SAA gap of the plan: {fmt.money(gap)} ({fmt.share(relative, 2)} of its cost), "
                f"{_interval_text(low, high)}",
                f"  lower bound {fmt.money(lo)}, {_interval_text(lo_low, lo_high)} "
                f"({fmt.count(len(self.trees))} sampled trees)",
                f"  upper bound {fmt.money(up)}, {_interval_text(up_low, up_high)} "
                f"({fmt.count(self.out_of_sample.n)} paths out of sample)",
            ]
        )

    def __str__(self) -> str:
        return self.summary()


def _sampled(sample: Callable[[int, int], pd.DataFrame], n: int, seed: int, what: str) -> pd.DataFrame:
    paths = sample(n, seed)
    if not isinstance(paths, pd.DataFrame) or len(paths) != n:
        raise ProblemError(f"saa_gap: sample({n}, {seed}) must give a DataFrame of {n} paths ({what})", path="sample")
    return paths


def _scenarios(problem: Problem, demand: np.ndarray) -> list[dict[str, Any]]:
    """The demand paths as ``demand_scenarios`` of equal probability."""
    n = len(demand)
    return [{"name": f"s{k}", "probability": 1.0 / n, **change} for k, change in enumerate(_changes(problem, demand))]


def saa_gap(
    problem: Problem | Mapping[str, Any] | str,
    sample: Callable[[int, int], pd.DataFrame],
    *,
    trees: int = 5,
    tree_paths: int = 20,
    paths: int = 1000,
    candidate: Outcome | None = None,
    seed: int = 0,
    client: Any = None,
    unserved_penalty: float | None = None,
    time_limit: float | None = None,
    progress: bool = True,
    **solve_options: Any,
) -> SaaGap:
    """Estimate a plan's optimality gap by sample-average approximation.

    ``trees`` independent trees of ``tree_paths`` sampled paths each (equal probabilities) are
    solved: the mean of their optima is a lower bound on the true optimum in expectation, with a
    Student-t interval.  The candidate plan (by default the first tree's) is judged out of sample
    on ``paths`` fresh paths: its expected objective is an upper bound, with its interval.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem; its demand (or demand scenarios) is replaced by sampled paths.
    sample : callable
        ``sample(n, seed)`` gives a DataFrame of ``n`` demand paths (as `out_of_sample` takes
        them), the same for the same seed.
    trees : int
        Independent sampled trees (at least 2).
    tree_paths : int
        Paths per tree.
    paths : int
        Paths to judge the candidate on.
    candidate : Result, optional
        The plan to bound (default: the first sampled tree's).
    seed : int
        Seeds every sample (the trees' and the evaluation's are independent).
    client, unserved_penalty, time_limit, progress
        As for `out_of_sample` (``unserved_penalty`` applies to the trees too).
    **solve_options
        As for `out_of_sample`, for the trees too.

    Returns
    -------
    SaaGap
        Both bounds and the gap, each with its 95% interval.

    Raises
    ------
    ProblemError
        If ``trees`` < 2, the problem prices the CVaR of its paths' costs (not an expectation:
        the bounds would not hold), a sampled tree has no plan, or an option is wrong.
    Interrupted
        On Ctrl-C: ``.result`` holds the sweep of the trees, or the `OutOfSample` of the
        candidate, so far.
    """

    if isinstance(trees, bool) or not isinstance(trees, int) or trees < 2:
        raise ProblemError(f"saa_gap: trees must be a whole number ≥ 2, got {trees!r}", path="trees", value=trees)
    shaped = as_problem(problem)
    data = shaped.to_dict()
    for key in ("demand", "workloads", "demand_scenarios"):
        data.pop(key, None)
    if unserved_penalty is not None:
        data["unserved_penalty"] = unserved_penalty
    if data.get("risk", {}).get("scenario_cvar_weight", 0):
        raise ProblemError(
            "saa_gap: the problem prices the CVaR of its paths' costs (risk.scenario_cvar_weight): "
            "not an expectation, so the bounds would not hold",
            path="risk.scenario_cvar_weight",
        )
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(trees + 1)]
    samples = [_sampled(sample, tree_paths, s, "a tree") for s in seeds[:trees]]
    variants = [{"demand_scenarios": _scenarios(shaped, demand_paths(shaped, p))} for p in samples]
    base = Problem.from_dict({**data, **variants[0]})
    solved = sweep(
        base, variants, executor=client, progress=progress, chunk_size=1, time_limit=time_limit, **solve_options
    )
    bounds = []
    for k, r in enumerate(solved):
        if r is None or not r.has_plan:
            status = solved.table["status"].iloc[k]
            raise ProblemError(f"saa_gap: sampled tree {k} has no plan ({status})", path="sample")
        bounds.append(r.bound if math.isfinite(r.bound) else r.objective)
    plan = candidate if candidate is not None else solved[0]
    evaluation = _sampled(sample, paths, seeds[-1], "the evaluation")
    judged = out_of_sample(
        plan,
        evaluation,
        client=client,
        unserved_penalty=unserved_penalty,
        time_limit=time_limit,
        progress=progress,
        **solve_options,
    )
    upper = judged.interval("objective") if not judged.share_infeasible else (math.inf, math.inf, math.inf)
    return SaaGap(tuple(bounds), mean_interval(bounds)[:3], upper, judged, plan)
