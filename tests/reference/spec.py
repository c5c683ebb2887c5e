"""Normalized view of a raw `procure` problem dict (contracts v1, v2 and v3).

Covers the spec sections "Conventions", "Fields", "The model" and "Commercial
terms, sites and workloads" (price tiers, vendor spend terms, sites, workloads)
of contract v1, the model sections of contract v2: "Unserved demand"
(`unserved_penalty`), "Power build-out" (`power_build`) and "Demand scenarios"
(`demand_scenarios`, `risk.scenario_cvar_weight`, `risk.scenario_cvar_alpha`),
and contract v3's "two vendor rules" (vendor fields `min_share`, default 0, and
`max_new_compute`, per-period, default none: `Vendor.min_share`,
`Vendor.max_new_compute`), and contract v3's "capacity options" (top-level
`options`: `Problem.options`, a list of `Option`).

Internally a problem without `sites` has one implicit site (`IMPLICIT_SITE`)
with no cap of its own, the top-level `pue` and `electricity_price`, hosting
every vendor; a problem without `workloads` has `workloads = None` and its
`demand`.  With workloads, `demand[t]` is the sum over workloads (what the risk
terms read).  An offer with `unit_cost` has one tier starting at 0.

Power build-out ("Power build-out"): a site's `power_build` is `Site.power_build`;
a top-level `power_build` (only allowed without sites) belongs to the implicit
site, which then carries the top-level cap as its own (`Site.power_cap_gw`) and
`Problem.power_cap_gw` (the unbuilt cap on the sum over sites) is None.  Where a
`power_build` is present and `power_cap_gw` is missing *at that level*, the
given cap is 0 ("counts as 0 when power_build is present"); for a site this
replaces the v1 default (the top-level value) -- the reading the library chose.

Demand scenarios: `Problem.demand_scenarios` lists them; the problem itself then
has no demand (`demand == {}`, `workloads is None`) and `scenario_problems(p)`
gives each scenario as a problem with that scenario's demand (and no scenarios),
to which every v1 (+ unserved, power build) rule applies.

`parse()` assumes valid input and does no checking.  `validate()` is a light,
independent reading of the validity rules; it exists so the test-suite can
check that `strategies.problems()` only produces valid problems and that every
mutation of `strategies.invalid_problems()` is invalid.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- #
# Field names (public names from the spec tables).
# --------------------------------------------------------------------------- #
TOP_FIELDS = {
    "name",
    "sites",
    "workloads",
    "periods",
    "demand",
    "offers",
    "vendors",
    "power_cap_gw",
    "pue",
    "electricity_price",
    "budget",
    "total_budget",
    "discount_rate",
    "risk",
    # contract v2
    "unserved_penalty",
    "power_build",
    "demand_scenarios",
    # contract v3, "capacity options"
    "options",
}
OFFER_FIELDS = {
    "name",
    "vendor",
    "unit_cost",
    "compute",
    "power_kw",
    "opex_per_year",
    "lot_size",
    "min_order",
    "max_units",
    "lifetime",
    "lead_time",
    "installed",
    "installed_life",
    "price_tiers",
    "discount",
    "efficiency",
}
TIER_FIELDS = {"from_units", "unit_cost"}
DISCOUNT_KINDS = ("incremental", "all_units")
SITE_FIELDS = {"name", "power_cap_gw", "pue", "electricity_price", "vendors", "power_build"}
VENDOR_FIELDS = {
    "name",
    "onboarding_cost",
    "max_share",
    "min_spend",
    "max_spend",
    # contract v3, "two vendor rules"
    "min_share",
    "max_new_compute",
}
MIN_SHARE_SUM_TOL = 1e-9  # min_share summed over vendors may exceed 1 by this (float sums such as 0.1 + 0.2 + 0.7)
RISK_FIELDS = {
    "max_share",
    "min_vendors",
    "min_vendor_share",
    "survive_vendor_loss",
    "hhi_weight",
    "max_hhi",
    "scenarios",
    "shortfall_penalty",
    "cvar_alpha",
    "risk_weight",
    "max_cvar",
    # contract v2, "Demand scenarios"
    "scenario_cvar_weight",
    "scenario_cvar_alpha",
}
SCENARIO_FIELDS = {"name", "probability", "availability", "periods"}
POWER_BUILD_FIELDS = {"cost_per_gw", "block_gw", "max_gw", "lead_time", "fixed_cost"}
DEMAND_SCENARIO_FIELDS = {"name", "probability", "demand", "workloads"}
OPTION_FIELDS = {"name", "offer", "max_units", "reserve_cost", "reserve_period", "exercise_price", "exercise_until"}
PROBABILITY_TOL = 1e-9  # demand scenario probabilities sum to 1 within this

KW_PER_GW = 1e6
MWH_PER_KW_YEAR = 8.76
IMPLICIT_SITE = ""  # the one site of a problem without `sites`
UNIT_SNAP = 1e-6  # units within this of a whole number pick their all_units tier as that number
BUILD_EPS_GW = 1e-9  # a build of more than this (1 W) "starts" (pays its fixed_cost)


# --------------------------------------------------------------------------- #
# Normalized structure
# --------------------------------------------------------------------------- #
@dataclass
class Tier:
    from_units: float
    unit_cost: dict[int, float]  # price per unit, by period


@dataclass
class Offer:
    name: str
    vendor: str
    unit_cost: dict[int, float]  # price of the first tier (the only one without price_tiers)
    compute: float
    power_kw: float = 0.0
    opex_per_year: float = 0.0
    lot_size: int = 1
    min_order: int = 0
    max_units: dict[int, float] | None = None  # None = unlimited
    lifetime: int | None = None  # None = unlimited
    lead_time: int = 0
    installed: int = 0
    installed_life: int | None = None  # None = unlimited (default: lifetime)
    tiers: list[Tier] = field(default_factory=list)  # >= 1 tier, first from 0
    discount: str = "incremental"
    installed_at: dict[str, int] = field(default_factory=dict)  # site -> units (installed = their sum)
    efficiency: dict[str, float] = field(default_factory=dict)  # as given; see `eff`

    def eff(self, workload: str) -> float:
        """efficiency_{i,w} (default 1.0)."""
        return self.efficiency.get(workload, 1.0)

    def capex(self, units: float, period: int) -> float:
        """Capex of `units` bought in `period` (tier-aware; one tier = unit_cost · units)."""
        return tier_cost(self.tiers, self.discount, units, period)

    def min_price(self, period: int) -> float:
        """Lowest tier price in `period`: capex(b) >= min_price · b for every b >= 0."""
        return min(t.unit_cost[period] for t in self.tiers)

    def max_price(self, period: int) -> float:
        return max(t.unit_cost[period] for t in self.tiers)


def tier_cost(tiers: list[Tier], discount: str, units: float, period: int) -> float:
    """Cost of `units` (>= 0) bought in one period.

    incremental: Σ_k price_k · (min(b, from_{k+1}) − from_k)^+ (area under the step curve);
    all_units:   b · price of the highest tier with from_units <= b (b = 0 costs 0).
    """
    if units <= 0:
        return 0.0
    if len(tiers) == 1:
        return tiers[0].unit_cost[period] * units
    if discount == "all_units":
        snapped = round(units) if abs(units - round(units)) <= UNIT_SNAP else units
        price = next(t.unit_cost[period] for t in reversed(tiers) if t.from_units <= snapped)
        return price * units
    total = 0.0
    for k, t in enumerate(tiers):
        upper = tiers[k + 1].from_units if k + 1 < len(tiers) else math.inf
        total += t.unit_cost[period] * max(0.0, min(units, upper) - t.from_units)
    return total


@dataclass
class Vendor:
    name: str
    onboarding_cost: float = 0.0
    max_share: float = 1.0
    has_installed: bool = False  # some offer of this vendor has installed > 0
    min_spend: float = 0.0
    max_spend: float | None = None  # None = no cap
    min_share: float = 0.0  # floor C[v,t] >= min_share · C[t] in periods with demand
    max_new_compute: dict[int, float] | None = None  # None = no allocation cap


@dataclass
class PowerBuild:
    """A `power_build` ("Power build-out"): g[τ] GW started in τ, usable from τ + lead_time on."""

    cost_per_gw: dict[int, float]
    block_gw: float | None = None  # None = continuous
    max_gw: dict[int, float] | None = None  # None = unlimited
    lead_time: int = 0
    fixed_cost: dict[int, float] = field(default_factory=dict)  # every period (default 0)

    def ready(self, g: list[float], t: int) -> float:
        """Σ_{τ + lead_time ≤ t} g[τ]: GW built so far that are usable in period index t."""
        return sum(g[tau] for tau in range(len(g)) if tau + self.lead_time <= t)


@dataclass
class Site:
    name: str
    power_cap_gw: dict[int, float] | None  # None = no cap of its own (0s with a power_build and no cap)
    pue: float
    electricity_price: dict[int, float]
    vendors: frozenset[str] | None = None  # None = every vendor
    power_build: PowerBuild | None = None

    def hosts(self, vendor: str) -> bool:
        return self.vendors is None or vendor in self.vendors


@dataclass
class Scenario:
    name: str
    probability: float
    availability: dict[str, float]
    periods: frozenset[int]

    def avail(self, vendor: str, period: int) -> float:
        """Usable fraction a[v, ω] of `vendor`'s compute in `period`."""
        if period not in self.periods:
            return 1.0
        return self.availability.get(vendor, 1.0)


