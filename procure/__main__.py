"""``python -m procure``: the ``procure`` command line (see `procure.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a dask worker process (spawned) imports this module
    sys.exit(main())
