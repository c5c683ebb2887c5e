"""mpi-sppy's solves of a tree stated by `to_mpisppy`: the extensive form, and progressive
hedging serial or on MPI ranks (a hub and spokes), each giving an `Answer` (the plan's
values per path, mpi-sppy's bound, how it ended).

PH's plans come from one evaluator, `_fixed_root`, serial and on the incumbent spoke alike:
ROOT's decisions held (integers rounded) and the extensive form below each child of ROOT
solved by HiGHS with procure's gap and the time left, so every later decision is the best
recourse for that ROOT (W and prox off: its value is the plan's expected cost).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..solvers.base import SolveOptions
from ..solvers.pyomo import STATUS_MAP, lower_bound
from .mpisppy_tree import MpiSppyTree, import_pyomo, mpisppy_module, quiet

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_RHO",
    "PH_OPTIONS",
    "SUBSOLVER",
    "Answer",
    "failure",
    "ph_settings",
    "run_ef",
    "run_ph_serial",
    "run_ph_wheel",
    "time_left",
    "together",
]

#: PH stops before an iteration when the time left is under this share of the last iteration's
#: time: an iteration's solves run to their end (their per-path limits bound each, but every
#: path's model update costs time too), and mpi-sppy looks at the clock only between iterations.
ITERATION_SHARE = 0.5
#: The Pyomo solver of the extensive form and of every PH subproblem.
SUBSOLVER = "appsi_highs"
#: ``solver_options`` keys of PH itself (the others go to HiGHS under its own names).
PH_OPTIONS = ("max_iterations", "rho")
#: PH iterations without ``max_iterations``.
DEFAULT_ITERATIONS = 100
#: ρ of a nonant, relative to its objective coefficient, without ``rho``.
DEFAULT_RHO = 1.0

# --------------------------------------------------------------------------- answers


@dataclass
class Answer:
    """What a method found: each procure path's solution vector (its model's columns), the
    bound it proved, and why it stopped."""

    x: dict[str, np.ndarray] | None  # procure path name -> solution of its model
    bound: float
    termination: str
    message: str = ""
    iterations: int | None = None


def _x(scenario: Any) -> np.ndarray:
    return np.array([v.value if v.value is not None else 0.0 for v in scenario.procure_columns], dtype=float)


def _subsolver_options(options: SolveOptions, left: float | None, share: int = 1) -> dict[str, Any]:
    """HiGHS options of every solve: gap, threads, the time left split over the ``share`` solves
    that run one after another on a rank (a PH iteration solves each local path; mpi-sppy looks
    at the clock only between iterations), and the caller's HiGHS options."""
    out: dict[str, Any] = {"mip_rel_gap": float(options.mip_gap)}
    if options.threads is not None:
        out["threads"] = int(options.threads)
    if left is not None:
        out["time_limit"] = float(max(left / max(share, 1), 0.05))
    out.update({k: v for k, v in options.solver_options.items() if k not in PH_OPTIONS})
    return out


def time_left(options: SolveOptions, started: float) -> float | None:
    return None if options.time_limit is None else options.time_limit - (time.perf_counter() - started)


def run_ef(mt: MpiSppyTree, options: SolveOptions, started: float) -> Answer:
    """mpi-sppy's ExtensiveForm, solved by HiGHS through Pyomo."""
    mpisppy_module()
    from mpisppy.opt.ef import ExtensiveForm

    with quiet(options.verbose) as log:
        ef = ExtensiveForm(
            {"solver": SUBSOLVER},
            list(mt.scenario_names),
            mt.scenario_creator,
            scenario_creator_kwargs=mt.scenario_creator_kwargs,
            all_nodenames=list(mt.all_nodenames),
        )
        left = time_left(options, started)
        if left is not None and left <= 0.05:
            return Answer(
                None, math.nan, "time_limit", "stopped before any plan was found: the time limit went into building"
            )
        results = ef.solve_extensive_form(solver_options=_subsolver_options(options, left), tee=options.verbose)
    condition = results.solver.termination_condition
    termination = STATUS_MAP.get(getattr(condition, "name", str(condition)), "error")
    if not ef.tree_solution_available:
        if termination == "infeasible":
            message = "no plan satisfies every constraint in every demand scenario (HiGHS, mpi-sppy's extensive form)"
        else:
            text = log.getvalue().strip().splitlines()[-3:]
            message = f"mpi-sppy's extensive form has no plan: {condition}" + (f" ({' '.join(text)})" if text else "")
        return Answer(None, math.nan, termination, message)
    x = {mt.path_of(name): _x(s) for name, s in ef.scenarios()}
    bound = lower_bound(results)
    message = "" if termination == "optimal" else f"stopped: {condition}"
    if not math.isfinite(bound):
        message = "; ".join(filter(None, [message, "HiGHS reported no bound through Pyomo"]))
    return Answer(x, bound, termination, message)


