"""Demand trees from forecasts: a planner holds a forecast, not a tree.

Three ways to a problem with ``demand_scenarios`` (see "Demand scenarios" in
docs/problem-format.md and docs/forecasts.md):

- `growth_tree` discretizes a growth forecast, stage by stage: ``growth={2027: (2.0, 3.0, 4.5)}``
  (the 10/50/90% quantiles of the multiple over the previous period) or ``lognormal(mu, sigma)``
  per stage, or one overall forecast ``total=(3.0, 5.0, 8.0), by=2030`` ("3× to 8× by 2030, 5×
  most likely") spread over the stages;
- `tree_from_paths` groups thousands of simulated demand paths into a tree, stage by stage
  (k-means of each node's paths);
- `reduce_tree` keeps the ``n_paths`` paths of a tree that represent it best (forward selection
  in the Kantorovich distance) and moves the others' probability to them.

Each returns a validated `procure.Problem` (``reduce_tree`` inside a `ReducedTree`) that
`procure.solve` solves as a tree: paths with equal demand up to a period share that period's
decisions, so the first period (whose demand is known) is one here-and-now decision.

>>> import procure
>>> from procure.forecast import growth_tree
>>> tree = growth_tree("problem.toml", total=(3.0, 5.0, 8.0), by=2029, branching=3)  # doctest: +SKIP
>>> [s.name for s in tree.demand_scenarios][:3]                                      # doctest: +SKIP
['low-low-low', 'low-low-mid', 'low-low-high']
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
from numpy.polynomial.hermite import hermgauss

from ..base.errors import ProblemError
from ..problem.format import Problem, as_problem
from ..problem.validate import show

__all__ = ["LogNormal", "ReducedTree", "growth_paths", "growth_tree", "lognormal", "reduce_tree", "tree_from_paths"]

#: Most paths `growth_tree` and `tree_from_paths` make unless ``max_paths`` says otherwise.
MAX_PATHS = 100_000
#: Most paths `reduce_tree` reduces unless ``max_paths`` says otherwise (it holds their
#: pairwise distances, sorted: 5,000 paths take 300 MB).
MAX_REDUCE_PATHS = 5_000
#: Most path-to-centre distances `tree_from_paths` holds at once (paths × branching; 512 MB).
MAX_DISTANCES = 1 << 26
#: The 90% quantile of the standard normal: low and high of a forecast are its 10% and 90% quantiles.
Z90 = statistics.NormalDist().inv_cdf(0.9)
#: Names of the children of a node, lowest first, by their number (more than five: ``q1``, ``q2``, …).
LABELS: dict[int, tuple[str, ...]] = {
    1: ("",),
    2: ("low", "high"),
    3: ("low", "mid", "high"),
    4: ("lowest", "low", "high", "highest"),
    5: ("lowest", "low", "mid", "high", "highest"),
}

Method = Literal["quantile", "gauss-hermite"]

# --------------------------------------------------------------------------- growth models


@dataclass(frozen=True)
class LogNormal:
    """A stage's growth multiple ``exp(N(mu, sigma²))``; see `lognormal`.

    Parameters
    ----------
    mu : float
        Mean of the log multiple (the median multiple is ``e^mu``).
    sigma : float
        Standard deviation of the log multiple, ≥ 0.
    """

    mu: float
    sigma: float

    @property
    def median(self) -> float:
        """The median multiple, ``e^mu``."""
        return math.exp(self.mu)


def lognormal(mu: float, sigma: float) -> LogNormal:
    """A growth multiple ``exp(N(mu, sigma²))`` over one period (numpy's order: mean, then sigma).

    Parameters
    ----------
    mu : float
        Mean of the log multiple: ``lognormal(math.log(3), 0.3)`` has median 3×.
    sigma : float
        Standard deviation of the log multiple, ≥ 0.

    Returns
    -------
    LogNormal

    Notes
    -----
    ``procure.sweeps.sample.lognormal(sigma, mu=0.0)`` (a price move, sigma first) is accepted too
    wherever a growth model is: its ``mu`` and ``sigma`` are read.
    """
    return LogNormal(mu, sigma)


@dataclass(frozen=True)
class ReducedTree:
    """A tree reduced by `reduce_tree`.

    Attributes
    ----------
    problem : Problem
        The problem with the kept paths only (in the order of the input), each with its own
        probability plus those of the removed paths nearest to it.
    distance : float
        Kantorovich distance between the input tree and the reduced one, in demand units:
        ``Σ_removed p_k · min_kept ‖d_k − d_j‖`` over whole demand paths (every workload,
        every period; Euclidean norm). 0 when every path is kept.
    relative : float
        ``distance`` divided by the distance of the best one-path tree (1 at one path, 0 when
        nothing is lost; 0 when every path is the same).
    kept : tuple of str
        The names of the kept paths, in the order chosen (the first is the most central path).
    """

    problem: Problem
    distance: float
    relative: float
    kept: tuple[str, ...]


# --------------------------------------------------------------------------- errors and small parsers


def _fail(path: str, value: Any, why: str) -> NoReturn:
    """Raise `ProblemError` naming the argument (``path``) and showing ``value``."""
    raise ProblemError(f"{path}: {_shown(value)} {why}", path=path, value=value)


def _shown(value: Any) -> str:
    """A value as a message shows it: a short list of numbers as written, anything else as `show` does."""
    if isinstance(value, (list, tuple)) and len(value) <= 8 and all(_is_number(v) for v in value):
        return "(" + ", ".join(f"{float(v):g}" for v in value) + ")"
    return show(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _count(value: Any, path: str, *, low: int = 1) -> int:
    """A whole number ≥ ``low`` (not a bool, not a float)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        _fail(path, value, f"is not a whole number ≥ {low}")
    return int(value)


def _period_of(key: Any, periods: tuple[int, ...], path: str) -> int:
    """A period key (``2027`` or ``"2027"``) as the period's position."""
    try:
        period = int(key) if isinstance(key, (int, np.integer, str)) and not isinstance(key, bool) else None
    except ValueError:
        period = None
    if period is None or period not in periods:
        _fail(path, key, f"is not a period of the problem ({periods[0]}–{periods[-1]})")
    return periods.index(period)


def _workloads_of(problem: Problem) -> tuple[str, ...] | None:
    """The problem's workload names (also of its demand scenarios); None with one demand."""
    if problem.workloads is not None:
        return tuple(problem.workloads)
    if problem.demand_scenarios and problem.demand_scenarios[0].workloads is not None:
        return tuple(problem.demand_scenarios[0].workloads)
    return None


def _scenario_paths(problem: Problem, workloads: tuple[str, ...] | None) -> np.ndarray:
    """(K, W, T) the demand path of each of the problem's demand scenarios."""
    if workloads is None:
        return np.array([[s.demand] for s in problem.demand_scenarios], dtype=float)
    return np.array([[s.workloads[w] for w in workloads] for s in problem.demand_scenarios], dtype=float)  # type: ignore[index]


def _to_branch(problem: Problem | Mapping[str, Any] | str | os.PathLike[str]) -> Problem:
    """The problem a tree replaces the demand of: at least two periods."""
    problem = as_problem(problem)
    if len(problem.periods) < 2:
        _fail("problem.periods", list(problem.periods), "has one period: a tree needs periods after the first")
    return problem


def _branching(branching: Any, periods: tuple[int, ...], max_paths: int | None = None) -> np.ndarray:
    """(T − 1,) children of every node in each period after the first.

    An int is every period's; a mapping ``{period: k}`` names some (the others 1); a sequence
    gives one per period after the first (or one per period, the first 1)."""
    T = len(periods)
    if isinstance(branching, Mapping):
        ks = np.ones(T - 1, dtype=np.int64)
        for key, k in branching.items():
            t = _period_of(key, periods, f"branching[{key!r}]")
            if t == 0:
                if _count(k, f"branching[{key!r}]") != 1:
                    _fail(f"branching[{key!r}]", k, "branches in the first period, whose demand is known: give 1")
                continue
            ks[t - 1] = _count(k, f"branching[{key!r}]")
    elif isinstance(branching, (Sequence, np.ndarray)) and not isinstance(branching, str):
        given = list(branching)
        first = int(len(given) == T)  # the position in ``branching`` of the second period's number
        if first:
            if _count(given[0], "branching[0]") != 1:
                _fail("branching[0]", given[0], "branches in the first period, whose demand is known: give 1")
            given = given[1:]
        if len(given) != T - 1:
            _fail(
                "branching",
                branching,
                f"gives {len(given)} numbers: give one per period after the first ({T - 1}, for {periods[1:]})",
            )
        ks = np.array([_count(k, f"branching[{t}]") for t, k in enumerate(given, start=first)], dtype=np.int64)
    else:
        ks = np.full(T - 1, _count(branching, "branching"), dtype=np.int64)
    paths = math.prod(int(k) for k in ks)
    if max_paths is not None and paths > max_paths:
        _fail("branching", branching, f"makes {paths:,} paths, more than max_paths={max_paths:,}")
    return ks


# --------------------------------------------------------------------------- growth_tree


def _model(spec: Any, path: str) -> tuple[float, float]:
    """(mu, sigma) of the log multiple of one growth model: quantiles (low, mid, high) or a lognormal."""
    if hasattr(spec, "mu") and hasattr(spec, "sigma"):  # LogNormal, or procure.sweeps.sample.lognormal
        mu, sigma = spec.mu, spec.sigma
        if not (_is_number(mu) and _is_number(sigma) and math.isfinite(mu) and math.isfinite(sigma)) or sigma < 0:
            _fail(path, (mu, sigma), "is not a lognormal(mu, sigma) with finite mu and sigma ≥ 0")
        return float(mu), float(sigma)
    if not _is_quantiles(spec):
        _fail(path, spec, "is not a growth model: give (low, mid, high) multiples or lognormal(mu, sigma)")
    low, mid, high = (float(v) for v in spec)
    if not all(math.isfinite(v) and v > 0 for v in (low, mid, high)):
        _fail(path, spec, "holds multiples that are not positive finite numbers (a multiple of 1 is no growth)")
    if not low <= mid <= high:
        _fail(path, spec, "is not low ≤ mid ≤ high (the 10%, 50% and 90% quantiles of the multiple)")
    # the median exactly; sigma the least-squares fit of the 10% and 90% quantiles around it
    return math.log(mid), (math.log(high) - math.log(low)) / (2 * Z90)


def _is_quantiles(spec: Any) -> bool:
    return (
        isinstance(spec, (Sequence, np.ndarray))
        and not isinstance(spec, str)
        and len(spec) == 3
        and all(_is_number(v) for v in spec)
    )


def _is_model(spec: Any) -> bool:
    return (hasattr(spec, "mu") and hasattr(spec, "sigma")) or _is_quantiles(spec)


def _per_workload(spec: Any, workloads: tuple[str, ...] | None, path: str) -> list[tuple[Any, str]]:
    """(spec, path) for each workload (one for one demand): a mapping keyed by workload names
    gives each its own, anything else is every workload's."""
    if workloads is None or not isinstance(spec, Mapping) or not any(key in workloads for key in spec):
        return [(spec, path)] * (len(workloads) if workloads else 1)
    unknown = [key for key in spec if key not in workloads]
    if unknown:
        _fail(f"{path}[{unknown[0]!r}]", spec[unknown[0]], f"is not a workload of the problem ({', '.join(workloads)})")
    missing = [w for w in workloads if w not in spec]
    if missing:
        _fail(path, spec, f"gives no growth for workload {missing[0]!r}: give every workload, or one model for all")
    return [(spec[w], f"{path}[{w!r}]") for w in workloads]


def _fill(
    spec: Any, path: str, periods: tuple[int, ...], stages: range, mu: np.ndarray, sigma: np.ndarray, given: np.ndarray
) -> None:
    """Write the growth models of ``spec`` into ``mu``, ``sigma`` (T − 1,): a model for every stage
    in ``stages`` (positions of periods), or a mapping ``{period: model}``."""
    if _is_model(spec):
        targets = [(t, spec, path) for t in stages]
    elif isinstance(spec, Mapping):
        targets = []
        for key, model in spec.items():
            t = _period_of(key, periods, f"{path}[{key!r}]")
            if t == 0:
                _fail(f"{path}[{key!r}]", model, "is a growth into the first period, whose demand is known")
            targets.append((t, model, f"{path}[{key!r}]"))
    else:
        _fail(path, spec, "is not a growth model: give (low, mid, high), lognormal(mu, sigma) or {period: model}")
    for t, model, where in targets:
        if given[t - 1]:
            _fail(where, model, f"is a second growth model for {periods[t]} (total covers periods up to by)")
        mu[t - 1], sigma[t - 1] = _model(model, where)
        given[t - 1] = True


def _growth(
    growth: Any, total: Any, by: Any, periods: tuple[int, ...], workloads: tuple[str, ...] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(W, T − 1) mu and sigma of the log multiple of every workload in every stage."""
    T = len(periods)
    if growth is None and total is None:
        _fail("growth", None, "is required (or total=(low, mid, high) with by=period)")
    last = _period_of(periods[-1] if by is None else by, periods, "by")
    if total is not None and last == 0:
        _fail("by", by, "is the first period: total is the growth from the first period to by")
    mus, sigmas = [], []
    totals = _per_workload(total, workloads, "total") if total is not None else None
    for w, (spec, path) in enumerate(_per_workload(growth, workloads, "growth")):
        mu, sigma, given = np.zeros(T - 1), np.zeros(T - 1), np.zeros(T - 1, dtype=bool)
        if totals is not None:
            m, s = _model(totals[w][0], totals[w][1])
            mu[:last], sigma[:last], given[:last] = m / last, s / math.sqrt(last), True  # independent stages
        if spec is not None and totals is not None and last == T - 1 and _is_model(spec):
            _fail(path, spec, f"is a second growth model: total covers every period up to by={periods[last]}")
        if spec is not None:
            _fill(spec, path, periods, range(last + 1 if totals is not None else 1, T), mu, sigma, given)
        if not given.all():
            missing = periods[1 + int(np.argmin(given))]
            _fail("growth", growth, f"gives no growth model for {missing}: give one for every period after the first")
        mus.append(mu)
        sigmas.append(sigma)
    return np.array(mus), np.array(sigmas)


def _start(problem: Problem, start: Any, workloads: tuple[str, ...] | None) -> np.ndarray:
    """(W,) the first period's demand of every workload."""
    if start is None:
        if problem.demand_scenarios:
            first = _scenario_paths(problem, workloads)[:, :, 0]
            if not (first == first[0]).all():
                _fail("start", None, "is required: the problem's demand scenarios differ in the first period")
            value = first[0]
        elif workloads is not None:
            value = np.array([problem.workloads[w][0] for w in workloads], dtype=float)  # type: ignore[index]
        else:
            value = np.array([problem.total_demand[0]], dtype=float)
        where = "the problem's first-period demand"
    elif workloads is not None:
        if not isinstance(start, Mapping) or set(start) != set(workloads):
            _fail("start", start, f"is not a mapping of every workload ({', '.join(workloads)}) to its demand")
        value = np.array([start[w] if _is_number(start[w]) else np.nan for w in workloads], dtype=float)
        where = "start"
    else:
        if not _is_number(start):
            _fail("start", start, "is not a number")
        value = np.array([float(start)])
        where = "start"
    if not (np.isfinite(value).all() and (value > 0).all()):
        _fail("start", start if start is not None else value.tolist(), f"({where}) must be > 0 to grow from")
    return value


def _nodes(k: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(k,) standard normal nodes (ascending) and their probabilities.

    ``quantile``: equal-probability bins, each node at its bin's middle quantile, all scaled so
    that their variance is 1 (the mean and variance of the log multiple are exact; with 3
    children, low and high are close to the 10% and 90% quantiles).  ``gauss-hermite``: the
    Gauss–Hermite rule (exact moments up to 2k − 1, unequal probabilities)."""
    if k == 1:
        return np.zeros(1), np.ones(1)
    if method == "gauss-hermite":
        x, w = hermgauss(k)
        return np.sqrt(2.0) * x, w / w.sum()
    from scipy.special import ndtri  # scipy's submodules only where used: `import procure` stays quick

    z = ndtri((np.arange(k) + 0.5) / k)
    return z / np.sqrt(np.mean(z**2)), np.full(k, 1.0 / k)


def _pairing(k: int, nodes: int, W: int, correlation: float, rng: np.random.Generator) -> np.ndarray:
    """(nodes, k, W) which of the ``k`` marginal nodes each workload takes in each child.

    Fully correlated, child ``i`` takes node ``i`` for every workload.  Otherwise the children
    pair the workloads' nodes by the ranks of seeded normal scores with the given correlation
    (Iman–Conover): each workload keeps exactly its own nodes, the children are ordered by
    their mean score (the lowest first)."""
    if W == 1 or correlation >= 1.0 or k == 1:
        return np.broadcast_to(np.arange(k)[None, :, None], (nodes, k, W))
    common, own = rng.standard_normal((nodes, k, 1)), rng.standard_normal((nodes, k, W))
    score = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * own
    order = np.argsort(score.mean(axis=2), axis=1, kind="stable")
    score = np.take_along_axis(score, order[:, :, None], axis=1)
    return np.argsort(np.argsort(score, axis=1, kind="stable"), axis=1, kind="stable")


@dataclass(frozen=True)
class _Level:
    """The nodes of one period: each one's parent (in the previous period), demand and label."""

    parent: np.ndarray  # (N,) int
    value: np.ndarray  # (N, W)
    label: np.ndarray  # (N,) object: "" for an only child


def _labels(children: np.ndarray) -> np.ndarray:
    """(sum(children),) the label of each child of nodes with ``children`` children each, in order."""
    out = np.empty(int(children.sum()), dtype=object)
    for k, n in zip(*np.unique(children, return_counts=True)):
        k, n = int(k), int(n)
        names = LABELS.get(k) or tuple(f"q{i + 1:0{len(str(k))}d}" for i in range(k))
        out[np.repeat(children == k, children)] = np.tile(np.array(names, dtype=object), n)
    return out


def growth_tree(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    *,
    growth: Any = None,
    branching: int | Sequence[int] | Mapping[Any, int],
    total: Any = None,
    by: int | str | None = None,
    start: float | Mapping[str, float] | None = None,
    correlation: float = 1.0,
    method: Method = "quantile",
    seed: int = 0,
    max_paths: int = MAX_PATHS,
) -> Problem:
    """A demand tree grown from a forecast of growth multiples, stage by stage.

    Each stage (period after the first) multiplies every node's demand by a lognormal
    multiple, discretized into ``branching`` children: equal-probability bins of the normal
    log multiple, each child at its bin's middle quantile, scaled so that the log multiple's
    mean and variance are exact (``method="quantile"``), or Gauss–Hermite nodes with their
    probabilities (``method="gauss-hermite"``).  The tree is deterministic; paths are named by
    their children, lowest first: ``low-mid-high`` with 3 children a stage (``low``/``high``
    with 2; ``lowest``, ``low``, ``mid``, ``high``, ``highest`` with 5; ``q1``, ``q2``…
    beyond, ``q01``… from 10), stages with one child left out of the name.

    Parameters
    ----------
    problem : Problem, mapping or path
        The problem whose ``demand`` (or ``workloads``, or ``demand_scenarios``) the tree replaces.
    growth : growth model, mapping, optional
        The multiple over the previous period: ``(low, mid, high)``, its 10%, 50% and 90%
        quantiles (fitted as a lognormal: the median exactly, sigma by least squares from low
        and high), or ``lognormal(mu, sigma)``; one model for every stage, or a mapping
        ``{period: model}`` for each period after the first; with workloads, also a mapping
        ``{workload: ...}`` of any of these.
    branching : int, sequence or mapping
        Children of every node in each period after the first: one number for all, one per
        period after the first (``[3, 2, 1]``), or ``{period: k}`` (the periods left out: 1).
    total : growth model or mapping, optional
        The multiple from the first period to ``by`` (``(3.0, 5.0, 8.0)``: "3× to 8×, 5× most
        likely"), spread over the stages up to ``by`` as independent equal stages (each stage's
        log multiple has mean ``μ/n`` and standard deviation ``σ/√n`` over ``n`` stages);
        ``growth`` then gives the periods after ``by``, if any.
    by : int, optional
        The period ``total`` reaches (default: the last).
    start : float or mapping, optional
        The first period's demand (per workload: a mapping); default the problem's own.
    correlation : float
        Correlation of the workloads' log multiples in [0, 1] (default 1: they move together).
        Below 1, the children pair each workload's nodes by the ranks of seeded correlated
        normal scores (``seed``); each workload's own multiples are unchanged.
    method : {"quantile", "gauss-hermite"}
        The discretization of each stage (Gauss–Hermite needs ``correlation=1`` with workloads).
    seed : int
        Seed of the pairing of workloads below correlation 1 (unused otherwise).
    max_paths : int
        Most paths the tree may have (the product of the branching).

    Returns
    -------
    Problem
        The problem with ``demand_scenarios`` (one per path) instead of its demand.

    Raises
    ------
    ProblemError
        Naming the argument and value: a multiple ≤ 0 or quantiles out of order, a period that is
        not the problem's (or no model for one), a branching below 1 or making more than
        ``max_paths`` paths, a start ≤ 0, a correlation outside [0, 1]; or the tree's problem is
        invalid (a demand above the supported range, say).

    Examples
    --------
    >>> tree = growth_tree(problem, total=(3.0, 5.0, 8.0), by=2029, branching=3)      # doctest: +SKIP
    >>> tree = growth_tree(problem, growth={2027: (2.0, 3.0, 4.5), 2028: lognormal(0.7, 0.2)},
    ...                    branching=[3, 2])                                          # doctest: +SKIP
    """
    problem = _to_branch(problem)
    periods = problem.periods
    if method not in ("quantile", "gauss-hermite"):
        _fail("method", method, "is not 'quantile' or 'gauss-hermite'")
    if not _is_number(correlation) or not 0.0 <= correlation <= 1.0:
        _fail("correlation", correlation, "is not a number in [0, 1]")
    ks = _branching(branching, periods, _count(max_paths, "max_paths"))
    workloads = _workloads_of(problem)
    W = len(workloads) if workloads else 1
    if method == "gauss-hermite" and W > 1 and correlation < 1.0:
        _fail("method", method, "needs correlation=1 with workloads (its children have unequal probabilities)")
    mu, sigma = _growth(growth, total, by, periods, workloads)
    rng = np.random.default_rng(_count(seed, "seed", low=0))
    levels = [_Level(np.zeros(1, dtype=np.int64), _start(problem, start, workloads)[None, :], np.array([""], object))]
    probability = np.ones(1)
    for t, k in enumerate(ks.tolist(), start=1):
        z, w = _nodes(k, method)
        N = len(levels[-1].parent)
        pick = _pairing(k, N, W, float(correlation), rng).reshape(N * k, W)
        with np.errstate(over="ignore"):
            value = np.repeat(levels[-1].value, k, axis=0) * np.exp(mu[:, t - 1] + sigma[:, t - 1] * z[pick])
        if not np.isfinite(value).all():
            _fail("growth", growth if growth is not None else total, f"grows demand beyond any number by {periods[t]}")
        levels.append(_Level(np.repeat(np.arange(N), k), value, _labels(np.full(N, k))))
        probability = np.repeat(probability, k) * np.tile(w, N)
    return _tree_problem(problem, workloads, levels, probability)


def growth_paths(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    n: int,
    *,
    growth: Any = None,
    total: Any = None,
    by: int | str | None = None,
    start: float | None = None,
    seed: int = 0,
    max_paths: int = MAX_PATHS,
) -> pd.DataFrame:
    """``n`` demand paths sampled from the growth model `growth_tree` discretizes: fresh paths
    to judge a tree's plan on (`procure.out_of_sample`).

    Parameters
    ----------
    problem : Problem, mapping or path
        The problem whose periods and first-period demand the paths start from (one demand:
        problems with workloads are not sampled here; give `out_of_sample` a DataFrame).
    n : int
        Paths to draw (at most ``max_paths``).
    growth, total, by, start
        As for `growth_tree`.
    seed : int
        Seed of the draws (the same seed gives the same paths).
    max_paths : int
        Most paths that may be drawn.

    Returns
    -------
    pandas.DataFrame
        One row per path, one column per period (the first period's demand in every row).

    Raises
    ------
    ProblemError
        As for `growth_tree`; also for a problem with workloads or ``n`` out of range.
    """
    problem = _to_branch(problem)
    periods = problem.periods
    count = _count(n, "n")
    if count > _count(max_paths, "max_paths"):
        _fail("n", n, f"is more than max_paths ({max_paths:,}) paths")
    if _workloads_of(problem):
        _fail("problem.workloads", list(_workloads_of(problem) or ()), "are not sampled: give the paths as a DataFrame")
    mu, sigma = _growth(growth, total, by, periods, None)
    first = float(_start(problem, start, None)[0])
    rng = np.random.default_rng(_count(seed, "seed", low=0))
    steps = np.exp(mu[0][None, :] + sigma[0][None, :] * rng.standard_normal((count, len(periods) - 1)))
    demand = first * np.cumprod(np.hstack([np.ones((count, 1)), steps]), axis=1)
    return pd.DataFrame(_rounded(demand), columns=list(periods))


# --------------------------------------------------------------------------- the tree as a problem


def _rounded(x: np.ndarray, digits: int = 12) -> np.ndarray:
    """``x`` to ``digits`` significant digits (``90.0``, not ``90.00000000000003``); equal values
    stay equal, so paths that share a node still share its demand."""
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.where(x > 0, x, 1.0))))
    return np.round(x * scale) / scale


