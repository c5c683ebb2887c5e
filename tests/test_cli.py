"""The ``procure`` command line: every command through ``python -m procure`` in a subprocess
(exit codes, standard output, standard error, files written); the help texts, option
checks and the rarer exits (Ctrl-C, an unexpected error) in-process through `main`."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import math
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import procure
from procure.base.fmt import money
from procure.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
GIGAWATT = "examples/gigawatt_2026.toml"
COMMANDS = ["solve", "validate", "explain", "frontier", "sweep", "export", "init"]

INFEASIBLE = """\
name = "too-little-power"
periods = [2026]
demand = 100
power_cap_gw = 50e-6           # 50 kW for chips that need 100 kW

[[offers]]
name = "a"
vendor = "va"
unit_cost = 10
compute = 1
power_kw = 1

[[offers]]
name = "b"
vendor = "vb"
unit_cost = 12
compute = 1
power_kw = 1
max_units = 30
"""

#: Three vendors, one disruption scenario: a CVaR frontier in well under a second.
SMALL = """\
name = "small"
periods = [2026, 2027, 2028]
demand = { "2026" = 1000, "2027" = 2500, "2028" = 6000 }
power_cap_gw = { "2026" = 1.0, "2027" = 2.0, "2028" = 5.0 }
pue = 1.1
discount_rate = 0.08

[risk]
max_share = 0.8
shortfall_penalty = 50000

[[risk.scenarios]]
name = "export-ban"
probability = 0.1
availability = { nvidia = 0.0 }

[[offers]]
name = "tpu"
vendor = "google"
unit_cost = 30000
compute = 2.3
power_kw = 1.1
lot_size = 256

[[offers]]
name = "trn2"
vendor = "amazon"
unit_cost = 20000
compute = 0.667
power_kw = 1.0
lot_size = 64

