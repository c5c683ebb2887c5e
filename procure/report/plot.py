"""Plots of a plan: ``result.plot.compute()``, ``.power()``, ``.cost()``, ``.shares()``.

`ResultPlot` draws one plan, `TreeResultPlot` every demand path of a `TreeResult` (plus the
distribution of the paths' costs), `SweepPlot` the distribution of cost and vendor shares over
a sweep's variants.  Every method returns a `matplotlib.figure.Figure` and takes an optional
``ax=`` to draw into an axes of your own.

matplotlib is an optional dependency (``pip install "procure[plot]"``), imported when a plot is
first drawn; without a backend chosen (``MPLBACKEND``, ``matplotlib.use``, a notebook) the
non-interactive Agg backend is used, so plots work on servers and in CI.

Each vendor keeps one colour in every plot of a run (`vendor_colors`: the report's, the
frontier's, a sweep's, a tree's): well-known vendors have their own, the others take a fixed
palette in sorted order; each site keeps one too (`site_colors`).  Axes carry their units
(dollars scaled to ``$B``, ``$M``, …), counts have whole-number ticks, and period labels are
thinned to what fits the axis.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base.fmt import money, share
from ..base.hooks import provide
from ..core.result import Outcome, Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..analysis.frontier import Frontier
    from ..stochastic.tree_result import TreeResult
    from ..sweeps.sweep import Sweep

__all__ = [
    "COST_COLORS",
    "ResultPlot",
    "SweepPlot",
    "TreeResultPlot",
    "compute_scale",
    "money_scale",
    "share_caps",
    "site_colors",
    "vendor_colors",
]

#: Colours of well-known vendors (their brand colours), the same in every plot.
KNOWN_VENDORS = {
    "google": "#4285F4",
    "amazon": "#FF9900",
    "aws": "#FF9900",
    "nvidia": "#76B900",
    "amd": "#ED1C24",
    "intel": "#0071C5",
    "microsoft": "#737373",
    "meta": "#0668E1",
    "cerebras": "#F15A29",
    "groq": "#F55036",
}
#: Colours for other vendors, assigned in sorted order of their names.
PALETTE = (
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#1f4e79",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
)
#: Colours of sites, assigned in sorted order of their names (other hues than the vendors').
SITE_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
#: Markers of the vendors' share lines, so that lines on top of each other stay apart.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
#: A vendor whose share stays below this in every period is listed in the legend, not drawn.
NEAR_ZERO_SHARE = 0.005
#: Colours of the parts of ``cost_breakdown``.
COST_COLORS = {
    "capex": "#1f4e79",
    "opex": "#6baed6",
    "energy": "#fdae6b",
    "onboarding": "#9467bd",
    "take_or_pay": "#e377c2",
    "facility": "#8c564b",
    "unserved": "#d62728",
}
#: Compute is in the unit of ``demand``; procure's examples use dense BF16 PFLOP/s.
COMPUTE_UNIT = "PFLOP/s"


def vendor_colors(vendors: Iterable[str]) -> dict[str, str]:
    """One colour per vendor: well-known vendors (case-insensitive) their own, the others the
    palette's colours in sorted order of their names (so a problem's vendors always get the
    same colours, whatever order the offers list them in)."""
    names = list(dict.fromkeys(vendors))
    known = {v: KNOWN_VENDORS[v.lower()] for v in names if v.lower() in KNOWN_VENDORS}
    free = [c for c in PALETTE if c not in known.values()]
    out = {**known, **_in_sorted_order([v for v in names if v not in known], free)}
    return {v: out[v] for v in names}


def site_colors(sites: Iterable[str]) -> dict[str, str]:
    """One colour per site, the same in every plot: `SITE_PALETTE`'s colours in sorted order of
    the sites' names."""
    return _in_sorted_order(list(dict.fromkeys(sites)), SITE_PALETTE)


def _in_sorted_order(names: Sequence[str], palette: Sequence[str]) -> dict[str, str]:
    """``palette``'s colours given out in sorted order of ``names`` (wrapping around), keyed in
    the order of ``names``."""
    given = {name: palette[k % len(palette)] for k, name in enumerate(sorted(names))}
    return {name: given[name] for name in names}


