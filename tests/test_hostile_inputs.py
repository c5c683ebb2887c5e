"""Inputs that can hurt (issue 21, point 7): spreadsheet cells that are not values, outputs that a
spreadsheet would run, table references that reach outside the problem's folder or block, sizes
that exhaust memory or time, and values that used to escape as exceptions other than
`ProblemError` or to be accepted silently."""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
import procure.problem.io
import procure.problem.table_input
from procure import Problem, ProblemError
from procure.problem.tree import _alone, scenario_tree
from procure.report.excel import csv_text

SIMPLE: dict[str, Any] = {
    "name": "hostile",
    "periods": [2026, 2027],
    "demand": {"2026": 100, "2027": 250},
    "offers": [
        {"name": "tpu", "vendor": "google", "unit_cost": 30000, "compute": 2.3, "power_kw": 1.1, "lot_size": 4},
        {"name": "gb200", "vendor": "nvidia", "unit_cost": 40000, "compute": 2.5, "power_kw": 1.7, "lot_size": 8},
    ],
    "pue": 1.2,
}
OFFERS_CSV = "name,vendor,unit_cost,compute,lot_size\ntpu,google,30000,2.3,4\ngb200,nvidia,40000,2.5,8\n"
posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and /dev need a POSIX system")


def _simple() -> dict[str, Any]:
    return copy.deepcopy(SIMPLE)


def _folder(tmp_path: Path, offers: str = '"offers.csv"', csv_text: str = OFFERS_CSV) -> Path:
    """A problem.toml referencing its offers table; the table's file written when given."""
    (tmp_path / "offers.csv").write_text(csv_text, encoding="utf-8")
    problem = tmp_path / "problem.toml"
    problem.write_text(f"periods = [2026, 2027]\ndemand = 100\noffers = {offers}\n", encoding="utf-8")
    return problem


