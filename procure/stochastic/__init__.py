"""Layer 5, demand scenario trees: their solve through the core pipeline, `TreeResult`,
forecasts, and mpi-sppy."""
