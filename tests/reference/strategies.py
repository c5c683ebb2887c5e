"""Hypothesis strategies for raw `procure` problem dicts (contract v1).

- `problems(...)`: valid problems as a user would write them (JSON-like; per-period
  values are scalars, int-keyed or string-keyed mappings), small enough for CBC
  in well under a second.  Most are feasible, some are not.
- `tiny_problems(...)`: ≤ 2 offers × ≤ 3 periods (≤ 2 periods and ≤ 2 sites with
  `sites=True`) with small finite max_units (≤ max_lots·lot_size), so
  `bruteforce.brute_force(problem, max_lots)` is exact.
- Flags of both (section "Commercial terms, sites and workloads"; off, the
  problems are exactly those of before):
  `commercial` — some offers get `price_tiers` (2–3 tiers, falling or rising
  prices, sometimes per-period) with `discount` absent / "incremental" /
  "all_units"; some vendors get `min_spend` / `max_spend`;
  `sites` — 1–3 sites with optional per-period `power_cap_gw`, `pue`,
  per-period `electricity_price` and `vendors` lists; `installed` becomes a
  mapping {site: units} over sites hosting the vendor;
  `workloads` — `demand` is split into 1–3 workloads and offers get
  `efficiency` mappings (values 0, 0.5, 0.7, 1, 1.25);
  `vendor_rules` (contract v3) — some vendors (at least one) get `min_share`
  (0–0.3, at most their max_share, ≤ 0.6 summed) and / or `max_new_compute` (a
  multiple 0–4 of the demand, scalar or per period); see `_add_vendor_rules`.  Drawn
  last, so without the flag the problems are exactly those of before.
  `options` (contract v3, "capacity options") — 1–2 `options` on drawn offers (tiered
  ones always with an exercise_price), with reserve costs from free to dearer than the
  offer itself, exercise prices below or above the offer's, and sometimes a
  reserve_period / exercise_until window; tiny problems reserve at most 2 lots (their
  max_units sometimes not a whole number of lots) and stay within the brute force's
  budget (`tiny_work` counts the options' plans); see `_add_options`.  Drawn after
  everything else (vendor rules included).
- `invalid_problems()`: ``(problem, path_fragment)``: a valid problem with exactly
  one mutation the spec makes invalid; `path_fragment` must appear in the error
  message.  Fragments are field paths as in "offers[1].unit_cost",
  "risk.max_share", "vendors[0].name", "risk.scenarios[0].availability"
  (0-based list indices, dots between levels), except: an unknown field gives the
  misspelt key itself (e.g. "unit_cst"), and duplicate offer names give the
  duplicated name (the offending value).  Mutations of the new fields
  (`NEW_MUTATIONS`, on bases using them): both or neither of unit_cost /
  price_tiers -> "offers[i]"; tier errors -> "offers[i].price_tiers[k].from_units"
  / ".unit_cost" (first tier not at 0, from_units not rising, bad values) or
  "offers[i].price_tiers" (not a list); unknown discount -> "offers[i].discount";
  bad installed with sites (plain number, unknown or non-hosting site, bad
  count) or a mapping without sites -> "offers[i].installed"; site vendor not
  used by any offer -> "sites[j].vendors"; duplicate site name -> "sites[j].name"
  (j the later one); bad site values -> "sites[j].<field>"; `sites` not a list
  -> "sites"; demand and workloads both, or bad workloads -> "workloads";
  neither -> "demand"; efficiency naming an unknown workload, negative or not a
  mapping -> "offers[i].efficiency"; bad min_spend / max_spend ->
  "vendors[j].min_spend" / ".max_spend".  Empty `sites` / `workloads` /
  `price_tiers` are not generated (the spec does not settle them).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

VENDOR_NAMES = ["nvidia", "amd", "google", "intel", "cerebras"]
OFFER_STEMS = ["h100", "mi300", "tpu-v6", "gaudi3", "wse3", "b200", "tpu-v7", "mi355"]


def _nice(x: float) -> float | int:
    """Round to 6 significant figures; integral values become ints (JSON-like)."""
    y = float(f"{x:.6g}")
    return int(y) if y.is_integer() else y


def _encode(draw, periods: list[int], values: list[Any]) -> Any:
    """A per-period value as a user writes it: scalar, {int: v} or {"2026": v}."""
    if all(v == values[0] for v in values) and draw(st.booleans()):
        return values[0]
    if draw(st.booleans()):
        return {p: v for p, v in zip(periods, values)}
    return {str(p): v for p, v in zip(periods, values)}


def _per_period_values(draw, periods: list[int], elem: st.SearchStrategy) -> list[Any]:
    if draw(st.booleans()):
        return [draw(elem)] * len(periods)
    return [draw(elem) for _ in periods]


# --------------------------------------------------------------------------- #
# Valid problems
# --------------------------------------------------------------------------- #
@st.composite
def _offer(draw, i: int, vendor: str, periods: list[int], small: bool, tiny_lots: int | None) -> dict:
    T = len(periods)
    o: dict[str, Any] = {"name": f"{OFFER_STEMS[i % len(OFFER_STEMS)]}-{i}", "vendor": vendor}
    if small:
        compute = draw(st.integers(1, 5))
        cost_elem = st.integers(1, 10)
        lot = draw(st.integers(1, 3))
        power = draw(st.sampled_from([0, 0.5, 1, 2]))
        opex = draw(st.integers(0, 3))
    else:
        compute = draw(st.sampled_from([100, 250, 800, 1000, 2500, 5000]))
        cost_elem = st.integers(10_000, 50_000)
        lot = draw(st.sampled_from([1, 4, 8, 32, 64]))
        power = draw(st.sampled_from([0.5, 0.7, 1.0, 1.2, 1.5, 2.0]))
        opex = draw(st.sampled_from([500, 1200, 5000]))
    o["unit_cost"] = _encode(draw, periods, _per_period_values(draw, periods, cost_elem))
    o["compute"] = compute if draw(st.booleans()) else float(compute)
    if draw(st.booleans()):
        o["power_kw"] = power
    if draw(st.booleans()):
        o["opex_per_year"] = opex
    if lot != 1 or draw(st.booleans()):
        o["lot_size"] = lot
    if draw(st.integers(0, 2)) == 0:
        o["min_order"] = draw(st.integers(0, 3 * lot))
    if tiny_lots is not None:
        # Offer 0 can always buy at least one admissible lot (so demand > 0 is
        # coverable); the others may have periods without supply.
        lo = lot * -(-max(lot, o.get("min_order", 0)) // lot)
        choices = list(range(lo, tiny_lots * lot + 1)) if i == 0 else []
        choices = choices or [0, *list(range(1, tiny_lots * lot + 1))]
        o["max_units"] = _encode(draw, periods, _per_period_values(draw, periods, st.sampled_from(choices)))
    elif draw(st.integers(0, 3)) == 0:
        lots = st.integers(1, 6) if small else st.integers(5, 120)
        o["max_units"] = _encode(draw, periods, [lot * x for x in _per_period_values(draw, periods, lots)])
    if draw(st.booleans()):
        o["lifetime"] = draw(st.integers(1, 4))
    lead = draw(
        st.sampled_from([0] if i == 0 and tiny_lots is not None else [0, 0, 0, 0, 1] if i == 0 else [0, 0, 0, 1, 2])
    )
    if lead or draw(st.booleans()):
        o["lead_time"] = lead
    # Installed units (amount set in _problem, once demand is known): likelier for
    # offers with a lead time, which cannot cover period 0 otherwise.
    if draw(st.integers(0, 2) if lead == 0 else st.integers(0, 4)) >= 2:
        o["installed"] = 0  # placeholder
        if draw(st.booleans()):
            o["installed_life"] = draw(st.integers(max(1, lead), T + 1))
    return o


def _as_list(value: Any, periods: list[int]) -> list[float]:
    if isinstance(value, dict):
        return [float(value[p] if p in value else value[str(p)]) for p in periods]
    return [float(value)] * len(periods)


def _tiny_capacity(o: dict, periods: list[int]) -> list[float]:
    """Compute this offer can surely provide in each period on its own (tiny mode)."""
    lot, life = o.get("lot_size", 1), o.get("installed_life", o.get("lifetime"))
    out = []
    for t, mu in enumerate(_as_list(o["max_units"], periods)):
        units = o.get("installed", 0) if (life is None or t < life) else 0
        if o.get("lead_time", 0) == 0:
            bought = (mu // lot) * lot
            units += bought if bought >= o.get("min_order", 0) else 0
        out.append(float(o["compute"]) * units)
    return out


def _costs(o: dict, periods: list[int]) -> list[float]:
    return _as_list(o["unit_cost"], periods)


def _first_prices(o: dict, periods: list[int]) -> list[float]:
    """unit_cost, or the first tier's price with price_tiers."""
    return _as_list(o["unit_cost"] if "unit_cost" in o else o["price_tiers"][0]["unit_cost"], periods)


