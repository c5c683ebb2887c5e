"""Paths that name one field of a problem mapping, and changes made through them.

A *path* is how sweeps, diagnoses and what-if calls name a field::

    budget                               the whole field
    budget[2027]                         one period of a per-period field
    offers[gb300-nvl72].unit_cost        a field of the offer named gb300-nvl72
    offers[gb300-nvl72].unit_cost[2027]  one period of it
    vendors[nvidia].max_share            a vendor's term (the entry is added if absent)
    sites[gcp-oregon].power_cap_gw[2028]
    risk.max_share
    risk.scenarios[taiwan].probability
    workloads[training][2028]            one workload's demand in one period

Items of a list (``offers``, ``vendors``, ``sites``, ``risk.scenarios``) are
chosen by name; a bracket on anything else is a period of a per-period value,
or a key of a mapping-valued field (``workloads``, ``efficiency``,
``availability``, ``installed`` with sites).  A change replaces the field by
the given value (any value the field accepts); setting one period of a field
held as one number first spreads that number over every period.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..base.errors import ProblemError
from .format import Problem

__all__ = ["Path", "apply_changes", "get_value", "parse_path", "set_value"]

#: Lists of named entries a path can select from, by the key that holds the list.
NAMED_LISTS = ("offers", "vendors", "sites", "scenarios", "demand_scenarios")

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]]+\])*)$")
_KEY = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True)
class Path:
    """A parsed path: ``steps`` alternate field names and bracketed keys, in order."""

    text: str
    steps: tuple[tuple[str, str], ...]  # ("field", name) or ("key", text)

    def __str__(self) -> str:
        return self.text


def parse_path(text: str) -> Path:
    """Parse a path such as ``offers[gb300-nvl72].unit_cost[2027]``; `ProblemError` if malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ProblemError(f"a path must be a non-empty string, got {text!r}", path=str(text), value=text)
    steps: list[tuple[str, str]] = []
    for segment in text.strip().split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ProblemError(
                f"path {text!r}: cannot read {segment!r} (expected name or name[key], e.g. "
                "offers[gb300-nvl72].unit_cost[2027])",
                path=text,
                value=text,
            )
        steps.append(("field", match.group(1)))
        steps.extend(("key", key.strip()) for key in _KEY.findall(match.group(2)))
    return Path(text.strip(), tuple(steps))


def _as_path(path: str | Path) -> Path:
    return path if isinstance(path, Path) else parse_path(path)


def _period(key: str, periods: list[int], where: str, text: str) -> int:
    try:
        period = int(key)
    except ValueError:
        raise ProblemError(f"path {text!r}: {where} has no entry {key!r}", path=text, value=key) from None
    if period not in periods:
        raise ProblemError(
            f"path {text!r}: {period} is not a period of the problem (periods: {periods})", path=text, value=key
        )
    return period


def _find(items: list[Any], name: str, where: str, text: str, creatable: set[str]) -> dict[str, Any]:
    for item in items:
        if isinstance(item, Mapping) and str(item.get("name")) == name:
            return item  # type: ignore[return-value]
    if name in creatable:  # a vendor that offers name but that has no terms of its own yet
        item = {"name": name}
        items.append(item)
        return item
    names = [str(i.get("name")) for i in items if isinstance(i, Mapping)]
    raise ProblemError(f"path {text!r}: no {where} is named {name!r} (there are: {names})", path=text, value=name)


def _mapping_key(value: Mapping[Any, Any], key: str) -> Any | None:
    for k in value:
        if str(k) == key:
            return k
    return None


