"""Assemble the procurement model: every family, in order, into one `LinearModel`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .families import (
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
    define_workloads,
    flat_capex,
)
from .linear import LinearModel
from .risk import CvarHandles, HhiHandles, define_cvar, define_hhi
from .sets import ModelData

__all__ = ["BuiltModel", "build_model"]


@dataclass
class BuiltModel:
    """A model and the ids of the blocks that later steps read or change."""

    model: LinearModel
    lots: np.ndarray  # (P, T) column ids
    compute: np.ndarray  # (V, T) column ids
    split: np.ndarray | None  # (I, W, T) column ids, -1 where an offer cannot run a workload
    hhi: HhiHandles | None
    cvar: CvarHandles | None


def build_model(
    data: ModelData, upper: np.ndarray, *, hhi: bool = False, cvar: bool = False, supply_rows: bool = False
) -> BuiltModel:
    """The mixed-integer program of ``data`` with lot bounds ``upper`` ((P, T), may hold inf
    except where an indicator row needs a finite bound).  ``hhi`` / ``cvar`` build those
    families even when the problem does not price or cap them (for the frontier); ``supply_rows``
    states every offer's supply as a row (for diagnosis) instead of leaving it to lot bounds."""
    # an order below the minimum is no order (at one site, the whole order must fit)
    single = np.bincount(data.offer_of, minlength=data.n_offers)[data.offer_of] == 1
    upper = np.where(single[:, None] & (upper < data.min_lots[data.offer_of][:, None]), 0.0, upper)
    m = LinearModel()
    lots = define_lots(m, data, upper)
    compute = define_vendor_compute(m, data, lots)
    define_demand(m, data, compute)
    split = define_workloads(m, data, lots)
    define_power(m, data, lots)
    define_supply(m, data, lots, every=supply_rows)
    capex = flat_capex(data, lots) + define_tiers(m, data, lots, upper)
    define_budget(m, data, capex)
    take_or_pay = define_spend(m, data, capex)
    define_total_budget(m, data, capex, take_or_pay)
    define_max_share(m, data, compute)
    define_vendor_loss(m, data, compute)
    define_min_vendors(m, data, compute)
    order = define_min_order(m, data, lots, upper)
    define_onboarding(m, data, lots, order, upper)
    hhi_handles = define_hhi(m, data, compute, force=hhi)
    cvar_handles = define_cvar(m, data, compute, force=cvar)
    return BuiltModel(m, lots, compute, split, hhi_handles, cvar_handles)