@dataclass
class Risk:
    max_share: float = 1.0
    min_vendors: int = 0
    min_vendor_share: float = 0.1
    survive_vendor_loss: float = 0.0
    hhi_weight: float = 0.0
    max_hhi: float | None = None
    scenarios: list[Scenario] = field(default_factory=list)
    shortfall_penalty: float = 0.0
    cvar_alpha: float = 0.95
    risk_weight: float = 0.0
    max_cvar: float | None = None
    scenario_cvar_weight: float = 0.0
    scenario_cvar_alpha: float = 0.9


@dataclass
class Option:
    """An entry of `options` (contract v3, "capacity options"): whole lots of `offer` reserved
    in `reserve_period`, bought through the option in reserve_period..exercise_until."""

    name: str
    offer: str
    max_units: int  # most units reserved (R · lot <= max_units)
    reserve_cost: float  # $ per unit reserved, capex of reserve_period
    reserve_period: int
    exercise_price: dict[int, float]  # $ per unit exercised, by period (default: the offer's unit_cost)
    exercise_until: int

    def max_lots(self, lot_size: int) -> int:
        """Most whole lots that may be reserved: floor(max_units / lot)."""
        return self.max_units // lot_size

    def window(self, periods: list[int]) -> list[int]:
        """Indices t of the periods in which units may be exercised."""
        return [t for t, period in enumerate(periods) if self.reserve_period <= period <= self.exercise_until]


@dataclass
class DemandScenario:
    """One entry of `demand_scenarios`: a full demand path (demand or workloads)."""

    name: str
    probability: float
    demand: dict[int, float]  # Σ over workloads with workloads
    workloads: dict[str, dict[int, float]] | None = None

    def path(self, period: int) -> tuple:
        """What the scenario demands in `period` (every workload): equal paths share decisions."""
        if self.workloads is None:
            return (self.demand[period],)
        return tuple(sorted((w, d[period]) for w, d in self.workloads.items()))


