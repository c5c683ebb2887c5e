"""``solver="auto"``: HiGHS and CBC at once, the answer chosen by deterministic work.

Neither engine is faster on every procurement model (``benchmarks/engines.py``),
so both solve the model at the same time, one thread each: HiGHS in a worker
thread of this process (it releases the GIL), CBC as its program.  Which answer
is reported is decided by *work*, never by which engine finished first:

    HiGHS's answer is reported when it proves (optimal within the gap, infeasible
    or unbounded) after at most ``max(FLOOR_NODES, NODE_RATIO × n_cbc)`` branch-and-bound
    nodes, where ``n_cbc`` is the nodes CBC needed to prove (infinite when it does
    not); otherwise CBC's answer when CBC proves; otherwise (neither proved: a time
    limit, Ctrl-C) the better plan, HiGHS's on a tie.

Both engines are deterministic on one thread, so the node count at which each
proves is a property of the model: the same model, options and ``threads`` give
the same engine, plan, status and bound on every run.  The slower engine is stopped
as soon as the rule is settled: once CBC has proved with ``n_cbc`` nodes, HiGHS is
interrupted when its node count passes its budget; once HiGHS has proved with
``n_highs`` nodes, CBC is stopped when its log shows ``n_highs / NODE_RATIO`` nodes
(CBC's log is read as it is written, through a pseudo-terminal where there is one).
An engine is stopped only after it has passed its budget, so a stop never changes
an answer the rule can report.  Only a time limit that ends the race, or Ctrl-C,
makes the answer depend on timing, as it does for either engine alone.

A small model (at most `PROBE_MOST_NONZEROS` nonzeros) is first given to HiGHS alone
for `FLOOR_NODES` nodes: when it proves within them the rule reports its answer anyway,
and CBC is not started.

The reported answer is the engine's own: ``RawSolution.solver`` names it (``"highs"``
or ``"cbc"``), its bound is the one that engine proved, never the other's.

Changes to a kept model (HHI cuts, certification, a sweep) go to a `HighsSession`
(HiGHS's copy is changed in place) and to the `LinearModel` they share, which CBC
reads afresh on every solve.  HiGHS alone answers when the race cannot help or
cannot be decided by the rule: a model without integer columns or above
`RACE_MOST_NONZEROS` nonzeros, row duals, a solve that asks for no race (the extensive
form of a demand tree: ``benchmarks/tree.py``; a model with HHI cuts),
``solver_options`` (they are HiGHS's, as for the default solver), a ``strict``
re-solve, and a machine without CBC (``pip install pulp`` bundles it).

The pipeline asks for a strict re-solve after a plan broke a constraint beyond
procure's check (CBC's tolerances let through more than HiGHS's on some models).
HiGHS then answers alone; when it was CBC's plan that was refused, HiGHS's plan
from the race stands in for a strict solve that finds no better one.  So that a
time limit leaves room for this, the race ends `RESERVE` of the limit early (at
most `RESERVE_SECONDS`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..model.linear import Index, LinearModel
from ..model.scaling import MatrixForm, matrix_form
from .base import Adapter, Capabilities, RawSolution, Session, SolveOptions, register
from .cbc import CbcAdapter, cbc_program, read_solution, start_cbc, write_mps, write_start
from .highs import HighsAdapter, HighsSession, StopSearch

__all__ = ["FLOOR_NODES", "NODE_RATIO", "AutoAdapter", "AutoSession", "choose", "fits"]

#: HiGHS nodes worth one CBC node: HiGHS's nodes cost more (stronger, slower node LPs).  Chosen
#: on seeds 0–1 of the benchmark families (``benchmarks/engines.py``) as the ratio whose rule
#: spends the least engine time; checked on seed 2 (``benchmarks/results-engines.json``).
NODE_RATIO = 0.2
#: HiGHS's answer is reported when it proves within this many nodes, whatever CBC does
#: (above the 200 nodes of the starting plan's sub-MIP, so that no such run counts).
FLOOR_NODES = 500
#: seconds to wait for HiGHS to stop after Ctrl-C before giving the process back
STOP_WAIT = 5.0
#: seconds CBC may take to stop after Ctrl-C (and write its plan) before it is killed
CBC_STOP_WAIT = 0.5
#: how often (seconds) the race is looked at when nothing reports
POLL = 0.05
#: above this many nonzeros HiGHS answers alone: writing the model for CBC and CBC's reading it
#: take seconds that no time limit bounds (the benchmark models have 5,000–33,000)
RACE_MOST_NONZEROS = 250_000
#: Models up to this many nonzeros go to HiGHS alone for `FLOOR_NODES` nodes first: the rule
#: reports HiGHS's answer whenever it proves within them, so on the many small models where it
#: does, CBC is never started (writing the model and starting CBC cost more than their solve).
#: Below the benchmark families' smallest size (4 × 10 × 10 × 50: ~4,600 nonzeros), whose
#: race was measured without a probe.
PROBE_MOST_NONZEROS = 2_000
#: share of a time limit (at most `RESERVE_SECONDS`) the race leaves for a strict re-solve
RESERVE = 0.05
RESERVE_SECONDS = 1.0

_CONCLUSIVE = ("optimal", "infeasible", "unbounded")
_STOPS = ("time_limit", "node_limit", "solution_limit", "iteration_limit")
_NODES = re.compile(r"After (\d+) nodes|and (\d+) nodes \(")


def proved(raw: RawSolution | None) -> bool:
    """True for an answer that settles the model: optimal within the gap, infeasible, unbounded."""
    return raw is not None and raw.status in _CONCLUSIVE


def choose(
    highs: RawSolution | None,
    cbc: RawSolution | None,
    highs_nodes: float,
    cbc_nodes: float,
    ratio: float | None = None,
    floor: float | None = None,
) -> RawSolution:
    """The answer to report: the rule of the module docstring.  ``highs_nodes`` and ``cbc_nodes``
    are the nodes each engine took; an engine stopped past its budget (or absent) is ``None``;
    ``ratio`` and ``floor`` default to `NODE_RATIO` and `FLOOR_NODES`."""
    ratio = NODE_RATIO if ratio is None else ratio
    floor = FLOOR_NODES if floor is None else floor
    if proved(highs) and (not proved(cbc) or highs_nodes <= max(floor, ratio * cbc_nodes)):
        assert highs is not None
        return highs
    if proved(cbc):
        assert cbc is not None
        return cbc
    plans = [raw for raw in (highs, cbc) if raw is not None and raw.has_plan]
    if plans:  # the better plan, HiGHS's on a tie; one its engine does not trust only without another
        return min(plans, key=lambda raw: (raw.termination in ("numerical", "inconsistent"), raw.objective))
    if highs is not None:
        return highs
    assert cbc is not None
    return cbc


#: relative residual (of a row's activity) and integrality slack a CBC plan must keep (procure's check
#: allows 1e-6 on the problem's quantities)
FIT = 1e-6


def fits(model: LinearModel, x: np.ndarray, tol: float = FIT) -> bool:
    """True when plan ``x`` (model units), its integer columns rounded as procure reports them,
    keeps every column bound and row within ``tol`` of the row's activity (or bound).

    CBC's tolerances apply to the scaled model and can let a row of the unscaled one break
    by more than procure's check allows (a lot a hair from whole, rounded); such a plan is
    refused by procure after the race, when there may be no time left for another engine.
    """
    y = np.where(model.integrality, np.round(x), x)
    if np.any(np.abs(y - x) > tol * np.maximum(1.0, np.abs(x))):
        return False
    slack = tol * np.maximum(1.0, np.abs(y))
    if np.any((y < model.col_lower - slack) | (y > model.col_upper + slack)):
        return False
    activity = model.A @ y
    size = np.maximum(abs(model.A) @ np.abs(y), 1.0)  # the row's terms, for a relative residual
    for bound, sign in ((model.row_lower, -1.0), (model.row_upper, 1.0)):
        finite = np.isfinite(bound)
        room = bound[finite] + sign * tol * np.maximum(size[finite], np.abs(bound[finite]))
        if np.any(sign * (activity[finite] - room) > 0):
            return False
    return True


class _Watch(StopSearch):
    """HiGHS's interrupt callbacks: Ctrl-C (the event) and a node budget.

    ``peak`` is the most nodes any MIP run of the solve has reached; HiGHS is
    interrupted once it passes ``budget``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.budget = math.inf
        self.peak = 0
        self.tripped = False

    def reset(self) -> None:
        self.event.clear()
        self.budget, self.peak, self.tripped = math.inf, 0, False

    def stop_now(self, e: Any) -> bool:
        if self.event.is_set():
            return True
        nodes = int(e.data_out.mip_node_count)
        self.peak = max(self.peak, nodes)
        over = nodes > self.budget
        self.tripped = self.tripped or over
        return over