def _tree_problem(
    problem: Problem, workloads: tuple[str, ...] | None, levels: list[_Level], probability: np.ndarray
) -> Problem:
    """``problem`` with one demand scenario per node of the last level: its ancestors' demand,
    its probability, its ancestors' labels joined by ``-`` as its name."""
    T = len(levels)
    ancestor = [np.arange(len(levels[-1].parent))]
    for level in reversed(levels[1:]):
        ancestor.append(level.parent[ancestor[-1]])
    ancestor.reverse()  # ancestor[t]: (S,) node of each path in period t
    paths = _rounded(np.stack([levels[t].value[ancestor[t]] for t in range(T)], axis=2))  # (S, W, T)
    names = np.full(len(ancestor[0]), "", dtype=object)
    for t in range(1, T):
        label = levels[t].label[ancestor[t]]
        joined = np.where(names == "", label, names + "-" + label)
        names = np.where(label == "", names, joined)
    names[names == ""] = "mid"
    periods = problem.periods
    probability = probability / math.fsum(probability.tolist())
    rows = paths.tolist()
    scenarios: list[dict[str, Any]] = []
    for name, p, row in zip(names.tolist(), probability.tolist(), rows):
        if workloads is None:
            scenarios.append({"name": name, "probability": p, "demand": dict(zip(periods, row[0]))})
        else:
            scenarios.append(
                {
                    "name": name,
                    "probability": p,
                    "workloads": {w: dict(zip(periods, r)) for w, r in zip(workloads, row)},
                }
            )
    data = problem.to_dict()
    for key in ("demand", "workloads"):
        data.pop(key, None)
    data["demand_scenarios"] = scenarios
    return Problem.from_dict(data)


