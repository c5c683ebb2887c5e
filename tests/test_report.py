"""Plots, the HTML report (opened in a real headless chromium), Excel and CSV exports, and the
notebook views."""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import SMALL
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

import procure
from procure.report.html import dollars
from procure.report.plot import vendor_colors

ROOT = Path(__file__).resolve().parent.parent
GIGAWATT = ROOT / "examples" / "gigawatt_2026.toml"


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def gigawatt() -> procure.Result:
    result = procure.solve(GIGAWATT, time_limit=30)
    assert result.has_plan, result.message
    return result


@pytest.fixture(scope="module")
def sites() -> procure.Result:
    problem = copy.deepcopy(SMALL)
    problem.pop("power_cap_gw")
    problem["demand"] = {"2026": 1000, "2027": 2500, "2028": 4000}
    problem["unserved_penalty"] = 1e6
    problem["offers"][1]["installed"] = {"east": 500}
    problem["sites"] = [
        {"name": "east", "vendors": ["google", "amazon"], "power_cap_gw": 0.0015},
        {
            "name": "west",
            "vendors": ["amazon", "nvidia"],
            "power_cap_gw": 0.0005,
            "power_build": {"cost_per_gw": 2e9, "lead_time": 1},
        },
    ]
    result = procure.solve(problem, time_limit=20)
    assert result.has_plan, result.message
    return result


@pytest.fixture(scope="module")
def swept() -> procure.Sweep:
    return procure.sweep(SMALL, {"offers[tpu].unit_cost": [25_000, 30_000, 40_000, 60_000]}, progress=False)


@pytest.fixture(scope="module")
def infeasible() -> procure.Result:
    problem = copy.deepcopy(SMALL)
    problem["power_cap_gw"] = {"2026": 0.0001, "2027": 2.0, "2028": 5.0}
    result = procure.solve(problem, time_limit=20)
    assert result.status == "infeasible"
    return result


# --------------------------------------------------------------------------- plots


def _drawn(fig: Any) -> None:
    """A figure with something on every visible axes, and titles and axis labels set."""
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    for ax in axes:
        assert ax.patches or ax.lines or ax.collections, ax
        assert ax.get_title() or fig.get_suptitle()
        assert ax.get_ylabel() or fig.get_supylabel()


def _bar_colors(fig: Figure) -> dict[str, tuple[float, ...]]:
    """The colour of each labelled bar series and line (as RGBA)."""
    out = {}
    for ax in fig.axes:
        for container in ax.containers:
            label = container.get_label()
            if container.patches and not label.startswith("_"):
                out[label] = tuple(container.patches[0].get_facecolor())
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_"):
                out.setdefault(label, tuple(to_rgba(line.get_color())))
    return out


