"""Monte-Carlo variants of a problem for `procure.sweep`.

``procure.sample(problem, distributions, n=..., seed=...)`` draws ``n``
variants, each a mapping ``{path: value}`` that `procure.sweep` solves::

    from procure.sample import growth, lognormal, supply_cut

    variants = procure.sample(problem, {
        "offers[gb300-nvl72].unit_cost": lognormal(0.15),        # price moves ×e^N(0, 0.15²)
        "demand": growth(procure.sweeps.sample.normal(0.35, 0.1)),      # yearly growth rates
        ("offers[gb300-nvl72].max_units", "offers[b200-hgx].max_units"): supply_cut(0.1, 0.3),
    }, n=500, seed=1)
    sweep = procure.sweep(problem, variants)

A key is a path (see `procure.paths`) or a tuple of paths that share one draw
(the same factor, or the same event, for each: a vendor's supply cut across
its offers).  A distribution is one of the helpers below or any frozen
``scipy.stats`` distribution (its draws are the field's new value).

Relative draws (`lognormal`, ``relative=True`` of `uniform` and `normal`,
`supply_cut`) multiply the field's value in the problem; a per-period field is
moved by one factor for all its periods, or by one factor per period with
``per_period=True``.  Absolute draws replace the value.

Reproducibility: each key draws from its own random stream, derived from
``seed`` and the key's text, so adding, removing or reordering other keys
does not change its draws, and the first ``m`` variants of ``n > m`` are the
``m`` variants of ``n = m``.  Draws are not clipped: a draw a field does not
accept (a negative price) gives an invalid variant, which the sweep reports
in its row.
"""

from __future__ import annotations

import math
import numbers
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..problem.fields import Path, get_value, parse_path
from ..problem.format import PER_PERIOD_FIELDS, Problem, as_problem
from ..problem.validate import show

__all__ = [
    "Distribution",
    "Numeric",
    "choice",
    "growth",
    "lognormal",
    "normal",
    "sample",
    "supply_cut",
    "uniform",
]

#: Most variants one call may draw.
MAX_VARIANTS = 10_000_000


class _Streams:
    """The random streams of one key: child ``k`` of its seed sequence, made once."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._seed = seed
        self._made: dict[int, np.random.Generator] = {}

    def __getitem__(self, k: int) -> np.random.Generator:
        if k not in self._made:
            child = np.random.SeedSequence(self._seed.entropy, spawn_key=(*self._seed.spawn_key, k))
            self._made[k] = np.random.default_rng(child)
        return self._made[k]


@dataclass(frozen=True)
class _Field:
    """What a path names: its text, its current value, and whether it is a whole per-period field."""

    path: str
    value: Any
    per_period: bool


class Distribution(ABC):
    """How the value of one field (or of several sharing a draw) is drawn."""

    @abstractmethod
    def check(self) -> str:
        """What is wrong with the parameters, in words (``""`` when they are valid)."""

    @abstractmethod
    def values(self, streams: _Streams, fields: Sequence[_Field], n: int, periods: list[int]) -> list[list[Any]]:
        """``n`` new values for each field (one list per field); `ProblemError` when a field
        cannot take this distribution."""


class Numeric(Distribution):
    """A distribution of numbers: drawn as is (absolute) or as factors (relative)."""

    relative: bool = False
    per_period: bool = False

    @abstractmethod
    def numbers(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Draws of the given shape."""

    def values(self, streams: _Streams, fields: Sequence[_Field], n: int, periods: list[int]) -> list[list[Any]]:
        width = len(periods) if self.per_period else 1
        if self.per_period:
            for f in fields:
                if not f.per_period:
                    raise ProblemError(
                        f"{f.path}: per_period=True needs a per-period field (demand, unit_cost, max_units, "
                        "power_cap_gw, budget, electricity_price, a workload), not one value",
                        path=f.path,
                    )
        draws = self.numbers(streams[0], (n, width))
        if not self.relative:
            return [[_absolute(row, periods) for row in draws] for _ in fields]
        return [[_scaled(f, row, periods) for row in draws] for f in fields]


