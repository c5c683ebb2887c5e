"""Write docs/api.md from procure's docstrings.

Run from the repository root::

    python docs/gen_api.py            # rewrites docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md is out of date

Covers everything in ``procure.__all__``, the public methods and properties of the main
classes, the plot accessors (``result.plot``), ``procure.problem.table_input.write_starter``, ``procure.fmt``, the
distributions of ``procure.sample`` and the command line's entry point.  Docstrings are
numpydoc; sections become bold headings and parameter lists become Markdown lists, the
rest is kept as written.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"

# classes whose public methods and properties are listed one by one
DETAILED = ["Problem", "Result", "TreeResult", "Sweep", "Frontier", "Diagnosis", "Sensitivity", "Planner"]
SECTIONS = {
    "Parameters",
    "Other Parameters",
    "Returns",
    "Yields",
    "Raises",
    "Warns",
    "Attributes",
    "See Also",
    "Notes",
    "Examples",
    "References",
}
LISTED = {"Parameters", "Other Parameters", "Returns", "Yields", "Raises", "Warns", "Attributes"}


def _annotation(a: Any) -> str:
    if a is inspect.Parameter.empty:
        return ""
    return a if isinstance(a, str) else inspect.formatannotation(a)


def _default(d: Any) -> str:
    if d is inspect.Parameter.empty:
        return ""
    text = repr(d)
    # no memory addresses: the page must not change from one run to the next
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def signature(name: str, obj: Any) -> str:
    """``name(a: int, *, b: str = 'x') -> T``, annotations as written in the source."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return name
    parts: list[str] = []
    star_done = False
    for p in sig.parameters.values():
        if p.name == "self" or p.name.startswith("_"):  # private fields of result classes
            continue
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind is p.VAR_POSITIONAL:
            star_done = True
            text = "*" + p.name
        elif p.kind is p.VAR_KEYWORD:
            text = "**" + p.name
        else:
            text = p.name
        ann = _annotation(p.annotation)
        if ann:
            text += ": " + ann
        default = _default(p.default)
        if default:
            text += (" = " if ann else "=") + default
        parts.append(text)
    ret = _annotation(sig.return_annotation)
    one_line = f"{name}({', '.join(parts)})" + (f" -> {ret}" if ret else "")
    if len(one_line) <= 100:
        return one_line
    inner = "".join(f"\n    {p}," for p in parts)
    return f"{name}({inner}\n)" + (f" -> {ret}" if ret else "")


def _inline(text: str) -> str:
    """RST inline code (``x``) as Markdown code (`x`)."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _paragraphs(lines: list[str]) -> Iterator[list[str]]:
    block: list[str] = []
    for line in lines:
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _free_text(lines: list[str]) -> list[str]:
    """Prose as Markdown: indented blocks and doctests become fenced code."""
    out: list[str] = []
    i = 0
    literal_next = False
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            out.append("")
            i += 1
            continue
        if line.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += ["```python", *block, "```"]
            continue
        if line.startswith(" "):
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            width = min(len(b) - len(b.lstrip()) for b in block if b.strip())
            lang = "python" if literal_next else "text"
            out += [f"```{lang}", *(b[width:] for b in block), "```", ""]
            literal_next = False
            continue
        text = line
        literal_next = text.rstrip().endswith("::")
        if literal_next:
            text = text.rstrip()[:-1]  # "as follows::" -> "as follows:"
            if text.strip() == ":":
                text = ""
        out.append(_inline(text))
        i += 1
    return out


def _is_prose(line: str) -> bool:
    """A line at the margin of a listed section that is a sentence, not an entry's head."""
    text = line.strip()
    if " : " in text or re.fullmatch(r"[\w, ]+", text):
        return False
    return len(text) > 50 or "`" in text or "(" in text or text.endswith((".", ":", ";"))


