"""Layer 4, the core: the one pipeline every solve goes through (build, solve, certify, refine
HHI, explain, result), `solve()`, `Planner`, re-solves and `Result`.

Imports only the layers below (solvers, model, problem, base); what an upper layer adds to a
result (explain, sensitivity, reports, plots) it registers in `procure.base.hooks`."""