def _error(call: Callable[[], Any], *fragments: str) -> ProblemError:
    """The ProblemError ``call`` raises; its message holds every fragment."""
    with pytest.raises(ProblemError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


def _in_time(call: Callable[[], Any], seconds: float = 20.0) -> Any:
    """``call()``'s result or exception, failing the test if it does not return within ``seconds``
    (a read that blocks forever then fails instead of hanging the run)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # handed to the test thread
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"did not return within {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook of ``sheets`` (rows of values; ``=…`` strings become formulas without a computed
    value and ``#N/A``-like strings error cells, as openpyxl writes them)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _patch(path: Path, member: str, change: Callable[[str], str]) -> Path:
    """Rewrite one part of an .xlsx (e.g. ``xl/worksheets/sheet1.xml``) through ``change``."""
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, change(data.decode("utf-8")).encode("utf-8") if info.filename == member else data)
    return path


PROBLEM_SHEET = [["field", "value"], ["periods", "2026, 2027"], ["demand", 100], ["pue", 1.2]]
OFFERS_SHEET = [
    ["name", "vendor", "unit_cost", "compute", "max_units"],
    ["tpu", "google", 30000, 2.3, 500],
    ["gb200", "nvidia", 40000, 2.5, 500],
]


def _book(tmp_path: Path, problem: list[list[Any]] | None = None, offers: list[list[Any]] | None = None) -> Path:
    return _workbook(
        tmp_path / "book.xlsx",
        {"problem": copy.deepcopy(problem or PROBLEM_SHEET), "offers": copy.deepcopy(offers or OFFERS_SHEET)},
    )


# --------------------------------------------------------------------------- Excel cells are what they hold


def test_the_fixture_workbook_reads(tmp_path: Path) -> None:
    """The workbooks below are valid but for the cell each test breaks."""
    assert Problem.from_excel(_book(tmp_path)).offers[1].max_units == (500.0, 500.0)


def test_formula_without_computed_value_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    offers = copy.deepcopy(OFFERS_SHEET)
    offers[1][4] = "=0"  # "none available": must not become "unlimited"
    error = _error(
        lambda: Problem.from_excel(_book(tmp_path, offers=offers)),
        "book.xlsx, sheet offers, row 2 (offer 'tpu'), column max_units: cell E2 holds a formula without a computed",
    )
    assert error.path == "offers[0].max_units"


def test_budget_as_formulas_is_not_dropped(tmp_path: Path) -> None:
    problem = [*PROBLEM_SHEET, ["budget", None, "=1e9", "=2e9"]]
    problem[0] = ["field", "value", 2026, 2027]
    _error(
        lambda: Problem.from_excel(_book(tmp_path, problem=problem)),
        "sheet problem, row 5 (budget), column 2026: cell C5 holds a formula without a computed value",
    )


def test_formula_with_computed_value_reads_the_value(tmp_path: Path) -> None:
    offers = copy.deepcopy(OFFERS_SHEET)
    offers[1][4] = "=100+23"
    path = _book(tmp_path, offers=offers)
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace("<f>100+23</f><v />", "<f>100+23</f><v>123</v>"))
    assert Problem.from_excel(path).offers[0].max_units == (123.0, 123.0)
    # a formula whose text result is empty (t="str", <v></v>) is an empty cell: the field is absent
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace('<c r="E2"', '<c t="str" r="E2"'))
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace("<v>123</v>", "<v></v>"))
    assert Problem.from_excel(path).offers[0].max_units is None


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED = (
    f'<sst xmlns="{MAIN}">'
    + "".join(f"<si><t>{t}</t></si>" for t in ["name", "vendor", "unit_cost", "compute", "max_units"])
    + '<si><r><t>tp</t></r><r><rPr><b/></rPr><t>u</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>'
    + "<si><t>google</t></si></sst>"
)
EXCEL_OFFERS = (
    f'<worksheet xmlns="{MAIN}"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
    '<c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>'
    '<row r="2"><c t="s"><v>5</v></c><c t="s"><v>6</v></c><c><f>20000+10000</f><v>30000</v></c><c><v>2.3</v></c>'
    '<c t="str"><f>""</f><v></v></c></row>'
    '<row><c r="A3" t="inlineStr"><is><t>gb</t><r><t>200</t></r></is></c>'
    '<c r="B3" t="str"><f>"nv"&amp;"idia"</f><v>nvidia</v></c><c r="C3"><v>40000</v></c><c r="D3"><v>2.5</v></c>'
    '<c r="E3" t="e"><f>NA()</f><v>#N/A</v></c></row>'
    "</sheetData></worksheet>"
)


def test_a_workbook_as_a_spreadsheet_saves_it(tmp_path: Path) -> None:
    """Shared strings (rich text runs, a phonetic guide), formulas with their computed values, cells
    and rows without references: what Excel and LibreOffice write, unlike openpyxl."""
    path = _book(tmp_path)
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: EXCEL_OFFERS)
    share = '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    share += 'spreadsheetml.sharedStrings+xml"/></Types>'
    _patch(path, "[Content_Types].xml", lambda xml: xml.replace("</Types>", share))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", SHARED)
    _error(
        lambda: Problem.from_excel(path), "row 3 (offer 'gb200'), column max_units: cell E3 holds the Excel error #N/A"
    )
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace('t="e"><f>NA()</f><v>#N/A</v>', "><v>7</v>"))
    problem = Problem.from_excel(path)
    assert [(o.name, o.vendor, o.unit_cost, o.compute) for o in problem.offers] == [
        ("tpu", "google", (30000.0, 30000.0), 2.3),
        ("gb200", "nvidia", (40000.0, 40000.0), 2.5),
    ]
    assert problem.offers[0].max_units is None and problem.offers[1].max_units == (7.0, 7.0)


@pytest.mark.parametrize("code", ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_error_values_name_the_cell(tmp_path: Path, code: str) -> None:
    offers = copy.deepcopy(OFFERS_SHEET)
    offers[2][3] = code
    _error(
        lambda: Problem.from_excel(_book(tmp_path, offers=offers)),
        f"sheet offers, row 3 (offer 'gb200'), column compute: cell D3 holds the Excel error {code}",
    )
    problem = copy.deepcopy(PROBLEM_SHEET)
    problem[3][1] = code  # pue: used to become the default 1.0
    _error(
        lambda: Problem.from_excel(_book(tmp_path, problem=problem)),
        f"sheet problem, row 4 (pue), column value: cell B4 holds the Excel error {code}",
    )


def test_error_in_a_header_or_field_name_names_the_cell(tmp_path: Path) -> None:
    offers = copy.deepcopy(OFFERS_SHEET)
    offers[0][4] = "#REF!"
    _error(lambda: Problem.from_excel(_book(tmp_path, offers=offers)), "sheet offers, column 5: the header, cell E1")
    problem = copy.deepcopy(PROBLEM_SHEET)
    problem[3][0] = "=A1"
    _error(lambda: Problem.from_excel(_book(tmp_path, problem=problem)), "sheet problem, row 4, column field: cell A4")


@pytest.mark.parametrize("text", ["nan", "NaN", "NA", "N/A", "null", "None", "inf", "-inf", "#N/A text"])
def test_nan_like_text_is_never_a_silent_default(tmp_path: Path, text: str) -> None:
    problem = copy.deepcopy(PROBLEM_SHEET)
    problem[3][1] = text
    _error(lambda: Problem.from_excel(_book(tmp_path, problem=problem)), "row 4 (pue), column value", "is not a")
    problem_file = _folder(tmp_path, csv_text=OFFERS_CSV.replace("2.3,4", f"2.3,{text}"))
    _error(lambda: Problem.from_file(problem_file), "row 2 (offer 'tpu'), column lot_size", "is not a whole number")


def test_nan_number_cell_and_damaged_cells(tmp_path: Path) -> None:
    path = _book(tmp_path)
    _patch(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<v>1.2</v>", "<v>NaN</v>"))
    _error(lambda: Problem.from_excel(path), "row 4 (pue), column value: cell B4 holds a value that cannot be read")
    path = _book(tmp_path)
    _patch(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<v>1.2</v>", "<v>1e999</v>"))
    _error(lambda: Problem.from_excel(path), "row 4 (pue), column value: inf is not a finite number")


def test_names_spreadsheets_read_as_missing_are_names(tmp_path: Path) -> None:
    """pandas used to read the text ``NA``, ``null`` or ``nan`` in a workbook as an empty cell."""
    raw = _simple()
    raw["offers"][0]["name"], raw["offers"][1]["name"], raw["name"] = "NA", "null", "nan"
    problem = Problem.from_dict(raw)
    assert Problem.from_excel(problem.to_excel(tmp_path / "p.xlsx")) == problem


# --------------------------------------------------------------------------- outputs are never formulas

FORMULA_NAMES = ["=1+2", '=HYPERLINK("http://x","y")', "@SUM(A1)", "+49 30", "-x", "'quoted", "#N/A"]


@pytest.fixture(scope="module")
def hostile_result() -> procure.Result:
    raw = _simple()
    raw["offers"][0]["name"], raw["offers"][1]["name"] = "=1+2", "@SUM(A1)"
    raw["offers"][0]["vendor"], raw["offers"][1]["vendor"] = "+cmd", '-x,"y"'
    result = procure.solve(raw, time_limit=30)
    assert result.has_plan
    return result


def test_result_to_excel_writes_text_never_formulas(tmp_path: Path, hostile_result: procure.Result) -> None:
    path = tmp_path / "plan.xlsx"
    hostile_result.to_excel(path)
    book = openpyxl.load_workbook(path)
    texts = {c.value: c.data_type for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value}
    for name in ("=1+2", "@SUM(A1)", "+cmd", '-x,"y"'):
        assert texts.get(name) == "s", (name, texts.get(name))
    assert not any(t == "f" for t in texts.values())


def test_result_to_csv_quotes_every_field_and_neutralises_formulas(hostile_result: procure.Result) -> None:
    text = hostile_result.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == len(hostile_result.by_site) + 1 == text.count("\n")
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())
    cells = {cell for row in rows for cell in row}
    assert {"'=1+2", "'@SUM(A1)", "'+cmd", '\'-x,"y"'} <= cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert not any(cell.startswith("-") and not re.fullmatch(r"-[0-9.e+-]+", cell) for cell in cells)


@pytest.mark.parametrize(
    ("value", "written"),
    [("=x", "'=x"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("x=", "x=")],
)
def test_csv_text_rule(value: str, written: str) -> None:
    assert csv_text(value) == written
    assert csv_text(-1.5) == -1.5  # numbers stay numbers


def test_csv_with_a_carriage_return_stays_one_row() -> None:
    frame = pd.DataFrame({"offer": ["a\rb", "c"], "units": [1, 2]})
    text = frame.map(csv_text).to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["offer", "units"], ["a\rb", "1"], ["c", "2"]]


NAME_TEXT = st.text(
    alphabet=st.sampled_from(list("=+-@'\"#,;:[]{}()./\\ _%&<>*?!|~^$") + list("aZ09éß中🙂")), min_size=1, max_size=12
).filter(lambda s: bool(s.strip()) and s not in ("nominal",))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAME_TEXT, min_size=6, max_size=6, unique=True))
def test_problem_to_excel_round_trip_with_formula_like_names(tmp_path: Path, names: list[str]) -> None:
    raw = _simple()
    raw["name"] = names[0]
    raw["offers"][0]["name"], raw["offers"][1]["name"] = names[1], names[2]
    raw["offers"][0]["vendor"], raw["offers"][1]["vendor"] = names[3], names[4]
    raw["sites"] = [{"name": names[5], "vendors": [names[3], names[4]]}]
    raw["offers"][0]["installed"] = {names[5]: 8}
    raw["vendors"] = [{"name": names[3], "onboarding_cost": 1e6}]
    raw["risk"] = {"scenarios": [{"name": names[1], "probability": 0.1, "availability": {names[4]: 0.5}}]}
    problem = Problem.from_dict(raw)
    path = problem.to_excel(tmp_path / "round.xlsx")
    assert Problem.from_excel(path) == problem
    book = openpyxl.load_workbook(path)
    assert not any(c.data_type == "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize(
    "char", ["\x00", "\x0b", "\x1b", "\r", "\n", "\t", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe"]
)
def test_names_with_control_characters_or_surrogates_are_refused(char: str) -> None:
    raw = _simple()
    raw["offers"][1]["vendor"] = f"nv{char}idia"
    error = _error(lambda: Problem.from_dict(raw), "offers[1].vendor:", f"U+{ord(char):04X}, at position 2")
    assert error.path == "offers[1].vendor"
    frame = pd.DataFrame(_simple()["offers"])
    frame.loc[0, "name"] = f"t{char}pu"
    _error(lambda: Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100), "offers[0].name")


def test_too_long_text_is_an_error_and_no_file_is_left(tmp_path: Path) -> None:
    raw = _simple()
    good = Problem.from_dict(raw)
    path = good.to_excel(tmp_path / "p.xlsx")
    before = path.read_bytes()
    raw["offers"][1]["name"] = "x" * 40_000
    long = Problem.from_dict(raw)
    error = _error(
        lambda: long.to_excel(path),
        "p.xlsx, sheet offers, cell A3 (column 'name'): offers[1].name:",
        "40,000 characters",
    )
    assert error.path == "offers[1].name"
    assert path.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.xlsx"]  # no partial or temporary file
    _error(lambda: long.to_excel(tmp_path / "new.xlsx"), "40,000 characters")
    assert not (tmp_path / "new.xlsx").exists()


def test_result_to_excel_refuses_too_long_text(tmp_path: Path) -> None:
    raw = _simple()
    raw["offers"][1]["name"] = "x" * 33_000
    result = procure.solve(raw, time_limit=30)
    _error(lambda: result.to_excel(tmp_path / "r.xlsx"), "characters long, more than the 32,767 an Excel cell holds")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- references are confined


def test_reference_outside_the_folder_is_refused_without_reading_it(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.csv").write_text("SECRET-TOKEN,hunter2\n", encoding="utf-8")
    inside = tmp_path / "plan"
    inside.mkdir()
    for ref in ['"../secret/x.csv"', json.dumps(str(outside / "x.csv")), '"sub/../../secret/x.csv"']:
        problem = _folder(inside, offers=ref)
        error = _error(
            lambda p=problem: Problem.from_file(p), "problem.toml: offers = ", "outside the folder of problem.toml"
        )
        assert "SECRET" not in str(error) and "hunter2" not in str(error)
        assert error.path == "offers"
    (outside / "x.csv").write_text(OFFERS_CSV, encoding="utf-8")
    problem = _folder(inside, offers='"../secret/x.csv"')
    assert len(Problem.from_file(problem, allow_paths=[outside]).offers) == 2
    assert len(Problem.from_file(problem, allow_paths=[str(outside / "x.csv")]).offers) == 2
    assert len(procure.problem.format.as_problem(problem, allow_paths=[outside]).offers) == 2


@posix
def test_symbolic_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text(OFFERS_CSV, encoding="utf-8")
    folder = tmp_path / "plan"
    folder.mkdir()
    problem = _folder(folder)
    (folder / "offers.csv").unlink()
    (folder / "offers.csv").symlink_to(tmp_path / "outside.csv")
    _error(lambda: Problem.from_file(problem), "outside the folder of problem.toml")
    (folder / "offers.csv").unlink()
    (folder / "offers.csv").symlink_to("/dev/zero")  # used to read until memory ran out
    _error(lambda: _in_time(lambda: Problem.from_file(problem)), "outside the folder")
    _error(lambda: _in_time(lambda: Problem.from_file(problem, allow_paths=["/dev"])), "is a character device")
    (folder / "offers.csv").unlink()
    (folder / "real.csv").write_text(OFFERS_CSV, encoding="utf-8")
    (folder / "offers.csv").symlink_to(folder / "real.csv")  # a link inside the folder is fine
    assert len(Problem.from_file(problem).offers) == 2


@posix
def test_named_pipes_never_block(tmp_path: Path) -> None:
    problem = _folder(tmp_path)
    (tmp_path / "offers.csv").unlink()
    os.mkfifo(tmp_path / "offers.csv")
    _error(lambda: _in_time(lambda: Problem.from_file(problem)), "offers.csv: is a named pipe (FIFO)")
    os.mkfifo(tmp_path / "fifo.toml")
    _error(lambda: _in_time(lambda: Problem.from_file(tmp_path / "fifo.toml")), "fifo.toml: is a named pipe (FIFO)")
    os.mkfifo(tmp_path / "fifo.xlsx")
    _error(lambda: _in_time(lambda: Problem.from_excel(tmp_path / "fifo.xlsx")), "is a named pipe (FIFO)")


def test_a_directory_is_not_a_table(tmp_path: Path) -> None:
    problem = _folder(tmp_path, offers='"dir.csv"')
    (tmp_path / "dir.csv").mkdir()
    _error(lambda: Problem.from_file(problem), "dir.csv: is a directory, not a regular file")


def test_file_sizes_are_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _folder(tmp_path)
    size = len(OFFERS_CSV.encode())
    monkeypatch.setattr(procure.problem.io, "MAX_FILE_BYTES", size - 1)
    _error(lambda: Problem.from_file(problem), f"offers.csv: is {size} bytes, more than the {size - 1} (")
    monkeypatch.setattr(procure.problem.io, "MAX_FILE_BYTES", 20)
    _error(lambda: Problem.from_file(problem), "problem.toml: is ", "bytes, more than the 20 (")
    _error(lambda: Problem.from_excel(_book(tmp_path)), "book.xlsx: is ", "bytes, more than the 20 (")


def test_table_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procure.problem.table_input, "MAX_ROWS", 3)
    rows = "".join(f"o{k},v,1,1,1\n" for k in range(4))
    problem = _folder(tmp_path, csv_text="name,vendor,unit_cost,compute,lot_size\n" + rows)
    _error(lambda: Problem.from_file(problem), "offers.csv: has more than the 3 rows of records a table may have")
    problem = _folder(tmp_path, csv_text="name,vendor,unit_cost,compute,lot_size\n" + rows[: rows.rindex("o3")])
    assert len(Problem.from_file(problem).offers) == 3
    frame = pd.DataFrame([{"name": f"o{k}", "vendor": "v", "unit_cost": 1, "compute": 1} for k in range(4)])
    _error(lambda: Problem.from_tables(offers=frame, periods=[2026], demand=1), "offers table: has more than the 3")
    assert len(Problem.from_tables(offers=frame[:3], periods=[2026], demand=1).offers) == 3
    offers = [OFFERS_SHEET[0], *[[f"o{k}", "v", 1, 1, 1] for k in range(4)]]
    _error(lambda: Problem.from_excel(_book(tmp_path, offers=offers)), "sheet offers, cell A5: is beyond the 3 rows")


def test_a_200000_row_csv_is_refused_quickly(tmp_path: Path) -> None:
    body = "".join(f"o{k},v{k % 5},{1000 + k},1.0,1\n" for k in range(200_000))
    problem = _folder(tmp_path, csv_text="name,vendor,unit_cost,compute,lot_size\n" + body)
    started = time.perf_counter()
    _error(lambda: Problem.from_file(problem), "offers.csv: has more than the 100,000 rows of records a table may have")
    assert time.perf_counter() - started < 10


def test_sheet_dimensions_are_checked_before_allocating(tmp_path: Path) -> None:
    """A 6 KB workbook with one cell at XFD200000 used to take more than 4 GB."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "offers"
    sheet["A1"] = "name"
    sheet["XFD200000"] = 1
    book.save(tmp_path / "bomb.xlsx")
    assert (tmp_path / "bomb.xlsx").stat().st_size < 10_000
    problem = _folder(tmp_path, offers='"bomb.xlsx"')
    started = time.perf_counter()
    _error(lambda: Problem.from_file(problem), "bomb.xlsx, sheet offers, cell XFD200000: is beyond the 100,000 rows")
    del sheet["XFD200000"]
    sheet["XFD60000"] = 1  # within the rows, but 60,000 × 16,384 cells
    book.save(tmp_path / "bomb.xlsx")
    _error(
        lambda: Problem.from_file(problem), "sheet offers: spans 60,000 rows × 16,384 columns, more than the 4,000,000"
    )
    assert time.perf_counter() - started < 10


def test_unzipped_size_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _book(tmp_path)
    monkeypatch.setattr(procure.problem.table_input, "MAX_UNZIPPED_BYTES", 1000)
    _error(lambda: Problem.from_excel(path), "book.xlsx: unzips into", "more than the 1,000 bytes")


# --------------------------------------------------------------------------- no other exception escapes


WHOLE = "is not a whole number"
INFINITE = [(math.inf, WHOLE), (-math.inf, WHOLE), ("inf", WHOLE), ("1e999", WHOLE), (np.float64("inf"), WHOLE)]
HUGE = [(1e300, "is too large"), (10**400, "is too large"), ("9" * 400, "is not a whole number")]


@pytest.mark.parametrize("column", ["lot_size", "lifetime", "min_order"])
@pytest.mark.parametrize(("value", "why"), INFINITE + HUGE)
def test_infinite_whole_numbers(column: str, value: Any, why: str, tmp_path: Path) -> None:
    """Used to escape as OverflowError (``int(inf)``)."""
    frame = pd.DataFrame(_simple()["offers"]).astype(object)
    frame[column] = pd.Series([value, 1], dtype=object)
    _error(lambda: Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100), f"column {column}", why)
    problem = _folder(tmp_path, csv_text=frame.to_csv(index=False))
    _error(lambda: Problem.from_file(problem), f"row 2 (offer 'tpu'), column {column}")