def _path_colors(n: int) -> list[str]:
    """Colours of ``n`` demand paths: a sequential colour map, so that no path takes a vendor's
    colour."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["viridis"]
    return [to_hex(cmap(0.85 * k / max(n - 1, 1))) for k in range(n)]


def compute_scale(peak: float) -> tuple[float, str]:
    """A divisor and axis unit for compute values up to ``peak``: ``(1e6, "M PFLOP/s")``."""
    for size, prefix in ((1e9, "B "), (1e6, "M "), (1e3, "k ")):
        if peak >= size:
            return size, f"{prefix}{COMPUTE_UNIT}"
    return 1.0, COMPUTE_UNIT


def money_scale(peak: float) -> tuple[float, str]:
    """A divisor and axis unit for dollar amounts up to ``peak``: ``(1e9, "\\$B")`` (the ``$``
    escaped: matplotlib reads a pair of them as mathematics)."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(peak) >= size:
            return size, f"\\${suffix}"
    return 1.0, "\\$"


def _pyplot() -> Any:
    """matplotlib.pyplot, with the Agg backend when nobody chose one (no display needed)."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('plots need matplotlib: pip install "procure[plot]"') from exc
    chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: "set")()
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND") and chosen is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8, 4.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return _figure_of(ax), ax
    fig, new = _pyplot().subplots(figsize=figsize, constrained_layout=True)
    return fig, new


def _figure_of(ax: Axes) -> Figure:
    """The figure an axes draws into (the top one, when it is on a subfigure)."""
    fig: Any = ax.figure
    while getattr(fig, "figure", fig) is not fig and hasattr(fig, "figure"):
        fig = fig.figure
    return fig


def _grid(n: int, *, cols: int = 3, size: tuple[float, float] = (4.2, 3.0)) -> tuple[Figure, np.ndarray]:
    """Small multiples: ``n`` panels (the unused ones hidden) sharing their axes."""
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = _pyplot().subplots(
        rows,
        cols,
        figsize=(size[0] * cols, size[1] * rows + 0.6),
        sharex=True,
        sharey=True,
        squeeze=False,
        constrained_layout=True,
    )
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:n]


def _money(x: float) -> str:
    """`procure.base.fmt.money`, its ``$`` escaped for matplotlib."""
    return money(x).replace("$", "\\$")


def _no_plan(status: str, message: str = "") -> ValueError:
    why = f": {message}" if message else ""
    return ValueError(f"nothing to plot: the result has no plan (status {status!r}){why}")


def _legend(fig: Figure, ax: Axes | Iterable[Axes], *, outside: bool) -> None:
    """A legend on the right of the plot (outside the panels for small multiples: every label
    of every panel, once)."""
    axes: list[Axes] = [ax] if hasattr(ax, "get_legend_handles_labels") else list(ax)  # type: ignore[list-item]
    found: dict[str, Any] = {}
    for each in axes:
        for handle, label in zip(*each.get_legend_handles_labels()):
            found.setdefault(label, handle)
    labels = list(found)
    handles = list(found.values())
    if not handles:
        return
    if outside:
        fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    else:
        axes[0].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


# --------------------------------------------------------------------------- drawing from tables


def _period_axis(ax: Axes, periods: Iterable[Any]) -> None:
    """Label the positions 0, 1, … with ``periods``: a tick mark under every period and as
    many labels as fit the axis's width (every second, fifth, … period when they do not)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    labels = [str(p) for p in periods]

    def label(x: float, _: Any) -> str:
        k = round(x)
        return labels[k] if abs(x - k) < 1e-6 and 0 <= k < len(labels) else ""

    class Periods(MaxNLocator):
        def tick_values(self, vmin: float, vmax: float) -> Any:  # no tick beyond the periods
            ticks = np.asarray(super().tick_values(vmin, vmax), dtype=float)
            return ticks[(ticks >= 0) & (ticks <= len(labels) - 1)]

    ax.xaxis.set_major_locator(Periods(nbins="auto", steps=[1, 2, 5, 10], integer=True, min_n_ticks=1))
    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.xaxis.set_minor_locator(FixedLocator([float(k) for k in range(len(labels))]))


def _width_pt(ax: Axes) -> float:
    """The axes' width in points (before any layout moves it)."""
    return float(ax.get_position().width * _figure_of(ax).get_figwidth() * 72)


def _stacked_bars(ax: Axes, table: pd.DataFrame, colors: dict[str, str], scale: float = 1.0) -> np.ndarray:
    """Columns of ``table`` stacked per row (period); returns the top of the stack."""
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for column in table.columns:
        values = table[column].to_numpy(dtype=float) / scale
        if not np.any(values):
            continue
        ax.bar(x, values, bottom=bottom, color=colors.get(str(column)), label=str(column), width=0.7)
        bottom = bottom + values
    _period_axis(ax, table.index)
    return bottom


