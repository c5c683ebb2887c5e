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
    define_total_budget,
    define_vendor_compute,
    define_vendor_loss,
)
from .linear import LinearModel
from .risk import CvarHandles, HhiHandles, define_cvar, define_hhi
from .sets import ModelData

__all__ = ["BuiltModel", "build_model"]


@dataclass
class BuiltModel:
    """A model and the ids of the blocks that later steps read or change."""

    model: LinearModel
    lots: np.ndarray  # (I, T) column ids
    compute: np.ndarray  # (V, T) column ids
    hhi: HhiHandles | None
    cvar: CvarHandles | None


def build_model(data: ModelData, upper: np.ndarray, *, hhi: bool = False, cvar: bool = False) -> BuiltModel:
    """The mixed-integer program of ``data`` with lot bounds ``upper`` ((I, T), may hold inf
    except where an indicator row needs a finite bound).  ``hhi`` / ``cvar`` build those
    families even when the problem does not price or cap them (for the frontier)."""
    upper = np.where(upper < data.min_lots[:, None], 0.0, upper)  # an order below the minimum is no order
    m = LinearModel()
    lots = define_lots(m, data, upper)
    compute = define_vendor_compute(m, data, lots)
    define_demand(m, data, compute)
    define_power(m, data, lots)
    define_budget(m, data, lots)
    define_total_budget(m, data, lots)
    define_max_share(m, data, compute)
    define_vendor_loss(m, data, compute)
    define_min_vendors(m, data, compute)
    order = define_min_order(m, data, lots, upper)
    define_onboarding(m, data, lots, order, upper)
    hhi_handles = define_hhi(m, data, compute, force=hhi)
    cvar_handles = define_cvar(m, data, compute, force=cvar)
    return BuiltModel(m, lots, compute, hhi_handles, cvar_handles)
