"""Sweeps: many variants of one problem, in-process through a kept model, on an executor or on dask.

A *variant* is a mapping ``{path: new value}`` (paths as in `procure.paths`);
`sweep` solves each and gathers one row per variant.  The variants are cut
into contiguous *chunks* of ``chunk_size``; a chunk is solved by one
`procure.Planner`: its first variant is built and solved cold, the next ones
change the kept model's numbers in place and warm-start from the previous
plan.  The chunks are the same whatever runs them — this process, a
``concurrent.futures`` executor, or a dask cluster — so every variant gets the
same start everywhere and the rows are the same (timing aside).

Workers build their own models (HiGHS objects do not pickle); they receive
the problem and a chunk of variants, and send back each variant's `Result`.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..base import fmt
from ..base.errors import Interrupted, ProblemError
from ..base.hooks import provided
from ..core.planner import Planner
from ..core.result import Outcome, Result
from ..problem.fields import apply_changes
from ..problem.format import Problem, as_problem
from ..problem.validate import show
from ..solvers import DEFAULT_SOLVER
from ..solvers.options import set_up
from ..stochastic.tree_result import TreeResult

if TYPE_CHECKING:
    from ..report.plot import SweepPlot

__all__ = [
    "EXPLAIN_HINT",
    "SOLVE_OPTIONS",
    "TIMING_COLUMNS",
    "Sweep",
    "default_chunk_size",
    "display_table",
    "no_plan_message",
    "sweep",
]

#: The keyword arguments of `procure.solve` a sweep passes on to every solve.
SOLVE_OPTIONS = ("solver", "time_limit", "mip_gap", "threads", "verbose", "solver_options", "extra")
#: Columns that measure time and so differ from one run to the next.
TIMING_COLUMNS = ("seconds",)
#: Statuses of a variant besides a `Result`'s: a change the problem does not accept, and a
#: variant that was not solved (the sweep was interrupted, or its task was lost).
INVALID, NOT_RUN = "invalid", "not run"
#: How to diagnose variant ``{k}`` when the sweep did not (its ``explain`` was False), in
#: Python; the command line says it in its own words (``procure sweep --explain``).
EXPLAIN_HINT = "sweep[{k}].explain() names the conflict and the repairs"
#: Default chunk size: at most this many variants, and at least `LEAST_CHUNK` ...
MOST_CHUNK, LEAST_CHUNK = 25, 4
#: ... so that there are about this many chunks to spread over workers.
CHUNKS = 16


def default_chunk_size(n: int) -> int:
    """Variants per chunk when the caller gives none: ``⌈n/16⌉`` within [4, 25].

    It depends on the number of variants only, never on the executor, so that
    every executor solves the same chunks and gives the same rows."""
    return max(LEAST_CHUNK, min(MOST_CHUNK, math.ceil(n / CHUNKS)))


def no_plan_message(result: Outcome, hint: str) -> str:
    """The message of an infeasible variant that the sweep did not diagnose: that no plan
    exists, and ``hint``, how to find out why (`EXPLAIN_HINT` for variant ``k``)."""
    where = " in every demand scenario" if isinstance(result, TreeResult) else ""
    return f"no plan satisfies every constraint{where} ({hint})"


# --------------------------------------------------------------------------- one chunk


@dataclass(frozen=True)
class _Done:
    """How one variant went: its status, message and `Result` (None when it has none)."""

    index: int
    status: str
    message: str = ""
    result: Outcome | None = None
    seconds: float = 0.0
    path: str = ""  # the field an invalid variant's error names
    interrupted: bool = False


def _variant(data: Mapping[str, Any], index: int, changes: Any) -> Problem:
    """The problem of one variant; `ProblemError` when the problem does not accept it."""
    if not isinstance(changes, Mapping):
        raise ProblemError(
            f"variants[{index}]: {show(changes)} is not a mapping {{path: value}}",
            path=f"variants[{index}]",
            value=changes,
        )
    return apply_changes(data, changes)


def _solve_one(
    data: Mapping[str, Any], index: int, changes: Any, planner: Planner | None, options: Mapping[str, Any]
) -> tuple[_Done, Planner | None]:
    """One variant through the chunk's kept model (made for its first variant), and the model
    to keep for the next one: none after a solve that raised, so that it starts cold."""
    try:
        variant = _variant(data, index, changes)
    except ProblemError as exc:
        return _Done(index, INVALID, str(exc), path=exc.path), planner
    try:
        planner = planner or Planner(variant, **options)
        result = planner.solve(variant)
    except Interrupted as stop:  # Ctrl-C: the variant keeps the best plan found so far
        partial = stop.result if isinstance(stop.result, Outcome) else None
        if partial is None:
            return _Done(index, NOT_RUN, "interrupted", interrupted=True), None
        return _Done(index, partial.status, partial.message, partial, interrupted=True), None
    except KeyboardInterrupt:
        return _Done(index, NOT_RUN, "interrupted", interrupted=True), None
    except ProblemError as exc:  # numbers of this variant no solver can take
        return _Done(index, INVALID, str(exc), path=exc.path), None
    except Exception as exc:  # one variant's failure is its row, never the sweep's
        return _Done(index, "error", f"{type(exc).__name__}: {exc}"), None
    return _Done(index, result.status, result.message, result), planner


def _solve_chunk(problem: Problem, chunk: Sequence[tuple[int, Any]], options: Mapping[str, Any]) -> Iterator[_Done]:
    """Solve a chunk's variants in order through one kept model; stop after an interrupt."""
    planner: Planner | None = None
    data = problem.to_dict()  # once: each variant copies the mapping, not the problem
    for index, changes in chunk:
        started = time.perf_counter()
        done, planner = _solve_one(data, index, changes, planner, options)
        yield replace(done, seconds=time.perf_counter() - started)
        if done.interrupted:
            return