@dataclass
class Problem:
    name: str
    periods: list[int]
    demand: dict[int, float]
    offers: list[Offer]
    vendors: dict[str, Vendor]  # every vendor some offer names, first-use order
    power_cap_gw: dict[int, float] | None = None
    pue: float = 1.0
    electricity_price: dict[int, float] = field(default_factory=dict)
    budget: dict[int, float] | None = None
    total_budget: float | None = None
    discount_rate: float = 0.0
    risk: Risk = field(default_factory=Risk)
    sites: list[Site] = field(default_factory=list)  # [implicit site] without `sites`
    has_sites: bool = False
    workloads: dict[str, dict[int, float]] | None = None  # None = plain `demand`
    unserved_penalty: float | None = None  # None = demand is a hard requirement
    demand_scenarios: list[DemandScenario] = field(default_factory=list)  # [] = one demand path
    options: list[Option] = field(default_factory=list)  # contract v3's capacity options
    # Memo of workload feasibility by (t, fleet), for the brute force (see checker).
    wl_cache: dict = field(default_factory=dict, repr=False, compare=False)
    # Memo of scenario_problems(self).
    scenario_cache: list = field(default_factory=list, repr=False, compare=False)

    def index(self, period: int) -> int:
        """t of a period (0 for the first one)."""
        return self.periods.index(period)

    def discount(self, t: int) -> float:
        """d_t = (1 + r) ** -t, with t the period's *index*."""
        return (1.0 + self.discount_rate) ** (-t)

    def offers_of(self, vendor: str) -> list[Offer]:
        return [o for o in self.offers if o.vendor == vendor]

    def sites_for(self, offer: Offer) -> list[Site]:
        """Sites where `offer` can be bought (those hosting its vendor)."""
        return [s for s in self.sites if s.hosts(offer.vendor)]

    def offer(self, name: str) -> Offer:
        return next(o for o in self.offers if o.name == name)

    def option_offer(self, option: Option) -> Offer:
        return self.offer(option.offer)

    def build_sites(self) -> list[Site]:
        """Sites with a power_build (the implicit one for a top-level power_build)."""
        return [s for s in self.sites if s.power_build is not None]


# --------------------------------------------------------------------------- #
# Parsing (assumes valid input)
# --------------------------------------------------------------------------- #
def per_period(value: Any, periods: list[int]) -> dict[int, float]:
    """One number, or a mapping naming every period (keys int or "2026")."""
    if isinstance(value, Mapping):
        return {int(k): float(v) for k, v in value.items()}
    return {p: float(value) for p in periods}


def _opt_per_period(value: Any, periods: list[int]) -> dict[int, float] | None:
    return None if value is None else per_period(value, periods)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def parse_offer(raw: Mapping[str, Any], periods: list[int], has_sites: bool = False) -> Offer:
    lifetime = _opt_int(raw.get("lifetime"))
    installed_life = _opt_int(raw.get("installed_life"))
    if installed_life is None:
        installed_life = lifetime  # spec default: `lifetime` (maybe unlimited)
    if raw.get("price_tiers") is not None:
        tiers = [Tier(float(t["from_units"]), per_period(t["unit_cost"], periods)) for t in raw["price_tiers"]]
    else:
        tiers = [Tier(0.0, per_period(raw["unit_cost"], periods))]
    inst = raw.get("installed")
    if has_sites:
        installed_at = {str(s): int(u) for s, u in (inst or {}).items() if int(u) != 0}
    else:
        installed_at = {IMPLICIT_SITE: int(inst or 0)}
    return Offer(
        name=str(raw["name"]),
        vendor=str(raw["vendor"]),
        unit_cost=tiers[0].unit_cost,
        compute=float(raw["compute"]),
        power_kw=float(raw.get("power_kw", 0.0)),
        opex_per_year=float(raw.get("opex_per_year", 0.0)),
        lot_size=int(raw.get("lot_size", 1)),
        min_order=int(raw.get("min_order", 0)),
        max_units=_opt_per_period(raw.get("max_units"), periods),
        lifetime=lifetime,
        lead_time=int(raw.get("lead_time", 0)),
        installed=sum(installed_at.values()),
        installed_life=installed_life,
        tiers=tiers,
        discount=str(raw.get("discount") or "incremental"),
        installed_at=installed_at,
        efficiency={str(w): float(e) for w, e in (raw.get("efficiency") or {}).items()},
    )


def parse_scenario(raw: Mapping[str, Any], periods: list[int]) -> Scenario:
    # Reading: `availability` defaults to {} (no disruption) if omitted.
    listed = raw.get("periods")
    return Scenario(
        name=str(raw.get("name", "")),
        probability=float(raw["probability"]),
        availability={str(v): float(a) for v, a in (raw.get("availability") or {}).items()},
        periods=frozenset(periods if listed is None else (int(p) for p in listed)),
    )


def parse_risk(raw: Mapping[str, Any], periods: list[int]) -> Risk:
    return Risk(
        max_share=float(raw.get("max_share", 1.0)),
        min_vendors=int(raw.get("min_vendors", 0)),
        min_vendor_share=float(raw.get("min_vendor_share", 0.1)),
        survive_vendor_loss=float(raw.get("survive_vendor_loss", 0.0)),
        hhi_weight=float(raw.get("hhi_weight", 0.0)),
        max_hhi=_opt_float(raw.get("max_hhi")),
        scenarios=[parse_scenario(s, periods) for s in raw.get("scenarios", [])],
        shortfall_penalty=float(raw.get("shortfall_penalty", 0.0)),
        cvar_alpha=float(raw.get("cvar_alpha", 0.95)),
        risk_weight=float(raw.get("risk_weight", 0.0)),
        max_cvar=_opt_float(raw.get("max_cvar")),
        scenario_cvar_weight=float(raw.get("scenario_cvar_weight", 0.0)),
        scenario_cvar_alpha=float(raw.get("scenario_cvar_alpha", 0.9)),
    )


def parse_power_build(raw: Mapping[str, Any] | None, periods: list[int]) -> PowerBuild | None:
    """A `power_build` mapping (defaults: continuous, unlimited, lead_time 0, fixed_cost 0)."""
    if raw is None:
        return None
    return PowerBuild(
        cost_per_gw=per_period(raw["cost_per_gw"], periods),
        block_gw=_opt_float(raw.get("block_gw")),
        max_gw=_opt_per_period(raw.get("max_gw"), periods),
        lead_time=int(raw.get("lead_time") or 0),
        fixed_cost=per_period(raw.get("fixed_cost") or 0.0, periods),
    )


def _parse_workloads(raw: Mapping[str, Any], periods: list[int]) -> dict[str, dict[int, float]]:
    return {str(w): per_period(d, periods) for w, d in raw.items()}


def _sum_workloads(workloads: dict[str, dict[int, float]], periods: list[int]) -> dict[int, float]:
    return {p: sum(d[p] for d in workloads.values()) for p in periods}


def parse_demand_scenario(raw: Mapping[str, Any], periods: list[int]) -> DemandScenario:
    if raw.get("workloads") is not None:
        workloads = _parse_workloads(raw["workloads"], periods)
        demand = _sum_workloads(workloads, periods)
    else:
        workloads = None
        demand = per_period(raw["demand"], periods)
    return DemandScenario(str(raw["name"]), float(raw["probability"]), demand, workloads)


