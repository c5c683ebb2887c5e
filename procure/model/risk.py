"""Risk families: concentration (HHI) and supply disruptions (shortfall, CVaR).

HHI is quadratic; HiGHS solves MILPs.  ``HHI_t = Σ_v x[v,t]²`` with
``x = C[v,t] / demand_t`` is bounded from below by tangent cuts
``h[v,t] ≥ 2·s·x − s²`` (outer approximation).  A coarse grid of tangents is
built up front; `hhi_cut_rows` adds a tangent at the value a plan actually
took, until every period's model HHI is within `HHI_TOL` of the exact one (relatively, where
HHI is above 1).

CVaR follows Rockafellar and Uryasev: with ``η`` the value-at-risk and
``z_ω ≥ loss_ω − η``, ``CVaR = η + Σ_ω p_ω·z_ω / (1 − α)`` over the listed
scenarios and the nominal one (loss 0).  Losses are linear in shortfalls
``u[ω,t] ≥ demand_t − Σ_v a[v,ω,t]·C[v,t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .linear import Index, LinearModel, SquareBounds
from .sets import ModelData, compute_may_fall_short

__all__ = ["HHI_TOL", "CvarHandles", "HhiHandles", "define_cvar", "define_hhi", "hhi_cut_rows"]

#: A plan's exact HHI exceeds the model's by at most this much in any period.
HHI_TOL = 1e-5

#: Tangent points of the first cut grid (shares of demand).
_GRID = np.linspace(0.0, 1.0, 11)


@dataclass(frozen=True)
class HhiHandles:
    """Columns and rows of the HHI family."""

    periods: np.ndarray  # positions of the periods with demand
    terms: np.ndarray  # (V, P) ids of h[v,t]
    cap_rows: np.ndarray  # (P,) ids of max_hhi[t] rows


@dataclass(frozen=True)
class CvarHandles:
    """Columns and rows of the CVaR family: CVaR in dollars = ``unit`` · Σ weights · x[ids]."""

    ids: np.ndarray
    weights: np.ndarray
    cap_row: np.ndarray  # (1,) id of the max_cvar row
    unit: float  # dollars per unit of η and z


def hhi_cut_rows(
    data: ModelData, handles: HhiHandles, compute: np.ndarray, v: np.ndarray, p: np.ndarray, at: np.ndarray
) -> tuple[Index, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tangent cuts ``h[v,t] − 2·s/demand_t · C[v,t] ≥ −s²`` at shares ``at`` for members ``(v, p)``.

    Returns ``(index, row, col, val, lower)`` for `LinearModel.add_rows`."""
    t = handles.periods[p]
    n = len(v)
    index = Index(
        ("vendor", "period", "share"),
        (data.vendors, tuple(int(x) for x in data.periods), tuple(float(s) for s in at)),
        np.column_stack([v, t, np.arange(n)]),
    )
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([handles.terms[v, p], compute[v, t]])
    vals = np.concatenate([np.ones(n), -2.0 * at / data.demand[t]])
    return index, rows, cols, vals, -(at**2)


def define_hhi(m: LinearModel, data: ModelData, compute: np.ndarray, *, force: bool = False) -> HhiHandles | None:
    """``hhi_term[vendor,period]`` h ≥ (C/demand)² by ``hhi_cut`` tangents; objective
    ``hhi_weight · d_t · h``; ``max_hhi[period]``: Σ_v h ≤ max_hhi.  Periods without demand are left out."""
    risk = data.problem.risk
    if not (force or risk.hhi_weight > 0 or risk.max_hhi is not None):
        return None
    periods = np.flatnonzero(data.demand > 0)
    V, P = data.n_vendors, len(periods)
    if P == 0:
        return None
    labels = tuple(int(x) for x in data.periods[periods])
    grid = Index.grid(vendor=data.vendors, period=labels)
    cost = np.tile(risk.hhi_weight * data.discount[periods], V)
    terms = m.add_columns("hhi_term", grid, cost=cost, unit="share²", doc="(vendor compute / demand)²").reshape(V, P)
    handles = HhiHandles(periods, terms, np.zeros(0, dtype=np.int64))
    v, p, k = np.meshgrid(np.arange(V), np.arange(P), np.arange(len(_GRID)), indexing="ij")
    index, row, col, val, lower = hhi_cut_rows(data, handles, compute, v.ravel(), p.ravel(), _GRID[k.ravel()])
    m.add_rows("hhi_cut", index, row, col, val, lower=lower, unit="share²", definition=True)
    # the exact terms, for adapters whose solvers take convex quadratic constraints
    m.squares.append(
        SquareBounds(
            "hhi_exact", grid, terms.ravel(), compute[:, periods].ravel(), np.tile(1.0 / data.demand[periods], V)
        )
    )
    cap = risk.max_hhi if risk.max_hhi is not None else np.inf
    caps = m.add_rows(
        "max_hhi",
        Index.grid(period=labels),
        np.tile(np.arange(P), V),
        terms.ravel(),
        1.0,
        upper=cap,
        unit="HHI",
    )
    return HhiHandles(periods, terms, caps)


