"""The ``procure`` command line (``procure solve plan.toml``; ``python -m procure``).

One module per subcommand (``solve``, ``validate``, ``explain``, ``frontier``, ``sweep``,
``export``, ``init``), each with ``register(subparsers)`` and ``run(args) -> int``;
`procure.cli.common` holds the exit codes and what the commands share.  See docs/cli.md.
"""

from .main import main

__all__ = ["main"]
