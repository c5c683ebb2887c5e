"""Reports of a `Result`: readable text (`text`) and JSON-ready mappings (`export`).

Reports read a `Result` (its tables and numbers) and never the model.
"""

from .mapping import to_dict
from .text import summary

__all__ = ["summary", "to_dict"]