[[offers]]
name = "gb200"
vendor = "nvidia"
unit_cost = { "2026" = 42000, "2027" = 38000, "2028" = 35000 }
compute = 2.5
power_kw = 1.7
lot_size = 72
"""


def procure_cli(*args: str, traceback: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m procure ARGS`` from the repository root; never a traceback unless expected."""
    done = subprocess.run(
        [sys.executable, "-m", "procure", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    if not traceback:
        assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process calls of `main` read the example by its path from the repository root."""
    monkeypatch.chdir(ROOT)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    texts = {
        "infeasible": INFEASIBLE,
        "small": SMALL,
        "negative": INFEASIBLE.replace("unit_cost = 12", "unit_cost = -12"),
        "no_compute": INFEASIBLE.replace("compute = 1\npower_kw = 1\nmax_units", "power_kw = 1\nmax_units"),
    }
    out = {}
    for name, text in texts.items():
        out[name] = tmp_path / f"{name}.toml"
        out[name].write_text(text, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- solve


def test_solve_prints_the_summary_and_writes_json(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    done = procure_cli("solve", GIGAWATT, "--out", str(target))
    assert done.returncode == 0, done.stderr
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["status"] == "optimal"
    assert f"cost {money(written['cost'])}" in done.stdout  # the summary's cost line
    assert "units bought:" in done.stdout and "'gigawatt-2026': optimal" in done.stdout
    assert "solving examples/gigawatt_2026.toml with auto" in done.stderr and f"wrote {target}" in done.stderr
    assert re.search(r"optimal \(\w+\) by (highs|cbc) in", done.stderr)  # the engine whose answer is reported
    expected = procure.solve(ROOT / GIGAWATT)
    assert math.isclose(written["objective"], expected.objective, rel_tol=1e-4)


def test_solve_json_parses_and_quiet_is_quiet() -> None:
    done = procure_cli("solve", GIGAWATT, "--json", "--quiet", "--gap", "0.001", "--threads", "1")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] in ("optimal", "feasible") and data["objective"] > 0
    assert done.stderr == ""


def test_infeasible_solve_and_explain_exit_1(files: dict[str, Path]) -> None:
    solved = procure_cli("solve", str(files["infeasible"]))
    assert solved.returncode == 1, solved.stderr
    assert "infeasible" in solved.stdout and "power cap in 2026" in solved.stdout
    explained = procure_cli("explain", str(files["infeasible"]), "--fixed", "demand", "--time-limit", "30")
    assert explained.returncode == 1, explained.stderr
    assert "These cannot hold together:" in explained.stdout
    assert "demand in 2026 (100 compute)" in explained.stdout and "power cap in 2026" in explained.stdout
    assert "power_cap_gw[2026]" in explained.stdout  # the repairs table
    assert "demand[2026]" not in explained.stdout.split("Repairs")[1]  # demand is fixed


def test_explain_json_and_a_problem_with_a_plan(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(files["infeasible"]), "--json", "--quiet"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert not data["has_plan"]
    assert {r["requirement"] for r in data["conflict"]} == {"demand[2026]", "power_cap_gw[2026]"}
    assert {r["requirement"] for r in data["repairs"]} == {"demand[2026]", "power_cap_gw[2026]"}
    assert main(["explain", str(files["small"]), "--quiet"]) == 0
    assert "has a plan" in capsys.readouterr().out


def test_bad_input_exits_2_with_the_error_and_no_traceback(files: dict[str, Path]) -> None:
    done = procure_cli("solve", str(files["negative"]))
    assert done.returncode == 2
    assert "procure solve: error: offers[1].unit_cost: -12 is negative" in done.stderr and done.stdout == ""


def test_a_missing_field_and_a_missing_file_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(files["no_compute"]), "--quiet"]) == 2
    assert "offers[1].compute" in capsys.readouterr().err
    assert main(["solve", "no/such/plan.toml", "--quiet"]) == 2
    assert "no/such/plan.toml: no such problem file" in capsys.readouterr().err


def test_solver_not_installed_exits_3_unknown_solver_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from procure.solvers.base import _CLASSES

    # a registered solver that this machine lacks (CI installs the commercial community editions,
    # so one is made missing here rather than found missing)
    monkeypatch.setattr(_CLASSES["pyomo:gurobi"], "available", classmethod(lambda cls: False))
    assert main(["solve", GIGAWATT, "--solver", "pyomo:gurobi", "--quiet"]) == 3
    assert "solver 'pyomo:gurobi' is not installed" in capsys.readouterr().err
    assert main(["solve", GIGAWATT, "--solver", "no-such-solver", "--quiet"]) == 2
    assert "'no-such-solver' is not a known solver" in capsys.readouterr().err


def test_a_problem_with_demand_scenarios_solves_to_json(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = procure.Problem.from_file(files["small"]).to_dict()
    del data["demand"]
    data["demand_scenarios"] = [
        {"name": "slow", "probability": 0.4, "demand": {"2026": 1000, "2027": 2000, "2028": 3000}},
        {"name": "fast", "probability": 0.6, "demand": {"2026": 1000, "2027": 2500, "2028": 6000}},
    ]
    tree, target = tmp_path / "tree.json", tmp_path / "out.json"
    tree.write_text(json.dumps(data, default=str), encoding="utf-8")
    assert main(["solve", str(tree), "--out", str(target), "--quiet"]) == 0
    assert "decided now, before the first branch" in capsys.readouterr().out
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["status"] == "optimal" and set(written["scenario_results"]) == {"slow", "fast"}


def test_time_limit_without_a_plan_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", GIGAWATT, "--time-limit", "1e-6", "--quiet"]) == 3
    assert "before any plan was found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["solve", GIGAWATT, "--out", "plan.txt"], ["--out 'plan.txt'", "unknown file type '.txt'"]),
        (["solve", GIGAWATT, "--report", "plan.pdf"], ["--report 'plan.pdf'", "'.pdf'"]),
        (["solve", GIGAWATT, "--out", "no/such/dir/plan.json"], ["does not exist"]),
        (["solve", GIGAWATT, "--gap", "1.5"], ["--gap: 1.5 must be a number in [0, 1)"]),
        (["solve", GIGAWATT, "--time-limit", "nan"], ["--time-limit: nan must be"]),
        (["solve", GIGAWATT, "--threads", "0"], ["--threads: 0 must be a whole number ≥ 1"]),
        (["frontier", GIGAWATT, "--points", "1"], ["--points: 1 must be"]),
        (
            ["frontier", GIGAWATT, "--measure", "var"],
            ["--measure: 'var' is not one of", "this problem has: max_share, hhi"],
        ),
        (["explain", GIGAWATT, "--fixed", ""], ["--fixed ''"]),
        (["frontier", GIGAWATT, "--plot", "f.nope"], ["--plot 'f.nope'"]),
        (["sweep", GIGAWATT, "--vary", "pue"], ["--vary 'pue'", "PATH=LO:HI:N"]),
        (["sweep", GIGAWATT, "--vary", "pue=1:2:0"], ["N = 0"]),
        (["sweep", GIGAWATT, "--vary", "pue=1,,2"], ["an empty value"]),
        (["sweep", GIGAWATT, "--vary", "pue=1.1", "--vary", "pue=1.2"], ["varied twice"]),
        (["sweep", GIGAWATT, "--vary", "offers[nope].unit_cost=1,2"], ["--vary 'offers[nope]", "no offer is named"]),
        (["sweep", GIGAWATT, "--vary", "pue=inf"], ["--vary 'pue=inf'", "not a finite number"]),
        (["sweep", GIGAWATT, "--vary", "pue=1,nan"], ["--vary 'pue=1,nan'", "not a finite number"]),
        (["sweep", GIGAWATT, "--vary", "pue=1,1e999"], ["--vary 'pue=1,1e999'", "not a finite number"]),
        (["sweep", GIGAWATT, "--vary", "pue=1:inf:3"], ["--vary 'pue=1:inf:3'", "not a range LO:HI:N"]),
        (["sweep", GIGAWATT, "--vary", "pue=1:2"], ["--vary 'pue=1:2'", "not a range LO:HI:N"]),
        (["sweep", GIGAWATT, "--vary", "offers[.x=1"], ["--vary 'offers[.x=1'"]),
        (["sweep", GIGAWATT, "--vary", "pue=1.1", "--gap", "2"], ["--gap: 2.0 must be"]),
        (["sweep", GIGAWATT, "--vary", "pue=1.1", "--workers", "0"], ["--workers 0"]),
        (["export", GIGAWATT, "model.txt"], ["MODEL 'model.txt'"]),
    ],
)
def test_bad_options_exit_2(argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err


# --------------------------------------------------------------------------- validate, export


def test_validate(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", GIGAWATT]) == 0
    out = capsys.readouterr().out
    assert "gigawatt-2026: 5 periods (2026–2030), 6 offers, 3 vendors, 0 sites" in out
    assert out.rstrip().endswith("valid")
    bad = procure_cli("validate", str(files["negative"]), "--json")
    assert bad.returncode == 2 and "offers[1].unit_cost: -12 is negative" in bad.stderr
    assert json.loads(bad.stdout) == {
        "valid": False,
        "error": "offers[1].unit_cost: -12 is negative",
        "path": "offers[1].unit_cost",
    }


def test_validate_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(files["small"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] and data["vendors"] == ["google", "amazon", "nvidia"] and data["scenarios"] == ["export-ban"]


def test_export_mps_reads_into_highs(tmp_path: Path) -> None:
    import highspy

    target = tmp_path / "model.mps"
    done = procure_cli("export", GIGAWATT, str(target))
    assert done.returncode == 0 and f"wrote {target}" in done.stdout
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(target)) == highspy.HighsStatus.kOk
    assert h.getNumCol() > 0 and h.getNumRow() > 0


# --------------------------------------------------------------------------- frontier, sweep


def test_frontier_prints_the_table_and_plots(files: dict[str, Path], tmp_path: Path) -> None:
    plot, table = tmp_path / "frontier.png", tmp_path / "frontier.csv"
    done = procure_cli(
        "frontier", str(files["small"]), "--measure", "cvar", "--points", "3", "--plot", str(plot), "--out", str(table)
    )
    assert done.returncode == 0, done.stderr
    assert "share google" in done.stdout and done.stdout.count("optimal") == 3
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import pandas as pd

    assert len(pd.read_csv(table)) == 3


def test_sweep_in_process(tmp_path: Path) -> None:
    target = tmp_path / "sweep.json"
    vary = "offers[gb300-nvl72].unit_cost=30000:50000:3"
    done = procure_cli("sweep", GIGAWATT, "--vary", vary, "--time-limit", "10", "--out", str(target))
    assert done.returncode == 0, done.stderr  # two plans, one infeasible variant: a plan was found
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert [r["offers[gb300-nvl72].unit_cost"] for r in rows] == [30000, 40000, 50000]
    assert [r["status"] for r in rows][:2] == ["optimal", "optimal"]
    assert "sweeping 3 variants" in done.stderr and "in this process" in done.stderr


@pytest.mark.slow
def test_sweep_on_a_local_dask_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    done = procure_cli(
        "sweep", GIGAWATT, "--vary", "risk.max_share=0.5,0.6,0.7", "--workers", "2", "--time-limit", "10", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert "local dask cluster of 2 worker processes" in done.stderr
    rows = json.loads(done.stdout)
    assert [r["risk.max_share"] for r in rows] == [0.5, 0.6, 0.7]
    assert all(r["status"] == "optimal" for r in rows)
    # the same rows as in this process (one chunk size, one thread per variant everywhere)
    assert main(["sweep", GIGAWATT, "--vary", "risk.max_share=0.5,0.6,0.7", "--json", "--quiet"]) == 0
    here = json.loads(capsys.readouterr().out)
    assert [r["objective"] for r in here] == pytest.approx([r["objective"] for r in rows], rel=1e-9)


def test_sweep_invalid_variant_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", GIGAWATT, "--vary", "offers[gb300-nvl72].unit_cost=30000,-5", "--quiet"]) == 2
    captured = capsys.readouterr()
    # the entry named as the --vary names it, not by its position in the file (offers[3])
    error = "variant 1 is invalid: offers[gb300-nvl72].unit_cost: -5 is negative"
    assert "invalid" in captured.out and error in captured.err and "offers[3]" not in captured.out + captured.err


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("30000:50000:5", [30000, 35000, 40000, 45000, 50000]),
        ("0:1:3", [0.0, 0.5, 1.0]),
        ("1:2:4", [1.0, 1 + 1 / 3, 1 + 2 / 3, 2.0]),
        ("2.5e9:3e9:2", [2.5e9, 3e9]),
        ("7:7:1", [7]),
        ("1,2.5,true,all_units", [1, 2.5, True, "all_units"]),
        ("30_000, 40_000", [30000, 40000]),
    ],
)
def test_vary_values(text: str, values: list[Any]) -> None:
    from procure.cli.sweep import parse_values

    parsed = parse_values(text, f"x={text}")
    if all(isinstance(v, float) for v in values):
        assert parsed == pytest.approx(values)
    else:
        assert parsed == values
    assert [type(v) for v in parsed] == [type(v) for v in values]


# --------------------------------------------------------------------------- help, version, entry point


def test_top_level_help() -> None:
    done = procure_cli("--help")
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout
    assert "Exit codes" in done.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"procure {procure.__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "Example" in out and f"procure {command}" in out and "Exit codes" in out


def test_no_command_and_unknown_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    with pytest.raises(SystemExit) as stop:
        main(["solve", GIGAWATT, "--threads", "many"])
    assert stop.value.code == 2


def test_console_script_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, name = scripts["procure"].partition(":")
    assert (module, name) == ("procure.cli", "main")
    assert getattr(importlib.import_module(module), name) is main


# --------------------------------------------------------------------------- interrupts and failures


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(procure, "solve", interrupted)
    assert main(["solve", GIGAWATT, "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == "procure solve: interrupted"


def test_a_real_ctrl_c_stops_a_sweep_with_130() -> None:
    vary = "offers[gb300-nvl72].unit_cost=30000:45000:400"  # far longer than the wait for the first line
    with subprocess.Popen(
        [sys.executable, "-m", "procure", "sweep", GIGAWATT, "--vary", vary],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as running:
        assert running.stderr is not None
        assert running.stderr.readline().startswith("sweeping 400 variants")  # solving has begun
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=60)
    assert running.returncode == 130
    assert err.strip() == "procure sweep: interrupted" and out == ""


def test_an_unexpected_error_exits_3_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(procure, "solve", broken)
    assert main(["solve", GIGAWATT, "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err and "please report it" in err


# --------------------------------------------------------------------------- files: csv, xlsx, html, init


def test_console_script_is_installed_and_runs() -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "procure"]
    assert entry.load() is main
    script = shutil.which("procure")
    assert script is not None, "pip install -e . puts a procure script on the PATH"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"procure {procure.__version__}"


def test_solve_writes_csv_xlsx_and_the_html_report(tmp_path: Path) -> None:
    csv, xlsx, html = tmp_path / "plan.csv", tmp_path / "plan.xlsx", tmp_path / "plan.html"
    assert procure_cli("solve", GIGAWATT, "--out", str(csv), "--quiet").returncode == 0
    done = procure_cli("solve", GIGAWATT, "--out", str(xlsx), "--report", str(html))
    assert done.returncode == 0, done.stderr
    assert f"wrote {xlsx}" in done.stderr and f"wrote {html}" in done.stderr
    result = procure.solve(GIGAWATT)
    table = pd.read_csv(csv)
    assert table["bought (units)"].sum() == pytest.approx(result.purchases.to_numpy().sum())
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert {"summary", "purchases", "fleet", "cost breakdown"} <= set(sheets)
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "gigawatt-2026" in text and "optimal" in text


def test_an_infeasible_solve_writes_no_csv_but_its_report(files: dict[str, Path], tmp_path: Path) -> None:
    csv, html = tmp_path / "plan.csv", tmp_path / "plan.html"
    done = procure_cli("solve", str(files["infeasible"]), "--out", str(csv), "--report", str(html))
    assert done.returncode == 1
    assert not csv.exists() and "plan.csv" in done.stderr
    assert "infeasible" in html.read_text(encoding="utf-8")


def test_init_writes_a_starter_that_solves_and_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "starter"
    done = procure_cli("init", str(folder))
    assert done.returncode == 0, done.stderr
    assert (folder / "problem.toml").exists() and (folder / "offers.csv").exists()
    assert f"procure solve {folder / 'problem.toml'}" in done.stderr + done.stdout
    again = procure_cli("init", str(folder))
    assert again.returncode == 2 and "--force" in again.stderr
    assert procure_cli("init", str(folder), "--force").returncode == 0
    solved = procure_cli("solve", str(folder / "problem.toml"), "--json")
    assert solved.returncode == 0 and json.loads(solved.stdout)["status"] == "optimal"


# --------------------------------------------------------------------------- the starter, input first, CLI words


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``procure init`` into a fresh folder: its problem.toml."""
    folder = tmp_path_factory.mktemp("starter") / "my-plan"
    assert main(["init", str(folder)]) == 0
    return folder / "problem.toml"


#: Each command on the starter with its defaults, and the exit code the spec gives it (a problem
#: with a plan: explain says so and exits 0).
STARTER_RUNS = {
    "solve": (["solve", "{plan}"], 0),
    "solve-out": (["solve", "{plan}", "--out", "{tmp}/plan.json", "--report", "{tmp}/plan.html"], 0),
    "validate": (["validate", "{plan}"], 0),
    "explain": (["explain", "{plan}"], 0),
    "frontier": (["frontier", "{plan}", "--plot", "{tmp}/frontier.png"], 0),
    "sweep": (["sweep", "{plan}", "--vary", "pue=1.1,1.3"], 0),
    "export": (["export", "{plan}", "{tmp}/model.mps"], 0),
    "tree": (["tree", "{plan}", "--total", "3,5,8", "--branching", "2", "--out", "{tmp}/tree.json"], 0),
}


@pytest.mark.parametrize("run", list(STARTER_RUNS))
def test_every_command_runs_on_the_starter_with_its_defaults(
    run: str, starter: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, code = STARTER_RUNS[run]
    args = [a.format(plan=starter, tmp=tmp_path) for a in argv]
    got = main(args)
    captured = capsys.readouterr()
    assert got == code, captured.err
    assert "Traceback" not in captured.err and "error" not in captured.err, captured.err
    if run == "frontier":  # no scenarios in the starter: the frontier of the largest vendor share
        assert "tracing the max_share frontier" in captured.err
        assert (tmp_path / "frontier.png").read_bytes()[:4] == b"\x89PNG"


def test_a_measure_the_problem_lacks_names_the_ones_it_has(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frontier", str(starter), "--measure", "cvar", "--plot", "frontier.png"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "procure frontier: error: --measure: 'cvar' needs risk.scenarios and risk.shortfall_penalty > 0; "
        "this problem has: max_share, hhi"
    ]


def test_the_library_frontier_chooses_its_measure_from_the_problem(files: dict[str, Path], starter: Path) -> None:
    from procure.analysis.frontier import measures_for

    assert measures_for(procure.Problem.from_file(starter)) == ("max_share", "hhi")
    assert measures_for(procure.Problem.from_file(files["small"])) == ("cvar", "max_share", "hhi")
    assert procure.frontier(starter, points=2).measure == "max_share"
    assert procure.frontier(files["small"], points=2).measure == "cvar"
    with pytest.raises(procure.ProblemError, match="this problem has: max_share, hhi"):
        procure.frontier(starter, "cvar")


#: A command's arguments around a problem file that does not exist.
ON_A_MISSING_FILE = {
    "solve": ["solve", "{plan}", "--out", "{tmp}/plan.json"],
    "validate": ["validate", "{plan}"],
    "explain": ["explain", "{plan}"],
    "frontier": ["frontier", "{plan}", "--points", "3"],
    "sweep": ["sweep", "{plan}", "--vary", "pue=1.1,1.2"],
    "export": ["export", "{plan}", "{tmp}/model.mps"],
}


@pytest.mark.parametrize("command", list(ON_A_MISSING_FILE))
def test_an_input_error_comes_before_any_progress_message(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "missing.toml"
    assert main([a.format(plan=plan, tmp=tmp_path) for a in ON_A_MISSING_FILE[command]]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"procure {command}: error: {plan}: no such problem file"]
    assert captured.out == "" and not list(tmp_path.iterdir())


def test_a_bad_option_comes_before_any_progress_message(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["solve", GIGAWATT, "--gap", "2"],
        ["frontier", GIGAWATT, "--threads", "0"],
        ["sweep", GIGAWATT, "--vary", "pue=1.1", "--time-limit", "-1"],
        ["explain", GIGAWATT, "--solver", "hihgs"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith(f"procure {argv[0]}: error: --"), err


@pytest.mark.parametrize("error", [OverflowError("cannot convert float infinity to integer"), ValueError("bad")])
def test_any_error_reading_the_input_exits_2_without_traceback(
    error: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreadable(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(procure.Problem, "from_file", unreadable)
    for command in (["solve"], ["validate"], ["explain"], ["frontier"], ["sweep", "--vary", "pue=1.1"]):
        assert main([command[0], GIGAWATT, *command[1:]]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.splitlines() == [f"procure {command[0]}: error: {GIGAWATT}: {error}"]


def test_allow_path_is_passed_to_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Any] = []
    read = procure.Problem.from_file

    def reader(path: Any, **kwargs: Any) -> procure.Problem:
        seen.append(kwargs.get("allow_paths"))
        return read(path)

    monkeypatch.setattr(procure.Problem, "from_file", reader)
    other = tmp_path / "tables"
    assert main(["validate", GIGAWATT, "--allow-path", str(other), "--allow-path", str(tmp_path)]) == 0
    assert main(["validate", GIGAWATT]) == 0
    assert seen == [[other, tmp_path], None]


def test_a_sweep_grid_too_large_is_refused_before_it_is_expanded(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", GIGAWATT, "--vary", "pue=1:2:10000", "--vary", "discount_rate=0:0.1:10000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--vary 'pue=1:2:10000'" in err and "--vary 'discount_rate=0:0.1:10000'" in err
    assert "100,000,000 variants, more than the 100,000" in err and len(err.splitlines()) == 1


#: Python words a command-line user cannot type or use.
PYTHON_WORDS = ("result.", "=True", "=False", "()", "(or None)", "procure.")


def test_messages_are_in_the_command_lines_words(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every message a command prints names options and commands, never Python calls."""
    runs = [
        (["sweep", str(files["infeasible"]), "--vary", "demand=100,101", "--quiet"], 1),
        (["frontier", str(files["infeasible"]), "--measure", "max_share", "--points", "3", "--quiet"], 1),
        (["solve", str(files["infeasible"]), "--quiet"], 1),
        (["init", str(tmp_path / "plan")], 0),
        (["init", str(tmp_path / "plan")], 2),
        (["solve", GIGAWATT, "--threads", "0"], 2),
        (["solve", GIGAWATT, "--solver", "mpisppy:ef"], 2),
    ]
    for argv, code in runs:
        assert main(argv) == code, argv
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert not [w for w in PYTHON_WORDS if w in text], (argv, text)
        if argv[0] == "sweep":
            assert text.count("no plan satisfies every constraint (--explain names the conflict") == 2
        if code == 2 and argv[0] == "init":
            assert "already exist (use --force to overwrite)" in text and text.count("--force") == 1


def test_sweep_explain_diagnoses_each_variant_without_a_plan(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", str(files["infeasible"]), "--vary", "demand=100,101", "--explain", "--json", "-q"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert all("power cap in 2026" in r["message"] and "--explain" not in r["message"] for r in rows)


def test_the_library_sweep_says_how_to_explain_a_variant(files: dict[str, Path]) -> None:
    swept = procure.sweep(files["infeasible"], [{}, {"demand": 101}], progress=False)
    assert list(swept.table["message"]) == [
        f"no plan satisfies every constraint (sweep[{k}].explain() names the conflict and the repairs)" for k in (0, 1)
    ]
    assert "power cap in 2026" in swept[1].explain().message


def test_check_refuses_a_result_without_a_plan(files: dict[str, Path]) -> None:
    """An empty list would read as "every constraint holds"."""
    result = procure.solve(files["infeasible"])
    assert not result.has_plan
    with pytest.raises(procure.ProblemError, match=r"no plan to check \(status 'infeasible'"):
        result.check()
    data = procure.Problem.from_file(files["infeasible"]).to_dict()
    del data["demand"]
    data["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "demand": 100},
        {"name": "high", "probability": 0.5, "demand": 200},
    ]
    tree = procure.solve(data)
    assert isinstance(tree, procure.TreeResult) and not tree.has_plan
    with pytest.raises(procure.ProblemError, match="no plan to check"):
        tree.check()


def test_allow_path_lets_a_table_be_read_from_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "plan")]) == 0
    tables = tmp_path / "tables"
    tables.mkdir()
    (tmp_path / "plan" / "offers.csv").rename(tables / "offers.csv")
    plan = tmp_path / "plan" / "problem.toml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace('"offers.csv"', '"../tables/offers.csv"'), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["validate", str(plan)]) == 2
    err = capsys.readouterr().err
    assert "--allow-path" in err and "allow_paths" not in err, err
    assert main(["validate", str(plan), "--allow-path", str(tables)]) == 0


def test_library_words_become_the_command_lines() -> None:
    from procure.cli.common import cli_words

    hint = "no plan satisfies every constraint (result.explain() names the conflict and the repairs)"
    assert cli_words(hint, "p.toml") == (
        "no plan satisfies every constraint ('procure explain p.toml' names the conflict and the repairs)"
    )
    assert cli_words("a, b: already exist (force=True overwrites)") == "a, b: already exist (use --force to overwrite)"
    assert cli_words("threads: 0 must be a whole number ≥ 1 (or None)") == "threads: 0 must be a whole number ≥ 1"


def test_tree_builds_from_a_forecast_from_paths_and_by_reduction(starter: Path, tmp_path: Path) -> None:
    forecast = tmp_path / "forecast.json"
    assert (
        main(["tree", str(starter), "--total", "3,5,8", "--by", "2029", "--branching", "3", "--out", str(forecast)])
        == 0
    )
    tree = procure.Problem.from_file(forecast)
    assert len(tree.demand_scenarios) == 27
    assert sum(s.probability for s in tree.demand_scenarios) == pytest.approx(1.0)
    reduced = tmp_path / "reduced.json"
    assert main(["tree", str(forecast), "--reduce", "9", "--out", str(reduced)]) == 0
    assert len(procure.Problem.from_file(reduced).demand_scenarios) == 9
    paths = procure.growth_paths(starter, 400, total=(3.0, 5.0, 8.0), seed=3)
    csv = tmp_path / "paths.csv"
    paths.to_csv(csv, index=False)
    clustered = tmp_path / "clustered.json"
    assert main(["tree", str(starter), "--paths", str(csv), "--branching", "2", "--out", str(clustered)]) == 0
    assert len(procure.Problem.from_file(clustered).demand_scenarios) == 8


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--total", "3,5", "--branching", "3"], "--total/--growth: give three numbers"),
        (["--total", "3,5,8"], "--branching is required"),
        (["--total", "3,x,8", "--branching", "3"], "is not a comma-separated list of numbers"),
        (["--total", "8,5,3", "--branching", "3"], "total"),
        (["--paths", "/dev/zero", "--branching", "2"], "not a regular file"),  # never read without a bound
    ],
)
def test_tree_names_bad_arguments(
    starter: Path, tmp_path: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tree", str(starter), *argv, "--out", str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "t.json").exists()
