"""The HTML report of a result (`report`), and the compact views notebooks show
(`result_html`, `problem_html`).

A report is one self-contained file: inline CSS, plots embedded as base64 PNG, no script and
nothing fetched, so it opens offline in any browser and can be mailed as it is.  Every text is
escaped.  The first screen speaks to whoever buys: the verdict in plain words, the cost and its
parts, what to buy year by year, and budget, power and vendor shares against their limits; the
solver's details come folded below it.  Every number is shown through `procure.fmt`; tables
take the kind of each column from its header (`procure.report.tables`): dollars as ``$3.27B``,
shares as ``40.0%``, power as ``0.131 GW``, other numbers with thousands separators.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.fmt import money
from ..base.hooks import provide
from ..base.status import TERMINATIONS, Termination
from ..problem.rules import vendor_terms
from ..stochastic.tree_result import TreeResult
from . import tables
from .plot import COMPUTE_UNIT, share_caps

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..core.result import Outcome, Result
    from ..problem.format import Problem
    from ..stochastic.tree_result import TreeResult

__all__ = ["dollars", "number", "problem_html", "render_table", "report", "result_html", "verdict"]

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1a1a1a; line-height: 1.4; }
h1 { border-bottom: 3px solid #1f4e79; padding-bottom: .2em; }
h2 { color: #1f4e79; border-bottom: 1px solid #ccd; margin-top: 2em; }
h3 { color: #333; }
table.procure { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 13px; }
table.procure th, table.procure td { border: 1px solid #d6d9e0; padding: 3px 8px; }
table.procure th { background: #eef2f8; text-align: left; }
table.procure td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.procure tr.total td { font-weight: bold; background: #f6f7fa; }
.status { display: inline-block; padding: 2px 10px; border-radius: 4px; color: white; font-weight: bold; }
.status.optimal { background: #2e7d32; } .status.feasible { background: #f9a825; }
.status.infeasible, .status.unbounded, .status.error { background: #c62828; }
.ok { color: #2e7d32; font-weight: bold; } .bad { color: #c62828; font-weight: bold; }
.note { color: #555; font-size: 12px; }
img.plot { max-width: 100%; display: block; margin: .5em 0; }
details { margin: .5em 0; } summary { cursor: pointer; font-weight: bold; }
p.verdict { font-size: 17px; margin: .8em 0; } p.verdict .status { margin-right: .5em; }
details.solver { margin-top: 1.5em; color: #333; }
"""

Format = Callable[[Any], str]


# --------------------------------------------------------------------------- numbers and tables


def dollars(x: float) -> str:
    """Whole dollars with thousands separators: ``$163,072,160,357`` (``n/a`` when not finite)."""
    return ("-" if x < 0 else "") + f"${fmt.count(abs(x))}" if math.isfinite(x) else "n/a"


def _amount(x: float) -> str:
    """``$163B ($163,072,160,357)``; ``n/a`` when not finite."""
    return f"{fmt.money(x)} ({dollars(x)})" if math.isfinite(x) else "n/a"


def number(x: Any) -> str:
    """A table cell of no stated kind, through `procure.fmt`: ``yes``/``no`` for a truth value,
    thousands separators from 10,000 up (`procure.base.fmt.amount`), ``n/a`` for a missing number."""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, float, np.integer, np.floating)):
        return fmt.amount(float(x), "", named=False)
    return str(x)


def _kind(header: str) -> Format | None:
    """The formatter a column's header asks for (`procure.base.fmt.kind_of`: ``spend ($)`` money,
    ``(share)`` share, ``(GW)`` power, ``(units)`` count, ``HHI``…); None for the others."""
    kind = fmt.kind_of(header)
    return fmt.FORMATTERS[kind] if kind is not None else None


