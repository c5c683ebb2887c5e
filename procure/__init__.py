"""procure: plan multi-vendor AI compute purchases as a mixed-integer program.

>>> import procure
>>> result = procure.solve("examples/gigawatt_2026.toml")   # doctest: +SKIP
>>> result.purchases                                          # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from . import fmt
from .errors import Interrupted, ProblemError, SolverNotAvailable
from .explain import Diagnosis, explain
from .export import write_model
from .forecast import ReducedTree, growth_paths, growth_tree, reduce_tree, tree_from_paths
from .frontier import Frontier, frontier
from .out_of_sample import OutOfSample, out_of_sample, saa_gap
from .planner import Planner
from .problem import CapacityOption, DemandScenario, Offer, PowerBuild, PriceTier, Problem, Risk, Scenario, Site, Vendor
from .pyomo_model import to_pyomo
from .result import Result
from .sample import sample
from .sensitivity import MarginalValue, Sensitivity
from .solve import solve
from .solvers import available_solvers
from .sweep import Sweep, sweep
from .tree import ScenarioTree, scenario_tree
from .tree_result import StochasticValue, TreeResult

if TYPE_CHECKING:
    from .mpisppy import to_mpisppy

__all__ = [
    "CapacityOption",
    "DemandScenario",
    "Diagnosis",
    "Frontier",
    "Interrupted",
    "MarginalValue",
    "Offer",
    "OutOfSample",
    "Planner",
    "PowerBuild",
    "PriceTier",
    "Problem",
    "ProblemError",
    "ReducedTree",
    "Result",
    "Risk",
    "Scenario",
    "ScenarioTree",
    "Sensitivity",
    "Site",
    "SolverNotAvailable",
    "StochasticValue",
    "Sweep",
    "TreeResult",
    "Vendor",
    "available_solvers",
    "explain",
    "fmt",
    "frontier",
    "growth_paths",
    "growth_tree",
    "out_of_sample",
    "reduce_tree",
    "saa_gap",
    "sample",
    "scenario_tree",
    "solve",
    "sweep",
    "to_mpisppy",
    "to_pyomo",
    "tree_from_paths",
    "write_model",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # imported when first used: ``python -m procure.mpisppy`` must not find it imported already
    if name == "to_mpisppy":
        from .mpisppy import to_mpisppy

        return to_mpisppy
    raise AttributeError(f"module 'procure' has no attribute {name!r}")