def _draw_compute(ax: Axes, by_vendor: pd.DataFrame, demand: np.ndarray, unserved: np.ndarray, scale: float) -> None:
    x = np.arange(len(by_vendor))
    top = _stacked_bars(ax, by_vendor, vendor_colors(by_vendor.columns), scale)
    if np.any(unserved > 1e-9):
        ax.bar(
            x,
            unserved / scale,
            bottom=top,
            width=0.7,
            color="none",
            edgecolor="#d62728",
            hatch="//",
            label="unserved demand",
        )
    ax.plot(x, demand / scale, color="black", marker="o", lw=1.6, label="demand")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _draw_cost(ax: Axes, breakdown: pd.DataFrame) -> None:
    """The parts stacked per period, each period's total written on top (turned upright when
    the totals would not fit side by side)."""
    parts = breakdown.drop(columns=["total"])
    scale, unit = money_scale(float(breakdown["total"].abs().max()))
    top = _stacked_bars(ax, parts, COST_COLORS, scale)
    totals = [_money(total * scale) for total in top]
    upright = _width_pt(ax) / max(len(totals), 1) < 5.5 * max(map(len, totals), default=0)
    for k, (total, text) in enumerate(zip(top, totals)):
        ax.annotate(
            text,
            (k, total),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            va="bottom",
            fontsize=8,
            rotation=90 if upright else 0,
        )
    ax.set_ylabel(f"cost, present value ({unit})")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.margins(y=0.25 if upright else 0.12)


def share_caps(problem: Any, vendors: Iterable[str]) -> dict[str, float]:
    """Each vendor's share cap: its own ``max_share``, else ``risk.max_share`` (none at 1)."""
    own = {v.name: v.max_share for v in problem.vendors}
    caps = {v: own.get(v) if own.get(v) is not None else problem.risk.max_share for v in vendors}
    return {v: float(c) for v, c in caps.items() if c is not None and c < 1}


def _cap_groups(caps: Mapping[str, float]) -> dict[float, list[str]]:
    """The vendors under each distinct cap."""
    groups: dict[float, list[str]] = {}
    for vendor, cap in caps.items():
        groups.setdefault(cap, []).append(vendor)
    return groups