def render_table(
    df: pd.DataFrame,
    *,
    index: bool = True,
    formats: dict[str, Format] | None = None,
    total: bool | pd.Series = False,
    convert: bool = True,
) -> str:
    """``df`` as an escaped HTML table; ``convert`` formats each column as its header's unit
    asks (`procure.base.fmt.kind_of`: dollars as ``$3.27B``, shares as ``40.0%``, power as ``0.131 GW``,
    units with thousands separators), the others through `number`; ``total`` adds a row of
    column sums (or the totals given, as `procure.report.tables.total_row` makes them)."""
    own = {str(c): kind for c in df.columns if convert and (kind := _kind(str(c))) is not None}
    formats = {"period": str, **own, **(formats or {})}
    if total is not False and len(df):
        sums = total if isinstance(total, pd.Series) else df.select_dtypes("number").sum()
        totals = pd.DataFrame([sums], index=pd.Index(["total"], name=df.index.name))
        df = pd.concat([df.astype(object), totals.reindex(columns=df.columns).astype(object)])
    head = [html.escape(str(df.index.name or ""))] if index else []
    head += [html.escape(str(c)) for c in df.columns]
    lines = ['<table class="procure">', "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"]
    lines.append("<tbody>")
    for k, (label, row) in enumerate(df.iterrows()):
        is_total = total is not False and k == len(df) - 1
        cells = [f"<th>{html.escape(str(label))}</th>"] if index else []
        for column, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value) and is_total):
                cells.append("<td></td>")
                continue
            numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            text = formats.get(str(column), number)(value) if numeric else number(value)
            cells.append(f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        opening = '<tr class="total">' if is_total else "<tr>"
        lines.append(opening + "".join(cells) + "</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _pairs(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column key/value table of already formatted text."""
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="procure"><tbody>{body}</tbody></table>'


def _p(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _h(level: int, text: str) -> str:
    return f"<h{level}>{html.escape(text)}</h{level}>"


# --------------------------------------------------------------------------- plots


def _image(draw: Callable[[], Figure], alt: str) -> str:
    """A plot as an embedded PNG; a note instead when it cannot be drawn (no matplotlib)."""
    try:
        fig = draw()
    except ImportError as exc:
        return _p(f"({alt}: not drawn — {exc})", "note")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


# --------------------------------------------------------------------------- sections


#: Why a search stopped short of a proof, in plain words (other reasons are not named).
STOPPED = {
    "time_limit": "the search stopped at its time limit",
    "node_limit": "the search stopped at its node limit",
    "iteration_limit": "the search stopped at its iteration limit",
    "solution_limit": "the search stopped at its limit on plans found",
    "memory_limit": "the search ran out of memory",
    "interrupted": "the search was interrupted",
}
#: The parts of ``cost_breakdown`` as a reader names them.
PARTS = {
    "capex": "capex",
    "opex": "opex",
    "energy": "energy",
    "onboarding": "onboarding",
    "take_or_pay": "take-or-pay",
    "facility": "power builds",
    "unserved": "penalty for unserved demand",
}


def verdict(result: Outcome, violations: Sequence[str] = ()) -> str:
    """The result in one plain sentence: whether there is a plan, whether it meets every
    requirement (``violations``: what `Result.check` found), and how close to the best possible
    it is proved to be: "A plan that meets every requirement; proved within 0.01% of the best
    possible." """

    if not result.has_plan:
        if result.status == "infeasible":
            return "No plan meets every requirement: they conflict (why, and what would change it, below)."
        if result.status == "unbounded":
            return "No plan: the cost can fall without limit, so a price or a limit is missing."
        return "No plan: the solver failed before it found one."
    tree = result.tree if isinstance(result, TreeResult) else None
    paths = f" for each of the {fmt.count(tree.n_paths)} demand paths" if tree is not None else ""
    if violations:
        return f"A plan{paths} that breaks {fmt.count(len(violations))} requirement(s) when re-checked (see Check)."
    what = f"A plan{paths} that meets every requirement"
    unserved = float(np.nansum(result.unserved.to_numpy())) if tree is None else 0.0
    if unserved > 1e-9:
        short = fmt.amount(unserved, COMPUTE_UNIT)
        what = f"A plan that leaves {short} of demand unserved (paying its penalty) and meets every other requirement"
    g = result.gap
    if result.status == "optimal":
        # a gap of rounding error (1e-16) is none: no "within 1e-14%"
        how = "proved the best possible" if g <= 1e-9 else f"proved within {fmt.gap(g)} of the best possible"
    elif math.isfinite(g):
        how = f"not proved the best: it may cost up to {fmt.gap(g)} more than the best possible"
    else:
        how = "not proved the best: how far it is from the best possible is unknown"
    stopped = STOPPED.get(result.termination)
    return f"{what}; {how}" + (f" ({stopped})." if stopped and result.status != "optimal" else ".")


def _parts(breakdown: pd.Series) -> str:
    """``capex $15.8B, opex $4.13B, energy $902M``: the parts that are not zero."""
    return ", ".join(f"{PARTS.get(str(k), str(k))} {money(v)}" for k, v in breakdown.items() if abs(v) > 0)


def _budget_use(result: Result) -> str:
    """Capex paid against the budgets: over the horizon and in the tightest period."""
    p = result.problem
    ev = result.evaluation
    assert ev is not None
    paid = np.asarray(ev.paid, dtype=float)
    spent = float(paid.sum() + ev.take_or_pay.sum())
    out = [f"{money(spent)} paid (undiscounted)"]
    if p.total_budget is not None:
        out[0] += f" of the {money(p.total_budget)} total budget ({fmt.share(spent / p.total_budget)})"
    if p.budget is not None:
        budget = np.asarray(p.budget, dtype=float)
        use = np.divide(paid, budget, out=np.zeros_like(paid), where=budget > 0)
        t = int(np.argmax(use))
        out.append(f"at most {fmt.share(use[t])} of a year's budget ({p.periods[t]})")
    if p.total_budget is None and p.budget is None:
        out.append("no budget set")
    return "; ".join(out)


def _power_use(result: Result) -> str:
    """The peak facility power and how close it comes to its cap (each site's, with sites)."""
    table = tables.power_table(result)
    used = table["power (GW)"]
    out = [f"peak {fmt.power(used.max())} ({used.idxmax()})"]
    pairs = [("", "power (GW)", "power cap (GW)")]
    pairs += [(f"{site} ", f"{site} power (GW)", f"{site} cap (GW)") for site in result.problem.site_names]
    for name, power, cap in pairs:
        if cap in table.columns and np.isfinite(table[cap]).any():
            use = (table[power] / table[cap]).replace([np.inf, -np.inf], np.nan)
            if use.notna().any():
                out.append(f"{name}at most {fmt.share(use.max())} of the cap ({use.idxmax()})")
    if len(out) == 1:
        out.append("no cap")
    return "; ".join(out)


def _share_use(shares: pd.DataFrame, problem: Problem) -> str:
    """Each vendor's highest share of compute in any period, against its cap."""
    caps = share_caps(problem, shares.columns)
    peaks = shares.max()
    text = ", ".join(f"{v} {fmt.share(peaks[v])}" for v in peaks.sort_values(ascending=False).index)
    if not caps:
        return f"{text}; no cap"
    if len(set(caps.values())) == 1 and len(caps) == len(shares.columns):
        return f"{text}; cap {fmt.share(next(iter(caps.values())), None)} each"
    return f"{text}; caps " + ", ".join(f"{v} {fmt.share(c, None)}" for v, c in caps.items())


def _to_buy(result: Result) -> pd.DataFrame:
    """Units bought per period, one column per offer bought (named by vendor and offer, grouped
    by vendor), and their capex (undiscounted)."""
    p = result.problem
    bought = result.purchases
    order = sorted(p.offers, key=lambda o: p.vendor_names.index(o.vendor))
    table = pd.DataFrame(index=bought.index)
    for offer in order:
        if bought[offer.name].any():
            table[f"{offer.vendor}: {offer.name} (units)"] = bought[offer.name]
    table["capex ($)"] = result.spend.to_numpy()
    return table


def _limits(result: Result) -> pd.DataFrame:
    """Per period: what the budget caps (capex of chips and power builds) against it, power
    against its cap, each vendor's share."""
    periods = tables.periods_table(result)
    keep = [c for c in ("budget ($)", "power (GW)", "power cap (GW)") if c in periods.columns]
    table = periods[keep]
    ev = result.evaluation
    assert ev is not None
    paid = "capex and power builds ($)" if np.any(ev.facility_spend) else "capex ($)"
    table.insert(0, paid, np.asarray(ev.paid, dtype=float))
    for vendor, share in result.shares.items():
        table[f"{vendor} (share)"] = share.to_numpy()
    return table


def _expected_parts(result: TreeResult) -> pd.Series:
    """The probability-weighted parts of the paths' costs (present value)."""
    tree = result.tree
    assert tree is not None
    parts = pd.DataFrame([result.scenario_results[n].cost_breakdown.drop(columns="total").sum() for n in tree.names])
    weighted = np.asarray(tree.probability, dtype=float) @ parts.to_numpy(dtype=float)
    return pd.Series(weighted, index=parts.columns)


def _first_screen(result: Result, violations: Sequence[str]) -> str:
    """What a reader of the plan needs first, in business words: the verdict, the cost and its
    parts, what to buy, power, budget and vendor shares against their limits."""

    status = html.escape(result.status)
    said = html.escape(verdict(result, violations))
    out = [
        f"<h1>procure plan {html.escape(repr(result.problem.name))}</h1>",
        f'<p class="verdict"><span class="status {status}">{status}</span> {said}</p>',
    ]
    if not result.has_plan:
        return "\n".join([*out, _p(result.message)] if result.message else out)
    if isinstance(result, TreeResult):
        return "\n".join([*out, _tree_glance(result)])
    breakdown = result.cost_breakdown.drop(columns="total").sum()
    rows = [("total cost (present value)", f"{money(result.cost)}: {_parts(breakdown)}")]
    if math.isfinite(result.objective) and abs(result.objective - result.cost) > 1e-9 * max(abs(result.cost), 1):
        rows.append(("risk charges weighed in (not paid)", money(result.objective - result.cost)))
    rows += [
        ("units bought", fmt.count(result.purchases.to_numpy().sum())),
        ("budget", _budget_use(result)),
        ("facility power", _power_use(result)),
        ("highest vendor share of compute", _share_use(result.shares, result.problem)),
    ]
    out += [_h(2, "At a glance"), _pairs(rows)]
    to_buy = _to_buy(result)
    out += [_h(3, "What to buy, year by year"), render_table(to_buy, total=tables.total_row(to_buy, result))]
    out += _options_table(result)
    out += [_h(3, "Each year against its limits"), render_table(_limits(result))]
    return "\n".join(out)


def _options_table(result: Outcome) -> list[str]:
    """Capacity options: units reserved and bought through each (per path for a tree)."""
    shown = tables.options_table(result)
    if shown.empty:
        return []
    if isinstance(shown.index, pd.MultiIndex):  # a tree: one row per path and option
        shown.index = [" / ".join(map(str, k)) for k in shown.index]
        shown.index.name = "path / option"
    return [_h(3, "Capacity options: reserved, and bought through them"), render_table(shown)]


def _tree_glance(result: TreeResult) -> str:
    """A tree's first screen: the expected cost and its parts, how the paths' costs spread, and
    what is decided now."""
    tree = result.tree
    assert tree is not None
    alpha = result.problem.risk.scenario_cvar_alpha
    costs = {n: result.scenario_results[n].cost for n in tree.names}
    low, high = min(costs, key=costs.__getitem__), max(costs, key=costs.__getitem__)
    rows = [
        ("expected cost (present value)", f"{money(result.cost)}: {_parts(_expected_parts(result))}"),
        ("demand paths", fmt.count(tree.n_paths)),
        ("cost over the paths", f"{money(costs[low])} ({low}) to {money(costs[high])} ({high})"),
        (
            f"expected cost of the worst {fmt.share(1 - alpha)} of outcomes (CVaR)",
            money(result.cost_cvar),
        ),
    ]
    out = [_h(2, "At a glance"), _pairs(rows), _h(2, "Decided now, before the first branch")]
    periods = result.here_and_now_periods
    if periods:
        now = result.here_and_now
        now = now.loc[:, (now != 0).any()]
        which = f"Period {periods[0]}" if len(periods) == 1 else f"Periods {', '.join(map(str, periods))}"
        out.append(_p(f"{which}: the same on every demand path."))
        out.append(render_table(now.rename(columns=lambda c: f"{c} (units)" if "GW" not in c else c)))
    else:
        out.append(_p("The demand paths differ from the first period on: nothing is decided before a branch."))
    out += _options_table(result)
    return "\n".join(out)


def _solver_details(result: Result) -> str:
    """How the plan was found, folded: objective, bound, gap, solver, termination, time, model
    size and the solver's message."""
    size = ", ".join(f"{fmt.count(v)} {k.replace('_', ' ')}" for k, v in result.model_size.items())
    termination = result.termination
    why = TERMINATIONS.get(Termination(termination))
    rows = [
        ("objective (cost and risk terms)", _amount(result.objective)),
        ("cost (present value)", _amount(result.cost)),
        ("bound", _amount(result.bound)),
        ("gap", fmt.gap(result.gap) if math.isfinite(result.gap) else "unknown"),
        ("solver", result.solver),
        ("termination", f"{termination} ({why})" if why else termination),
        ("solve time", fmt.seconds(result.solve_seconds)),
        ("model", size or "n/a"),
    ]
    if result.message and result.has_plan:
        rows.append(("message", result.message))
    return f'<details class="solver"><summary>Solver details</summary>{_pairs(rows)}</details>'


def _inputs(problem: Problem) -> str:
    out = [_h(2, "Inputs"), _h(3, "Periods"), render_table(_periods_table(problem))]
    out += [_h(3, "Settings"), _pairs(_settings(problem))]
    out += [_h(3, "Offers"), render_table(_offers(problem), index=False)]
    if problem.vendors:
        out += [_h(3, "Vendors"), render_table(_vendors_table(problem), index=False)]
    if problem.sites:
        out += [_h(3, "Sites"), render_table(_sites_table(problem), index=False)]
    risk = problem.to_dict().get("risk", {})
    scenarios = risk.pop("scenarios", [])
    if risk:
        out += [_h(3, "Risk settings"), _pairs((k.replace("_", " "), _setting(v)) for k, v in risk.items())]
    if scenarios:
        rows = [
            {
                "scenario": sc["name"],
                "probability": sc["probability"],
                "availability": ", ".join(f"{v} {fmt.share(a)}" for v, a in sc.get("availability", {}).items()),
                "periods": ", ".join(map(str, sc.get("periods", []))) or "all",
            }
            for sc in scenarios
        ]
        out += [_h(3, "Supply disruptions"), render_table(pd.DataFrame(rows), index=False)]
    return "\n".join(out)


def _periods_table(problem: Problem) -> pd.DataFrame:
    """Demand (per path or workload), power cap, budget and electricity price by period."""
    periods = pd.DataFrame(index=pd.Index(problem.periods, name="period"))
    if problem.demand_scenarios:
        for sc in problem.demand_scenarios:
            periods[f"demand {sc.name} ({COMPUTE_UNIT})"] = sc.total_demand
    else:
        periods[f"demand ({COMPUTE_UNIT})"] = problem.total_demand
        if problem.workloads is not None:
            for name, need in problem.workloads.items():
                periods[f"{name} demand ({COMPUTE_UNIT})"] = need
    if problem.power_cap_gw is not None:
        periods["power cap (GW)"] = problem.power_cap_gw
    if problem.budget is not None:
        periods["budget ($)"] = problem.budget
    if problem.electricity_price:
        periods["electricity price ($/MWh)"] = problem.electricity_price
    return periods


def _settings(problem: Problem) -> list[tuple[str, str]]:
    settings = [("PUE", fmt.number(problem.pue)), ("discount rate", fmt.share(problem.discount_rate, 2))]
    if problem.total_budget is not None:
        settings.append(("total budget", money(problem.total_budget)))
    if problem.unserved_penalty is not None:
        settings.append(("unserved penalty", f"{money(problem.unserved_penalty)} per {COMPUTE_UNIT} and period"))
    build = problem.power_build
    if build is not None:
        settings.append(
            (
                "power build",
                f"{money(build.cost_per_gw[0])} per GW, ready after {build.lead_time} period(s)"
                + (f", blocks of {fmt.power(build.block_gw)}" if build.block_gw else ""),
            )
        )
    return settings


def _vendors_table(problem: Problem) -> pd.DataFrame:
    """Each vendor's terms; a vendor term of `procure.problem.rules` (a share floor, an
    allocation) when any vendor states it."""
    vendors = problem.vendors
    table = pd.DataFrame(
        {
            "vendor": [v.name for v in vendors],
            "onboarding ($)": [v.onboarding_cost for v in vendors],
            "max share (share)": [v.max_share if v.max_share is not None else problem.risk.max_share for v in vendors],
            "min spend ($)": [v.min_spend for v in vendors],
            "max spend ($)": [v.max_spend if v.max_spend is not None else math.inf for v in vendors],
        }
    )
    for term in vendor_terms():  # each vendor term its record describes, when any vendor states it
        if not any(term.stated(v) for v in vendors):
            continue
        given = [getattr(v, term.key) for v in vendors]
        if term.per_period:
            for k, t in enumerate(problem.periods):
                column = term.column.format(period=t, unit=COMPUTE_UNIT)
                table[column] = [g[k] if g is not None else term.neutral for g in given]
        else:
            table[term.column.format(unit=COMPUTE_UNIT)] = [g if g is not None else term.neutral for g in given]
    return table


def _sites_table(problem: Problem) -> pd.DataFrame:
    sites = problem.sites
    return pd.DataFrame(
        {
            "site": [s.name for s in sites],
            "vendors": [", ".join(s.vendors) if s.vendors is not None else "all" for s in sites],
            "PUE": [s.pue if s.pue is not None else problem.pue for s in sites],
            **{
                f"cap {t} (GW)": [s.power_cap_gw[k] if s.power_cap_gw is not None else math.nan for s in sites]
                for k, t in enumerate(problem.periods)
            },
            "builds power": ["yes" if s.power_build is not None else "no" for s in sites],
        }
    )


def _setting(value: Any) -> str:
    return number(value) if isinstance(value, (int, float)) else str(value)


def _offers(problem: Problem) -> pd.DataFrame:
    def cost(o: Any) -> str:
        if o.price_tiers is not None:
            return f"{len(o.price_tiers)} volume tiers from {money(o.price_tiers[0].unit_cost[0])}"
        first, last = o.unit_cost[0], o.unit_cost[-1]
        return money(first) if first == last else f"{money(first)} → {money(last)}"

    return pd.DataFrame(
        {
            "offer": [o.name for o in problem.offers],
            "vendor": [o.vendor for o in problem.offers],
            "unit cost ($, first → last period)": [cost(o) for o in problem.offers],
            f"compute ({COMPUTE_UNIT}/unit)": [o.compute for o in problem.offers],
            "IT power (kW/unit)": [o.power_kw for o in problem.offers],
            "opex ($/unit/period)": [o.opex_per_year for o in problem.offers],
            "lot (units)": [o.lot_size for o in problem.offers],
            "lifetime (periods)": [o.lifetime if o.lifetime is not None else "∞" for o in problem.offers],
            "lead time (periods)": [o.lead_time for o in problem.offers],
            "installed (units)": [
                o.installed if isinstance(o.installed, int) else sum(o.installed.values()) for o in problem.offers
            ],
            "supply (units/period, max)": [
                max(o.max_units) if o.max_units is not None else math.inf for o in problem.offers
            ],
        }
    )


def _bought(table: pd.DataFrame) -> pd.DataFrame:
    """The columns with anything in them (offers bought, sites used)."""
    return table.loc[:, (table != 0).any()]


def _plan(result: Result, *, plots: bool = True) -> str:
    out = [_h(2, "Plan")]
    if plots:
        out.append(_image(result.plot.compute, "compute by vendor against demand"))
    out += [_h(3, "Per period"), render_table(tables.periods_table(result))]
    out += [_h(3, "Units bought"), render_table(_bought(tables.purchases_table(result)), total=True)]
    out += [_h(3, "Operational fleet"), render_table(_bought(tables.fleet_table(result)))]
    out += [_h(3, "Compute"), render_table(tables.compute_table(result))]
    out.append(_h(3, "Power"))
    if plots:
        out.append(_image(result.plot.power, "power against the cap"))
    out.append(render_table(tables.power_table(result)))
    out += [_h(3, "Spend (undiscounted capex)"), render_table(_bought(tables.spend_table(result)), total=True)]
    if result.problem.sites:
        plan = tables.plan_table(result)
        bought = plan[plan["bought (units)"] > 0].pivot_table(
            index="period", columns=["site", "offer"], values="bought (units)", aggfunc="sum", fill_value=0
        )
        pairs: list[Any] = list(bought.columns)
        bought = bought.set_axis([f"{site} / {offer} (units)" for site, offer in pairs], axis=1)
        out += [_h(3, "Units bought by site"), render_table(bought.reindex(result.problem.periods, fill_value=0))]
    return "\n".join(out)


def _costs(result: Result, *, plots: bool = True) -> str:
    out = [_h(2, "Cost")]
    if plots:
        out.append(_image(result.plot.cost, "cost breakdown per period"))
    out.append(render_table(_bought(tables.cost_table(result)), total=True))
    out.append(_p("Present values: each period's dollars discounted to the first period.", "note"))
    return "\n".join(out)


def _risk(result: Result, *, plots: bool = True) -> str:
    out = [_h(2, "Risk")]
    if plots:
        out.append(_image(result.plot.shares, "vendor shares of compute"))
    out.append(render_table(tables.shares_table(result)))
    risk = result.problem.risk
    if risk.scenarios:
        out.append(
            _pairs(
                [
                    ("expected disruption loss", money(result.expected_loss)),
                    (f"CVaR({risk.cvar_alpha:g}) of disruption loss", money(result.cvar)),
                ]
            )
        )
        scenarios = result.scenarios.rename(columns={"loss": "loss ($)"})
        out.append(render_table(scenarios))
    return "\n".join(out)


def _check(found: Sequence[str]) -> str:
    if not found:
        return _h(2, "Check") + _p("Re-verified against the problem: every constraint holds.", "ok")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in found)
    return _h(2, "Check") + _p(f"{len(found)} violation(s):", "bad") + f"<ul>{items}</ul>"


def _explanation(result: Result, time_limit: float) -> str:
    out = [_h(2, "Why there is no plan")]
    try:
        d = result.explain(time_limit=time_limit)
    except Exception as exc:  # a report must still come out: say why the diagnosis failed
        return "\n".join([*out, _p(f"the diagnosis failed: {type(exc).__name__}: {exc}", "bad")])
    if d.message != result.message:
        out.append(_p(d.message))
    out += [_h(3, "Requirements in conflict"), render_table(d.conflict_table, index=False, convert=False)]
    if not d.conflict_minimal:
        out.append(_p("(not shown to be irreducible in the time given)", "note"))
    repairs = d.repairs
    if len(repairs):
        out += [_h(3, "Repairs (any one gives a plan)"), render_table(repairs, index=False, convert=False)]
    else:
        out.append(_p("No repair was found among the requirements that may change."))
    return "\n".join(out)


def _sensitivity(result: Result, time_limit: float) -> str:
    out = [_h(2, "Sensitivity (shadow prices)")]
    try:
        s = result.sensitivity(time_limit=time_limit)
    except Exception as exc:
        return "\n".join([*out, _p(f"not available: {type(exc).__name__}: {exc}", "bad")])
    table = s.table
    table = table[table["binding"] | (table["shadow_price"].abs() > 0)]
    columns = ["path", "unit", "value", "used", "slack", "shadow_price", "tightening_cost"]
    if "scenario" in table.columns:  # a demand tree: each path's rows, weighted by its probability
        columns = ["scenario", "probability", *columns]
    out.append(render_table(table[columns], index=False, convert=False))
    out.append(_p(s.note, "note"))
    return "\n".join(out)


def _rule_costs(result: Result, time_limit: float) -> str:
    out = [_h(2, "What each business rule costs")]
    try:
        costs = result.rule_costs(time_limit=time_limit, progress=False)
    except Exception as exc:
        return "\n".join([*out, _p(f"not available: {type(exc).__name__}: {exc}", "bad")])
    shown = costs[["rule", "description", "cost", "low", "high", "status"]].rename(
        columns={"cost": "cost ($)", "low": "low ($)", "high": "high ($)"}
    )
    out.append(render_table(shown, index=False))
    if "note" in costs.attrs:
        out.append(_p(str(costs.attrs["note"]), "note"))
    return "\n".join(out)


def _tree(result: TreeResult, *, stochastic_values: bool, time_limit: float) -> str:
    tree = result.tree
    assert tree is not None
    out = [_h(2, "Demand paths"), _image(result.plot.scenario_costs, "cost over the demand paths")]
    out.append(render_table(tables.scenario_table(result)))
    if stochastic_values:
        values = []
        for name, value in (("VSS", result.vss), ("EVPI", result.evpi)):
            try:
                v = value(time_limit=time_limit)
                values.append((name, f"{money(v.value)} (proved within [{money(v.low)}, {money(v.high)}])"))
            except Exception as exc:
                values.append((name, f"not available: {type(exc).__name__}: {exc}"))
        out += [_h(3, "Value of the stochastic solution and of perfect information"), _pairs(values)]
    out.append(_h(2, "Plans on the demand paths"))
    out.append(_image(result.plot.compute, "compute on each demand path"))
    out.append(_image(result.plot.cost, "cost on each demand path"))
    out.append(_image(result.plot.share_distribution, "vendor shares over the demand paths"))
    for name, probability in zip(tree.names, tree.probability):
        r = result.scenario_results[name]
        label = " = ".join(tree.members[tree.names.index(name)])
        body = [
            _pairs([("probability", fmt.number(probability)), ("cost", _amount(r.cost))]),
            render_table(tables.periods_table(r)),
            _h(4, "Units bought"),
            render_table(_bought(tables.purchases_table(r)), total=True),
            _h(4, "Cost"),
            render_table(_bought(tables.cost_table(r)), total=True),
        ]
        summary = f"path {html.escape(label)} (p = {fmt.number(probability)}, cost {html.escape(money(r.cost))})"
        out.append(f"<details><summary>{summary}</summary>{''.join(body)}</details>")
    return "\n".join(out)


def _page(title: str, body: Sequence[str]) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{CSS}</style>",
            "</head><body>",
            *body,
            _p(f"Written by procure on {stamp}.", "note"),
            "</body></html>",
        ]
    )


