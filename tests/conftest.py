"""Shared fixtures: a small three-vendor problem in the public mapping format."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

sys.path.insert(0, str(Path(__file__).parent))  # tests.reference is importable as `reference`

# Fresh draws every run, reproducible: a failure prints its `@reproduce_failure` blob, and is
# saved in the tree's example database (.hypothesis/, git-ignored) and replayed first on the
# next local run.  `pytest -p hypothesis --hypothesis-seed=N` repeats a run's draws (CI
# chooses N per run and prints it; with a seed Hypothesis leaves the database alone).
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"),
)
settings.load_profile("default")

SMALL: dict[str, Any] = {
    "name": "small",
    "periods": [2026, 2027, 2028],
    "demand": {"2026": 1000, "2027": 2500, "2028": 6000},
    "offers": [
        {
            "name": "tpu",
            "vendor": "google",
            "unit_cost": 30000,
            "compute": 2.3,
            "power_kw": 1.1,
            "lot_size": 256,
            "lifetime": 5,
        },
        {
            "name": "trn2",
            "vendor": "amazon",
            "unit_cost": 20000,
            "compute": 0.667,
            "power_kw": 1.0,
            "lot_size": 64,
            "installed": 500,
            "min_order": 640,
        },
        {
            "name": "gb200",
            "vendor": "nvidia",
            "unit_cost": {"2026": 42000, "2027": 38000, "2028": 35000},
            "compute": 2.5,
            "power_kw": 1.7,
            "lot_size": 72,
        },
    ],
    "vendors": [{"name": "nvidia", "onboarding_cost": 1e8}],
    "power_cap_gw": {"2026": 1.0, "2027": 2.0, "2028": 5.0},
    "pue": 1.1,
    "electricity_price": 80,
    "discount_rate": 0.08,
    "risk": {"max_share": 0.6, "min_vendors": 2, "survive_vendor_loss": 0.3},
}


@pytest.fixture
def small() -> dict[str, Any]:
    """A fresh copy of a small feasible three-vendor problem."""
    return copy.deepcopy(SMALL)


@pytest.fixture(scope="module")
def plain() -> Any:
    """SMALL solved (a `procure.Result` with a plan), once per module."""
    import procure

    result = procure.solve(SMALL, time_limit=20)
    assert result.has_plan, result.message
    return result


@pytest.fixture(scope="module")
def tree() -> Any:
    """A `procure.TreeResult` over three demand paths (low, mid, high) of two vendors (x, y)."""
    import procure

    offers = [
        {"name": "hot", "vendor": "x", "unit_cost": 100.0, "compute": 1.0, "power_kw": 2.0},
        {"name": "cool", "vendor": "y", "unit_cost": 130.0, "compute": 1.0, "power_kw": 1.0},
    ]
    paths = [("low", 0.3, [10, 12, 14]), ("mid", 0.5, [10, 20, 30]), ("high", 0.2, [10, 30, 60])]
    problem = {
        "name": "tree",
        "periods": [2026, 2027, 2028],
        "offers": offers,
        "power_cap_gw": 1e-4,
        "risk": {"max_share": 0.8},
        "demand_scenarios": [
            {"name": n, "probability": p, "demand": dict(zip(["2026", "2027", "2028"], d))} for n, p, d in paths
        ],
    }
    result = procure.solve(problem, time_limit=20)
    assert isinstance(result, procure.TreeResult) and result.has_plan, result.message
    return result


@pytest.fixture(scope="module")
def two_sites() -> Any:
    """SMALL on two sites, west (2 GW) and east (3 GW, where the installed Trainium are), solved."""
    import procure

    problem = copy.deepcopy(SMALL)
    problem["sites"] = [{"name": "west", "power_cap_gw": 2.0}, {"name": "east", "power_cap_gw": 3.0}]
    problem["offers"][1]["installed"] = {"east": 500}
    problem.pop("power_cap_gw")
    result = procure.solve(problem, time_limit=20)
    assert result.has_plan, result.message
    return result
