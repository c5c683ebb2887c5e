"""What-if on demand trees: `rule_costs` removes a rule on every path and `marginal_value`
changes the tree's shared fields, each answered by the tree's extensive form solved again, and
each checked here against solving the changed tree directly."""

from __future__ import annotations

import copy

import pytest
from test_mpisppy import _tree

import procure
from procure.analysis.sensitivity import ALL_PATHS


@pytest.fixture(scope="module")
def capped() -> procure.TreeResult:
    result = procure.solve(_tree(vendors=[{"name": "y", "max_share": 0.6}]), mip_gap=0)
    assert isinstance(result, procure.TreeResult) and result.status == "optimal"
    return result


def test_a_rule_is_removed_on_every_path(capped: procure.TreeResult) -> None:
    table = capped.rule_costs(mip_gap=0)
    row = table.set_index("rule").loc["vendors[y].max_share"]
    free = procure.solve(_tree(), mip_gap=0)  # the same tree without the cap
    assert row["status"] == "optimal"
    assert row["cost"] == pytest.approx(capped.objective - free.objective, rel=1e-9, abs=1e-6)
    assert row["cost"] > 0  # the cap binds on some path


def test_a_shared_field_changed_is_solved_again_whole(capped: procure.TreeResult) -> None:
    value = capped.marginal_value({"power_cap_gw": 0.00001}, mip_gap=0)
    changed = copy.deepcopy(_tree(vendors=[{"name": "y", "max_share": 0.6}]))
    changed["power_cap_gw"] = 0.00004
    direct = procure.solve(changed, mip_gap=0)
    assert value.new_status == "optimal" and value.certain
    assert value.change == pytest.approx(direct.objective - capped.objective, rel=1e-9, abs=1e-6)
    assert isinstance(value.result, procure.TreeResult)


def test_sensitivity_on_a_tree_weights_each_path_by_its_probability(capped: procure.TreeResult) -> None:
    """Purchases held and demand met exactly, one more unit of a path's demand goes unserved: it
    costs the unserved penalty (400), discounted (10% a year from 2026), times the path's
    probability; less demand saves nothing (the purchases stay)."""
    table = capped.sensitivity().table
    tree = capped.tree
    assert tree is not None
    probability = dict(zip(tree.names, tree.probability / tree.probability.sum()))
    demand = table[(table.kind == "compute") & (table.scenario != ALL_PATHS)]
    assert set(demand.scenario) == set(tree.names)
    for row in demand.itertuples():
        assert row.probability == pytest.approx(probability[row.scenario])
        assert row.slack == pytest.approx(0.0, abs=1e-9)  # every path served exactly (none unserved)
        expected = probability[row.scenario] * 400.0 / 1.1 ** (row.period - 2026)
        assert row.tightening_cost == pytest.approx(expected, rel=1e-9)
        assert row.shadow_price == pytest.approx(0.0, abs=1e-9)


def test_a_field_every_path_states_is_priced_moved_in_every_path(capped: procure.TreeResult) -> None:
    table = capped.sensitivity().table
    every = table[table.scenario == ALL_PATHS]
    assert set(every.path) >= {"power_cap_gw[2027]", "vendors[y].max_share"}
    assert "demand[2027]" not in set(every.path)  # each path has its own demand
    paths = table[table.scenario != ALL_PATHS]
    for row in every.itertuples():
        same = paths[(paths.path == row.path) & (paths.period == row.period)]
        assert len(same) == len(capped.tree.names)  # type: ignore[union-attr]
        for column in ("shadow_price", "tightening_cost"):
            assert getattr(row, column) == pytest.approx(same[column].sum(), rel=1e-12)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"risk": {"scenario_cvar_weight": 0.5}}, "risk.scenario_cvar_weight"),
        ({"power_build": {"cost_per_gw": 2e7, "lead_time": 1}}, "power_build"),
    ],
)
def test_sensitivity_on_a_tree_whose_paths_are_linked_is_refused(change: dict, path: str) -> None:
    result = procure.solve(_tree(**change), time_limit=20)
    assert result.has_plan, result.message
    with pytest.raises(procure.ProblemError) as info:
        result.sensitivity()
    assert info.value.path == path