def _listed(lines: list[str]) -> list[str]:
    """``name : type`` entries with indented descriptions as a Markdown list (prose after them as is)."""
    out: list[str] = []
    entries: list[tuple[str, list[str]]] = []
    rest: list[str] = []
    for i, line in enumerate(lines):
        if line.strip() and not line.startswith(" "):
            if _is_prose(line):
                rest = lines[i:]
                break
            entries.append((line.strip(), []))
        elif entries:
            entries[-1][1].append(line[4:] if line.startswith("    ") else line.strip())
    for head, body in entries:
        if " : " in head:
            names, kind = head.split(" : ", 1)
            term = ", ".join(f"`{n.strip()}`" for n in names.split(",")) + f" ({_inline(kind)})"
        else:
            term = ", ".join(f"`{n.strip()}`" for n in head.split(","))
        text = [" ".join(p.strip() for p in para) for para in _paragraphs(body)]
        first = f"- {term}" + (f": {_inline(text[0])}" if text else "")
        out.append(first)
        out += [f"\n  {_inline(t)}" for t in text[1:]]
    if rest:
        out += ["", *_free_text(rest)]
    return out


def docstring(obj: Any) -> list[str]:
    doc = inspect.getdoc(obj)
    if not doc:
        return ["*(no docstring)*"]
    lines = doc.splitlines()
    out: list[str] = []
    section = ""
    body: list[str] = []

    def flush() -> None:
        if section in LISTED:
            out.extend(_listed(body))
        else:
            out.extend(_free_text(body))

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() in SECTIONS and nxt.strip() and set(nxt.strip()) == {"-"}:
            flush()
            section, body = line.strip(), []
            out += ["", f"**{section}**", ""]
            i += 2
            continue
        body.append(line)
        i += 1
    flush()
    # inline code that runs over a line break, outside fenced blocks
    parts = re.split(r"(^```.*?^```$)", "\n".join(out), flags=re.M | re.S)
    text = "".join(p if p.startswith("```") else re.sub(r"``(.+?)``", r"`\1`", p, flags=re.S) for p in parts)
    # no runs of blank lines, none at the ends
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text.splitlines()


