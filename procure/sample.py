"""Monte-Carlo variants of a problem for `procure.sweep`.

Skeleton: filled in by the sweep work of issue 11.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["sample"]


def sample(problem: Any, distributions: Mapping[str, Any], *, n: int, seed: int | None = None) -> list[dict[str, Any]]:
    """``n`` variants drawn from ``distributions``."""
    raise NotImplementedError