def test_nan_in_a_dataframe_is_an_empty_cell() -> None:
    """As pandas writes a missing value (documented): the field's default applies."""
    frame = pd.DataFrame(_simple()["offers"]).astype(object)
    frame["lifetime"] = pd.Series([math.nan, 3], dtype=object)
    problem = Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100)
    assert problem.offers[0].lifetime is None and problem.offers[1].lifetime == 3


def test_nested_json_in_a_cell(tmp_path: Path) -> None:
    frame = pd.DataFrame(_simple()["offers"]).astype(object)
    for cell, why in [
        ("[" * 100_000 + "]" * 100_000, "is JSON nested too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "is JSON nested too deeply"),
        ("[" + "9" * 5000 + "]", "integer too long"),
        ('{"training": 0.5, "training": 0.9}', "key 'training' is given twice"),
        ("{", "is not valid JSON"),
    ]:
        frame["efficiency"] = [cell, None]
        _error(lambda: Problem.from_tables(offers=frame, periods=[2026], demand=1), "column efficiency", why)
    frame["efficiency"] = ['{"training": NaN}', None]
    raw = {"periods": [2026], "workloads": {"training": 1}}
    _error(lambda: Problem.from_tables(offers=frame, **raw), "offers[0].efficiency.training", "not finite")


def test_malformed_workbooks(tmp_path: Path) -> None:
    path = _book(tmp_path)
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml[: len(xml) // 2])
    _error(
        lambda: Problem.from_excel(path),
        "book.xlsx, sheet offers: cannot be read: its XML is not well formed (unclosed token",
    )
    path = _book(tmp_path)
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace('r="D3"', 'r="?!"'))
    _error(lambda: Problem.from_excel(path), "sheet offers: cannot be read: a cell reference ('?!') is not valid")
    path = _book(tmp_path)
    _patch(path, "xl/workbook.xml", lambda xml: xml.replace("<sheets>", "<sheets><oops"))
    _error(lambda: Problem.from_excel(path), "book.xlsx: cannot be read as an Excel workbook")
    (tmp_path / "text.xlsx").write_text("name,vendor\n", encoding="utf-8")
    _error(lambda: Problem.from_excel(tmp_path / "text.xlsx"), "text.xlsx: cannot be read as an Excel workbook")


def test_csv_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "offers.csv").write_bytes(b"name,vendor\n\xff\xfe,x\n")
    problem = tmp_path / "problem.toml"
    problem.write_text('periods = [2026]\ndemand = 1\noffers = "offers.csv"\n', encoding="utf-8")
    _error(lambda: Problem.from_file(problem), "offers.csv: line 2: byte 0xff is not UTF-8 text")
    (tmp_path / "offers.csv").write_text("name,vendor\n" + "x" * 200_000 + ",v\n", encoding="utf-8")
    _error(lambda: Problem.from_file(problem), "offers.csv, row 2: cannot be read as CSV (a cell is too long)")
    (tmp_path / "offers.csv").write_text("\n\n", encoding="utf-8")
    _error(lambda: Problem.from_file(problem), "offers.csv: the file is empty")
    (tmp_path / "offers.csv").write_text(OFFERS_CSV.replace("tpu", "t\x00pu"), encoding="utf-8")
    _error(lambda: Problem.from_file(problem), "offers.csv, row 2 (offer 't\\x00pu'), column name", "U+0000")


