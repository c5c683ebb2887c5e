"""procure: plan multi-vendor AI compute purchases as a mixed-integer program.

>>> import procure
>>> result = procure.solve("examples/gigawatt_2026.toml")   # doctest: +SKIP
>>> result.purchases                                          # doctest: +SKIP
"""

from .errors import ProblemError, SolverNotAvailable
from .frontier import Frontier, frontier
from .problem import Offer, Problem, Risk, Scenario, Vendor
from .result import Result
from .solve import solve
from .solvers import available_solvers

__all__ = [
    "Frontier",
    "Offer",
    "Problem",
    "ProblemError",
    "Result",
    "Risk",
    "Scenario",
    "SolverNotAvailable",
    "Vendor",
    "available_solvers",
    "frontier",
    "solve",
]

__version__ = "0.1.0"
