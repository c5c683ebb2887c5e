"""Plots a reader can read (issue 21): one colour per vendor in every plot of a run (the
report's, the frontier's, a sweep's, a tree's), each site its own colour, whole-number count
axes, equal share caps drawn once, vendors at zero share not hidden on each other, money axes
with their unit, period labels that do not overlap."""

from __future__ import annotations

import copy
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from conftest import SMALL
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import procure
from procure.report.plot import money_scale, site_colors, vendor_colors


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def front() -> procure.Frontier:
    return procure.frontier(SMALL, measure="max_share", points=3, progress=False)


def _patch_colors(fig: Figure) -> dict[str, str]:
    """The face colour of each labelled bar series or box, by label."""
    out: dict[str, str] = {}
    for ax in fig.axes:
        for container in ax.containers:
            label = container.get_label()
            if container.patches and not label.startswith("_"):
                out[label] = to_hex(container.patches[0].get_facecolor())
        for patch in ax.patches:
            label = patch.get_label()
            if label and not label.startswith("_"):
                out.setdefault(label, to_hex(patch.get_facecolor()))
    return out


def _line_colors(fig: Figure) -> dict[str, str]:
    return {
        line.get_label(): to_hex(line.get_color())
        for ax in fig.axes
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }


def _overlapping(labels: list[Any]) -> list[tuple[str, str]]:
    """Pairs of shown tick labels whose boxes overlap."""
    shown = [t for t in labels if t.get_visible() and t.get_text()]
    boxes = [t.get_window_extent() for t in shown]
    return [
        (shown[i].get_text(), shown[j].get_text())
        for i in range(len(shown))
        for j in range(i + 1, len(shown))
        if boxes[i].overlaps(boxes[j])
    ]


def test_each_vendor_has_one_colour_in_the_report_and_the_frontier(
    plain: procure.Result, front: procure.Frontier
) -> None:
    expected = vendor_colors(plain.problem.vendor_names)
    compute = _patch_colors(plain.plot.compute())
    shares = _line_colors(plain.plot.shares())
    frontier = _patch_colors(front.plot())
    vendors = set(plain.problem.vendor_names)
    assert vendors <= set(frontier), frontier  # every vendor's bar in the frontier's mix
    for vendor in vendors:
        assert frontier[vendor] == expected[vendor].lower(), vendor
        if vendor in compute:
            assert compute[vendor] == frontier[vendor], vendor
        if vendor in shares:
            assert shares[vendor] == frontier[vendor], vendor
    assert {"google", "amazon"} <= set(compute) & set(shares)


def test_each_vendor_has_one_colour_in_sweep_and_tree_plots(plain: procure.Result) -> None:
    expected = {v: c.lower() for v, c in vendor_colors(plain.problem.vendor_names).items()}
    swept = procure.sweep(SMALL, {"offers[tpu].unit_cost": [25_000, 40_000]}, progress=False)
    boxes = _patch_colors(swept.plot.shares())
    assert boxes == {v: expected[v] for v in boxes} and set(boxes) == set(expected)
    problem = copy.deepcopy(SMALL)
    problem.pop("demand")
    problem["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "demand": {"2026": 1000, "2027": 2000, "2028": 3000}},
        {"name": "high", "probability": 0.5, "demand": {"2026": 1000, "2027": 3000, "2028": 7000}},
    ]
    tree = procure.solve(problem, time_limit=30)
    assert isinstance(tree, procure.TreeResult) and tree.has_plan, tree.message
    bars = _patch_colors(tree.plot.compute())
    assert bars and all(bars[v] == expected[v] for v in bars if v in expected)
    dots = {
        c.get_label(): to_hex(c.get_facecolor()[0])
        for c in tree.plot.share_distribution().axes[0].collections
        if c.get_label() in expected
    }
    assert dots == {v: expected[v] for v in dots} and dots
    _, ax = plt.subplots()
    tree.plot.compute(ax=ax)
    paths = {to_hex(line.get_color()) for line in ax.get_lines()}
    assert not paths & set(expected.values())  # a demand path never takes a vendor's colour


def test_each_site_keeps_one_colour(two_sites: procure.Result) -> None:
    assert site_colors(["west", "east"]) == site_colors(["east", "west"])
    assert len(set(site_colors(["a", "b", "c"]).values())) == 3
    result = two_sites
    colors = site_colors(result.problem.site_names)
    panels = _patch_colors(result.plot.power())
    assert panels["power drawn, east"] == colors["east"] and panels["power drawn, west"] == colors["west"]
    fig, ax = plt.subplots()
    result.plot.power(ax=ax)
    assert {k: v for k, v in _line_colors(fig).items() if k in colors} == colors