# --------------------------------------------------------------------------- nothing is accepted silently


def test_json_key_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"periods": [2026], "demand": 1, "demand": 2, "offers": []}', encoding="utf-8")
    error = _error(lambda: Problem.from_file(path), "p.json: key 'demand' is given twice")
    assert error.value == "demand"
    text = json.dumps(_simple())[:-1] + ', "pue": 1.5}'
    path.write_text(text, encoding="utf-8")
    _error(lambda: Problem.from_file(path), "p.json: key 'pue' is given twice")
    nested = json.dumps(_simple()).replace('"lot_size": 8', '"lot_size": 8, "lot_size": 16')
    path.write_text(nested, encoding="utf-8")
    error = _error(lambda: Problem.from_file(path), "p.json: offers[1]: key 'lot_size' is given twice")
    assert error.path == "offers[1]"


@pytest.mark.parametrize("value", [2.5 + 7j, np.complex128(1 + 0j), b"12", [1, 2], {"a": 1}, True, np.bool_(False)])
def test_non_numbers_in_a_dataframe(value: Any) -> None:
    frame = pd.DataFrame(_simple()["offers"]).astype(object)
    frame["compute"] = [value, 2.5]
    _error(
        lambda: Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100), "column compute", "not a number"
    )
    frame["compute"] = 2.5
    frame["vendor"] = [value, "v"]
    _error(lambda: Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100), "column vendor", "is not text")