@provide("report")
def report(
    result: Result,
    path: str | os.PathLike[str] | None = None,
    *,
    sensitivity: bool = False,
    rule_costs: bool = False,
    time_limit: float = 60.0,
    stochastic_values: bool = False,
) -> str:
    """A self-contained HTML report of ``result``.

    Parameters
    ----------
    result : Result or TreeResult
        The result to report (with or without a plan).
    path : str or path-like, optional
        Where to write the report (UTF-8).
    sensitivity : bool
        Add the shadow prices of the binding requirements (`Result.sensitivity`).
    rule_costs : bool
        Add what each business rule costs (`Result.rule_costs`: a solve per rule).
    time_limit : float
        Seconds for each solve the report makes (the diagnosis of a problem without a plan,
        sensitivity, rule costs, VSS and EVPI).
    stochastic_values : bool
        With demand scenarios, add VSS and EVPI (each solves the tree again).

    Returns
    -------
    str
        The HTML text.  Its first screen is in business words: the verdict in a sentence
        (`verdict`), then with a plan the total cost and its parts, units bought, budget,
        power and vendor shares against their limits, and what to buy year by year (for a
        tree: the expected cost, the spread over the paths and what is decided now).  The
        solver's details (objective, bound, gap, termination, time, model size) follow,
        folded.  Then with a plan the plan per period and site, the cost breakdown, risk and
        the re-verification of every constraint; without one, the explanation (conflict and
        repairs); last, the inputs.
    """

    found = result.check() if result.has_plan else []
    body = [_first_screen(result, found), _solver_details(result)]
    if not result.has_plan:
        body += [_explanation(result, time_limit), _inputs(result.problem)]
    elif isinstance(result, TreeResult):
        body += [_tree(result, stochastic_values=stochastic_values, time_limit=time_limit), _check(found)]
        body.append(_inputs(result.problem))
    else:
        body += [_plan(result), _costs(result), _risk(result), _check(found)]
        if sensitivity:
            body.append(_sensitivity(result, time_limit))
        if rule_costs:
            body.append(_rule_costs(result, time_limit))
        body.append(_inputs(result.problem))
    text = _page(f"procure plan {result.problem.name}", body)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