# --------------------------------------------------------------------------- tree_from_paths


def _paths_array(paths: Any, periods: tuple[int, ...], workloads: tuple[str, ...] | None) -> np.ndarray:
    """(n, W, T) the simulated paths, checked against the problem's periods and workloads."""
    if isinstance(paths, np.ndarray) and workloads is None:
        paths = (
            pd.DataFrame(paths, columns=list(periods)) if paths.ndim == 2 and paths.shape[1] == len(periods) else paths
        )
    if not isinstance(paths, pd.DataFrame):
        _fail("paths", paths, "is not a DataFrame of paths (rows) by period (columns)")
    if len(paths) == 0:
        _fail("paths", paths, "has no rows: give at least one simulated path")
    columns = paths.columns
    if isinstance(columns, pd.MultiIndex):
        if columns.nlevels != 2 or workloads is None:
            _fail(
                "paths.columns",
                list(columns.names),
                "are (workload, period), but the problem has one demand: give one column per period"
                if workloads is None
                else "are not (workload, period)",
            )
        given = list(dict.fromkeys(columns.get_level_values(0)))
        if set(given) != set(workloads):
            _fail("paths.columns", given, f"name workloads other than the problem's ({', '.join(workloads)})")
        blocks: list[Any] = [paths[w] for w in workloads]
    else:
        if workloads is not None:
            _fail("paths.columns", list(columns), "are periods, but the problem has workloads: give (workload, period)")
        blocks = [paths]
    out = np.empty((len(paths), len(blocks), len(periods)))
    for w, block in enumerate(blocks):
        where = "paths.columns" if workloads is None else f"paths[{workloads[w]!r}].columns"
        order = [_period_of(c, periods, f"{where}[{c!r}]") for c in block.columns]
        if sorted(order) != list(range(len(periods))):
            _fail(where, list(block.columns), f"are not the problem's periods {list(periods)}, each once")
        try:
            values = block.to_numpy(dtype=float)
        except (TypeError, ValueError):
            _fail(where, list(block.columns), "hold values that are not numbers")
        out[:, w, order] = values
    bad = ~(np.isfinite(out) & (out >= 0))
    if bad.any():
        row, w, t = (int(i[0]) for i in np.nonzero(bad))
        column = periods[t] if workloads is None else (workloads[w], periods[t])
        _fail(f"paths.loc[{paths.index[row]!r}, {column!r}]", out[row, w, t], "is not a demand (finite, ≥ 0)")
    return out


