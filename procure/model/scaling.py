"""Matrix form of a `LinearModel`, optionally scaled for the solver's sake.

Dollars of 1e11 sit next to lot counts of 1 and compute of 1e9: left as is,
such a model strains any solver's tolerances.  `matrix_form(model, scale=True)`
equilibrates rows and continuous columns by powers of two (exact in floating
point, so unscaling loses nothing) and brings the objective near unit size.
Integer columns are never scaled: their integrality must survive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .linear import LinearModel

__all__ = ["MatrixForm", "matrix_form", "objective_scale"]


@dataclass(frozen=True)
class MatrixForm:
    """``min cost @ y + offset`` s.t. ``row_lower ≤ A y ≤ row_upper``, bounds, integrality;
    ``x = col_scale · y`` in model units, objective in model units = ``value / obj_scale``."""

    model: LinearModel
    A: sp.csc_matrix
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integrality: np.ndarray
    col_scale: np.ndarray
    row_scale: np.ndarray
    obj_scale: float

    def to_model_x(self, y: np.ndarray) -> np.ndarray:
        """Solver column values → model units."""
        return y * self.col_scale

    def to_solver_x(self, x: np.ndarray) -> np.ndarray:
        """Model-unit column values → solver units (for warm starts)."""
        return x / self.col_scale

    def to_model_objective(self, value: float) -> float:
        return value / self.obj_scale

    def with_rows(self, model: LinearModel, ids: np.ndarray) -> MatrixForm:
        """This form extended by rows ``ids`` just added to ``model`` (scaled like the others)."""
        block = (model.A[ids] @ sp.diags(self.col_scale)).tocsr()
        r = _geometric_factors(block)
        scaled = (sp.diags(r) @ block).tocsc()
        return replace(
            self,
            A=sp.vstack([self.A, scaled]).tocsc(),
            row_scale=np.concatenate([self.row_scale, r]),
            row_lower=np.concatenate([self.row_lower, model.row_lower[ids] * r]),
            row_upper=np.concatenate([self.row_upper, model.row_upper[ids] * r]),
        )


def _pow2(x: np.ndarray) -> np.ndarray:
    return np.exp2(np.round(np.log2(x)))


def _geometric_factors(A: sp.csr_matrix) -> np.ndarray:
    """Per row, a power of two bringing sqrt(max·min) of its |entries| to 1."""
    absA = abs(A)
    big = absA.max(axis=1).toarray().ravel()
    inv = absA.copy()
    inv.data = 1.0 / inv.data
    small_inv = inv.max(axis=1).toarray().ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        mid = np.sqrt(big / np.where(small_inv > 0, small_inv, 1.0))
    return np.where(big > 0, 1.0 / _pow2(np.where(big > 0, mid, 1.0)), 1.0)


def objective_scale(cost: np.ndarray, col_scale: np.ndarray) -> float:
    """A power of two bringing the median non-zero objective coefficient near 1."""
    nz = np.abs(cost * col_scale)
    nz = nz[nz > 0]
    return float(1.0 / _pow2(np.array([np.median(nz)]))[0]) if nz.size else 1.0


def matrix_form(model: LinearModel, *, scale: bool = True, passes: int = 4) -> MatrixForm:
    """The arrays of ``model``; scaled by powers of two when ``scale``."""
    A = model.A.tocsr()
    m, n = A.shape
    row_scale = np.ones(m)
    col_scale = np.ones(n)
    obj_scale = 1.0
    if scale and A.nnz:
        continuous = ~model.integrality
        for _ in range(passes):
            r = _geometric_factors(sp.diags(row_scale) @ A @ sp.diags(col_scale))
            row_scale *= r
            c = _geometric_factors((sp.diags(row_scale) @ A @ sp.diags(col_scale)).T.tocsr())
            col_scale *= np.where(continuous, c, 1.0)
        obj_scale = objective_scale(model.cost, col_scale)
    As = (sp.diags(row_scale) @ A @ sp.diags(col_scale)).tocsc()
    with np.errstate(invalid="ignore"):
        return MatrixForm(
            model=model,
            A=As,
            cost=model.cost * col_scale * obj_scale,
            offset=model.offset * obj_scale,
            col_lower=model.col_lower / col_scale,
            col_upper=model.col_upper / col_scale,
            row_lower=model.row_lower * row_scale,
            row_upper=model.row_upper * row_scale,
            integrality=model.integrality.copy(),
            col_scale=col_scale,
            row_scale=row_scale,
            obj_scale=obj_scale,
        )