@st.composite
def _problem(
    draw,
    max_offers: int,
    max_periods: int,
    risk: bool,
    scenarios: bool,
    hhi: bool,
    tiny_lots: int | None,
    commercial: bool = False,
    sites: bool = False,
    workloads: bool = False,
    unserved: bool = False,
    power_build: bool = False,
    demand_scenarios: bool = False,
    vendor_rules: bool = False,
    options: bool = False,
) -> dict:
    T = draw(st.integers(2 if demand_scenarios and max_periods > 1 else 1, max_periods))  # trees need 2 periods
    start = draw(st.sampled_from([2026, 2025, 2030, 0, 1]))
    periods = list(range(start, start + T))
    small = tiny_lots is not None or draw(st.booleans())
    n_offers = draw(st.integers(1, max_offers))
    n_vendors = draw(st.integers(1, min(n_offers, 3)))
    vnames = list(draw(st.permutations(VENDOR_NAMES)))[:n_vendors]
    vendor_of = vnames + [draw(st.sampled_from(vnames)) for _ in range(n_offers - n_vendors)]
    offers = [draw(_offer(i, vendor_of[i], periods, small, tiny_lots)) for i in range(n_offers)]

    prob: dict[str, Any] = {}
    if draw(st.booleans()):
        prob["name"] = draw(st.sampled_from(["plan", "gigawatt", "test-case"]))
    prob["periods"] = periods

    # Demand: tiny instances stay within what the offers can surely supply (before
    # risk terms); realistic ones need tens of lots.  Installed units are sized
    # against the first period's demand.
    lot0, comp0 = offers[0].get("lot_size", 1), float(offers[0]["compute"])
    if tiny_lots is not None:
        for o in offers:
            if "installed" in o:
                o["installed"] = draw(st.integers(1, 4))
        cap = [sum(c) for c in zip(*(_tiny_capacity(o, periods) for o in offers))]

        # mostly a good part of the capacity, sometimes 0 (with unserved demand also above it)
        fractions = (0.4, 0.5, 0.6, 0.75, 0.9, 1.0) * 2 + ((1.25, 1.5) if unserved else ())

        def level(c: float) -> int:
            return draw(st.sampled_from([0] + [math.ceil(c * f) for f in fractions]))

        def scenario_level(t: int) -> int:
            return level(cap[t])

        if draw(st.booleans()):
            demand = [level(min(cap))] * T
        else:
            demand = [level(c) for c in cap]
    else:
        if small:
            demand = _per_period_values(draw, periods, st.integers(0, int(comp0 * lot0 * 6)))
        else:
            base = draw(st.integers(10, 60)) * lot0 * comp0
            growth = draw(st.sampled_from([1.0, 1.1, 1.25, 1.5]))
            demand = [_nice(base * growth**t) for t in range(T)]
            if T > 1 and draw(st.integers(0, 5)) == 0:
                demand[0] = 0

        def scenario_level(t: int) -> float | int:
            return _nice(float(demand[t]) * draw(st.sampled_from([0.6, 0.8, 1.0, 1.0, 1.25, 1.5])))

        for o in offers:
            if "installed" in o:
                frac = draw(st.sampled_from([0.2, 0.5, 1.0]))
                lot = o.get("lot_size", 1)
                o["installed"] = max(1, math.ceil(frac * float(demand[0]) / float(o["compute"]) / lot)) * lot
    prob["demand"] = _encode(draw, periods, demand)
    prob["offers"] = offers
    dmax = max(float(d) for d in demand)

    pue = draw(st.sampled_from([None, 1.0, 1.1, 1.25, 1.5]))
    if pue is not None:
        prob["pue"] = pue
    # Power cap: enough for the most power-hungry way to meet demand, times a factor.
    if draw(st.integers(0, 2)) == 0:
        kw_per_compute = max(o.get("power_kw", 0) / float(o["compute"]) for o in offers)
        installed_kw = sum(o.get("power_kw", 0) * o.get("installed", 0) for o in offers)
        slack_kw = max(o.get("power_kw", 0) * o.get("lot_size", 1) for o in offers) * n_offers
        need_kw = (pue or 1.0) * (dmax * kw_per_compute + installed_kw + slack_kw)
        factor = draw(st.sampled_from([0.7, 1.2, 2.0, 3.0]))
        caps = [_nice(max(need_kw, 1.0) * factor * draw(st.sampled_from([1.0, 1.0, 1.5])) / 1e6) for _ in periods]
        prob["power_cap_gw"] = _encode(draw, periods, caps)
    if draw(st.booleans()):
        price = st.integers(0, 100) if small else st.sampled_from([30, 45, 60, 85, 120])
        prob["electricity_price"] = _encode(draw, periods, _per_period_values(draw, periods, price))
    # Budgets: capex of meeting peak demand with the dearest offer, times a factor.
    cost_per_compute = max(max(_costs(o, periods)) / float(o["compute"]) for o in offers)
    lot_cost = max(max(_costs(o, periods)) * max(o.get("lot_size", 1), o.get("min_order", 0)) for o in offers)
    need_capex = dmax * cost_per_compute + lot_cost * n_offers
    if draw(st.integers(0, 2)) == 0:
        factor = draw(st.sampled_from([0.6, 1.0, 1.5, 3.0]))
        prob["budget"] = _encode(draw, periods, [_nice(need_capex * factor) for _ in periods])
    if draw(st.integers(0, 2)) == 0:
        prob["total_budget"] = _nice(need_capex * T * draw(st.sampled_from([0.5, 1.0, 2.0])))
    if draw(st.booleans()):
        prob["discount_rate"] = draw(st.sampled_from([0, 0.03, 0.05, 0.1]))

    # vendors list: some vendors with per-vendor terms.
    if draw(st.booleans()):
        entries = []
        for v in draw(st.lists(st.sampled_from(vnames), unique=True)):
            e: dict[str, Any] = {"name": v}
            if draw(st.booleans()):
                e["onboarding_cost"] = draw(st.integers(0, 20) if small else st.integers(100_000, 5_000_000))
            if draw(st.booleans()):
                e["max_share"] = draw(st.sampled_from([0.5, 0.6, 0.75, 1.0] if n_vendors > 1 else [1.0]))
            entries.append(e)
        prob["vendors"] = entries

    r: dict[str, Any] = {}
    if risk:
        if draw(st.booleans()):
            r["max_share"] = draw(st.sampled_from([0.5, 0.6, 0.7, 0.8, 1.0] if n_vendors > 1 else [1.0] * 5 + [0.9]))
        if draw(st.booleans()):
            r["min_vendors"] = draw(st.integers(0, n_vendors))
        if draw(st.booleans()):
            r["min_vendor_share"] = draw(st.sampled_from([0.05, 0.1, 0.2, 0.3]))
        if n_vendors > 1 and draw(st.booleans()):
            r["survive_vendor_loss"] = draw(st.sampled_from([0, 0.25, 0.5, 0.8]))
    if scenarios:
        scen = []
        for k in range(draw(st.integers(1, 3))):
            s: dict[str, Any] = {"name": f"s{k}", "probability": draw(st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.3]))}
            s["availability"] = {
                v: draw(st.sampled_from([0, 0.25, 0.5, 0.8, 1.0]))
                for v in draw(st.lists(st.sampled_from(vnames), min_size=1, unique=True))
            }
            if draw(st.booleans()):
                s["periods"] = sorted(draw(st.lists(st.sampled_from(periods), min_size=1, unique=True)))
            scen.append(s)
        r["scenarios"] = scen
        r["shortfall_penalty"] = draw(st.sampled_from([0, 1, 5, 20] if small else [0, 50, 500, 5000]))
        if draw(st.booleans()):
            r["cvar_alpha"] = draw(st.sampled_from([0, 0.5, 0.9, 0.95]))
        if draw(st.booleans()):
            r["risk_weight"] = draw(st.sampled_from([0, 0.5, 1, 2]))
        if draw(st.integers(0, 2)) == 0:
            r["max_cvar"] = draw(st.sampled_from([0, 5, 50, 500] if small else [0, 1e3, 1e6, 1e9]))
    if hhi:
        if draw(st.booleans()):
            r["hhi_weight"] = draw(st.sampled_from([0, 1, 10] if small else [0, 1e4, 1e6]))
        if draw(st.booleans()):
            r["max_hhi"] = draw(st.sampled_from([0.5, 0.6, 0.8, 1.0]))
    if r or draw(st.booleans()):
        prob["risk"] = r

    # Section "Commercial terms, sites and workloads" (every draw behind a flag).
    if commercial:
        _add_commercial(draw, prob, periods, small, tiny_lots, dmax, need_capex, vnames)
    if sites:
        _add_sites(draw, prob, periods, small, tiny_lots, dmax, vnames)
    if workloads:
        _add_workloads(draw, prob, periods, demand, tiny_lots is not None)
    # Contract v2 (every draw behind a flag).
    if unserved:
        penalty = [0, 0.5, 2, 5, 20] if small else [0, 0.2, 0.5, 1, 3, 10]
        cost_per_compute = min(min(_first_prices(o, periods)) / float(o["compute"]) for o in offers)
        prob["unserved_penalty"] = _nice(max(1.0, cost_per_compute) * draw(st.sampled_from(penalty)))
    if power_build:
        _add_power_build(draw, prob, periods, small, tiny_lots, dmax)
    if demand_scenarios:
        _add_demand_scenarios(draw, prob, periods, tiny_lots, scenario_level)
    if tiny_lots is not None and (power_build or demand_scenarios):
        _tiny_shrink(prob, tiny_lots)
    # Contract v3's two vendor rules (behind a flag).
    if vendor_rules:
        _add_vendor_rules(draw, prob, periods, demand, vnames)
    # Contract v3's capacity options (behind a flag, drawn last).
    if options:
        _add_options(draw, prob, periods, tiny_lots, dmax)
    return prob


# --------------------------------------------------------------------------- #
# Contract v3: capacity options
# --------------------------------------------------------------------------- #
OPTION_NAMES = ["up-to", "reserve", "call"]
OPTION_RESERVE_FACTORS = [0, 0.05, 0.2, 0.5, 1.5]  # reserve_cost per unit, times the offer's lowest price
OPTION_PRICE_FACTORS = [0.5, 0.7, 0.8, 1.0, 1.25]  # exercise_price per unit, times the offer's price
OPTION_SIZES = [0.1, 0.25, 0.5, 1.0, 2.0]  # max_units, times the units of the offer that meet peak demand


def _add_options(draw, prob: dict, periods: list[int], tiny_lots: int | None, dmax: float) -> None:
    """1–2 options on drawn offers (two may share one).  max_units: tiny 0–2 lots (sometimes one
    unit more than whole lots), else a fraction of the units that meet peak demand; reserve_cost
    (maybe absent) from 0 to 1.5x the offer's lowest price, so the option is sometimes worth it and
    sometimes not; exercise_price (always for an offer with price_tiers, else maybe) 0.5–1.25x the
    offer's (first tier's) price, one number or per period; reserve_period / exercise_until maybe
    given, the window never empty.  An offer without max_units sometimes gets one (a part of the
    units that meet peak demand, whole lots): the option then adds scarce supply.  Tiny problems
    are then shrunk to the brute force's budget."""
    offers = prob["offers"]
    T = len(periods)
    entries = []
    for k in range(draw(st.integers(1, 2))):
        i = draw(st.integers(0, len(offers) - 1))
        o = offers[i]
        lot = o.get("lot_size", 1)
        x: dict[str, Any] = {"name": f"{OPTION_NAMES[k]}-{o['name']}", "offer": o["name"]}
        if tiny_lots is not None:
            x["max_units"] = draw(st.sampled_from([0, 1, 1, 2, 2])) * lot + (draw(st.integers(0, 3)) == 0 and lot > 1)
        else:
            need = dmax / float(o["compute"])
            x["max_units"] = max(lot, lot * round(need * draw(st.sampled_from(OPTION_SIZES)) / lot))
            if "max_units" not in o and draw(st.integers(0, 2)) == 0:
                # supply beyond the option is scarce: the offer's own max_units a part of peak need
                o["max_units"] = lot * max(1, round(need * draw(st.sampled_from([0.25, 0.5])) / lot))
        prices = _first_prices(o, periods)
        if draw(st.integers(0, 3)) > 0:
            x["reserve_cost"] = _nice(min(prices) * draw(st.sampled_from(OPTION_RESERVE_FACTORS)))
        if "price_tiers" in o or draw(st.integers(0, 3)) > 0:
            if draw(st.booleans()):
                x["exercise_price"] = _nice(max(prices) * draw(st.sampled_from(OPTION_PRICE_FACTORS)))
            else:
                values = [_nice(c * draw(st.sampled_from(OPTION_PRICE_FACTORS))) for c in prices]
                x["exercise_price"] = _encode(draw, periods, values)
        start = draw(st.integers(0, T - 1)) if draw(st.booleans()) else 0
        if start > 0 or draw(st.integers(0, 3)) == 0:
            x["reserve_period"] = periods[start]
        if draw(st.booleans()):
            x["exercise_until"] = periods[draw(st.integers(start, T - 1))]
        entries.append(x)
    prob["options"] = entries
    if tiny_lots is not None:
        _tiny_shrink_options(prob, tiny_lots)


def _option_work(prob: dict, x: dict, periods: list[int], sites: list[dict]) -> tuple[list[int], int]:
    """(choices of option `x` at a node of each period, its admissible (reservation, exercises) plans).

    R lots reserved (0..top) at its reserve_period; in each of the W window periods a number of
    lots spread over the H hosting sites.  Plans with Σ exercised <= R: Σ_R C(R + W·H, W·H)."""
    offer = next(o for o in prob["offers"] if o["name"] == x["offer"])
    top = x["max_units"] // offer.get("lot_size", 1)
    start = x.get("reserve_period", periods[0])
    until = x.get("exercise_until", periods[-1])
    hosts = sum(1 for s in sites if _hosting(s, offer["vendor"])) or (0 if prob.get("sites") else 1)
    window = [p for p in periods if start <= p <= until]
    spreads = sum(math.comb(k + hosts - 1, hosts - 1) for k in range(top + 1)) if hosts else 1
    per_node = [(top + 1 if p == start else 1) * (spreads if p in window else 1) for p in periods]
    slots = len(window) * hosts
    return per_node, sum(math.comb(r + slots, slots) for r in range(top + 1))


def _tiny_shrink_options(prob: dict, max_lots: int) -> None:
    """Keep the brute force within TINY_EVALUATIONS (and TINY_COMBINATIONS): options down to one
    lot each, then one option, then `_tiny_shrink`."""
    for step in ("one_lot", "one_option"):
        evaluations, combos = tiny_work(prob, max_lots)
        weight = (prob.get("risk") or {}).get("scenario_cvar_weight", 0)
        if evaluations <= TINY_EVALUATIONS and (not weight or combos <= TINY_COMBINATIONS):
            return
        if step == "one_lot":
            for x in prob["options"]:
                lot = next(o for o in prob["offers"] if o["name"] == x["offer"]).get("lot_size", 1)
                x["max_units"] = min(x["max_units"], lot)
        else:
            del prob["options"][1:]
    _tiny_shrink(prob, max_lots)


# --------------------------------------------------------------------------- #
# Contract v3: two vendor rules
# --------------------------------------------------------------------------- #
MIN_SHARES = [0, 0.05, 0.1, 0.2, 0.3]
MIN_SHARE_ROOM = 0.6  # most min_share summed over vendors in valid draws (mostly feasible)
ALLOCATION_FACTORS = [0, 0.5, 1, 1, 1.5, 2, 4]  # max_new_compute as a multiple of demand
VENDOR_RULE_KINDS = ["none", "min_share", "max_new_compute", "both"]


def _add_vendor_rules(draw, prob: dict, periods: list[int], demand: list[Any], vnames: list[str]) -> None:
    """Each vendor gets min_share, max_new_compute, both or neither (at least one vendor one
    of them): min_share from MIN_SHARES, at most the vendor's max_share, summing to at most
    MIN_SHARE_ROOM; max_new_compute a multiple of the largest demand as one number, or of
    each period's demand (at least half the largest) per period."""
    entries = prob.setdefault("vendors", [])
    risk_cap = (prob.get("risk") or {}).get("max_share", 1.0)
    levels = [float(d) for d in demand]
    dmax = max(levels)
    room = MIN_SHARE_ROOM
    kinds = [draw(st.sampled_from(VENDOR_RULE_KINDS)) for _ in vnames]
    if all(k == "none" for k in kinds):
        kinds[draw(st.integers(0, len(vnames) - 1))] = draw(st.sampled_from(VENDOR_RULE_KINDS[1:]))
    for v, kind in zip(vnames, kinds):
        if kind == "none":
            continue
        e = next((e for e in entries if e["name"] == v), None)
        if e is None:
            e = {"name": v}
            entries.append(e)
        if kind in ("min_share", "both"):
            cap = e.get("max_share", risk_cap)
            share = draw(st.sampled_from([x for x in MIN_SHARES if x <= min(cap, room + 1e-12)]))
            e["min_share"] = share
            room -= share
        if kind in ("max_new_compute", "both"):
            if draw(st.booleans()):
                e["max_new_compute"] = _nice(dmax * draw(st.sampled_from(ALLOCATION_FACTORS)))
            else:
                values = [_nice(max(d, dmax / 2) * draw(st.sampled_from(ALLOCATION_FACTORS))) for d in levels]
                e["max_new_compute"] = _encode(draw, periods, values)
    if not entries:
        del prob["vendors"]