# --------------------------------------------------------------------------- demand trees in linear time


def test_tree_paths_are_made_in_linear_time() -> None:
    raw = _simple()
    del raw["demand"]
    n = 1024
    raw["demand_scenarios"] = [
        {"name": f"s{k}", "probability": 1 / n, "demand": {"2026": 100, "2027": 250 + k}} for k in range(n)
    ]
    problem = Problem.from_dict(raw)
    started = time.perf_counter()
    tree = scenario_tree(problem)
    assert time.perf_counter() - started < 5  # 39 s when every path's problem was rebuilt from to_dict()
    assert tree.n_paths == n and tree.problems[7].demand == (100.0, 257.0)


def test_a_path_alone_equals_the_problem_rebuilt_with_its_demand() -> None:
    raw = _simple()
    del raw["demand"]
    raw["workloads"] = None
    raw["offers"][0]["efficiency"] = {"training": 0.8}
    raw["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "workloads": {"training": 50, "inference": {"2026": 10, "2027": 20}}},
        {"name": "high", "probability": 0.5, "workloads": {"inference": 30, "training": {"2026": 60, "2027": 90}}},
    ]
    del raw["workloads"]
    problem = Problem.from_dict(raw)
    for k, scenario in enumerate(problem.demand_scenarios):
        data = problem.to_dict()
        data.pop("demand_scenarios")
        assert scenario.workloads is not None
        data["workloads"] = {w: dict(zip(problem.periods, v)) for w, v in scenario.workloads.items()}
        assert _alone(problem, k) == Problem.from_dict(data)
        assert _alone(problem, k).to_dict() == Problem.from_dict(data).to_dict()
    raw = _simple()
    raw["demand_scenarios"] = [{"name": "only", "probability": 1.0, "demand": {"2026": 7, "2027": 9}}]
    del raw["demand"]
    problem = Problem.from_dict(raw)
    data = problem.to_dict()
    data.pop("demand_scenarios")
    data["demand"] = {"2026": 7, "2027": 9}
    assert _alone(problem, 0) == Problem.from_dict(data)