def parse_option(raw: Mapping[str, Any], periods: list[int], offers: list[Offer]) -> Option:
    """An `options` entry with its defaults: reserve_period the first period, exercise_until
    the last, reserve_cost 0, exercise_price the offer's unit_cost (its only tier's price)."""
    offer = next(o for o in offers if o.name == str(raw["offer"]))
    price = raw.get("exercise_price")
    return Option(
        name=str(raw["name"]),
        offer=offer.name,
        max_units=int(raw["max_units"]),
        reserve_cost=float(raw.get("reserve_cost") or 0.0),
        reserve_period=int(periods[0] if raw.get("reserve_period") is None else raw["reserve_period"]),
        exercise_price=dict(offer.unit_cost) if price is None else per_period(price, periods),
        exercise_until=int(periods[-1] if raw.get("exercise_until") is None else raw["exercise_until"]),
    )


def parse(raw: Mapping[str, Any] | Problem) -> Problem:
    """Raw problem dict -> `Problem` (defaults filled in).  Assumes valid input."""
    if isinstance(raw, Problem):
        return raw
    periods = [int(p) for p in raw["periods"]]
    has_sites = raw.get("sites") is not None
    offers = [parse_offer(o, periods, has_sites) for o in raw["offers"]]
    risk = parse_risk(raw.get("risk") or {}, periods)
    vendors: dict[str, Vendor] = {}
    for o in offers:
        vendors.setdefault(o.vendor, Vendor(name=o.vendor, max_share=risk.max_share))
        if o.installed > 0:
            vendors[o.vendor].has_installed = True
    for v in raw.get("vendors", []):
        vendor = vendors[str(v["name"])]
        vendor.onboarding_cost = float(v.get("onboarding_cost", 0.0))
        if v.get("max_share") is not None:
            vendor.max_share = float(v["max_share"])
        vendor.min_spend = float(v.get("min_spend") or 0.0)
        vendor.max_spend = _opt_float(v.get("max_spend"))
        vendor.min_share = float(v.get("min_share") or 0.0)
        vendor.max_new_compute = _opt_per_period(v.get("max_new_compute"), periods)
    top_cap = _opt_per_period(raw.get("power_cap_gw"), periods)
    top_pue = float(raw.get("pue", 1.0))
    top_price = per_period(raw.get("electricity_price", 0.0), periods)
    zero = dict.fromkeys(periods, 0.0)
    if has_sites:
        sites = []
        for s in raw["sites"]:
            cap = s.get("power_cap_gw")
            price = s.get("electricity_price")
            listed = s.get("vendors")
            build = parse_power_build(s.get("power_build"), periods)
            if cap is not None:
                site_cap = per_period(cap, periods)
            elif build is not None:
                site_cap = dict(zero)  # reading: missing at the site's level counts as 0 (not the top-level cap)
            else:
                site_cap = top_cap  # v1 default
            sites.append(
                Site(
                    name=str(s["name"]),
                    power_cap_gw=site_cap,
                    pue=top_pue if s.get("pue") is None else float(s["pue"]),
                    electricity_price=top_price if price is None else per_period(price, periods),
                    vendors=None if listed is None else frozenset(str(v) for v in listed),
                    power_build=build,
                )
            )
    else:
        build = parse_power_build(raw.get("power_build"), periods)
        if build is None:
            sites = [Site(IMPLICIT_SITE, None, top_pue, top_price, None)]
        else:
            # The top-level cap is the one that is built: it moves onto the implicit site.
            site_cap = dict(zero) if top_cap is None else top_cap
            sites = [Site(IMPLICIT_SITE, site_cap, top_pue, top_price, None, build)]
            top_cap = None
    workloads = None
    demand_scenarios = []
    if raw.get("demand_scenarios") is not None:
        demand_scenarios = [parse_demand_scenario(s, periods) for s in raw["demand_scenarios"]]
        demand = {}
    elif raw.get("workloads") is not None:
        workloads = _parse_workloads(raw["workloads"], periods)
        demand = _sum_workloads(workloads, periods)
    else:
        demand = per_period(raw["demand"], periods)
    unserved = raw.get("unserved_penalty")
    return Problem(
        name=str(raw.get("name", "plan")),
        periods=periods,
        demand=demand,
        offers=offers,
        vendors=vendors,
        power_cap_gw=top_cap,
        pue=top_pue,
        electricity_price=top_price,
        budget=_opt_per_period(raw.get("budget"), periods),
        total_budget=_opt_float(raw.get("total_budget")),
        discount_rate=float(raw.get("discount_rate", 0.0)),
        risk=risk,
        sites=sites,
        has_sites=has_sites,
        workloads=workloads,
        unserved_penalty=None if unserved is None else float(unserved),
        demand_scenarios=demand_scenarios,
        options=[parse_option(x, periods, offers) for x in raw.get("options") or []],
    )


def scenario_problems(problem: Mapping[str, Any] | Problem) -> list[tuple[str, float, Problem]]:
    """[(name, probability, problem with that scenario's demand)] ("Demand scenarios").

    Each problem is `problem` with the scenario's `demand` / `workloads` and no
    demand scenarios: a v1 problem (plus unserved demand and power build-out).
    Without demand scenarios: ``[("", 1.0, problem)]``.  Memoized on the problem.
    """
    p = parse(problem)
    if not p.demand_scenarios:
        return [("", 1.0, p)]
    if not p.scenario_cache:
        for s in p.demand_scenarios:
            q = dataclasses.replace(
                p, demand=dict(s.demand), workloads=s.workloads, demand_scenarios=[], wl_cache={}, scenario_cache=[]
            )
            p.scenario_cache.append((s.name, s.probability, q))
    return list(p.scenario_cache)


