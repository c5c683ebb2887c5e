"""CBC (COIN-OR, EPL licence) as a program: ``solve(problem, solver="cbc")``.

The scaled matrix form — the same one HiGHS gets — is written to an MPS file
(columns ``c0…``, rows ``r0…``) and solved by the ``cbc`` program: the one on
``PATH`` (Debian's ``coinor-cbc``) or the one PuLP bundles.  A warm start or a
starting plan goes in as CBC's *mipstart*; Ctrl-C is passed on to CBC, which
stops and writes its best plan.  Like every adapter it vouches for no more
than CBC proved: the objective is the plan's own, CBC's reported objective
must agree with it and its lower bound must not exceed it.

CBC runs with its preprocessing off unless ``solver_options`` say otherwise:
CBC 2.10's preprocessing can return a worse plan labelled optimal on small
models (coin-or/Cbc issues #283 and #720, seen in procure's tests).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..model.linear import LinearModel
from ..model.scaling import MatrixForm, matrix_form
from .base import Adapter, Capabilities, RawSolution, SolveOptions, register, status_for
from .highs import new_highs, pass_model

__all__ = ["STATUS_MAP", "CbcAdapter", "cbc_program", "start_cbc"]

#: CBC's "Result - …" line → termination (see `procure.solvers.base.TERMINATIONS`).
STATUS_MAP: dict[str, str] = {
    "Optimal solution found": "optimal",
    "Optimal solution found (within gap tolerance)": "gap_reached",
    "Problem proven infeasible": "infeasible",
    "Linear relaxation infeasible": "infeasible",
    "Linear relaxation unbounded": "infeasible_or_unbounded",
    "Stopped on time limit": "time_limit",
    "Stopped on iterations or time": "time_limit",
    "Stopped on node limit": "node_limit",
    "Stopped on solutions": "solution_limit",
    "Stopped on ctrl-c": "interrupted",
    "Stopped on difficulties": "numerical",
}

#: seconds below which CBC is not started again within a time limit
LEAST_SECONDS = 0.5
#: Options procure sets from `solve()`'s own arguments, by CBC's names.
MANAGED = {
    "timeMode": "time_limit",
    "sec": "time_limit",
    "seconds": "time_limit",
    "ratioGap": "mip_gap",
    "threads": "threads",
}
#: Options CBC always gets unless ``solver_options`` set them (module docstring).
DEFAULTS: dict[str, object] = {"preprocess": "off"}

#: Relative agreement required between the plan's objective and the one CBC reports.
AGREE = 1e-6


def cbc_program() -> str | None:
    """The CBC program to run: ``cbc`` on PATH, else the one PuLP bundles; None without either."""
    found = shutil.which("cbc")
    if found:
        return found
    try:
        from pulp.apis import PULP_CBC_CMD
    except ImportError:
        return None
    path = PULP_CBC_CMD().path
    return path if path and os.access(path, os.X_OK) else None


def write_mps(form: MatrixForm, path: Path) -> None:
    """The scaled form as MPS, through HiGHS's writer (names ``c<j>``, ``r<i>``)."""

    h = new_highs(False)
    pass_model(h, form)
    for j in range(len(form.cost)):
        h.passColName(j, f"c{j}")
    for i in range(form.A.shape[0]):
        h.passRowName(i, f"r{i}")
    h.writeModel(str(path))


def write_start(path: Path, ids: np.ndarray, values: np.ndarray) -> None:
    """A mipstart file in the format CBC writes solutions in (a header, then index name value)."""
    lines = ["Stopped on iterations - objective value 0"]
    lines += [f"{k} c{j} {v:.17g}" for k, (j, v) in enumerate(zip(ids, values))]
    path.write_text("\n".join(lines) + "\n")