def test_a_histogram_counts_in_whole_numbers() -> None:
    swept = procure.sweep(SMALL, {"offers[tpu].unit_cost": [25_000, 30_000, 40_000, 60_000]}, progress=False)
    fig = swept.plot.cost()
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if low <= t <= high]
    assert len(ticks) >= 2
    assert all(float(t).is_integer() for t in ticks), ticks
    assert "$M" in ax.get_xlabel()


def _shares_problem(**vendor_caps: float) -> dict[str, Any]:
    """SMALL with two vendors nobody buys from (too dear) and some vendors' own caps."""
    problem = copy.deepcopy(SMALL)
    for vendor in ("amd", "intel"):
        problem["offers"].append({"name": f"{vendor}-chip", "vendor": vendor, "unit_cost": 9e6, "compute": 1.0})
    problem["vendors"] += [{"name": v, "max_share": cap} for v, cap in vendor_caps.items()]
    return problem


def test_equal_caps_are_drawn_once_and_vendors_at_zero_are_listed_not_stacked() -> None:
    result = procure.solve(_shares_problem(google=0.7), time_limit=20)
    assert result.has_plan, result.message
    fig = result.plot.shares()
    ax = fig.axes[0]
    caps = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    labels = sorted(line.get_label() for line in caps)
    assert labels == ["cap 60% (amazon, nvidia, amd, intel)", "cap 70% (google)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "amd (0% throughout)" in legend and "intel (0% throughout)" in legend
    for vendor in ("amd", "intel"):  # listed, not drawn on top of each other along the axis
        (line,) = [line for line in ax.get_lines() if line.get_label().startswith(vendor)]
        assert len(line.get_xdata()) == 0
    markers = {line.get_marker() for line in ax.get_lines() if line.get_linestyle() != "--"}
    assert len(markers) == len(result.problem.vendor_names)  # each vendor its own marker

    same = procure.solve(SMALL, time_limit=20)
    caps = [line for line in same.plot.shares().axes[0].get_lines() if line.get_linestyle() == "--"]
    assert [line.get_label() for line in caps] == ["cap 60% (every vendor)"]


def test_money_axes_carry_their_unit(plain: procure.Result, front: procure.Frontier) -> None:
    fig = front.plot()
    top, bottom = fig.axes[:2]
    _, unit = money_scale(float(front.table["cost"].max()))
    assert f"({unit})" in top.get_ylabel()
    assert top.get_ylabel().endswith("(\\$M)")  # SMALL costs about $100M
    assert "(%)" in bottom.get_ylabel() and bottom.get_ylim() == (0, 100)
    fig.canvas.draw()
    assert all(t.get_text().endswith("%") for t in bottom.get_xticklabels() if t.get_text())
    texts = [t.get_text() for t in top.texts]
    assert texts[0].startswith("\\$") and all(t.startswith("+\\$") for t in texts[1:])
    cost = plain.plot.cost()
    assert cost.axes[0].get_ylabel() == "cost, present value (\\$M)"
    totals = [t.get_text() for t in cost.axes[0].texts]
    assert totals == [f"\\${procure.base.fmt.money(v)[1:]}" for v in plain.cost_breakdown["total"]]


def test_period_labels_do_not_overlap_on_a_long_horizon() -> None:
    problem = copy.deepcopy(SMALL)
    years = [str(y) for y in range(2026, 2051)]
    problem["periods"] = [int(y) for y in years]
    problem["demand"] = {y: 1000 + 200 * k for k, y in enumerate(years)}
    problem["power_cap_gw"] = 5.0
    problem["offers"][2]["unit_cost"] = 38_000
    result = procure.solve(problem, time_limit=30)
    assert result.has_plan, result.message
    for method in ("compute", "power", "cost", "shares"):
        fig = getattr(result.plot, method)()
        fig.canvas.draw()
        ax = fig.axes[0]
        shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert 3 <= len(shown) < len(years), (method, shown)
        assert set(shown) <= set(years)
        assert not _overlapping(ax.get_xticklabels()), method
        low, high = ax.get_xlim()
        marks = {round(x) for x in [*ax.get_xticks(), *ax.xaxis.get_minorticklocs()] if low <= x <= high}
        assert marks == set(range(len(years))), method  # a tick mark under every period


def test_short_horizons_label_every_period(plain: procure.Result) -> None:
    fig = plain.plot.compute()
    fig.canvas.draw()
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert shown == [str(p) for p in plain.problem.periods]
