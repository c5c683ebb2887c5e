"""What an upper layer lends a lower one: functions registered by name.

Layers import only the layers below them.  A convenience of a lower layer that an upper
layer implements -- ``result.explain()`` (analysis), ``result.plot`` and ``result.report()``
(report), the diagnosis of an infeasible solve (analysis), the solve of a scenario tree
(stochastic) -- is called through `provided`; the upper module registers the function with
`provide` when it is imported.  ``import procure`` imports every layer, so every hook is
registered before a caller can reach one.

Each name is registered once; registering it again is an error (two providers of one
convenience would be a second copy of a rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["provide", "provided"]

F = TypeVar("F", bound=Callable[..., Any])

_PROVIDED: dict[str, Callable[..., Any]] = {}


def provide(name: str) -> Callable[[F], F]:
    """Decorator: register ``fn`` as the provider of ``name``."""

    def register(fn: F) -> F:
        if name in _PROVIDED and _PROVIDED[name] is not fn:
            raise RuntimeError(f"hook {name!r} is provided twice: {_PROVIDED[name]!r} and {fn!r}")
        _PROVIDED[name] = fn
        return fn

    return register


def provided(name: str) -> Callable[..., Any]:
    """The function registered as ``name``."""
    try:
        return _PROVIDED[name]
    except KeyError:
        raise RuntimeError(f"{name!r} is provided by a layer of procure that is not imported: import procure") from None