# --------------------------------------------------------------------------- fuzzing the table readers

HEADERS = [
    "name",
    "vendor",
    "unit_cost",
    "unit_cost[2026]",
    "unit_cost[2027]",
    "compute",
    "lot_size",
    "min_order",
    "max_units",
    "lifetime",
    "efficiency",
    "installed",
    "price_tiers[0].from_units",
    "price_tiers[0].unit_cost",
    "discount",
    "unit_cst",
    "",
]
HOSTILE_TEXT = [
    "=0",
    "=1/0",
    "@SUM(A1)",
    "+1",
    "-5",
    "#N/A",
    "#DIV/0!",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "2.5+7j",
    "",
    " ",
    "\x00",
    "a\x1bb",
    "\r\n",
    "\ud800",
    "x" * 40_000,
    "[" * 5000 + "]" * 5000,
    '{"a": 1, "a": 2}',
    "[" + "9" * 5000 + "]",
    '{"training": 1}',
    "google, nvidia",
    "64",
    "64.5",
    "1_000",
    "١٢٣",
]
CELLS = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=8),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([None, True, False, 10**400]),
)
OBJECTS = st.one_of(CELLS, st.sampled_from([2.5 + 7j, np.complex128(1j), b"bytes", [1, 2], {"a": 1}, pd.NA, pd.NaT]))


