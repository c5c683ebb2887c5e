"""Exceptions raised by procure."""

from __future__ import annotations

from typing import Any

__all__ = ["Interrupted", "NumericsError", "ProblemError", "SolverNotAvailable"]


class ProblemError(ValueError):
    """A problem definition is invalid.

    The message names the offending field by its path in the problem mapping
    (``offers[1].unit_cost``) and shows the value, so that it can be fixed
    without reading procure's code.

    Attributes
    ----------
    path : str
        Location of the field, e.g. ``"offers[1].unit_cost"``; ``""`` for the
        problem as a whole.
    value : object
        The offending value (``None`` when the field is missing).
    """

    def __init__(self, message: str, *, path: str = "", value: Any = None) -> None:
        super().__init__(message)
        self.path = path
        self.value = value


class NumericsError(ProblemError):
    """The model of a problem holds numbers no solver can be given safely (each field may be
    within its supported range while their products or ratios are not); the message names
    the row or column and the fields behind it."""


class SolverNotAvailable(RuntimeError):
    """The requested solver is not installed; the message says how to install it.

    Parameters
    ----------
    message : str
        The solver asked for and the command that installs it.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a solve; ``result`` holds what was found until then.

    A `KeyboardInterrupt`, so that a loop of solves stops as any Python code
    would; catch it to keep the best plan found so far::

        try:
            result = procure.solve(problem)
        except procure.Interrupted as stop:
            result = stop.result          # status "feasible" (with a plan) or "error"

    Attributes
    ----------
    result : Result, TreeResult, Sweep or OutOfSample
        What was found until Ctrl-C: the best plan so far, or a sweep's rows so far.
    """

    def __init__(self, result: Any) -> None:
        super().__init__("interrupted: the best plan found so far is in .result")
        self.result = result
