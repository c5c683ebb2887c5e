"""Decisions held: a plan's columns fixed at its values in a model built afresh (the
mean-forecast plan's first periods in an EEV, a plan's here-and-now decisions out of sample,
every decision of a plan whose prices are read)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .build import Handles
from .linear import LinearModel
from .sets import ModelData

__all__ = ["Held"]


@dataclass(frozen=True)
class Held:
    """A plan's decisions of its first ``periods`` periods, held in every model they are
    applied to (`hold`), in the plan's own terms: units bought (P, H) per placement, GW started
    (B, H) or None, units reserved through each capacity option (O,) (NaN for an option
    reserved in period ``H`` or later: a later decision, left free) and units exercised
    (O, P, H)."""

    periods: int
    placed: np.ndarray
    built: np.ndarray | None
    reserved: np.ndarray
    exercised: np.ndarray

    def lots(self, data: ModelData) -> np.ndarray:
        """(P, H) the held purchases in whole lots."""
        return np.round(self.placed / data.lot_p[:, None])

    def hold(self, model: LinearModel, handles: Handles, data: ModelData) -> None:
        """Fix the held columns of one model (or one path's ``handles`` in an extensive form)."""
        H = self.periods
        if H == 0:
            return
        _fix(model, handles.lots[:, :H], self.lots(data))
        builds = handles.builds
        if builds is not None and self.built is not None:
            units = self.built / builds.gw[:, None]
            blocks = np.isfinite(data.build_block)[:, None]
            _fix(model, builds.cols[:, :H], np.where(blocks, np.round(units), units))
        options = handles.options
        if options is not None and len(self.reserved):
            lot = data.lot[data.option_offer].astype(float)
            chosen = np.isfinite(self.reserved)
            _fix(model, options.reserved[chosen], np.round(self.reserved[chosen] / lot[chosen]))
            _fix(model, options.exercised[:, :, :H], np.round(self.exercised / lot[:, None, None]))


def _fix(model: LinearModel, ids: np.ndarray, values: np.ndarray) -> None:
    """Fix the live columns ``ids`` (−1: none) at ``values``."""
    live = ids >= 0
    model.set_col_bounds(ids[live], values[live], values[live])
