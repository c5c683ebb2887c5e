"""Bad input raises ProblemError naming the field and the value; good input round-trips."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import procure
from procure import Offer, Problem, ProblemError, Risk, Vendor


def _set(problem: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set a dotted/indexed path such as ``offers[1].unit_cost`` in a problem mapping."""
    node: Any = problem
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value
    return problem


BAD = [
    ("offers[1].unit_cost", -1, "offers[1].unit_cost: -1 is negative"),
    ("offers[0].compute", 0, "offers[0].compute: 0 must be > 0"),
    ("offers[0].compute", math.nan, "offers[0].compute: nan is not finite"),
    ("offers[0].power_kw", math.inf, "offers[0].power_kw: inf is not finite"),
    ("offers[0].compute", "fast", "offers[0].compute: 'fast' is not a number"),
    ("offers[0].compute", True, "offers[0].compute: True is not a number"),
    ("offers[0].lot_size", 0, "offers[0].lot_size: 0 must be ≥ 1"),
    ("offers[0].lot_size", 2.5, "offers[0].lot_size: 2.5 is not a whole number"),
    ("offers[0].lifetime", 0, "offers[0].lifetime: 0 must be ≥ 1"),
    ("offers[0].lead_time", -1, "offers[0].lead_time: -1 is negative"),
    ("offers[0].installed", -5, "offers[0].installed: -5 is negative"),
    ("offers[0].max_units", [1, 2, 3], "offers[0].max_units: a list of 3 is a list"),
    ("offers[0].unit_cst", 1, "offers[0].unit_cst: unknown field; did you mean 'unit_cost'?"),
    ("offers[2].name", "tpu", "offers[2].name: 'tpu' is already the name of offers[0]"),
    ("offers[0].name", "", "offers[0].name: '' is empty"),
    ("offers[0].vendor", 7, "offers[0].vendor: 7 is not a string"),
    ("powercap_gw", 1, "powercap_gw: unknown field; did you mean 'power_cap_gw'?"),
    ("pue", 0.9, "pue: 0.9 must be ≥ 1"),
    ("discount_rate", -0.1, "discount_rate: -0.1 is negative"),
    ("total_budget", -1, "total_budget: -1 is negative"),
    ("demand", {"2026": 1, "2027": 2}, "demand: misses period 2028"),
    ("demand", {"2026": 1, "2027": 2, "2028": 3, "2031": 4}, "demand['2031']: names a period that is not in periods"),
    ("demand", {"2026": 1, "2027": 2, "2028": -3}, "demand[2028]: -3 is negative"),
    ("electricity_price", {"x": 1}, "electricity_price['x']: is not a period"),
    ("periods", [2026, 2028], "periods[1]: 2028 does not follow 2026"),
    ("periods", [], "periods: an empty list must list at least one period"),
    ("periods", "2026", "periods: '2026' is not a list"),
    ("offers", [], "offers: an empty list must list at least one offer"),
    ("vendors", [{"name": "amd"}], "vendors[0].name: 'amd' is not the vendor of any offer"),
    ("vendors", [{"name": "google"}, {"name": "google"}], "vendors[1].name: 'google' is listed twice"),
    ("vendors", [{"name": "google", "max_share": 1.5}], "vendors[0].max_share: 1.5 must be ≤ 1"),
    ("vendors", [{"name": "google", "onboarding": 1}], "did you mean 'onboarding_cost'?"),
    ("risk.max_share", 0, "risk.max_share: 0 must be > 0"),
    ("risk.min_vendors", 1.5, "risk.min_vendors: 1.5 is not a whole number"),
    ("risk.min_vendor_share", 0, "risk.min_vendor_share: 0 must be > 0"),
    ("risk.survive_vendor_loss", 1.2, "risk.survive_vendor_loss: 1.2 must be ≤ 1"),
    ("risk.maxshare", 0.5, "risk.maxshare: unknown field; did you mean 'max_share'?"),
    ("risk", [1], "risk: a list of 1 is not a mapping"),
    ("offers[0].price_tiers", [], "offers[0].price_tiers: and unit_cost are both given"),
    ("offers[0].discount", "bulk", "offers[0].discount: 'bulk' is not one of 'incremental', 'all_units'"),
    ("sites", [{"name": "a"}, {"name": "a"}], "sites[1].name: 'a' is already the name of sites[0]"),
    ("sites", [{"name": "a", "pue": 0.5}], "sites[0].pue: 0.5 must be ≥ 1"),
    ("sites", [{"name": "a"}], "offers[1].installed: 500 must be a mapping {site: units}"),
    ("workloads", {"train": 5}, "workloads: and demand are both given"),
    ("offers[0].efficiency", {"train": 1}, "offers[0].efficiency: needs workloads"),
    ("vendors", [{"name": "google", "min_spend": -5}], "vendors[0].min_spend: -5 is negative"),
    ("vendors", [{"name": "google", "max_spend": "lots"}], "vendors[0].max_spend: 'lots' is not a number"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[b[0] + "=" + repr(b[1]) for b in BAD])
def test_bad_field_is_named(small: dict[str, Any], path: str, value: Any, message: str) -> None:
    with pytest.raises(ProblemError) as info:
        procure.solve(_set(small, path, value))
    assert message in str(info.value)
    assert str(info.value).startswith(info.value.path + ":")


@pytest.mark.parametrize("field", ["periods", "demand", "offers"])
def test_missing_required_field(small: dict[str, Any], field: str) -> None:
    del small[field]
    with pytest.raises(ProblemError, match=f"{field}: is required"):
        Problem.from_dict(small)


def test_missing_offer_field(small: dict[str, Any]) -> None:
    del small["offers"][1]["compute"]
    with pytest.raises(ProblemError, match=r"offers\[1\]\.compute: is required"):
        Problem.from_dict(small)


def _tiered(small: dict[str, Any], tiers: list[dict[str, Any]]) -> dict[str, Any]:
    del small["offers"][0]["unit_cost"]
    small["offers"][0]["price_tiers"] = tiers
    return small


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([{"from_units": 10, "unit_cost": 5}], "offers[0].price_tiers[0].from_units: 10 must be 0"),
        (
            [{"from_units": 0, "unit_cost": 5}, {"from_units": 0, "unit_cost": 4}],
            "offers[0].price_tiers[1].from_units: 0 must be above the previous tier's 0",
        ),
        ([{"from_units": 0, "unit_cost": -5}], "offers[0].price_tiers[0].unit_cost: -5 is negative"),
        ([{"from_units": 0}], "offers[0].price_tiers[0].unit_cost: is required"),
        ([], "offers[0].price_tiers: an empty list must list at least one tier"),
    ],
)
def test_bad_price_tiers(small: dict[str, Any], tiers: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ProblemError) as info:
        Problem.from_dict(_tiered(small, tiers))
    assert message in str(info.value)


