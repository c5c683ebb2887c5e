"""Write the model of a problem to an MPS or LP file, for any solver or for inspection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..base.errors import ProblemError
from ..model.bounds import first_bounds
from ..model.build import Extra, build_model
from ..model.linear import LinearModel
from ..model.scaling import matrix_form
from ..model.sets import model_data
from ..problem.format import Problem, as_problem
from .highs import new_highs, pass_model

__all__ = ["model_of", "write_model"]

_FORMATS = (".mps", ".lp")


def model_of(problem: Problem | Mapping[str, Any] | str | os.PathLike[str], extra: Extra | None = None) -> LinearModel:
    """The `LinearModel` that `procure.solve` hands to a solver first (provisional lot
    bounds where no constraint implies one; HHI with the initial tangent grid; the
    caller's ``extra`` rows)."""
    data = model_data(as_problem(problem))
    return build_model(data, first_bounds(data)[0], extra=extra).model


def _safe(names: list[str], lp: bool) -> list[str]:
    """File-safe names: no spaces; the LP format allows no brackets, so ``power_cap(2027)`` there."""
    out = [n.replace(" ", "_") for n in names]
    return [n.replace("[", "(").replace("]", ")") for n in out] if lp else out


def write_model(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    scaled: bool = False,
    extra: Extra | None = None,
) -> Path:
    """Write the problem's mixed-integer program to ``path``: MPS (``.mps``) or LP (``.lp``).

    Rows and columns carry procure's names (``power_cap[2027]``,
    ``lots[tpu-v7,2026]``).  The model is in natural units (dollars, GW, compute)
    unless ``scaled``, which writes the power-of-two scaled form procure's HiGHS
    adapter solves.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem to write.
    path : str or PathLike
        The file to write; its suffix chooses the format (``.mps`` or ``.lp``).
    scaled : bool
        Write the scaled form instead of natural units.
    extra : callable, optional
        Rows of your own, ``extra(model, handles, data)``, as in `procure.solve`.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ProblemError
        If the suffix is neither ``.mps`` nor ``.lp``.
    OSError
        If the file could not be written (missing directory, a directory at
        ``path``, no permission).
    """
    target = Path(path)
    if target.suffix.lower() not in _FORMATS:
        raise ProblemError(f"path: {str(target)!r} must end in .mps or .lp", path="path", value=str(target))
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a directory, not a model file")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target}: the directory {target.parent} does not exist")
    model = model_of(problem, extra)

    form = matrix_form(model, scale=scaled)
    h = new_highs(False)
    pass_model(h, form, solve=False)
    lp = target.suffix.lower() == ".lp"
    for j, name in enumerate(_safe(model.col_names(), lp)):
        h.passColName(j, name)
    for i, name in enumerate(_safe(model.row_names(), lp)):
        h.passRowName(i, name)
    import highspy

    if h.writeModel(str(target)) == highspy.HighsStatus.kError or not target.is_file():
        raise OSError(f"{target}: HiGHS could not write the model there")
    return target