def _kmeans(x: np.ndarray, node: np.ndarray, nodes: int, k: int, max_iter: int) -> np.ndarray:
    """(n,) cluster (``node · k + j``) of each row of ``x`` (n, W): k-means of each node's rows
    into at most ``k`` clusters, all nodes at once.

    Starts from ``k`` equal-count groups of each node's rows sorted by their total (so no seed
    is needed), then Lloyd's iterations until no row moves."""
    n, W = x.shape
    total = x.sum(axis=1)
    order = np.lexsort((total, node))
    count = np.bincount(node, minlength=nodes)
    first = np.cumsum(count) - count
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first[node[order]]
    cluster = node * k + rank * k // count[node]
    for _ in range(max_iter):
        size = np.bincount(cluster, minlength=nodes * k)
        centre = np.full((nodes * k, W), np.inf)
        filled = size > 0
        for w in range(W):
            centre[filled, w] = np.bincount(cluster, weights=x[:, w], minlength=nodes * k)[filled] / size[filled]
        gap = ((x[:, None, :] - centre.reshape(nodes, k, W)[node]) ** 2).sum(axis=2)  # (n, k)
        moved = node * k + np.argmin(gap, axis=1)
        if np.array_equal(moved, cluster):
            break
        cluster = moved
    return cluster


