"""What a capacity option is worth: the optimum without it minus the optimum with it.

A capacity option never raises the optimum (reserving nothing is always allowed), so its
value is never negative.  Like `procure.analysis.sensitivity.marginal_value`, the value comes with
the interval the two solves prove: ``[bound without − objective with, objective without −
bound with]`` (clipped at 0), equal to the value when both solves prove their optimum
exactly (``mip_gap=0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import ProblemError
from ..base.fmt import count, money
from ..base.hooks import provide
from ..core.re_solve import minus, optimum, pipeline_for, resolve
from ..problem.format import Problem

if TYPE_CHECKING:
    from ..core.result import Outcome

__all__ = ["OptionValue", "option_value"]


@dataclass(frozen=True)
class OptionValue:
    """What one capacity option saves.

    Attributes
    ----------
    option : str
        The option's name.
    value : float
        ``objective_without − objective_with``: what the option saves (inf when the problem
        has no plan without it).
    low, high : float
        The value as proved by the two solves (equal to ``value`` when both are exact).
    objective_with, objective_without : float
        The optimum with the option (the result's) and without it.
    reserved, exercised : float
        Units the plan with the option reserves, and buys through it over the horizon.
    certain : bool
        Both solves proved their optimum exactly.
    note : str
        What the answer means, in words.
    result_without : Outcome
        The problem without the option, solved.
    """

    option: str
    value: float
    low: float
    high: float
    objective_with: float
    objective_without: float
    reserved: float
    exercised: float
    certain: bool
    note: str
    result_without: Outcome = field(repr=False)

    def __str__(self) -> str:
        return self.note


def _without(problem: Problem, name: str) -> Problem:
    data = problem.to_dict()
    data["options"] = [o for o in data.get("options", ()) if o["name"] != name]
    return Problem.from_dict(data)


@provide("option_value")
def option_value(result: Outcome, name: str, **solve_options: Any) -> OptionValue:
    """What capacity option ``name`` of ``result``'s problem saves, by solving the problem
    without it.

    Parameters
    ----------
    result : Result
        The base: the problem with the option, solved (its plan says how much to reserve).
    name : str
        The option's name (``options[k].name``).
    **solve_options
        As for `procure.solve` (default: the result's solver).  Give ``mip_gap=0`` (and solve
        the result with it) for an exact value.

    Returns
    -------
    OptionValue

    Raises
    ------
    ProblemError
        If the problem has no option of that name, or an option is invalid.
    """
    names = [o.name for o in result.problem.options]
    if name not in names:
        raise ProblemError(
            f"option_value: {name!r} is not an option of the problem (options: {', '.join(names) or 'none'})",
            path="options",
        )
    pipeline = pipeline_for(result, solve_options, "option_value")
    problem = _without(result.problem, name)
    without, _ = resolve(pipeline, problem, None)
    with_obj, with_bound = optimum(result)
    wo_obj, wo_bound = optimum(without)
    value = minus(wo_obj, with_obj)
    low = max(minus(wo_bound, with_obj), 0.0) if not math.isnan(wo_bound) else 0.0
    high = minus(wo_obj, with_bound) if not math.isnan(with_bound) else math.inf
    if math.isnan(value):
        low = high = math.nan
    scale = max(abs(with_obj) if math.isfinite(with_obj) else 1.0, 1.0)
    certain = math.isfinite(low) and math.isfinite(high) and high - low <= 1e-9 * scale
    reserved, exercised = _expected_use(result, name)
    return OptionValue(
        option=name,
        value=value,
        low=low,
        high=high,
        objective_with=with_obj,
        objective_without=wo_obj,
        reserved=reserved,
        exercised=exercised,
        certain=certain,
        note=_note(name, value, low, high, certain, reserved, exercised),
        result_without=without,
    )


def _expected_use(result: Outcome, name: str) -> tuple[float, float]:
    """Units reserved and exercised through option ``name`` in ``result``'s plan; for a demand
    tree, their expectations over the paths (a reservation made before the first branch is
    the same on every path)."""
    paths = getattr(result, "scenario_results", None)
    tree = getattr(result, "tree", None)
    if paths and tree is not None:
        use = np.array([_use(paths[n], name) for n in tree.names])  # (S, 2)
        return tuple(float(x) for x in tree.probability @ use)  # type: ignore[return-value]
    return _use(result, name)


def _use(result: Outcome, name: str) -> tuple[float, float]:
    table = result.options
    if name not in table.index:
        return math.nan, math.nan
    k = list(table.index).index(name)
    return float(table["reserved"].to_numpy()[k]), float(table["exercised"].to_numpy()[k])


def _note(name: str, value: float, low: float, high: float, certain: bool, reserved: float, exercised: float) -> str:
    if math.isnan(value):
        return f"option {name!r}: its value is unknown (a solve ended without a plan or a bound)"
    if math.isinf(value):
        return f"option {name!r}: without it the problem has no plan"
    plan = f"the plan reserves {count(reserved)} units and buys {count(exercised)} of them"
    if certain:
        return f"option {name!r} saves {money(value)} ({plan})"
    return f"option {name!r} saves {money(value)}, proved between {money(low)} and {money(high)} ({plan})"