def _instance(cls_name: str) -> str:
    """``TreeResult`` -> ``tree_result``: how examples name an instance."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", cls_name).lower()


def entry(title: str, name: str, obj: Any, level: int = 3) -> list[str]:
    return [f"{'#' * level} {title}", "", "```python", signature(name, obj), "```", "", *docstring(obj), ""]


def _members(cls: type) -> Iterator[tuple[str, str, Any]]:
    """Public methods and properties defined by the class or its procure bases."""
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("procure"):
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_") or name in seen or name in fields:
                continue
            seen.add(name)
            if isinstance(raw, property):
                yield name, "property", raw
            elif isinstance(raw, (staticmethod, classmethod)):
                yield name, "method", getattr(cls, name)
            elif inspect.isfunction(raw):
                yield name, "method", raw


def class_page(name: str, cls: type, qual: str) -> list[str]:
    out = entry(f"class `{qual}`", qual, cls)
    members = sorted(_members(cls), key=lambda m: m[0])
    props = [m for m in members if m[1] == "property"]
    methods = [m for m in members if m[1] == "method"]
    if methods:
        out += ["**Methods**", ""]
        for mname, _, fn in methods:
            bound_to_class = isinstance(inspect.getattr_static(cls, mname), (classmethod, staticmethod))
            owner = name if bound_to_class else _instance(name)
            out += entry(f"`{name}.{mname}`", f"{owner}.{mname}", fn, level=4)
    if props:
        out += ["**Properties**", ""]
        for pname, _, prop in props:
            doc = " ".join(docstring(prop))
            out.append(f"- `{pname}`: {doc}")
        out.append("")
    return out


def generate() -> str:
    sys.path.insert(0, str(ROOT))
    import procure
    import procure.cli
    import procure.problem.table_input
    import procure.report.plot
    import procure.sweeps.sample as sample_module

    functions: list[str] = []
    classes: list[str] = []
    for name in procure.__all__:
        obj = getattr(procure, name)
        if inspect.ismodule(obj):  # procure.fmt: a section of its own
            continue
        (classes if inspect.isclass(obj) else functions).append(name)

    out = [
        "# API reference",
        "",
        "<!-- generated by docs/gen_api.py from procure's docstrings: do not edit by hand; "
        "run `python docs/gen_api.py` -->",
        "",
        "Everything here is importable as `procure.NAME` (see `procure.__all__`), except where a",
        "module is named. The [user guide](guide.md) shows how the pieces fit together; the",
        "[problem format](problem-format.md) describes every field of a problem.",
        "",
        "## Contents",
        "",
        "- Functions: " + ", ".join(f"[`{n}`](#procure{n.lower()})" for n in functions),
        "- Main classes: " + ", ".join(f"[`{n}`](#class-procure{n.lower()})" for n in DETAILED),
        "- Other classes: " + ", ".join(f"[`{n}`](#class-procure{n.lower()})" for n in classes if n not in DETAILED),
        "- [Plots](#plots-resultplot), [tables](#tables-procuretables), "
        "[number formatting](#number-formatting-procurefmt), "
        "[sampling distributions](#sampling-distributions-procuresample), "
        "[command line](#command-line-procurecli)",
        "",
        "## Functions",
        "",
    ]
    for name in functions:
        obj = getattr(procure, name)
        if name == "sample":  # an object whose call is the function, with the distributions as attributes
            out += entry(f"`procure.{name}`", f"procure.{name}", type(obj).__call__)
            out += [*docstring(obj), ""]
        else:
            out += entry(f"`procure.{name}`", f"procure.{name}", obj)

    out += ["## Main classes", ""]
    for name in DETAILED:
        out += class_page(name, getattr(procure, name), f"procure.{name}")

    out += ["## Other classes", ""]
    for name in classes:
        if name not in DETAILED:
            out += entry(f"class `procure.{name}`", f"procure.{name}", getattr(procure, name))

    plot_classes: list[tuple[str, Callable[..., Any]]] = [
        ("result.plot", procure.report.plot.ResultPlot),
        ("tree_result.plot", procure.report.plot.TreeResultPlot),
        ("sweep.plot", procure.report.plot.SweepPlot),
    ]
    out += ["## Plots (`result.plot`)", ""]
    for accessor, cls in plot_classes:
        out += [f"### `{accessor}`: `procure.report.plot.{cls.__name__}`", "", *docstring(cls), ""]
        for mname, _, fn in sorted(_members(cls), key=lambda m: m[0]):  # type: ignore[arg-type]
            out += entry(f"`{accessor}.{mname}`", f"{accessor}.{mname}", fn, level=4)
    out += entry(
        "`procure.report.plot.vendor_colors`", "procure.report.plot.vendor_colors", procure.report.plot.vendor_colors
    )

    out += ["## Tables (`procure.problem.table_input`)", ""]
    out += entry(
        "`procure.problem.table_input.write_starter`",
        "procure.problem.table_input.write_starter",
        procure.problem.table_input.write_starter,
    )

    out += ["## Number formatting (`procure.fmt`)", "", *docstring(procure.fmt), ""]
    for name in procure.base.fmt.__all__:
        obj = getattr(procure.fmt, name)
        if inspect.isfunction(obj):
            out += entry(f"`procure.fmt.{name}`", f"procure.fmt.{name}", obj)

    out += [
        "## Sampling distributions (`procure.sample`)",
        "",
        "Also attributes of `procure.sample` (`procure.sweeps.sample.lognormal`).",
        "",
    ]
    for name in ["lognormal", "uniform", "normal", "choice", "growth", "supply_cut"]:
        fn = getattr(sample_module, name)
        out += entry(f"`procure.sample.{name}`", f"procure.sample.{name}", fn)

    out += [
        "## Command line (`procure.cli`)",
        "",
        "The `procure` command (`python -m procure`) runs this function; see [cli.md](cli.md).",
        "",
    ]
    out += entry("`procure.cli.main`", "procure.cli.main", procure.cli.main)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print("docs/api.md is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