# --------------------------------------------------------------------------- notebooks


@provide("result_html")
def result_html(result: Outcome) -> str:
    """The compact notebook view of a result: the verdict, cost, gap and solver, and the table
    per period (for a tree, the paths' costs), no plots."""

    rows = [
        ("status", result.status),
        ("cost (present value)", _amount(result.cost)),
        ("objective (cost and risk terms)", _amount(result.objective)),
        ("gap", fmt.gap(result.gap) if math.isfinite(result.gap) else "unknown"),
        ("solver", f"{result.solver} in {fmt.seconds(result.solve_seconds)}"),
    ]
    found = result.check() if result.has_plan else []
    out = [
        f"<div><strong>procure plan {html.escape(repr(result.problem.name))}</strong>",
        _p(verdict(result, found)),
        _pairs(rows),
    ]
    if result.message:
        out.append(_p(result.message))
    if isinstance(result, TreeResult) and result.has_plan:
        out.append(render_table(tables.scenario_table(result)))
    elif result.has_plan:
        table = tables.periods_table(result)
        for vendor, share in result.shares.items():
            table[f"{vendor} (share)"] = share.to_numpy()
        out.append(render_table(table))
    out.append("</div>")
    return "\n".join(out)


@provide("problem_html")
def problem_html(problem: Problem) -> str:
    """The compact notebook view of a problem: periods with demand and caps, and the offers."""
    periods = pd.DataFrame(index=pd.Index(problem.periods, name="period"))
    periods[f"demand ({COMPUTE_UNIT})"] = problem.total_demand
    if problem.power_cap_gw is not None:
        periods["power cap (GW)"] = problem.power_cap_gw
    if problem.budget is not None:
        periods["budget ($)"] = problem.budget
    head = f"procure problem {problem.name!r}: {len(problem.offers)} offers from {len(problem.vendors)} vendors"
    if problem.sites:
        head += f", {len(problem.sites)} sites"
    if problem.demand_scenarios:
        head += f", {len(problem.demand_scenarios)} demand scenarios (expected demand shown)"
    return "\n".join(
        [
            f"<div><strong>{html.escape(head)}</strong>",
            render_table(periods),
            render_table(_offers(problem), index=False),
            "</div>",
        ]
    )
