"""The supported ranges of problem values: one table, used by `procure.validate`.

A value outside these ranges is rejected with a `ProblemError` before any
model is built, because the model could not represent it faithfully:

``MAX_VALUE = 1e15``
    The largest magnitude of any real-valued field (money, compute, demand,
    power, caps, penalties, weights, PUE, discount rate, …).  Values are
    multiplied together when the model is built (price × lot size, power ×
    PUE × hours × electricity price, demand × penalty), and HiGHS reads any
    number of 1e20 or more as *infinite*: a bound of 1e20 vanishes, a cost of
    1e20 makes the objective infinite.  Beyond that, doubles have 15–16
    significant digits, so 1e15 dollars can still be told apart from 1e15 + 1,
    while the solver's feasibility tolerance (about 1e-6 relative to the
    scaled rows) keeps its meaning.  Larger numbers call for larger units
    (GW instead of kW, $M instead of $).

``MIN_POSITIVE = 1e-9``
    The smallest non-zero magnitude of a field whose value enters the
    model's matrix or bounds (compute, power, prices, opex, budgets, caps,
    electricity price, spends, onboarding, penalties, weights, demand,
    efficiency, supply).  HiGHS drops matrix entries below 1e-9 as round-off
    and works to feasibility tolerances of about 1e-7, so a smaller non-zero
    value would silently turn into 0 — or into a model HiGHS reports as
    "Empty".  Give 0, or use smaller units.  Fractions in [0, 1] that enter
    the matrix or the objective (probabilities, shares, availabilities,
    ``survive_vendor_loss``, ``max_hhi``) follow the same rule: 0, or at least
    1e-9; ``cvar_alpha`` has no lower limit.

``MAX_UNITS = 10**12``
    The most units of any count of chips (``lot_size``, ``min_order``,
    ``installed``, ``price_tiers[].from_units``, ``max_units``).  Counts are
    integer columns and bounds of the MIP: above 2**53 a double no longer
    holds every whole number, lot counts times prices must stay below
    HiGHS's infinity, and numpy's int64 overflows at 2**63.

``MAX_LOTS = 10**12``
    For every offer, peak demand / (compute × lot size): the number of lots
    meeting the demand alone would take.  A lot count is an integer column;
    beyond 1e12 its integrality (tolerance 1e-6 relative) means nothing.

``MAX_COUNT = 10**6``
    The largest count of periods (``lifetime``, ``lead_time``,
    ``installed_life``) and ``risk.min_vendors``.  No horizon is that long;
    the limit keeps period arithmetic in numpy's int64.

``REQUIREMENT_TOL = 1e-9``
    How closely a plan must meet a requirement measured in a continuous
    quantity (compute, power, money, CVaR) for `procure.check` to accept
    it: ``lhs ≤ rhs + REQUIREMENT_TOL · max(1, |rhs|)``, room for rounding
    in double arithmetic and nothing more.  The model reads the rules
    exactly, so no plan the checker accepts is cheaper than the bound procure
    proves (up to this hair).  A looser tolerance would not be harmless: at
    1e-6 a plan may serve a demand of 16,560,000 fifteen units short, or a
    workload 1/3000 of a PFLOP/s short and beat the true optimum by 0.04%.
    Counts of chips, lots and vendors are whole numbers and are held exactly.
    Continuous parts of a plan (workload splits, power built) come from the
    solver to its tolerance (about 1e-7); procure polishes them with the
    plan's whole units held before checking.

``MAX_PERIOD = 10**6``
    The largest magnitude of a period (a year, or 1..N).  Periods are added
    to lifetimes and lead times in int64 arrays.
"""

from __future__ import annotations

__all__ = [
    "MAX_COUNT",
    "MAX_LOTS",
    "MAX_PERIOD",
    "MAX_UNITS",
    "MAX_VALUE",
    "MIN_POSITIVE",
    "REQUIREMENT_TOL",
]

MAX_VALUE = 1e15
MIN_POSITIVE = 1e-9
MAX_UNITS = 10**12
MAX_LOTS = 10**12
MAX_COUNT = 10**6
MAX_PERIOD = 10**6
REQUIREMENT_TOL = 1e-9
