"""procure: plan multi-vendor AI compute purchases as a mixed-integer program.

>>> import procure
>>> result = procure.solve("examples/gigawatt_2026.toml")   # doctest: +SKIP
>>> result.purchases                                          # doctest: +SKIP
"""

# Every layer registers what it lends the layers below (procure.base.hooks): a result's
# reports, plots, rule costs and option values, and mpi-sppy's solve.
from .analysis import option_value as _option_value  # noqa: F401
from .analysis import rule_costs as _rule_costs  # noqa: F401
from .analysis.explain import Diagnosis, explain
from .analysis.frontier import Frontier, frontier
from .analysis.sensitivity import MarginalValue, Sensitivity
from .base import fmt
from .base.errors import Interrupted, ProblemError, SolverNotAvailable
from .core.planner import Planner
from .core.result import Outcome, Result
from .core.solve import solve
from .problem import table_input as _table_input  # noqa: F401
from .problem.format import (
    CapacityOption,
    DemandScenario,
    Offer,
    PowerBuild,
    PriceTier,
    Problem,
    Risk,
    Scenario,
    Site,
    Vendor,
)
from .problem.tree import ScenarioTree, scenario_tree
from .report import excel as _excel  # noqa: F401
from .report import html as _html  # noqa: F401
from .report import mapping as _mapping  # noqa: F401
from .report import plot as _plot  # noqa: F401
from .report import text as _text  # noqa: F401
from .solvers import available_solvers
from .solvers.model_files import write_model
from .solvers.pyomo_model import to_pyomo
from .stochastic.forecast import ReducedTree, growth_paths, growth_tree, reduce_tree, tree_from_paths
from .stochastic.mpisppy import to_mpisppy
from .stochastic.tree_result import StochasticValue, TreeResult
from .sweeps.out_of_sample import OutOfSample, out_of_sample, saa_gap
from .sweeps.sample import sample
from .sweeps.sweep import Sweep, sweep

__all__ = [
    "CapacityOption",
    "DemandScenario",
    "Diagnosis",
    "Frontier",
    "Interrupted",
    "MarginalValue",
    "Offer",
    "OutOfSample",
    "Outcome",
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