def read_solution(path: Path, n: int) -> np.ndarray | None:
    """Column values (solver units) from CBC's solution file; None when it holds no plan."""
    if not path.exists():
        return None
    lines = path.read_text(errors="replace").splitlines()
    if not lines or lines[0].startswith(("Infeasible", "Unbounded", "Integer infeasible")):
        return None
    y = np.zeros(n)
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c") and parts[1][1:].isdigit():
            y[int(parts[1][1:])] = float(parts[2])
    return y


def _number(log: str, label: str) -> float:
    found = re.search(rf"^{label}:\s+(\S+)", log, flags=re.MULTILINE)
    try:
        return float(found.group(1)) if found else math.nan
    except ValueError:
        return math.nan


class CbcAdapter(Adapter):
    """CBC through its program and an MPS file (see the module docstring)."""

    name = "cbc"
    capabilities = Capabilities(warm_start=True)
    install_hint = "apt-get install coinor-cbc, or pip install pulp (it bundles CBC)"

    @classmethod
    def available(cls) -> bool:
        return cbc_program() is not None

    def check_options(self, options: SolveOptions) -> None:
        super().check_options(options)
        for key, value in options.solver_options.items():
            path = f"solver_options.{key}"
            if key in MANAGED:
                raise ProblemError(f"{path}: set by procure; use solve({MANAGED[key]}=...) instead", path=path)
            if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_!]*", key):
                raise ProblemError(f"{path}: not a CBC option name", path=path, value=value)
            if not isinstance(value, (bool, int, float, str)) or (isinstance(value, str) and not value.strip()):
                raise ProblemError(f"{path}: {value!r} is not a CBC option value", path=path, value=value)

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        started = time.perf_counter()
        raw = self._solve(model, options, DEFAULTS)
        if raw.termination != "error" or "preprocess" in options.solver_options:
            return raw
        # without preprocessing CBC 2.10 can crash where its bound tightening proves infeasibility;
        # its defaults then decide, but a plan they call optimal is not trusted (module docstring)
        if options.time_limit is not None:  # in what is left of the time limit
            left = options.time_limit - (time.perf_counter() - started)
            if left <= LEAST_SECONDS:
                return raw
            options = replace(options, time_limit=left)
        again = self._solve(model, options, {})
        again = replace(again, seconds=time.perf_counter() - started)
        if again.status != "optimal":
            return again
        note = "CBC failed without preprocessing; with it, which can mislabel a worse plan optimal"
        return replace(again, status="feasible", termination="inconsistent", bound=math.nan, message=note)

    def _command(
        self, program: str, folder: Path, options: SolveOptions, started: bool, defaults: dict[str, object]
    ) -> list[str]:
        command = [program, str(folder / "model.mps")]
        if started:
            command += ["mips", str(folder / "start.txt")]
        command += ["ratioGap", repr(float(options.mip_gap)), "allowableGap", "1e-6" if options.mip_gap else "0"]
        if options.time_limit is not None:  # wall-clock seconds, as procure's time limits are
            command += ["timeMode", "elapsed", "sec", repr(max(float(options.time_limit), 0.01))]
        command += ["threads", str(options.threads or 1)]
        if options.strict:
            command += ["integerTolerance", "1e-9", "primalTolerance", "1e-9"]
        for key, value in {**defaults, **options.solver_options}.items():
            command += [key, str(value).lower() if isinstance(value, bool) else str(value)]
        return [*command, "solve", "solu", str(folder / "solution.txt")]

    def _solve(self, model: LinearModel, options: SolveOptions, defaults: dict[str, object]) -> RawSolution:
        started = time.perf_counter()
        program = cbc_program()
        if program is None:
            return RawSolution("error", None, solver=self.name, message=f"CBC is not installed: {self.install_hint}")
        form = matrix_form(model)
        with tempfile.TemporaryDirectory(prefix="procure-cbc-") as name:
            folder = Path(name)
            write_mps(form, folder / "model.mps")
            start = options.warm_start is not None and options.warm_start_ids is not None
            if start:
                assert options.warm_start is not None and options.warm_start_ids is not None
                ids = np.asarray(options.warm_start_ids, dtype=int)
                write_start(
                    folder / "start.txt", ids, np.asarray(options.warm_start, dtype=float) / form.col_scale[ids]
                )
            log, interrupted = _run(self._command(program, folder, options, start, defaults), options.verbose)
            y = read_solution(folder / "solution.txt", len(form.cost))
        return self._answer(form, log, y, interrupted, options, time.perf_counter() - started)

    def _answer(
        self, form: MatrixForm, log: str, y: np.ndarray | None, interrupted: bool, options: SolveOptions, seconds: float
    ) -> RawSolution:
        result = re.search(r"^Result - (.+?)\s*$", log, flags=re.MULTILINE)
        termination = STATUS_MAP.get(result.group(1), "error") if result else "error"
        if result is None:  # CBC's presolve settles it before any search
            if re.search(r"^Problem is infeasible", log, flags=re.MULTILINE):
                termination = "infeasible"
            elif re.search(r"^(Problem is unbounded|Pre-processing says infeasible or unbounded)", log, flags=re.M):
                termination = "infeasible_or_unbounded"
        if interrupted:
            termination = "interrupted"
        unknown = re.search(r"No match for (\S+)", log)
        if unknown and unknown.group(1) in {str(k) for k in options.solver_options}:
            key = unknown.group(1)
            raise ProblemError(f"solver_options.{key}: CBC has no option {key!r}", path=f"solver_options.{key}")
        has_plan = y is not None and termination not in ("infeasible", "infeasible_or_unbounded", "error")
        x = form.to_model_x(y) if has_plan and y is not None else None
        objective = bound = math.nan
        message = (
            ""
            if termination in ("optimal", "gap_reached", "infeasible")
            else f"CBC: {result.group(1) if result else log[-300:]}"
        )
        if x is not None and y is not None:
            value = float(form.cost @ y + form.offset)
            objective = form.to_model_objective(value)
            reported = _number(log, "Objective value")
            lower = _number(log, "Lower bound")
            if math.isnan(lower) and termination == "optimal":
                lower = reported
            slack = AGREE * max(1.0, abs(value))
            if (math.isfinite(reported) and abs(reported - value) > slack) or (
                math.isfinite(lower) and lower > value + slack
            ):
                termination, message = (
                    "inconsistent",
                    f"CBC reported objective {reported:.10g} for a plan worth {value:.10g}",
                )
            elif math.isfinite(lower):
                bound = form.to_model_objective(min(lower, value))
        status = status_for(termination, x is not None, form.model)
        return RawSolution(
            status, x, objective, bound, seconds=seconds, solver=self.name, message=message, termination=termination
        )


