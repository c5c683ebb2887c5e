"""Layer 0, the base: errors, supported limits and tolerances, and the one number formatter.

Imports nothing else of procure."""
