"""Assemble the procurement model: every family, in order, into one `LinearModel`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .families import (
    Facility,
    define_budget,
    define_demand,
    define_lots,
    define_max_share,
    define_min_order,
    define_min_vendors,
    define_onboarding,
    define_power,
    define_spend,
    define_supply,
    define_tiers,
    define_total_budget,
    define_vendor_compute,
    define_vendor_loss,
    define_vendor_terms,
    define_workloads,
    flat_capex,
)
from .linear import Index, LinearModel
from .options import OptionHandles, define_options, option_lot_bounds
from .power_build import Builds, define_build_started, define_power_build
from .risk import CvarHandles, HhiHandles, define_cvar, define_hhi
from .sets import ModelData

__all__ = ["BuiltModel", "Extra", "Handles", "build_model"]


@dataclass(frozen=True)
class Handles:
    """The model's decision blocks, for code that adds rows of its own (``solve(..., extra=fn)``).

    Column ids: ``lots`` (P, T) whole lots bought per placement (an offer at a
    site) and period; ``compute`` (V, T) operational compute per vendor;
    ``split`` (I, W, T) units running each workload (−1 where an offer cannot
    run it; None without workloads).  The expression methods return sparse
    matrices with one row per member and one column per model column, ready
    for `LinearModel.add_matrix_rows` (combine them with ``@``, ``+``, ``-``).
    """

    data: ModelData
    lots: np.ndarray
    compute: np.ndarray
    split: np.ndarray | None
    hhi: HhiHandles | None = None
    cvar: CvarHandles | None = None
    builds: Builds | None = None  # (B, T) power build columns (None without power_build)
    options: OptionHandles | None = None  # capacity options (None without options)

    @property
    def fleet_lots(self) -> np.ndarray:
        """(P, T) lots that join the fleet: bought, or exercised through an option."""
        return self.lots if self.options is None else self.options.acquired

    @property
    def width(self) -> int:
        """Columns the expressions span (every column they can refer to)."""
        used = [self.fleet_lots.max(initial=-1), self.compute.max(initial=-1)]
        if self.split is not None:
            used.append(self.split.max(initial=-1))
        return int(max(used)) + 1

    def units_bought(self) -> sp.csr_matrix:
        """(I·T, columns): row ``i·T + t`` is the units of offer ``i`` bought in period ``t``
        (over sites); ``units_bought()[t::T]`` has one row per offer for period ``t``."""
        d = self.data
        P, T = self.lots.shape
        p, t = np.meshgrid(np.arange(P), np.arange(T), indexing="ij")
        rows = (d.offer_of[p] * T + t).ravel()
        vals = np.broadcast_to(d.lot_p[:, None], (P, T)).ravel().astype(float)
        return sp.csr_matrix((vals, (rows, self.lots.ravel())), shape=(d.n_offers * T, self.width))

    def fleet(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """(I·T, columns) and (I·T,): the operational units of offer ``i`` in period ``t`` are
        ``matrix[i·T + t] @ x + constant[i·T + t]`` (purchases in their window + installed units)."""
        d = self.data
        T = self.lots.shape[1]
        w = d.window
        rows = d.offer_of[w.p] * T + w.t
        vals = d.lot_p[w.p].astype(float)
        matrix = sp.csr_matrix((vals, (rows, self.fleet_lots[w.p, w.tau])), shape=(d.n_offers * T, self.width))
        installed = np.zeros((d.n_offers, T))
        np.add.at(installed, d.offer_of, d.installed_fleet)
        return matrix, installed.ravel()

    def vendor_compute(self) -> sp.csr_matrix:
        """(V·T, columns): row ``v·T + t`` is the operational compute of vendor ``v`` in period ``t``."""
        n = self.compute.size
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.compute.ravel())), shape=(n, self.width))

    def grid(self, *dims: str) -> Index:
        """An `Index` over every combination of ``dims`` (``"offer"``, ``"vendor"``, ``"site"``,
        ``"period"``, ``"workload"``), last fastest: labels for rows built from these expressions."""
        d = self.data
        labels = {
            "offer": d.offers,
            "vendor": d.vendors,
            "site": d.sites,
            "period": tuple(int(p) for p in d.periods),
            "workload": d.workloads,
        }
        unknown = [x for x in dims if x not in labels]
        if unknown:
            raise ValueError(f"grid: unknown dimension {unknown[0]!r} (known: {', '.join(labels)})")
        return Index.grid(**{x: labels[x] for x in dims})


@dataclass
class BuiltModel:
    """A model, the handles of its blocks, and the blocks added beyond procure's formulation."""

    model: LinearModel
    handles: Handles
    extra_blocks: tuple[str, ...] = ()  # row blocks a caller's ``extra`` added
    extension: object = None  # what a caller's build hook returned (the frontier's level handle)

    @property
    def lots(self) -> np.ndarray:
        return self.handles.lots

    @property
    def compute(self) -> np.ndarray:
        return self.handles.compute

    @property
    def split(self) -> np.ndarray | None:
        return self.handles.split

    @property
    def hhi(self) -> HhiHandles | None:
        return self.handles.hhi

    @property
    def cvar(self) -> CvarHandles | None:
        return self.handles.cvar