def _parent_death_signal() -> Any:
    """On Linux, a function for the forked child that asks the kernel to kill it when
    procure's process dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); None elsewhere.

    CBC runs in its own session (so that Ctrl-C reaches it only through procure), so
    without this a procure killed outright (``kill -9``, ``os._exit``, a test's timeout)
    would leave CBC running to the end of a search that may have no time limit."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None
    kill = int(signal.SIGKILL)

    def die_with_parent() -> None:
        prctl(1, kill, 0, 0, 0)  # PR_SET_PDEATHSIG = 1

    return die_with_parent


_DIE_WITH_PARENT = _parent_death_signal()


def start_cbc(command: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """The CBC program started in its own session, killed by the kernel if procure dies."""
    return subprocess.Popen(command, start_new_session=True, preexec_fn=_DIE_WITH_PARENT, **kwargs)


def _run(command: list[str], verbose: bool) -> tuple[str, bool]:
    """Run CBC; its log, and whether Ctrl-C stopped it (CBC then writes its best plan)."""
    process = start_cbc(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    interrupted = False
    try:
        out, _ = process.communicate()
    except KeyboardInterrupt:
        interrupted = True
        process.send_signal(signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
    if verbose:
        print(out)
    return out, interrupted


register("cbc", CbcAdapter)