@pytest.mark.parametrize("which", ["plain", "sites", "gigawatt"])
def test_every_plot_of_a_result_draws(which: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(which)
    for method in ("compute", "power", "cost", "shares"):
        _drawn(getattr(result.plot, method)())
    fig, ax = plt.subplots()
    assert result.plot.compute(ax=ax) is fig
    assert "PFLOP/s" in ax.get_ylabel()
    unit = "$B" if which == "gigawatt" else "$M"  # the cost axis is scaled to the amounts
    assert unit in result.plot.cost().axes[0].get_ylabel()
    assert "GW" in (result.plot.power().axes[0].get_ylabel() + result.plot.power().get_supylabel())


def test_a_plan_with_sites_draws_one_power_panel_per_site_and_its_builds(sites: procure.Result) -> None:
    fig = sites.plot.power()
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["east", "west"]
    assert sites.power_build["west"].sum() > 0  # the plan builds, and the plot shows it
    labels = {t.get_text() for legend in fig.legends for t in legend.get_texts()}
    assert "build started" in labels


def test_each_vendor_keeps_its_colour_in_every_plot(gigawatt: procure.Result) -> None:
    compute = _bar_colors(gigawatt.plot.compute())
    shares = _bar_colors(gigawatt.plot.shares())
    common = set(compute) & set(shares)
    assert {"google", "amazon", "nvidia"} <= common
    assert all(compute[v] == shares[v] for v in common)
    assert vendor_colors(["zeta", "alpha", "nvidia"]) == {
        "zeta": vendor_colors(["alpha", "zeta"])["zeta"],
        "alpha": vendor_colors(["zeta", "alpha"])["alpha"],
        "nvidia": "#76B900",
    }


def test_tree_plots_draw_every_path_and_the_cost_distribution(tree: procure.TreeResult) -> None:
    for method in ("compute", "power", "cost", "shares"):
        fig = getattr(tree.plot, method)()
        _drawn(fig)
        assert len([ax for ax in fig.axes if ax.get_visible()]) == 3  # one panel per path
    _drawn(tree.plot.compute(ax=plt.subplots()[1]))  # the fan
    _drawn(tree.plot.cost(ax=plt.subplots()[1]))  # the expected breakdown
    _drawn(tree.plot.compute(scenario="high"))
    fig = tree.plot.scenario_costs()
    _drawn(fig)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("expected") for label in labels)
    assert any(label.startswith("CVaR") for label in labels)
    fig = tree.plot.share_distribution()
    _drawn(fig)
    dots = [c for c in fig.axes[0].collections if c.get_label() in ("x", "y")]
    assert len(dots) == 2 and all(len(c.get_offsets()) == 3 for c in dots)  # a dot per vendor and path


def test_sweep_plots_draw_the_distributions(swept: procure.Sweep) -> None:
    _drawn(swept.plot.cost())
    fig = swept.plot.shares()
    _drawn(fig)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["google", "amazon", "nvidia"]


def test_plotting_a_result_without_a_plan_names_its_status(infeasible: procure.Result) -> None:
    with pytest.raises(ValueError, match="infeasible"):
        infeasible.plot.compute()


# --------------------------------------------------------------------------- HTML report


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is missing: apt-get install chromium (.ci/run installs it)")
    return found


def test_the_report_opens_in_headless_chromium_with_the_plans_totals(gigawatt: procure.Result, tmp_path: Path) -> None:
    chromium = _chromium()
    page = tmp_path / "report.html"
    text = gigawatt.report(page)
    assert page.read_text(encoding="utf-8") == text
    assert "<script" not in text and "http://" not in text and "https://" not in text  # self-contained
    url = page.as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"]
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, cwd=tmp_path
    )
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    rgb = pixels[..., :3].reshape(-1, 3)
    assert rgb.std() > 0.05  # not blank
    assert len(np.unique((rgb * 255).astype(np.uint8), axis=0)) > 50  # plots: many colours
    dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, timeout=120, cwd=tmp_path)
    shown = dom.stdout.decode()
    assert dollars(gigawatt.cost) in shown and dollars(gigawatt.objective) in shown
    assert f"{int(gigawatt.purchases.to_numpy().sum()):,}" in shown  # units bought, in all
    for offer, units in gigawatt.purchases.sum().items():
        if units:
            assert f"{int(units):,}" in shown, offer
    assert "every constraint holds" in shown


def test_the_report_of_a_plan_with_sites_shows_them(sites: procure.Result) -> None:
    text = sites.report()
    assert "Units bought by site" in text and "west build started (GW)" in text
    assert "every constraint holds" in text


def test_the_report_of_an_infeasible_problem_explains_it(infeasible: procure.Result) -> None:
    text = infeasible.report(time_limit=20)
    assert "Why there is no plan" in text and "Requirements in conflict" in text
    assert "power_cap_gw[2026]" in text  # the conflict names the cap
    assert "Repairs" in text


def test_the_report_of_a_tree_leads_with_the_decision_made_now(tree: procure.TreeResult) -> None:
    text = tree.report()
    assert text.index("Decided now") < text.index("Demand paths") < text.index("Plans on the demand paths")
    for name in ("low", "mid", "high"):
        assert f"path {name}" in text
    assert dollars(tree.cost) in text