def _draw_shares(ax: Axes, shares: pd.DataFrame, caps: Mapping[str, float]) -> None:
    """One line per vendor (each its own marker, so that lines on top of each other stay
    apart) and each distinct cap once, dashed, labelled with the vendors it applies to (in the
    vendor's colour when it applies to one).  A vendor that stays under `NEAR_ZERO_SHARE` is
    listed in the legend ("0% throughout") and not drawn along the axis."""
    colors = vendor_colors(shares.columns)
    x = np.arange(len(shares.index))
    for k, vendor in enumerate(shares.columns):
        values = 100 * shares[vendor].to_numpy(float)
        color, marker = colors[vendor], MARKERS[k % len(MARKERS)]
        peak = float(np.nanmax(values, initial=0.0)) / 100
        if peak < NEAR_ZERO_SHARE:
            throughout = "0%" if peak == 0 else f"under {share(NEAR_ZERO_SHARE)}"
            ax.plot([], [], ls="none", color=color, marker=marker, label=f"{vendor} ({throughout} throughout)")
        else:
            ax.plot(x, values, lw=1.8, color=color, marker=marker, label=vendor)
    groups = _cap_groups(caps)
    for cap, vendors in sorted(groups.items(), reverse=True):
        every = len(vendors) == len(shares.columns) > 1
        names = "every vendor" if every else ", ".join(vendors)
        color = colors[vendors[0]] if len(vendors) == 1 else "#444444"
        ax.axhline(100 * cap, color=color, ls="--", lw=1.2, label=f"cap {share(cap, None)} ({names})")
    _period_axis(ax, shares.index)
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of operational compute (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _draw_power(
    ax: Axes,
    periods: Sequence[int],
    used: np.ndarray,
    cap: np.ndarray | None,
    built: np.ndarray | None,
    color: str = "#6baed6",
    label: str = "",
) -> None:
    """Facility power drawn (bars, in a site's colour) against the cap (a step line); with
    builds, the cap includes the built GW that are ready and the GW whose build starts are drawn
    hatched."""
    x = np.arange(len(periods))
    ax.bar(x, used, width=0.7, color=color, label=f"power drawn, {label}" if label else "power drawn")
    if built is not None and np.any(built > 1e-12):
        ax.bar(x + 0.25, built, width=0.3, color="none", edgecolor="#8c564b", hatch="xx", label="build started")
    if cap is not None and np.isfinite(cap).any():
        label = "cap (given + built, ready)" if built is not None else "power cap"
        ax.step(x, cap, where="mid", color="black", lw=1.6, label=label)
    _period_axis(ax, periods)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------- one plan


class ResultPlot:
    """Plots of one plan (``result.plot``); every method returns a `matplotlib.figure.Figure`.

    Parameters
    ----------
    result : Outcome
        An answer with a plan (plotting one without raises ``ValueError`` naming its status).
    """

    def __init__(self, result: Outcome) -> None:
        self.result = result

    def _planned(self) -> Outcome:
        if not self.result.has_plan:
            raise _no_plan(self.result.status, self.result.message)
        return self.result

    def _title(self, what: str) -> str:
        return f"{what} — {self.result.problem.name}"

    def compute(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """Operational compute by vendor per period (stacked) against the demand line, with the
        demand not served (hatched) when there is any."""
        r = self._planned()
        fig, ax = _axes(ax)
        demand = np.asarray(r.problem.total_demand, dtype=float)
        by_vendor = r.compute_by_vendor
        scale, unit = compute_scale(max(float(demand.max(initial=0)), float(r.compute.max())))
        _draw_compute(ax, by_vendor, demand, r.unserved.to_numpy(), scale)
        ax.set_ylabel(f"compute ({unit})")
        ax.set_xlabel("period")
        ax.set_title(title or self._title("Operational compute by vendor"))
        _legend(fig, ax, outside=False)
        return fig

    def power(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """Facility power drawn per period against the cap (GW); with sites, one panel per site
        (or, into ``ax``, one line per site with its cap dashed); with ``power_build``, the cap
        includes the built GW that are ready and the builds started are drawn."""
        r = self._planned()
        p = r.problem
        periods = list(p.periods)
        builds = r.power_build
        capacity = r.power_capacity_gw
        if not p.sites:
            fig, ax = _axes(ax)
            cap = np.asarray(p.power_cap_gw, dtype=float) if p.power_cap_gw is not None else None
            built = None
            if builds.shape[1]:
                cap, built = capacity.iloc[:, 0].to_numpy(), builds.iloc[:, 0].to_numpy()
            _draw_power(ax, periods, r.power_gw.to_numpy(), cap, built)
            ax.set_ylabel("facility power (GW)")
            ax.set_xlabel("period")
            ax.set_title(title or self._title("Facility power against the cap"))
            _legend(fig, ax, outside=False)
            return fig
        site_power = r.site_power_gw
        caps = p.inputs.site_cap_gw.copy()
        if isinstance(r, Result) and r.evaluation is not None:  # a building site's cap grows with the GW that are ready
            np.add.at(caps, p.inputs.build_site, r.evaluation.ready)
        if ax is not None:
            fig = _figure_of(ax)
            x = np.arange(len(periods))
            colors = site_colors(p.site_names)
            for s, site in enumerate(p.site_names):
                ax.plot(x, site_power[site], marker="o", color=colors[site], label=site)
                if np.isfinite(caps[s]).any():
                    ax.step(x, caps[s], where="mid", ls="--", color=colors[site], lw=1)
            _period_axis(ax, periods)
            ax.set_ylabel("facility power (GW; cap dashed)")
            ax.set_xlabel("period")
            ax.set_title(title or self._title("Facility power by site"))
            ax.grid(alpha=0.3)
            _legend(fig, ax, outside=False)
            return fig
        total = p.power_cap_gw is not None
        fig, axes = _grid(len(p.sites) + total)
        built_at = dict(zip(builds.columns, builds.to_numpy().T)) if builds.shape[1] else {}
        colors = site_colors(p.site_names)
        for s, (panel, site) in enumerate(zip(axes, p.site_names)):
            cap = caps[s] if np.isfinite(caps[s]).any() else None
            _draw_power(panel, periods, site_power[site].to_numpy(), cap, built_at.get(site), colors[site], site)
            panel.set_title(site, fontsize=10)
        if total:
            assert p.power_cap_gw is not None
            every = r.power_gw.to_numpy()
            _draw_power(axes[-1], periods, every, np.asarray(p.power_cap_gw, dtype=float), None, label="all sites")
            axes[-1].set_title("all sites", fontsize=10)
        for panel in axes:
            panel.tick_params(labelbottom=True)
        fig.supylabel("facility power (GW)")
        fig.suptitle(title or self._title("Facility power by site against its cap"))
        _legend(fig, axes, outside=True)
        return fig

    def cost(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """The parts of ``cost_breakdown`` per period, stacked ($B, $M, … as the amounts need; present value), each
        period's total written on top."""
        r = self._planned()
        fig, ax = _axes(ax)
        _draw_cost(ax, r.cost_breakdown)
        ax.set_xlabel("period")
        ax.set_title(title or self._title(f"Cost per period (total {_money(r.cost)})"))
        _legend(fig, ax, outside=False)
        return fig

    def shares(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """Each vendor's share of operational compute per period (a line each, its own marker),
        with each distinct share cap (``max_share``) drawn once, dashed, and labelled with the
        vendors it applies to; a vendor under 0.5% throughout is listed, not drawn."""
        r = self._planned()
        fig, ax = _axes(ax)
        _draw_shares(ax, r.shares, share_caps(r.problem, r.shares.columns))
        ax.set_xlabel("period")
        ax.set_title(title or self._title("Vendor shares of compute"))
        _legend(fig, ax, outside=False)
        return fig

    def all(self) -> list[Figure]:
        """Every plot of the plan: compute, power, cost, shares."""
        return [self.compute(), self.power(), self.cost(), self.shares()]


# --------------------------------------------------------------------------- demand paths


class TreeResultPlot(ResultPlot):
    """Plots of a plan under demand scenarios (``tree_result.plot``).

    Without ``ax``, each method draws one panel per demand path (at most ``max_panels``; beyond
    that, and into a given ``ax``, the fan of the paths or their probability-weighted mean);
    ``scenario=`` draws one path's plot.  `scenario_costs` draws the distribution of the
    paths' costs.
    """

    def __init__(self, result: TreeResult, *, max_panels: int = 12) -> None:
        super().__init__(result)
        self.tree_result = result
        self.max_panels = max_panels

    def _paths(self) -> list[tuple[str, float, Result]]:
        self._planned()
        tree = self.tree_result.tree
        assert tree is not None
        return [(n, float(p), self.tree_result.scenario_results[n]) for n, p in zip(tree.names, tree.probability)]

    def _one(self, scenario: str) -> ResultPlot:
        self._planned()
        paths = self.tree_result.scenario_results
        if scenario not in paths:
            raise KeyError(f"no demand path {scenario!r}; the paths are {', '.join(paths)}")
        return ResultPlot(paths[scenario])

    def _panels(self, method: str, title: str) -> Figure:
        paths = self._paths()
        fig, axes = _grid(len(paths))
        for panel, (name, probability, r) in zip(axes, paths):
            getattr(ResultPlot(r), method)(ax=panel, title=f"{name} (p = {probability:.3g})")
            if panel.get_legend() is not None:
                panel.get_legend().remove()
            panel.title.set_fontsize(9)
            panel.set_xlabel("")
            panel.tick_params(labelbottom=True)
        fig.suptitle(f"{title} on each demand path — {self.result.problem.name}")
        _legend(fig, axes, outside=True)
        return fig

    def _mean(self, name: str) -> pd.DataFrame:
        """The probability-weighted mean over the paths of a per-period table."""
        mean: pd.DataFrame = sum(p * getattr(r, name) for _, p, r in self._paths())
        return mean

    def compute(self, ax: Axes | None = None, *, title: str | None = None, scenario: str | None = None) -> Figure:
        """Compute by vendor against demand on each path (panels), or the fan of the paths'
        compute (solid) and demand (dashed) into ``ax``."""
        if scenario is not None:
            return self._one(scenario).compute(ax, title=title)
        paths = self._paths()
        if ax is None and len(paths) <= self.max_panels:
            return self._panels("compute", "Operational compute by vendor")
        fig, ax = _axes(ax)
        peak = max(max(max(r.problem.total_demand), float(r.compute.max())) for _, _, r in paths)
        scale, unit = compute_scale(peak)
        x = np.arange(len(self.result.problem.periods))
        for (name, p, r), color in zip(paths, _path_colors(len(paths))):
            ax.plot(x, r.compute.to_numpy() / scale, color=color, lw=0.8 + 3 * p, label=f"{name} (p = {p:.2g})")
            ax.plot(x, np.asarray(r.problem.total_demand) / scale, color=color, ls="--", lw=0.8)
        _period_axis(ax, self.result.problem.periods)
        ax.set_ylabel(f"compute ({unit}; demand dashed)")
        ax.set_xlabel("period")
        ax.set_title(title or self._title("Compute on every demand path"))
        ax.grid(alpha=0.3)
        _legend(fig, ax, outside=False)
        return fig

    def power(self, ax: Axes | None = None, *, title: str | None = None, scenario: str | None = None) -> Figure:
        """Facility power against the cap on each path (panels; the sum over sites), or one line
        per path into ``ax``."""
        if scenario is not None:
            return self._one(scenario).power(ax, title=title)
        paths = self._paths()
        if ax is None and len(paths) <= self.max_panels and not self.result.problem.sites:
            return self._panels("power", "Facility power")
        fig, ax = _axes(ax)
        x = np.arange(len(self.result.problem.periods))
        for (name, p, r), color in zip(paths, _path_colors(len(paths))):
            ax.plot(x, r.power_gw.to_numpy(), color=color, marker="o", label=f"{name} (p = {p:.2g})")
        cap = self.result.problem.power_cap_gw
        if cap is not None and self.result.problem.power_build is None:
            ax.step(x, cap, where="mid", color="black", lw=1.6, label="power cap")
        _period_axis(ax, self.result.problem.periods)
        ax.set_ylabel("facility power, all sites (GW)")
        ax.set_xlabel("period")
        ax.set_title(title or self._title("Facility power on every demand path"))
        ax.grid(alpha=0.3)
        _legend(fig, ax, outside=False)
        return fig

    def cost(self, ax: Axes | None = None, *, title: str | None = None, scenario: str | None = None) -> Figure:
        """The cost breakdown per period on each path (panels), or its probability-weighted
        mean over the paths into ``ax``."""
        if scenario is not None:
            return self._one(scenario).cost(ax, title=title)
        if ax is None and len(self._paths()) <= self.max_panels:
            return self._panels("cost", "Cost per period")
        fig, ax = _axes(ax)
        _draw_cost(ax, self._mean("cost_breakdown"))
        ax.set_xlabel("period")
        ax.set_title(title or self._title(f"Expected cost per period (total {_money(self.result.cost)})"))
        _legend(fig, ax, outside=False)
        return fig

    def shares(self, ax: Axes | None = None, *, title: str | None = None, scenario: str | None = None) -> Figure:
        """Vendor shares per period on each path (panels), or their probability-weighted mean
        into ``ax``."""
        if scenario is not None:
            return self._one(scenario).shares(ax, title=title)
        if ax is None and len(self._paths()) <= self.max_panels:
            return self._panels("shares", "Vendor shares of compute")
        fig, ax = _axes(ax)
        mean = self._mean("shares")
        _draw_shares(ax, mean, share_caps(self.result.problem, mean.columns))
        ax.set_xlabel("period")
        ax.set_title(title or self._title("Expected vendor shares of compute"))
        _legend(fig, ax, outside=False)
        return fig

    def scenario_costs(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """The distribution of cost over the demand paths: each path's probability at its cost
        ($B, $M, …; a probability-weighted histogram beyond 30 paths), with the expected cost and the
        CVaR of the paths' costs (at ``risk.scenario_cvar_alpha``) marked."""
        paths = self._paths()
        fig, ax = _axes(ax)
        scale, unit = money_scale(max(abs(r.cost) for _, _, r in paths))
        costs = np.array([r.cost for _, _, r in paths]) / scale
        probability = np.array([p for _, p, _ in paths])
        if len(paths) > 30:
            ax.hist(costs, bins=20, weights=probability, color="#6baed6", edgecolor="white", label="paths")
        else:
            width = max(float(np.ptp(costs)) / max(3 * len(paths), 1), 1e-3 * max(abs(costs).max(), 1e-9))
            ax.bar(costs, probability, width=width, color="#6baed6", label="demand paths")
            for (name, _, _), c, p in zip(paths, costs, probability):
                ax.annotate(name, (c, p), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
        alpha = self.result.problem.risk.scenario_cvar_alpha
        expected, cvar = self.result.cost, self.tree_result.cost_cvar
        ax.axvline(expected / scale, color="black", lw=1.6, label=f"expected {_money(expected)}")
        ax.axvline(cvar / scale, color="#d62728", ls="--", lw=1.6, label=f"CVaR({alpha:g}) {_money(cvar)}")
        ax.set_xlabel(f"cost of the path's plan, present value ({unit})")
        ax.set_ylabel("probability")
        ax.set_title(title or self._title("Cost over the demand paths"))
        ax.margins(y=0.15)
        ax.grid(axis="y", alpha=0.3)
        _legend(fig, ax, outside=False)
        return fig

    def share_distribution(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """The distribution of each vendor's share of compute over the horizon across the demand
        paths: one dot per path (its area the path's probability) and the probability-weighted
        mean as a bar, one column per vendor (what `SweepPlot.shares` draws for variants)."""
        paths = self._paths()
        fig, ax = _axes(ax)
        shares = pd.DataFrame(
            {name: r.compute_by_vendor.sum() / max(float(r.compute_by_vendor.to_numpy().sum()), 1e-12)
             for name, _, r in paths}
        ).T  # fmt: skip
        probability = np.array([p for _, p, _ in paths])
        colors = vendor_colors(shares.columns)
        for k, vendor in enumerate(shares.columns):
            values = 100 * shares[vendor].to_numpy(float)
            jitter = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(k + jitter, values, s=20 + 400 * probability, color=colors[vendor], alpha=0.7, label=vendor)
            mean = float(probability @ values)
            ax.hlines(mean, k - 0.3, k + 0.3, color="black", lw=2, label="expected" if k == 0 else "_expected")
        ax.set_xticks(np.arange(len(shares.columns)), list(shares.columns))
        ax.set_xlabel("vendor")
        ax.set_ylabel("share of compute over the horizon (%)")
        ax.set_ylim(0, 100)
        ax.set_title(title or self._title(f"Vendor shares over {len(paths)} demand paths"))
        ax.grid(axis="y", alpha=0.3)
        _legend(fig, ax, outside=False)
        return fig

    def all(self) -> list[Figure]:
        """Every plot: compute, power, cost, shares, scenario costs, share distribution."""
        return [*super().all(), self.scenario_costs(), self.share_distribution()]


# --------------------------------------------------------------------------- sweeps


class SweepPlot:
    """Distributions over a sweep's variants (``sweep.plot``); only variants with a plan count.

    Parameters
    ----------
    sweep : Sweep
        The sweep whose ``table`` is drawn.
    """

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep

    def _planned(self) -> pd.DataFrame:
        table = self.sweep.table
        ok = table[table["status"].isin(("optimal", "feasible"))]
        if ok.empty:
            counts = ", ".join(f"{n} {s}" for s, n in table["status"].value_counts().items())
            raise ValueError(f"nothing to plot: no variant of the sweep has a plan ({counts or 'no variants'})")
        return ok

    def cost(self, ax: Axes | None = None, *, bins: int | None = None, title: str | None = None) -> Figure:
        """Histogram of the variants' cost ($B, $M, …; present value), the mean and median marked;
        the count axis has whole-number ticks."""
        from matplotlib.ticker import MaxNLocator

        ok = self._planned()
        fig, ax = _axes(ax)
        dollars = ok["cost"].to_numpy(dtype=float)
        scale, unit = money_scale(float(np.abs(dollars).max()))
        cost = dollars / scale
        ax.hist(cost, bins=bins or min(30, max(5, len(cost) // 5)), color="#6baed6", edgecolor="white")
        mean, median = float(dollars.mean()), float(np.median(dollars))
        ax.axvline(mean / scale, color="black", lw=1.6, label=f"mean {_money(mean)}")
        ax.axvline(median / scale, color="#d62728", ls="--", lw=1.4, label=f"median {_money(median)}")
        ax.set_xlabel(f"cost, present value ({unit})")
        ax.set_ylabel("variants")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no tick at 2.5
        missing = len(self.sweep) - len(ok)
        note = f"; {missing} without a plan" if missing else ""
        ax.set_title(title or f"Cost over {len(ok)} variants{note}")
        ax.grid(axis="y", alpha=0.3)
        _legend(fig, ax, outside=False)
        return fig

    def shares(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """Box plots of each vendor's share of compute over the horizon, one per vendor."""
        ok = self._planned()
        fig, ax = _axes(ax)
        columns = [c for c in ok.columns if isinstance(c, str) and c.startswith("share[")]
        vendors = [c[len("share[") : -1] for c in columns]
        colors = vendor_colors(vendors)
        data = [100 * ok[c].to_numpy(dtype=float) for c in columns]
        boxes = ax.boxplot(data, patch_artist=True, widths=0.6)
        ax.set_xticks(np.arange(1, len(vendors) + 1), vendors)
        for box, vendor in zip(boxes["boxes"], vendors):
            box.set_facecolor(colors[vendor])
            box.set_alpha(0.8)
            box.set_label(vendor)
        ax.set_ylabel("share of compute over the horizon (%)")
        ax.set_xlabel("vendor")
        ax.set_ylim(0, 100)
        ax.set_title(title or f"Vendor shares over {len(ok)} variants")
        ax.grid(axis="y", alpha=0.3)
        return fig


@provide("frontier_plot")
def frontier_plot(frontier: Frontier, path: str | None = None, *, title: str | None = None) -> Any:
    """`Frontier.plot`: cost against risk, each point's vendor mix below."""
    plt = _pyplot()
    ok = frontier.table[frontier.table["status"].isin(["optimal", "feasible"])]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]}, constrained_layout=True
    )
    risk = ok["risk"].to_numpy(dtype=float)
    in_dollars = frontier.measure in ("cvar", "scenario_cvar")
    x_scale, x_unit = money_scale(float(np.abs(risk).max(initial=0))) if in_dollars else (1.0, "")
    label = {
        "cvar": f"CVaR of disruption loss ({x_unit})",
        "hhi": "mean HHI (demand shares, discount-weighted)",
        "max_share": "largest vendor share in any year (%)",
        "scenario_cvar": f"CVaR of the demand paths' costs ({x_unit})",
    }[frontier.measure]
    x = risk / x_scale
    _frontier_costs(top, x, ok["cost"].to_numpy(dtype=float))
    top.set_title(title or f"What lowering {frontier.measure.replace('_', ' ')} costs")
    _frontier_mix(bottom, frontier, ok, x)
    inverted = len(x) > 1 and x[0] > x[-1]
    if inverted:
        top.invert_xaxis()
    bottom.set_xlabel(label + ("  (less risk →)" if inverted else "  (← less risk)"))
    if path is not None:
        fig.savefig(path, dpi=130)
    return fig


def _frontier_costs(top: Axes, x: np.ndarray, dollars: np.ndarray) -> None:
    """The frontier's costs: the cheapest plan's written at its point, what each other adds at its."""
    scale, unit = money_scale(float(np.abs(dollars).max(initial=0)))
    top.plot(x, dollars / scale, "-o", color="#1f4e79", label="cheapest plan at each risk level")
    for k, (xi, amount) in enumerate(zip(x, dollars)):
        if k and xi == x[k - 1] and amount == dollars[k - 1]:
            continue  # the same plan again: one label is enough
        # alternately above and below the curve so that neighbouring labels do not collide
        top.annotate(
            _money(amount) if k == 0 else "+" + _money(amount - dollars[0]),
            (xi, amount / scale),
            textcoords="offset points",
            xytext=(0, 9 if k % 2 == 0 else -14),
            ha="center",
            fontsize=8,
            color="#1f4e79",
        )
    top.set_ylabel(f"cost, present value ({unit})")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    top.margins(y=0.15)


def _frontier_mix(bottom: Axes, frontier: Frontier, ok: pd.DataFrame, x: np.ndarray) -> None:
    """Each frontier point's vendor mix as stacked bars, in each vendor's own colour."""
    from matplotlib.ticker import PercentFormatter

    columns = [c for c in frontier.table.columns if c.startswith("share ")]
    names = [c.removeprefix("share ") for c in columns]
    vendors = frontier.results[0].problem.vendor_names if frontier.results else names
    colors = vendor_colors([*vendors, *names])
    span = float(x.max() - x.min()) if len(x) else 0.0
    width = span / (len(x) * 1.5) if span > 0 else 0.05 * max(float(np.abs(x).max(initial=0)), 1e-9)
    bottom_edge = np.zeros(len(ok))
    for column, vendor in zip(columns, names):
        share = 100 * ok[column].to_numpy(dtype=float)
        bottom.bar(x, share, width=width, bottom=bottom_edge, color=colors[vendor], label=vendor)
        bottom_edge += share
    bottom.set_ylabel("share of compute,\nwhole horizon (%)")
    bottom.set_ylim(0, 100)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    if frontier.measure == "max_share":
        # a narrow range of shares needs a decimal, or neighbouring ticks read the same
        bottom.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0 if span >= 0.05 else 1))


# what lower layers show through these (``result.plot``, ``tree_result.plot``, ``sweep.plot``)
provide("result_plot")(ResultPlot)
provide("tree_result_plot")(TreeResultPlot)
provide("sweep_plot")(SweepPlot)