def tree_from_paths(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    paths: pd.DataFrame | np.ndarray,
    *,
    branching: int | Sequence[int] | Mapping[Any, int],
    max_iter: int = 100,
) -> Problem:
    """A demand tree from simulated demand paths, grouped stage by stage.

    The first period is one node, the paths' mean.  In each later period, the paths of every
    node are split into at most ``branching`` groups by k-means of their demand in that period
    (every workload; started from equal-count groups sorted by total demand, so the result is
    deterministic): each group is a child whose demand is the group's mean and whose
    probability is its share of the paths.  A node with fewer distinct values than
    ``branching`` has fewer children.  Paths are named as in `growth_tree` (``low-high``…).
    Time and memory are linear in the paths (times the branching).

    Parameters
    ----------
    problem : Problem, mapping or path
        The problem whose demand the tree replaces.
    paths : DataFrame or ndarray
        One row per simulated path, one column per period of the problem (any order; ``2027``
        or ``"2027"``); with workloads, columns ``(workload, period)`` (a two-level
        MultiIndex).  A 2-D array is taken as columns in the order of the periods.
    branching : int, sequence or mapping
        Most children of every node in each period after the first, as in `growth_tree`.
    max_iter : int
        Most k-means iterations in each period.

    Returns
    -------
    Problem
        The problem with ``demand_scenarios`` (one per leaf) instead of its demand.

    Raises
    ------
    ProblemError
        Naming the argument and value: columns that are not the problem's periods (or
        workloads), a value that is not a finite demand ≥ 0, a bad branching.
    """
    problem = _to_branch(problem)
    periods = problem.periods
    workloads = _workloads_of(problem)
    x = _paths_array(paths, periods, workloads)
    ks = np.minimum(_branching(branching, periods), len(x))  # at most a leaf per path: no limit needed
    if len(x) * int(ks.max()) > MAX_DISTANCES:
        _fail(
            "branching",
            branching,
            f"splits {len(x):,} paths into up to {int(ks.max()):,} groups: k-means would hold "
            f"{len(x) * int(ks.max()):,} distances, more than {MAX_DISTANCES:,}",
        )
    max_iter = _count(max_iter, "max_iter")
    node = np.zeros(len(x), dtype=np.int64)
    levels = [_Level(np.zeros(1, dtype=np.int64), x[:, :, 0].mean(axis=0)[None, :], np.array([""], object))]
    for t, k in enumerate(ks.tolist(), start=1):
        nodes = len(levels[-1].parent)
        cluster = _kmeans(x[:, :, t], node, nodes, k, max_iter)
        used, node = np.unique(cluster, return_inverse=True)  # children, in (parent, cluster) order
        size = np.bincount(node)
        value = np.stack([np.bincount(node, weights=x[:, w, t]) / size for w in range(x.shape[1])], axis=1)
        parent = used // k
        order = np.lexsort((value.sum(axis=1), parent))  # each node's children, lowest first
        rename = np.empty_like(order)
        rename[order] = np.arange(len(order))
        node = rename[node]
        parent = parent[order]
        levels.append(_Level(parent, value[order], _labels(np.bincount(parent, minlength=nodes))))
    probability = np.bincount(node) / len(x)
    return _tree_problem(problem, workloads, levels, probability)