def test_the_report_escapes_text(plain: procure.Result) -> None:
    problem = copy.deepcopy(SMALL)
    problem["name"] = "<b>&co</b>"
    text = procure.solve(problem, time_limit=20).report()
    assert "<b>&co</b>" not in text and "&lt;b&gt;&amp;co&lt;/b&gt;" in text


def test_sensitivity_and_rule_costs_are_added_when_asked(plain: procure.Result) -> None:
    text = plain.report(sensitivity=True, rule_costs=True, time_limit=20)
    assert "Sensitivity (shadow prices)" in text and "What each business rule costs" in text
    assert "risk.max_share" in text


# --------------------------------------------------------------------------- Excel, CSV, notebooks


def test_the_workbook_reads_back_with_the_results_tables(sites: procure.Result, tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    sites.to_excel(path)
    book = pd.read_excel(path, sheet_name=None)
    assert list(book)[:3] == ["summary", "periods", "purchases"]
    purchases = book["purchases"].set_index("period")
    expected = sites.purchases
    assert purchases.columns.tolist() == [f"{o} (units)" for o in expected.columns]
    assert (purchases.to_numpy() == expected.to_numpy()).all()
    spend = book["spend"].set_index("period")["spend ($)"]
    assert np.allclose(spend.to_numpy(), sites.spend.to_numpy())
    cost = book["cost breakdown"].set_index("period")["total (PV $)"]
    assert cost.sum() == pytest.approx(sites.cost)
    summary = book["summary"].set_index("field")["value"]
    assert float(summary["cost (PV $)"]) == pytest.approx(sites.cost)
    assert summary["status"] == sites.status
    by_site = book["by site"]
    assert set(by_site["site"]) == {"east", "west"}
    assert by_site["bought (units)"].sum() == sites.purchases.to_numpy().sum()
    assert "west build started (GW)" in book["power"].columns


def test_a_trees_workbook_has_a_scenario_column(tree: procure.TreeResult, tmp_path: Path) -> None:
    path = tmp_path / "tree.xlsx"
    tree.to_excel(path)
    book = pd.read_excel(path, sheet_name=None)
    assert {"scenarios", "here and now"} <= set(book)
    purchases = book["purchases"]
    assert purchases.columns[:2].tolist() == ["scenario", "period"]
    high = purchases[purchases["scenario"] == "high"].set_index("period").drop(columns="scenario")
    assert (high.to_numpy() == tree.scenario_results["high"].purchases.to_numpy()).all()
    assert book["scenarios"]["cost (PV $)"].to_numpy() @ book["scenarios"]["probability"].to_numpy() == pytest.approx(
        tree.cost
    )


def test_the_csv_is_the_long_plan_table(sites: procure.Result, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    text = sites.to_csv(path)
    table = pd.read_csv(io.StringIO(text))
    assert table.columns.tolist() == [
        "period",
        "site",
        "offer",
        "vendor",
        "bought (units)",
        "fleet (units)",
        "compute (PFLOP/s)",
        "power (GW)",
        "capex ($)",
    ]
    assert pd.read_csv(path).equals(table)
    assert table["bought (units)"].sum() == sites.purchases.to_numpy().sum()
    assert table["capex ($)"].sum() == pytest.approx(sites.spend.sum())  # chips only: facility builds apart
    power = table.groupby("period")["power (GW)"].sum()
    assert np.allclose(power.to_numpy(), sites.power_gw.to_numpy())


def test_notebooks_show_a_compact_summary(plain: procure.Result, tree: procure.TreeResult) -> None:
    shown = plain._repr_html_()
    assert dollars(plain.objective) in shown and "<img" not in shown
    assert "2028" in shown
    assert dollars(tree.objective) in tree._repr_html_()
    problem = plain.problem._repr_html_()
    assert "tpu" in problem and "demand (PFLOP/s)" in problem
