"""The requirement families of the model, each described once.

A `Rule` is one family of requirements a problem states (demand, a budget, a vendor's
share floor, …): its field and the path of each of its instances, its words and unit,
how a diagnosis moves it (its field is the right-hand side of its rows, or a coefficient
in them), the fields behind its rows, its check of a plan, the fields whose shadow price
is reported, and what a rule cost removes.  Every part of procure that formulates, checks,
diagnoses, prices or removes a requirement reads these records (`RULES`):

- ``check()`` (`procure.problem.evaluate.violations`) runs each record's ``check``;
- the formulation (``procure.model``) names each row block after its record; a vendor
  term's rows are built from its `VendorTerm` (its ``rows`` shape and its limits);
- ``explain`` relaxes the records with a ``relax`` way, in the order of `RULES` (the
  buyer's own rules first, demand last), words its repairs from ``what`` and ``unit``, and
  bisects a coefficient between its value in force and ``loosest``;
- ``sensitivity`` prices what each record's ``priced`` lists (`Priced`);
- ``rule_costs`` removes what each record's ``removed`` lists (`Removal`);
- the solver's messages about numbers out of range name each block's fields (``behind``);
- the HTML report's vendor table shows each vendor term.

A *vendor term* (``vendors[v].min_share``, ``vendors[v].max_new_compute``) is described
entirely by its record: adding one is adding a record here (and its field to the format).

This module reads a plan's evaluation by its attributes only: `procure.problem.evaluate`
imports it, not the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base import fmt
from .fields import get_value
from .inputs import KW_PER_GW, Inputs

if TYPE_CHECKING:
    from .evaluate import PlanEvaluation
    from .format import Problem, Vendor

__all__ = [
    "RULES",
    "TOKEN_SHARE",
    "Check",
    "Priced",
    "Removal",
    "Rule",
    "VendorTerm",
    "exceeds",
    "new_compute",
    "rule",
    "split_misses",
    "vendor_terms",
]

#: A check of one family: ``(problem, plan evaluation, tol, hhi_tol)`` → what the plan breaks, in words.
Check = Callable[["Problem", "PlanEvaluation", float, float], list[str]]


@dataclass(frozen=True)
class Removal:
    """One rule a problem states, as a rule cost removes it: its ``path``, what it says in
    words, and the value that removes it (the loosest its field takes; None: no value)."""

    path: str
    description: str
    neutral: Any


@dataclass(frozen=True)
class Priced:
    """A field whose shadow price ``sensitivity`` reports, as its record states it.

    ``shape``: ``"periodic"`` (a value per period, each period priced), ``"rows"`` (one value
    whose rows have periods, each period priced; ``used`` NaN where a period has no row) or
    ``"scalar"``.  ``relax`` is +1 when raising the value relaxes it (a cap), −1 when lowering
    does; ``per`` field units make one unit of the price (GW per MW: 1e-3; a share per
    percentage point: 0.01).  ``value`` and ``used`` are in the field's own units.
    """

    path: str
    shape: str
    group: str  # the sensitivity view: compute, power, budget, shares, contracts, risk
    relax: int
    unit: str
    per: float
    value: Any  # float, or (T,) for "periodic"
    used: Any  # float, or (T,)
    labels: tuple[tuple[str, str], ...] = ()  # ("vendor", name), ("site", name), ("workload", name)


@dataclass(frozen=True)
class VendorTerm:
    """A vendor's own term, compared period by period with what the plan does.

    ``limit`` gives the term's value in force as a (V, T) array (its neutral value where a
    vendor states none), ``applies`` where it has rows (V, T), ``used`` the plan's value in
    the field's own units (a share, compute), ``amount`` the plan's value in the rows' units
    (a vendor's compute) and ``scale`` what turns a limit into the rows' units (total compute
    for a share, else 1): a check compares ``amount`` with ``limit × scale``.
    """

    key: str  # the field of `Vendor`
    rows: str  # the formulation's shape: "share" (C[v,t] against key·C[t]) or "new_compute"
    sense: str  # "≤" a cap, "≥" a floor
    neutral: float  # the limit in force where a vendor states none
    unset: Any  # the field's value that states nothing (a rule cost sets it)
    per_period: bool  # the field takes a value per period
    limit: Callable[[Inputs], np.ndarray]
    applies: Callable[[Inputs], np.ndarray]
    used: Callable[[Inputs, PlanEvaluation], np.ndarray]
    amount: Callable[[Inputs, PlanEvaluation], np.ndarray]
    scale: Callable[[Inputs, PlanEvaluation], np.ndarray]
    noun: str  # what the limit is called in a check's message: "floor", "allocation"
    said: Callable[[float], str]  # a value in a check's message
    measured: str  # what the plan's value is, in a check's message: "of compute"
    price: tuple[str, str, float]  # sensitivity: table, unit of a price, field units per price unit
    describe: Callable[[str, Any], str]  # a rule cost's words, from the vendor and the value
    column: str  # the HTML report's vendor table column ({period}, {unit}: of compute, filled in there)

    def field(self, vendor: str) -> str:
        """The path of ``vendor``'s term (the whole field, every period)."""
        return f"vendors[{vendor}].{self.key}"

    def stated(self, vendor: Vendor) -> bool:
        """True when ``vendor`` states this term."""
        value = getattr(vendor, self.key)
        return value is not None and value != self.unset


@dataclass(frozen=True)
class Rule:
    """One requirement family, described once (see the module docstring)."""

    name: str  # its row block in the formulation, and its tag in check()'s messages
    path: str  # the path of an instance: formatted with its row label ("vendors[{0}].min_share")
    what: str  # the requirement in words without its value, formatted with the label
    unit: str  # of its field, for a diagnosis's changes: compute, GW, units, $, share, HHI, vendors
    relax: str | None  # "upper" / "lower": the field is its rows' right-hand side; "scalar": a coefficient
    behind: tuple[str, str]  # the field and the fields behind its rows (messages about numbers)
    check: Check | None = None
    text: Callable[[tuple[Any, ...], Inputs, Problem], str] | None = None  # an instance, value included
    removals: Callable[[Problem], list[Removal]] | None = None  # what a rule cost removes
    prices: Callable[[Problem, PlanEvaluation], list[Priced]] | None = None  # what sensitivity prices
    value: Callable[[tuple[Any, ...], Inputs, Problem], float] | None = None  # an instance's value in force
    loosest: float | None = None  # the value at which a coefficient rule holds for any plan
    integer: bool = False  # its field takes whole numbers
    term: VendorTerm | None = None

    def path_of(self, label: tuple[Any, ...]) -> str:
        return self.path.format(*label)

    def what_of(self, label: tuple[Any, ...]) -> str:
        return self.what.format(*label)

    def text_of(self, label: tuple[Any, ...], inputs: Inputs, problem: Problem) -> str:
        return self.text(label, inputs, problem) if self.text is not None else self.what_of(label)

    def value_of(self, label: tuple[Any, ...], inputs: Inputs, problem: Problem) -> float:
        """The value in force of the instance with row ``label`` (a default the problem leaves
        out included; NaN when the field holds no number)."""
        if self.value is not None:
            return float(self.value(label, inputs, problem))
        if self.term is not None:  # a vendor term: its value in the row's period
            return float(self.term.limit(inputs)[_vendor(problem, label[0]), _period(inputs, label[1])])
        given = get_value(problem, self.path_of(label))
        return float(given) if isinstance(given, (int, float)) else np.nan

    def removed(self, problem: Problem) -> list[Removal]:
        """The instances a rule cost removes (none for a fact of the market)."""
        if self.term is not None:
            term = self.term
            return [
                Removal(term.field(v.name), term.describe(v.name, getattr(v, term.key)), term.unset)
                for v in problem.vendors
                if term.stated(v)
            ]
        return self.removals(problem) if self.removals is not None else []

    def priced(self, problem: Problem, ev: PlanEvaluation) -> list[Priced]:
        """The fields of this family ``problem`` states whose shadow price ``sensitivity``
        reports, with the plan's amounts."""
        if self.term is None:
            return self.prices(problem, ev) if self.prices is not None else []
        term, inputs = self.term, problem.inputs
        group, unit, per = term.price
        relax = 1 if term.sense == "≤" else -1
        given, used, applies = term.limit(inputs), term.used(inputs, ev), term.applies(inputs)
        out = []
        for v, vendor in enumerate(problem.vendors):  # in vendor_names order
            if not term.stated(vendor):
                continue
            labels = (("vendor", vendor.name),)
            if term.per_period:
                out.append(
                    Priced(term.field(vendor.name), "periodic", group, relax, unit, per, given[v], used[v], labels)
                )
            else:
                shown = np.where(applies[v], used[v], np.nan)
                value = float(given[v, 0])
                out.append(Priced(term.field(vendor.name), "rows", group, relax, unit, per, value, shown, labels))
        return out


def exceeds(lhs: np.ndarray | float, rhs: np.ndarray | float, tol: float) -> np.ndarray:
    """Where ``lhs > rhs`` beyond a tolerance relative to ``rhs`` (at least absolute ``tol``)."""
    rhs = np.asarray(rhs, dtype=float)
    return np.asarray(lhs) > rhs + tol * np.maximum(1.0, np.abs(rhs))


def new_compute(inputs: Inputs, ev: PlanEvaluation) -> np.ndarray:
    """(V, T) compute of each vendor's units bought in each period (what ``max_new_compute``
    caps: purchases at every site, counted when bought; units exercised through options apart)."""
    out = np.zeros((len(inputs.max_new_compute), ev.purchases.shape[1]))
    np.add.at(out, inputs.vendor_of, inputs.compute[:, None] * ev.purchases)
    return out


def _pct(x: float) -> str:
    """A limit a person set, as a percentage shown exactly (``0.6`` → ``60%``)."""
    return fmt.share(x, None)


def _period(inputs: Inputs, period: Any) -> int:
    return int(np.flatnonzero(inputs.periods == int(period))[0])


def _vendor(problem: Problem, name: str) -> int:
    return problem.vendor_names.index(name)


def _workload(inputs: Inputs, problem: Problem, name: str) -> int:
    """Row of workload ``name`` in ``inputs.workload_demand``: the names the model's data holds
    (a demand path's, in a tree whose problem states workloads per path), else the problem's."""
    names = getattr(inputs, "workloads", None) or tuple(problem.workloads or ())
    return list(names).index(name)


# --------------------------------------------------------------------------- vendor terms


def _term_check(term: VendorTerm) -> Check:
    """The check of a vendor term: the plan's amount against the limit, in the rows' units."""

    def check(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
        inputs = problem.inputs
        applies = term.applies(inputs)
        if not applies.any():
            return []
        amount, given = term.amount(inputs, ev), term.limit(inputs)
        limit = np.where(applies, given, 0.0) * term.scale(inputs, ev)
        broken = applies & (exceeds(amount, limit, tol) if term.sense == "≤" else exceeds(limit, amount, tol))
        used = term.used(inputs, ev)
        sign = ">" if term.sense == "≤" else "<"
        return [
            f"{term.key}[{problem.vendor_names[v]},{problem.periods[t]}]: {term.said(used[v, t])} {term.measured}"
            f" {sign} {term.noun} {term.said(given[v, t])}"
            for v, t in zip(*np.nonzero(broken))
        ]

    check.__name__ = f"_{term.key}"
    return check


def _one(inputs: Inputs, ev: PlanEvaluation) -> np.ndarray:
    return np.ones(ev.compute.shape)


def _total(inputs: Inputs, ev: PlanEvaluation) -> np.ndarray:
    return np.asarray(ev.compute)


def _shares(inputs: Inputs, ev: PlanEvaluation) -> np.ndarray:
    return np.asarray(ev.shares)


def _by_vendor(inputs: Inputs, ev: PlanEvaluation) -> np.ndarray:
    return np.asarray(ev.compute_by_vendor)


MIN_SHARE = VendorTerm(
    key="min_share",
    rows="share",
    sense="≥",
    neutral=0.0,
    unset=0.0,
    per_period=False,
    limit=lambda inputs: np.broadcast_to(inputs.min_share[:, None], (len(inputs.min_share), len(inputs.periods))),
    applies=lambda inputs: (inputs.min_share[:, None] > 0) & (inputs.demand[None, :] > 0),
    used=_shares,
    amount=_by_vendor,
    scale=_total,
    noun="floor",
    said=lambda x: f"{x:.4%}",
    measured="of compute",
    price=("shares", "pt", 0.01),
    describe=lambda vendor, value: f"{vendor} share of compute ≥ {_pct(value)}",
    column="min share (share)",
)

MAX_NEW_COMPUTE = VendorTerm(
    key="max_new_compute",
    rows="new_compute",
    sense="≤",
    neutral=np.inf,
    unset=None,
    per_period=True,
    limit=lambda inputs: inputs.max_new_compute,
    applies=lambda inputs: np.isfinite(inputs.max_new_compute),
    used=new_compute,
    amount=new_compute,
    scale=_one,
    noun="allocation",
    said=lambda x: f"{x:.6g}",
    measured="compute bought",
    price=("contracts", "compute", 1.0),
    describe=lambda vendor, value: f"compute bought from {vendor} per period capped",
    column="max new compute {period} ({unit})",
)


# --------------------------------------------------------------------------- checks


def _supply(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """Units are counted exactly (a relative tolerance would let 2,000,001 units pass a cap of 2,000,000)."""
    cap = problem.inputs.max_units
    return [
        f"max_units[{problem.offer_names[i]},{problem.periods[t]}]: {ev.purchases[i, t]:g} units > supply {cap[i, t]:g}"
        for i, t in zip(*np.nonzero(ev.purchases > cap + tol))
    ]


def _demand(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    if problem.workloads is not None or problem.unserved_penalty is not None:
        return []  # with a penalty, demand not served is paid for, not broken
    return [
        f"demand[{problem.periods[t]}]: compute {ev.compute[t]:.6g} < demand {ev.demand[t]:.6g}"
        for t in np.flatnonzero(exceeds(ev.demand, ev.compute, tol))
    ]


def _power(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """The overall cap, compared in kW as the model states it (a GW-scale tolerance would pass overshoots)."""
    cap = problem.inputs.power_cap_gw
    if cap is None:
        return []
    if not problem.sites and problem.inputs.n_builds:  # built GW raise the cap once ready
        cap = cap + ev.ready.sum(axis=0)
    return [
        f"power_cap[{problem.periods[t]}]: {ev.power_gw[t]:.6g} GW > cap {cap[t]:.6g} GW"
        for t in np.flatnonzero(exceeds(ev.power_gw * KW_PER_GW, cap * KW_PER_GW, tol))
    ]


def _site_power(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """Each site's own cap (default: the problem's), in kW."""
    if not problem.sites:
        return []
    inputs = problem.inputs
    cap = inputs.site_cap_gw.copy()
    np.add.at(cap, inputs.build_site, ev.ready)  # a building site's cap is its given one (or 0) + ready GW
    capped = np.isfinite(cap)
    over = capped & exceeds(ev.site_power_gw * KW_PER_GW, np.where(capped, cap, 0.0) * KW_PER_GW, tol)
    return [
        f"site_power[{problem.site_names[s]},{problem.periods[t]}]: {ev.site_power_gw[s, t]:.6g} GW"
        f" > cap {cap[s, t]:.6g} GW"
        for s, t in zip(*np.nonzero(over))
    ]


def _budget(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    budget = problem.inputs.budget
    if budget is None:
        return []
    return [
        f"budget[{problem.periods[t]}]: capex ${ev.paid[t]:,.0f} > budget ${budget[t]:,.0f}"
        for t in np.flatnonzero(exceeds(ev.paid, budget, tol))
    ]


def _total_budget(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    paid = float(ev.paid.sum() + ev.take_or_pay.sum())
    cap = problem.total_budget
    if cap is None or not exceeds(paid, cap, tol):
        return []
    return [f"total_budget: capex and take-or-pay ${paid:,.0f} > total budget ${cap:,.0f}"]


def _max_spend(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    cap = problem.inputs.max_spend
    total = ev.spend_by_vendor.sum(axis=1)
    return [
        f"max_spend[{problem.vendor_names[v]}]: capex ${total[v]:,.0f} > ${cap[v]:,.0f}"
        for v in np.flatnonzero(np.isfinite(cap) & exceeds(total, np.where(np.isfinite(cap), cap, 0.0), tol))
    ]


def _workloads(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """With workloads: the split fits each offer's fleet and meets each workload's demand."""
    if problem.workloads is None:
        return []
    if ev.split is None:
        return ["split: the plan gives no split of its fleet across workloads"]
    inputs = problem.inputs
    names, periods, workloads = problem.offer_names, problem.periods, list(problem.workloads)
    x = ev.split
    out = ["split: negative units"] if (x < -tol).any() else []
    used = x.sum(axis=1)
    for i, t in zip(*np.nonzero(exceeds(used, ev.fleet, tol))):
        out.append(
            f"workload_capacity[{names[i]},{periods[t]}]: {used[i, t]:.6g} units split > fleet {ev.fleet[i, t]:.6g}"
        )
    served = np.einsum("iw,i,iwt->wt", inputs.efficiency, inputs.compute, x)
    if problem.unserved_penalty is not None:
        return out  # demand not served is paid for, not broken
    for w, t in zip(*np.nonzero(exceeds(inputs.workload_demand, served, tol))):
        need = inputs.workload_demand[w, t]
        out.append(f"workload_demand[{workloads[w]},{periods[t]}]: served {served[w, t]:.6g} < demand {need:.6g}")
    return out


def split_misses(problem: Problem, ev: PlanEvaluation, tol: float) -> list[str]:
    """What a plan's split of its fleet across workloads breaks (the workload_demand check)."""
    return _workloads(problem, ev, tol, 0.0)


def _max_share(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    share = problem.inputs.max_share[:, None]
    over = exceeds(ev.compute_by_vendor, share * ev.compute[None, :], tol)
    return [
        f"max_share[{problem.vendor_names[v]},{problem.periods[t]}]: {ev.shares[v, t]:.4%} of compute"
        f" > cap {share[v, 0]:.4%}"
        for v, t in zip(*np.nonzero(over))
    ]


def _vendor_loss(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    keep = problem.risk.survive_vendor_loss
    rest = ev.compute[None, :] - ev.compute_by_vendor  # (V, T) compute without each vendor
    need = keep * ev.demand
    out = []
    for v, t in zip(*np.nonzero(exceeds(np.broadcast_to(need, rest.shape), rest, tol))):
        vendor = problem.vendor_names[v]
        out.append(
            f"vendor_loss[{vendor},{problem.periods[t]}]: without {vendor} compute is {rest[v, t]:.6g}"
            f" < {keep:g} × demand = {need[t]:.6g}"
        )
    return out


def _min_vendors(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    risk = problem.risk
    if risk.min_vendors <= 0:
        return []
    need = risk.min_vendor_share * ev.demand
    count = (~exceeds(np.broadcast_to(need, ev.compute_by_vendor.shape), ev.compute_by_vendor, tol)).sum(axis=0)
    return [
        f"min_vendors[{problem.periods[t]}]: {count[t]} vendor(s) supply ≥ {risk.min_vendor_share:g} × demand,"
        f" {risk.min_vendors} required"
        for t in np.flatnonzero(count < risk.min_vendors)
    ]


def _max_cvar(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    cap = problem.risk.max_cvar
    if cap is None or not exceeds(ev.cvar, cap, tol):
        return []
    return [f"max_cvar: CVaR ${ev.cvar:,.0f} > ${cap:,.0f}"]


def _max_hhi(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """HHI within ``hhi_tol`` of its cap (HHI is bounded by tangent cuts)."""
    cap = problem.risk.max_hhi
    if cap is None:
        return []
    live = np.isfinite(ev.hhi)
    over = live & exceeds(np.where(live, ev.hhi, 0.0), cap + hhi_tol, tol)
    return [
        f"max_hhi[{problem.periods[t]}]: HHI {ev.hhi[t]:.6g} > {cap:g} (+ tolerance {hhi_tol:g})"
        for t in np.flatnonzero(over)
    ]


# --------------------------------------------------------------------------- removals


def _removes_max_cvar(problem: Problem) -> list[Removal]:
    risk = problem.risk
    if risk.max_cvar is None:
        return []
    words = f"CVaR({fmt.number(risk.cvar_alpha)}) of the loss ≤ {fmt.money(risk.max_cvar)}"
    return [Removal("risk.max_cvar", words, None)]


def _removes_risk_weight(problem: Problem) -> list[Removal]:
    risk = problem.risk
    if risk.risk_weight <= 0:
        return []
    alpha = fmt.number(risk.cvar_alpha)
    words = f"disruption risk priced at {fmt.number(risk.risk_weight)} × CVaR({alpha}) of the loss"
    return [Removal("risk.risk_weight", words, 0.0)]


def _removes_max_hhi(problem: Problem) -> list[Removal]:
    cap = problem.risk.max_hhi
    return [Removal("risk.max_hhi", f"HHI ≤ {fmt.number(cap)} every period", None)] if cap is not None else []


def _removes_hhi_weight(problem: Problem) -> list[Removal]:
    weight = problem.risk.hhi_weight
    if weight <= 0:
        return []
    return [Removal("risk.hhi_weight", f"concentration priced at {fmt.money(weight)} per unit of HHI", 0.0)]


#: The share of demand that makes a vendor count once ``min_vendor_share`` is removed: a token
#: presence.  Not less: a share within the solvers' tolerances of 0 (1e-9 of demand, say) would
#: let a vendor with no compute count in one model and not in another.
TOKEN_SHARE = 1e-3


def _removes_min_vendors(problem: Problem) -> list[Removal]:
    risk = problem.risk
    if risk.min_vendors <= 0:
        return []
    share = _pct(risk.min_vendor_share)
    out = [Removal("risk.min_vendors", f"at least {risk.min_vendors} vendors each supply ≥ {share} of demand", 0)]
    if risk.min_vendor_share > TOKEN_SHARE:
        words = f"a vendor counts toward min_vendors only with ≥ {share} of demand"
        out.append(Removal("risk.min_vendor_share", words, TOKEN_SHARE))
    return out


def _removes_vendor_loss(problem: Problem) -> list[Removal]:
    keep = problem.risk.survive_vendor_loss
    if keep <= 0:
        return []
    return [Removal("risk.survive_vendor_loss", f"losing any one vendor leaves ≥ {_pct(keep)} of demand", 0.0)]


def _removes_max_share(problem: Problem) -> list[Removal]:
    risk = problem.risk
    out = [
        Removal(f"vendors[{v.name}].max_share", f"{v.name} share of compute ≤ {_pct(v.max_share)}", 1.0)
        for v in problem.vendors
        if v.max_share is not None and v.max_share < 1.0
    ]
    if risk.max_share < 1.0:
        own = any(v.max_share is not None for v in problem.vendors)
        scope = "every other vendor's" if own else "every vendor's"
        out.append(Removal("risk.max_share", f"{scope} share of compute ≤ {_pct(risk.max_share)}", 1.0))
    return out


def _removes_site_vendors(problem: Problem) -> list[Removal]:
    return [
        Removal(f"sites[{site.name}].vendors", f"{site.name} hosts only {', '.join(site.vendors)}", None)
        for site in problem.sites
        if site.vendors is not None
    ]


def _removes_min_spend(problem: Problem) -> list[Removal]:
    return [
        Removal(f"vendors[{v.name}].min_spend", f"take-or-pay: {fmt.money(v.min_spend)} with {v.name}", 0.0)
        for v in problem.vendors
        if v.min_spend > 0
    ]


def _removes_max_spend(problem: Problem) -> list[Removal]:
    return [
        Removal(f"vendors[{v.name}].max_spend", f"spend with {v.name} ≤ {fmt.money(v.max_spend)}", None)
        for v in problem.vendors
        if v.max_spend is not None
    ]


def _removes_budget(problem: Problem) -> list[Removal]:
    if problem.budget is None:
        return []
    budget = np.asarray(problem.budget, dtype=float)
    low, high = fmt.money(budget.min()), fmt.money(budget.max())
    each = fmt.money(float(budget[0])) if np.all(budget == budget[0]) else f"{low}–{high}"
    return [Removal("budget", f"capex ≤ {each} per period", None)]


def _removes_total_budget(problem: Problem) -> list[Removal]:
    if problem.total_budget is None:
        return []
    return [Removal("total_budget", f"capex and take-or-pay ≤ {fmt.money(problem.total_budget)} in all", None)]


# --------------------------------------------------------------------------- prices

#: GW per MW, and a share per percentage point: the units prices are read in.
_PER_MW, _PER_PT = 1e-3, 0.01


def _prices_demand(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    if problem.workloads is not None:
        return []
    return [Priced("demand", "periodic", "compute", -1, "compute", 1.0, problem.inputs.demand, ev.compute)]


def _prices_workloads(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    if problem.workloads is None:
        return []
    inputs = problem.inputs
    split = ev.split if ev.split is not None else np.zeros((len(problem.offers), len(problem.workloads), 1))
    served = np.einsum("iw,i,iwt->wt", inputs.efficiency, inputs.compute, split)
    return [
        Priced(
            f"workloads[{name}]",
            "periodic",
            "compute",
            -1,
            "compute",
            1.0,
            inputs.workload_demand[w],
            served[w],
            (("workload", name),),
        )
        for w, name in enumerate(problem.workloads)
    ]


def _prices_power_cap(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    if problem.power_cap_gw is None:
        return []
    # a site without a cap of its own is held by this one too, but never closer than all sites
    # together (a site draws part of the total): the total is what the cap's rows use
    cap = np.asarray(problem.power_cap_gw, dtype=float)
    return [Priced("power_cap_gw", "periodic", "power", 1, "MW", _PER_MW, cap, ev.power_gw)]


def _prices_site_power(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    return [  # a site without a cap of its own takes power_cap_gw's
        Priced(
            f"sites[{site.name}].power_cap_gw",
            "periodic",
            "power",
            1,
            "MW",
            _PER_MW,
            problem.inputs.site_cap_gw[s],
            ev.site_power_gw[s],
            (("site", site.name),),
        )
        for s, site in enumerate(problem.sites)
        if site.power_cap_gw is not None
    ]


def _prices_budget(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    if problem.budget is None:
        return []
    return [Priced("budget", "periodic", "budget", 1, "$", 1.0, np.asarray(problem.budget), ev.paid)]


def _prices_total_budget(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    if problem.total_budget is None:
        return []
    paid = float(ev.paid.sum() + ev.take_or_pay.sum())
    return [Priced("total_budget", "scalar", "budget", 1, "$", 1.0, float(problem.total_budget), paid)]


def _prices_max_share(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    shares, risk = ev.shares, problem.risk
    own = {v.name: v.max_share for v in problem.vendors}
    out = []
    for v, name in enumerate(problem.vendor_names):
        limit = own.get(name)
        if limit is not None and limit < 1.0:
            out.append(
                Priced(
                    f"vendors[{name}].max_share",
                    "rows",
                    "shares",
                    1,
                    "pt",
                    _PER_PT,
                    limit,
                    shares[v],
                    (("vendor", name),),
                )
            )
    inheriting = [v for v, name in enumerate(problem.vendor_names) if own.get(name) is None]
    if risk.max_share < 1.0 and inheriting:
        top = shares[inheriting].max(axis=0)
        out.append(Priced("risk.max_share", "rows", "shares", 1, "pt", _PER_PT, risk.max_share, top))
    return out


def _spend_prices(key: str, relax: int) -> Callable[[Problem, PlanEvaluation], list[Priced]]:
    """Prices of a vendor's spend term ``key`` (``min_spend``: a floor, ``max_spend``: a cap)."""

    def prices(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
        spend = ev.spend_by_vendor.sum(axis=1)
        out = []
        for k, vendor in enumerate(problem.vendors):  # in vendor_names order
            value = getattr(vendor, key)
            if value is not None and (key != "min_spend" or value > 0):
                out.append(
                    Priced(
                        f"vendors[{vendor.name}].{key}",
                        "scalar",
                        "contracts",
                        relax,
                        "$",
                        1.0,
                        value,
                        float(spend[k]),
                        (("vendor", vendor.name),),
                    )
                )
        return out

    return prices


def _prices_max_cvar(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    cap = problem.risk.max_cvar
    return [] if cap is None else [Priced("risk.max_cvar", "scalar", "risk", 1, "$", 1.0, cap, ev.cvar)]


def _prices_max_hhi(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    cap = problem.risk.max_hhi
    return [] if cap is None else [Priced("risk.max_hhi", "rows", "risk", 1, "pt", _PER_PT, cap, ev.hhi)]


def _of_demand(problem: Problem, amount: np.ndarray) -> np.ndarray:
    """``amount`` as a share of each period's demand (NaN without demand)."""
    demand = problem.inputs.demand
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(demand > 0, amount / demand, np.nan)


def _prices_vendor_loss(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    keep = problem.risk.survive_vendor_loss
    if keep <= 0:
        return []
    rest = _of_demand(problem, (ev.compute[None, :] - ev.compute_by_vendor).min(axis=0))
    return [Priced("risk.survive_vendor_loss", "rows", "risk", -1, "pt", _PER_PT, keep, rest)]


def _prices_min_vendors(problem: Problem, ev: PlanEvaluation) -> list[Priced]:
    risk = problem.risk
    if risk.min_vendors <= 0:
        return []
    k = min(risk.min_vendors, len(problem.vendor_names))
    of_demand = _of_demand(problem, ev.compute_by_vendor)  # (V, T) shares of demand
    kth = -np.sort(-np.nan_to_num(of_demand, nan=0.0), axis=0)[k - 1]
    kth = np.where(problem.inputs.demand > 0, kth, np.nan)
    return [Priced("risk.min_vendor_share", "rows", "risk", -1, "pt", _PER_PT, risk.min_vendor_share, kth)]


# --------------------------------------------------------------------------- the records


def _money(value: Any) -> str:
    return fmt.money(float(value)) if value is not None else "none"


def _gw(value: Any) -> str:
    return fmt.power(float(value)) if value is not None else "none"


#: Every requirement family, in the order a diagnosis drops whole families (the buyer's own
#: rules first, the physical and financial limits next, demand last, so that a conflict names
#: the plainest requirements that cannot hold together); rule costs list rules in this order.
RULES: tuple[Rule, ...] = (
    Rule(
        "max_cvar",
        "risk.max_cvar",
        "CVaR cap",
        "$",
        "scalar",
        ("risk.max_cvar", "max_cvar"),
        _max_cvar,
        lambda lab, d, p: f"CVaR ≤ {_money(p.risk.max_cvar)}",
        _removes_max_cvar,
        prices=_prices_max_cvar,
    ),
    Rule(
        "risk_weight",
        "risk.risk_weight",
        "price of disruption risk",
        "$",
        None,
        ("risk.risk_weight", "risk_weight"),
        removals=_removes_risk_weight,
    ),
    Rule(
        "max_hhi",
        "risk.max_hhi",
        "HHI cap",
        "HHI",
        "scalar",
        ("risk.max_hhi", "max_hhi"),
        _max_hhi,
        lambda lab, d, p: f"HHI ≤ {fmt.number(p.risk.max_hhi or 0)} in {lab[0]}",
        _removes_max_hhi,
        loosest=1.0,
        prices=_prices_max_hhi,
    ),
    Rule(
        "hhi_weight",
        "risk.hhi_weight",
        "price of concentration",
        "$",
        None,
        ("risk.hhi_weight", "hhi_weight"),
        removals=_removes_hhi_weight,
    ),
    Rule(
        "min_vendors",
        "risk.min_vendors",
        "minimum number of vendors",
        "vendors",
        "scalar",
        ("risk.min_vendors", "min_vendors, min_vendor_share, demand"),
        _min_vendors,
        lambda lab, d, p: (
            f"at least {p.risk.min_vendors} vendors with ≥ {fmt.share(p.risk.min_vendor_share, None)} "
            f"of demand in {lab[0]}"
        ),
        _removes_min_vendors,
        loosest=0.0,
        integer=True,
        prices=_prices_min_vendors,
    ),
    Rule(
        "vendor_loss",
        "risk.survive_vendor_loss",
        "share of demand that must survive the loss of a vendor",
        "share",
        "scalar",
        ("risk.survive_vendor_loss", "survive_vendor_loss, demand"),
        _vendor_loss,
        lambda lab, d, p: (
            f"losing {lab[0]} in {lab[1]} leaves ≥ {fmt.share(p.risk.survive_vendor_loss, None)} of demand"
        ),
        _removes_vendor_loss,
        loosest=0.0,
        prices=_prices_vendor_loss,
    ),
    Rule(
        "max_share",
        "vendors[{0}].max_share",
        "{0}'s share",
        "share",
        "scalar",
        ("risk.max_share", "max_share"),
        _max_share,
        lambda lab, d, p: f"{lab[0]} share ≤ {fmt.share(float(d.max_share[_vendor(p, lab[0])]), None)} in {lab[1]}",
        _removes_max_share,
        loosest=1.0,
        prices=_prices_max_share,
        value=lambda lab, d, p: d.max_share[_vendor(p, lab[0])],
    ),
    Rule(
        "min_share",
        "vendors[{0}].min_share",
        "share floor of {0}",
        "share",
        "scalar",
        ("vendors", "min_share"),
        _term_check(MIN_SHARE),
        lambda lab, d, p: f"{lab[0]} share ≥ {fmt.share(float(d.min_share[_vendor(p, lab[0])]))} in {lab[1]}",
        loosest=0.0,
        term=MIN_SHARE,
    ),
    Rule(
        "site_vendors",
        "sites[{0}].vendors",
        "vendors {0} hosts",
        "vendors",
        None,
        ("sites", "vendors"),
        removals=_removes_site_vendors,
    ),
    Rule(
        "min_spend",
        "vendors[{0}].min_spend",
        "minimum spend with {0}",
        "$",
        "lower",
        ("vendors", "min_spend, unit_cost"),
        text=lambda lab, d, p: f"minimum spend with {lab[0]}",
        removals=_removes_min_spend,
        prices=_spend_prices("min_spend", -1),
    ),
    Rule(
        "max_spend",
        "vendors[{0}].max_spend",
        "spend cap with {0}",
        "$",
        "upper",
        ("vendors", "max_spend, unit_cost"),
        _max_spend,
        lambda lab, d, p: f"most spend with {lab[0]}",
        _removes_max_spend,
        prices=_spend_prices("max_spend", 1),
    ),
    Rule(
        "max_new_compute",
        "vendors[{0}].max_new_compute[{1}]",
        "allocation of {0} in {1}",
        "compute",
        "upper",
        ("vendors", "max_new_compute, compute, lot_size"),
        _term_check(MAX_NEW_COMPUTE),
        lambda lab, d, p: (
            f"{lab[0]}'s allocation in {lab[1]} "
            f"({fmt.amount(d.max_new_compute[_vendor(p, lab[0]), _period(d, lab[1])], 'compute')})"
        ),
        term=MAX_NEW_COMPUTE,
    ),
    Rule(
        "supply",
        "offers[{0}].max_units[{1}]",
        "supply of {0} in {1}",
        "units",
        "upper",
        ("offers", "max_units, lot_size"),
        _supply,
        value=lambda lab, d, p: d.max_units[p.offer_names.index(lab[0]), _period(d, lab[1])],
    ),
    Rule(
        "total_budget",
        "total_budget",
        "total budget",
        "$",
        "upper",
        ("total_budget", "total_budget, unit_cost"),
        _total_budget,
        lambda lab, d, p: f"total budget ({_money(p.total_budget or 0)})",
        _removes_total_budget,
        prices=_prices_total_budget,
    ),
    Rule(
        "budget",
        "budget[{0}]",
        "budget in {0}",
        "$",
        "upper",
        ("budget", "budget, unit_cost"),
        _budget,
        lambda lab, d, p: f"budget in {lab[0]} ({_money(None if d.budget is None else d.budget[_period(d, lab[0])])})",
        _removes_budget,
        prices=_prices_budget,
    ),
    Rule(
        "site_power",
        "sites[{0}].power_cap_gw[{1}]",
        "power cap at {0} in {1}",
        "GW",
        "upper",
        ("sites", "sites' power_cap_gw and pue, power_kw"),
        _site_power,
        prices=_prices_site_power,
        value=lambda lab, d, p: d.site_cap_gw[p.site_names.index(lab[0]), _period(d, lab[1])],
    ),
    Rule(
        "power_cap",
        "power_cap_gw[{0}]",
        "power cap in {0}",
        "GW",
        "upper",
        ("power_cap_gw", "power_cap_gw, pue, power_kw"),
        _power,
        lambda lab, d, p: (
            f"power cap in {lab[0]} ({_gw(d.power_cap_gw[_period(d, lab[0])] if d.power_cap_gw is not None else None)})"
        ),
        prices=_prices_power_cap,
    ),
    Rule(
        "workload_demand",
        "workloads[{0}][{1}]",
        "demand for {0} in {1}",
        "compute",
        "scalar",
        ("workloads", "workloads, compute, efficiency"),
        _workloads,
        lambda lab, d, p: f"{lab[0]} demand in {lab[1]}",
        prices=_prices_workloads,
        value=lambda lab, d, p: d.workload_demand[_workload(d, p, lab[0]), _period(d, lab[1])],
    ),
    Rule(
        "demand",
        "demand[{0}]",
        "demand in {0}",
        "compute",
        "scalar",
        ("demand", "demand, compute"),
        _demand,
        lambda lab, d, p: f"demand in {lab[0]} ({fmt.amount(d.demand[_period(d, lab[0])], 'compute')})",
        prices=_prices_demand,
        value=lambda lab, d, p: d.demand[_period(d, lab[0])],
    ),
)

_BY_NAME = {r.name: r for r in RULES}


def rule(name: str) -> Rule:
    """The record of family ``name``; `KeyError` if there is none."""
    return _BY_NAME[name]


def vendor_terms() -> tuple[VendorTerm, ...]:
    """Vendors' own terms (`VendorTerm`), in `RULES` order."""
    return tuple(r.term for r in RULES if r.term is not None)
