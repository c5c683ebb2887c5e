"""Reading problem mappings from ``.json`` and ``.toml`` files; reading any input file safely, and
writing output files whole (a temporary file renamed into place).

Every file procure reads goes through `read_file`: it must be a regular file (a named pipe, a device
such as ``/dev/zero`` or a directory is refused before anything is read, and opening never blocks)
of at most `MAX_FILE_BYTES`.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..base.errors import ProblemError
from ..base.limits import MAX_UNITS, MAX_VALUE
from .validate import key_text, name_text, show

if TYPE_CHECKING:
    import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "MAX_FILE_BYTES",
    "RepeatedKey",
    "json_object",
    "read_file",
    "read_mapping",
    "write_atomic",
    "write_json",
    "write_text",
    "write_workbook",
]


#: A dotted TOML key of this many parts or more is refused before parsing: tomllib's memory grows with
#: the square of a key's length (100,000 parts take tens of GB), and no problem nests beyond a few levels.
MAX_KEY_PARTS = 100
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DEEP_KEY = re.compile(rf"(?<![A-Za-z0-9_-]){_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_KEY_PARTS - 1}}}")

#: The largest file procure reads: a problem file, a CSV table or an Excel workbook (64 MiB).  Its size
#: is checked before it is read; a larger problem is split into tables, or given in Python.
MAX_FILE_BYTES = 64 * 2**20

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
    stat.S_IFSOCK: "a socket",
}


def read_file(
    path: str | os.PathLike[str],
    where: str | None = None,
    *,
    limit: int | None = None,
    missing: str = "no such file",
    follow: bool = True,
) -> bytes:
    """The bytes of the regular file ``path``, of at most ``limit`` bytes (default `MAX_FILE_BYTES`).

    The file is opened without blocking (a named pipe does not wait for a writer) and checked on
    the open descriptor before anything is read: a pipe, a device, a socket or a directory is
    refused, and so is a file larger than ``limit``.  ``follow=False`` refuses a symbolic link as
    the last part of the path (for paths already resolved).

    Raises
    ------
    ProblemError
        Naming ``where`` (default: the path): missing (``missing`` says so), not a regular file,
        too large, or unreadable.
    """
    name = str(path) if where is None else where
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ProblemError(f"{name}: {missing}", value=name) from None
    except ValueError:  # an embedded NUL byte
        raise ProblemError(f"{name}: is not a valid file name", value=name) from None
    except OSError as exc:
        raise ProblemError(f"{name}: cannot be read ({exc.strerror or type(exc).__name__})", value=name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise ProblemError(f"{name}: is {kind}, not a regular file: procure reads only regular files", value=name)
        if info.st_size > limit:
            raise ProblemError(_too_large(name, info.st_size, limit), value=name)
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ProblemError(f"{name}: cannot be read ({exc.strerror or type(exc).__name__})", value=name) from None
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise ProblemError(_too_large(name, size, limit), value=name)
    return b"".join(chunks)


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: is {size:,} bytes, more than the {limit:,} ({limit / 2**20:g} MiB) a file read by procure "
        "may have (give large tables as several files, or build the problem in Python)"
    )


# --------------------------------------------------------------------------- JSON without repeated keys


class _Twice(dict[str, Any]):
    """A JSON object in which a key is given twice: ``twice`` is that key."""

    twice: str = ""


def _repeated(value: Any) -> tuple[str, str] | None:
    """(path, key) of the first object in ``value`` that gives a key twice (searched without recursion)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Twice):
            return path, item.twice
        if isinstance(item, dict):
            children = [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(f"{path}[{k}]", v) for k, v in enumerate(item)]
        else:
            continue
        stack.extend(reversed([(p, v) for p, v in children if isinstance(v, (dict, list))]))
    return None


class RepeatedKey(ValueError):
    """A JSON object gives a key twice: ``path`` is the object's path, ``key`` the key."""

    def __init__(self, path: str, key: str) -> None:

        where = f"{name_text(path)}: " if path else ""
        super().__init__(f"{where}key {key_text(key)} is given twice (each key is given once)")
        self.path = path
        self.key = key


