"""The problem: frozen dataclasses for offers, vendors, risk terms and the whole problem.

A `Problem` is always valid: it is checked field by field when it is built
(from a mapping, a file, or Python objects), and its per-period fields are
normalized to tuples aligned with ``periods``.  ``Problem.to_dict()`` gives
back the public mapping format, and ``Problem.from_dict(p.to_dict()) == p``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..base.hooks import provide, provided
from .inputs import Inputs, inputs_of
from .io import read_mapping, write_json
from .validate import (
    BUILD_FIELDS,
    DEMAND_SCENARIO_FIELDS,
    OFFER_FIELDS,
    OPTION_FIELDS,
    PROBLEM_FIELDS,
    RISK_FIELDS,
    SCENARIO_FIELDS,
    SITE_FIELDS,
    TIER_FIELDS,
    VENDOR_FIELDS,
    validate_problem,
)

__all__ = [
    "CapacityOption",
    "DemandScenario",
    "Offer",
    "PerPeriod",
    "PerPeriodLike",
    "PowerBuild",
    "Problem",
    "Risk",
    "Vendor",
    "as_problem",
]

#: Fields that hold a per-period value (stored as tuples aligned with ``periods``).
PER_PERIOD_FIELDS = frozenset(
    {
        "demand",
        "power_cap_gw",
        "electricity_price",
        "budget",
        "unit_cost",
        "max_units",
        "max_new_compute",
        "exercise_price",
        "cost_per_gw",
        "max_gw",
        "fixed_cost",
    }
)

#: A per-period value as stored: one number per period, aligned with ``Problem.periods``.
PerPeriod = tuple[float, ...]

#: A per-period value as it may be given: one number, a mapping {period: number},
#: or a tuple aligned with ``Problem.periods``; it is stored as a `PerPeriod`.
PerPeriodLike = float | Mapping[int, float] | tuple[float, ...]


@dataclass(frozen=True)
class PriceTier:
    """A volume price: units from ``from_units`` on cost ``unit_cost`` (per-period).

    Parameters
    ----------
    from_units : int
        The first unit (of an offer bought in one period) this price applies to; the
        first tier starts at 0.
    unit_cost : PerPeriod
        $ per unit in this tier, per period.
    """

    from_units: int
    unit_cost: PerPeriod


@dataclass(frozen=True)
class Offer:
    """Something that can be bought: one chip model from one vendor.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"tpu-v7"``.
    vendor : str
        Vendor name, e.g. ``"google"``.
    unit_cost : per-period, optional
        Dollars per unit bought in that period (or give ``price_tiers``).
    compute : float
        Compute per operational unit (same unit as ``demand``), > 0.
    power_kw : float
        IT power per operational unit, kW.
    opex_per_year : float
        Dollars per operational unit per period, besides energy.
    lot_size : int
        Units are bought in whole lots (pods, racks).
    min_order : int
        In a period, buy 0 units or at least this many.
    max_units : per-period, optional
        Most units that can be bought in a period (supply); unlimited if None.
    lifetime : int, optional
        Periods a unit stays operational; unlimited if None.
    lead_time : int
        A unit bought in period ``t`` is operational from ``t + lead_time``.
    installed : int, or mapping site -> int
        Units already operational in the first period (per site when the
        problem has sites).
    installed_life : int, optional
        Periods the installed units stay operational (default: ``lifetime``).
    price_tiers : tuple of PriceTier, optional
        Volume prices for the units bought in one period, instead of ``unit_cost``.
    discount : {"incremental", "all_units"}
        How tiers apply: each unit at its own tier's price (incremental), or
        every unit at the price of the tier the quantity reaches (all_units).
    efficiency : mapping workload -> float, optional
        Fraction of ``compute`` that counts toward each workload (default 1).
    """

    name: str
    vendor: str
    unit_cost: PerPeriod | None = None
    compute: float = 0.0
    power_kw: float = 0.0
    opex_per_year: float = 0.0
    lot_size: int = 1
    min_order: int = 0
    max_units: PerPeriod | None = None
    lifetime: int | None = None
    lead_time: int = 0
    installed: int | Mapping[str, int] = 0
    installed_life: int | None = None
    price_tiers: tuple[PriceTier, ...] | None = None
    discount: str = "incremental"
    efficiency: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Vendor:
    """Per-vendor terms.

    Parameters
    ----------
    name : str
        Must be the vendor of some offer.
    onboarding_cost : float
        Paid once (undiscounted) if any unit of this vendor is bought; not
        charged for a vendor that already has installed units.
    max_share : float, optional
        Cap on this vendor's share of operational compute; default
        ``Risk.max_share``.
    min_spend : float
        Take-or-pay: undiscounted capex with this vendor over the horizon
        below this is still paid (as in the first period).
    max_spend : float, optional
        Cap on undiscounted capex with this vendor over the horizon.
    min_share : float
        A floor commitment: this vendor's operational compute ≥ ``min_share`` × the
        total, in every period with demand (0: none).
    max_new_compute : per-period, optional
        The vendor's allocation: compute of this vendor's units bought in a period (all
        offers and sites, counted when bought, before any lead time) at most this.
    """

    name: str
    onboarding_cost: float = 0.0
    max_share: float | None = None
    min_spend: float = 0.0
    max_spend: float | None = None
    min_share: float = 0.0
    max_new_compute: PerPeriod | None = None


@dataclass(frozen=True)
class CapacityOption:
    """Supply reserved now and bought later only if needed (the "up to" clause of a deal).

    Parameters
    ----------
    name : str
        Unique among the problem's options.
    offer : str
        The offer whose units are reserved; its lot size, compute, power, lifetime and lead
        time apply to units bought through the option.
    max_units : int
        Most units that may be reserved (whole lots).
    reserve_cost : float
        $ per unit reserved, paid in ``reserve_period`` (capex: discounted, in that period's
        budget and the vendor's spend).
    reserve_period : int
        When the reservation is decided and paid (default: the first period).
    exercise_price : per-period
        $ per unit bought through the option (default: the offer's unit cost).
    exercise_until : int
        Last period in which reserved units may be bought (default: the last period).
    """

    name: str
    offer: str
    max_units: int
    reserve_cost: float = 0.0
    reserve_period: int | None = None
    exercise_price: PerPeriod | None = None
    exercise_until: int | None = None


@dataclass(frozen=True)
class PowerBuild:
    """Facility power that can be built (at top level without sites, or at a site).

    Parameters
    ----------
    cost_per_gw : per-period
        Dollars per GW whose build starts in that period (capex of that period).
    block_gw : float, optional
        Builds are whole blocks of this many GW (any amount when None).
    max_gw : per-period, optional
        Most GW whose build starts in a period (unlimited when None).
    lead_time : int
        GW started in period ``τ`` are usable from ``τ + lead_time`` on, to the end of the horizon.
    fixed_cost : per-period
        Dollars paid in each period in which any build starts (``()`` is 0 in every period).
    """

    cost_per_gw: PerPeriod
    block_gw: float | None = None
    max_gw: PerPeriod | None = None
    lead_time: int = 0
    fixed_cost: PerPeriod = ()


@dataclass(frozen=True)
class Site:
    """A data center site: its own power cap, PUE, electricity price and vendors.

    Parameters
    ----------
    name : str
        Unique name.
    power_cap_gw : per-period, optional
        Cap on the site's facility power (default: the problem's cap).
    pue : float, optional
        The site's PUE (default: the problem's).
    electricity_price : per-period, optional
        $/MWh at the site (default: the problem's).
    vendors : tuple of str, optional
        Vendors the site can host (default: all).
    power_build : PowerBuild, optional
        Facility power the site can build; the site's cap is then its given
        ``power_cap_gw`` (0 when not given) plus the built GW that are ready.
    """

    name: str
    power_cap_gw: PerPeriod | None = None
    pue: float | None = None
    electricity_price: PerPeriod | None = None
    vendors: tuple[str, ...] | None = None
    power_build: PowerBuild | None = None


@dataclass(frozen=True)
class Scenario:
    """A supply disruption.

    Parameters
    ----------
    name : str
        Unique label (``"nominal"`` is reserved for the undisrupted case).
    probability : float
        Probability of the scenario; all scenarios sum to at most 1, the rest
        is the undisrupted (nominal) scenario.
    availability : mapping vendor -> float
        Fraction of each named vendor's operational compute that remains
        usable (vendors not named keep all of theirs).
    periods : tuple of int, optional
        Periods the disruption applies to (default: all).
    """

    name: str
    probability: float
    availability: Mapping[str, float] = field(default_factory=dict)
    periods: tuple[int, ...] | None = None


@dataclass(frozen=True)
class DemandScenario:
    """One demand path of ``demand_scenarios``.

    Parameters
    ----------
    name : str
        Unique label.
    probability : float
        > 0; the probabilities of all demand scenarios sum to 1.
    demand : per-period, optional
        The path's demand (or give ``workloads``).
    workloads : mapping workload -> per-period, optional
        The path's demand per workload (the same workloads in every scenario).
    """

    name: str
    probability: float
    demand: PerPeriod | None = None
    workloads: Mapping[str, PerPeriod] | None = None

    @property
    def total_demand(self) -> tuple[float, ...]:
        """Demand per period: ``demand``, or the sum over ``workloads``."""
        if self.workloads is not None:
            return tuple(float(x) for x in np.sum(np.array(list(self.workloads.values()), dtype=float), axis=0))
        assert self.demand is not None
        return self.demand


@dataclass(frozen=True)
class Risk:
    """Concentration and supply-risk terms.

    Parameters
    ----------
    max_share : float
        Every vendor's operational compute ≤ ``max_share`` × total, every period.
    min_vendors : int
        In every period at least this many vendors each supply
        ≥ ``min_vendor_share`` × demand.
    min_vendor_share : float
        See ``min_vendors``.
    survive_vendor_loss : float
        In every period, losing any one vendor still leaves at least this
        fraction of demand.
    hhi_weight : float
        Dollars added to the objective per unit of Σ_t d_t·HHI_t, where
        HHI_t = Σ_v (C[v,t] / demand_t)².
    max_hhi : float, optional
        HHI_t ≤ this in every period with demand.
    scenarios : tuple of Scenario
        Supply disruptions.
    shortfall_penalty : float
        Dollars per compute-unit-period of demand not met in a scenario.
    cvar_alpha : float
        Tail level of CVaR (0 gives the expected loss).
    risk_weight : float
        The objective adds ``risk_weight`` × CVaR.
    max_cvar : float, optional
        CVaR ≤ this.
    scenario_cvar_weight : float
        With ``demand_scenarios``, the objective adds this × CVaR of the scenario costs.
    scenario_cvar_alpha : float
        Tail level of that CVaR.
    """

    max_share: float = 1.0
    min_vendors: int = 0
    min_vendor_share: float = 0.1
    survive_vendor_loss: float = 0.0
    hhi_weight: float = 0.0
    max_hhi: float | None = None
    scenarios: tuple[Scenario, ...] = ()
    shortfall_penalty: float = 0.0
    cvar_alpha: float = 0.95
    risk_weight: float = 0.0
    max_cvar: float | None = None
    scenario_cvar_weight: float = 0.0
    scenario_cvar_alpha: float = 0.9


@dataclass(frozen=True)
class Problem:
    """A procurement problem (see the problem format in the docs).

    Build it from a mapping with `Problem.from_dict`, from a ``.json`` or
    ``.toml`` file with `Problem.from_file`, or from Python objects::

        Problem(periods=(2026, 2027), demand=(100.0, 300.0),
                offers=(Offer("tpu", "google", unit_cost=(30_000.0, 30_000.0), compute=2.3),))

    Construction validates every field and raises `ProblemError` naming the
    first bad one.  Per-period fields are stored as tuples aligned with
    ``periods`` (`PerPeriod`); building also accepts any per-period form of the
    problem format (a number, a mapping ``{period: number}``) and normalizes it,
    but the types are those stored, so typed code builds from mappings with
    `Problem.from_dict`.

    Parameters
    ----------
    periods : tuple of int
        Consecutive one-year planning periods, e.g. ``(2026, 2027, 2028)``.
    demand : PerPeriod, optional
        Compute that must be operational in each period (or ``workloads``, or
        ``demand_scenarios``).
    offers : tuple of Offer
        What can be bought (at least one).
    vendors : tuple of Vendor
        Per-vendor terms; vendors the offers name but this omits get the defaults.
    name : str
        A label for reports.
    power_cap_gw : PerPeriod, optional
        Cap on the fleet's facility power, GW (no cap by default).
    pue : float
        Facility power = ``pue`` × IT power.
    electricity_price : PerPeriod
        $/MWh (0 by default).
    budget : PerPeriod, optional
        Cap on capex paid in each period, $ (not discounted).
    total_budget : float, optional
        Cap on capex (and take-or-pay) over the horizon, $.
    discount_rate : float
        Discounts cost in the objective.
    risk : Risk
        Concentration and disruption terms.
    sites : tuple of Site
        Data-center sites, each with its own cap, PUE and price.
    workloads : mapping, optional
        Demand per workload, instead of ``demand``.
    unserved_penalty : float, optional
        $ per compute unit and period left unserved; demand is then no longer a must.
    power_build : PowerBuild, optional
        Facility power that can be built (without sites).
    demand_scenarios : tuple of DemandScenario
        Demand paths with probabilities, instead of ``demand``.
    options : tuple of CapacityOption
        Capacity options: supply reserved now, bought later only if needed.

    Every field is described in docs/problem-format.md.
    """

    periods: tuple[int, ...]
    demand: PerPeriod | None = None
    offers: tuple[Offer, ...] = ()
    vendors: tuple[Vendor, ...] = ()
    name: str = "plan"
    power_cap_gw: PerPeriod | None = None
    pue: float = 1.0
    electricity_price: PerPeriod = ()  # () is 0 in every period
    budget: PerPeriod | None = None
    total_budget: float | None = None
    discount_rate: float = 0.0
    risk: Risk = field(default_factory=Risk)
    sites: tuple[Site, ...] = ()
    workloads: Mapping[str, PerPeriod] | None = None
    unserved_penalty: float | None = None
    power_build: PowerBuild | None = None
    demand_scenarios: tuple[DemandScenario, ...] = ()
    options: tuple[CapacityOption, ...] = ()

    def __post_init__(self) -> None:
        norm = validate_problem(self._raw())
        put = object.__setattr__
        for name, value in _parts(norm).items():
            put(self, name, value)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """Build a problem from its mapping form (the public problem format)."""
        # validated here once: the normalized parts go straight into a new instance
        problem = object.__new__(cls)
        for name, value in _parts(validate_problem(data)).items():
            object.__setattr__(problem, name, value)
        return problem

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, allow_paths: Sequence[str | os.PathLike[str]] | None = None
    ) -> Problem:
        """Read a problem from a ``.json`` or ``.toml`` file (or a workbook, see `Problem.from_excel`).

        A list-of-records field may name a table instead, relative to the file:
        ``offers = "offers.csv"``, ``sites = "catalog.xlsx#sites"`` (also
        ``vendors``, ``demand_scenarios`` and ``risk.scenarios``; see "Tables
        (CSV and Excel)" in docs/problem-format.md).

        Parameters
        ----------
        path : str or PathLike
            The problem file: a regular file of at most `procure.problem.io.MAX_FILE_BYTES`.
        allow_paths : sequence of str or PathLike, optional
            Folders (or files) outside the problem file's folder from which tables may be read.
            Without them a table must be in that folder or below it, once symbolic links are
            resolved: ``offers = "../x.csv"`` or ``"/etc/x.csv"`` is an error.

        Raises
        ------
        ProblemError
            If the file, a table or a field is bad (naming the file, sheet, row and column).
        """
        if str(path).lower().endswith((".xlsx", ".xlsm")):
            return cls.from_excel(path)
        data = read_mapping(path)
        if not _references_tables(data):
            return cls.from_dict(data)
        return provided("problem_from_mapping")(data, path, allow_paths=allow_paths)

    @classmethod
    def from_excel(cls, path: str | os.PathLike[str]) -> Problem:
        """Read a whole problem from one Excel workbook.

        Parameters
        ----------
        path : str or PathLike
            An ``.xlsx`` file with a sheet ``problem`` (or ``settings``) of
            ``field`` / ``value`` rows (plus one column per period for
            per-period fields) and the sheets ``offers``, ``sites``,
            ``vendors``, ``demand_scenarios``, ``scenarios`` (``risk.scenarios``)
            as needed: one row per record, one column per field.

        Returns
        -------
        Problem

        Raises
        ------
        ProblemError
            Naming the file, sheet, row and column of the first bad cell: also a
            formula without a computed value, or an Excel error (``#N/A``), which
            are never read as an empty cell; and a file that is not a regular file,
            or too large (see "Tables (CSV and Excel)" in docs/problem-format.md).
        """
        return provided("problem_from_excel")(path)

    @classmethod
    def from_tables(
        cls,
        offers: Any = None,
        sites: Any = None,
        vendors: Any = None,
        demand_scenarios: Any = None,
        scenarios: Any = None,
        **fields: Any,
    ) -> Problem:
        """A problem from pandas DataFrames (one row per record) and top-level fields.

        Parameters
        ----------
        offers, sites, vendors, demand_scenarios : DataFrame or list, optional
            The tables, laid out as in a CSV file (a list of mappings is taken as is).
        scenarios : DataFrame or list, optional
            The supply disruptions, ``risk.scenarios``.
        **fields
            The other fields of the problem format (``periods``, ``demand``, ``risk``, …).

        Returns
        -------
        Problem

        Raises
        ------
        ProblemError
            Naming the table, index label and column of the first bad cell.
        """
        tables = {
            "offers": offers,
            "sites": sites,
            "vendors": vendors,
            "demand_scenarios": demand_scenarios,
            "scenarios": scenarios,
        }
        return provided("problem_from_tables")(tables, fields)

    def to_excel(self, path: str | os.PathLike[str]) -> Path:
        """Write the problem as a workbook that `Problem.from_excel` reads back equal.

        Text is written as text, never as a formula (a name ``=x`` or ``@x`` stays as
        it is); the file is written whole or not at all.

        Parameters
        ----------
        path : str or PathLike
            The ``.xlsx`` file to write (replaced if it exists).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        ProblemError
            If a text is longer than an Excel cell holds (32,767 characters), naming
            the sheet, the cell and the field; nothing is written then.
        """
        return provided("problem_to_excel")(self, path)

    # ------------------------------------------------------------------ export

    def to_dict(self) -> dict[str, Any]:
        """The problem as a plain mapping; fields at their default are left out.

        Per-period values come out as one number when equal in every period,
        else as a mapping ``{period: value}`` with ``int`` keys.
        """
        out = _compact(self._raw(), PROBLEM_FIELDS, self.periods)
        out["offers"] = [_compact(o, OFFER_FIELDS, self.periods) for o in out["offers"]]
        for offer in out["offers"]:
            if "price_tiers" in offer:
                offer["price_tiers"] = [_compact(t, TIER_FIELDS, self.periods) for t in offer["price_tiers"]]
            if offer.get("installed") in ({}, 0):
                del offer["installed"]
        if out.get("power_build") is not None:
            out["power_build"] = _compact(out["power_build"], BUILD_FIELDS, self.periods)
        if out.get("sites"):
            out["sites"] = [_compact(site, SITE_FIELDS, self.periods) for site in out["sites"]]
            for site in out["sites"]:
                if site.get("power_build") is not None:
                    site["power_build"] = _compact(site["power_build"], BUILD_FIELDS, self.periods)
        else:
            out.pop("sites", None)
        if "workloads" in out:
            out["workloads"] = _compact_workloads(out["workloads"], self.periods)
        if out.get("demand_scenarios"):
            out["demand_scenarios"] = [
                _compact(d, DEMAND_SCENARIO_FIELDS, self.periods) for d in out["demand_scenarios"]
            ]
            for d in out["demand_scenarios"]:
                if "workloads" in d:
                    d["workloads"] = _compact_workloads(d["workloads"], self.periods)
        else:
            out.pop("demand_scenarios", None)
        if out.get("options"):
            out["options"] = [_compact(o, OPTION_FIELDS, self.periods) for o in out["options"]]
        else:
            out.pop("options", None)
        vendors = [_compact(v, VENDOR_FIELDS, self.periods) for v in out.get("vendors", ())]
        vendors = [v for v in vendors if len(v) > 1]
        if vendors:
            out["vendors"] = vendors
        else:
            out.pop("vendors", None)
        risk = _compact(out.get("risk") or {}, RISK_FIELDS, self.periods)
        if "scenarios" in risk:
            risk["scenarios"] = [_compact(sc, SCENARIO_FIELDS, self.periods) for sc in risk["scenarios"]]
        if risk:
            out["risk"] = risk
        else:
            out.pop("risk", None)
        return out

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickled as its mapping (exact round trip), so that problems and results travel
        to other processes (executors, dask workers)."""
        return (Problem.from_dict, (self.to_dict(),))

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The problem as JSON text (period keys become strings); written to ``path`` if given."""
        return write_json(self.to_dict(), path, indent)

    def _repr_html_(self) -> str:
        """A compact HTML view for notebooks: periods, demand, caps and the offers."""
        return str(provided("problem_html")(self))

    # ------------------------------------------------------------------ helpers

    @property
    def total_demand(self) -> tuple[float, ...]:
        """Demand per period: ``demand``, or the sum over ``workloads``; with ``demand_scenarios``,
        the expected (probability-weighted mean) demand path."""
        if self.demand_scenarios:
            paths = np.array([s.total_demand for s in self.demand_scenarios], dtype=float)
            weights = np.array([s.probability for s in self.demand_scenarios])
            return tuple(float(x) for x in weights @ paths)
        if self.workloads is not None:
            return tuple(float(x) for x in np.sum(np.array(list(self.workloads.values()), dtype=float), axis=0))
        assert self.demand is not None  # a valid problem has demand or workloads
        return self.demand

    def placements(self) -> tuple[tuple[int, int], ...]:
        """(offer position, site position) of every place an offer can be bought for:
        each site that hosts the offer's vendor; without sites, one per offer (site 0)."""
        hosts = [set(s.vendors) if s.vendors is not None else None for s in self.sites] or [None]
        return tuple(
            (i, s)
            for i, o in enumerate(self.offers)
            for s, host in enumerate(hosts)
            if host is None or o.vendor in host
        )

    def scenario_availability(self) -> np.ndarray:
        """(S, V, T) usable fraction of each vendor's compute in each listed scenario."""
        vendors = {v: k for k, v in enumerate(self.vendor_names)}
        position = {p: t for t, p in enumerate(self.periods)}
        T = len(self.periods)
        a = np.ones((len(self.risk.scenarios), len(vendors), T))
        # one (scenario, vendor, periods, value) entry per disrupted vendor, then one assignment
        ks: list[int] = []
        vs: list[int] = []
        ts: list[Sequence[int]] = []
        values: list[float] = []
        for k, sc in enumerate(self.risk.scenarios):
            live = [position[p] for p in sc.periods] if sc.periods is not None else range(T)
            for vendor, value in sc.availability.items():
                ks.append(k)
                vs.append(vendors[vendor])
                ts.append(live)
                values.append(value)
        counts = np.fromiter((len(t) for t in ts), dtype=int, count=len(ts))
        flat_t = np.fromiter((t for live in ts for t in live), dtype=int, count=int(counts.sum()))
        where = np.repeat(np.asarray(ks, dtype=int), counts), np.repeat(np.asarray(vs, dtype=int), counts), flat_t
        a[where] = np.repeat(np.asarray(values, dtype=float), counts)
        return a

    @functools.cached_property
    def inputs(self) -> Inputs:
        """The problem's arrays with every default applied (computed once; see `procure.inputs`)."""
        return inputs_of(self)

    @property
    def site_names(self) -> tuple[str, ...]:
        """Site names, in order (empty without sites)."""
        return tuple(s.name for s in self.sites)

    @property
    def offer_names(self) -> tuple[str, ...]:
        """Offer names, in order."""
        return tuple(o.name for o in self.offers)

    @property
    def vendor_names(self) -> tuple[str, ...]:
        """Vendor names, in order of first appearance among the offers."""
        return tuple(v.name for v in self.vendors)

    def _raw(self) -> dict[str, Any]:
        """Fields as a plain mapping, per-period tuples turned back into mappings."""
        periods = self.periods
        try:
            aligned = list(periods)
        except TypeError:
            aligned = []

        def plain(value: Any, key: str = "", depth: int = 0) -> Any:
            if depth > 16:  # deeper than any problem nests: left for validation to reject, without recursing
                return value
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                return {f.name: plain(getattr(value, f.name), f.name, depth + 1) for f in fields(value)}
            if key in PER_PERIOD_FIELDS and isinstance(value, tuple):
                if not value:  # a default that stands for "none given"
                    return None
                return dict(zip(aligned, value)) if len(value) == len(aligned) else list(value)
            if key == "workloads" and isinstance(value, Mapping):
                return {name: plain(v, "demand", depth + 1) for name, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(x, depth=depth + 1) for x in value]
            if isinstance(value, MappingProxyType):
                return dict(value)
            if key == "vendors" and isinstance(value, tuple) and value and isinstance(value[0], str):
                return list(value)
            return value

        raw = {f.name: plain(getattr(self, f.name), f.name) for f in fields(self)}
        if isinstance(periods, tuple):
            raw["periods"] = list(periods)
        return raw


def _parts(norm: Mapping[str, Any]) -> dict[str, Any]:
    """Dataclass fields of a normalized problem mapping."""
    out = dict(norm)
    out["offers"] = tuple(
        Offer(
            **{
                **o,
                "installed": MappingProxyType(o["installed"]) if isinstance(o["installed"], dict) else o["installed"],
                "efficiency": MappingProxyType(o["efficiency"]) if o["efficiency"] is not None else None,
                "price_tiers": tuple(PriceTier(**t) for t in o["price_tiers"]) if o["price_tiers"] else None,
            }
        )
        for o in norm["offers"]
    )
    out["vendors"] = tuple(Vendor(**v) for v in norm["vendors"])
    out["sites"] = tuple(Site(**{**site, "power_build": _build(site["power_build"])}) for site in norm["sites"])
    out["power_build"] = _build(norm["power_build"])
    out["workloads"] = MappingProxyType(dict(norm["workloads"])) if norm["workloads"] is not None else None
    out["demand_scenarios"] = tuple(
        DemandScenario(
            name=d["name"],
            probability=d["probability"],
            demand=d["demand"],
            workloads=MappingProxyType(dict(d["workloads"])) if d["workloads"] is not None else None,
        )
        for d in norm["demand_scenarios"]
    )
    out["risk"] = _risk(norm["risk"])
    out["options"] = tuple(CapacityOption(**o) for o in norm["options"])
    return out


def _build(norm: Mapping[str, Any] | None) -> PowerBuild | None:
    return None if norm is None else PowerBuild(**norm)


def _risk(norm: Mapping[str, Any]) -> Risk:
    scenarios = tuple(
        Scenario(
            name=s["name"],
            probability=s["probability"],
            availability=MappingProxyType(dict(s["availability"])),
            periods=s["periods"],
        )
        for s in norm["scenarios"]
    )
    return Risk(**{**norm, "scenarios": scenarios})


def _compact_workloads(workloads: Mapping[str, Any], periods: tuple[int, ...]) -> dict[str, Any]:
    return {k: _compact({"d": v}, {}, periods)["d"] for k, v in workloads.items()}


def _compact(raw: Mapping[str, Any], table: Mapping[str, Any], periods: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        spec = table.get(key)
        if key == "periods" and table is SCENARIO_FIELDS and value is not None:
            value = list(value)
        elif isinstance(value, Mapping) and value and all(isinstance(k, int) for k in value):
            values = list(value.values())
            value = values[0] if all(v == values[0] for v in values) else dict(value)
        if spec is not None and not spec.required and _is_default(value, spec.default):
            continue
        out[key] = value
    return out


def _is_default(value: Any, default: Any) -> bool:
    """``value`` equals a field's default (an empty list stands for an empty tuple)."""
    if isinstance(value, list) and isinstance(default, tuple):
        return tuple(value) == default
    return bool(value == default)


def _references_tables(data: Mapping[str, Any]) -> bool:
    """A problem mapping names a table file for a list-of-records field (``offers = "offers.csv"``)."""
    risk = data.get("risk")
    scenarios = risk.get("scenarios") if isinstance(risk, Mapping) else None
    fields = ("offers", "sites", "vendors", "demand_scenarios")
    return isinstance(scenarios, str) or any(isinstance(data.get(f), str) for f in fields)


def as_problem(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    *,
    allow_paths: Sequence[str | os.PathLike[str]] | None = None,
) -> Problem:
    """Accept a `Problem`, a mapping, or a path to a ``.json`` / ``.toml`` file (whose tables may be
    read from ``allow_paths`` too, see `Problem.from_file`)."""
    if isinstance(problem, Problem):
        return problem
    if isinstance(problem, Mapping):
        return Problem.from_dict(problem)
    if isinstance(problem, (str, os.PathLike)):
        return Problem.from_file(problem, allow_paths=allow_paths)
    raise ProblemError(
        f"problem: {type(problem).__name__} is not a Problem, a mapping, or a path to a .json/.toml file",
        value=problem,
    )


# the table readers build problems through it (this module calls them through their hooks)
provide("problem_from_dict")(Problem.from_dict)