BASE_HEADERS = ["name", "vendor", "unit_cost", "compute"]
BASE_ROWS = [["tpu", "google", 30000, 2.3], ["gb200", "nvidia", 40000, 2.5]]


@st.composite
def _table(draw: st.DrawFn, cells: st.SearchStrategy[Any]) -> tuple[list[str], list[list[Any]]]:
    """A table of headers and rows: either any headers and cells, or two valid offers with a few
    columns added and a few cells replaced (to reach validation and the cells it traces)."""
    if draw(st.booleans()):
        headers = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
        rows = draw(st.lists(st.lists(cells, min_size=len(headers), max_size=len(headers)), max_size=3))
        return headers, rows
    extra = draw(st.lists(st.sampled_from([h for h in HEADERS if h not in BASE_HEADERS]), max_size=3, unique=True))
    headers = BASE_HEADERS + extra
    rows = [row + [draw(cells) for _ in extra] for row in copy.deepcopy(BASE_ROWS)]
    for _ in range(draw(st.integers(0, 2))):
        rows[draw(st.integers(0, 1))][draw(st.integers(0, len(headers) - 1))] = draw(cells)
    return headers, rows


def _tables(cells: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[list[str], list[list[Any]]]]:
    return _table(cells)


def _check(call: Callable[[], Any], where: str) -> None:
    """A valid problem, or a ProblemError naming the table (or the field)."""
    try:
        problem = call()
    except ProblemError as error:
        message = str(error)
        assert message and (where in message or error.path), message
        assert len(message) < 2000, message
    else:
        assert isinstance(problem, Problem)


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(table=_tables(CELLS))
def test_fuzz_csv(tmp_path_factory: pytest.TempPathFactory, table: tuple[list[str], list[list[Any]]]) -> None:
    headers, rows = table
    out = io.StringIO()
    writer = csv.writer(out)
    for row in [headers, *rows]:
        writer.writerow(["" if v is None else v for v in row])
    folder = tmp_path_factory.mktemp("csv")
    (folder / "offers.csv").write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    problem = folder / "problem.toml"
    problem.write_text('periods = [2026, 2027]\ndemand = 100\noffers = "offers.csv"\n', encoding="utf-8")
    _check(lambda: Problem.from_file(problem), "offers.csv")