def ph_settings(options: SolveOptions) -> tuple[int, float]:
    """PH's iteration limit and relative ρ from ``solver_options``."""
    opts = options.solver_options
    iterations = opts.get("max_iterations", DEFAULT_ITERATIONS)
    rho = opts.get("rho", DEFAULT_RHO)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ProblemError(
            f"solver_options.max_iterations: {iterations!r} must be a whole number ≥ 1 (PH iterations)",
            path="solver_options.max_iterations",
            value=iterations,
        )
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho < math.inf:
        raise ProblemError(
            f"solver_options.rho: {rho!r} must be a number > 0 (PH's ρ relative to each decision's cost)",
            path="solver_options.rho",
            value=rho,
        )
    return int(iterations), float(rho)


def _ph_time_limit(left: float | None) -> int | None:
    # mpi-sppy takes whole seconds (and checks them between iterations)
    return None if left is None else max(1, int(left))


def together(opt: Any, flag: bool) -> bool:
    """``flag`` as the first rank of ``opt``'s cylinder sees it, on every rank of the cylinder.

    A decision taken on each rank from its own clock (is there time left?) can differ between
    ranks; before a collective (a bound's all-reduce) they must agree, or the ranks that enter
    it wait forever for those that did not."""
    comm = getattr(opt, "mpicomm", None)
    if comm is None or comm.Get_size() == 1:
        return flag
    return bool(comm.bcast(bool(flag), root=0))