def json_object(text: str) -> Any:
    """``json.loads(text)``, refusing an object that gives a key twice (where JSON lets the last win).

    Raises
    ------
    RepeatedKey
        For a key given twice, naming the object's path and the key.
    json.JSONDecodeError, RecursionError, ValueError
        As `json.loads`.
    """
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        out = dict(items)
        if len(out) == len(items):
            return out
        seen: set[str] = set()
        twice = _Twice(items)
        twice.twice = next(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        repeated = True
        return twice

    value = json.loads(text, object_pairs_hook=pairs)
    if repeated:
        found = _repeated(value)
        if found is not None:
            raise RepeatedKey(*found)
    return value


# --------------------------------------------------------------------------- problem files


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
        return json_object(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            f"{file}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", value=str(file)
        ) from None
    except RepeatedKey as exc:
        raise ProblemError(f"{file}: {exc}", path=exc.path, value=exc.key) from None
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
        If the file is missing, has another suffix, is not a regular file (a named pipe, a device),
        is larger than `MAX_FILE_BYTES`, is not UTF-8 text, or does not parse (also when nested
        too deeply, holding an integer too long to convert, or a JSON object giving a key twice);
        the message names the file and, where known, the line or the key.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ProblemError(f"{file}: a problem file must end in .json or .toml", value=str(file))
    data = read_file(file, str(file), missing="no such problem file")
    parsed = _parse(file, _decode(file, data), suffix)
    if not isinstance(parsed, dict):
        raise ProblemError(f"{file}: the file must hold one table (mapping) of problem fields", value=str(file))
    return parsed


# --------------------------------------------------------------------------- writing


@contextmanager
def write_atomic(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file to write ``path`` through: a new file next to it, renamed to ``path`` when the
    block ends without an exception, removed otherwise (so ``path`` is never left half written)."""
    file = Path(path)
    temp = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(temp, file)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` whole (see `write_atomic`)."""
    with write_atomic(path) as f:
        f.write(text.encode("utf-8"))


#: The most characters an Excel cell holds, and the rows and columns of a sheet.
EXCEL_CELL_CHARS = 32_767
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
#: Characters XML 1.0 (inside an .xlsx) cannot hold, and lone surrogates (not text).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cell_value(value: Any) -> Any:
    """A value as openpyxl writes it: NaN and missing as an empty cell, numpy scalars as Python's,
    infinities as text (``inf``, as pandas writes them), whole numbers of 2**53 or more as their
    digits (text: a spreadsheet's numbers are doubles)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)  # beyond the whole numbers a double (an Excel number) holds: its digits, as text
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if value != value else (value if value not in (math.inf, -math.inf) else str(value))
    item = getattr(value, "item", None)  # numpy scalars
    if item is not None and getattr(value, "ndim", None) == 0:
        return _cell_value(item())
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return value
    try:
        missing = value != value  # pd.NA, pd.NaT
        if missing is True:
            return None
    except Exception:
        pass
    return str(value)


def write_workbook(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame],
    *,
    field_of: Callable[[str, int, str], str] | None = None,
    style: Callable[[Any, pd.DataFrame], None] | None = None,
) -> Path:
    """Write ``sheets`` (name -> frame: a header row of its columns, then one row per row) as an
    ``.xlsx`` workbook at ``path``.

    Text is always written as text, never as a formula (``=SUM(A1)``, ``@x``, ``+1`` stay what they
    are), so the workbook reads back as written.  The file is written whole or not at all (see
    `write_atomic`).  ``field_of(sheet, k, header)`` names the field of the ``k``-th row's cell
    under ``header`` for errors; ``style(worksheet, frame)`` formats a sheet once written.

    Raises
    ------
    ProblemError
        If a text cell holds a character XML cannot hold (a control character, a lone surrogate)
        or more than `EXCEL_CELL_CHARS` characters, or a sheet has more rows or columns than Excel
        allows; it names the sheet, the cell, its column and (with ``field_of``) the field.
    """
    from openpyxl import Workbook
    from openpyxl.utils.cell import get_column_letter

    file = Path(path)
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        ws = book.create_sheet(title=name)
        headers = [str(c) for c in frame.columns]
        if len(frame) + 1 > EXCEL_ROWS or len(headers) > EXCEL_COLUMNS:
            raise ProblemError(
                f"{file}, sheet {name}: {len(frame) + 1:,} rows × {len(headers):,} columns do not fit in an "
                f"Excel sheet ({EXCEL_ROWS:,} × {EXCEL_COLUMNS:,})"
            )

        def put(r: int, c: int, value: Any, *, ws: Any = ws, name: str = name, headers: list[str] = headers) -> None:
            value = _cell_value(value)
            if value is None:
                return
            cell = ws.cell(row=r, column=c)
            if not isinstance(value, str):
                cell.value = value
                return
            bad = _NOT_XML.search(value)
            if bad is not None or len(value) > EXCEL_CELL_CHARS:
                header = headers[c - 1]
                field = field_of(name, r - 2, header) if field_of is not None and r > 1 else ""
                why = (
                    f"holds U+{ord(bad.group(0)):04X}, a character an Excel cell cannot hold"
                    if bad is not None
                    else f"is {len(value):,} characters long, more than the {EXCEL_CELL_CHARS:,} an Excel cell holds"
                )
                at = f"{file}, sheet {name}, cell {get_column_letter(c)}{r} (column {show(header)})"
                raise ProblemError(f"{at}: {f'{field}: ' if field else ''}{show(value)} {why}", path=field, value=value)
            cell.value = value
            cell.data_type = "s"  # text, never a formula (nor an error value such as "#N/A")

        for c, header in enumerate(frame.columns, start=1):
            put(1, c, header)
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            for c, value in enumerate(row, start=1):
                put(r, c, value)
        if style is not None:
            style(ws, frame)
    with write_atomic(file) as f:
        book.save(f)
    return file


def write_json(data: Any, path: str | os.PathLike[str] | None, indent: int = 2) -> str:
    """``data`` as JSON text, also written to ``path`` when given."""
    text = json.dumps(data, indent=indent)
    if path is not None:
        write_text(path, text + "\n")
    return text