def _shortfall(m: LinearModel, data: ModelData, compute: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``shortfall[scenario,period]`` u with rows u + Σ_v a·C ≥ demand, where a scenario can fall
    short; returns u's ids and each one's scenario and period positions."""
    V = data.n_vendors
    # (S, T): where it disrupts, or anywhere when compute may be below demand undisrupted
    # (workloads served at an efficiency above 1)
    cut = np.asarray((data.availability < 1).any(axis=1), dtype=bool) | compute_may_fall_short(data)
    scenarios = Index.grid(scenario=data.scenario_names, period=tuple(int(x) for x in data.periods)).subset(cut)
    u = m.add_columns("shortfall", scenarios, unit="compute", doc="demand not met in a scenario")
    s_of, t_of = np.nonzero(cut)
    n = len(u)
    rows = np.concatenate([np.arange(n), np.repeat(np.arange(n), V)])
    cols = np.concatenate([u, compute[np.tile(np.arange(V), n), np.repeat(t_of, V)]])
    vals = np.concatenate(
        [np.ones(n), data.availability[np.repeat(s_of, V), np.tile(np.arange(V), n), np.repeat(t_of, V)]]
    )
    m.add_rows("shortfall", scenarios, rows, cols, vals, lower=data.demand[t_of], unit="compute", definition=True)
    return u, s_of, t_of


def define_cvar(m: LinearModel, data: ModelData, compute: np.ndarray, *, force: bool = False) -> CvarHandles | None:
    """``shortfall[scenario,period]`` u, ``var`` η ≥ 0 and ``tail[scenario]`` z ≥ 0 with rows
    ``shortfall``: u + Σ_v a·C ≥ demand, ``tail``: z + η − Σ_t d_t·penalty·u ≥ 0;
    objective ``risk_weight · CVaR``; ``max_cvar``: CVaR ≤ max_cvar."""
    risk = data.problem.risk
    wanted = force or risk.risk_weight > 0 or risk.max_cvar is not None
    if not wanted or risk.shortfall_penalty <= 0 or len(data.scenario_names) == 0:
        return None
    u, s_of, t_of = _shortfall(m, data, compute)
    # η and z count in a power of two near the size of a loss, so their values stay near 1
    # (losses of $1e11 next to unit coefficients would leave the solver's tolerances meaningless)
    unit = float(np.exp2(np.round(np.log2(max(risk.shortfall_penalty * float(data.demand.max()), 1.0)))))
    alpha = risk.cvar_alpha
    nominal = data.nominal_probability > 0
    names = data.scenario_names + (("nominal",) if nominal else ())
    prob = np.concatenate([data.scenario_probability, [data.nominal_probability] if nominal else []])
    money = f"${unit:g}"
    eta = m.add_columns(
        "value_at_risk", Index.scalar(), cost=risk.risk_weight * unit, unit=money, doc="value at risk η"
    )
    z = m.add_columns(
        "tail",
        Index.grid(scenario=names),
        cost=risk.risk_weight * unit * prob / (1 - alpha),
        unit=money,
        doc="loss above η",
    )
    k = len(names)
    loss = data.discount[t_of] * risk.shortfall_penalty / unit
    m.add_rows(
        "tail",
        Index.grid(scenario=names),
        np.concatenate([np.arange(k), np.arange(k), s_of]),
        np.concatenate([z, np.repeat(eta, k), u]),
        np.concatenate([np.ones(k), np.ones(k), -loss]),
        lower=0.0,
        unit=money,
        definition=True,
    )
    ids = np.concatenate([eta, z])
    weights = np.concatenate([[1.0], prob / (1 - alpha)])
    cap = m.add_rows(
        "max_cvar",
        Index.scalar(),
        np.zeros(len(ids), dtype=int),
        ids,
        weights,
        upper=risk.max_cvar / unit if risk.max_cvar is not None else np.inf,
        unit=money,
    )
    return CvarHandles(ids, weights, cap, unit)
