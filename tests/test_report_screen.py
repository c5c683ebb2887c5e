"""The report's first screen speaks business (issue 21): the verdict in plain words, the cost and
its parts, what to buy, budget, power and shares against their limits, every number through
`procure.fmt`; the solver's words only in the folded details; no empty ``site`` column."""

from __future__ import annotations

import copy
import dataclasses
import re
from html.parser import HTMLParser
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from conftest import SMALL

import procure
from procure.base import fmt
from procure.report import tables
from procure.report.excel import sheets
from procure.report.html import dollars, verdict

#: Words of the solver that a reader of the plan should not meet first.
SOLVER_WORDS = ("gap_reached", "nonzeros", "columns", "rows", "bound", "termination", "solver", "objective")


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def page(plain: procure.Result) -> str:
    return plain.report()


class _Text(HTMLParser):
    """The text a reader sees (no tags, no CSS), and the header cells of every table."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.headers: list[str] = []
        self._skip = False
        self._header: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip = tag in ("style", "title")
        if tag == "th":
            self._header = []

    def handle_endtag(self, tag: str) -> None:
        self._skip = False
        if tag == "th" and self._header is not None:
            self.headers.append("".join(self._header).strip())
            self._header = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self._header is not None:
                self._header.append(data)


def _seen(markup: str) -> _Text:
    parser = _Text()
    parser.feed(markup)
    return parser


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", " ".join(_seen(markup).parts))


def _split(page: str) -> tuple[str, str, str]:
    """The first screen (before the first ``<details>``), the solver's details, the rest."""
    start = page.index("<details")
    end = page.index("</details>", start) + len("</details>")
    return page[:start], page[start:end], page[end:]


def test_the_first_screen_has_no_solver_words_and_the_details_have_them(plain: procure.Result, page: str) -> None:
    first, details, _ = _split(page)
    shown = _text(first).lower()
    for word in SOLVER_WORDS:
        assert not re.search(rf"\b{word}\b", shown), word
    assert "Solver details" in details
    folded = _text(details)
    for word in ("nonzeros", "columns", "bound", "gap", plain.termination, plain.solver):
        assert word in folded, word
    assert dollars(plain.objective) in folded and dollars(plain.bound) in folded
    assert fmt.seconds(plain.solve_seconds) in folded


def test_the_first_screen_gives_the_verdict_cost_and_its_parts(plain: procure.Result, page: str) -> None:
    shown = _text(_split(page)[0])
    said = verdict(plain, plain.check())
    assert said.startswith("A plan that meets every requirement")
    assert said in shown
    assert f"total cost (present value) {fmt.money(plain.cost)}:" in shown
    parts = plain.cost_breakdown.drop(columns="total").sum()
    assert (parts > 0).sum() >= 2 and (parts == 0).any()
    for part, amount in parts.items():
        listed = f"{str(part).replace('_', '-')} {fmt.money(amount)}"
        assert (listed in shown) == (amount > 0), part  # a part that is zero is not listed
    assert f"units bought {fmt.count(plain.purchases.to_numpy().sum())}" in shown


def test_the_first_screen_shows_what_to_buy_and_the_limits(plain: procure.Result, page: str) -> None:
    first = _split(page)[0]
    shown = _text(first)
    headers = _seen(first).headers
    assert "What to buy, year by year" in shown and "Each year against its limits" in shown
    for offer in plain.problem.offers:
        bought = plain.purchases[offer.name]
        assert (f"{offer.vendor}: {offer.name} (units)" in headers) == bool(bought.any())
        if bought.any():
            assert fmt.count(bought.sum()) in shown  # the total row
    peak = plain.power_gw
    assert f"peak {fmt.power(peak.max())} ({peak.idxmax()})" in shown
    cap = plain.problem.power_cap_gw
    assert cap is not None
    use = peak.to_numpy() / list(cap)
    assert f"at most {fmt.share(use.max())} of the cap" in shown
    shares = plain.shares.max()
    for vendor, top in shares.items():
        assert f"{vendor} {fmt.share(top)}" in shown
    assert f"cap {fmt.share(SMALL['risk']['max_share'], None)} each" in shown
    for v in plain.spend:  # every dollar amount of a table through fmt.money
        assert fmt.money(v) in shown


def test_tables_show_numbers_through_fmt(plain: procure.Result, page: str) -> None:
    shown = _text(page)
    for v in plain.cost_breakdown["total"]:
        assert fmt.money(v) in shown
    for v in plain.shares.to_numpy().ravel():
        assert fmt.share(v) in shown
    assert "($B)" not in page and "($M)" not in page  # no per-column unit rule of its own


def test_a_plan_without_sites_has_no_site_column(plain: procure.Result, page: str) -> None:
    assert not plain.problem.sites
    assert "site" not in [h.lower() for h in _seen(page).headers]
    assert "site" not in tables.plan_table(plain).columns
    assert "site" not in sheets(plain)["by site"].columns
    assert '"site"' not in plain.to_csv().splitlines()[0]


def test_a_plan_with_sites_keeps_its_site_column(two_sites: procure.Result) -> None:
    result = two_sites
    table = tables.plan_table(result)
    assert set(table["site"]) == {"east", "west"}
    shown = _text(_split(result.report())[0])
    assert "east at most" in shown and "west at most" in shown  # each site against its cap


def test_the_tree_report_leads_with_the_expected_cost_and_the_decision_now(tree: procure.TreeResult) -> None:
    page = tree.report()
    first, details, _ = _split(page)
    shown = _text(first)
    for word in SOLVER_WORDS:
        assert not re.search(rf"\b{word}\b", shown.lower()), word
    assert verdict(tree).startswith("A plan for each of the 3 demand paths that meets every requirement")
    assert f"expected cost (present value) {fmt.money(tree.cost)}: capex" in shown
    assert "Decided now" in shown and "low" in shown and "high" in shown
    assert fmt.money(tree.cost_cvar) in shown
    assert "nonzeros" in _text(details)


def test_the_verdict_says_how_good_the_plan_is_in_plain_words(plain: procure.Result) -> None:
    optimal = dataclasses.replace(plain, status="optimal", gap=9.9e-5, termination="gap_reached")
    assert verdict(optimal) == "A plan that meets every requirement; proved within 0.01% of the best possible."
    exact = dataclasses.replace(plain, status="optimal", gap=0.0, termination="optimal")
    assert verdict(exact) == "A plan that meets every requirement; proved the best possible."
    stopped = dataclasses.replace(plain, status="feasible", gap=0.0123, termination="time_limit")
    assert verdict(stopped) == (
        "A plan that meets every requirement; not proved the best: it may cost up to 1.23% more than the best"
        " possible (the search stopped at its time limit)."
    )
    unknown = dataclasses.replace(plain, status="feasible", gap=float("nan"), termination="converged")
    assert "how far it is from the best possible is unknown" in verdict(unknown)
    assert verdict(plain, ["budget[2026]: too much"]).startswith("A plan that breaks 1 requirement")


def test_a_report_without_a_plan_says_so_first() -> None:
    problem = copy.deepcopy(SMALL)
    problem["power_cap_gw"] = {"2026": 0.0001, "2027": 2.0, "2028": 5.0}
    result = procure.solve(problem, time_limit=20)
    first, details, rest = _split(result.report(time_limit=20))
    shown = _text(first)
    assert "No plan meets every requirement" in shown
    assert "infeasible" in _text(details)
    assert "Why there is no plan" in rest
