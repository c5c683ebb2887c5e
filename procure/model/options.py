"""Capacity options (contract v3): supply reserved now, bought later only if needed.

Per option ``o`` of offer ``i`` (lot ``L``): ``reserved[option]`` whole lots ``R``
(``0 ≤ R·L ≤ max_units``, price ``reserve_cost·L`` paid in ``reserve_period``) and
``exercised[option,(site,)period]`` whole lots ``e`` at each placement of the offer in the
exercise window, with ``option_exercise[option]``: ``Σ e − R ≤ 0``.  Exercised lots join
the offer's fleet like lots bought (`acquired` = lots + exercised is what the fleet, power,
compute and workload rows read), are capex in their period (budgets, vendor spend), and
carry the running cost of a lot, but count against neither ``max_units`` nor ``min_order``
(the reserved supply is the vendor's promise), nor the vendor's ``max_new_compute``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .families import Capex, running_lot_cost
from .linear import INTEGER, Index, LinearModel
from .sets import ModelData

__all__ = ["OptionHandles", "define_options", "option_lot_bounds"]


@dataclass(frozen=True)
class OptionHandles:
    """Column ids of the options: ``reserved`` (O,), ``exercised`` (O, P, T) (−1 where an
    option cannot be exercised), ``acquired`` (P, T) lots bought or exercised."""

    reserved: np.ndarray
    exercised: np.ndarray
    acquired: np.ndarray
    capex: Capex

    def remapped(self, c: Callable[[np.ndarray], np.ndarray]) -> OptionHandles:
        """The same handles with column ids mapped through ``c`` (an extensive form's merge)."""
        capex = Capex(self.capex.offer, self.capex.period, c(self.capex.col), self.capex.coef)
        return OptionHandles(c(self.reserved), c(self.exercised), c(self.acquired), capex)

    def onboarding(self, data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exercise columns, the vendor each onboards, and their bound (for the onboarding rows)."""
        o, p, t = np.nonzero(self.exercised >= 0)
        return self.exercised[o, p, t], data.vendor_of[data.option_offer[o]], data.option_lots[o]


def _members(data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(option, placement, period) of every exercise column: placements of the option's offer,
    periods inside its window."""
    O, P, T = data.n_options, data.n_placements, data.n_periods
    o, p, t = np.meshgrid(np.arange(O), np.arange(P), np.arange(T), indexing="ij")
    ok = (data.offer_of[p] == data.option_offer[o]) & data.option_window[o, t] & (data.option_lots[o] > 0)
    return o[ok], p[ok], t[ok]


def option_lot_bounds(data: ModelData) -> np.ndarray:
    """(P, T) the most lots the options can add at each placement and period (every option of
    its offer exercised there in full): what a big-M over the fleet must allow beyond the lots
    bought (the power a build may have to cover)."""
    out = np.zeros((data.n_placements, data.n_periods))
    if data.n_options:
        o, p, t = _members(data)
        np.add.at(out, (p, t), data.option_lots[o].astype(float))
    return out


def define_options(m: LinearModel, data: ModelData, lots: np.ndarray) -> OptionHandles | None:
    """The option columns and rows; None without options."""
    if not data.n_options:
        return None
    O, (P, T) = data.n_options, lots.shape
    names = Index.grid(option=data.option_names)
    lot = data.lot[data.option_offer].astype(float)
    start = data.option_reserve_t
    reserved = m.add_columns(
        "reserved",
        names,
        upper=data.option_lots.astype(float),
        cost=data.discount[start] * data.option_reserve_cost * lot,
        kind=INTEGER,
        unit="lots",
        doc="lots reserved (units = lot_size × lots)",
    )
    o, p, t = _members(data)
    labels = Index(
        ("option", *(("site",) if data.has_sites else ()), "period"),
        (data.option_names, *((data.sites,) if data.has_sites else ()), tuple(int(x) for x in data.periods)),
        np.column_stack([o, *((data.site_of[p],) if data.has_sites else ()), t]),
    )
    price = data.option_price[o, t] * lot[o]
    exercised_ids = m.add_columns(
        "exercised",
        labels,
        upper=data.option_lots[o].astype(float),
        cost=running_lot_cost(data)[p, t] + data.discount[t] * price,
        kind=INTEGER,
        unit="lots",
        doc="lots bought through an option",
    )
    exercised = np.full((O, P, T), -1)
    exercised[o, p, t] = exercised_ids
    n = len(exercised_ids)
    m.add_rows(
        "option_exercise",
        names,
        np.concatenate([o, np.arange(O)]),
        np.concatenate([exercised_ids, reserved]),
        np.concatenate([np.ones(n), -np.ones(O)]),
        upper=0.0,
        unit="lots",
        definition=True,
    )
    acquired = _acquired(m, data, lots, p, t, exercised_ids)
    capex = Capex(
        np.concatenate([data.option_offer, data.option_offer[o]]),
        np.concatenate([start, t]),
        np.concatenate([reserved, exercised_ids]),
        np.concatenate([data.option_reserve_cost * lot, price]),
    )
    return OptionHandles(reserved, exercised, acquired, capex)


def _acquired(
    m: LinearModel, data: ModelData, lots: np.ndarray, p: np.ndarray, t: np.ndarray, exercised: np.ndarray
) -> np.ndarray:
    """``acquired[offer,(site,)period]`` = lots bought + lots exercised there (a definition)."""
    P, T = lots.shape
    block = m.column_block("lots")
    assert block is not None
    index = block.index
    ids = m.add_columns("acquired", index, unit="lots", doc="lots bought or exercised")
    rows = np.arange(P * T)
    m.add_rows(
        "acquired_lots",
        index,
        np.concatenate([rows, rows, p * T + t]),
        np.concatenate([ids, lots.ravel(), exercised]),
        np.concatenate([np.ones(P * T), -np.ones(P * T), -np.ones(len(exercised))]),
        lower=0.0,
        upper=0.0,
        unit="lots",
        definition=True,
    )
    return ids.reshape(P, T)
