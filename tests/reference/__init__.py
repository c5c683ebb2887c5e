"""Independent reference tools for testing `procure` against its contract.

Written from the spec (problem-format.md, contract v1, including "Commercial
terms, sites and workloads", contract v2's model sections and contract v3's
"two vendor rules" and "capacity options", with the decisions procure documents
where the spec is silent on options) alone; nothing here imports or reads the
library.  Modules:

- `spec`        parse a raw problem dict into a small normalized structure
                (and a light `validate` used to self-check the strategies)
- `checker`     fleet, constraint violations, cost, HHI, scenario losses, CVaR,
                objective of a given purchase plan; tier-aware capex, take-or-pay,
                site power, workload feasibility (small LP) and splits; the plan's
                capacity options (keyword `options`)
- `pulp_model`  a PuLP/CBC reference model (`solve_reference`)
- `bruteforce`  exhaustive search over tiny instances (`brute_force`)
- `strategies`  hypothesis strategies for valid and invalid problems
"""
