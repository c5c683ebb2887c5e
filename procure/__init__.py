"""procure: plan multi-vendor AI compute purchases as a mixed-integer program.

>>> import procure
>>> result = procure.solve("examples/gigawatt_2026.toml")   # doctest: +SKIP
>>> result.purchases                                          # doctest: +SKIP
"""

from .errors import Interrupted, ProblemError, SolverNotAvailable
from .explain import Diagnosis, explain
from .export import write_model
from .frontier import Frontier, frontier
from .planner import Planner
from .problem import DemandScenario, Offer, PowerBuild, PriceTier, Problem, Risk, Scenario, Site, Vendor
from .pyomo_model import to_pyomo
from .result import Result
from .sample import sample
from .sensitivity import MarginalValue, Sensitivity
from .solve import solve
from .solvers import available_solvers
from .sweep import Sweep, sweep
from .tree import ScenarioTree, scenario_tree
from .tree_result import StochasticValue, TreeResult

__all__ = [
    "DemandScenario",
    "Diagnosis",
    "Frontier",
    "Interrupted",
    "MarginalValue",
    "Offer",
    "Planner",
    "PowerBuild",
    "PriceTier",
    "Problem",
    "ProblemError",
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
    "frontier",
    "sample",
    "scenario_tree",
    "solve",
    "sweep",
    "to_pyomo",
    "write_model",
]

__version__ = "0.1.0"
