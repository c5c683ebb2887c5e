"""procure: plan multi-vendor AI compute purchases as a mixed-integer program.

>>> import procure
>>> result = procure.solve("examples/gigawatt_2026.toml")   # doctest: +SKIP
>>> result.purchases                                          # doctest: +SKIP
"""

from .errors import ProblemError, SolverNotAvailable
from .problem import Offer, Problem, Risk, Vendor
from .result import Result
from .solve import solve
from .solvers import available_solvers

__all__ = [
    "Offer",
    "Problem",
    "ProblemError",
    "Result",
    "Risk",
    "SolverNotAvailable",
    "Vendor",
    "available_solvers",
    "solve",
]

__version__ = "0.1.0"