def test_workload_fields(small: dict[str, Any]) -> None:
    del small["demand"]
    with pytest.raises(ProblemError, match="demand: is required"):
        Problem.from_dict(small)
    small["workloads"] = {"train": 100, "serve": {"2026": 1, "2027": 2, "2028": 3}}
    small["offers"][0]["efficiency"] = {"serve": 0.5}
    problem = Problem.from_dict(small)
    assert problem.total_demand == (101.0, 102.0, 103.0)
    assert Problem.from_dict(problem.to_dict()) == problem
    small["offers"][0]["efficiency"] = {"infer": 0.5}
    with pytest.raises(ProblemError, match=r"offers\[0\]\.efficiency\.infer: is not a workload"):
        Problem.from_dict(small)


def test_sites_round_trip(small: dict[str, Any]) -> None:
    small["sites"] = [
        {"name": "oregon", "vendors": ["google", "nvidia"], "pue": 1.1},
        {"name": "ohio", "power_cap_gw": 0.5, "electricity_price": {"2026": 70, "2027": 71, "2028": 72}},
    ]
    small["offers"][1]["installed"] = {"ohio": 500}
    problem = Problem.from_dict(small)
    assert Problem.from_dict(problem.to_dict()) == problem
    assert Problem.from_dict(json.loads(problem.to_json())) == problem
    small["offers"][1]["installed"] = {"oregon": 500}
    with pytest.raises(ProblemError, match="does not host 'amazon'"):
        Problem.from_dict(small)
    small["offers"][1]["installed"] = {}
    small["sites"][0]["vendors"] = ["amd"]
    with pytest.raises(ProblemError, match=r"sites\[0\]\.vendors\[0\]: 'amd' is not the vendor of any offer"):
        Problem.from_dict(small)