def shared_history(problem: Mapping[str, Any] | Problem) -> list[list[list[str]]]:
    """groups[t]: the scenarios whose demand (every workload) is equal in every period τ ≤ t.

    A partition of the scenario names for each period index t, in scenario order;
    decisions of period t are equal within a group (non-anticipativity).  Demand
    values are compared exactly (as parsed floats).  Without demand scenarios:
    one group [""] per period.
    """
    p = parse(problem)
    if not p.demand_scenarios:
        return [[[""]] for _ in p.periods]
    groups = []
    for t in range(len(p.periods)):
        by_history: dict[tuple, list[str]] = {}
        for s in p.demand_scenarios:
            key = tuple(s.path(period) for period in p.periods[: t + 1])
            by_history.setdefault(key, []).append(s.name)
        groups.append(list(by_history.values()))
    return groups


# --------------------------------------------------------------------------- #
# Light validation (used to self-check the hypothesis strategies)
# --------------------------------------------------------------------------- #
def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x: Any) -> bool:
    # Reading: an int field must be a true int (1.5, True and "3" are errors).
    return isinstance(x, int) and not isinstance(x, bool)


def _period_key(k: Any) -> int | None:
    if _is_int(k):
        return k
    if isinstance(k, str):
        try:
            return int(k)
        except ValueError:
            return None
    return None


class _Errors(list):
    def check(self, ok: bool, path: str, msg: str) -> bool:
        if not ok:
            self.append(f"{path}: {msg}")
        return ok


def _check_num(
    err: _Errors,
    raw: Mapping,
    key: str,
    path: str,
    *,
    lo: float | None = None,
    lo_open: bool = False,
    hi: float | None = None,
    hi_open: bool = False,
    integer: bool = False,
    required: bool = False,
) -> None:
    if key not in raw or raw[key] is None:
        err.check(not required, f"{path}{key}", "required")
        return
    x = raw[key]
    p = f"{path}{key}"
    if not err.check(
        _is_int(x) if integer else _is_num(x), p, f"expected {'an int' if integer else 'a finite number'}, got {x!r}"
    ):
        return
    if lo is not None:
        err.check(x > lo if lo_open else x >= lo, p, f"{x!r} out of range")
    if hi is not None:
        err.check(x < hi if hi_open else x <= hi, p, f"{x!r} out of range")


def _check_per_period(
    err: _Errors,
    raw: Mapping,
    key: str,
    path: str,
    periods: list[int] | None,
    *,
    lo: float | None = None,
    required: bool = False,
) -> None:
    p = f"{path}{key}"
    if key not in raw or raw[key] is None:
        err.check(not required, p, "required")
        return
    v = raw[key]
    if isinstance(v, Mapping):
        keys = []
        for k, x in v.items():
            pk = _period_key(k)
            err.check(pk is not None, p, f"bad period key {k!r}")
            keys.append(pk)
            if err.check(_is_num(x), p, f"[{k!r}] expected a finite number, got {x!r}") and lo is not None:
                err.check(x >= lo, p, f"[{k!r}] {x!r} < {lo}")
        if periods is not None:
            err.check(
                sorted(k for k in keys if k is not None) == sorted(periods) and len(keys) == len(set(keys)),
                p,
                f"keys {sorted(map(str, keys))} must name every period {periods} exactly once",
            )
    elif err.check(_is_num(v), p, f"expected a number or a mapping, got {v!r}") and lo is not None:
        err.check(v >= lo, p, f"{v!r} < {lo}")


def _check_tiers(err: _Errors, tiers: Any, path: str, periods: list[int] | None) -> None:
    """price_tiers: non-empty list of {from_units, unit_cost}; first at 0, from_units rising strictly."""
    if not err.check(isinstance(tiers, list) and len(tiers) > 0, path, f"expected a non-empty list, got {tiers!r}"):
        return
    prev: float | None = None
    for k, t in enumerate(tiers):
        p = f"{path}[{k}]"
        if not err.check(isinstance(t, Mapping), p, "expected a mapping"):
            prev = None
            continue
        _unknown(err, t, TIER_FIELDS, p + ".")
        _check_num(err, t, "from_units", p + ".", lo=0.0, required=True)
        _check_per_period(err, t, "unit_cost", p + ".", periods, lo=0.0, required=True)
        f = t.get("from_units")
        if not _is_num(f):
            prev = None
            continue
        if k == 0:
            err.check(f == 0, p + ".from_units", f"first tier must start at 0, got {f!r}")
        elif prev is not None:
            err.check(f > prev, p + ".from_units", f"{f!r} not above the previous tier's {prev!r}")
        prev = f


def _unknown(err: _Errors, raw: Mapping, allowed: set[str], path: str) -> None:
    for k in raw:
        err.check(k in allowed, f"{path}{k}", "unknown field")


def _check_power_build(err: _Errors, pb: Any, path: str, periods: list[int] | None) -> None:
    """ "Power build-out": cost_per_gw per-period >= 0 (required), block_gw > 0, max_gw
    per-period >= 0, lead_time int >= 0, fixed_cost per-period >= 0."""
    if not err.check(isinstance(pb, Mapping), path, f"expected a mapping, got {pb!r}"):
        return
    p = path + "."
    _unknown(err, pb, POWER_BUILD_FIELDS, p)
    _check_per_period(err, pb, "cost_per_gw", p, periods, lo=0.0, required=True)
    _check_num(err, pb, "block_gw", p, lo=0.0, lo_open=True)
    _check_per_period(err, pb, "max_gw", p, periods, lo=0.0)
    _check_num(err, pb, "lead_time", p, lo=0, integer=True)
    _check_per_period(err, pb, "fixed_cost", p, periods, lo=0.0)


def _check_workloads(err: _Errors, wl: Any, path: str, periods: list[int] | None) -> set[str] | None:
    """A non-empty mapping {name: per-period demand}; its names, or None if malformed."""
    if not err.check(
        isinstance(wl, Mapping) and len(wl) > 0 and all(isinstance(w, str) for w in wl),
        path,
        f"expected a non-empty mapping {{name: per-period demand}}, got {wl!r}",
    ):
        return None
    for w in wl:
        _check_per_period(err, wl, w, path + ".", periods, required=True)
    return set(wl)


