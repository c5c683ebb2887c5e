"""One record per rule (issue 22, point 2): every consumer reads `procure.problem.rules.RULES`.

A vendor term is described entirely by its record (`VendorTerm`): the tests below run over
every such record, so a term added as a record is tested through every consumer — the
formulation, ``check()``, ``explain``, ``sensitivity``, ``rule_costs``, the HTML report and
the solver's messages — once it has an example here (a test fails until it has).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import procure
from procure.analysis.explain import DELETION_ORDER, FAMILIES
from procure.analysis.rule_costs import TOKEN_SHARE, rules_of
from procure.model.build import build_model
from procure.model.sets import model_data
from procure.problem.evaluate import CHECKS, evaluate, violations
from procure.problem.rules import RULES, VendorTerm, rule, vendor_terms
from procure.solvers.highs import FIELDS_OF

#: Two vendors, one compute per unit; "x" is cheaper and wins everything unless a rule says otherwise.
BASE: dict[str, Any] = {
    "name": "records",
    "periods": [2026, 2027],
    "demand": {"2026": 100, "2027": 200},
    "offers": [
        {"name": "cheap", "vendor": "x", "unit_cost": 10.0, "compute": 1.0},
        {"name": "dear", "vendor": "y", "unit_cost": 15.0, "compute": 1.0},
    ],
}

#: For each vendor term: the vendor that states it, a value the cheapest plan breaks, and a
#: rule of the same vendor that conflicts with it (for `explain`).
EXAMPLES: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "min_share": ("y", 0.3, {"max_spend": 150.0}),  # y may buy 10 units; 30% of 2026 is 30
    "max_new_compute": ("x", 60.0, {}),  # with y's supply capped (see _conflict)
}


def _stating(term: VendorTerm, **more: Any) -> dict[str, Any]:
    vendor, value, _ = EXAMPLES[term.key]
    p = copy.deepcopy(BASE)
    p["vendors"] = [{"name": vendor, term.key: value, **more}]
    return p


def _record(term: VendorTerm) -> Any:
    return next(r for r in RULES if r.term is term)


def test_every_vendor_term_has_an_example_here() -> None:
    assert {t.key for t in vendor_terms()} == set(EXAMPLES)
    assert {t.key for t in vendor_terms()} >= {"min_share", "max_new_compute"}  # contract v3's two


def test_the_records_are_one_list_every_consumer_reads() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    relaxed = [r.name for r in RULES if r.relax is not None]
    assert list(FAMILIES) == relaxed and DELETION_ORDER == tuple(relaxed)  # explain: the records, in order
    assert all(FIELDS_OF[name] == rule(name).behind for name in relaxed)  # the solver's messages
    named = {c.__name__.lstrip("_") for c in CHECKS}
    assert {r.name for r in RULES if r.check is not None} - {"workload_demand", "power_cap"} <= named
    for r in RULES:
        assert r.relax in (None, "upper", "lower", "scalar"), r.name
        if r.term is not None:
            assert r.name == r.term.key and r.relax is not None and r.check is not None


@pytest.mark.parametrize("term", vendor_terms(), ids=lambda t: t.key)
def test_a_vendor_term_is_formulated_from_its_record(term: VendorTerm) -> None:
    problem = procure.Problem.from_dict(_stating(term))
    data = model_data(problem)
    built = build_model(data, np.full((data.n_placements, data.n_periods), np.inf))
    blocks = {b.name: b for b in built.model.rows}
    assert term.key in blocks
    assert len(blocks[term.key].index) == int(term.applies(problem.inputs).sum())
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal" and result.check() == []


@pytest.mark.parametrize("term", vendor_terms(), ids=lambda t: t.key)
def test_check_catches_a_plan_breaking_only_the_term(term: VendorTerm) -> None:
    free = procure.solve(BASE, mip_gap=0)  # the cheapest plan, all from x
    stating = procure.Problem.from_dict(_stating(term))
    ev = evaluate(stating, free.evaluation.placed, free.evaluation.split, free.evaluation.built)
    broken = violations(stating, ev)
    vendor = EXAMPLES[term.key][0]
    assert broken and all(line.startswith(f"{term.key}[{vendor},") for line in broken), broken
    assert term.noun in broken[0]


def _conflict(term: VendorTerm) -> dict[str, Any]:
    clash = EXAMPLES[term.key][2]
    p = _stating(term, **clash)
    if term.key == "max_new_compute":  # x may add 60 a period, y 10: 2026's 100 cannot be met
        p["offers"][1]["max_units"] = 10
    return p


@pytest.mark.parametrize("term", vendor_terms(), ids=lambda t: t.key)
def test_explain_names_the_term_in_its_records_words(term: VendorTerm) -> None:
    vendor = EXAMPLES[term.key][0]
    d = procure.explain(_conflict(term))
    paths = {q.path for q in d.conflict}
    assert any(p.startswith(term.field(vendor)) for p in paths), paths
    record = _record(term)
    assert record.what.format(vendor, "").split(" in ")[0].strip() in str(d)


@pytest.mark.parametrize("term", vendor_terms(), ids=lambda t: t.key)
def test_sensitivity_rule_costs_and_report_read_the_record(term: VendorTerm) -> None:
    vendor, value, _ = EXAMPLES[term.key]
    result = procure.solve(_stating(term), mip_gap=0)
    table = result.sensitivity().table
    kind = term.price[0]
    mine = table[table["path"].str.startswith(term.field(vendor))]
    assert not mine.empty and (mine["kind"] == kind).all() and (mine["unit"] == term.price[1]).all()
    assert mine["binding"].any()  # the example binds
    removed = {r.path: r for r in rules_of(result.problem)}
    assert removed[term.field(vendor)].description == term.describe(vendor, value)
    assert removed[term.field(vendor)].neutral == term.unset
    costs = result.rule_costs(mip_gap=0).set_index("rule")["cost"]
    assert costs[term.field(vendor)] > 0  # the example binds: removing it saves money
    html = result.report()
    column = term.column.format(period=2026, unit="PFLOP/s")
    assert column in html


def test_a_check_says_which_way_the_term_is_broken() -> None:
    free = procure.solve(BASE, mip_gap=0)
    for term in vendor_terms():
        stating = procure.Problem.from_dict(_stating(term))
        ev = evaluate(stating, free.evaluation.placed, free.evaluation.split, free.evaluation.built)
        sign = " < " if term.sense == "≥" else " > "
        assert all(sign + term.noun in line for line in violations(stating, ev)), term.key


def _everything() -> dict[str, Any]:
    """A problem that states every rule a rule cost can remove."""
    p = copy.deepcopy(BASE)
    p["offers"].append({"name": "third", "vendor": "z", "unit_cost": 12.0, "compute": 1.0})
    p["vendors"] = [
        {"name": "x", "max_share": 0.7, "max_new_compute": 500, "min_spend": 10.0},
        {"name": "y", "min_share": 0.1, "max_spend": 1e6},
    ]
    p["sites"] = [{"name": "dc", "vendors": ["x", "y"]}, {"name": "dc2"}]
    p["budget"] = 1e6
    p["total_budget"] = 2e6
    p["risk"] = {
        "max_share": 0.8,
        "min_vendors": 2,
        "min_vendor_share": 0.05,
        "survive_vendor_loss": 0.2,
        "hhi_weight": 1e3,
        "max_hhi": 0.9,
        "scenarios": [{"name": "cut", "probability": 0.1, "availability": {"x": 0.5}}],
        "shortfall_penalty": 100.0,
        "risk_weight": 0.5,
        "max_cvar": 1e5,
    }
    return p


def test_rule_costs_remove_every_rule_in_the_records_order() -> None:
    listed = rules_of(procure.Problem.from_dict(_everything()))
    assert [r.path for r in listed] == [
        "risk.max_cvar",
        "risk.risk_weight",
        "risk.max_hhi",
        "risk.hhi_weight",
        "risk.min_vendors",
        "risk.min_vendor_share",
        "risk.survive_vendor_loss",
        "vendors[x].max_share",
        "risk.max_share",
        "vendors[y].min_share",
        "sites[dc].vendors",
        "vendors[x].min_spend",
        "vendors[y].max_spend",
        "vendors[x].max_new_compute",
        "total_budget",
        "budget",
    ]
    neutral = {r.path: r.neutral for r in listed}
    assert neutral["risk.min_vendor_share"] == TOKEN_SHARE and neutral["vendors[x].max_share"] == 1.0
    assert neutral["risk.max_hhi"] is None and neutral["vendors[y].min_share"] == 0.0
    words = {r.path: r.description for r in listed}
    assert words["risk.max_share"].startswith("every other vendor's")


def test_rule_costs_leave_out_what_a_problem_does_not_state() -> None:
    p = _everything()
    p["vendors"] = []
    p["risk"] = {"max_share": 0.8, "min_vendors": 2, "min_vendor_share": TOKEN_SHARE}
    del p["sites"], p["budget"], p["total_budget"]
    listed = rules_of(procure.Problem.from_dict(p))
    assert [r.path for r in listed] == ["risk.min_vendors", "risk.max_share"]  # a token share is no rule
    assert listed[1].description.startswith("every vendor's")


def test_each_record_names_the_fields_behind_its_rows() -> None:
    for r in RULES:
        assert len(r.behind) == 2 and all(isinstance(x, str) and x for x in r.behind), r.name


def test_each_record_reads_the_value_in_force_of_an_instance() -> None:
    p = copy.deepcopy(BASE)
    del p["demand"]
    p["workloads"] = {"train": {"2026": 60, "2027": 120}, "serve": {"2026": 40, "2027": 80}}
    p["sites"] = [{"name": "dc", "power_cap_gw": {"2026": 1.0, "2027": 2.0}}]
    p["offers"][0]["max_units"] = {"2026": 500, "2027": 700}
    p["vendors"] = [{"name": "x", "max_share": 0.9, "max_new_compute": {"2026": 300, "2027": 400}}]
    problem = procure.Problem.from_dict(p)
    inputs = problem.inputs
    expect = {
        ("workload_demand", ("serve", 2027)): 80,
        ("workload_demand", ("train", 2026)): 60,
        ("site_power", ("dc", 2027)): 2.0,
        ("supply", ("cheap", 2027)): 700,
        ("max_share", ("x", 2026)): 0.9,
        ("max_new_compute", ("x", 2027)): 400,
    }
    for (name, label), value in expect.items():
        assert rule(name).value_of(label, inputs, problem) == pytest.approx(value), (name, label)


def test_sensitivity_prices_caps_that_sites_and_vendors_inherit() -> None:
    """A site without a cap of its own is held by power_cap_gw; a vendor without a share cap of
    its own by risk.max_share: both are priced on what the plan uses of them."""
    p = copy.deepcopy(BASE)
    p["offers"] = [{**o, "power_kw": 1000.0} for o in p["offers"]]  # 1 MW a unit
    p["sites"] = [{"name": "own", "power_cap_gw": 1.0}, {"name": "shared"}]
    p["power_cap_gw"] = 0.5  # the sites together, and the shared site alone
    p["risk"] = {"max_share": 0.8}
    result = procure.solve(p, mip_gap=0)
    assert result.status == "optimal"
    table = result.sensitivity().table
    power = table[table["path"].str.startswith("power_cap_gw")]
    assert power["used"].to_numpy() == pytest.approx(result.power_gw.to_numpy() * 1e3)  # MW: all sites
    assert (result.site_power_gw["shared"] <= result.power_gw + 1e-12).all()
    shares = table[table["path"] == "risk.max_share"]
    top = result.shares.max(axis=1).to_numpy() * 100  # percentage points
    assert len(shares) == 2 and shares["used"].to_numpy() == pytest.approx(top)
    assert shares["binding"].all()  # x, the cheaper, takes all the cap leaves it


def test_a_tree_with_workloads_per_path_is_diagnosed() -> None:
    """Found by hypothesis: a workload's demand in force was looked up among the tree problem's
    workloads (none: each path states its own) instead of the path's."""
    problem = {
        "periods": [2026, 2027],
        "offers": [
            {"name": "h100-0", "vendor": "nvidia", "unit_cost": {"2026": 1, "2027": 1}, "compute": 1.0},
            {
                "name": "mi300-1",
                "vendor": "amd",
                "unit_cost": {"2026": 1, "2027": 2},
                "compute": 1.0,
                "lot_size": 2,
                "lead_time": 1,
            },
        ],
        "power_cap_gw": {"2026": 7e-07, "2027": 7e-07},
        "risk": {"survive_vendor_loss": 0.25},
        "demand_scenarios": [{"name": "low", "probability": 1, "workloads": {"training": {"2026": 0.6, "2027": 0}}}],
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "infeasible"
    d = procure.explain(problem)
    assert d.conflict
