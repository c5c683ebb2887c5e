"""Reading problem mappings from ``.json`` and ``.toml`` files."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from .errors import ProblemError
from .limits import MAX_UNITS, MAX_VALUE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_mapping", "write_json"]


#: A dotted TOML key of this many parts or more is refused before parsing: tomllib's memory grows with
#: the square of a key's length (100,000 parts take tens of GB), and no problem nests beyond a few levels.
MAX_KEY_PARTS = 100
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DEEP_KEY = re.compile(rf"(?<![A-Za-z0-9_-]){_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_KEY_PARTS - 1}}}")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _decode(file: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ProblemError(
            f"{file}: line {line}: byte 0x{data[exc.start]:02x} is not UTF-8 text "
            f"(a problem file is UTF-8 JSON or TOML; save it as UTF-8)",
            value=str(file),
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode reads


def _parse(file: Path, text: str, suffix: str) -> Any:
    if suffix == ".toml":
        deep = _DEEP_KEY.search(text)
        if deep is not None:
            raise ProblemError(
                f"{file}: line {_line(text, deep.start())}: a key of {MAX_KEY_PARTS} or more dotted parts "
                "(a problem nests only a few levels)",
                value=str(file),
            )
    try:
        return json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            f"{file}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", value=str(file)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{file}: invalid TOML: {exc}", value=str(file)) from None
    except RecursionError:
        raise ProblemError(
            f"{file}: nested too deeply to read (a problem nests only a few levels)", value=str(file)
        ) from None
    except ValueError:  # an integer of more digits than int() converts (sys.get_int_max_str_digits(), 4300)
        limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        long = re.search(f"[0-9]{{{limit + 1},}}", text)
        where = f"line {_line(text, long.start())}: " if long else ""
        digits = f"{long.end() - long.start()} digits" if long else "too many digits"
        raise ProblemError(
            f"{file}: {where}an integer of {digits} is too large (allowed: up to {MAX_UNITS:g} units, "
            f"{MAX_VALUE:g} for other numbers)",
            value=str(file),
        ) from None


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a problem mapping from a ``.json`` or ``.toml`` file.

    Raises
    ------
    ProblemError
        If the file is missing, has another suffix, is not UTF-8 text, or does
        not parse (also when nested too deeply or holding an integer too long
        to convert); the message names the file and, where known, the line.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ProblemError(f"{file}: a problem file must end in .json or .toml", value=str(file))
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ProblemError(f"{file}: no such problem file", value=str(file)) from None
    except OSError as exc:
        raise ProblemError(f"{file}: cannot be read ({exc.strerror})", value=str(file)) from None
    parsed = _parse(file, _decode(file, data), suffix)
    if not isinstance(parsed, dict):
        raise ProblemError(f"{file}: the file must hold one table (mapping) of problem fields", value=str(file))
    return parsed


def write_json(data: Any, path: str | os.PathLike[str] | None, indent: int = 2) -> str:
    """``data`` as JSON text, also written to ``path`` when given."""
    text = json.dumps(data, indent=indent)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text
