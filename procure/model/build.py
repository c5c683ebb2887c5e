"""Assemble the procurement model: every family, in order, into one `LinearModel`."""

from __future__ import annotations

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
from .sets import ModelData

__all__ = ["build_model"]


def build_model(data: ModelData, upper: np.ndarray) -> LinearModel:
    """The mixed-integer program of ``data`` with lot bounds ``upper`` ((I, T), may hold inf
    except where an indicator row needs a finite bound)."""
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
    return m