@FUZZ
@given(table=_tables(CELLS), setting=CELLS)
def test_fuzz_excel(
    tmp_path_factory: pytest.TempPathFactory, table: tuple[list[str], list[list[Any]]], setting: Any
) -> None:
    headers, rows = table

    def writable(v: Any) -> Any:  # what openpyxl can put in a cell (XML holds no control characters)
        if isinstance(v, str):
            return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", "?", v)[:32_767]
        return str(v) if isinstance(v, int) and abs(v) >= 2**53 else v  # as write_workbook writes them

    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    problem = [["field", "value"], ["periods", "2026, 2027"], ["demand", 100], ["pue", writable(setting)]]
    _workbook(path, {"problem": problem, "offers": [[writable(v) for v in r] for r in [headers, *rows]]})
    _check(lambda: Problem.from_excel(path), "book.xlsx")


@FUZZ
@given(table=_tables(OBJECTS))
def test_fuzz_dataframe(table: tuple[list[str], list[list[Any]]]) -> None:
    headers, rows = table
    frame = pd.DataFrame(rows, columns=headers, dtype=object) if rows else pd.DataFrame(columns=headers)
    _check(lambda: Problem.from_tables(offers=frame, periods=[2026, 2027], demand=100), "offers table")


def test_a_file_name_with_a_nul_byte_is_named() -> None:
    with pytest.raises(ProblemError, match=r"is not a valid file name"):
        Problem.from_file("plan\0.toml")


@pytest.mark.parametrize("key", ["name", "probability"])
def test_a_null_scenario_field_is_required(small: dict[str, Any], key: str) -> None:
    small["risk"]["scenarios"] = [{"name": "cut", "probability": 0.1, "availability": {"google": 0.5}}]
    small["risk"]["scenarios"][0][key] = None
    with pytest.raises(ProblemError, match=rf"risk\.scenarios\[0\]\.{key}: is required"):
        Problem.from_dict(small)