# --------------------------------------------------------------------------- reduce_tree


def _forward_selection(x: np.ndarray, p: np.ndarray, n: int) -> tuple[list[int], np.ndarray, np.ndarray, float]:
    """Fast forward selection of ``n`` of the rows of ``x`` (K, D) with probabilities ``p``.

    Returns the kept rows in the order chosen, each row's distance to its nearest kept row and
    that row (the first kept on a tie), and the distance of the best single row.

    Each step keeps the row ``u`` of least ``Σ_k p_k · min(nearest_k, ‖x_k − x_u‖)``, that is of
    most gain ``Σ_k p_k · (nearest_k − ‖x_k − x_u‖)`` over the pairs closer than ``nearest_k``.
    Every row's distances are sorted once, so a step reads only those pairs: a prefix of each row
    that shortens as rows are kept (about ``K² log n`` work in all, not ``K² n``)."""
    from scipy.spatial.distance import cdist

    K = len(x)
    order = np.empty((K, K), dtype=np.int32)  # each row's other rows, nearest first
    gap = np.empty((K, K))  # their distances
    step = max(1, (1 << 20) // K)
    for a in range(0, K, step):
        d = cdist(x[a : a + step], x)
        order[a : a + step] = np.argsort(d, axis=1, kind="stable")
        gap[a : a + step] = np.take_along_axis(d, order[a : a + step].astype(np.intp), axis=1)
    cost = np.bincount(order.ravel(), weights=(p[:, None] * gap).ravel(), minlength=K)  # Σ_k p_k ‖x_k − x_u‖
    u = int(np.argmin(cost))
    single = float(cost[u])
    kept = [u]
    nearest = np.empty(K)
    nearest[order[u]] = gap[u]  # distances are symmetric: row u is column u
    owner = np.full(K, u)
    closer = (gap < nearest[:, None]).sum(axis=1)  # pairs of each row closer than its nearest kept
    for _ in range(n - 1):
        gain = np.zeros(K)
        ends = np.cumsum(closer)
        cuts = np.unique(np.r_[0, np.searchsorted(ends, np.arange(1 << 22, ends[-1], 1 << 22), side="right"), K])
        for a, b in itertools.pairwise(cuts.tolist()):  # rows of about 4 million pairs at a time
            count = closer[a:b]
            rows = np.repeat(np.arange(a, b), count)
            at = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
            gain += np.bincount(order[rows, at], weights=p[rows] * (nearest[rows] - gap[rows, at]), minlength=K)
        gain[kept] = -1.0
        u = int(np.argmax(gain))
        kept.append(u)
        column = np.empty(K)
        column[order[u]] = gap[u]
        moved = np.flatnonzero(column < nearest)
        nearest[moved] = column[moved]
        owner[moved] = u
        nearest[u], owner[u] = 0.0, u  # a kept row is its own (also beside an identical one kept before)
        closer[moved] = (gap[moved] < nearest[moved, None]).sum(axis=1)
    return kept, nearest, owner, single


def reduce_tree(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    n_paths: int,
    *,
    max_paths: int = MAX_REDUCE_PATHS,
) -> ReducedTree:
    """The ``n_paths`` paths of a demand tree that represent it best, by forward selection.

    Heitsch and Römisch's fast forward selection (after Dupačová, Gröwe-Kuska and Römisch):
    paths are whole demand vectors (every workload, every period), their distance Euclidean;
    one at a time, the path whose addition makes the Kantorovich distance between the tree and
    the kept paths least is kept.  Each removed path's probability then goes to its nearest
    kept path.  The kept paths are unchanged, so paths that shared their history still do
    (the reduced tree's decisions stay non-anticipative in the same way); the kept paths for
    ``n`` are among those for ``n + 1``, so the distance falls as ``n_paths`` grows.

    Parameters
    ----------
    problem : Problem, mapping or path
        A problem with ``demand_scenarios``.
    n_paths : int
        Paths to keep, ≥ 1 (all of them when at least the number of paths).
    max_paths : int
        Most paths of the input tree (the selection holds their pairwise distances, sorted:
        ``12 · paths²`` bytes, 300 MB at 5,000 paths).

    Returns
    -------
    ReducedTree
        The reduced problem (``.problem``), the Kantorovich distance to the input tree
        (``.distance``, and ``.relative`` to that of the best single path) and the kept paths'
        names in the order chosen (``.kept``).

    Raises
    ------
    ProblemError
        If the problem has no ``demand_scenarios``, ``n_paths`` is not a whole number ≥ 1, or
        the tree has more than ``max_paths`` paths.
    """
    problem = as_problem(problem)
    n_paths = _count(n_paths, "n_paths")
    if not problem.demand_scenarios:
        _fail("problem.demand_scenarios", [], "is empty: reduce_tree reduces a tree of demand scenarios")
    K = len(problem.demand_scenarios)
    if K > _count(max_paths, "max_paths"):
        _fail(
            "problem.demand_scenarios",
            list(problem.demand_scenarios),
            f"has {K:,} paths, more than max_paths={max_paths:,}",
        )
    names = tuple(s.name for s in problem.demand_scenarios)
    if n_paths >= K:
        return ReducedTree(problem, 0.0, 0.0, names)
    x = _scenario_paths(problem, _workloads_of(problem)).reshape(K, -1)
    p = np.array([s.probability for s in problem.demand_scenarios])
    kept, nearest, owner, single = _forward_selection(x, p, n_paths)
    distance = float(p @ nearest)
    mass = np.bincount(owner, weights=p, minlength=K)
    data = problem.to_dict()
    scenarios = data["demand_scenarios"]
    data["demand_scenarios"] = [{**scenarios[j], "probability": float(mass[j] / mass.sum())} for j in sorted(kept)]
    return ReducedTree(
        Problem.from_dict(data), distance, distance / single if single > 0 else 0.0, tuple(names[j] for j in kept)
    )
