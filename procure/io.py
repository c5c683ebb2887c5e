"""Reading problem mappings from ``.json`` and ``.toml`` files."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .errors import ProblemError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_mapping", "write_json"]


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a problem mapping from a ``.json`` or ``.toml`` file.

    Raises
    ------
    ProblemError
        If the file is missing, has another suffix, or does not parse; the
        message names the file and, for parse errors, the line.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ProblemError(f"{file}: a problem file must end in .json or .toml", value=str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemError(f"{file}: no such problem file", value=str(file)) from None
    except OSError as exc:
        raise ProblemError(f"{file}: cannot be read ({exc.strerror})", value=str(file)) from None
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{file}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{file}: invalid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ProblemError(f"{file}: the file must hold one table (mapping) of problem fields")
    return data


def write_json(data: Any, path: str | os.PathLike[str] | None, indent: int = 2) -> str:
    """``data`` as JSON text, also written to ``path`` when given."""
    text = json.dumps(data, indent=indent)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text