def _absolute(row: np.ndarray, periods: list[int]) -> Any:
    """A drawn value: one number, or one per period."""
    if len(row) == 1:
        return float(row[0])
    return {p: float(x) for p, x in zip(periods, row)}


def _scaled(f: _Field, factors: np.ndarray, periods: list[int], where: Sequence[int] | None = None) -> Any:
    """The field's value times ``factors`` (one, or one per period); only the periods at
    positions ``where`` when given."""
    value = f.value
    if value is None:
        raise ProblemError(
            f"{f.path}: is not set, so there is no value to scale; give the field in the problem, "
            "or draw absolute values",
            path=f.path,
        )
    per = len(factors) > 1 or where is not None
    if _is_number(value) and not per:
        return float(value) * float(factors[0])
    if isinstance(value, Mapping) and not per:
        if not all(_is_number(v) for v in value.values()):
            raise ProblemError(f"{f.path}: {show(value)} holds values that are not numbers", path=f.path, value=value)
        return {k: float(v) * float(factors[0]) for k, v in value.items()}
    if f.per_period and (_is_number(value) or isinstance(value, Mapping)):
        spread = _by_period(value, periods, f.path)
        chosen = set(range(len(periods))) if where is None else set(where)
        scale = np.broadcast_to(factors, (len(periods),))
        return {p: spread[p] * (float(scale[t]) if t in chosen else 1.0) for t, p in enumerate(periods)}
    raise ProblemError(f"{f.path}: {show(value)} is not a number that a factor can scale", path=f.path, value=value)


def _by_period(value: Any, periods: list[int], path: str) -> dict[int, float]:
    """A per-period value as ``{period: number}``."""
    if _is_number(value):
        return {p: float(value) for p in periods}
    out = {int(k): v for k, v in value.items()}
    if set(out) != set(periods) or not all(_is_number(v) for v in out.values()):
        raise ProblemError(f"{path}: {show(value)} is not a number per period", path=path, value=value)
    return {p: float(out[p]) for p in periods}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(*values: Any) -> bool:
    return all(_is_number(v) and math.isfinite(v) for v in values)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Uniform(Numeric):
    """Uniform on ``[low, high]``; see `uniform`."""

    low: float
    high: float
    relative: bool = False
    per_period: bool = False

    def check(self) -> str:
        if not _finite(self.low, self.high) or self.low > self.high:
            return f"uniform needs finite numbers low ≤ high, got low={show(self.low)}, high={show(self.high)}"
        return ""

    def numbers(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)


