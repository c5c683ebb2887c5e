"""What-if on demand trees: `rule_costs` removes a rule on every path and `marginal_value`
changes the tree's shared fields, each answered by the tree's extensive form solved again, and
each checked here against solving the changed tree directly."""

from __future__ import annotations

import copy

import pytest
from test_mpisppy import _tree

import procure


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


def test_sensitivity_on_a_tree_says_it_is_not_there_yet(capped: procure.TreeResult) -> None:
    with pytest.raises(procure.ProblemError) as info:
        capped.sensitivity()
    assert info.value.path == "demand_scenarios"