def _chunk_task(problem: Problem, chunk: Sequence[tuple[int, Any]], options: Mapping[str, Any]) -> list[_Done]:
    """A worker's task: one chunk, solved in its own process (importable, so it pickles by name)."""
    return list(_solve_chunk(problem, chunk, options))


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)  # its table is a DataFrame: compare tables, not sweeps
class Sweep:
    """The rows and results of a sweep (see `sweep`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variant, in the order given (a new copy at each access); see
        `sweep` for the columns.
    variants : tuple
        The variants as solved, ``{path: value}`` each.
    results : tuple of Result or None
        Each variant's `Result`; None for an invalid variant, one whose solve
        raised, or one not run.
    chunk_size : int
        Variants per chunk (each chunk's first variant was solved cold).
    seconds : float
        Wall time of the whole sweep.

    ``sweep[k]`` is the `Result` of variant ``k``; ``len(sweep)`` the number of
    variants; iterating gives ``results``.
    """

    variants: tuple[Any, ...]
    results: tuple[Outcome | None, ...] = field(repr=False)
    chunk_size: int
    seconds: float
    _table: pd.DataFrame = field(repr=False)
    _error_paths: tuple[str, ...] = field(default=(), repr=False)  # the field each invalid variant's error names

    @property
    def table(self) -> pd.DataFrame:
        """One row per variant (a copy: changing it changes nothing here)."""
        return self._table.copy()

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[Outcome | None]:
        return iter(self.results)

    def __getitem__(self, k: int) -> Outcome:
        """The `Result` of variant ``k``.

        Raises
        ------
        ProblemError
            For an invalid variant (the error its change gave).
        RuntimeError
            For a variant without a result: its solve raised, or it was not run.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"a sweep is indexed by a variant's position, not {type(k).__name__}")
        result = self.results[k]
        if result is not None:
            return result
        row = self._table.iloc[int(k)]
        if row["status"] == INVALID:
            path = self._error_paths[k] if self._error_paths else ""
            raise ProblemError(f"variant {k} is invalid: {row['message']}", path=path)
        raise RuntimeError(f"variant {k} has no result ({row['status']}): {row['message']}")

    def best(self, by: str = "objective") -> int | None:
        """Position of the variant with a plan whose ``by`` column is least (None without any)."""
        table = self._table
        if by not in table.columns:
            raise KeyError(f"the table has no column {by!r}")
        planned = table[table["status"].isin(("optimal", "feasible"))][by]
        planned = pd.to_numeric(planned, errors="coerce").dropna()
        return None if planned.empty else int(cast(int, planned.idxmin()))

    @property
    def plot(self) -> SweepPlot:
        """Distributions over the variants: ``.cost()``, ``.shares()`` (see `procure.report.plot.SweepPlot`)."""
        return provided("sweep_plot")(self)

    def display(self) -> pd.DataFrame:
        """`table` for people to read (a copy of text, see `display_table`)."""
        scenarios = any(r is not None and bool(r.problem.risk.scenarios) for r in self.results)
        return display_table(self._table, scenarios=scenarios)

    def __str__(self) -> str:
        return self.display().to_string()

    def __repr__(self) -> str:
        counts = self._table["status"].value_counts()
        text = ", ".join(f"{count} {status}" for status, count in counts.items())
        return f"Sweep({len(self)} variants: {text or 'none'}; {self.seconds:.3g} s)"


def display_table(table: pd.DataFrame, *, scenarios: bool = True) -> pd.DataFrame:
    """A sweep's table for people to read (a copy of text): each varied field by its kind
    (``total_budget`` as ``$20B``, ``power_cap_gw[2027]`` as ``1.300 GW``, see
    `procure.base.fmt.kind_of_field`), objective and cost as ``$20.8B``, the gap as ``0.01%``,
    vendor shares as percentages, the peak power in GW.  Without disruption scenarios
    (``scenarios`` False: no variant's problem has ``risk.scenarios``) the CVaR, which is then
    0 by definition, is left out."""
    stats = ["status", "termination", "objective", "cost", "gap", "peak_power_gw", "cvar", "message", "seconds"]
    first = list(table.columns).index("status") if "status" in table.columns else 0
    kinds = {c: fmt.kind_of_field(str(c)) for c in table.columns[:first]}
    kinds.update(objective="money", cost="money", cvar="money", gap="gap", peak_power_gw="power", seconds="seconds")
    kinds.update({c: "share" for c in table.columns[first:] if str(c).startswith("share[") and c not in stats})
    shown = table if scenarios else table.drop(columns=["cvar"], errors="ignore")
    return fmt.table(shown, kinds)


def _paths(variants: Sequence[Any]) -> list[Any]:
    """Every path the variants change, in order of first appearance."""
    seen: dict[Any, None] = {}
    for changes in variants:
        if isinstance(changes, Mapping):
            seen.update(dict.fromkeys(changes))
    return list(seen)


def _vendors(problem: Problem, done: Sequence[_Done]) -> list[str]:
    """The problem's vendors, then any that variants add (a replaced ``offers`` list)."""
    seen = dict.fromkeys(problem.vendor_names)
    for d in done:
        if d.result is not None:
            seen.update(dict.fromkeys(d.result.problem.vendor_names))
    return list(seen)


def _plan_stats(r: Outcome) -> tuple[float, dict[str, float], float]:
    """Compute over the horizon (expected over demand paths), each vendor's part of it, and the
    peak facility power (the highest of any path)."""
    if isinstance(r, TreeResult):
        assert r.tree is not None
        parts = [(float(p), r.scenario_results[n]) for n, p in zip(r.tree.names, r.tree.probability)]
    else:
        assert isinstance(r, Result)
        parts = [(1.0, r)]
    total, peak, own = 0.0, 0.0, dict.fromkeys(r.problem.vendor_names, 0.0)
    for weight, part in parts:
        ev = part.evaluation
        assert ev is not None
        total += weight * float(ev.compute.sum())
        for v, c in zip(part.problem.vendor_names, ev.compute_by_vendor.sum(axis=1)):
            own[v] = own.get(v, 0.0) + weight * float(c)
        peak = max(peak, float(ev.power_gw.max()))
    return total, own, peak


def _row(changes: Any, paths: list[Any], vendors: list[str], d: _Done) -> dict[Any, Any]:
    """A variant's row: the values it gives, then what its solve found."""
    given = changes if isinstance(changes, Mapping) else {}
    row: dict[Any, Any] = {p: given.get(p) for p in paths}
    r = d.result
    nan = math.nan
    row.update(status=d.status, termination=r.termination if r is not None else "")
    if r is not None and r.has_plan:
        total, own, peak = _plan_stats(r)
        row.update(objective=r.objective, cost=r.cost, gap=r.gap)
        row.update({f"share[{v}]": float(own.get(v, 0.0)) / total if total > 0 else 0.0 for v in vendors})
        row.update(peak_power_gw=peak, cvar=float(r.cvar))
    else:
        row.update(objective=nan, cost=nan, gap=nan)
        row.update({f"share[{v}]": nan for v in vendors})
        row.update(peak_power_gw=nan, cvar=nan)
    row.update(message=d.message, seconds=d.seconds)
    return row


def _table(problem: Problem, variants: Sequence[Any], done: Sequence[_Done]) -> pd.DataFrame:
    paths = _paths(variants)
    vendors = _vendors(problem, done)
    rows = [_row(changes, paths, vendors, d) for changes, d in zip(variants, done)]
    columns = [
        *paths,
        "status",
        "termination",
        "objective",
        "cost",
        "gap",
        *(f"share[{v}]" for v in vendors),
        "peak_power_gw",
        "cvar",
        "message",
        "seconds",
    ]
    return pd.DataFrame(rows, columns=columns, index=pd.RangeIndex(len(rows), name="variant"))


# --------------------------------------------------------------------------- running


class _Stopped(Exception):
    """Ctrl-C during a sweep: what was done until then."""

    def __init__(self, done: dict[int, _Done]) -> None:
        super().__init__("interrupted")
        self.done = done


def _bar(total: int, progress: bool) -> Any:
    """A tqdm bar on standard error, shown only when asked for and stderr is a terminal."""
    stream = sys.stderr
    shown = bool(progress) and hasattr(stream, "isatty") and stream.isatty()
    return tqdm(total=total, desc="sweep", unit="variant", file=stream, disable=not shown, dynamic_ncols=True)


def _in_process(
    problem: Problem, chunks: list[list[tuple[int, Any]]], options: Mapping[str, Any], bar: Any
) -> dict[int, _Done]:
    done: dict[int, _Done] = {}
    try:
        for chunk in chunks:
            for d in _solve_chunk(problem, chunk, options):
                done[d.index] = d
                bar.update(1)
                if d.interrupted:
                    raise _Stopped(done)
    except KeyboardInterrupt:
        raise _Stopped(done) from None
    return done


def _failed(chunk: Sequence[tuple[int, Any]], exc: BaseException) -> list[_Done]:
    """The rows of a chunk whose task failed as a whole (a worker lost, say)."""
    message = f"its task failed: {type(exc).__name__}: {exc}"
    return [_Done(index, "error", message) for index, _ in chunk]


def _gather(
    finished: Iterable[Any], chunk_of: Callable[[Any], list[tuple[int, Any]]], done: dict[int, _Done], bar: Any
) -> None:
    """Collect each finished task's rows into ``done`` (a failed task fails its whole chunk)."""
    for future in finished:
        chunk = chunk_of(future)
        try:
            rows = future.result()
        except Exception as exc:
            rows = _failed(chunk, exc)
        done.update((d.index, d) for d in rows)
        bar.update(len(chunk))


def _on_executor(
    executor: cf.Executor, problem: Problem, chunks: list[list[tuple[int, Any]]], options: Mapping[str, Any], bar: Any
) -> dict[int, _Done]:
    done: dict[int, _Done] = {}
    futures: dict[cf.Future[list[_Done]], list[tuple[int, Any]]] = {}
    try:
        for chunk in chunks:
            futures[executor.submit(_chunk_task, problem, chunk, options)] = chunk
        _gather(cf.as_completed(futures), futures.__getitem__, done, bar)
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        raise _Stopped(done) from None
    return done


def _on_dask(
    client: Any, problem: Problem, chunks: list[list[tuple[int, Any]]], options: Mapping[str, Any], bar: Any
) -> dict[int, _Done]:
    from distributed import as_completed  # dask is optional: imported only when a client is given

    done: dict[int, _Done] = {}
    futures: list[Any] = []
    try:
        shared = client.scatter(problem, broadcast=True, hash=False)  # one copy per worker, not per task
        futures = [client.submit(_chunk_task, shared, chunk, options, pure=False) for chunk in chunks]
        chunk_of = {future.key: chunk for future, chunk in zip(futures, chunks)}
        _gather(as_completed(futures), lambda future: chunk_of[future.key], done, bar)
    except KeyboardInterrupt:
        if futures:
            client.cancel(futures)
        raise _Stopped(done) from None
    return done


#: The process that runs a `local_cluster`: it starts the cluster, writes its scheduler's address
#: to the file descriptor it is given, and closes the cluster when its standard input ends.
CLUSTER_SCRIPT = """
import sys
from distributed import LocalCluster

workers, answer = int(sys.argv[1]), int(sys.argv[2])
cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
with open(answer, "w") as out:
    out.write(cluster.scheduler_address + "\\n")
sys.stdin.read()
cluster.close()
"""
#: Seconds a closing cluster may take before its processes are killed.
CLOSE_SECONDS = 10.0


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A dask ``Client`` of a new ``LocalCluster`` of ``workers`` single-threaded processes.

    The cluster runs in a process of its own, in a session of its own (POSIX): Ctrl-C at a
    terminal reaches this process alone, whatever the cluster is doing (starting included), and
    the cluster's processes are then killed at once, before they can say anything of it."""
    from distributed import Client, LocalCluster  # dask is optional: imported only when asked for

    if os.name == "nt":  # no sessions: the cluster in this process
        with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                yield client
        return
    read, write = os.pipe()
    command = [sys.executable, "-c", CLUSTER_SCRIPT, str(workers), str(write)]
    runner = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=(write,), start_new_session=True)
    os.close(write)
    client = None
    try:
        with os.fdopen(read) as answer:
            address = answer.readline().strip()
        if not address:
            raise OSError(f"its process ended with exit code {runner.wait()}")  # its error is above
        client = Client(address)
        yield client
    except BaseException:
        _kill(runner, client)
        raise
    client.close()
    assert runner.stdin is not None
    runner.stdin.close()  # the cluster closes
    try:
        runner.wait(CLOSE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill(runner, None)


def _kill(runner: subprocess.Popen[bytes], client: Any) -> None:
    """Kill the cluster's processes, then let ``client`` go without dask's words on it."""
    import logging

    try:
        os.killpg(runner.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    runner.wait()
    if client is None:
        return
    silenced = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # the scheduler it talked to is gone
    try:
        client.close(timeout=1)
    except Exception:
        pass
    finally:
        logging.disable(silenced)


def _is_dask_client(executor: Any) -> bool:
    """A ``distributed.Client``, recognized without importing dask."""
    module = type(executor).__module__ or ""
    return module.split(".")[0] == "distributed" and callable(getattr(executor, "scatter", None))


def _run(
    executor: Any, problem: Problem, chunks: list[list[tuple[int, Any]]], options: Mapping[str, Any], bar: Any
) -> dict[int, _Done]:
    if executor is None:
        return _in_process(problem, chunks, options, bar)
    if isinstance(executor, str):  # a dask scheduler address: connect for this sweep only
        from distributed import Client

        with Client(executor) as client:
            return _on_dask(client, problem, chunks, options, bar)
    if _is_dask_client(executor):
        return _on_dask(executor, problem, chunks, options, bar)
    if isinstance(executor, cf.Executor):
        return _on_executor(executor, problem, chunks, options, bar)
    raise ProblemError(
        f"executor: {show(executor)} is not a concurrent.futures.Executor, a dask distributed.Client "
        "or a dask scheduler address",
        path="executor",
        value=executor,
    )


# --------------------------------------------------------------------------- the call


def _grid(variants: Mapping[Any, Any]) -> list[dict[Any, Any]]:
    """Every combination of a grid ``{path: [values]}``; the last path varies fastest."""
    columns = []
    for path, values in variants.items():
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ProblemError(
                f"variants[{path}]: {show(values)} is not a list of values (a grid gives a list for every path)",
                path=str(path),
                value=values,
            )
        columns.append(list(values))
    return [dict(zip(variants, combo)) for combo in itertools.product(*columns)]


def _variants(variants: Any) -> list[Any]:
    if isinstance(variants, Mapping):
        return _grid(variants)
    if isinstance(variants, (str, bytes)) or not isinstance(variants, Iterable):
        raise ProblemError(
            f"variants: {show(variants)} is neither a list of {{path: value}} mappings nor a grid {{path: [values]}}",
            path="variants",
            value=variants,
        )
    return [dict(v) if isinstance(v, Mapping) else v for v in variants]


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    """The solve options of every variant, checked once here (a bad one is the sweep's error)."""
    unknown = sorted(set(given) - set(SOLVE_OPTIONS))
    if unknown:
        raise TypeError(f"sweep() got an unexpected keyword argument {unknown[0]!r}")
    options = {"threads": 1, **given}
    set_up(  # checked once here: a bad option is the sweep's error, not every variant's
        options.get("solver", DEFAULT_SOLVER),
        options.get("time_limit"),
        options.get("mip_gap", 1e-4),
        options["threads"],
        options.get("verbose", False),
        options.get("solver_options"),
    )
    return options


def _chunk_size(chunk_size: Any, n: int) -> int:
    if chunk_size is None:
        return default_chunk_size(n)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ProblemError(
            f"chunk_size: {show(chunk_size)} must be a whole number ≥ 1 (or None)", path="chunk_size", value=chunk_size
        )
    return int(chunk_size)


def sweep(
    problem: Problem | Mapping[str, Any] | str,
    variants: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    *,
    executor: Any = None,
    progress: bool = True,
    chunk_size: int | None = None,
    explain: bool = False,
    **solve_options: Any,
) -> Sweep:
    """Solve every variant of ``problem`` and gather one row per variant.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem the variants change.
    variants : list of mappings, or mapping of lists
        A list of variants ``{path: new value}`` (``procure.sample`` draws such
        a list), or a grid ``{path: [values]}`` meaning every combination, the
        last path varying fastest.  A value replaces the field (any value the
        field accepts).
    executor : None, concurrent.futures.Executor, distributed.Client, or str
        None solves in this process.  A ``concurrent.futures`` executor (a
        ``ProcessPoolExecutor``) or a dask ``distributed.Client`` solves the
        chunks in parallel; a string is a dask scheduler address
        (``"tcp://10.0.0.5:8786"``), connected for this sweep only.  procure
        must be installed where the workers run.
    progress : bool
        Show a tqdm bar on standard error (only when it is a terminal).
    chunk_size : int, optional
        Variants per chunk; each chunk is solved by one kept model, its first
        variant cold.  Default `default_chunk_size` (``⌈n/16⌉`` within [4, 25]).
        It fixes the rows: the same chunk size gives the same rows on every
        executor.
    explain : bool
        Diagnose each infeasible variant for its ``message`` (the requirements
        in conflict and the repairs, as `procure.solve` does; several solves
        each).  Default False: the message says there is no plan and that
        ``sweep[k].explain()`` diagnoses variant ``k`` on request (`EXPLAIN_HINT`).
    **solve_options
        ``solver``, ``time_limit``, ``mip_gap``, ``threads``, ``verbose``,
        ``solver_options``, ``extra``, as for `procure.solve`, for every
        variant (``time_limit`` per variant; ``extra`` must pickle, i.e. be a
        module-level function, to run on an executor).  ``threads`` defaults
        to 1 (not HiGHS's choice): variants run in parallel instead, and one
        thread count everywhere keeps the rows the same on every machine.

    Returns
    -------
    Sweep
        ``sweep.table`` has one row per variant, in the order given: the
        value of each path the variants change (None where a variant leaves
        it), then ``status``, ``termination``, ``objective``, ``cost``,
        ``gap``, ``share[<vendor>]`` (the vendor's share of operational
        compute over the horizon, Σ_t C[v,t] / Σ_t C[t]), ``peak_power_gw``
        (the highest facility power in any period), ``cvar`` (of the
        disruption loss), ``message`` (why there is no plan, the error of an
        invalid variant) and ``seconds`` (wall time of the variant).
        Numbers are NaN without a plan.  ``sweep[k]`` is variant ``k``'s
        `Result`.

    Raises
    ------
    ProblemError
        If the problem, the variants' shape, an option, ``chunk_size`` or the
        executor is invalid.  A variant the problem does not accept is not an
        error: its row has status ``"invalid"`` and the error's text; a
        variant whose solve raises has status ``"error"`` and the exception's
        text.  Neither stops the sweep.
    Interrupted
        On Ctrl-C: pending chunks are cancelled and ``.result`` holds the
        `Sweep` so far (the variant being solved keeps its best plan; the rest
        have status ``"not run"``).

    Notes
    -----
    Rows are the same whatever the executor: the chunks do not depend on it,
    a chunk runs in order on one worker, and HiGHS is deterministic for the
    same model, start and thread count.  A ``time_limit`` that stops solves
    makes their plans depend on the machine's speed.
    """
    started = time.perf_counter()
    base = as_problem(problem)
    given = _variants(variants)
    options = {**_options(solve_options), "explain": bool(explain)}
    size = _chunk_size(chunk_size, len(given))
    indexed = list(enumerate(given))
    chunks = [indexed[s : s + size] for s in range(0, len(indexed), size)]
    stopped: _Stopped | None = None
    with _bar(len(given), progress) as bar:
        try:
            done = _run(executor, base, chunks, options, bar)
        except _Stopped as stop:
            stopped, done = stop, stop.done
    rows = [done.get(k) or _Done(k, NOT_RUN, "not run: the sweep was interrupted") for k in range(len(given))]
    if not explain:  # say how to diagnose a variant without a plan: through this sweep
        rows = [
            replace(d, message=no_plan_message(d.result, EXPLAIN_HINT.format(k=d.index)))
            if d.status == "infeasible" and d.result is not None
            else d
            for d in rows
        ]
    outcome = Sweep(
        variants=tuple(given),
        results=tuple(d.result for d in rows),
        chunk_size=size,
        seconds=time.perf_counter() - started,
        _table=_table(base, given, rows),
        _error_paths=tuple(d.path for d in rows),
    )
    if stopped is not None:
        raise Interrupted(outcome)
    return outcome