class _BestPlan:
    """The logic of `_incumbent_extension`'s class (mixed with mpi-sppy's ``Extension``, which
    is imported only when mpi-sppy is used); ``plans``: look for plans, not only bounds."""

    plans = True
    opt: Any

    def __init__(self, opt: Any) -> None:
        super().__init__(opt)  # type: ignore[call-arg]  # mpi-sppy's Extension, next in the MRO
        self.solver_options = opt.options["procure_solver_options"]
        self.deadline = opt.options.get("procure_deadline")
        self.value: float | None = None
        self.bound = -math.inf
        self.tries = 0
        self.tried: set[tuple[float, ...]] = set()
        self.began = time.perf_counter()  # when the last iteration began (iteration 0: about now)

    def _own(self) -> dict[str, dict[str, list[float]]]:
        """Each local path's current decisions at every node on it."""
        return {
            name: {
                node.name: [v._value if v._value is not None else 0.0 for v in node.nonant_vardata_list]
                for node in s._mpisppy_node_list
            }
            for name, s in self.opt.local_scenarios.items()
        }

    def _root_xbar(self, own: dict[str, dict[str, list[float]]]) -> list[float]:
        """ROOT's xbar: the probability-weighted mean of every path's ROOT decisions."""
        p = {name: self.opt.local_scenarios[name]._mpisppy_probability for name in own}
        mass = sum(p.values())
        size = len(next(iter(own.values()))["ROOT"])
        return [sum(p[name] * own[name]["ROOT"][i] for name in own) / mass for i in range(size)]

    def _root_candidates(self, own: dict[str, dict[str, list[float]]]) -> list[list[float]]:
        """ROOT's rounded xbar, and ROOT's decisions of the next path in turn (those not
        tried before)."""
        names = list(own)
        out = []
        for values in (self._root_xbar(own), own[names[self.tries % len(names)]]["ROOT"]):
            root = _new_root(self.opt, values, self.tried)
            if root is not None:
                out.append(root)
        return out

    def _lagrangian(self) -> None:
        opt = self.opt
        for s in opt.local_scenarios.values():
            s._mpisppy_model.W_on = 1
            s._mpisppy_model.prox_on = 0
            s._mpisppy_data.outer_bound = -math.inf  # a subproblem that fails leaves no old bound
        options = _timed(self.solver_options, self.deadline)
        opt.solve_loop(solver_options=options, verbose=False, tee=False, need_solution=False)
        bound = opt.Ebound()
        if math.isfinite(bound):
            self.bound = max(self.bound, float(bound))

    def _past(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def _try(self, lagrangian: bool) -> None:
        opt = self.opt
        if self._past() and self.value is not None:
            return  # PH stops at its next check: no more solves for this iteration
        scenarios = list(opt.local_scenarios.values())
        state = [(s._mpisppy_model.W_on.value, s._mpisppy_model.prox_on.value) for s in scenarios]
        bounds = [(s._mpisppy_data.outer_bound, s._mpisppy_data.inner_bound) for s in scenarios]
        own = self._own() if self.plans else {}
        opt._save_nonants()
        try:
            for root in self._root_candidates(own) if self.plans else []:
                value = _fixed_root(opt, root, self.solver_options, self.deadline)
                if value is not None and (self.value is None or value < self.value):
                    self.value = value
            if lagrangian and not together(opt, self._past()):  # a collective: every rank of the cylinder or none
                self._lagrangian()
                opt._restore_nonants()
            self.tries += 1
        finally:
            opt._restore_nonants()
            for s, (w, prox), (outer, inner) in zip(scenarios, state, bounds):
                s._mpisppy_model.W_on = w
                s._mpisppy_model.prox_on = prox
                # PH's bounds read these: an evaluation with decisions held proves nothing
                s._mpisppy_data.outer_bound, s._mpisppy_data.inner_bound = outer, inner

    def miditer(self) -> None:
        """Before each iteration's solves: split the time left over this rank's paths (mpi-sppy
        looks at the clock only between iterations, and its solver options are fixed)."""
        if self.deadline is None:
            return
        opt, now = self.opt, time.perf_counter()
        left = self.deadline - now
        last, self.began = now - self.began, now
        if left < ITERATION_SHARE * last:  # another iteration would overrun: PH's own check stops it
            opt.options["time_limit"] = 0
        if opt.current_solver_options is None:
            opt.current_solver_options = {}
        # only the limit (the layers below hold the rest): time left over this rank's paths
        opt.current_solver_options["time_limit"] = max(left / max(len(opt.local_scenarios), 1), 0.05)

    def post_iter0_after_sync(self) -> None:  # after PH took its trivial bound
        if self.plans:
            self._try(lagrangian=False)

    def enditer(self) -> None:
        self._try(lagrangian=True)


def _incumbent_extension(plans: bool = True) -> Any:
    """A PH extension that does in this process what spokes do on other ranks.  After iteration 0
    and after every iteration it looks for plans by `_fixed_root`: ROOT's decisions held (the
    rounded xbar of ROOT, and the ROOT decisions of one path, the paths in turn) and the extensive
    form below each child of ROOT solved, so that every later decision is the best recourse for
    that ROOT (decisions tried before are not solved again); it keeps the best.  After every
    iteration it also takes the Lagrangian bound of that iteration's W (prox off: each path's MIP
    bound, summed), and keeps the best.  ``plans=False``: the bounds only (on a hub whose paths
    are spread over several ranks)."""
    mpisppy_module()
    from mpisppy.extensions.extension import Extension

    return type("BestPlan", (_BestPlan, Extension), {"plans": plans})


# --------------------------------------------------------------------------- plans with ROOT held


def _new_root(opt: Any, values: Sequence[float], tried: set[tuple[float, ...]]) -> list[float] | None:
    """ROOT's decisions ``values`` with its integers rounded, unless in ``tried`` (then None; else
    added to it)."""
    variables = next(iter(opt.local_scenarios.values()))._mpisppy_node_list[0].nonant_vardata_list
    root = [float(round(x)) if v.is_integer() or v.is_binary() else float(x) for v, x in zip(variables, values)]
    key = tuple(round(x, 6) for x in root)
    if key in tried:
        return None
    tried.add(key)
    return root


def _timed(solver_options: Mapping[str, Any], deadline: float | None, share: int = 1) -> dict[str, Any]:
    """``solver_options`` with HiGHS's time limit set to ``1/share`` of what is left before
    ``deadline`` (at least 0.05 s; unchanged without a deadline)."""
    out = dict(solver_options)
    if deadline is not None:
        left = (deadline - time.perf_counter()) / max(share, 1)
        out["time_limit"] = float(max(left, 0.05))
    return out


def _root_groups(opt: Any) -> dict[str, tuple[Any, dict[str, Any]]]:
    """The extensive form of ``opt``'s local scenarios under each child of ROOT (with two stages:
    each scenario alone), built once and cached on ``opt``: child -> (model, its scenarios).  The
    scenarios become blocks of those models (mpi-sppy's ``FormEF``); their own objectives stay
    active for ``opt``'s own solves and are switched off only while an extensive form is solved."""
    cached = getattr(opt, "_procure_root_efs", None)
    if cached is not None:
        return cached
    import mpisppy.utils.sputils as sputils

    groups: dict[str, dict[str, Any]] = {}
    for name, s in opt.local_scenarios.items():
        nodes = s._mpisppy_node_list
        groups.setdefault(nodes[1].name if len(nodes) > 1 else name, {})[name] = s
    for s in opt.local_scenarios.values():
        sputils.stash_ref_objs(s)  # the objectives to switch back on after each EF solve
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for child, group in groups.items():
        # the EF's objective is the probability-weighted mean of its scenarios' objectives (PH's W
        # and prox terms included, each multiplied by W_on / prox_on: switched off to evaluate)
        ef = opt.FormEF(group, child) if len(group) > 1 else next(iter(group.values()))
        for s in group.values():
            sputils.reactivate_objs(s)
        out[child] = (ef, group)
    opt._procure_root_efs = out
    opt._procure_root_solvers = {}
    return out


@contextlib.contextmanager
def _pyomo_quiet() -> Iterator[None]:
    """Pyomo's warnings (logged, not raised) held back."""
    logger = logging.getLogger("pyomo.core")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fixed_root(
    opt: Any, root: Sequence[float], solver_options: Mapping[str, Any], deadline: float | None
) -> float | None:
    """Evaluate ROOT's decisions ``root`` (integers rounded) on ``opt``'s scenarios: held fixed,
    the extensive form under each child of ROOT solved by HiGHS (``solver_options``; time limit:
    a share of what is left before ``deadline``), so every later decision is the best recourse
    for that ROOT.  When every one has a plan: the expected objective (PH's W and prox terms off,
    so the true expected cost), recorded as ``opt``'s best solution when it improves; else None.
    The nonants and PH's switches are restored afterwards.  Collective over ``opt``'s ranks (each
    evaluates its own children: every child's scenarios must be on one rank)."""
    import mpisppy.utils.sputils as sputils
    from mpisppy.utils.w_utils.wxbarutils import fix_ef_ROOT_nonants

    pyo = import_pyomo()
    groups = _root_groups(opt)
    solvers = opt._procure_root_solvers
    switches = [
        (model, name, getattr(model, name).value)
        for s in opt.local_scenarios.values()
        if (model := getattr(s, "_mpisppy_model", None)) is not None
        for name in ("W_on", "prox_on")
        if hasattr(model, name)
    ]
    opt._save_nonants()
    obj: float | None = None
    try:
        for model, name, _ in switches:
            getattr(model, name).value = 0
        failed = False
        for k, (child, (ef, group)) in enumerate(groups.items()):
            fix_ef_ROOT_nonants(ef, list(root))
            alone = len(group) == 1
            if not alone:
                for s in group.values():
                    sputils.deact_objs(s)
            try:
                solver = solvers.get(child)
                if solver is None:
                    solver = solvers[child] = pyo.SolverFactory(SUBSOLVER)
                for key, value in _timed(solver_options, deadline, len(groups) - k).items():
                    solver.options[key] = value
                results = solver.solve(ef, load_solutions=False, tee=False)
            except Exception:  # a solver failure: no plan from this candidate
                results = None
            finally:
                if not alone:
                    for s in group.values():
                        sputils.reactivate_objs(s)
            if sputils.not_good_enough_results(results):
                failed = True
                break
            with _pyomo_quiet():  # Pyomo warns of loading a plan HiGHS stopped at its limits with
                ef.solutions.load_from(results)
        if not opt.allreduce_or(failed):
            obj = float(opt.Eobjective())
            for name, s in opt.local_scenarios.items():
                s._mpisppy_data.inner_bound = pyo.value(opt.saved_objectives[name])
            opt.update_best_solution_if_improving(obj)
    finally:
        for model, name, value in switches:
            getattr(model, name).value = value
        opt._restore_nonants()
    return obj


def failure(exc: Exception) -> Answer:
    text = f"{type(exc).__name__}: {exc}"
    if "Infeasibility detected" in str(exc):  # iteration 0: HiGHS proved some path infeasible alone
        message = "no plan satisfies every constraint: some demand path has no plan even alone (mpi-sppy's iteration 0)"
        return Answer(None, math.nan, "infeasible", message)
    return Answer(None, math.nan, "error", f"mpi-sppy failed: {text}")


def _gap_stop(gap: float) -> Any:
    """A PH converger: stop once the best plan found is within ``gap`` of the best bound."""

    class GapStop:
        def __init__(self, ph: Any) -> None:
            self.ph = ph

        def is_converged(self) -> bool:
            value = self.ph.extobject.value
            bound = max(self.ph.trivial_bound, self.ph.extobject.bound)
            if value is None or not math.isfinite(bound):
                return False
            return bool(value - bound <= gap * max(abs(value), 1e-12))

    return GapStop


def _serial_options(iterations: int, sub: dict[str, Any], left: float | None) -> dict[str, Any]:
    """mpi-sppy's PH options for a run in this process (HiGHS's options ``sub`` for every solve)."""
    import mpisppy.utils.sputils as sputils

    return {
        "solver_name": SUBSOLVER,
        "PHIterLimit": iterations,
        "defaultPHrho": 1.0,
        "convthresh": 1e-8,
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "iter0_solver_options": dict(sub),
        "iterk_solver_options": dict(sub),
        "solver_options_layers": [sputils.solver_options_layer("default", dict(sub))],
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": 0.1,
        "time_limit": _ph_time_limit(left),
        "procure_solver_options": dict(sub),
        "procure_deadline": None,
    }


def run_ph_serial(mt: MpiSppyTree, options: SolveOptions, started: float) -> Answer:
    """PH in this process: the best plan the incumbent extension found, and the larger of the
    trivial (wait-and-see) bound and the Lagrangian bound with PH's final W."""
    mpisppy_module()
    from mpisppy.opt.ph import PH

    iterations, rho = ph_settings(options)
    left = time_left(options, started)
    paths = len(mt.scenario_names)
    sub = _subsolver_options(options, left, paths)
    ph_options = _serial_options(iterations, sub, left)
    deadline = _deadline(_ph_time_limit(left))
    ph_options["procure_deadline"] = deadline
    with quiet(options.verbose):
        ph = PH(
            ph_options,
            list(mt.scenario_names),
            mt.scenario_creator,
            mt.scenario_denouement,
            scenario_creator_kwargs=mt.scenario_creator_kwargs,
            all_nodenames=list(mt.all_nodenames),
            extensions=_incumbent_extension(),
            ph_converger=_gap_stop(options.mip_gap),
            rho_setter=mt.rho_setter(rho),
        )
        try:
            _conv, _eobj, trivial = ph.ph_main()
        except (KeyboardInterrupt, ProblemError):
            raise
        except Exception as exc:
            return failure(exc)
        done = ph._PHIter
        x = None
        if ph.extobject.value is not None and ph.load_best_solution():
            x = {mt.path_of(n): _x(s) for n, s in ph.local_scenarios.items()}
        lagrangian = None
        if deadline is None or time.perf_counter() < deadline:  # the bound of PH's last W (else: of the one before)
            for s in ph.local_scenarios.values():  # a subproblem that fails must not leave an old bound behind
                s._mpisppy_data.outer_bound = -math.inf
            lagrangian = ph.post_solve_bound(
                solver_options=_subsolver_options(options, _at_least(options, started), paths)
            )
    bounds = [b for b in (trivial, lagrangian, ph.extobject.bound) if b is not None and math.isfinite(b)]
    bound = max(bounds) if bounds else math.nan
    termination = _ph_termination(deadline, done, iterations)
    message = f"progressive hedging, {done} iteration(s), serial"
    if x is None:
        message += ": no plan found (no candidate decisions gave every path a plan)"
    return Answer(x, bound, termination, message, done)


def _at_least(options: SolveOptions, started: float, seconds: float = 1.0) -> float | None:
    """Time left for a last round of solves (a bound), at least ``seconds``."""
    left = time_left(options, started)
    return None if left is None else max(left, seconds)


def _ph_termination(deadline: float | None, done: int, iterations: int) -> str:
    """Why PH stopped (unless the gap closes): the time limit (PH's own, in whole seconds, ends at
    ``deadline``), its iteration limit, or its iterates agreed (``converged``, which proves
    nothing by itself)."""
    if deadline is not None and time.perf_counter() >= deadline:
        return "time_limit"
    return "iteration_limit" if done >= iterations else "converged"


def _deadline(limit: int | None) -> float | None:
    return None if limit is None else time.perf_counter() + limit


def _layout(size: int, n_scenarios: int) -> tuple[str, ...]:
    """The spokes of a run on ``size`` ranks: xhatshuffle (incumbents), and a Lagrangian bound
    spoke when the ranks divide into 3 cylinders."""
    if size % 3 == 0:
        spokes: tuple[str, ...] = ("lagrangian", "xhatshuffle")
    elif size % 2 == 0:
        spokes = ("xhatshuffle",)
    else:
        raise ProblemError(
            f"mpisppy:ph on {size} MPI ranks: use 1 rank (serial), an even number (a PH hub and an incumbent "
            "spoke) or a multiple of 3 (hub, Lagrangian bound spoke and incumbent spoke)",
            path="solver",
        )
    per = size // (1 + len(spokes))
    if per > n_scenarios:
        raise ProblemError(
            f"mpisppy:ph on {size} MPI ranks: {per} ranks per cylinder but only {n_scenarios} demand path(s); "
            f"use at most {n_scenarios * (1 + len(spokes))} ranks",
            path="solver",
        )
    return spokes


def _fixed_root_shuffle() -> Any:
    """mpi-sppy's xhatshuffle spoke whose candidates (ROOT's decisions of a path, the paths in
    the spoke's shuffled turn) are evaluated by `_fixed_root`: HiGHS with procure's gap and a
    time limit from the run's deadline (``procure_deadline`` in the spoke's options), where
    mpi-sppy's own ``stage2ef`` solves each extensive form with no options at all."""
    mpisppy_module()
    from mpisppy.cylinders.xhatshufflelooper_bounder import XhatShuffleInnerBound

    class FixedRootShuffle(XhatShuffleInnerBound):
        """Each ROOT tried once; with new decisions from the hub, their ROOT xbar first."""

        def try_scenario_dict(self, xhat_scenario_dict: dict[str, Any]) -> bool:
            opt, comm = self.opt, self.xhatter.comms["ROOT"]  # the spoke's ranks, in lockstep here
            tried = self.__dict__.setdefault("_procure_tried", set())
            candidates = []
            serial = self._nonant_len_receive_buffer.id()
            # each rank reads the hub's news on its own clock: the collectives below need one answer
            if together(opt, serial != getattr(self, "_procure_serial", None)):
                self._procure_serial = serial
                weighted = sum(
                    s._mpisppy_probability * np.asarray(s._mpisppy_data.nonant_cache[: s._mpisppy_data.nlens["ROOT"]])
                    for s in opt.local_scenarios.values()
                )
                mass = sum(s._mpisppy_probability for s in opt.local_scenarios.values())
                candidates.append(list(comm.allreduce(weighted) / comm.allreduce(mass)))
            name = xhat_scenario_dict["ROOT"]
            own = None
            if name in opt.local_scenarios:
                data = opt.local_scenarios[name]._mpisppy_data
                own = [float(v) for v in data.nonant_cache[: data.nlens["ROOT"]]]  # ROOT's come first
            candidates.append(comm.bcast(own, root=self.xhatter.scenario_name_to_rank["ROOT"][name]))
            update = False
            for values in candidates:
                root = _new_root(opt, values, tried)
                if root is None:
                    continue
                obj = _fixed_root(opt, root, self.solver_options, opt.options.get("procure_deadline"))
                # _fixed_root updated opt's best solution (what the wheel writes); the hub hears here
                if obj is not None and self.update_if_improving(obj, update_best_solution_cache=False):
                    update = True
                if together(opt, self.got_kill_signal()):  # the next candidate's solves are collective
                    break
            return update

    return FixedRootShuffle


def _wheel_config(
    mt: MpiSppyTree, options: SolveOptions, left: float | None, spokes: tuple[str, ...], sub: dict[str, Any]
) -> Any:
    """mpi-sppy's ``Config`` of a hub-and-spokes PH run (HiGHS's options ``sub`` in ``solver_options``)."""
    from mpisppy.utils import config

    iterations, _ = ph_settings(options)
    cfg = config.Config()
    cfg.multistage()
    cfg.ph_args()
    cfg.two_sided_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.solver_name = SUBSOLVER
    cfg.default_rho = 1.0
    cfg.max_iterations = iterations
    cfg.time_limit = _ph_time_limit(left)
    cfg.rel_gap = float(options.mip_gap)
    cfg.abs_gap = 0.0
    cfg.linearize_proximal_terms = True
    # mpi-sppy's Config keeps solver options as an option string ("key=value key=value"): a
    # dict given here would be read as its text, and no option would reach HiGHS
    cfg.solver_options = " ".join(f"{key}={value}" for key, value in sub.items())
    cfg.branching_factors = mt.branching_factors or [mt.children["ROOT"]]
    cfg.lagrangian = "lagrangian" in spokes
    cfg.xhatshuffle = True
    return cfg


def _wheel(mt: MpiSppyTree, cfg: Any, sub: dict[str, Any], rho: float, per: int, run_deadline: float | None) -> Any:
    """The hub (PH) and its spokes: a Lagrangian bound spoke when ``cfg.lagrangian``, and the
    incumbent spoke (``per`` ranks each); ``sub``: HiGHS's options."""
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpisppy.spin_the_wheel import WheelSpinner

    names, nodes, kw = list(mt.scenario_names), list(mt.all_nodenames), mt.scenario_creator_kwargs
    beans = (cfg, mt.scenario_creator, mt.scenario_denouement, names)
    hub = vanilla.ph_hub(
        *beans,
        scenario_creator_kwargs=kw,
        all_nodenames=nodes,
        rho_setter=mt.rho_setter(rho),
        # without a Lagrangian spoke, the hub takes the Lagrangian bound of every iteration itself
        ph_extensions=None if cfg.lagrangian else _incumbent_extension(plans=False),
    )
    hub["opt_kwargs"]["options"]["procure_solver_options"] = dict(sub)
    hub["opt_kwargs"]["options"]["procure_deadline"] = run_deadline
    spoke_list = []
    if cfg.lagrangian:
        spoke_list.append(
            vanilla.lagrangian_spoke(
                *beans, scenario_creator_kwargs=kw, all_nodenames=nodes, rho_setter=mt.rho_setter(rho)
            )
        )
    shuffle = vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kw, all_nodenames=nodes)
    # the incumbent spoke holds ROOT's decisions and solves the extensive form under each ROOT
    # child (`_fixed_root`: HiGHS's gap and the time left); every child's paths must then sit
    # on one rank, which they do when the spoke's ranks divide ROOT's children
    if mt.n_stages > 2 and mt.children["ROOT"] % per == 0:
        shuffle["spoke_class"] = _fixed_root_shuffle()
        shuffle["opt_kwargs"]["options"]["procure_deadline"] = run_deadline
    spoke_list.append(shuffle)
    return WheelSpinner(hub, spoke_list)


