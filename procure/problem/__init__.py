"""Layer 1, the problem: the format's records, validation, files and tables, scenario trees, and the
independent evaluation of a plan against the problem (`procure.check`'s rules).

Imports only `procure.base`."""
