"""The scenario tree of a problem with ``demand_scenarios``: distinct demand paths, their
probabilities, and which of them share their history up to each period.

Decisions are non-anticipative by shared history: scenarios whose demand (every workload)
is equal in every period up to and including ``t`` make the same purchases and power builds
in ``t``.  Two scenarios with the same whole path are one path here (probabilities added),
so the extensive form has a block per distinct path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .format import DemandScenario, Problem

__all__ = ["ScenarioTree", "scenario_tree"]


@dataclass(frozen=True, eq=False)
class ScenarioTree:
    """Distinct demand paths of a problem (``S`` paths, ``T`` periods).

    Attributes
    ----------
    names : tuple of str
        One name per path: the first of the problem's scenarios on it.
    members : tuple of tuple of str
        The problem's scenarios on each path (several when paths are identical).
    probability : numpy.ndarray
        (S,) probability of each path.
    node : numpy.ndarray
        (S, T) node of each path in each period: equal exactly when the paths' demand is
        equal in every period up to and including that one.
    problems : tuple of Problem
        Each path as a problem of its own (its demand, no ``demand_scenarios``).
    """

    names: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    probability: np.ndarray
    node: np.ndarray
    problems: tuple[Problem, ...]

    @property
    def n_paths(self) -> int:
        return len(self.names)

    @cached_property
    def representative(self) -> np.ndarray:
        """(S, T) the first path of each path's node in each period (whose decisions it shares)."""
        rep = np.zeros_like(self.node)
        for t in range(self.node.shape[1]):
            _, first, inverse = np.unique(self.node[:, t], return_index=True, return_inverse=True)
            rep[:, t] = first[inverse]
        return rep

    @property
    def here_and_now(self) -> int:
        """Leading periods in which every path shares one node: decided before the first branch."""
        common = (self.representative == 0).all(axis=0)
        return int(np.argmin(common)) if not common.all() else len(common)

    def nodes_in(self, t: int) -> int:
        return len(np.unique(self.node[:, t]))


def _path(problem: Problem, k: int) -> np.ndarray:
    """(W or 1, T) demand path of scenario ``k``."""
    s = problem.demand_scenarios[k]
    if s.workloads is not None:
        return np.array([s.workloads[w] for w in s.workloads], dtype=float)
    assert s.demand is not None
    return np.array([s.demand], dtype=float)


def _alone(problem: Problem, k: int) -> Problem:
    """Scenario ``k``'s path as a problem of its own: the problem's fields, with the scenario's
    ``demand`` (or ``workloads``) and no ``demand_scenarios``.

    Made from the problem's validated fields without validating again (every field is as valid
    alone as in the problem: the scenario's path was checked with it, the lot check against the
    peak of every path), so making every path's problem takes time linear in the paths, not the
    paths times the size of the problem's mapping."""
    s = problem.demand_scenarios[k]
    alone = object.__new__(Problem)
    for f in dataclasses.fields(Problem):
        object.__setattr__(alone, f.name, getattr(problem, f.name))
    object.__setattr__(alone, "demand_scenarios", ())
    object.__setattr__(alone, "demand", s.demand if s.workloads is None else None)
    object.__setattr__(alone, "workloads", s.workloads)
    return alone


def _members(scenarios: Sequence[DemandScenario], path_of: np.ndarray, n: int) -> tuple[tuple[str, ...], ...]:
    """The names of the scenarios on each of the ``n`` distinct paths, in the problem's order
    (one pass over the scenarios, not one per path)."""
    on: list[list[str]] = [[] for _ in range(n)]
    for s, j in zip(scenarios, path_of.tolist()):
        on[j].append(s.name)
    return tuple(tuple(names) for names in on)


def scenario_tree(problem: Problem) -> ScenarioTree:
    """The tree of ``problem``'s demand scenarios (identical paths merged).

    Parameters
    ----------
    problem : Problem
        A problem with ``demand_scenarios``.

    Returns
    -------
    ScenarioTree
        The distinct demand paths, their probabilities and the node of each path in
        each period.

    Raises
    ------
    ValueError
        If the problem has no ``demand_scenarios``.
    """
    if not problem.demand_scenarios:
        raise ValueError("the problem has no demand_scenarios")
    paths = np.stack([_path(problem, k) for k in range(len(problem.demand_scenarios))])  # (K, W, T)
    K, _, T = paths.shape
    _, first, which = np.unique(paths.reshape(K, -1), axis=0, return_index=True, return_inverse=True)
    which = np.asarray(which).ravel()
    order = np.argsort(first)  # distinct paths in the order of their first scenario
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    path_of = position[which]  # (K,) distinct path of each scenario
    keep = first[order]
    scenarios = problem.demand_scenarios
    probability = np.zeros(len(keep))
    np.add.at(probability, path_of, [s.probability for s in scenarios])
    node = np.zeros((len(keep), T), dtype=int)
    distinct = paths[keep]
    for t in range(T):
        _, inverse = np.unique(distinct[:, :, : t + 1].reshape(len(keep), -1), axis=0, return_inverse=True)
        node[:, t] = np.asarray(inverse).ravel()
    return ScenarioTree(
        names=tuple(scenarios[k].name for k in keep),
        members=_members(scenarios, path_of, len(keep)),
        probability=probability,
        node=node,
        problems=tuple(_alone(problem, int(k)) for k in keep),
    )
