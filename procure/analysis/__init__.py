"""Layer 6, analysis of a problem and its result: diagnosis (`explain`), sensitivity, duals, rule
costs, option values and frontiers."""