class _RacedHighs(HighsSession):
    """A `HighsSession` whose HiGHS instances are watched by a `_Watch` (node budget, Ctrl-C)."""

    _stop: _Watch

    def _load(self) -> Any:
        if not isinstance(self._stop, _Watch):
            self._stop = _Watch()
        return super()._load()


@dataclass
class _CbcRace:
    """CBC's side of a race: its process, the nodes its log has shown, its budget."""

    moved: threading.Event
    budget: float = math.inf
    seen: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    interrupt: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_budget(self, budget: float) -> None:
        with self.lock:
            self.budget = budget
            over = self.seen >= budget
        if over:
            self.halt()

    def halt(self, interrupt: bool = False) -> None:
        """Stop CBC: SIGINT for Ctrl-C (it then writes its best plan), else kill it."""
        with self.lock:
            (self.interrupt if interrupt else self.stop).set()
            process = self.process
        if process is not None and process.poll() is None:
            try:
                if interrupt:
                    process.send_signal(signal.SIGINT)
                else:
                    process.kill()
            except (OSError, ValueError):  # it ended meanwhile, or no SIGINT here (Windows)
                with contextlib.suppress(OSError):
                    process.kill()

    def run(self, command: list[str]) -> tuple[str, bool]:
        """Run CBC, reading its log as it is written; its log, and whether Ctrl-C stopped it."""
        if self.stop.is_set() or self.interrupt.is_set():
            return "", self.interrupt.is_set()
        try:
            import pty

            master, slave = pty.openpty()
        except (ImportError, OSError):  # no pseudo-terminal (Windows): the log comes at the end
            master = slave = -1
        out = subprocess.PIPE if master < 0 else slave
        process = start_cbc(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        with self.lock:
            self.process = process
        if self.stop.is_set() or self.interrupt.is_set():  # halted while it started
            self.halt(self.interrupt.is_set())
        chunks: list[bytes] = []
        if master >= 0:
            os.close(slave)
            pending = b""
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the program ended (EIO on Linux)
                    break
                if not data:
                    break
                chunks.append(data)
                *lines, pending = (pending + data).split(b"\n")
                self._count(lines)
            os.close(master)
        else:
            assert process.stdout is not None
            chunks.append(process.stdout.read())
        process.wait()
        log = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
        return log, self.interrupt.is_set()

    def _count(self, lines: list[bytes]) -> None:
        """The nodes CBC's log lines show (a lower bound on its count); stop it past its budget."""
        most = 0
        for line in lines:
            found = _NODES.search(line.decode(errors="replace"))
            if found:
                most = max(most, int(found.group(1) or found.group(2)))
        if most > self.seen:
            with self.lock:
                self.seen = most
                over = most >= self.budget
            self.moved.set()
            if over:
                self.halt()


class _RacedCbc(CbcAdapter):
    """`CbcAdapter` on a model written beforehand, with a `_CbcRace` running the program."""

    def __init__(self, form: MatrixForm, folder: Path, started: bool, race: _CbcRace) -> None:
        self.form, self.folder, self.started, self.race = form, folder, started, race
        self.nodes: int | None = None

    def _solve(self, model: LinearModel, options: SolveOptions, defaults: dict[str, object]) -> RawSolution:
        began = time.perf_counter()
        program = cbc_program()
        if program is None:
            return RawSolution("error", None, solver=self.name, message=f"CBC is not installed: {self.install_hint}")
        solution = self.folder / "solution.txt"
        solution.unlink(missing_ok=True)
        log, interrupted = self.race.run(self._command(program, self.folder, options, self.started, defaults))
        found = re.search(r"^Enumerated nodes:\s+(\d+)", log, flags=re.MULTILINE)
        self.nodes = int(found.group(1)) if found else None
        y = read_solution(solution, len(self.form.cost))
        raw = replace(
            self._answer(self.form, log, y, interrupted, options, time.perf_counter() - began), nodes=self.nodes
        )
        if raw.x is not None and raw.has_plan and not fits(model, raw.x):
            message = "CBC's plan breaks rows of the unscaled model beyond procure's tolerance: not trusted"
            return replace(raw, status="feasible", termination="numerical", bound=math.nan, message=message)
        return raw


@dataclass(frozen=True)
class Race:
    """How the last race went: each engine's answer and nodes, and the engine reported."""

    winner: str
    highs: RawSolution | None
    cbc: RawSolution | None
    highs_nodes: float
    cbc_nodes: float


def _halt(workers: dict[str, threading.Thread], watch: _Watch, race: _CbcRace) -> None:
    """Ctrl-C during a race: stop both engines.  CBC writes its best plan on SIGINT; one that
    does not stop soon is killed.  Re-raises when an engine will not stop or Ctrl-C comes again."""
    watch.event.set()
    race.halt(interrupt=True)
    try:
        workers["cbc"].join(CBC_STOP_WAIT)
        if workers["cbc"].is_alive():
            race.halt()
        workers["highs"].join(STOP_WAIT)
    except KeyboardInterrupt:  # Ctrl-C again: give the process back at once
        race.halt()
        raise
    if workers["highs"].is_alive():  # HiGHS did not stop: give the process back to the user
        raise KeyboardInterrupt


class AutoSession(Session):
    """A model kept in a HiGHS session (changed in place) that CBC reads afresh on each solve."""

    def __init__(self, adapter: AutoAdapter, model: LinearModel) -> None:
        super().__init__(adapter, model)
        self.highs = _RacedHighs(HighsAdapter(), model)
        self.last: Race | None = None
        #: HiGHS's plan in the last race that reported CBC's answer, for a strict re-solve that
        #: finds none (dropped by any change to the model)
        self._standby: RawSolution | None = None

    # every change goes to HiGHS's copy and, through it, to the shared LinearModel
    def set_col_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        self._standby = None
        self.highs.set_col_bounds(ids, lower, upper)

    def set_row_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        self._standby = None
        self.highs.set_row_bounds(ids, lower, upper)

    def set_cost(self, ids: np.ndarray, cost: Any) -> None:
        self._standby = None
        self.highs.set_cost(ids, cost)

    def set_objective(self, cost: np.ndarray, offset: float) -> None:
        self._standby = None
        self.highs.set_objective(cost, offset)

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self._standby = None
        self.highs.set_coefficients(rows, cols, vals)

    def add_rows(
        self, name: str, index: Index, row: np.ndarray, col: np.ndarray, val: np.ndarray, **kw: Any
    ) -> np.ndarray:
        self._standby = None
        return self.highs.add_rows(name, index, row, col, val, **kw)

    @property
    def form(self) -> MatrixForm:
        """The scaled form HiGHS holds (as `HighsSession.form`)."""
        return self.highs.form

    # solving
    def alone(self, options: SolveOptions) -> bool:
        """True when HiGHS answers alone (module docstring)."""
        return (
            not self.model.is_mip
            or self.model.A.nnz > RACE_MOST_NONZEROS
            or options.duals
            or options.strict
            or not options.race
            or bool(options.solver_options)
            or not CbcAdapter.available()
        )

    def solve(self, options: SolveOptions) -> RawSolution:
        if self.alone(options):
            return self._highs_alone(options)
        if self.model.A.nnz <= PROBE_MOST_NONZEROS:
            began = time.perf_counter()
            probe = self._probe(options)
            if probe is not None:
                return probe
            if options.time_limit is not None:  # the race gets what the probe left
                spent = time.perf_counter() - began
                options = replace(options, time_limit=max(float(options.time_limit) - spent, 0.01))
        form = matrix_form(self.model)
        with tempfile.TemporaryDirectory(prefix="procure-auto-") as name:
            folder = Path(name)
            try:  # before HiGHS runs: one HiGHS call at a time here
                write_mps(form, folder / "model.mps")
            except ProblemError:  # numbers CBC cannot be given (HiGHS drops negligible costs)
                return self._highs_alone(options)
            started = options.warm_start is not None and options.warm_start_ids is not None
            if started:
                assert options.warm_start is not None and options.warm_start_ids is not None
                ids = np.asarray(options.warm_start_ids, dtype=int)
                values = np.asarray(options.warm_start, dtype=float) / form.col_scale[ids]
                write_start(folder / "start.txt", ids, values)
            return self._race(form, folder, started, options)

    def _probe(self, options: SolveOptions) -> RawSolution | None:
        """HiGHS alone within `FLOOR_NODES` nodes: its answer when that settles the model (the
        rule reports HiGHS's answer then, whatever CBC would do), is interrupted or runs out of
        time; None when the race must decide."""
        self.highs._stop.reset()
        raw = self.highs.solve(replace(options, node_limit=FLOOR_NODES))
        if not (proved(raw) or raw.interrupted or raw.termination == "time_limit"):
            return None
        self.last = Race("highs", raw, None, float(raw.nodes or 0), math.nan)
        return raw

    def _highs_alone(self, options: SolveOptions) -> RawSolution:
        """HiGHS's answer alone.  A strict re-solve follows a plan procure's check refused: when
        that was CBC's and this solve finds no better plan (its time is short: the race kept
        `RESERVE` of the limit for it), HiGHS's plan from the race is the answer."""
        standby, self._standby = self._standby, None
        self.highs._stop.reset()
        raw = self.highs.solve(options)
        if options.strict and standby is not None and not raw.interrupted and not proved(raw):
            if not raw.has_plan or standby.objective < raw.objective:
                raw = standby
        self.last = Race("highs", raw, None, float(raw.nodes or 0), math.nan)
        return raw

    def _race(self, form: MatrixForm, folder: Path, started: bool, options: SolveOptions) -> RawSolution:
        moved = threading.Event()
        watch = self.highs._stop
        watch.reset()
        race = _CbcRace(moved)
        cbc = _RacedCbc(form, folder, started, race)
        answers: dict[str, RawSolution] = {}
        failures: list[BaseException] = []
        threads, limit = options.threads, options.time_limit
        if limit is not None:  # left for a strict re-solve, should procure's check refuse CBC's plan
            options = replace(options, time_limit=max(limit - min(RESERVE * limit, RESERVE_SECONDS), 0.01))
        highs_options = replace(options, threads=1 if threads is None else max(1, threads - 1))
        cbc_options = replace(options, threads=1)

        def work(engine: str, solve: Any) -> None:
            try:
                answers[engine] = solve()
            except ProblemError as exc:  # the caller's to see, once both engines have stopped
                failures.append(exc)
            except Exception as exc:  # an engine's failure is an answer without a plan
                answers[engine] = RawSolution(
                    "error", None, solver=engine, message=f"{engine} failed: {exc}", termination="error"
                )
            finally:
                moved.set()

        workers = {
            "highs": threading.Thread(
                target=work, args=("highs", lambda: self.highs.solve(highs_options)), name="procure-auto-highs"
            ),
            "cbc": threading.Thread(
                target=work, args=("cbc", lambda: cbc.solve(self.model, cbc_options)), name="procure-auto-cbc"
            ),
        }
        for worker in workers.values():
            worker.daemon = True
            worker.start()
        interrupted = False
        try:
            self._referee(answers, workers, watch, race, failures)
        except KeyboardInterrupt:
            interrupted = True
            _halt(workers, watch, race)
        for worker in workers.values():
            worker.join()
        if failures:
            raise failures[0]
        return self._settle(answers, watch, race, cbc, interrupted)

    def _settle(
        self, answers: dict[str, RawSolution], watch: _Watch, race: _CbcRace, cbc: _RacedCbc, interrupted: bool
    ) -> RawSolution:
        """The race's answer once both engines stopped: the rule's choice, HiGHS's plan kept on
        standby when CBC's is reported, and Ctrl-C said."""
        highs, cbc_raw = answers.get("highs"), answers.get("cbc")
        highs_nodes = float(max(watch.peak, highs.nodes or 0)) if highs is not None else math.inf
        cbc_nodes = float(cbc.nodes) if cbc.nodes is not None else math.inf
        standby = highs if highs is not None and highs.has_plan and not interrupted else None
        if watch.tripped:  # stopped past its budget: it cannot be reported, whatever it holds
            highs = None
        if race.stop.is_set() and not interrupted and not proved(cbc_raw):  # stopped past its budget
            cbc_raw = None
        raw = choose(highs, cbc_raw, highs_nodes, cbc_nodes)
        self.last = Race(raw.solver, highs, cbc_raw, highs_nodes, cbc_nodes)
        if raw.solver == "cbc" and standby is not None:
            if watch.tripped:  # stopped at its node budget: its plan, and the bound it proved by then
                standby = replace(standby, status="feasible", termination="node_limit", message="stopped: node_limit")
            self._standby = standby
        if raw.solver == "cbc" and raw.termination in _STOPS and not raw.message.startswith("stopped"):
            raw = replace(raw, message=f"stopped: {raw.message}")  # as HiGHS's answers say it
        if interrupted and not raw.interrupted:
            raw = raw.as_interrupted()
        return raw

    def _referee(
        self,
        answers: dict[str, RawSolution],
        workers: dict[str, threading.Thread],
        watch: _Watch,
        race: _CbcRace,
        failures: list[BaseException],
    ) -> None:
        """Wait until the rule is settled, setting each engine's budget as the other proves."""
        moved = race.moved
        while any(worker.is_alive() for worker in workers.values()):
            moved.wait(POLL)
            moved.clear()
            if failures:
                watch.event.set()
                race.halt()
                continue
            highs, cbc = answers.get("highs"), answers.get("cbc")
            if highs is not None and cbc is None and proved(highs):
                nodes = max(watch.peak, highs.nodes or 0)
                race.set_budget(0 if nodes <= FLOOR_NODES else nodes / NODE_RATIO)
            elif cbc is not None and highs is None and proved(cbc):
                watch.budget = max(FLOOR_NODES, NODE_RATIO * _nodes(cbc))
                if watch.peak > watch.budget:
                    watch.tripped = True
                    watch.event.set()


def _nodes(raw: RawSolution) -> float:
    """The nodes an engine's answer took (infinite when unknown)."""
    return float(raw.nodes) if raw.nodes is not None else math.inf


class AutoAdapter(Adapter):
    """HiGHS and CBC at once, the answer chosen by deterministic work (module docstring)."""

    name = "auto"
    capabilities = Capabilities(duals=True, warm_start=True)
    install_hint = "pip install highspy (and pulp, which bundles CBC, for the race)"

    @classmethod
    def available(cls) -> bool:
        return HighsAdapter.available()

    def check_options(self, options: SolveOptions) -> None:
        HighsAdapter().check_options(options)  # solver_options are HiGHS's (HiGHS then answers alone)

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        return self.open(model).solve(options)

    def open(self, model: LinearModel) -> AutoSession:
        return AutoSession(self, model)


register("auto", AutoAdapter)
