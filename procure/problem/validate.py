"""Field-by-field validation of a problem mapping.

`validate_problem` turns a raw mapping (as read from JSON/TOML or written in
Python) into a normalized mapping, or raises `ProblemError` naming the field
path and the offending value.  Normalized means: every per-period value is a
tuple aligned with ``periods``, optional fields hold ``None`` when absent,
every vendor named by an offer has an entry in ``vendors`` (in order of first
appearance among the offers), and numbers are plain ``int`` / ``float``.

The tables below are the single list of the fields procure understands; a
key that is not in them is rejected with a "did you mean" hint, so a typo can
never silently drop a constraint.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ..base.errors import ProblemError
from ..base.limits import MAX_COUNT, MAX_LOTS, MAX_PERIOD, MAX_UNITS, MAX_VALUE, MIN_POSITIVE

__all__ = [
    "BUILD_FIELDS",
    "DEMAND_SCENARIO_FIELDS",
    "OFFER_FIELDS",
    "OPTION_FIELDS",
    "PROBLEM_FIELDS",
    "RISK_FIELDS",
    "VENDOR_FIELDS",
    "validate_problem",
]

PerPeriod = tuple[float, ...]


#: Characters of a value (or a name) that a message shows; longer ones are cut short with "…".
SHOWN = 60
_SHOWN_INT = 10**SHOWN


def _brief(text: str, width: int = SHOWN) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _digits(n: int) -> int:
    """Decimal digits of ``|n|`` without ``str()`` (which refuses ints of more than 4300 digits)."""
    n = abs(n)
    d = int((n.bit_length() - 1) * math.log10(2)) + 1 if n else 1
    return d + 1 if n >= 10**d else d


def _safe_text(value: Any, text: Callable[[Any], str]) -> str:
    """``text(value)`` cut short; never raises (deep nesting, refusing ``__str__``, huge ints)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -_SHOWN_INT < value < _SHOWN_INT:
        return f"an integer of {_digits(value)} digits"
    if isinstance(value, str):
        return _brief(text(value[: SHOWN + 1]))
    try:
        return _brief(text(value))
    except Exception:  # RecursionError, a refusing __str__ or __repr__
        return f"a {type(value).__name__}"


def show(value: Any) -> str:
    """A value as a message shows it: short, and safe for any value."""
    if isinstance(value, str):
        return _safe_text(value, repr)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}" if len(value) else "an empty list"
    return _safe_text(value, str)


def key_text(key: Any) -> str:
    """A mapping key inside a field path, as in ``demand['2031']``: short, and safe for any key."""
    return _safe_text(key, repr)