def _check_demand_scenarios(err: _Errors, scen: Any, periods: list[int] | None) -> set[str] | None:
    """ "Demand scenarios": a non-empty list (reading: [] is invalid) of {name, probability,
    demand | workloads}; unique names, probabilities > 0 summing to 1 (within
    PROBABILITY_TOL), demand xor workloads in each, the same workload names in every
    scenario (reading: a scenario with `demand` has none, so demand and workloads do not
    mix).  Returns the workload names (set() with plain demand), None if undecidable."""
    if not err.check(
        isinstance(scen, list) and len(scen) > 0, "demand_scenarios", f"expected a non-empty list, got {scen!r}"
    ):
        return None
    names: set[str] = set()
    total = 0.0
    total_ok = True
    kinds: list[tuple[int, frozenset[str] | None]] = []  # (k, workload names; frozenset() = demand)
    for k, s in enumerate(scen):
        path = f"demand_scenarios[{k}]"
        if not err.check(isinstance(s, Mapping), path, f"expected a mapping, got {s!r}"):
            total_ok = False
            continue
        _unknown(err, s, DEMAND_SCENARIO_FIELDS, path + ".")
        name = s.get("name")
        if err.check(isinstance(name, str), path + ".name", f"expected a string, got {name!r}"):
            err.check(name not in names, path + ".name", f"duplicate scenario name {name!r}")
            names.add(name)
        _check_num(err, s, "probability", path + ".", lo=0.0, lo_open=True, hi=1.0, required=True)
        if _is_num(s.get("probability")):
            total += s["probability"]
        else:
            total_ok = False
        has_d = s.get("demand") is not None
        has_w = s.get("workloads") is not None
        if has_d and has_w:
            err.append(f"{path}: give either demand or workloads, not both")
        elif not has_d and not has_w:
            err.append(f"{path}: demand or workloads required")
        elif has_d:
            _check_per_period(err, s, "demand", path + ".", periods, required=True)
            kinds.append((k, frozenset()))
        else:
            wl = _check_workloads(err, s["workloads"], path + ".workloads", periods)
            kinds.append((k, None if wl is None else frozenset(wl)))
    if total_ok:
        err.check(abs(total - 1.0) <= PROBABILITY_TOL, "demand_scenarios", f"probabilities sum to {total!r}, not 1")
    known = [(k, w) for k, w in kinds if w is not None]
    if not known:
        return None
    k0, first = known[0]
    for k, w in known[1:]:
        if w == first:
            continue
        if not w or not first:
            kind = "workloads" if first else "demand"
            err.append(f"demand_scenarios[{k}]: scenario {k0} gives {kind}; demand and workloads do not mix")
        else:
            err.append(f"demand_scenarios[{k}].workloads: {sorted(w)} differ from scenario {k0}'s {sorted(first)}")
    return set().union(*(w for _, w in known))


