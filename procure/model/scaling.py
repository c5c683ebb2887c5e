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

    def as_model(self) -> LinearModel:
        """The scaled form as a `LinearModel` with the original's blocks (names and labels), for
        adapters that translate a `LinearModel`.  Its square bounds ``y ≥ (s·x)²`` are restated in
        solver units: with ``x = cx·x'`` and ``y = cy·y'``, ``y' ≥ (s·cx/√cy · x')²``."""
        m = self.model
        squares = [replace(q, scale=q.scale * self.col_scale[q.x] / np.sqrt(self.col_scale[q.y])) for q in m.squares]
        return replace(
            m,
            columns=list(m.columns),
            rows=list(m.rows),
            offset=self.offset,
            col_lower=self.col_lower,
            col_upper=self.col_upper,
            cost=self.cost,
            integrality=self.integrality,
            row_lower=self.row_lower,
            row_upper=self.row_upper,
            squares=squares,
            _triplets=[],
            _A=self.A.tocsr(),
        )

    def with_rows(self, model: LinearModel, ids: np.ndarray) -> MatrixForm:
        """This form extended by rows ``ids`` just added to ``model`` (scaled like the others)."""
        block = (model.A[ids] @ sp.diags(self.col_scale)).tocsr()
        counts = np.diff(block.indptr)
        r = _factor(*_extremes(np.abs(block.data), block.indptr[:-1], block.shape[0], counts > 0))
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


def _extremes(values: np.ndarray, starts: np.ndarray, n: int, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and smallest |entry| of each of ``n`` groups laid out contiguously from ``starts``."""
    big, small = np.zeros(n), np.ones(n)
    if values.size:
        big[present] = np.maximum.reduceat(values, starts[present])
        small[present] = np.minimum.reduceat(values, starts[present])
    return big, small


def _factor(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """A power of two bringing sqrt(max·min) to 1 (1 where there is no entry)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(big > 0, 1.0 / _pow2(np.where(big > 0, np.sqrt(big * small), 1.0)), 1.0)


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
        rows = np.repeat(np.arange(m), np.diff(A.indptr))
        by_col = np.argsort(A.indices, kind="stable")  # entries in column order
        col_counts = np.bincount(A.indices, minlength=n)
        col_starts = np.concatenate([[0], np.cumsum(col_counts)[:-1]])
        row_counts = np.diff(A.indptr)
        size = np.abs(A.data)
        for _ in range(passes):  # alternate row and column equilibration on the entry arrays
            scaled = size * row_scale[rows] * col_scale[A.indices]
            row_scale *= _factor(*_extremes(scaled, A.indptr[:-1], m, row_counts > 0))
            scaled = (size * row_scale[rows] * col_scale[A.indices])[by_col]
            c = _factor(*_extremes(scaled, col_starts, n, col_counts > 0))
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