@dataclass(frozen=True)
class Normal(Numeric):
    """Normal with ``mean`` and standard deviation ``sd``; see `normal`."""

    mean: float
    sd: float
    relative: bool = False
    per_period: bool = False

    def check(self) -> str:
        if not _finite(self.mean, self.sd) or self.sd < 0:
            return f"normal needs a finite mean and sd ≥ 0, got mean={show(self.mean)}, sd={show(self.sd)}"
        return ""

    def numbers(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.normal(self.mean, self.sd, size=shape)


@dataclass(frozen=True)
class LogNormal(Numeric):
    """A factor ``exp(N(mu, sigma²))``; see `lognormal`."""

    sigma: float
    mu: float = 0.0
    per_period: bool = False
    relative: bool = field(default=True, init=False)  # a factor, always

    def check(self) -> str:
        if not _finite(self.sigma, self.mu) or self.sigma < 0 or abs(self.mu) > 700:
            return f"lognormal needs sigma ≥ 0 and |mu| ≤ 700, got sigma={show(self.sigma)}, mu={show(self.mu)}"
        return ""

    def numbers(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size=shape)


@dataclass(frozen=True)
class ScipyDraws(Numeric):
    """Absolute draws of a frozen ``scipy.stats`` distribution (``dist.rvs``)."""

    dist: Any
    per_period: bool = False

    def check(self) -> str:
        return "" if callable(getattr(self.dist, "rvs", None)) else f"{show(self.dist)} has no rvs()"

    def numbers(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return np.asarray(self.dist.rvs(size=shape, random_state=rng), dtype=float).reshape(shape)


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``options`` (any values the field accepts); see `choice`."""

    options: tuple[Any, ...]
    p: tuple[float, ...] | None = None

    def check(self) -> str:
        if not self.options:
            return "choice needs at least one value"
        if self.p is None:
            return ""
        if len(self.p) != len(self.options) or not _finite(*self.p) or min(self.p) < 0:
            return f"choice needs one probability ≥ 0 per value ({len(self.options)}), got p={show(list(self.p))}"
        if not math.isclose(sum(self.p), 1.0, rel_tol=0, abs_tol=1e-9):
            return f"choice probabilities must sum to 1, got {sum(self.p):.12g}"
        return ""

    def values(self, streams: _Streams, fields: Sequence[_Field], n: int, periods: list[int]) -> list[list[Any]]:
        picks = streams[0].choice(len(self.options), size=n, p=self.p)
        return [[_plain(self.options[int(k)]) for k in picks] for _ in fields]


@dataclass(frozen=True)
class Growth(Distribution):
    """A per-period value grown from its first period; see `growth`."""

    rate: Numeric
    per_period: bool = True

    def check(self) -> str:
        return self.rate.check()

    def values(self, streams: _Streams, fields: Sequence[_Field], n: int, periods: list[int]) -> list[list[Any]]:
        for f in fields:
            if not f.per_period:
                raise ProblemError(f"{f.path}: growth needs a whole per-period field, not one value", path=f.path)
            if f.value is None:
                raise ProblemError(f"{f.path}: is not set, so there is no first value to grow from", path=f.path)
        steps = len(periods) - 1
        rates = self.rate.numbers(streams[0], (n, steps if self.per_period else 1))
        factors = np.cumprod(1.0 + np.broadcast_to(rates, (n, steps)), axis=1)  # (n, T − 1)
        out = []
        for f in fields:
            first = _by_period(f.value, periods, f.path)[periods[0]]
            out.append([{periods[0]: first, **dict(zip(periods[1:], (first * row).tolist()))} for row in factors])
        return out


@dataclass(frozen=True)
class SupplyCut(Distribution):
    """A cut with some probability: the value times a factor; see `supply_cut`."""

    probability: float
    factor: Numeric | float = 0.0
    periods: tuple[int, ...] | None = None

    def check(self) -> str:
        if not _finite(self.probability) or not 0 <= self.probability <= 1:
            return f"supply_cut needs a probability in [0, 1], got {show(self.probability)}"
        if isinstance(self.factor, Numeric):
            return self.factor.check()
        if not _finite(self.factor) or self.factor < 0:
            return f"supply_cut needs a factor ≥ 0 (or a distribution of factors), got {show(self.factor)}"
        return ""

    def values(self, streams: _Streams, fields: Sequence[_Field], n: int, periods: list[int]) -> list[list[Any]]:
        where = None
        if self.periods is not None:
            unknown = [p for p in self.periods if p not in periods]
            if unknown:
                raise ProblemError(
                    f"{fields[0].path}: supply_cut periods {unknown} are not periods of the problem",
                    path=fields[0].path,
                    value=list(self.periods),
                )
            where = [periods.index(p) for p in self.periods]
        cut = streams[0].random(n) < self.probability
        if isinstance(self.factor, Numeric):
            factor = self.factor.numbers(streams[1], (n,))
        else:
            factor = np.full(n, float(self.factor))
        scale = np.where(cut, factor, 1.0)
        return [[_scaled(f, np.array([s]), periods, where) for s in scale] for f in fields]


def uniform(low: float, high: float, *, relative: bool = False, per_period: bool = False) -> Uniform:
    """Draws uniform on ``[low, high]``.

    Parameters
    ----------
    low, high : float
        The range.
    relative : bool
        Multiply the field's value by the draw (``uniform(0.8, 1.2, relative=True)``:
        ±20%) instead of replacing it.
    per_period : bool
        One draw per period of a per-period field (default: one for the whole field).
    """
    return Uniform(low, high, relative, per_period)


def normal(mean: float, sd: float, *, relative: bool = False, per_period: bool = False) -> Normal:
    """Draws from a normal distribution with ``mean`` and standard deviation ``sd``.

    Parameters
    ----------
    mean, sd : float
        Its parameters.
    relative : bool
        Multiply the field's value by the draw instead of replacing it.
    per_period : bool
        One draw per period of a per-period field.
    """
    return Normal(mean, sd, relative, per_period)


def lognormal(sigma: float, mu: float = 0.0, *, per_period: bool = False) -> LogNormal:
    """Moves the field's value by a factor ``exp(N(mu, sigma²))``: a price move.

    The median factor is ``e^mu`` (1 by default); ``sigma = 0.1`` moves about
    two thirds of the draws within −10%..+11%.

    Parameters
    ----------
    sigma : float
        Standard deviation of the log factor, ≥ 0.
    mu : float
        Mean of the log factor.
    per_period : bool
        One factor per period of a per-period field (default: one factor moves every period).
    """
    return LogNormal(sigma, mu, per_period)


def choice(values: Sequence[Any], p: Sequence[float] | None = None) -> Choice:
    """One of ``values`` (each any value the field accepts), with probabilities ``p``
    (default: equally likely)."""
    return Choice(tuple(values), None if p is None else tuple(p))


def growth(rate: Numeric | Any | float, *, per_period: bool = True) -> Growth:
    """A per-period value grown from its first period: ``value[t] = value[t−1] · (1 + g_t)``.

    Parameters
    ----------
    rate : float or distribution
        The growth rate ``g``: a number, one of this module's numeric distributions
        (``normal(0.35, 0.1)``), or a frozen ``scipy.stats`` distribution.
    per_period : bool
        A rate drawn for every year (default), or one rate for the whole horizon.
    """
    return Growth(_numeric(rate, "growth rate"), per_period)


def supply_cut(
    probability: float, factor: Numeric | Any | float = 0.0, *, periods: Sequence[int] | None = None
) -> SupplyCut:
    """With ``probability``, the field's value times ``factor``; otherwise unchanged.

    Meant for an offer's ``max_units`` (a vendor's supply cut: give the vendor's
    offers as one tuple key, so that they are cut together).

    Parameters
    ----------
    probability : float
        Chance of a cut, in [0, 1].
    factor : float or distribution
        What is left of the value when cut: 0 (default) cuts it off; a numeric
        distribution draws it (``uniform(0, 0.5)``).
    periods : list of int, optional
        The periods cut (default: all).
    """
    left = float(factor) if isinstance(factor, numbers.Real) else _numeric(factor, "supply_cut factor")
    return SupplyCut(probability, left, None if periods is None else tuple(periods))


def _numeric(dist: Any, what: str) -> Numeric:
    """A numeric distribution from one of ours, a scipy frozen one, or a constant."""
    if isinstance(dist, Numeric):
        return dist
    if _is_number(dist):
        return Uniform(float(dist), float(dist))
    if callable(getattr(dist, "rvs", None)):
        return ScipyDraws(dist)
    raise ProblemError(f"{what}: {show(dist)} is not a number or a distribution of numbers", value=dist)


def _distribution(dist: Any) -> Distribution | None:
    if isinstance(dist, Distribution):
        return dist
    if callable(getattr(dist, "rvs", None)):
        return ScipyDraws(dist)
    return None


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (variants show and serialize as plain values)."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- sampling


def _keys(key: Any) -> tuple[str, ...]:
    paths = (key,) if isinstance(key, str) else key
    if not isinstance(paths, tuple) or not paths or not all(isinstance(p, str) for p in paths):
        raise ProblemError(
            f"distributions: key {show(key)} is not a path or a tuple of paths", path=str(key), value=key
        )
    return paths


def _field(problem: Problem, text: str) -> _Field:
    path = parse_path(text)
    return _Field(path.text, get_value(problem, path), _is_per_period(path))


def _is_per_period(path: Path) -> bool:
    """The path names a whole per-period field (not one period of it)."""
    kind, name = path.steps[-1]
    if kind == "field":
        return name in PER_PERIOD_FIELDS
    return len(path.steps) == 2 and path.steps[0] == ("field", "workloads")


def _seed(seed: Any) -> np.random.SeedSequence:
    if seed is None:
        return np.random.SeedSequence()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ProblemError(f"seed: {show(seed)} must be a whole number ≥ 0 (or None)", path="seed", value=seed)
    return np.random.SeedSequence(int(seed))


def _draw(problem: Problem, root: np.random.SeedSequence, key: Any, dist: Any, n: int) -> dict[str, list[Any]]:
    """The ``n`` values of each path of one key."""
    paths = _keys(key)
    where = " ".join(paths)
    found = _distribution(dist)
    if found is None:
        raise ProblemError(
            f"{where}: {show(dist)} is not a distribution (use procure.sweeps.sample.lognormal(...), uniform(...), "
            "normal(...), choice(...), growth(...), supply_cut(...) or a frozen scipy.stats distribution)",
            path=paths[0],
            value=dist,
        )
    trouble = found.check()
    if trouble:
        raise ProblemError(f"{where}: {trouble}", path=paths[0], value=dist)
    fields = [_field(problem, p) for p in paths]
    # a stream of its own per key (from the seed and the key's text): other keys do not move it
    stream = np.random.SeedSequence(root.entropy, spawn_key=(zlib.crc32("|".join(paths).encode()),))
    drawn = found.values(_Streams(stream), fields, n, list(problem.periods))
    return {f.path: values for f, values in zip(fields, drawn)}


class _Sample:
    """``procure.sample``: Monte-Carlo variants of a problem (call it), and the distributions to
    draw them from (its attributes ``lognormal``, ``uniform``, ``normal``, ``choice``,
    ``growth``, ``supply_cut``; also importable from ``procure.sample``)."""

    lognormal = staticmethod(lognormal)
    uniform = staticmethod(uniform)
    normal = staticmethod(normal)
    choice = staticmethod(choice)
    growth = staticmethod(growth)
    supply_cut = staticmethod(supply_cut)

    def __call__(
        self,
        problem: Problem | Mapping[str, Any] | str,
        distributions: Mapping[str | tuple[str, ...], Any],
        *,
        n: int,
        seed: int | None = None,
    ) -> list[dict[str, Any]]:
        """``n`` variants of ``problem`` drawn from ``distributions``, for `procure.sweep`.

        Parameters
        ----------
        problem : Problem, mapping, or path
            The problem whose fields relative draws scale.
        distributions : mapping
            ``{path: distribution}``; a key may be a tuple of paths that share one
            draw.  A distribution is `lognormal`, `uniform`, `normal`, `choice`,
            `growth`, `supply_cut` (all in ``procure.sample``) or a frozen
            ``scipy.stats`` distribution (absolute draws).
        n : int
            Number of variants.
        seed : int, optional
            Seed of the draws: the same seed gives the same variants.  Default:
            fresh randomness.

        Returns
        -------
        list of dict
            ``n`` mappings ``{path: value}`` (one entry per path, in the order of
            ``distributions``), plain Python numbers and ``{period: number}``
            mappings.

        Raises
        ------
        ProblemError
            For a path the problem does not have, a distribution with bad
            parameters, or one a field cannot take (a relative draw of a field
            that is not set); the message names the path.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= n <= MAX_VARIANTS:
            raise ProblemError(f"n: {show(n)} must be a whole number from 0 to {MAX_VARIANTS:,}", path="n", value=n)
        if not isinstance(distributions, Mapping):
            raise ProblemError(
                f"distributions: {show(distributions)} is not a mapping {{path: distribution}}",
                path="distributions",
                value=distributions,
            )
        base = as_problem(problem)
        root = _seed(seed)
        columns: dict[str, list[Any]] = {}
        for key, dist in distributions.items():
            for path, values in _draw(base, root, key, dist, int(n)).items():
                if path in columns:
                    raise ProblemError(f"{path}: given twice in distributions", path=path)
                columns[path] = values
        return [{path: values[k] for path, values in columns.items()} for k in range(int(n))]


#: Monte-Carlo variants of a problem: ``procure.sample(problem, distributions, n=..., seed=...)``.
sample = _Sample()