# --------------------------------------------------------------------------- #
# Contract v2: power build-out, demand scenarios
# --------------------------------------------------------------------------- #
def _power_build_entry(draw, periods: list[int], small: bool, tiny: bool, need_gw: float, cost_per_kw: float) -> dict:
    """A `power_build` sized against `need_gw` (the power the fleet may need at that level)."""
    pb: dict[str, Any] = {}
    factor = draw(st.sampled_from([0, 0.1, 0.5, 1.0, 2.0]))
    base = cost_per_kw * 1e6 * factor  # $/GW, against the offers' $ per kW of IT power
    falling = draw(st.booleans())
    values = [_nice(base * (0.8**t if falling else 1.0)) for t in range(len(periods))]
    pb["cost_per_gw"] = _encode(draw, periods, values)
    block = None
    if tiny or draw(st.booleans()):
        block = _nice(need_gw * draw(st.sampled_from([0.5, 1.0] if tiny else [0.1, 0.25, 0.5])))
        pb["block_gw"] = block
    if tiny:
        # 0..2 blocks a period (in the first period enough for `need_gw`)
        first = 2 if block < need_gw else draw(st.integers(1, 2))
        counts = [first] + [draw(st.integers(0, 2)) for _ in periods[1:]]
        pb["max_gw"] = _encode(draw, periods, [_nice(block * c) for c in counts])
    elif draw(st.booleans()):
        unit = block if block is not None else need_gw
        counts = _per_period_values(draw, periods, st.sampled_from([0, 1, 2, 4] if block is None else [1, 3, 6, 10]))
        pb["max_gw"] = _encode(draw, periods, [_nice(unit * c) for c in counts])
    lead = draw(st.sampled_from([0, 0, 1] if tiny else [0, 0, 1, 2]))
    if lead or draw(st.booleans()):
        pb["lead_time"] = lead
    if draw(st.booleans()):
        fixed = [0, 1, 5, 20] if small else [0, base * need_gw * 0.05, base * need_gw * 0.5, 1e6]
        pb["fixed_cost"] = _encode(draw, periods, _per_period_values(draw, periods, st.sampled_from(fixed)))
    return pb


def _add_power_build(draw, prob: dict, periods: list[int], small: bool, tiny_lots: int | None, dmax: float) -> None:
    """Top-level power_build without sites; with sites some sites get one (maybe without a cap of their own)."""
    offers = prob["offers"]
    for o in offers:  # builds matter only with power: give some offers a power draw
        if "power_kw" not in o and draw(st.booleans()):
            o["power_kw"] = draw(st.sampled_from([0.5, 1, 2] if small else [0.7, 1.0, 1.5]))
    if all(not o.get("power_kw") for o in offers):
        offers[0]["power_kw"] = 1
    kw_per_compute = max(o.get("power_kw", 0) / float(o["compute"]) for o in offers)

    def installed(o: dict) -> float:
        inst = o.get("installed", 0)
        return float(sum(inst.values()) if isinstance(inst, dict) else inst)

    installed_kw = sum(o.get("power_kw", 0) * installed(o) for o in offers)

    def installed_gw(site: str | None, site_pue: float) -> float:
        """Facility power of the installed units (at `site`), which a late build cannot cover."""
        kw = 0.0
        for o in offers:
            inst = o.get("installed", 0)
            units = inst.get(site, 0) if isinstance(inst, dict) else (inst if site is None else 0)
            kw += o.get("power_kw", 0) * units
        return site_pue * kw / 1e6

    with_power = [o for o in offers if o.get("power_kw")]
    cost_per_kw = min(min(_first_prices(o, periods)) / o["power_kw"] for o in with_power)
    pue = prob.get("pue") or 1.0
    need_gw = max(pue * (dmax * kw_per_compute + installed_kw), 1.0) / 1e6
    tiny = tiny_lots is not None
    if "sites" not in prob:
        pb = prob["power_build"] = _power_build_entry(draw, periods, small, tiny, need_gw, cost_per_kw)
        cap = prob.get("power_cap_gw")
        held = installed_gw(None, pue) if pb.get("lead_time", 0) else 0.0
        choice = draw(st.sampled_from(["keep", "none", "part"]))
        if choice == "none" and held == 0:
            prob.pop("power_cap_gw", None)  # every GW must be built
        elif choice in ("part", "none") or cap is None:
            factor = draw(st.sampled_from([0.25, 0.5, 0.75]))
            prob["power_cap_gw"] = _encode(draw, periods, [_nice(max(need_gw * factor, 1.01 * held))] * len(periods))
        return
    sites = prob["sites"]
    chosen = draw(st.lists(st.integers(0, len(sites) - 1), min_size=1, max_size=len(sites), unique=True))
    for j in chosen:
        site_pue = sites[j].get("pue") or pue
        pb = _power_build_entry(draw, periods, small, tiny, need_gw * site_pue / pue, cost_per_kw)
        sites[j]["power_build"] = pb
        held = installed_gw(sites[j]["name"], site_pue) if pb.get("lead_time", 0) else 0.0
        if held == 0 and draw(st.integers(0, 2)) == 0:
            sites[j].pop("power_cap_gw", None)  # reading: given cap 0 at this site


DEMAND_SCENARIO_NAMES = ["low", "base", "high", "surge"]
# Branch probabilities (each sums to 1; products of them stay within 1e-9 of summing to 1).
BRANCH_FRACTIONS = {
    1: [(1.0,)],
    2: [(0.5, 0.5), (0.25, 0.75), (0.3, 0.7), (0.4, 0.6)],
    3: [(0.25, 0.25, 0.5), (0.2, 0.3, 0.5), (0.125, 0.375, 0.5)],
}


def _add_demand_scenarios(
    draw, prob: dict, periods: list[int], tiny_lots: int | None, level: Callable[[int], float]
) -> None:
    """`demand` (or `workloads`) becomes a scenario tree with shared history.

    Each period every node splits into 1–3 branches (period 0 usually not), each
    branch drawing its own demand for that period from `level(t)`, so paths are
    equal up to the period where they branch (and sometimes equal throughout); at
    most 4 leaves (3 tiny).  With workloads every node splits its total into the
    same workload names, usually with the base weights, sometimes its own.
    """
    T = len(periods)
    max_leaves = 3 if tiny_lots is not None else 4
    wl_names = list(prob["workloads"]) if "workloads" in prob else None
    tiny = tiny_lots is not None

    def node_value(t: int) -> Any:
        total = level(t)
        if wl_names is None:
            return total
        weights = [1] * len(wl_names) if draw(st.booleans()) else [draw(st.sampled_from([1, 2, 3])) for _ in wl_names]
        return _split_demand(float(total), wl_names, weights, tiny)

    leaves: list[tuple[float, list[Any]]] = [(1.0, [])]
    for t in range(T):
        grown: list[tuple[float, list[Any]]] = []
        for k, (prob_k, path) in enumerate(leaves):
            room = max_leaves - len(grown) - (len(leaves) - k - 1)
            branches = 1
            if room > 1 and (t > 0 or draw(st.integers(0, 3)) == 0):
                last_chance = t == T - 1 and len(leaves) == 1 and draw(st.integers(0, 4)) > 0
                branches = min(room, draw(st.sampled_from([2, 2, 3] if last_chance else [1, 2, 2, 3])))
            for f in draw(st.sampled_from(BRANCH_FRACTIONS[branches])):
                grown.append((prob_k * f, [*path, node_value(t)]))
        leaves = grown
    scen = []
    for k, (p_k, path) in enumerate(leaves):
        entry: dict[str, Any] = {"name": DEMAND_SCENARIO_NAMES[k], "probability": _nice(p_k)}
        if wl_names is None:
            entry["demand"] = _encode(draw, periods, path)
        else:
            entry["workloads"] = {w: _encode(draw, periods, [node[w] for node in path]) for w in wl_names}
        scen.append(entry)
    prob.pop("demand", None)
    prob.pop("workloads", None)
    prob["demand_scenarios"] = scen
    if draw(st.integers(0, 2)) > 0:
        r = prob.setdefault("risk", {})
        if draw(st.integers(0, 2)) > 0:
            r["scenario_cvar_weight"] = draw(st.sampled_from([0, 0.5, 1, 2]))
        if draw(st.booleans()):
            r["scenario_cvar_alpha"] = draw(st.sampled_from([0, 0.5, 0.8, 0.9]))


def _split_demand(d: float, names: list[str], weights: list[int], tiny: bool) -> dict[str, Any]:
    """`d` split into workloads by weight (the last takes the rest; whole numbers when tiny)."""
    out: dict[str, Any] = {}
    left = d
    for k, w in enumerate(names):
        if k + 1 == len(names):
            part = left
        else:
            part = d * weights[k] / sum(weights)
            part = math.floor(part) if tiny else _nice(part)
            left -= part
        out[w] = _nice(max(0.0, part))
    return out


TINY_EVALUATIONS = 2500  # plans the brute force checks (memoized per scenario path)
TINY_COMBINATIONS = 40_000  # full assignments it enumerates when a scenario CVaR couples the leaves


