"""Layer 7, many solves of one problem: sweeps (dask), Monte-Carlo variants and out-of-sample
evaluation."""