def validate(raw: Any) -> list[str]:
    """Messages ("path: problem") for everything the spec makes invalid; [] if valid."""
    err = _Errors()
    if not err.check(isinstance(raw, Mapping), "problem", "expected a mapping"):
        return err
    _unknown(err, raw, TOP_FIELDS, "")
    if "name" in raw:
        err.check(isinstance(raw["name"], str), "name", "expected a string")

    periods: list[int] | None = None
    ps = raw.get("periods")
    if err.check(
        isinstance(ps, list) and len(ps) > 0 and all(_is_int(p) for p in ps),
        "periods",
        f"expected a non-empty list of ints, got {ps!r}",
    ):
        if err.check(all(b == a + 1 for a, b in itertools.pairwise(ps)), "periods", f"{ps} not consecutive"):
            periods = list(ps)

    # demand xor workloads (or neither, with demand_scenarios).
    has_demand = raw.get("demand") is not None
    has_workloads = raw.get("workloads") is not None
    workload_names: set[str] | None = None
    if raw.get("demand_scenarios") is not None:
        err.check(not has_demand, "demand", "not allowed with demand_scenarios")
        err.check(not has_workloads, "workloads", "not allowed with demand_scenarios")
        workload_names = _check_demand_scenarios(err, raw["demand_scenarios"], periods)
    elif has_workloads:
        err.check(not has_demand, "workloads", "give either demand or workloads, not both")
        wl = raw["workloads"]
        if err.check(
            isinstance(wl, Mapping) and len(wl) > 0 and all(isinstance(w, str) for w in wl),
            "workloads",
            f"expected a non-empty mapping {{name: per-period demand}}, got {wl!r}",
        ):
            workload_names = set(wl)
            for w in wl:
                # Reading: like demand, the sign of a workload's demand is not checked.
                _check_per_period(err, wl, w, "workloads.", periods, required=True)
    else:
        workload_names = set()
        _check_per_period(err, raw, "demand", "", periods, required=True)
    # Reading: demand sign is not restricted by the spec ("may be 0"); not checked.

    # Sites (structure first: offers' `installed` needs the names and hosted vendors).
    has_sites = raw.get("sites") is not None
    site_hosts: dict[str, set[str] | None] = {}  # name -> hosted vendors (None = all)
    sites = raw.get("sites")
    sites_ok = has_sites and isinstance(sites, list) and len(sites) > 0
    if has_sites:
        err.check(sites_ok, "sites", f"expected a non-empty list of sites, got {sites!r}")
    if sites_ok:
        for s in sites:
            if isinstance(s, Mapping) and isinstance(s.get("name"), str) and s["name"] not in site_hosts:
                vs = s.get("vendors")
                site_hosts[s["name"]] = set(vs) if isinstance(vs, list) else None
    _check_per_period(err, raw, "power_cap_gw", "", periods)
    _check_per_period(err, raw, "electricity_price", "", periods)
    _check_per_period(err, raw, "budget", "", periods)
    _check_num(err, raw, "pue", "", lo=1.0)
    _check_num(err, raw, "total_budget", "")
    _check_num(err, raw, "discount_rate", "", lo=0.0)
    _check_num(err, raw, "unserved_penalty", "", lo=0.0)
    if raw.get("power_build") is not None:
        err.check(not has_sites, "power_build", "top-level power_build is only allowed without sites")
        _check_power_build(err, raw["power_build"], "power_build", periods)

    offer_vendors: set[str] = set()
    offer_tiered: dict[str, bool] = {}  # offer name -> has price_tiers (for options' exercise_price)
    offers = raw.get("offers")
    if err.check(isinstance(offers, list) and len(offers) > 0, "offers", "expected a non-empty list"):
        names: set[str] = set()
        for i, o in enumerate(offers):
            path = f"offers[{i}]."
            if not err.check(isinstance(o, Mapping), f"offers[{i}]", "expected a mapping"):
                continue
            _unknown(err, o, OFFER_FIELDS, path)
            name = o.get("name")
            if err.check(isinstance(name, str), path + "name", f"expected a string, got {name!r}"):
                err.check(name not in names, path + "name", f"duplicate offer name {name!r}")
                names.add(name)
                offer_tiered[name] = o.get("price_tiers") is not None
            vendor = o.get("vendor")
            if err.check(isinstance(vendor, str), path + "vendor", f"expected a string, got {vendor!r}"):
                offer_vendors.add(vendor)
            # Reading: unit_cost is a price, so >= 0.  Exactly one of unit_cost / price_tiers.
            if o.get("price_tiers") is not None:
                err.check(o.get("unit_cost") is None, path + "price_tiers", "give unit_cost or price_tiers, not both")
                _check_tiers(err, o["price_tiers"], path + "price_tiers", periods)
            elif o.get("unit_cost") is None:
                err.append(f"{path}unit_cost: required (or price_tiers)")
            else:
                _check_per_period(err, o, "unit_cost", path, periods, lo=0.0, required=True)
            if o.get("discount") is not None:
                err.check(
                    o["discount"] in DISCOUNT_KINDS,
                    path + "discount",
                    f"{o['discount']!r} is not one of {', '.join(DISCOUNT_KINDS)}",
                )
            if o.get("efficiency") is not None:
                eff = o["efficiency"]
                if err.check(isinstance(eff, Mapping), path + "efficiency", f"expected a mapping, got {eff!r}"):
                    for w, e in eff.items():
                        if workload_names is not None:
                            err.check(w in workload_names, path + "efficiency", f"[{w!r}] is not a workload")
                        err.check(_is_num(e) and e >= 0, path + "efficiency", f"[{w!r}] {e!r} not a number >= 0")
            _check_num(err, o, "compute", path, lo=0.0, lo_open=True, required=True)
            _check_num(err, o, "power_kw", path, lo=0.0)
            _check_num(err, o, "opex_per_year", path, lo=0.0)
            _check_num(err, o, "lot_size", path, lo=1, integer=True)
            _check_num(err, o, "min_order", path, lo=0, integer=True)
            _check_per_period(err, o, "max_units", path, periods, lo=0.0)
            _check_num(err, o, "lifetime", path, lo=1, integer=True)
            _check_num(err, o, "lead_time", path, lo=0, integer=True)
            if has_sites and o.get("installed") is not None:
                inst = o["installed"]
                if err.check(
                    isinstance(inst, Mapping), path + "installed", f"with sites, expected {{site: units}}, got {inst!r}"
                ):
                    for site, u in inst.items():
                        p = path + "installed"
                        if not err.check(_is_int(u) and u >= 0, p, f"[{site!r}] {u!r} not an int >= 0"):
                            continue
                        if sites_ok and err.check(site in site_hosts, p, f"[{site!r}] is not a site"):
                            hosts = site_hosts[site]
                            err.check(
                                u == 0 or hosts is None or vendor in hosts,
                                p,
                                f"[{site!r}] site does not host vendor {vendor!r}",
                            )
            else:
                _check_num(err, o, "installed", path, lo=0, integer=True)
            _check_num(err, o, "installed_life", path, lo=1, integer=True)

    vendors = raw.get("vendors", [])
    if err.check(isinstance(vendors, list), "vendors", "expected a list"):
        for j, v in enumerate(vendors):
            path = f"vendors[{j}]."
            if not err.check(isinstance(v, Mapping), f"vendors[{j}]", "expected a mapping"):
                continue
            _unknown(err, v, VENDOR_FIELDS, path)
            err.check(v.get("name") in offer_vendors, path + "name", f"{v.get('name')!r} is not a vendor of any offer")
            _check_num(err, v, "onboarding_cost", path, lo=0.0)
            _check_num(err, v, "max_share", path, lo=0.0, lo_open=True, hi=1.0)
            _check_num(err, v, "min_spend", path, lo=0.0)
            _check_num(err, v, "max_spend", path, lo=0.0)
            _check_num(err, v, "min_share", path, lo=0.0, hi=1.0, hi_open=True)
            _check_per_period(err, v, "max_new_compute", path, periods, lo=0.0)

    if sites_ok:
        seen: set[str] = set()
        for j, s in enumerate(sites):
            path = f"sites[{j}]."
            if not err.check(isinstance(s, Mapping), f"sites[{j}]", "expected a mapping"):
                continue
            _unknown(err, s, SITE_FIELDS, path)
            name = s.get("name")
            if err.check(isinstance(name, str), path + "name", f"expected a string, got {name!r}"):
                err.check(name not in seen, path + "name", f"duplicate site name {name!r}")
                seen.add(name)
            _check_per_period(err, s, "power_cap_gw", path, periods)
            _check_per_period(err, s, "electricity_price", path, periods)
            _check_num(err, s, "pue", path, lo=1.0)
            if s.get("power_build") is not None:
                _check_power_build(err, s["power_build"], path + "power_build", periods)
            vs = s.get("vendors")
            if vs is not None and err.check(
                isinstance(vs, list) and all(isinstance(v, str) for v in vs),
                path + "vendors",
                f"expected a list of vendor names, got {vs!r}",
            ):
                for v in vs:
                    err.check(v in offer_vendors, path + "vendors", f"{v!r} is not a vendor of any offer")

    risk = raw.get("risk", {})
    if err.check(isinstance(risk, Mapping), "risk", "expected a mapping"):
        _unknown(err, risk, RISK_FIELDS, "risk.")
        _check_num(err, risk, "max_share", "risk.", lo=0.0, lo_open=True, hi=1.0)
        _check_num(err, risk, "min_vendors", "risk.", lo=0, integer=True)
        _check_num(err, risk, "min_vendor_share", "risk.", lo=0.0, lo_open=True, hi=1.0)
        _check_num(err, risk, "survive_vendor_loss", "risk.", lo=0.0, hi=1.0)
        _check_num(err, risk, "hhi_weight", "risk.", lo=0.0)
        _check_num(err, risk, "max_hhi", "risk.", lo=0.0, lo_open=True, hi=1.0)
        _check_num(err, risk, "shortfall_penalty", "risk.", lo=0.0)
        _check_num(err, risk, "cvar_alpha", "risk.", lo=0.0, hi=1.0, hi_open=True)
        _check_num(err, risk, "risk_weight", "risk.", lo=0.0)
        _check_num(err, risk, "max_cvar", "risk.", lo=0.0)
        _check_num(err, risk, "scenario_cvar_weight", "risk.", lo=0.0)
        _check_num(err, risk, "scenario_cvar_alpha", "risk.", lo=0.0, hi=1.0, hi_open=True)
        scenarios = risk.get("scenarios", [])
        if err.check(isinstance(scenarios, list), "risk.scenarios", "expected a list"):
            total = 0.0
            for k, s in enumerate(scenarios):
                path = f"risk.scenarios[{k}]."
                if not err.check(isinstance(s, Mapping), f"risk.scenarios[{k}]", "expected a mapping"):
                    continue
                _unknown(err, s, SCENARIO_FIELDS, path)
                _check_num(err, s, "probability", path, lo=0.0, hi=1.0, required=True)
                if _is_num(s.get("probability")):
                    total += s["probability"]
                av = s.get("availability", {})
                if err.check(isinstance(av, Mapping), path + "availability", "expected a mapping"):
                    for vname, a in av.items():
                        err.check(
                            _is_num(a) and 0.0 <= a <= 1.0,
                            f"{path}availability",
                            f"[{vname!r}] {a!r} not a fraction in [0, 1]",
                        )
                sp = s.get("periods")
                if sp is not None and periods is not None:
                    err.check(
                        isinstance(sp, list) and all(_period_key(q) in periods for q in sp),
                        path + "periods",
                        f"{sp!r} not a list of periods",
                    )
            err.check(total <= 1.0 + 1e-12, "risk.scenarios", f"probabilities sum to {total} > 1")
    if isinstance(vendors, list):
        _check_min_shares(err, vendors, risk)
    if raw.get("options") is not None:
        _check_options(err, raw["options"], periods, offer_tiered)
    return err


