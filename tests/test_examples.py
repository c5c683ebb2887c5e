"""The examples run, agree with their TOML twins, and give sensible plans."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import procure

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gigawatt() -> procure.Result:
    return procure.solve(_load("gigawatt_2026").build_problem())


def test_toml_twin_is_the_same_problem() -> None:
    built = procure.Problem.from_dict(_load("gigawatt_2026").build_problem())
    assert procure.Problem.from_file(EXAMPLES / "gigawatt_2026.toml") == built


def test_gigawatt_plan_is_sensible(gigawatt: procure.Result) -> None:
    problem = gigawatt.problem
    assert gigawatt.status == "optimal"
    assert gigawatt.check() == []
    caps = problem.power_cap_gw
    assert caps is not None
    used = gigawatt.power_gw.to_numpy() / caps
    assert (used <= 1 + 1e-9).all() and used.max() > 0.95  # near but under the cap
    assert 1.0 < gigawatt.power_gw.iloc[0] <= 1.3 + 1e-9  # about a gigawatt in 2026
    for vendor in problem.vendors:
        cap = vendor.max_share if vendor.max_share is not None else problem.risk.max_share
        assert (gigawatt.shares[vendor.name] <= cap + 1e-9).all()
    assert (gigawatt.compute_by_vendor > 0).all().all()  # all three vendors carry load every year
    demand = problem.demand
    assert demand[-1] / demand[0] > 3  # demand grows several times


def test_gigawatt_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "gigawatt_2026.py")], capture_output=True, text=True, timeout=300, check=True
    ).stdout
    assert "optimal" in out
    assert "Facility power" in out and "% of cap" in out


@pytest.mark.slow  # kept out of `pytest -q` for its time; CI runs it with -m slow
def test_three_clouds_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "three_clouds.py")], capture_output=True, text=True, timeout=600, check=True
    ).stdout
    assert "What the TPU contract costs" in out
    assert "by site" in out and "inference" in out


@pytest.mark.slow  # kept out of `pytest -q` for its time; CI runs it with -m slow
def test_diversification_script_runs(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "diversification.py")], capture_output=True, text=True, timeout=600, check=True
    ).stdout
    assert "Single-vendor plans" in out and "CVaR" in out
    assert (EXAMPLES / "diversification.png").stat().st_size > 10_000


@pytest.mark.slow
def test_what_if_script_runs() -> None:
    # 12 variants keep it short; the dask LocalCluster it starts is real
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "what_if.py"), "--variants", "12"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=EXAMPLES,
    ).stdout
    assert "cannot hold together" in out and "raise the power cap in 2026" in out
    assert "power_cap_gw[2026]" in out and "$ per MW" in out
    assert "risk.max_share" in out  # the rule-cost table
    assert "12 variants" in out and "share[nvidia]" in out
    assert (EXAMPLES / "what_if.png").stat().st_size > 10_000


@pytest.mark.slow  # kept out of `pytest -q` for its time; CI runs it with -m slow
def test_uncertain_growth_script_runs(tmp_path: Path) -> None:
    picture = tmp_path / "growth.png"
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "uncertain_growth.py"), "--branch-years", "1", "--plot", str(picture)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    assert "decided now, before the first branch (2026)" in out
    assert "VSS" in out and "EVPI" in out
    assert "slow" in out and "fast" in out
    assert picture.stat().st_size > 10_000


@pytest.mark.slow
def test_up_to_one_million_script_runs(tmp_path: Path) -> None:
    picture = tmp_path / "costs.png"
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "up_to_one_million.py"), "--fresh", "30", "--plot", str(picture)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    assert "reserve" in out and "TPUs in 2026" in out
    assert "option 'tpu-up-to-1m' saves $" in out
    assert "tree plan out of sample: 30 paths" in out and "mean-forecast plan out of sample" in out
    assert picture.stat().st_size > 10_000
