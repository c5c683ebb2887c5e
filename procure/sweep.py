"""Sweeps: many variants of one problem, in-process through a kept model, on an executor or on dask.

Skeleton: filled in by the sweep work of issue 11.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Sweep", "sweep"]


class Sweep:
    """The results of a sweep (skeleton)."""


def sweep(
    problem: Any,
    variants: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    *,
    executor: Any = None,
    progress: bool = True,
    **solve_options: Any,
) -> Sweep:
    """Solve every variant of ``problem``."""
    raise NotImplementedError