def _facility(m: LinearModel, data: ModelData, builds: Builds) -> Facility:
    """Facility capex of the builds and of their fixed costs (indicators added here)."""
    t, col, coef = builds.facility(data)
    ft, z, fixed = define_build_started(m, data, builds)
    return Facility(np.concatenate([t, ft]), np.concatenate([col, z]), np.concatenate([coef, fixed]))


#: A caller's rows: ``fn(model, handles, data)`` adds blocks to the model (``solve(..., extra=fn)``).
Extra = Callable[[LinearModel, Handles, ModelData], None]


def build_model(
    data: ModelData,
    upper: np.ndarray,
    *,
    hhi: bool = False,
    cvar: bool = False,
    supply_rows: bool = False,
    extra: Extra | None = None,
) -> BuiltModel:
    """The mixed-integer program of ``data`` with lot bounds ``upper`` ((P, T), may hold inf
    except where an indicator row needs a finite bound).  ``hhi`` / ``cvar`` build those
    families even when the problem does not price or cap them (for the frontier); ``supply_rows``
    states every offer's supply as a row (for diagnosis) instead of leaving it to lot bounds;
    ``extra`` adds a caller's rows last (their blocks are listed in ``extra_blocks``)."""
    # an order below the minimum is no order (at one site, the whole order must fit)
    single = np.bincount(data.offer_of, minlength=data.n_offers)[data.offer_of] == 1
    upper = np.where(single[:, None] & (upper < data.min_lots[data.offer_of][:, None]), 0.0, upper)
    m = LinearModel()
    lots = define_lots(m, data, upper)
    options = define_options(m, data, lots)
    fleet_lots = lots if options is None else options.acquired  # what becomes operational
    compute = define_vendor_compute(m, data, fleet_lots)
    define_demand(m, data, compute)
    split = define_workloads(m, data, fleet_lots)
    builds = define_power_build(m, data, upper + option_lot_bounds(data))  # a build may power option units
    define_power(m, data, fleet_lots, builds)
    define_supply(m, data, lots, every=supply_rows)
    capex = flat_capex(data, lots) + define_tiers(m, data, lots, upper)
    if options is not None:
        capex = capex + options.capex
    facility = _facility(m, data, builds)
    define_budget(m, data, capex, facility)
    take_or_pay = define_spend(m, data, capex)
    define_total_budget(m, data, capex, take_or_pay, facility)
    define_max_share(m, data, compute)
    define_vendor_terms(m, data, compute, lots)
    define_vendor_loss(m, data, compute)
    define_min_vendors(m, data, compute)
    order = define_min_order(m, data, lots, upper)
    define_onboarding(m, data, lots, order, upper, None if options is None else options.onboarding(data))
    hhi_handles = define_hhi(m, data, compute, force=hhi)
    cvar_handles = define_cvar(m, data, compute, force=cvar)
    handles = Handles(data, lots, compute, split, hhi_handles, cvar_handles, builds if data.n_builds else None, options)
    built = BuiltModel(m, handles)
    if extra is not None:
        before = len(m.rows)
        extra(m, built.handles, data)
        built.extra_blocks = tuple(b.name for b in m.rows[before:])
    return built