def tiny_work(prob: dict, max_lots: int) -> tuple[int, int]:
    """(plans the brute force evaluates, assignments it enumerates with a scenario CVaR) -- estimates."""
    periods = _periods(prob)
    sites = prob.get("sites") or [{}]
    per_period = []
    for t in range(len(periods)):
        size = 1
        for o in prob["offers"]:
            lot = o.get("lot_size", 1)
            lots = max_lots
            if "max_units" in o:
                lots = min(lots, int(_as_list(o["max_units"], periods)[t] // lot))
            hosts = sum(1 for s in sites if _hosting(s, o["vendor"])) or 1
            size *= sum(math.comb(k + hosts - 1, hosts - 1) for k in range(lots + 1))
        builds = (
            [prob["power_build"]] if "power_build" in prob else [s["power_build"] for s in sites if "power_build" in s]
        )
        for pb in builds:
            size *= int(_as_list(pb["max_gw"], periods)[t] / float(pb["block_gw"]) + 1e-9) + 1
        per_period.append(size)
    paths = math.prod(per_period)
    option_nodes = [1] * len(periods)  # the options' choices at a node of each period
    for x in prob.get("options") or []:
        per_node, plans = _option_work(prob, x, periods, prob.get("sites") or [])
        paths *= plans  # (the brute force prunes exercises beyond the reservation)
        option_nodes = [a * b for a, b in zip(option_nodes, per_node)]
    scen = prob.get("demand_scenarios")
    if not scen:
        return paths, paths
    # Nodes of the tree by period: distinct histories.
    nodes = []
    for t in range(len(periods)):
        histories = set()
        for s in scen:
            value = s.get("demand", s.get("workloads"))
            histories.add(repr([_at(value, periods, q) for q in periods[: t + 1]]))
        nodes.append(len(histories))
    combos = math.prod((per_period[t] * option_nodes[t]) ** nodes[t] for t in range(len(periods)))
    return nodes[-1] * paths, combos


def _at(value: Any, periods: list[int], period: int) -> Any:
    """A scenario's demand (or {workload: demand}) in `period`."""
    if isinstance(value, dict) and all(isinstance(v, (dict, int, float)) for v in value.values()):
        keys = {str(k) for k in value}
        if keys <= {str(p) for p in periods} and len(keys) == len(periods):  # a per-period mapping
            return float(value[period] if period in value else value[str(period)])
        return {w: _at(v, periods, period) for w, v in value.items()}  # workloads
    return float(value)


def _tiny_shrink(prob: dict, max_lots: int) -> None:
    """Keep the brute force small: builds of one block a period, then no scenario CVaR, then 1 lot of later offers."""
    evaluations, combos = tiny_work(prob, max_lots)
    weight = (prob.get("risk") or {}).get("scenario_cvar_weight", 0)
    if evaluations <= TINY_EVALUATIONS and (not weight or combos <= TINY_COMBINATIONS):
        return
    periods = _periods(prob)
    for pb in [prob.get("power_build")] + [s.get("power_build") for s in prob.get("sites", [])]:
        if pb is not None:
            block = float(pb["block_gw"])
            pb["max_gw"] = _encode_like(pb["max_gw"], periods, [min(m, block) for m in _as_list(pb["max_gw"], periods)])
    evaluations, combos = tiny_work(prob, max_lots)
    if weight and combos > TINY_COMBINATIONS:
        prob["risk"]["scenario_cvar_weight"] = 0
    for o in prob["offers"][1:]:
        if evaluations <= TINY_EVALUATIONS:
            break
        lot = o.get("lot_size", 1)
        o["max_units"] = _encode_like(o["max_units"], periods, [min(m, lot) for m in _as_list(o["max_units"], periods)])
        evaluations, _ = tiny_work(prob, max_lots)


def _encode_like(old: Any, periods: list[int], values: list[float]) -> Any:
    """`values` in the encoding of `old` (scalar, int- or str-keyed mapping)."""
    values = [_nice(v) for v in values]
    if isinstance(old, dict):
        as_str = any(isinstance(k, str) for k in old)
        return {(str(p) if as_str else p): v for p, v in zip(periods, values)}
    if all(v == values[0] for v in values):
        return values[0]
    return dict(zip(periods, values))


def _add_commercial(
    draw, prob: dict, periods: list[int], small: bool, tiny_lots: int | None, dmax: float, need_capex: float, vnames
) -> None:
    """price_tiers on some offers; min_spend / max_spend on some vendors."""
    for o in prob["offers"]:
        if not draw(st.booleans()):
            continue
        lot = o.get("lot_size", 1)
        if tiny_lots is not None:
            pool = list(range(1, tiny_lots * lot + 1))
        else:
            need = max(1.0, dmax / float(o["compute"]))
            pool = sorted({max(1, round(need * f)) for f in (0.05, 0.1, 0.25, 0.5, 0.8, 1.2, 2.0)})
        n_tiers = draw(st.integers(2, 3))
        cuts = sorted(draw(st.lists(st.sampled_from(pool), min_size=n_tiers - 1, max_size=n_tiers - 1, unique=True)))
        shape = draw(st.sampled_from(["falling", "falling", "rising", "mixed"]))
        factors = {"falling": [1.0, 0.85, 0.7], "rising": [1.0, 1.1, 1.25], "mixed": [1.0, 0.7, 0.9]}[shape]
        base = _as_list(o["unit_cost"], periods)
        tiers = []
        for k, start in enumerate([0, *cuts]):
            if draw(st.booleans()):  # per-period prices follow unit_cost's
                values = [_nice(c * factors[k]) for c in base]
            else:
                values = [_nice(max(base) * factors[k])] * len(periods)
            tiers.append({"from_units": start, "unit_cost": _encode(draw, periods, values)})
        del o["unit_cost"]
        o["price_tiers"] = tiers
        kind = draw(st.sampled_from([None, "incremental", "all_units", "all_units"]))
        if kind is not None:
            o["discount"] = kind
    entries = prob.setdefault("vendors", [])
    for v in vnames:
        if not draw(st.booleans()):
            continue
        e = next((e for e in entries if e["name"] == v), None)
        if e is None:
            e = {"name": v}
            entries.append(e)
        share = need_capex / len(vnames)
        if draw(st.booleans()):
            e["min_spend"] = _nice(share * draw(st.sampled_from([0.1, 0.3, 0.6, 1.0, 2.0])))
        if draw(st.booleans()):
            e["max_spend"] = _nice(need_capex * draw(st.sampled_from([0.6, 1.0, 2.0, 4.0])))
    if not entries:
        del prob["vendors"]


SITE_NAMES = ["oregon", "texas", "iowa", "quebec"]


def _add_sites(draw, prob: dict, periods: list[int], small: bool, tiny_lots: int | None, dmax: float, vnames) -> None:
    """1–3 sites (≤ 2 tiny); installed units become {site: units} over hosting sites."""
    offers = prob["offers"]
    n_sites = draw(st.integers(1, 2 if tiny_lots is not None else 3))
    names = list(draw(st.permutations(SITE_NAMES)))[:n_sites]
    top_pue = prob.get("pue") or 1.0
    for o in offers:  # sites matter more with power: give some offers a power draw
        if "power_kw" not in o and draw(st.booleans()):
            o["power_kw"] = draw(st.sampled_from([0.5, 1, 2] if small else [0.7, 1.0, 1.5]))
    kw_per_compute = max(o.get("power_kw", 0) / float(o["compute"]) for o in offers)
    installed_kw = sum(o.get("power_kw", 0) * o.get("installed", 0) for o in offers)
    slack_kw = max(o.get("power_kw", 0) * o.get("lot_size", 1) for o in offers) * len(offers)
    sites = []
    for j, name in enumerate(names):
        site: dict[str, Any] = {"name": name}
        if draw(st.integers(0, 2)) == 0:
            hosted = sorted(draw(st.lists(st.sampled_from(vnames), min_size=1, unique=True)))
            if j == 0 and offers[0]["vendor"] not in hosted:  # offer 0 can always be bought somewhere
                hosted = sorted([*hosted, offers[0]["vendor"]])
            site["vendors"] = hosted
        pue = draw(st.sampled_from([None, 1.0, 1.1, 1.3, 1.5]))
        if pue is not None:
            site["pue"] = pue
        if draw(st.booleans()):
            price = st.integers(0, 100) if small else st.sampled_from([30, 45, 60, 85, 120])
            site["electricity_price"] = _encode(draw, periods, _per_period_values(draw, periods, price))
        if draw(st.integers(0, 2)) < (2 if tiny_lots is not None else 1):
            need_kw = (pue or top_pue) * (dmax * kw_per_compute + installed_kw + slack_kw)
            factor = draw(st.sampled_from([0.5, 0.6, 1.0, 2.0]))  # < 1: sites must share the fleet
            caps = [_nice(max(need_kw, 1.0) * factor * draw(st.sampled_from([1.0, 1.5])) / 1e6) for _ in periods]
            site["power_cap_gw"] = _encode(draw, periods, caps)
        sites.append(site)
    prob["sites"] = sites
    for o in offers:
        if "installed" not in o:
            continue
        hosts = [s["name"] for s in sites if "vendors" not in s or o["vendor"] in s["vendors"]]
        total = o["installed"]
        if not hosts:
            del o["installed"]
            o.pop("installed_life", None)
            continue
        chosen = draw(st.lists(st.sampled_from(hosts), min_size=1, unique=True))
        cut = sorted(draw(st.lists(st.integers(0, total), min_size=len(chosen) - 1, max_size=len(chosen) - 1)))
        amounts = [b - a for a, b in zip([0, *cut], [*cut, total])]
        o["installed"] = {s: u for s, u in zip(chosen, amounts) if u > 0 or draw(st.integers(0, 3)) == 0}


WORKLOAD_NAMES = ["training", "inference", "batch"]


def _add_workloads(draw, prob: dict, periods: list[int], demand: list[Any], tiny: bool) -> None:
    """`demand` split into 1–3 workloads; some offers get efficiencies (incl. 0)."""
    n_w = draw(st.integers(1, 3))
    names = list(draw(st.permutations(WORKLOAD_NAMES)))[:n_w]
    weights = [draw(st.sampled_from([1, 2, 3])) for _ in names]
    per_w: dict[str, list[Any]] = {w: [] for w in names}
    for d in demand:
        d = float(d)
        left = d
        for k, w in enumerate(names):
            if k + 1 == len(names):
                part = left
            else:
                part = d * weights[k] / sum(weights)
                part = math.floor(part) if tiny else _nice(part)
                left -= part
            per_w[w].append(_nice(max(0.0, part)))
    del prob["demand"]
    prob["workloads"] = {w: _encode(draw, periods, vals) for w, vals in per_w.items()}
    for o in prob["offers"]:
        if draw(st.booleans()):
            named = draw(st.lists(st.sampled_from(names), unique=True))
            o["efficiency"] = {w: draw(st.sampled_from([0, 0.5, 0.7, 1.0, 1.0, 1.25])) for w in named}


def problems(
    max_offers: int = 4,
    max_periods: int = 4,
    risk: bool = True,
    scenarios: bool = False,
    hhi: bool = False,
    commercial: bool = False,
    sites: bool = False,
    workloads: bool = False,
    unserved: bool = False,
    power_build: bool = False,
    demand_scenarios: bool = False,
    vendor_rules: bool = False,
    options: bool = False,
) -> st.SearchStrategy[dict]:
    """Random valid problems (realistic or tiny magnitudes), mostly feasible."""
    return _problem(
        max_offers,
        max_periods,
        risk,
        scenarios,
        hhi,
        None,
        commercial,
        sites,
        workloads,
        unserved,
        power_build,
        demand_scenarios,
        vendor_rules,
        options,
    )


def tiny_problems(
    max_lots: int = 3,
    risk: bool = True,
    scenarios: bool = True,
    hhi: bool = False,
    commercial: bool = False,
    sites: bool = False,
    workloads: bool = False,
    unserved: bool = False,
    power_build: bool = False,
    demand_scenarios: bool = False,
    vendor_rules: bool = False,
    options: bool = False,
) -> st.SearchStrategy[dict]:
    """≤ 2 offers × ≤ 3 periods (≤ 2 with sites, power builds or demand scenarios), every
    max_units finite and ≤ max_lots·lot_size; with power builds every power_build has
    block_gw and a finite max_gw (≤ 2 blocks), and the brute force stays within
    TINY_EVALUATIONS plans (see `tiny_work`; with `options` always, the options' plans
    counted)."""
    short = sites or power_build or demand_scenarios
    return _problem(
        2,
        2 if short else 3,
        risk,
        scenarios,
        hhi,
        max_lots,
        commercial,
        sites,
        workloads,
        unserved,
        power_build,
        demand_scenarios,
        vendor_rules,
        options,
    )


# --------------------------------------------------------------------------- #
# Invalid problems: a valid one plus exactly one mutation
# --------------------------------------------------------------------------- #
Mutation = Callable[[Any, dict], tuple[dict, str]]
PER_PERIOD_TOP = ["demand", "power_cap_gw", "electricity_price", "budget"]
PER_PERIOD_OFFER = ["unit_cost", "max_units"]


def _periods(prob: dict) -> list[int]:
    return list(prob["periods"])


def _risk(prob: dict) -> dict:
    return prob.setdefault("risk", {})


def _scalarize(prob: dict) -> None:
    """Every per-period mapping -> its largest value; scenario period lists dropped."""

    def flat(holder: dict, key: str) -> None:
        if isinstance(holder.get(key), dict):
            holder[key] = max(holder[key].values())

    for key in PER_PERIOD_TOP:
        flat(prob, key)
    for o in prob["offers"]:
        for key in PER_PERIOD_OFFER:
            flat(o, key)
    for s in prob.get("risk", {}).get("scenarios", []):
        s.pop("periods", None)


def _set_per_period(draw, holder: dict, key: str, periods: list[int], bad: Any) -> None:
    """Put `bad` into a per-period field, as the scalar or as one mapping entry."""
    if draw(st.booleans()):
        holder[key] = bad
    else:
        vals = {p: 1 for p in periods}
        cur = holder.get(key)
        if isinstance(cur, dict):
            vals = {int(k): v for k, v in cur.items()}
        elif cur is not None:
            vals = {p: cur for p in periods}
        vals[draw(st.sampled_from(periods))] = bad
        keyfn = str if draw(st.booleans()) else int
        holder[key] = {keyfn(p): v for p, v in vals.items()}


def _wrong_periods(draw, holder: dict, key: str, periods: list[int], what: str) -> None:
    """A per-period field (missing: 1) as a str-keyed mapping that misses a period
    (`what` "missing_period") or names one after the last ("extra_period")."""
    cur = holder.get(key, 1)
    vals = {int(p): v for p, v in cur.items()} if isinstance(cur, dict) else dict.fromkeys(periods, cur)
    if what == "missing_period":
        del vals[draw(st.sampled_from(periods))]
    else:
        vals[periods[-1] + 1] = next(iter(vals.values()))
    holder[key] = {str(p): v for p, v in vals.items()}


def _pick_offer(draw, prob: dict) -> tuple[int, dict]:
    i = draw(st.integers(0, len(prob["offers"]) - 1))
    return i, prob["offers"][i]


def _vendor_entry(draw, prob: dict) -> tuple[int, dict]:
    """An entry of `vendors` (appended for a used vendor if there is none)."""
    entries = prob.setdefault("vendors", [])
    if entries and draw(st.booleans()):
        j = draw(st.integers(0, len(entries) - 1))
        return j, entries[j]
    used = {o["vendor"] for o in prob["offers"]} - {e["name"] for e in entries}
    if not used:
        j = draw(st.integers(0, len(entries) - 1))
        return j, entries[j]
    entries.append({"name": draw(st.sampled_from(sorted(used)))})
    return len(entries) - 1, entries[-1]


def _ensure_scenarios(prob: dict, count: int) -> list[dict]:
    r = _risk(prob)
    scen = r.setdefault("scenarios", [])
    vendor = prob["offers"][0]["vendor"]
    while len(scen) < count:
        scen.append({"name": f"extra{len(scen)}", "probability": 0.05, "availability": {vendor: 0.5}})
    return scen


def _bad_number(draw, prob: dict, bad_values: list[Any], kind: str) -> tuple[dict, str]:
    """Put a bad value into a numeric field whose range excludes it (`kind` selects targets)."""
    periods = _periods(prob)
    offer_int = ["lot_size", "min_order", "lifetime", "lead_time", "installed", "installed_life"]
    if kind == "negative":  # fields documented >= 0 (unit_cost: read as a price, >= 0)
        targets = [
            ("offer", f)
            for f in ["unit_cost", "power_kw", "opex_per_year", "min_order", "lead_time", "installed", "compute"]
        ]
        targets += [("top", "discount_rate"), ("vendor", "onboarding_cost")]
        targets += [
            ("risk", f)
            for f in [
                "hhi_weight",
                "shortfall_penalty",
                "risk_weight",
                "max_cvar",
                "min_vendors",
                "max_share",
                "min_vendor_share",
                "survive_vendor_loss",
                "cvar_alpha",
                "max_hhi",
            ]
        ]
    elif kind == "nonfinite":  # NaN anywhere; +-inf only where no "unlimited" reading exists
        targets = [("offer", f) for f in ["unit_cost", "compute", "power_kw", "opex_per_year"]]
        targets += [("top", f) for f in ["demand", "pue", "discount_rate", "electricity_price"]]
        targets += [("vendor", "onboarding_cost")]
        targets += [("risk", f) for f in ["hhi_weight", "shortfall_penalty", "risk_weight"]]
        if all(isinstance(x, float) and math.isnan(x) for x in bad_values):
            targets += [("top", f) for f in ["budget", "power_cap_gw", "total_budget"]]
            targets += [("offer", "max_units"), ("risk", "max_cvar"), ("risk", "max_share")]
    elif kind == "string":
        targets = [("offer", f) for f in ["unit_cost", "compute", "lot_size", "power_kw"]]
        targets += [("top", f) for f in ["demand", "pue", "discount_rate"]] + [("risk", "max_share")]
    elif kind == "float_for_int":
        targets = [("offer", f) for f in offer_int] + [("risk", "min_vendors")]
    elif kind == "bool":
        targets = [("offer", f) for f in ["compute", "unit_cost", "lot_size", "power_kw"]]
        targets += [("top", f) for f in ["demand", "pue"]] + [("risk", f) for f in ["max_share", "min_vendors"]]
    else:
        raise ValueError(kind)
    where, fld = draw(st.sampled_from(targets))
    bad = draw(st.sampled_from(bad_values))
    if where == "offer":
        i, o = _pick_offer(draw, prob)
        if fld in PER_PERIOD_OFFER:
            _set_per_period(draw, o, fld, periods, bad)
        else:
            o[fld] = bad
        return prob, f"offers[{i}].{fld}"
    if where == "top":
        if fld in PER_PERIOD_TOP:
            _set_per_period(draw, prob, fld, periods, bad)
        else:
            prob[fld] = bad
        return prob, fld
    if where == "vendor":
        j, e = _vendor_entry(draw, prob)
        e[fld] = bad
        return prob, f"vendors[{j}].{fld}"
    _risk(prob)[fld] = bad
    return prob, f"risk.{fld}"


def _m_negative(draw, prob):
    return _bad_number(draw, prob, [-1, -0.5, -1e6], "negative")


def _m_nonfinite(draw, prob):
    if draw(st.booleans()):
        return _bad_number(draw, prob, [math.nan], "nonfinite")
    return _bad_number(draw, prob, [math.inf, -math.inf], "nonfinite")


def _m_string(draw, prob):
    return _bad_number(draw, prob, ["1", "100", "1.5"], "string")


def _m_float_for_int(draw, prob):
    return _bad_number(draw, prob, [1.5, 2.5], "float_for_int")


def _m_bool(draw, prob):
    return _bad_number(draw, prob, [True, False], "bool")


def _m_list_for_mapping(draw, prob):
    what = draw(st.sampled_from(["risk", "demand", "unit_cost", "availability"]))
    if what == "risk":
        prob["risk"] = [draw(st.sampled_from([{"max_share": 0.5}, 0.5]))]
        return prob, "risk"
    if what == "demand":
        prob["demand"] = [1 for _ in prob["periods"]]
        return prob, "demand"
    if what == "unit_cost":
        i, o = _pick_offer(draw, prob)
        o["unit_cost"] = [10 for _ in prob["periods"]]
        return prob, f"offers[{i}].unit_cost"
    scen = _ensure_scenarios(prob, 1)
    k = draw(st.integers(0, len(scen) - 1))
    scen[k]["availability"] = [0.5]
    return prob, f"risk.scenarios[{k}].availability"


def _m_unknown_field(draw, prob):
    where = draw(st.sampled_from(["top", "offer", "vendor", "risk"]))
    if where == "top":
        key = draw(st.sampled_from(["powercap_gw", "budgets", "discount", "demands", "PUE"]))
        prob[key] = 1.0
    elif where == "offer":
        _, o = _pick_offer(draw, prob)
        key = draw(st.sampled_from(["unit_cst", "lifetme", "powerkw", "max_unit", "leadtime"]))
        o[key] = 1
    elif where == "vendor":
        _, e = _vendor_entry(draw, prob)
        key = draw(st.sampled_from(["onboarding", "maxshare", "onboarding_costs"]))
        e[key] = 1
    else:
        key = draw(st.sampled_from(["max_shares", "min_vendor", "cvar_aplha", "hhi_wieght"]))
        _risk(prob)[key] = 0.5
    return prob, key


def _m_duplicate_offer(draw, prob):
    offers = prob["offers"]
    if len(offers) == 1:
        offers.append(copy.deepcopy(offers[0]))
    else:
        i, j = sorted(draw(st.lists(st.integers(0, len(offers) - 1), min_size=2, max_size=2, unique=True)))
        offers[j]["name"] = offers[i]["name"]
    names = [o["name"] for o in offers]
    return prob, next(n for n in names if names.count(n) > 1)


def _per_period_targets(prob: dict) -> list[tuple[dict, str, str]]:
    out = [(prob, k, k) for k in PER_PERIOD_TOP if k in prob]
    for i, o in enumerate(prob["offers"]):
        out += [(o, k, f"offers[{i}].{k}") for k in PER_PERIOD_OFFER if k in o]
    return out


def _m_missing_period(draw, prob):
    holder, key, path = draw(st.sampled_from(_per_period_targets(prob)))
    periods = _periods(prob)
    cur = holder[key]
    vals = {int(k): v for k, v in cur.items()} if isinstance(cur, dict) else {p: cur for p in periods}
    del vals[draw(st.sampled_from(periods))]
    keyfn = str if draw(st.booleans()) else int
    holder[key] = {keyfn(p): v for p, v in vals.items()}
    return prob, path


def _m_extra_period(draw, prob):
    holder, key, path = draw(st.sampled_from(_per_period_targets(prob)))
    periods = _periods(prob)
    cur = holder[key]
    vals = {int(k): v for k, v in cur.items()} if isinstance(cur, dict) else {p: cur for p in periods}
    extra = draw(st.sampled_from([periods[-1] + 1, periods[0] - 1]))
    vals[extra] = next(iter(vals.values()))
    keyfn = str if draw(st.booleans()) else int
    holder[key] = {keyfn(p): v for p, v in vals.items()}
    return prob, path


def _m_unknown_vendor(draw, prob):
    entries = prob.setdefault("vendors", [])
    entries.append({"name": draw(st.sampled_from(["ghost", "nvidai", "Google"]))})
    return prob, f"vendors[{len(entries) - 1}].name"


def _m_out_of_range(draw, prob):
    """A value just outside a documented range (not a sign error)."""
    cases: list[tuple[str, str, list[Any]]] = [
        ("offer", "lot_size", [0]),
        ("offer", "compute", [0, 0.0]),
        ("offer", "lifetime", [0]),
        ("offer", "installed_life", [0]),
        ("top", "pue", [0.9, 0, 0.5]),
        ("risk", "max_share", [0, 0.0, 1.5, 1.01]),
        ("vendor", "max_share", [0, 1.5]),
        ("risk", "min_vendor_share", [0, 1.5]),
        ("risk", "survive_vendor_loss", [1.5, 1.01]),
        ("risk", "cvar_alpha", [1, 1.0, 1.5]),
        ("risk", "max_hhi", [0, 1.5]),
    ]
    where, fld, values = draw(st.sampled_from(cases))
    bad = draw(st.sampled_from(values))
    if where == "offer":
        i, o = _pick_offer(draw, prob)
        o[fld] = bad
        return prob, f"offers[{i}].{fld}"
    if where == "vendor":
        j, e = _vendor_entry(draw, prob)
        e[fld] = bad
        return prob, f"vendors[{j}].{fld}"
    if where == "top":
        prob[fld] = bad
        return prob, fld
    _risk(prob)[fld] = bad
    return prob, f"risk.{fld}"


def _m_empty_offers(draw, prob):
    prob["offers"] = []
    prob.pop("vendors", None)  # would name vendors no offer uses
    for s in prob.get("risk", {}).get("scenarios", []):
        s["availability"] = {}
    return prob, "offers"


def _m_bad_periods(draw, prob):
    _scalarize(prob)  # so no per-period mapping adds a second error
    periods = _periods(prob)
    if draw(st.booleans()):
        prob["periods"] = []
    elif len(periods) == 1:
        prob["periods"] = [periods[0], periods[0] + 2]
    else:
        gap = draw(st.integers(1, len(periods) - 1))
        prob["periods"] = periods[:gap] + [p + 1 for p in periods[gap:]]
    return prob, "periods"


def _m_missing_required(draw, prob):
    what = draw(st.sampled_from(["periods", "demand", "offers", "name", "vendor", "unit_cost", "compute"]))
    if what == "offers":
        prob, _ = _m_empty_offers(draw, prob)
        del prob["offers"]
        return prob, "offers"
    if what in ("periods", "demand"):
        if what == "periods":
            _scalarize(prob)
        del prob[what]
        return prob, what
    i, o = _pick_offer(draw, prob)
    if what == "vendor":
        # If this is the vendor's only offer, the vendor would vanish (a vendors
        # entry or scenario availability naming it could add a second error).
        if sum(q["vendor"] == o["vendor"] for q in prob["offers"]) == 1:
            what = "compute"
    del o[what]
    return prob, f"offers[{i}].{what}"


def _m_scenario(draw, prob):
    what = draw(st.sampled_from(["availability", "availability_neg", "sum", "probability"]))
    if what == "sum":
        scen = _ensure_scenarios(prob, 2)
        for s in scen:
            s["probability"] = 0.6
        return prob, "risk.scenarios"
    scen = _ensure_scenarios(prob, 1)
    k = draw(st.integers(0, len(scen) - 1))
    if what == "probability":
        for s in scen:
            s["probability"] = 0.01
        scen[k]["probability"] = bad = draw(st.sampled_from([-0.1, 1.5]))
        # 1.5 also makes the sum exceed 1, so only the common prefix is required
        return prob, f"risk.scenarios[{k}].probability" if bad < 0 else "risk.scenarios"
    vendor = draw(st.sampled_from(sorted({o["vendor"] for o in prob["offers"]})))
    scen[k].setdefault("availability", {})[vendor] = 1.5 if what == "availability" else -0.25
    return prob, f"risk.scenarios[{k}].availability"


MUTATIONS: list[Mutation] = [
    _m_negative,
    _m_nonfinite,
    _m_string,
    _m_float_for_int,
    _m_bool,
    _m_list_for_mapping,
    _m_unknown_field,
    _m_duplicate_offer,
    _m_missing_period,
    _m_extra_period,
    _m_unknown_vendor,
    _m_out_of_range,
    _m_empty_offers,
    _m_bad_periods,
    _m_missing_required,
    _m_scenario,
]


# --------------------------------------------------------------------------- #
# Mutations of the fields of "Commercial terms, sites and workloads"
# --------------------------------------------------------------------------- #
def _ensure_tiers(draw, prob: dict, min_tiers: int = 1) -> tuple[int, list[dict]]:
    """An offer with price_tiers (converted from unit_cost if needed), with >= min_tiers tiers."""
    offers = prob["offers"]
    with_tiers = [i for i, o in enumerate(offers) if "price_tiers" in o]
    if with_tiers and draw(st.integers(0, 3)) > 0:
        i = draw(st.sampled_from(with_tiers))
    else:
        i = draw(st.integers(0, len(offers) - 1))
        o = offers[i]
        if "price_tiers" not in o:
            o["price_tiers"] = [{"from_units": 0, "unit_cost": o.pop("unit_cost")}]
    tiers = offers[i]["price_tiers"]
    while len(tiers) < min_tiers:
        start = tiers[-1]["from_units"] + draw(st.integers(1, 50))
        tiers.append({"from_units": start, "unit_cost": copy.deepcopy(tiers[-1]["unit_cost"])})
    return i, tiers


def _m_tiers_and_unit_cost(draw, prob):
    i, o = _pick_offer(draw, prob)
    if "price_tiers" in o:
        o["unit_cost"] = draw(st.sampled_from([10, 25_000]))
    else:
        o["price_tiers"] = [{"from_units": 0, "unit_cost": copy.deepcopy(o["unit_cost"])}]
    return prob, f"offers[{i}]"


def _m_no_price(draw, prob):
    i, o = _pick_offer(draw, prob)
    o.pop("unit_cost", None)
    o.pop("price_tiers", None)
    return prob, f"offers[{i}]"


def _m_tier_first_not_zero(draw, prob):
    i, tiers = _ensure_tiers(draw, prob)
    bad = draw(st.sampled_from([1, 5, 0.5, 100]))
    if len(tiers) > 1:
        bad = min(bad, tiers[1]["from_units"] / 2)  # still below the next tier: one error only
    tiers[0]["from_units"] = bad
    return prob, f"offers[{i}].price_tiers[0].from_units"


def _m_tier_not_rising(draw, prob):
    i, tiers = _ensure_tiers(draw, prob, min_tiers=2)
    k = draw(st.integers(1, len(tiers) - 1))
    prev = tiers[k - 1]["from_units"]
    options = [prev]  # equal to the previous one
    if k >= 2 and prev - tiers[k - 2]["from_units"] > 1:
        options.append(prev - 1)  # between the two before it
    if k == 1:
        options.append(-1)  # below the first (and negative)
    tiers[k]["from_units"] = draw(st.sampled_from(options))
    return prob, f"offers[{i}].price_tiers[{k}].from_units"


def _m_tier_bad_from(draw, prob):
    i, tiers = _ensure_tiers(draw, prob)
    k = draw(st.integers(0, len(tiers) - 1))
    what = draw(st.sampled_from(["missing", "string", "bool", "nan"]))
    if what == "missing":
        del tiers[k]["from_units"]
    else:
        tiers[k]["from_units"] = {"string": str(tiers[k]["from_units"]), "bool": False, "nan": math.nan}[what]
    return prob, f"offers[{i}].price_tiers[{k}].from_units"


def _m_tier_bad_price(draw, prob):
    i, tiers = _ensure_tiers(draw, prob)
    k = draw(st.integers(0, len(tiers) - 1))
    tier = tiers[k]
    what = draw(st.sampled_from(["negative", "missing", "string", "missing_period", "list"]))
    periods = _periods(prob)
    if what == "negative":
        _set_per_period(draw, tier, "unit_cost", periods, draw(st.sampled_from([-1, -0.5, -25_000])))
    elif what == "missing":
        del tier["unit_cost"]
    elif what == "string":
        tier["unit_cost"] = "100"
    elif what == "list":
        tier["unit_cost"] = [10 for _ in periods]
    else:
        cur = tier["unit_cost"]
        vals = {int(p): v for p, v in cur.items()} if isinstance(cur, dict) else dict.fromkeys(periods, cur)
        del vals[draw(st.sampled_from(periods))]
        keyfn = str if draw(st.booleans()) else int
        tier["unit_cost"] = {keyfn(p): v for p, v in vals.items()}
    return prob, f"offers[{i}].price_tiers[{k}].unit_cost"


def _m_tiers_not_list(draw, prob):
    i, o = _pick_offer(draw, prob)
    o.pop("unit_cost", None)
    # (not []: read as invalid by spec.validate, but not settled by the spec)
    o["price_tiers"] = draw(st.sampled_from([10, {"from_units": 0, "unit_cost": 10}, "0:10"]))
    return prob, f"offers[{i}].price_tiers"


def _m_bad_discount(draw, prob):
    i, _ = _ensure_tiers(draw, prob)
    prob["offers"][i]["discount"] = draw(st.sampled_from(["volume", "All_units", "all-units", "incremental ", 1, True]))
    return prob, f"offers[{i}].discount"


def _m_bad_spend(draw, prob):
    fld = draw(st.sampled_from(["min_spend", "max_spend"]))
    j, e = _vendor_entry(draw, prob)
    e[fld] = draw(st.sampled_from([-1, -0.5, -1e6, "100", True, math.nan]))
    return prob, f"vendors[{j}].{fld}"


def _hosting(site: dict, vendor: str) -> bool:
    return "vendors" not in site or vendor in site["vendors"]


def _m_installed_with_sites(draw, prob):
    """Sites: installed as a plain number, naming an unknown or non-hosting site, or a bad count."""
    i, o = _pick_offer(draw, prob)
    sites = prob["sites"]
    path = f"offers[{i}].installed"
    what = draw(st.sampled_from(["plain", "unknown_site", "not_hosting", "negative", "float"]))
    if what == "plain":
        o["installed"] = draw(st.integers(0, 8))
        return prob, path
    inst = o.get("installed")
    inst = dict(inst) if isinstance(inst, dict) else {}
    hosts = [s["name"] for s in sites if _hosting(s, o["vendor"])]
    foreign = [s["name"] for s in sites if not _hosting(s, o["vendor"])]
    if what == "not_hosting" and foreign:
        inst[draw(st.sampled_from(foreign))] = draw(st.integers(1, 5))
    elif what in ("negative", "float") and hosts:
        inst[draw(st.sampled_from(hosts))] = -1 if what == "negative" else 1.5
    else:
        inst[draw(st.sampled_from(["nowhere", "Oregon", "texas "]))] = draw(st.integers(1, 5))
    o["installed"] = inst
    return prob, path


def _m_installed_mapping_without_sites(draw, prob):
    i, o = _pick_offer(draw, prob)
    o["installed"] = {draw(st.sampled_from(SITE_NAMES)): draw(st.integers(1, 5))}
    return prob, f"offers[{i}].installed"


def _m_site_vendor_unknown(draw, prob):
    sites = prob["sites"]
    j = draw(st.integers(0, len(sites) - 1))
    used = sorted({o["vendor"] for o in prob["offers"]})
    listed = list(sites[j].get("vendors", used))
    listed.insert(draw(st.integers(0, len(listed))), draw(st.sampled_from(["ghost", "nvidai", "Google"])))
    sites[j]["vendors"] = listed
    return prob, f"sites[{j}].vendors"


def _m_duplicate_site(draw, prob):
    sites = prob["sites"]
    sites.append(copy.deepcopy(sites[draw(st.integers(0, len(sites) - 1))]))
    return prob, f"sites[{len(sites) - 1}].name"


def _m_site_bad_value(draw, prob):
    sites = prob["sites"]
    periods = _periods(prob)
    j = draw(st.integers(0, len(sites) - 1))
    site = sites[j]
    referenced = any(isinstance(o.get("installed"), dict) and site["name"] in o["installed"] for o in prob["offers"])
    cases = ["pue", "power_cap_gw", "electricity_price"] + ([] if referenced else ["vendors"])
    fld = draw(st.sampled_from(cases))
    if fld == "pue":
        site["pue"] = draw(st.sampled_from([0.9, 0, -1, "1.2", math.nan]))
    elif fld == "vendors":
        site["vendors"] = draw(st.sampled_from(["nvidia", 1, {"nvidia": 1}]))
    else:
        bad = draw(st.sampled_from(["1", math.nan, True, "missing_period", "extra_period"]))
        if bad in ("missing_period", "extra_period"):
            _wrong_periods(draw, site, fld, periods, bad)
        else:
            _set_per_period(draw, site, fld, periods, bad)
    return prob, f"sites[{j}].{fld}"


def _m_sites_not_list(draw, prob):
    # (not [] or {}: whether an empty `sites` is an error is not settled by the spec)
    prob["sites"] = draw(st.sampled_from(["oregon", {"name": "oregon"}, 5]))
    for o in prob["offers"]:
        o.pop("installed", None)  # would otherwise name sites that no longer exist
    return prob, "sites"


def _drop_efficiencies(prob: dict) -> None:
    for o in prob["offers"]:
        o.pop("efficiency", None)


def _m_demand_and_workloads(draw, prob):
    prob["demand"] = draw(st.sampled_from([0, 100, {p: 1 for p in prob["periods"]}]))
    return prob, "workloads"


def _m_no_demand(draw, prob):
    del prob["workloads"]
    _drop_efficiencies(prob)
    return prob, "demand"


def _m_bad_workloads(draw, prob):
    periods = _periods(prob)
    what = draw(st.sampled_from(["structure", "string", "missing_period", "list"]))
    wl = prob["workloads"]
    if what == "structure":
        # (not {}: whether an empty workload mapping is an error is not settled by the spec)
        prob["workloads"] = draw(st.sampled_from([[], 5, ["training"], "training"]))
        _drop_efficiencies(prob)
        return prob, "workloads"
    w = draw(st.sampled_from(sorted(wl)))
    if what == "string":
        wl[w] = "100"
    elif what == "list":
        wl[w] = [1 for _ in periods]
    else:
        cur = wl[w]
        vals = {int(p): v for p, v in cur.items()} if isinstance(cur, dict) else dict.fromkeys(periods, cur)
        del vals[draw(st.sampled_from(periods))]
        wl[w] = {str(p): v for p, v in vals.items()}
    return prob, "workloads"


def _m_bad_efficiency(draw, prob):
    i, o = _pick_offer(draw, prob)
    names = sorted(prob.get("workloads") or {}) or ["training"]
    what = draw(st.sampled_from(["unknown", "negative", "not_mapping", "string"]))
    eff = dict(o["efficiency"]) if isinstance(o.get("efficiency"), dict) else {}
    if what == "unknown":
        eff[draw(st.sampled_from(["ghost", "Training", "inferance"]))] = draw(st.sampled_from([0, 0.5, 1.0]))
    elif what == "negative":
        eff[draw(st.sampled_from(names))] = draw(st.sampled_from([-0.5, -1]))
    elif what == "string":
        eff[draw(st.sampled_from(names))] = "1.0"
    else:
        o["efficiency"] = draw(st.sampled_from([0.5, [1.0], "training"]))
        return prob, f"offers[{i}].efficiency"
    o["efficiency"] = eff
    return prob, f"offers[{i}].efficiency"


def _m_new_unknown_field(draw, prob):
    where = draw(st.sampled_from(["top", "offer", "vendor", "tier"] + (["site"] if "sites" in prob else [])))
    if where == "top":
        key = draw(st.sampled_from(["site", "workload", "Sites", "price_tiers", "min_spend"]))
        prob[key] = 1
    elif where == "offer":
        key = draw(st.sampled_from(["price_tier", "discounts", "efficiencies", "effciency", "site"]))
        _pick_offer(draw, prob)[1][key] = 1
    elif where == "vendor":
        key = draw(st.sampled_from(["min_spnd", "maxspend", "take_or_pay", "vendors"]))
        _vendor_entry(draw, prob)[1][key] = 1
    elif where == "tier":
        key = draw(st.sampled_from(["from", "price", "from_unit", "discount"]))
        _, tiers = _ensure_tiers(draw, prob)
        tiers[draw(st.integers(0, len(tiers) - 1))][key] = 1
    else:
        key = draw(st.sampled_from(["powercap_gw", "PUE", "vendor", "price", "installed"]))
        sites = prob["sites"]
        sites[draw(st.integers(0, len(sites) - 1))][key] = 1
    return prob, key


# (mutation, flags its base problem must have: True / False; others are drawn)
NEW_MUTATIONS: list[tuple[Mutation, dict[str, bool]]] = [
    (_m_tiers_and_unit_cost, {}),
    (_m_no_price, {}),
    (_m_tier_first_not_zero, {}),
    (_m_tier_not_rising, {}),
    (_m_tier_bad_from, {}),
    (_m_tier_bad_price, {}),
    (_m_tiers_not_list, {}),
    (_m_bad_discount, {}),
    (_m_bad_spend, {}),
    (_m_installed_with_sites, {"sites": True}),
    (_m_installed_mapping_without_sites, {"sites": False}),
    (_m_site_vendor_unknown, {"sites": True}),
    (_m_duplicate_site, {"sites": True}),
    (_m_site_bad_value, {"sites": True}),
    (_m_sites_not_list, {"sites": True}),
    (_m_demand_and_workloads, {"workloads": True}),
    (_m_no_demand, {"workloads": True}),
    (_m_bad_workloads, {"workloads": True}),
    (_m_bad_efficiency, {}),
    (_m_new_unknown_field, {}),
]


# --------------------------------------------------------------------------- #
# Mutations of the contract v2 fields
# --------------------------------------------------------------------------- #
def _power_builds(prob: dict) -> list[tuple[dict, str]]:
    """(power_build mapping, its path) of the problem: top level, or on sites."""
    if "power_build" in prob:
        return [(prob["power_build"], "power_build")]
    return [
        (s["power_build"], f"sites[{j}].power_build") for j, s in enumerate(prob.get("sites", [])) if "power_build" in s
    ]


def _m_bad_unserved(draw, prob):
    # (not inf: +inf could be read as "demand is a hard requirement")
    prob["unserved_penalty"] = draw(st.sampled_from([-1, -0.5, "10", True, math.nan, [1]]))
    return prob, "unserved_penalty"


def _m_bad_power_build_value(draw, prob):
    pb, path = draw(st.sampled_from(_power_builds(prob)))
    periods = _periods(prob)
    fld = draw(st.sampled_from(["cost_per_gw", "block_gw", "max_gw", "lead_time", "fixed_cost"]))
    if fld == "block_gw":
        pb[fld] = draw(st.sampled_from([0, 0.0, -0.1, "0.1", math.nan, True]))
    elif fld == "lead_time":
        pb[fld] = draw(st.sampled_from([-1, 1.5, "1", True]))
    else:
        what = draw(st.sampled_from(["negative", "string", "missing_period", "extra_period", "list", "nan"]))
        if fld == "cost_per_gw" and draw(st.integers(0, 4)) == 0:
            what = "missing"
        if what == "missing":
            del pb[fld]
        elif what == "list":
            pb[fld] = [1 for _ in periods]
        elif what in ("missing_period", "extra_period"):
            _wrong_periods(draw, pb, fld, periods, what)
        else:
            bad = {"negative": draw(st.sampled_from([-1, -1e9, -0.5])), "string": "1e9", "nan": math.nan}[what]
            _set_per_period(draw, pb, fld, periods, bad)
    return prob, f"{path}.{fld}"


def _m_power_build_structure(draw, prob):
    pb, path = draw(st.sampled_from(_power_builds(prob)))
    if draw(st.booleans()):
        key = draw(st.sampled_from(["cost_per_GW", "block", "leadtime", "max_gws", "fixed", "capex"]))
        pb[key] = 1
        return prob, key
    holder = prob if path == "power_build" else prob["sites"][int(path[len("sites[") : path.index("]")])]
    holder["power_build"] = draw(st.sampled_from([15e9, [{"cost_per_gw": 1}], "0.1"]))
    return prob, path


def _m_top_power_build_with_sites(draw, prob):
    prob["power_build"] = {"cost_per_gw": draw(st.sampled_from([0, 15e9]))}
    return prob, "power_build"


def _demand_scenarios(draw, prob: dict, count: int = 1) -> list[dict]:
    """The scenario list, with at least `count` entries (copies splitting a probability in halves)."""
    scen = prob["demand_scenarios"]
    while len(scen) < count:
        k = draw(st.integers(0, len(scen) - 1))
        copy_k = copy.deepcopy(scen[k])
        scen[k]["probability"] = copy_k["probability"] = scen[k]["probability"] / 2
        copy_k["name"] = f"{scen[k]['name']}-{len(scen)}"
        scen.append(copy_k)
    return scen


def _m_demand_scenario_probability(draw, prob):
    what = draw(st.sampled_from(["sum_low", "sum_high", "zero", "negative", "string", "missing", "above_one"]))
    scen = _demand_scenarios(draw, prob, 2 if what == "sum_high" else 1)
    k = draw(st.integers(0, len(scen) - 1))
    if what == "sum_low":
        scen[k]["probability"] = scen[k]["probability"] * draw(st.sampled_from([0.5, 0.9]))
        return prob, "demand_scenarios"
    if what == "sum_high":
        for s in scen:
            s["probability"] = 0.6
        return prob, "demand_scenarios"
    if what in ("zero", "negative"):
        # An extra scenario with probability 0 (or −q, compensated elsewhere): the sum stays 1.
        extra = copy.deepcopy(scen[k])
        extra["name"] = "extra"
        extra["probability"] = 0 if what == "zero" else -0.25
        if what == "negative":
            low = [s for s in scen if s["probability"] <= 0.75]
            if not low:
                extra["probability"] = 0.0
            else:
                low[0]["probability"] = low[0]["probability"] + 0.25
        scen.append(extra)
        return prob, f"demand_scenarios[{len(scen) - 1}].probability"
    if what == "above_one":  # also breaks the sum
        scen[k]["probability"] = 1.5
        return prob, "demand_scenarios"
    if what == "missing":
        del scen[k]["probability"]
    else:
        scen[k]["probability"] = str(scen[k]["probability"])
    return prob, f"demand_scenarios[{k}].probability"


def _m_demand_scenario_name(draw, prob):
    what = draw(st.sampled_from(["duplicate", "missing", "not_string"]))
    if what == "duplicate":
        scen = _demand_scenarios(draw, prob, 2)
        i, j = sorted(draw(st.lists(st.integers(0, len(scen) - 1), min_size=2, max_size=2, unique=True)))
        scen[j]["name"] = scen[i]["name"]
        return prob, f"demand_scenarios[{j}].name"
    scen = prob["demand_scenarios"]
    k = draw(st.integers(0, len(scen) - 1))
    if what == "missing":
        del scen[k]["name"]
    else:
        scen[k]["name"] = draw(st.sampled_from([1, None, ["low"]]))
        if scen[k]["name"] is None:
            del scen[k]["name"]
    return prob, f"demand_scenarios[{k}].name"


def _m_demand_scenario_kind(draw, prob):
    """Both demand and workloads, neither, or one scenario of the other kind than the rest."""
    what = draw(st.sampled_from(["both", "neither", "mixed"]))
    scen = _demand_scenarios(draw, prob, 2 if what == "mixed" else 1)
    k = draw(st.integers(1 if what == "mixed" else 0, len(scen) - 1))
    s = scen[k]
    if what == "neither":
        s.pop("demand", None)
        s.pop("workloads", None)
    elif what == "both":
        if "demand" in s:
            s["workloads"] = {"training": s["demand"]}
        else:
            s["demand"] = 1
    elif "demand" in s:
        s["workloads"] = {"training": s.pop("demand")}
    else:
        s["demand"] = 1
        del s["workloads"]
    return prob, f"demand_scenarios[{k}]"


def _m_demand_scenario_bad_demand(draw, prob):
    scen = prob["demand_scenarios"]
    k = draw(st.integers(0, len(scen) - 1))
    s = scen[k]
    periods = _periods(prob)
    what = draw(st.sampled_from(["string", "list", "missing_period", "nan"]))
    if "demand" in s:
        holder, key, path = s, "demand", f"demand_scenarios[{k}].demand"
    else:
        holder, key = s["workloads"], draw(st.sampled_from(sorted(s["workloads"])))
        path = f"demand_scenarios[{k}].workloads"
    if what == "string":
        holder[key] = "100"
    elif what == "list":
        holder[key] = [1 for _ in periods]
    elif what == "nan":
        _set_per_period(draw, holder, key, periods, math.nan)
    else:
        cur = holder[key]
        vals = {int(p): v for p, v in cur.items()} if isinstance(cur, dict) else dict.fromkeys(periods, cur)
        del vals[draw(st.sampled_from(periods))]
        holder[key] = {str(p): v for p, v in vals.items()}
    return prob, path


def _m_demand_scenario_workload_names(draw, prob):
    scen = _demand_scenarios(draw, prob, 2)
    k = draw(st.integers(1, len(scen) - 1))
    wl = scen[k]["workloads"]
    if len(wl) > 1 and draw(st.booleans()):
        del wl[draw(st.sampled_from(sorted(wl)))]
    else:
        wl[draw(st.sampled_from(["ghost", "Training", "serving"]))] = 1
    return prob, f"demand_scenarios[{k}].workloads"


def _m_demand_scenarios_structure(draw, prob):
    if draw(st.booleans()):
        # (not []: whether an empty list is an error is not settled by the spec)
        prob["demand_scenarios"] = draw(st.sampled_from([5, "low", {"name": "low", "probability": 1, "demand": 1}]))
        return prob, "demand_scenarios"
    scen = prob["demand_scenarios"]
    k = draw(st.integers(0, len(scen) - 1))
    scen[k] = draw(st.sampled_from([1, "low", [scen[k]]]))
    return prob, f"demand_scenarios[{k}]"


def _m_demand_scenario_unknown_field(draw, prob):
    scen = prob["demand_scenarios"]
    key = draw(st.sampled_from(["probabilty", "demands", "weight", "workload", "periods"]))
    scen[draw(st.integers(0, len(scen) - 1))][key] = 1
    return prob, key


def _m_top_demand_with_scenarios(draw, prob):
    if draw(st.booleans()):
        prob["demand"] = draw(st.sampled_from([0, 100, {p: 1 for p in prob["periods"]}]))
        return prob, "demand"
    prob["workloads"] = {"training": 1}
    return prob, "workloads"


def _m_bad_scenario_cvar(draw, prob):
    r = _risk(prob)
    if draw(st.booleans()):
        r["scenario_cvar_weight"] = draw(st.sampled_from([-1, -0.5, "1", math.nan, True]))
        return prob, "risk.scenario_cvar_weight"
    r["scenario_cvar_alpha"] = draw(st.sampled_from([1, 1.0, 1.5, -0.1, "0.9", math.nan]))
    return prob, "risk.scenario_cvar_alpha"


def _m_v2_unknown_field(draw, prob):
    where = draw(st.sampled_from(["top", "risk"] + (["site"] if "sites" in prob else [])))
    if where == "top":
        key = draw(st.sampled_from(["unserved", "unserved_penalties", "power_builds", "demand_scenario", "scenarios"]))
        prob[key] = 1
    elif where == "risk":
        key = draw(st.sampled_from(["scenario_cvar_wieght", "scenario_alpha", "cvar_weight", "demand_scenarios"]))
        _risk(prob)[key] = 0.5
    else:
        key = draw(st.sampled_from(["powerbuild", "power_builds", "build"]))
        sites = prob["sites"]
        sites[draw(st.integers(0, len(sites) - 1))][key] = {"cost_per_gw": 1}
    return prob, key


V2_FLAGS = ("unserved", "power_build", "demand_scenarios")
# (mutation, flags its base problem must have: True / False; others are drawn)
V2_MUTATIONS: list[tuple[Mutation, dict[str, bool]]] = [
    (_m_bad_unserved, {}),
    (_m_bad_power_build_value, {"power_build": True}),
    (_m_power_build_structure, {"power_build": True}),
    (_m_top_power_build_with_sites, {"sites": True}),
    (_m_demand_scenario_probability, {"demand_scenarios": True}),
    (_m_demand_scenario_name, {"demand_scenarios": True}),
    (_m_demand_scenario_kind, {"demand_scenarios": True}),
    (_m_demand_scenario_bad_demand, {"demand_scenarios": True}),
    (_m_demand_scenario_workload_names, {"demand_scenarios": True, "workloads": True}),
    (_m_demand_scenarios_structure, {"demand_scenarios": True}),
    (_m_demand_scenario_unknown_field, {"demand_scenarios": True}),
    (_m_top_demand_with_scenarios, {"demand_scenarios": True}),
    (_m_bad_scenario_cvar, {}),
    (_m_v2_unknown_field, {}),
]


# --------------------------------------------------------------------------- #
# Mutations of contract v3's two vendor rules
# --------------------------------------------------------------------------- #
def _only_min_share(prob: dict, keep: list[dict]) -> None:
    """Drop min_share from every vendor entry but those in `keep` (no second error from the sum)."""
    for e in prob.get("vendors", []):
        if not any(e is k for k in keep):
            e.pop("min_share", None)


def _m_bad_min_share(draw, prob):
    # (not above 1: min_share 1.5 also puts the sum over vendors above 1)
    j, e = _vendor_entry(draw, prob)
    _only_min_share(prob, [e])
    e["min_share"] = draw(st.sampled_from([-0.1, -1, 1, 1.0, "0.2", True, math.nan, math.inf, [0.1], {"x": 0.1}]))
    return prob, f"vendors[{j}].min_share"


def _m_bad_max_new_compute(draw, prob):
    # (not +inf: it could be read as "no allocation")
    j, e = _vendor_entry(draw, prob)
    periods = _periods(prob)
    what = draw(st.sampled_from(["negative", "string", "nan", "bool", "list", "missing_period", "extra_period"]))
    if what == "list":
        e["max_new_compute"] = [1 for _ in periods]
    elif what in ("missing_period", "extra_period"):
        _wrong_periods(draw, e, "max_new_compute", periods, what)
    else:
        bad = {"negative": draw(st.sampled_from([-1, -0.5, -1e6])), "string": "100", "nan": math.nan, "bool": True}
        _set_per_period(draw, e, "max_new_compute", periods, bad[what])
    return prob, f"vendors[{j}].max_new_compute"


def _m_min_share_above_max_share(draw, prob):
    """A vendor's min_share above its own max_share, or above risk.max_share when it has none."""
    j, e = _vendor_entry(draw, prob)
    _only_min_share(prob, [e])
    cap = draw(st.sampled_from([0.3, 0.5, 0.75]))
    if draw(st.booleans()):
        e["max_share"] = cap
    else:
        e.pop("max_share", None)
        _risk(prob)["max_share"] = cap
    e["min_share"] = _nice(cap + draw(st.sampled_from([0.05, 0.1, 0.2])))
    return prob, f"vendors[{j}].min_share"


def _m_min_share_sum_above_one(draw, prob):
    """Two vendors' min_share (each within its max_share) summing above 1 (a vendor is added if needed)."""
    offers = prob["offers"]
    used = sorted({o["vendor"] for o in offers})
    if len(used) < 2:
        extra = copy.deepcopy(offers[0])
        extra["name"] = "extra-offer"
        extra["vendor"] = next(v for v in VENDOR_NAMES if v not in used)
        extra.pop("installed", None)  # (with sites it could name a site not hosting the new vendor)
        extra.pop("installed_life", None)
        offers.append(extra)
        used.append(extra["vendor"])
    chosen = draw(st.lists(st.sampled_from(used), min_size=2, max_size=2, unique=True))
    entries = prob.setdefault("vendors", [])
    keep = []
    for v, share in zip(chosen, [0.6, draw(st.sampled_from([0.45, 0.5, 0.7, 0.9]))]):
        e = next((e for e in entries if e["name"] == v), None)
        if e is None:
            e = {"name": v}
            entries.append(e)
        e["max_share"] = 1.0
        e["min_share"] = share
        keep.append(e)
    _only_min_share(prob, keep)
    return prob, "min_share"


def _m_vendor_rule_unknown_field(draw, prob):
    key = draw(st.sampled_from(["minshare", "min_shares", "max_new_computes", "max_new", "allocation"]))
    _vendor_entry(draw, prob)[1][key] = 0.1
    return prob, key


# (mutation, flags its base problem must have: True / False; others are drawn)
VENDOR_RULE_MUTATIONS: list[tuple[Mutation, dict[str, bool]]] = [
    (_m_bad_min_share, {}),
    (_m_bad_max_new_compute, {}),
    (_m_min_share_above_max_share, {}),
    (_m_min_share_sum_above_one, {}),
    (_m_vendor_rule_unknown_field, {}),
]


# --------------------------------------------------------------------------- #
# Mutations of contract v3's capacity options
# --------------------------------------------------------------------------- #
def _pick_option(draw, prob: dict) -> tuple[int, dict]:
    k = draw(st.integers(0, len(prob["options"]) - 1))
    return k, prob["options"][k]


def _m_option_unknown_field(draw, prob):
    key = draw(st.sampled_from(["strike", "max_unit", "reserve_price", "exercise_period", "premium", "units"]))
    _pick_option(draw, prob)[1][key] = 1
    return prob, key


def _m_option_duplicate_name(draw, prob):
    options = prob["options"]
    if len(options) == 1:
        options.append(copy.deepcopy(options[0]))
    else:
        options[1]["name"] = options[0]["name"]
    return prob, "options[1].name"


def _m_option_missing_or_bad_name(draw, prob):
    k, x = _pick_option(draw, prob)
    fld = draw(st.sampled_from(["name", "offer", "max_units"]))
    if fld == "name" and draw(st.booleans()):
        x["name"] = draw(st.sampled_from([1, ["up-to"], {"name": "up-to"}]))
    else:
        del x[fld]
    return prob, f"options[{k}].{fld}"


def _m_option_unknown_offer(draw, prob):
    k, x = _pick_option(draw, prob)
    vendor = prob["offers"][0]["vendor"]  # a vendor is not an offer
    x["offer"] = draw(st.sampled_from(["ghost", x["offer"].upper(), x["offer"] + " ", vendor, 5]))
    return prob, f"options[{k}].offer"


def _m_option_bad_number(draw, prob):
    k, x = _pick_option(draw, prob)
    if draw(st.booleans()):
        x["max_units"] = draw(st.sampled_from([-1, -4, 1.5, "5", True, math.nan, [5]]))
        return prob, f"options[{k}].max_units"
    x["reserve_cost"] = draw(st.sampled_from([-1, -0.5, "1", True, math.nan, math.inf, [1]]))
    return prob, f"options[{k}].reserve_cost"


def _m_option_bad_period(draw, prob):
    """reserve_period / exercise_until not a period of the horizon (or not an int)."""
    k, x = _pick_option(draw, prob)
    periods = _periods(prob)
    fld = draw(st.sampled_from(["reserve_period", "exercise_until"]))
    bad = draw(st.sampled_from([periods[-1] + 1, periods[0] - 1, periods[0] + 0.5, "soon", True, [periods[0]]]))
    x[fld] = bad
    if fld == "reserve_period":
        x.pop("exercise_until", None)  # (a period after it would also come before the bad one)
    return prob, f"options[{k}].{fld}"


def _m_option_window_reversed(draw, prob):
    """exercise_until before reserve_period (before the first period with one period)."""
    k, x = _pick_option(draw, prob)
    periods = _periods(prob)
    if len(periods) == 1:
        x["exercise_until"] = periods[0] - 1
        return prob, f"options[{k}].exercise_until"
    j = draw(st.integers(1, len(periods) - 1))
    x["reserve_period"] = periods[j]
    x["exercise_until"] = periods[draw(st.integers(0, j - 1))]
    return prob, f"options[{k}].exercise_until"


def _m_option_bad_exercise_price(draw, prob):
    k, x = _pick_option(draw, prob)
    periods = _periods(prob)
    what = draw(st.sampled_from(["negative", "string", "nan", "bool", "list", "missing_period", "extra_period"]))
    if what == "list":
        x["exercise_price"] = [1 for _ in periods]
    elif what in ("missing_period", "extra_period"):
        _wrong_periods(draw, x, "exercise_price", periods, what)
    else:
        bad = {"negative": draw(st.sampled_from([-1, -0.5])), "string": "10", "nan": math.nan, "bool": True}
        _set_per_period(draw, x, "exercise_price", periods, bad[what])
    return prob, f"options[{k}].exercise_price"


def _m_option_tiers_without_price(draw, prob):
    """An option on an offer with price_tiers (given two if it had a unit_cost) without exercise_price;
    the other options on that offer keep (or get) one."""
    k, x = _pick_option(draw, prob)
    o = next(o for o in prob["offers"] if o["name"] == x["offer"])
    if "price_tiers" not in o:
        price = o.pop("unit_cost")
        o["price_tiers"] = [
            {"from_units": 0, "unit_cost": price},
            {"from_units": 10, "unit_cost": copy.deepcopy(price)},
        ]
    for other in prob["options"]:
        if other["offer"] == x["offer"]:
            other.setdefault("exercise_price", 1)
    del x["exercise_price"]
    return prob, f"options[{k}].exercise_price"


def _m_options_structure(draw, prob):
    if draw(st.booleans()):
        prob["options"] = draw(st.sampled_from([5, "up-to", copy.deepcopy(prob["options"][0])]))
        return prob, "options"
    k, x = _pick_option(draw, prob)
    prob["options"][k] = draw(st.sampled_from([1, "up-to", [x]]))
    return prob, f"options[{k}]"


# (mutation, flags its base problem must have: True / False; others are drawn)
OPTION_MUTATIONS: list[tuple[Mutation, dict[str, bool]]] = [
    (_m_option_unknown_field, {}),
    (_m_option_duplicate_name, {}),
    (_m_option_missing_or_bad_name, {}),
    (_m_option_unknown_offer, {}),
    (_m_option_bad_number, {}),
    (_m_option_bad_period, {}),
    (_m_option_window_reversed, {}),
    (_m_option_bad_exercise_price, {}),
    (_m_option_tiers_without_price, {}),
    (_m_options_structure, {}),
]


@st.composite
def invalid_problems(
    draw, v2: bool | None = None, vendor_rules: bool = False, options: bool = False
) -> tuple[dict, str]:
    """(problem, path_fragment): a valid problem with exactly one invalidating mutation.

    The mutations of `MUTATIONS` start from problems without the fields of
    "Commercial terms, sites and workloads" and contract v2; those of
    `NEW_MUTATIONS` from problems using some of the former (always those the
    mutation needs), those of `V2_MUTATIONS` from problems using any fields
    (always those the mutation needs).  `v2`: True = only `V2_MUTATIONS`,
    False = none of them, None = any mutation.
    Fragments of `V2_MUTATIONS`: bad unserved_penalty -> "unserved_penalty";
    bad power_build values -> "power_build.<field>" / "sites[j].power_build.<field>",
    power_build not a mapping -> "power_build" / "sites[j].power_build", a
    top-level power_build with sites -> "power_build"; demand scenario
    probabilities not summing to 1 (or one above 1) -> "demand_scenarios", one
    probability 0, negative, missing or not a number (sum kept) ->
    "demand_scenarios[k].probability"; duplicate / missing / non-string name ->
    "demand_scenarios[k].name" (k the later one); both demand and workloads,
    neither, or a scenario of the other kind than scenario 0 ->
    "demand_scenarios[k]"; bad demand values -> "demand_scenarios[k].demand" /
    ".workloads"; other workload names than scenario 0 ->
    "demand_scenarios[k].workloads"; not a list -> "demand_scenarios", an entry
    not a mapping -> "demand_scenarios[k]"; top-level demand / workloads too ->
    "demand" / "workloads"; bad scenario_cvar_* -> "risk.scenario_cvar_weight" /
    "risk.scenario_cvar_alpha"; unknown fields -> the key.
    `vendor_rules=True`: only `VENDOR_RULE_MUTATIONS` (contract v3's two vendor
    rules, on problems using any fields, `vendor_rules` among them; `v2` is then
    ignored): min_share out of [0, 1) or not a number -> "vendors[j].min_share";
    max_new_compute negative, not a number or a bad per-period mapping ->
    "vendors[j].max_new_compute"; a vendor's min_share above its own max_share or
    (without one) risk.max_share -> "vendors[j].min_share"; min_share summed over
    vendors above 1 -> "min_share"; unknown fields -> the key.  Each leaves
    min_share only on the vendors it names (so the sum adds no second error).
    `options=True`: only `OPTION_MUTATIONS` (contract v3's capacity options, on problems
    using any fields, `options` among them; `v2` and `vendor_rules` are then ignored):
    unknown fields -> the key; a duplicate name -> "options[1].name"; name, offer or
    max_units missing (or a name not a string) -> "options[k].<field>"; an offer that is
    not an offer's name -> "options[k].offer"; max_units not an int >= 0, reserve_cost not
    a number >= 0 -> "options[k].max_units" / ".reserve_cost"; reserve_period /
    exercise_until not a period of the horizon -> "options[k].<field>"; exercise_until
    before reserve_period -> "options[k].exercise_until"; a bad exercise_price (negative,
    not a number, a bad per-period mapping) or none for an offer with price_tiers ->
    "options[k].exercise_price"; `options` not a list -> "options", an entry not a
    mapping -> "options[k]".
    """
    if options:
        mutation, needs = draw(st.sampled_from(OPTION_MUTATIONS))
        names = ("commercial", "sites", "workloads", *V2_FLAGS, "vendor_rules")
        flags = {f: needs[f] if f in needs else draw(st.booleans()) for f in names}
        return mutation(draw, _base_problem(draw, {**flags, "options": True}))
    if vendor_rules:
        mutation, needs = draw(st.sampled_from(VENDOR_RULE_MUTATIONS))
        names = ("commercial", "sites", "workloads", *V2_FLAGS, "vendor_rules")
        flags = {f: needs[f] if f in needs else draw(st.booleans()) for f in names}
        return mutation(draw, _base_problem(draw, flags))
    n1, n2, n3 = len(MUTATIONS), len(NEW_MUTATIONS), len(V2_MUTATIONS)
    lo, hi = (n1 + n2, n1 + n2 + n3 - 1) if v2 else (0, n1 + n2 - 1 if v2 is False else n1 + n2 + n3 - 1)
    k = draw(st.integers(lo, hi))
    flags = {"commercial": False, "sites": False, "workloads": False, **dict.fromkeys(V2_FLAGS, False)}
    if k < n1:
        mutation = MUTATIONS[k]
    elif k < n1 + n2:
        mutation, needs = NEW_MUTATIONS[k - n1]
        flags = {f: needs[f] if f in needs else (draw(st.booleans()) if f not in V2_FLAGS else False) for f in flags}
    else:
        mutation, needs = V2_MUTATIONS[k - n1 - n2]
        flags = {f: needs[f] if f in needs else draw(st.booleans()) for f in flags}
    return mutation(draw, _base_problem(draw, flags))


def _base_problem(draw, flags: dict[str, bool]) -> dict:
    """A (deep-copied) valid problem with these feature flags, for a mutation."""
    return copy.deepcopy(
        draw(
            problems(
                max_offers=3, max_periods=3, risk=True, scenarios=draw(st.booleans()), hhi=draw(st.booleans()), **flags
            )
        )
    )
