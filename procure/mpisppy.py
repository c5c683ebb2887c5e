"""``python -m procure.mpisppy``: mpi-sppy's command line (see `procure.stochastic.mpisppy`).

The entry point stays at the package root, where `mpiexec -n 4 python -m procure.mpisppy`
finds it; the code lives in the stochastic layer."""

from __future__ import annotations

import sys

from .stochastic.mpisppy import main

if __name__ == "__main__":
    sys.exit(main())