def test_tiers_round_trip(small: dict[str, Any]) -> None:
    problem = Problem.from_dict(
        _tiered(
            small,
            [
                {"from_units": 0, "unit_cost": 30000},
                {"from_units": 1000, "unit_cost": {"2026": 28000, "2027": 27000, "2028": 26000}},
            ],
        )
    )
    assert Problem.from_dict(problem.to_dict()) == problem
    assert problem.offers[0].price_tiers[1].unit_cost == (28000.0, 27000.0, 26000.0)


def test_problem_error_is_value_error() -> None:
    assert issubclass(ProblemError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mip_gap": -1}, "mip_gap: -1"),
        ({"mip_gap": "tight"}, "mip_gap: 'tight'"),
        ({"time_limit": 0}, "time_limit: 0"),
        ({"threads": 0}, "threads: 0"),
        ({"solver": "cplexx"}, "solver: 'cplexx' is not a known solver"),
    ],
)
def test_bad_solve_argument(small: dict[str, Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ProblemError, match=message):
        procure.solve(small, **kwargs)


def test_not_a_problem() -> None:
    with pytest.raises(ProblemError, match="is not a Problem"):
        procure.solve(42)  # type: ignore[arg-type]


def test_round_trip(small: dict[str, Any]) -> None:
    problem = Problem.from_dict(small)
    assert Problem.from_dict(problem.to_dict()) == problem
    assert Problem.from_dict(json.loads(problem.to_json())) == problem


def test_python_objects_equal_mapping(small: dict[str, Any]) -> None:
    built = Problem(
        name="small",
        periods=(2026, 2027, 2028),
        demand={2026: 1000, 2027: 2500, 2028: 6000},
        offers=(
            Offer("tpu", "google", unit_cost=30000, compute=2.3, power_kw=1.1, lot_size=256, lifetime=5),
            Offer(
                "trn2",
                "amazon",
                unit_cost=20000,
                compute=0.667,
                power_kw=1.0,
                lot_size=64,
                installed=500,
                min_order=640,
            ),
            Offer("gb200", "nvidia", unit_cost=(42000, 38000, 35000), compute=2.5, power_kw=1.7, lot_size=72),
        ),
        vendors=(Vendor("nvidia", onboarding_cost=1e8),),
        power_cap_gw={2026: 1.0, 2027: 2.0, 2028: 5.0},
        pue=1.1,
        electricity_price=80,
        discount_rate=0.08,
        risk=Risk(max_share=0.6, min_vendors=2, survive_vendor_loss=0.3),
    )
    assert built == Problem.from_dict(small)
    assert built.offers[2].unit_cost == (42000.0, 38000.0, 35000.0)
    assert built.vendor_names == ("google", "amazon", "nvidia")


def test_python_objects_are_validated() -> None:
    with pytest.raises(ProblemError, match=r"offers\[0\]\.compute: -1 must be > 0"):
        Problem(periods=(2026,), demand=1, offers=(Offer("a", "v", unit_cost=1, compute=-1),))


def test_files(tmp_path, small: dict[str, Any]) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(small))
    assert Problem.from_file(path) == Problem.from_dict(small)
    toml = tmp_path / "p.toml"
    toml.write_text('periods = [2026]\ndemand = 10\n[[offers]]\nname = "a"\nvendor = "v"\nunit_cost = 1\ncompute = 1\n')
    assert procure.solve(toml).purchases.loc[2026, "a"] == 10
    with pytest.raises(ProblemError, match="no such problem file"):
        Problem.from_file(tmp_path / "missing.toml")
    with pytest.raises(ProblemError, match=r"must end in \.json or \.toml"):
        Problem.from_file(tmp_path / "p.yaml")
    bad = tmp_path / "bad.toml"
    bad.write_text("periods = [2026\n")
    with pytest.raises(ProblemError, match="invalid TOML"):
        Problem.from_file(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(ProblemError, match="invalid JSON at line 1"):
        Problem.from_file(bad_json)