def name_text(name: str) -> str:
    """A field or entry name inside a path, as in ``offers[0].installed.oregon``, cut short."""
    return _brief(name, SHOWN * 2 // 3)


def names_text(names: Sequence[Any]) -> str:
    """Names listed in a message (``a, b, c``), cut short."""
    text = ", ".join(_brief(str(n)) for n in names[:12]) + (", …" if len(names) > 12 else "")
    return _brief(text, 2 * SHOWN)


def fail(path: str, value: Any, why: str) -> NoReturn:
    """Raise `ProblemError` for ``path`` with a message showing ``value``."""
    shown = "" if value is _MISSING else f"{show(value)} "
    raise ProblemError(f"{path}: {shown}{why}", path=path, value=None if value is _MISSING else value)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


# --------------------------------------------------------------------------- scalars


_PLAIN_NUMBERS = (int, float)  # checked by exact type first: the ABC check is slow on large inputs


def _is_number(value: Any) -> bool:
    return type(value) in _PLAIN_NUMBERS or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def allowed(low: float | None, low_open: bool, high: float, smallest: float = 0.0) -> str:
    """The range a number may take, in words: ``0, or 1e-09 to 1e+15``."""
    if smallest > 0 and low == 0:
        return f"{smallest:g} to {high:g}" if low_open else f"0, or {smallest:g} to {high:g}"
    if low is None:
        return f"up to {high:g}"
    return f"{'above ' if low_open else ''}{low:g} to {high:g}"


def number(
    value: Any,
    path: str,
    *,
    low: float | None = None,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
    smallest: float = 0.0,
    largest: float = MAX_VALUE,
) -> float:
    """A finite real number within the given bounds, of magnitude at most ``largest``
    and, unless 0, at least ``smallest`` (see `procure.limits`)."""
    if type(value) is float:
        x = value
    elif _is_number(value):
        try:
            x = float(value)
        except OverflowError:  # an int (or Fraction) beyond any float
            x = math.inf if value > 0 else -math.inf
    else:
        fail(path, value, "is not a number")
    size = abs(x)  # nan fails every comparison below
    if (
        size <= largest
        and (size >= smallest or size == 0.0)
        and (low is None or x > low or (x == low and not low_open))
        and (high is None or x < high or (x == high and not high_open))
    ):
        return x
    _refuse(value, x, path, low, low_open, high, high_open, smallest, largest)


def _refuse(
    value: Any,
    x: float,
    path: str,
    low: float | None,
    low_open: bool,
    high: float | None,
    high_open: bool,
    smallest: float,
    largest: float,
) -> NoReturn:
    """Raise the reason why `number` refuses ``value`` (as the float ``x``)."""
    if math.isnan(x) or (math.isinf(x) and type(value) is float):
        fail(path, value, "is not finite")
    if low is not None and (x < low or (low_open and x == low)):
        if low == 0 and not low_open:
            fail(path, value, "is negative")
        fail(path, value, f"must be {'>' if low_open else '≥'} {low:g}")
    if high is not None and (x > high or (high_open and x == high)):
        fail(path, value, f"must be {'<' if high_open else '≤'} {high:g}")
    if abs(x) > largest:
        fail(path, value, f"is too large: allowed {allowed(low, low_open, largest, smallest)} (use larger units)")
    top = largest if high is None else min(high, largest)
    if low_open:
        fail(path, value, f"is too small: give a value from {smallest:g} to {top:g}")
    fail(path, value, f"is too small: give 0 or a value from {smallest:g} to {top:g}")


def integer(value: Any, path: str, *, low: int | None = None, high: float = MAX_UNITS) -> int:
    """A whole number (``int``, not ``float`` nor ``bool``) from ``low`` to ``high``."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        if _is_number(value):
            fail(path, value, "is not a whole number (write it without a decimal point)")
        fail(path, value, "is not a whole number")
    x = int(value)
    if low is not None and x < low:
        fail(path, value, "is negative" if low == 0 else f"must be ≥ {low}")
    if x > high:
        fail(path, value, f"is too large: allowed {allowed(low, False, high)}")
    return x


#: Characters no name may hold: control characters (C0, DEL, C1), lone surrogate halves (not text: they
#: cannot be written as UTF-8) and the non-characters U+FFFE, U+FFFF.  Names are written to CSV and
#: Excel files, HTML and terminals, and XML (inside .xlsx) cannot hold most of these at all.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def string(value: Any, path: str) -> str:
    """A non-empty string of printable text (no control characters, no lone surrogates)."""
    if not isinstance(value, str):
        fail(path, value, "is not a string")
    if not value.strip():
        fail(path, value, "is empty")
    bad = _UNPRINTABLE.search(value)
    if bad is not None:
        code = ord(bad.group(0))
        if 0xD800 <= code <= 0xDFFF:
            why = "a lone surrogate, which is not text (it cannot be written as UTF-8)"
        elif code in (0xFFFE, 0xFFFF):
            why = "a non-character"
        else:
            why = "a control character"
        fail(
            path,
            value,
            f"holds {why}, U+{code:04X}, at position {bad.start()}: a name is printable text "
            "(no tabs, line breaks or other control characters)",
        )
    return value


def mapping(value: Any, path: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):
        fail(path, value, "is not a mapping (a table of fields)")
    for key in value:
        if not isinstance(key, str):
            fail(f"{path}[{key_text(key)}]" if path else key_text(key), _MISSING, "field names must be strings")
    return value


def sequence(value: Any, path: str) -> Sequence[Any]:
    if type(value) not in (list, tuple) and (
        isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence)
    ):
        fail(path, value, "is not a list")
    return value


def check_keys(raw: Mapping[str, Any], path: str, fields: Mapping[str, Field]) -> None:
    """Reject unknown keys, with a suggestion, and missing required ones."""
    prefix = f"{path}." if path else ""
    for key in raw:
        if key in fields:
            continue
        near = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6) if len(key) <= SHOWN else []
        hint = f"; did you mean {near[0]!r}?" if near else f"; known fields: {', '.join(fields)}"
        fail(f"{prefix}{name_text(key)}", _MISSING, f"unknown field{hint}")
    for key, spec in fields.items():
        if spec.required and key not in raw:
            fail(f"{prefix}{key}", _MISSING, "is required")


# --------------------------------------------------------------------------- per period


def parse_periods(value: Any, path: str = "periods") -> tuple[int, ...]:
    """A non-empty list of consecutive whole numbers, each of magnitude at most ``MAX_PERIOD``."""
    items = sequence(value, path)
    if not items:
        fail(path, value, "must list at least one period")
    periods = tuple(integer(p, f"{path}[{k}]", high=math.inf) for k, p in enumerate(items))
    for k, p in enumerate(periods):
        if abs(p) > MAX_PERIOD:
            fail(f"{path}[{k}]", p, f"is not a supported period: allowed {-MAX_PERIOD:g} to {MAX_PERIOD:g}")
        if k and p != periods[k - 1] + 1:
            fail(f"{path}[{k}]", p, f"does not follow {periods[k - 1]}: periods are consecutive years, in order")
    return periods


#: A period written as a string key (JSON, TOML): ASCII digits, maybe a minus sign and surrounding spaces.
_PERIOD_TEXT = re.compile(r"\s*(-?[0-9]+)\s*")


def _period_key(key: Any, path: str, periods: tuple[int, ...]) -> int:
    p: int | None
    if type(key) is str and key.isascii() and key.isdigit() and len(key) <= 20:  # the common case, "2026"
        p = int(key)
    elif isinstance(key, str):
        text = _PERIOD_TEXT.fullmatch(key)
        if text is None:
            fail(f"{path}[{key_text(key)}]", _MISSING, "is not a period (a whole number such as '2026')")
        digits = text.group(1)
        p = int(digits) if len(digits) <= 20 else None  # int() refuses more than 4300 digits
    elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
        p = int(key)
    else:
        fail(f"{path}[{key_text(key)}]", _MISSING, "is not a period (a whole number such as '2026')")
    if p not in periods:
        fail(
            f"{path}[{key_text(key)}]",
            _MISSING,
            f"names a period that is not in periods ({periods[0]}..{periods[-1]})",
        )
    return p


def per_period(value: Any, path: str, periods: tuple[int, ...], **bounds: Any) -> PerPeriod:
    """One number for every period, or a mapping ``{period: number}`` naming each period."""
    if isinstance(value, Mapping):
        found: dict[int, float] = {}
        for key, item in value.items():
            p = _period_key(key, path, periods)
            if p in found:
                fail(f"{path}[{key_text(key)}]", _MISSING, f"names period {p} twice")
            found[p] = number(item, f"{path}[{p}]", **bounds)
        missing = [p for p in periods if p not in found]
        if missing:
            fail(
                path,
                _MISSING,
                f"misses period{'s' if len(missing) > 1 else ''} "
                f"{names_text(missing)} (a mapping must name every period)",
            )
        return tuple(found[p] for p in periods)
    if isinstance(value, (list, tuple)):
        fail(path, value, "is a list: give one number, or a mapping {period: number}")
    x = number(value, path, **bounds)
    return tuple(x for _ in periods)


# --------------------------------------------------------------------------- field tables


@dataclass(frozen=True)
class Field:
    """How one field is parsed: ``parse(value, path, periods)``; default when absent."""

    parse: Callable[[Any, str, tuple[int, ...]], Any]
    default: Any = None
    required: bool = False
    doc: str = ""
    per_period: bool = False  # a default of one number stands for that number in every period


def _num(**bounds: Any) -> Callable[[Any, str, tuple[int, ...]], float]:
    return lambda v, path, periods: number(v, path, **bounds)


def _int(low: int, high: int) -> Callable[[Any, str, tuple[int, ...]], int]:
    return lambda v, path, periods: integer(v, path, low=low, high=high)


def _pp(**bounds: Any) -> Callable[[Any, str, tuple[int, ...]], PerPeriod]:
    return lambda v, path, periods: per_period(v, path, periods, **bounds)


def _str(v: Any, path: str, periods: tuple[int, ...]) -> str:
    return string(v, path)


# Bounds of the real-valued fields; every one is also at most MAX_VALUE in magnitude (see procure.limits).
Bounds = dict[str, Any]  # keyword arguments of `number`
NONNEG: Bounds = {"low": 0.0}  # not in the model's matrix: any value from 0 to MAX_VALUE
AMOUNT: Bounds = {"low": 0.0, "smallest": MIN_POSITIVE}  # in the matrix or bounds: 0, or MIN_POSITIVE to MAX_VALUE
POSITIVE: Bounds = {"low": 0.0, "low_open": True, "smallest": MIN_POSITIVE}
SUPPLY: Bounds = {**AMOUNT, "largest": MAX_UNITS}  # a number of units
SHARE: Bounds = {"low": 0.0, "low_open": True, "high": 1.0, "smallest": MIN_POSITIVE}
FRACTION: Bounds = {"low": 0.0, "high": 1.0, "smallest": MIN_POSITIVE}  # 0, or MIN_POSITIVE to 1
FLOOR: Bounds = {**FRACTION, "high_open": True}  # a share floor: 0, or MIN_POSITIVE to below 1

PROBLEM_FIELDS: dict[str, Field] = {
    "name": Field(_str, "plan", doc="label"),
    "periods": Field(lambda v, p, _: parse_periods(v, p), required=True, doc="planning periods"),
    "demand": Field(_pp(**AMOUNT), doc="compute needed in each period (or give workloads)"),
    "offers": Field(lambda v, p, _: v, required=True, doc="what can be bought"),
    "vendors": Field(lambda v, p, _: v, (), doc="per-vendor terms"),
    "power_cap_gw": Field(_pp(**AMOUNT), doc="cap on facility power, GW"),
    "pue": Field(_num(low=1.0), 1.0, doc="facility power / IT power"),
    "electricity_price": Field(_pp(**AMOUNT), 0.0, doc="$/MWh", per_period=True),
    "budget": Field(_pp(**AMOUNT), doc="cap on capex paid in each period"),
    "total_budget": Field(_num(**AMOUNT), doc="cap on capex over the horizon"),
    "discount_rate": Field(_num(**NONNEG), 0.0, doc="for the objective"),
    "risk": Field(lambda v, p, _: v, None, doc="concentration and supply-risk terms"),
    "sites": Field(lambda v, p, _: v, (), doc="data center sites"),
    "workloads": Field(lambda v, p, _: v, None, doc="demand per workload, instead of demand"),
    "unserved_penalty": Field(_num(**AMOUNT), doc="$ per compute unit per period of demand not served"),
    "power_build": Field(lambda v, p, _: v, None, doc="facility power that can be built (without sites)"),
    "demand_scenarios": Field(lambda v, p, _: v, (), doc="demand paths with probabilities, instead of demand"),
    "options": Field(lambda v, p, _: v, (), doc="capacity options: supply reserved now, bought later if needed"),
}


def _period(v: Any, path: str, periods: tuple[int, ...]) -> int:
    value = integer(v, path, high=MAX_PERIOD)
    if value not in periods:
        fail(path, value, f"is not a period ({periods[0]}..{periods[-1]})")
    return value


#: Fields of one entry of ``options`` (capacity options, contract v3).
OPTION_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True, doc="unique among options"),
    "offer": Field(_str, required=True, doc="the offer whose units are reserved"),
    "max_units": Field(_int(0, MAX_UNITS), required=True, doc="most units that may be reserved"),
    "reserve_cost": Field(_num(**AMOUNT), 0.0, doc="$ per unit reserved, paid in reserve_period"),
    "reserve_period": Field(_period, doc="when the reservation is decided and paid (default: the first period)"),
    "exercise_price": Field(_pp(**AMOUNT), doc="$ per unit bought through the option (default: the offer's unit_cost)"),
    "exercise_until": Field(_period, doc="last period in which reserved units may be bought (default: the last)"),
}

#: Fields of one entry of ``demand_scenarios``.
DEMAND_SCENARIO_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True),
    "probability": Field(_num(**POSITIVE), required=True),
    "demand": Field(_pp(**AMOUNT)),
    "workloads": Field(lambda v, p, _: v, None),
}

#: Probabilities of demand scenarios sum to 1 within this.
PROBABILITY_TOL = 1e-9

OFFER_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True),
    "vendor": Field(_str, required=True),
    "unit_cost": Field(_pp(**AMOUNT)),
    "price_tiers": Field(lambda v, p, _: v, None),
    "discount": Field(lambda v, p, _: v, "incremental"),
    "efficiency": Field(lambda v, p, _: v, None),
    "compute": Field(_num(**POSITIVE), required=True),
    "power_kw": Field(_num(**AMOUNT), 0.0),
    "opex_per_year": Field(_num(**AMOUNT), 0.0),
    "lot_size": Field(_int(1, MAX_UNITS), 1),
    "min_order": Field(_int(0, MAX_UNITS), 0),
    "max_units": Field(_pp(**SUPPLY)),
    "lifetime": Field(_int(1, MAX_COUNT)),
    "lead_time": Field(_int(0, MAX_COUNT), 0),
    "installed": Field(lambda v, p, _: v, None),
    "installed_life": Field(_int(1, MAX_COUNT)),
}

VENDOR_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True),
    "onboarding_cost": Field(_num(**AMOUNT), 0.0),
    "max_share": Field(_num(**SHARE)),
    "min_spend": Field(_num(**AMOUNT), 0.0),
    "max_spend": Field(_num(**AMOUNT)),
    "min_share": Field(_num(**FLOOR), 0.0, doc="floor on this vendor's share of operational compute"),
    "max_new_compute": Field(_pp(**AMOUNT), doc="most compute of this vendor's units bought in a period"),
}

SITE_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True),
    "power_cap_gw": Field(_pp(**AMOUNT)),
    "pue": Field(_num(low=1.0)),
    "electricity_price": Field(_pp(**AMOUNT)),
    "vendors": Field(lambda v, p, _: v, None),
    "power_build": Field(lambda v, p, _: v, None),
}

#: Fields of a ``power_build`` (top level without sites, or a site's).
BUILD_FIELDS: dict[str, Field] = {
    "cost_per_gw": Field(_pp(**AMOUNT), required=True, doc="$ per GW whose build starts in the period"),
    "block_gw": Field(_num(**POSITIVE), doc="builds are whole blocks of this many GW"),
    "max_gw": Field(_pp(**AMOUNT), doc="most GW whose build starts in a period"),
    "lead_time": Field(_int(0, MAX_COUNT), 0, doc="periods until built GW are usable"),
    "fixed_cost": Field(_pp(**AMOUNT), 0.0, doc="$ in each period in which a build starts", per_period=True),
}

TIER_FIELDS: dict[str, Field] = {
    "from_units": Field(_int(0, MAX_UNITS), required=True),
    "unit_cost": Field(_pp(**AMOUNT), required=True),
}

DISCOUNTS = ("incremental", "all_units")

RISK_FIELDS: dict[str, Field] = {
    "max_share": Field(_num(**SHARE), 1.0),
    "min_vendors": Field(_int(0, MAX_COUNT), 0),
    "min_vendor_share": Field(_num(**SHARE), 0.1),
    "survive_vendor_loss": Field(_num(**FRACTION), 0.0),
    "hhi_weight": Field(_num(**AMOUNT), 0.0),
    "max_hhi": Field(_num(**SHARE)),
    "scenarios": Field(lambda v, p, _: v, ()),
    "shortfall_penalty": Field(_num(**AMOUNT), 0.0),
    "cvar_alpha": Field(_num(low=0.0, high=1.0, high_open=True), 0.95),
    "risk_weight": Field(_num(**AMOUNT), 0.0),
    "max_cvar": Field(_num(**AMOUNT)),
    "scenario_cvar_weight": Field(_num(**AMOUNT), 0.0),
    "scenario_cvar_alpha": Field(_num(low=0.0, high=1.0, high_open=True), 0.9),
}

SCENARIO_FIELDS: dict[str, Field] = {
    "name": Field(_str, required=True),
    "probability": Field(_num(**FRACTION), required=True),
    "availability": Field(lambda v, p, _: v, None),
    "periods": Field(lambda v, p, _: v, None),
}

#: Name of the undisrupted scenario in results; no user scenario may take it.
NOMINAL = "nominal"


def parse_fields(
    raw: Mapping[str, Any],
    path: str,
    fields: Mapping[str, Field],
    periods: tuple[int, ...],
) -> dict[str, Any]:
    """Check keys, then parse every field of ``fields`` (defaults where absent)."""
    check_keys(raw, path, fields)
    prefix = f"{path}." if path else ""
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        if key in raw and raw[key] is not None:
            out[key] = spec.parse(raw[key], f"{prefix}{key}", periods)
        elif key in raw and spec.required:
            fail(f"{prefix}{key}", _MISSING, "is required")
        elif spec.per_period and spec.default is not None:
            out[key] = tuple(float(spec.default) for _ in periods)
        else:
            out[key] = spec.default
    return out


# --------------------------------------------------------------------------- sections


def _offers(raw: Any, periods: tuple[int, ...], sites: list[str], workloads: list[str]) -> list[dict[str, Any]]:
    items = sequence(raw, "offers")
    if not items:
        fail("offers", raw, "must list at least one offer")
    offers: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k, item in enumerate(items):
        path = f"offers[{k}]"
        offer = parse_fields(mapping(item, path), path, OFFER_FIELDS, periods)
        if offer["name"] in seen:
            fail(f"{path}.name", offer["name"], f"is already the name of offers[{seen[offer['name']]}]")
        seen[offer["name"]] = k
        _prices(offer, path, periods)
        offer["installed"] = _installed(offer["installed"], f"{path}.installed", sites)
        offer["efficiency"] = _efficiency(offer["efficiency"], f"{path}.efficiency", workloads)
        offers.append(offer)
    return offers


def _prices(offer: dict[str, Any], path: str, periods: tuple[int, ...]) -> None:
    """``unit_cost`` or ``price_tiers`` (one of them), tiers from 0 rising strictly."""
    tiers = offer["price_tiers"]
    if tiers is None and offer["unit_cost"] is None:
        fail(f"{path}.unit_cost", _MISSING, "is required (or give price_tiers)")
    discount = offer["discount"]
    if discount not in DISCOUNTS:
        fail(f"{path}.discount", discount, f"is not one of {', '.join(map(repr, DISCOUNTS))}")
    if tiers is None:
        if discount == "all_units":
            fail(f"{path}.discount", discount, "has no effect without price_tiers")
        return
    if offer["unit_cost"] is not None:
        fail(f"{path}.price_tiers", _MISSING, "and unit_cost are both given: give one or the other")
    items = sequence(tiers, f"{path}.price_tiers")
    if not items:
        fail(f"{path}.price_tiers", tiers, "must list at least one tier")
    parsed = []
    for j, tier in enumerate(items):
        where = f"{path}.price_tiers[{j}]"
        parsed.append(parse_fields(mapping(tier, where), where, TIER_FIELDS, periods))
        start = parsed[-1]["from_units"]
        if j == 0 and start != 0:
            fail(f"{where}.from_units", start, "must be 0: the first tier starts at 0")
        if j > 0 and start <= parsed[j - 1]["from_units"]:
            fail(f"{where}.from_units", start, f"must be above the previous tier's {parsed[j - 1]['from_units']}")
    offer["price_tiers"] = parsed


def _installed(value: Any, path: str, sites: list[str]) -> int | dict[str, int]:
    """A whole number without sites; a mapping {site: units} with sites."""
    if value is None:
        return {} if sites else 0
    if not sites:
        return integer(value, path, low=0, high=MAX_UNITS)
    if not isinstance(value, Mapping):
        fail(path, value, "must be a mapping {site: units} when the problem has sites")
    out: dict[str, int] = {}
    for site, units in mapping(value, path).items():
        if site not in sites:
            fail(f"{path}.{name_text(site)}", _MISSING, f"is not a site (sites: {names_text(sites)})")
        out[site] = integer(units, f"{path}.{name_text(site)}", low=0, high=MAX_UNITS)
    return out


def _efficiency(value: Any, path: str, workloads: list[str]) -> dict[str, float] | None:
    if value is None:
        return None
    if not workloads:
        fail(path, _MISSING, "needs workloads (the problem gives demand)")
    out: dict[str, float] = {}
    for name, factor in mapping(value, path).items():
        if name not in workloads:
            fail(f"{path}.{name_text(name)}", _MISSING, f"is not a workload (workloads: {names_text(workloads)})")
        out[name] = number(factor, f"{path}.{name_text(name)}", **AMOUNT)
    return out


def _sites(raw: Any, periods: tuple[int, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k, item in enumerate(sequence(raw, "sites")):
        path = f"sites[{k}]"
        site = parse_fields(mapping(item, path), path, SITE_FIELDS, periods)
        if site["name"] in seen:
            fail(f"{path}.name", site["name"], f"is already the name of sites[{seen[site['name']]}]")
        seen[site["name"]] = k
        site["power_build"] = _power_build(site["power_build"], f"{path}.power_build", periods)
        if site["vendors"] is not None:
            site["vendors"] = tuple(
                string(v, f"{path}.vendors[{j}]") for j, v in enumerate(sequence(site["vendors"], f"{path}.vendors"))
            )
        out.append(site)
    return out


def _power_build(raw: Any, path: str, periods: tuple[int, ...]) -> dict[str, Any] | None:
    """A ``power_build`` mapping, parsed (None when absent)."""
    if raw is None:
        return None
    return parse_fields(mapping(raw, path), path, BUILD_FIELDS, periods)


def _workloads(raw: Any, periods: tuple[int, ...], path: str = "workloads") -> dict[str, PerPeriod]:
    items = mapping(raw, path)
    if not items:
        fail(path, raw, "must name at least one workload")
    out: dict[str, PerPeriod] = {}
    for name, value in items.items():
        string(name, f"{path}[{key_text(name)}]")
        out[name] = per_period(value, f"{path}.{name_text(name)}", periods, **AMOUNT)
    return out


def _demand_scenarios(raw: Any, periods: tuple[int, ...]) -> list[dict[str, Any]]:
    """Demand paths: unique names, probabilities > 0 summing to 1, each with ``demand`` or
    ``workloads`` (the same workload names in every scenario)."""
    items = sequence(raw, "demand_scenarios")
    if not items:
        fail("demand_scenarios", raw, "must list at least one scenario (or give demand)")
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k, item in enumerate(items):
        path = f"demand_scenarios[{k}]"
        scenario = parse_fields(mapping(item, path), path, DEMAND_SCENARIO_FIELDS, periods)
        if scenario["name"] in seen:
            fail(f"{path}.name", scenario["name"], f"is already the name of demand_scenarios[{seen[scenario['name']]}]")
        seen[scenario["name"]] = k
        if scenario["workloads"] is not None:
            if scenario["demand"] is not None:
                fail(f"{path}.workloads", _MISSING, "and demand are both given: give one or the other")
            scenario["workloads"] = _workloads(scenario["workloads"], periods, f"{path}.workloads")
        elif scenario["demand"] is None:
            fail(f"{path}.demand", _MISSING, "is required (or give workloads)")
        out.append(scenario)
    kinds = {s["workloads"] is None for s in out}
    if len(kinds) > 1:
        k = next(j for j, s in enumerate(out) if (s["workloads"] is None) != (out[0]["workloads"] is None))
        fail(
            f"demand_scenarios[{k}]",
            _MISSING,
            "gives demand where demand_scenarios[0] gives workloads (or the other way round): every "
            "scenario gives the same kind",
        )
    if out[0]["workloads"] is not None:
        names = list(out[0]["workloads"])
        for k, s in enumerate(out[1:], start=1):
            if list(s["workloads"]) != names and set(s["workloads"]) != set(names):
                fail(
                    f"demand_scenarios[{k}].workloads",
                    _MISSING,
                    f"names workloads {names_text(list(s['workloads']))}, demand_scenarios[0] names "
                    f"{names_text(names)}: every scenario names the same workloads",
                )
            s["workloads"] = {w: s["workloads"][w] for w in names}
    total = math.fsum(s["probability"] for s in out)
    if abs(total - 1.0) > PROBABILITY_TOL:
        fail("demand_scenarios", _MISSING, f"probabilities sum to {total:.12g}, not 1")
    return out


def _check_lots(problem: dict[str, Any]) -> None:
    """Every offer meets the peak demand with at most ``MAX_LOTS`` lots (see `procure.limits`)."""
    paths = problem["demand_scenarios"] or [problem]
    peak = max(max(s["demand"] if s["workloads"] is None else map(sum, zip(*s["workloads"].values()))) for s in paths)
    for k, offer in enumerate(problem["offers"]):
        lots = peak / (offer["compute"] * offer["lot_size"])
        if lots > MAX_LOTS:
            fail(
                f"offers[{k}].compute",
                offer["compute"],
                f"is too small for the demand: meeting the peak demand of {peak:g} would take {lots:.3g} lots of "
                f"{offer['lot_size']} units, more than the {MAX_LOTS:g} supported; allowed: compute × lot_size "
                f"of at least {peak / MAX_LOTS:.3g} (peak demand / {MAX_LOTS:g})",
            )


def _check_sites(problem: dict[str, Any]) -> None:
    """Site vendor lists name offer vendors; installed units sit where their vendor is hosted."""
    vendors = [v["name"] for v in problem["vendors"]]
    hosts: dict[str, tuple[str, ...]] = {}
    for k, site in enumerate(problem["sites"]):
        for j, vendor in enumerate(site["vendors"] or ()):
            if vendor not in vendors:
                fail(
                    f"sites[{k}].vendors[{j}]",
                    vendor,
                    f"is not the vendor of any offer (offers name: {names_text(vendors)})",
                )
        hosts[site["name"]] = site["vendors"] if site["vendors"] is not None else tuple(vendors)
    for k, offer in enumerate(problem["offers"]):
        if not isinstance(offer["installed"], dict):
            continue
        for site, units in offer["installed"].items():
            if units > 0 and offer["vendor"] not in hosts[site]:
                fail(
                    f"offers[{k}].installed.{name_text(site)}",
                    units,
                    f"units sit at a site that does not host {show(offer['vendor'])}",
                )


def _vendors(raw: Any, offers: list[dict[str, Any]], periods: tuple[int, ...]) -> list[dict[str, Any]]:
    named = list(dict.fromkeys(o["vendor"] for o in offers))
    given: dict[str, dict[str, Any]] = {}
    for k, item in enumerate(sequence(raw, "vendors")):
        path = f"vendors[{k}]"
        vendor = parse_fields(mapping(item, path), path, VENDOR_FIELDS, periods)
        name = vendor["name"]
        if name in given:
            fail(f"{path}.name", name, "is listed twice")
        if name not in named:
            fail(f"{path}.name", name, f"is not the vendor of any offer (offers name: {names_text(named)})")
        given[name] = vendor
    defaults = {key: spec.default for key, spec in VENDOR_FIELDS.items()}
    return [given.get(name, {**defaults, "name": name}) for name in named]


def validate_problem(raw: Any) -> dict[str, Any]:
    """Validate a problem mapping and return its normalized form.

    Parameters
    ----------
    raw : Mapping
        The problem as a mapping (see the problem format).

    Returns
    -------
    dict
        The normalized problem (see the module docstring).

    Raises
    ------
    ProblemError
        On the first invalid field, naming its path and value.
    """
    raw = mapping(raw, "problem")
    if "periods" not in raw:
        fail("periods", _MISSING, "is required")
    periods = parse_periods(raw["periods"])
    problem = parse_fields(raw, "", PROBLEM_FIELDS, periods)
    if problem["demand_scenarios"]:
        for key in ("demand", "workloads"):
            if problem[key] is not None:
                fail(key, _MISSING, "and demand_scenarios are both given: each scenario gives its own demand path")
        problem["demand_scenarios"] = _demand_scenarios(problem["demand_scenarios"], periods)
    elif problem["workloads"] is not None:
        if problem["demand"] is not None:
            fail("workloads", _MISSING, "and demand are both given: give one or the other")
        problem["workloads"] = _workloads(problem["workloads"], periods)
    elif problem["demand"] is None:
        fail("demand", _MISSING, "is required (or give workloads, or demand_scenarios)")
    problem["sites"] = _sites(problem["sites"], periods)
    if problem["power_build"] is not None and problem["sites"]:
        fail(
            "power_build",
            _MISSING,
            "is given at top level, but the problem has sites: give each site that can build its own power_build",
        )
    problem["power_build"] = _power_build(problem["power_build"], "power_build", periods)
    site_names = [site["name"] for site in problem["sites"]]
    workloads = problem["workloads"] or (problem["demand_scenarios"] or [{}])[0].get("workloads") or ()
    problem["offers"] = _offers(problem["offers"], periods, site_names, list(workloads))
    _check_lots(problem)
    problem["vendors"] = _vendors(problem["vendors"], problem["offers"], periods)
    _check_sites(problem)
    risk_raw = mapping(problem["risk"], "risk") if problem["risk"] is not None else {}
    risk = parse_fields(risk_raw, "risk", RISK_FIELDS, periods)
    risk["scenarios"] = _scenarios(risk["scenarios"], [v["name"] for v in problem["vendors"]], periods)
    problem["risk"] = risk
    _check_floors(problem, raw.get("vendors"))
    problem["options"] = _options(problem["options"], problem["offers"], periods)
    return problem


def _options(raw: Any, offers: list[dict[str, Any]], periods: tuple[int, ...]) -> list[dict[str, Any]]:
    """Capacity options: unique names, a known offer, a window inside the horizon, and an
    exercise price wherever the offer has no single unit cost (price tiers)."""
    by_name = {o["name"]: o for o in offers}
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k, item in enumerate(sequence(raw or [], "options")):
        path = f"options[{k}]"
        option = parse_fields(mapping(item, path), path, OPTION_FIELDS, periods)
        if option["name"] in seen:
            fail(f"{path}.name", option["name"], f"is already the name of options[{seen[option['name']]}]")
        seen[option["name"]] = k
        offer = by_name.get(option["offer"])
        if offer is None:
            fail(f"{path}.offer", option["offer"], f"is not an offer (offers: {names_text(list(by_name))})")
        option["reserve_period"] = option["reserve_period"] if option["reserve_period"] is not None else periods[0]
        option["exercise_until"] = option["exercise_until"] if option["exercise_until"] is not None else periods[-1]
        if option["exercise_until"] < option["reserve_period"]:
            fail(
                f"{path}.exercise_until",
                option["exercise_until"],
                f"is before reserve_period ({option['reserve_period']}): units are exercised after they are reserved",
            )
        if option["exercise_price"] is None:
            if offer["unit_cost"] is None:
                fail(
                    f"{path}.exercise_price",
                    _MISSING,
                    f"is required: offer {show(offer['name'])} has price tiers, not one unit_cost",
                )
            option["exercise_price"] = offer["unit_cost"]
        out.append(option)
    return out


def _check_floors(problem: dict[str, Any], raw_vendors: Any) -> None:
    """Share floors must fit under each vendor's cap and, together, under the whole."""
    position = {v["name"]: k for k, v in enumerate(sequence(raw_vendors or [], "vendors"))}
    floors = [v for v in problem["vendors"] if v["min_share"] > 0]
    for vendor in floors:
        cap = vendor["max_share"] if vendor["max_share"] is not None else problem["risk"]["max_share"]
        if vendor["min_share"] > cap:
            fail(
                f"vendors[{position[vendor['name']]}].min_share",
                vendor["min_share"],
                f"is above the max_share of {show(vendor['name'])} ({cap:g})",
            )
    total = sum(v["min_share"] for v in floors)
    if total > 1 + 1e-12:
        named = ", ".join(f"{v['name']} {v['min_share']:g}" for v in floors)
        fail("vendors", _MISSING, f"min_share sums to {total:g} over vendors ({named}), more than 1")


def _scenarios(raw: Any, vendors: list[str], periods: tuple[int, ...]) -> list[dict[str, Any]]:
    """Disruption scenarios: unique names, availabilities in [0, 1] of known vendors,
    periods among the problem's, probabilities summing to at most 1."""
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    known, listed_periods = frozenset(vendors), frozenset(periods)
    # thousands of scenarios are common: the fields are parsed directly, not through the table
    for k, item in enumerate(sequence(raw, "risk.scenarios")):
        path = f"risk.scenarios[{k}]"
        check_keys(mapping(item, path), path, SCENARIO_FIELDS)
        for key in ("name", "probability"):  # present but null
            if item[key] is None:
                fail(f"{path}.{key}", _MISSING, "is required")
        name = string(item["name"], f"{path}.name")
        probability = number(item["probability"], f"{path}.probability", **FRACTION)
        if name in seen:
            fail(f"{path}.name", name, f"is already the name of risk.scenarios[{seen[name]}]")
        if name == NOMINAL:
            fail(f"{path}.name", name, "is reserved for the undisrupted scenario")
        seen[name] = k
        availability = {}
        raw_availability = item.get("availability")
        for vendor, value in mapping(
            {} if raw_availability is None else raw_availability, f"{path}.availability"
        ).items():
            if vendor not in known:
                fail(
                    f"{path}.availability.{name_text(vendor)}",
                    _MISSING,
                    f"is not the vendor of any offer (offers name: {names_text(vendors)})",
                )
            availability[vendor] = number(value, f"{path}.availability.{name_text(vendor)}", **FRACTION)
        chosen: tuple[int, ...] | None = None
        if item.get("periods") is not None:
            listed = sequence(item["periods"], f"{path}.periods")
            chosen = tuple(integer(p, f"{path}.periods[{j}]", high=math.inf) for j, p in enumerate(listed))
            for j, p in enumerate(chosen):
                if p not in listed_periods:
                    fail(f"{path}.periods[{j}]", p, f"is not a period ({periods[0]}..{periods[-1]})")
                if p in chosen[:j]:
                    fail(f"{path}.periods[{j}]", p, "is listed twice")
        out.append({"name": name, "probability": probability, "availability": availability, "periods": chosen})
    total = sum(s["probability"] for s in out)
    if total > 1 + 1e-9:
        fail("risk.scenarios", _MISSING, f"probabilities sum to {total:g}, more than 1")
    return out
