"""The least HHI cap any plan keeps: one solve instead of a bisection on the cap.

An infeasible ``risk.max_hhi`` is repaired by the smallest cap that gives a plan.
Bisecting on the cap costs a solve per step, and each solve near the threshold
refines tangent cuts for many rounds.  Instead the diagnosis model (every other
requirement hard) minimizes ``z ≥ Σ_v h[v,t]`` for every period with demand, its
HHI terms refined by the same tangent cuts as every HHI solve (`optimize`), so
the plan's exact HHI keeps what the model promises.  The cap found is the plan's
exact largest HHI; it is the least within the solve's relative gap when the solve
proves optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.pipeline import Pipeline, lots_of, optimize
from ..model.linear import Index
from ..model.sets import model_data
from ..problem.format import Problem

__all__ = ["LeastHhi", "least_max_hhi"]


@dataclass(frozen=True)
class LeastHhi:
    """The largest period HHI of the plan that minimizes it; ``proved``: least within the gap;
    ``lots``: that plan's whole lots (P, T), a plan of the problem with its cap at ``value``."""

    value: float
    proved: bool
    lots: np.ndarray


def least_max_hhi(pipeline: Pipeline, problem: Problem, seconds: float) -> LeastHhi | None:
    """The least largest period HHI of any plan of ``problem`` with its HHI cap lifted (None
    when the problem has no HHI terms or no plan was found within ``seconds``)."""
    data = model_data(problem)
    built = pipeline.diagnosis_model(data)
    hhi = built.hhi
    if hhi is None:
        return None
    m = built.model
    V, P = hhi.terms.shape
    m.set_row_bounds(hhi.cap_rows, upper=np.full(len(hhi.cap_rows), np.inf))
    m.set_cost(np.arange(m.num_cols), 0.0)
    m.offset = 0.0
    z = m.add_columns("least_hhi", Index.scalar(), cost=1.0, unit="HHI", doc="the largest HHI of any period")
    labels = tuple(int(p) for p in data.periods[hhi.periods])
    m.add_rows(  # Σ_v h[v,t] − z ≤ 0
        "least_hhi",
        Index.grid(period=labels),
        np.concatenate([np.tile(np.arange(P), V), np.arange(P)]),
        np.concatenate([hhi.terms.ravel(), np.repeat(z, P)]),
        np.concatenate([np.ones(V * P), -np.ones(P)]),
        upper=0.0,
        unit="HHI",
    )
    session = pipeline.adapter.open(m)
    options = replace(pipeline.options, time_limit=max(seconds, 0.1), warm_start=None, warm_start_ids=None)
    raw = optimize(session, built, data, options)
    if not raw.has_plan or raw.x is None:
        return None
    periods = hhi.periods
    shares = raw.x[built.compute[:, periods]] / data.demand[periods]
    return LeastHhi(float((shares**2).sum(axis=0).max()), raw.status == "optimal", lots_of(built, raw))
