"""Reduced-cost bounds remove no plan as good as the known one (checked by enumeration)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from procure.solvers.redcost import reduced_cost_bounds


def _instance(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A small covering IP ``min c·y, A y ≥ b, 0 ≤ y ≤ u, y integer`` (lot-sized demand rows)."""
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    A = rng.integers(1, 9, size=(m, n)).astype(float) * (rng.random((m, n)) < 0.8)
    A[:, rng.integers(n)] += 1.0  # every row coverable
    b = rng.integers(3, 25, size=m).astype(float)
    c = rng.integers(1, 20, size=n).astype(float)
    u = rng.integers(2, 7, size=n).astype(float)
    return A, b, c, u


def _points(u: np.ndarray) -> np.ndarray:
    return np.array(list(itertools.product(*(range(int(k) + 1) for k in u))), dtype=float)


def _check(rng: np.random.Generator, overstated: float = 1.0) -> tuple[bool, bool]:
    """(every integer plan with cost ≤ F stays inside the bounds, some bound narrowed)."""
    A, b, c, u = _instance(rng)
    lp = linprog(c, A_ub=-A, b_ub=-b, bounds=list(zip(np.zeros_like(u), u)), method="highs")
    if lp.status != 0:
        return True, False
    pts = _points(u)
    feasible = pts[(pts @ A.T >= b - 1e-9).all(axis=1)]
    if not len(feasible):
        return True, False
    costs = feasible @ c
    # a known plan: the worst, the best or one in between
    known = float(np.sort(costs)[int(rng.integers(len(costs)))])
    relaxation = float(lp.fun)
    d = np.where(lp.x >= u - 1e-9, lp.upper.marginals, lp.lower.marginals) * overstated
    lower = np.zeros_like(u)
    ids, lo, up = reduced_cost_bounds(lower, u, np.ones_like(u), lp.x, d, relaxation, known)
    new_lo, new_up = lower.copy(), u.copy()
    new_lo[ids], new_up[ids] = lo, up
    good = feasible[costs <= known + 1e-9]
    inside = bool(((good >= new_lo - 1e-9) & (good <= new_up + 1e-9)).all())
    return inside, len(ids) > 0


def test_no_plan_as_good_as_the_known_one_is_removed() -> None:
    rng = np.random.default_rng(0)
    narrowed = 0
    for _ in range(400):
        inside, some = _check(rng)
        assert inside
        narrowed += some
    assert narrowed > 50  # the bounds do narrow domains


def test_the_check_catches_an_allowance_too_small() -> None:
    """The enumeration is strong enough to see bounds that are too tight: reduced costs
    overstated fivefold remove good plans on some instances."""
    rng = np.random.default_rng(1)
    assert not all(_check(rng, overstated=5.0)[0] for _ in range(400))


def test_nothing_narrows_without_a_gap_to_spend() -> None:
    ids, _, _ = reduced_cost_bounds(np.zeros(2), np.full(2, 5.0), np.ones(2), np.zeros(2), np.ones(2), 10.0, 9.0)
    assert len(ids) == 0
    ids, _, up = reduced_cost_bounds(np.zeros(2), np.full(2, 5.0), np.array([1, 0]), np.zeros(2), np.ones(2), 0.0, 1.0)
    assert ids.tolist() == [0] and up.tolist() == [2.0]  # floor(1.01 / 1) + 1; the continuous column is left alone


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_columns_at_their_upper_bound_narrow_from_below(sign: float) -> None:
    x = np.array([5.0]) if sign < 0 else np.array([0.0])
    _, lo, up = reduced_cost_bounds(np.zeros(1), np.full(1, 5.0), np.ones(1), x, np.array([sign * 2.0]), 0.0, 2.0)
    if sign < 0:
        assert lo.tolist() == [3.0] and up.tolist() == [5.0]
    else:
        assert lo.tolist() == [0.0] and up.tolist() == [2.0]