def _hub_bound(wheel: Any, cfg: Any, options: SolveOptions, started: float) -> float | None:
    """Without a Lagrangian spoke: the hub's best Lagrangian bound, and that of PH's final W
    (with time left: a solve at its limit still bounds)."""
    if cfg.lagrangian:
        return None
    opt = wheel.spcomm.opt
    post: float = opt.extobject.bound
    left = time_left(options, started)
    if together(opt, left is None or left > 0.05):  # a collective: every rank of the hub or none
        for s in opt.local_scenarios.values():
            s._mpisppy_data.outer_bound = -math.inf
        last = opt.post_solve_bound(solver_options=_subsolver_options(options, left, len(opt.local_scenarios)))
        post = max(post, last) if math.isfinite(last) else post
    return post


def run_ph_wheel(mt: MpiSppyTree, options: SolveOptions, started: float, comm: Any) -> Answer:
    """PH as mpi-sppy's hub and spokes over every rank of ``comm`` (collective: every rank
    calls it and gets the same answer)."""
    mpisppy_module()
    iterations, rho = ph_settings(options)
    spokes = _layout(comm.size, len(mt.scenario_names))
    per = comm.size // (1 + len(spokes))
    left = time_left(options, started)
    sub = _subsolver_options(options, left, -(-len(mt.scenario_names) // per))  # over one hub rank's paths
    cfg = _wheel_config(mt, options, left, spokes, sub)
    run_deadline = None if options.time_limit is None else started + options.time_limit
    x: dict[str, np.ndarray] = {}

    def writer(_directory: str, name: str, scenario: Any, _bundling: Any) -> None:
        x[mt.path_of(name)] = _x(scenario)

    with quiet(options.verbose):
        wheel = _wheel(mt, cfg, sub, rho, per, run_deadline)
        deadline = _deadline(cfg.time_limit)
        wheel.spin()
        with tempfile.TemporaryDirectory(prefix="procure-mpisppy-") as folder:  # the writer writes nothing
            wheel.write_tree_solution(os.path.join(folder, "tree"), scenario_tree_solution_writer=writer)
        done, post = None, None
        if wheel.on_hub():
            done = wheel.spcomm.opt._PHIter
            post = _hub_bound(wheel, cfg, options, started)
        outer = wheel.BestOuterBound if comm.rank == 0 else None
    parts = comm.gather(x, root=0)
    answer = None
    if comm.rank == 0:
        found = {k: v for part in parts for k, v in part.items()}
        bounds = [b for b in (outer, post) if b is not None and math.isfinite(b)]
        done_iterations = int(done or 0)
        message = (
            f"progressive hedging, {done_iterations} iteration(s), {comm.size} MPI ranks (hub, {', '.join(spokes)})"
        )
        plan: dict[str, np.ndarray] | None = found if len(found) == len(mt.scenario_names) else None
        if plan is None:
            message += ": the incumbent spoke found no plan"
        termination = _ph_termination(deadline, done_iterations, iterations)
        answer = Answer(plan, max(bounds) if bounds else math.nan, termination, message, done_iterations)
    answer = comm.bcast(answer, root=0)
    assert answer is not None
    return answer