def _check_options(err: _Errors, options: Any, periods: list[int] | None, offer_tiered: dict[str, bool]) -> None:
    """Contract v3's capacity options: a list of mappings (reading: [] is no option) with a
    unique str `name`, an `offer` naming an offer, `max_units` an int >= 0 (required),
    `reserve_cost` >= 0, `reserve_period` / `exercise_until` periods of the horizon (int, or
    a string naming one, as per-period keys), `exercise_until` not before `reserve_period`
    (its default, the first period, when absent), `exercise_price` per-period >= 0 and
    required when the offer has `price_tiers`."""
    if not err.check(isinstance(options, list), "options", f"expected a list of options, got {options!r}"):
        return
    names: set[str] = set()
    for k, x in enumerate(options):
        path = f"options[{k}]."
        if not err.check(isinstance(x, Mapping), f"options[{k}]", f"expected a mapping, got {x!r}"):
            continue
        _unknown(err, x, OPTION_FIELDS, path)
        name = x.get("name")
        if err.check(isinstance(name, str), path + "name", f"expected a string, got {name!r}"):
            err.check(name not in names, path + "name", f"duplicate option name {name!r}")
            names.add(name)
        offer = x.get("offer")
        known = isinstance(offer, str) and offer in offer_tiered
        if offer is None:
            err.append(f"{path}offer: required")
        else:
            err.check(known, path + "offer", f"{offer!r} is not an offer")
        _check_num(err, x, "max_units", path, lo=0, integer=True, required=True)
        _check_num(err, x, "reserve_cost", path, lo=0.0)
        _check_per_period(err, x, "exercise_price", path, periods, lo=0.0)
        if known and offer_tiered[offer] and x.get("exercise_price") is None:
            err.append(f"{path}exercise_price: required for offer {offer!r}, which has price_tiers")
        window: list[int | None] = []  # the bounds given (None: absent or bad; 0 is a period like any)
        valid = True
        for key in ("reserve_period", "exercise_until"):
            value = x.get(key)
            if value is None:
                window.append(None)
                continue
            period = _period_key(value) if not isinstance(value, bool) else None
            ok = err.check(
                period is not None and (periods is None or period in periods),
                path + key,
                f"{value!r} is not a period of {periods}",
            )
            valid = valid and ok
            window.append(period if ok else None)
        start, until = window
        if periods is not None and valid and until is not None:
            first = periods[0] if start is None else start
            err.check(until >= first, path + "exercise_until", f"{until} is before reserve_period {first}")


def _share_in(x: Any, lo_open: bool, hi_open: bool) -> bool:
    """x a number in (0 or [0, to 1) or 1]."""
    return _is_num(x) and (x > 0 if lo_open else x >= 0) and (x < 1 if hi_open else x <= 1)


def _check_min_shares(err: _Errors, vendors: list, risk: Any) -> None:
    """Contract v3's cross-field rules: a vendor's min_share above its max_share (its own,
    else risk.max_share, else 1) -> "vendors[j].min_share"; min_share summed over vendors
    above 1 (+ MIN_SHARE_SUM_TOL) -> "vendors".  Checked only when every min_share given
    is valid (a bad one is reported on its own), a max_share only when it is valid."""
    entries = [(j, v) for j, v in enumerate(vendors) if isinstance(v, Mapping) and v.get("min_share") is not None]
    if not all(_share_in(v["min_share"], False, True) for _, v in entries):
        return
    default = 1.0
    if isinstance(risk, Mapping) and risk.get("max_share") is not None:
        default = risk["max_share"] if _share_in(risk["max_share"], True, False) else None
    for j, v in entries:
        cap = v["max_share"] if v.get("max_share") is not None else default
        if cap is None or not _share_in(cap, True, False):
            continue
        err.check(
            v["min_share"] <= cap,
            f"vendors[{j}].min_share",
            f"{v['min_share']!r} above vendor {v.get('name')!r}'s max_share {cap!r}",
        )
    total = sum(v["min_share"] for _, v in entries)
    err.check(total <= 1.0 + MIN_SHARE_SUM_TOL, "vendors", f"min_share summed over vendors is {total!r} > 1")