def _walk(data: dict[str, Any], path: Path) -> tuple[Any, Any, bool]:
    """The container holding the path's last step, the key in it, and whether that key is a
    period of a per-period value (the container is then the field's parent and the key a
    (field, period) pair).  Missing parents (``risk``, a vendor's entry) are added to ``data``."""
    periods = [int(p) for p in data.get("periods", [])]
    node: Any = data
    steps = list(path.steps)
    where = "the problem"
    k = 0
    while k < len(steps):
        kind, name = steps[k]
        last = k == len(steps) - 1
        if kind == "field":
            if not isinstance(node, dict):
                raise ProblemError(f"path {path.text!r}: {where} has no field {name!r}", path=path.text, value=name)
            if name in NAMED_LISTS and k + 1 < len(steps) and steps[k + 1][0] == "key":
                items = node.setdefault(name, [])
                creatable = {str(o.get("vendor")) for o in data.get("offers", [])} if name == "vendors" else set()
                entry = _find(items, steps[k + 1][1], name.rstrip("s"), path.text, creatable)
                node, where, k = entry, f"{name}[{steps[k + 1][1]}]", k + 2
                if k == len(steps):
                    raise ProblemError(
                        f"path {path.text!r} names an entry, not a field (add the field: {path.text}.<field>)",
                        path=path.text,
                        value=path.text,
                    )
                continue
            if last:
                return node, name, False
            nxt = steps[k + 1]
            if nxt[0] == "key":
                value = node.get(name)
                key_last = k + 1 == len(steps) - 1
                if (
                    isinstance(value, Mapping)
                    and _mapping_key(value, nxt[1]) is not None
                    and not _is_period_map(value, periods)
                ):
                    node, where, k = value, f"{where}.{name}", k + 1
                    if key_last:
                        return node, _mapping_key(value, nxt[1]), False
                    parent, pkey = value, _mapping_key(value, nxt[1])
                    node, k = value[pkey], k + 1
                    if k == len(steps) - 1 and steps[k][0] == "key":  # one period of a mapping's entry
                        key = steps[k][1]
                        if isinstance(node, Mapping) and _mapping_key(node, key) is not None:
                            return node, _mapping_key(node, key), False
                        return parent, (pkey, _period(key, periods, f"{where}[{nxt[1]}]", path.text)), True
                    continue
                if not key_last:
                    raise ProblemError(f"path {path.text!r}: cannot read past {name}[{nxt[1]}]", path=path.text)
                period = _period(nxt[1], periods, f"{where}.{name}", path.text)
                return node, (name, period), True
            node, where = node.setdefault(name, {}), f"{where}.{name}"
            if node is None:
                raise ProblemError(f"path {path.text!r}: {where} is not set", path=path.text)
            k += 1
            continue
        # a key after a mapping entry (workloads[training][2028])
        if isinstance(node, Mapping) and _mapping_key(node, name) is not None and not last:
            node, k = node[_mapping_key(node, name)], k + 1
            continue
        raise ProblemError(f"path {path.text!r}: cannot read {name!r} in {where}", path=path.text, value=name)
    raise ProblemError(f"path {path.text!r} names no field", path=path.text)


def _is_period_map(value: Mapping[Any, Any], periods: list[int]) -> bool:
    try:
        return bool(value) and {int(k) for k in value} <= set(periods)
    except (TypeError, ValueError):
        return False


def get_value(problem: Problem | Mapping[str, Any], path: str | Path) -> Any:
    """The value a path names (``None`` when the field is not set)."""
    p = _as_path(path)
    data = problem.to_dict() if isinstance(problem, Problem) else copy.deepcopy(dict(problem))
    node, key, is_period = _walk(data, p)
    if is_period:
        name, period = key
        value = node.get(name)
        if isinstance(value, Mapping):
            k = _mapping_key(value, str(period))
            return None if k is None else value[k]
        return value
    return node.get(key) if isinstance(node, Mapping) else None


def set_value(data: dict[str, Any], path: str | Path, value: Any) -> None:
    """Set the field a path names in the problem mapping ``data`` (changed in place)."""
    p = _as_path(path)
    node, key, is_period = _walk(data, p)
    if not is_period:
        node[key] = copy.deepcopy(value)
        return
    name, period = key
    current = node.get(name)
    periods = [int(q) for q in data["periods"]]
    if current is None:
        raise ProblemError(
            f"path {p.text!r}: {name} is not set, so one period of it cannot be changed; give {name} for every period",
            path=p.text,
            value=value,
        )
    if not isinstance(current, Mapping):
        current = {q: current for q in periods}
    else:
        current = {int(k): v for k, v in current.items()}
    current[period] = value
    node[name] = current


def apply_changes(problem: Problem | Mapping[str, Any], changes: Mapping[str, Any]) -> Problem:
    """A new problem: ``problem`` with each ``{path: value}`` of ``changes`` applied, validated.

    Raises `ProblemError` naming the path for a path that does not exist and the field for a
    value it does not accept.
    """
    data = problem.to_dict() if isinstance(problem, Problem) else copy.deepcopy(dict(problem))
    for path, value in changes.items():
        set_value(data, path, value)
    return Problem.from_dict(data)
