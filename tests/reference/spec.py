"""Normalized view of a raw `procure` problem dict (contract v1).

Covers the spec sections "Conventions", "Fields", "The model" and "Commercial
terms, sites and workloads" (price tiers, vendor spend terms, sites, workloads).

Internally a problem without `sites` has one implicit site (`IMPLICIT_SITE`)
with no cap of its own, the top-level `pue` and `electricity_price`, hosting
every vendor; a problem without `workloads` has `workloads = None` and its
`demand`.  With workloads, `demand[t]` is the sum over workloads (what the risk
terms read).  An offer with `unit_cost` has one tier starting at 0.

`parse()` assumes valid input and does no checking.  `validate()` is a light,
independent reading of the validity rules; it exists so the test-suite can
check that `strategies.problems()` only produces valid problems and that every
mutation of `strategies.invalid_problems()` is invalid.
"""

from __future__ import annotations

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
SITE_FIELDS = {"name", "power_cap_gw", "pue", "electricity_price", "vendors"}
VENDOR_FIELDS = {"name", "onboarding_cost", "max_share", "min_spend", "max_spend"}
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
}
SCENARIO_FIELDS = {"name", "probability", "availability", "periods"}

KW_PER_GW = 1e6
MWH_PER_KW_YEAR = 8.76
IMPLICIT_SITE = ""  # the one site of a problem without `sites`
UNIT_SNAP = 1e-6  # units within this of a whole number pick their all_units tier as that number


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


@dataclass
class Site:
    name: str
    power_cap_gw: dict[int, float] | None  # None = no cap of its own
    pue: float
    electricity_price: dict[int, float]
    vendors: frozenset[str] | None = None  # None = every vendor

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
    # Memo of workload feasibility by (t, fleet), for the brute force (see checker).
    wl_cache: dict = field(default_factory=dict, repr=False, compare=False)

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
    top_cap = _opt_per_period(raw.get("power_cap_gw"), periods)
    top_pue = float(raw.get("pue", 1.0))
    top_price = per_period(raw.get("electricity_price", 0.0), periods)
    if has_sites:
        sites = []
        for s in raw["sites"]:
            cap = s.get("power_cap_gw")
            price = s.get("electricity_price")
            listed = s.get("vendors")
            sites.append(
                Site(
                    name=str(s["name"]),
                    power_cap_gw=top_cap if cap is None else per_period(cap, periods),
                    pue=top_pue if s.get("pue") is None else float(s["pue"]),
                    electricity_price=top_price if price is None else per_period(price, periods),
                    vendors=None if listed is None else frozenset(str(v) for v in listed),
                )
            )
    else:
        sites = [Site(IMPLICIT_SITE, None, top_pue, top_price, None)]
    workloads = None
    if raw.get("workloads") is not None:
        workloads = {str(w): per_period(d, periods) for w, d in raw["workloads"].items()}
        demand = {p: sum(d[p] for d in workloads.values()) for p in periods}
    else:
        demand = per_period(raw["demand"], periods)
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
    )


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

    # demand xor workloads.
    has_demand = raw.get("demand") is not None
    has_workloads = raw.get("workloads") is not None
    workload_names: set[str] | None = None
    if has_workloads:
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

    offer_vendors: set[str] = set()
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
    return err
