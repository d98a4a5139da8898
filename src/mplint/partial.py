"""Partial parsing: blank out the definitions that no code using the API can reach, before LibCST
parses, keeping every line number and column of the code that is kept.

LibCST's parse is most of a check's cost, and in a large module one class or function often is
all that uses multiprocessing (a test module with one test that starts a process). Python's own
parser, a tenth of LibCST's cost, tells which definitions matter:

- *relevant* code names an API of the table (`apis.py`), or a name or attribute that relevant code
  binds (`ctx = get_context()`, `self.pool = Pool()`, `def make_pool(): return Pool()`);
- module-level code (main guards included) is always kept;
- from kept code, everything it reaches by name is kept: the functions and classes it names
  (calls, references, decorators, bases, targets handed to children), the methods it names as
  attributes in kept classes and the methods that set those attributes, the dunder methods of
  kept classes;
- and what the facts read back from elsewhere in the module: the callers of kept functions and
  classes (what a parameter receives), the readers of module-level names that kept code changes,
  and of the attributes that methods handed to a child set on `self` (what the parent sees).

The units are top-level statements and, inside top-level classes, each method. A unit that is not
kept is replaced by `pass` on its first line and empty lines after it, so the result parses and
everything else stays where it was. Where Python cannot parse the file (syntax newer than the
running Python), or it star-imports an API module, nothing is blanked. When unsure, keep.
`MPLINT_NO_PARTIAL=1` in the environment turns it off (to compare findings both ways). What
each unit reads, binds and calls is `mplint.ast_units`'s.
"""

from __future__ import annotations

import ast
import os
import re
import warnings

from mplint.ast_units import Reader, Unit, read_units, relevant_qualname

#: the environment variable that turns partial parsing off
DISABLE = "MPLINT_NO_PARTIAL"

_LINE_END = re.compile(r"(\r\n|\r|\n)")
_INDENT = re.compile(r"[ \t\f]*")


class _GiveUp(Exception):
    pass


def kept_units(tree: ast.Module, threads: bool) -> list[Unit]:
    """Every unit, with `_keep` marked on those to keep. Raises _GiveUp where it cannot tell."""
    reader = Reader(threads)
    units = read_units(tree, reader)
    if any(relevant_qualname(module, threads) for module in reader.star):
        raise _GiveUp  # names of the API bound without being named
    for unit in (*units, *reader.flows):
        reader.judge(unit)
    relevant = _relevant(units)
    return _reach(units, relevant)


def _relevant(units: list[Unit]) -> set[int]:
    """The units whose code uses the API, directly or through names that such code binds: the
    functions and classes it defines, and what its assignments give an API object to (module-level
    names, names declared `global`, attributes)."""
    api_names: set[str] = set()
    api_attrs: set[str] = set()
    relevant: set[int] = set()
    changed = True
    while changed:
        changed = False
        for unit in units:
            if id(unit) not in relevant:
                if not (unit.api or unit.loads & api_names or unit.attr_loads & api_attrs):
                    continue
                relevant.add(id(unit))
                changed = True
            names, attrs = _given_api(unit, api_names, api_attrs)
            if unit.kind in ("def", "class"):
                names.add(unit.name)
            elif unit.kind == "method":
                attrs.add(unit.name)
            if not (names <= api_names and attrs <= api_attrs):
                api_names |= names
                api_attrs |= attrs
                changed = True
    return relevant


def _given_api(unit: Unit, api_names: set[str], api_attrs: set[str]) -> tuple[set[str], set[str]]:
    """The module-level names and the attributes that the unit's assignments give an API object."""
    tainted: set[str] = set()
    attrs: set[str] = set()
    grew = True
    while grew:
        grew = False
        for names, targets, source in unit.flows:
            if names <= tainted and targets <= attrs:
                continue
            if source.api or source.loads & api_names or source.loads & tainted or source.attr_loads & api_attrs:
                tainted |= names
                attrs |= targets
                grew = True
    shared = unit.binds if unit.kind == "module" else unit.globals
    return (tainted & shared) | unit.defined, attrs


def _reach(units: list[Unit], relevant: set[int]) -> list[Unit]:
    kept: set[int] = set(relevant)
    kept.update(id(u) for u in units if u.kind == "module")
    headers = [u for u in units if u.kind == "class"]
    by_name: dict[str, list[Unit]] = {}
    for header in headers:
        by_name.setdefault(header.name, []).append(header)
    for header in headers:  # every method of a class that itself uses the API
        if id(header) in relevant:
            kept.update(id(m) for m in header.methods)
    handed_relevant = set().union(*(u.handed for u in units if id(u) in relevant))
    relevant_attr_loads = set().union(*(u.attr_loads for u in units if id(u) in relevant))
    called = _called(units, relevant, handed_relevant)
    called_names = {u.name for u in called if u.kind in ("def", "class")}
    called_methods = {u.name for u in called if u.kind == "method"}
    changed = True
    while changed:
        changed = False
        live = [u for u in units if id(u) in kept]
        for unit in live:
            if unit.cls is not None and id(unit.cls) not in kept:
                kept.add(id(unit.cls))
                changed = True
        live = [u for u in units if id(u) in kept]
        loads = set().union(*(u.loads for u in live))
        attr_loads = set().union(*(u.attr_loads for u in live))
        module_bound = set().union(*(u.binds for u in units if u.kind == "module"), *(u.globals for u in units))
        mutated = set().union(*(u.mutates for u in live)) & module_bound
        # methods handed to a child (and what they call on self) set attributes the parent reads
        handed = {m for h in headers if id(h) in kept for m in h.methods
                  if id(m) in kept and (m.name in handed_relevant or id(h) in relevant)}
        handed_methods = _self_reached(handed, headers, kept)
        seen_attrs = set().union(*(m.attr_stores for m in handed_methods))
        kept_lineage = _lineage(headers, kept, by_name)
        kept_classes = {h.name for h in headers if id(h) in kept}
        # `callgraph.may_be_overridden` asks whether another class defines a kept method's name
        defined_methods = {u.name for u in live if u.kind == "method"}.union(*(u.nested_methods for u in live))
        self_called = set().union(*(u.self_calls for u in live))
        shared_methods = {m for m in defined_methods if not _dunder(m) or m in self_called}
        for unit in units:
            if id(unit) in kept:
                continue
            why = _wanted(unit, loads, attr_loads, called_names, mutated, seen_attrs, called_methods,
                          kept_lineage, kept_classes, kept, relevant_attr_loads, shared_methods)
            if why:
                unit.why = why
                kept.add(id(unit))
                changed = True
    for unit in units:
        unit.keep = id(unit) in kept
    return units


def _wanted(unit, loads, attr_loads, called_names, mutated, seen_attrs, called_methods, lineage, classes, kept,
            relevant_attr_loads, shared_methods) -> str:
    """Why kept code needs `unit` ("" when it does not)."""
    if (unit.kind == "method" and unit.name in shared_methods) or unit.nested_methods & shared_methods:
        return "defines a method a kept class defines"
    if unit.kind in ("def", "class") and unit.name in loads:
        return "named"
    if unit.globals & loads:
        return "binds a global read"  # `global x; x = ...` in a function
    if unit.kind == "method" and id(unit.cls) in kept:
        if _dunder(unit.name):
            return "dunder"
        if unit.name in attr_loads or unit.name in unit.cls.loads:
            return "method named"
        if unit.attr_stores & relevant_attr_loads:
            return "sets an attribute read"  # what `self.x` is, for code that uses the API
    # the callers of what code using the API calls: what its parameters receive
    if unit.name_calls & called_names:
        return "calls"
    if unit.kind == "method" and unit.self_calls & called_methods and unit.cls.name in lineage:
        return "calls a method"
    if unit.loads & classes and unit.attr_loads & called_methods:
        return "calls an object's method"  # `obj = Cls(); obj.method(x)`
    if unit.loads & mutated:
        return "reads a changed name"  # a module-level name that kept code changes
    if unit.attr_loads & seen_attrs:
        return "reads an attribute a child sets"
    return ""


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _called(units: list[Unit], relevant: set[int], handed: set[str]) -> list[Unit]:
    """The units that code using the API calls (or hands over), directly or through others."""
    defs: dict[str, list[Unit]] = {}
    methods: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.kind in ("def", "class"):
            defs.setdefault(unit.name, []).append(unit)
        elif unit.kind == "method":
            methods.setdefault(unit.name, []).append(unit)
    found = [u for u in units if id(u) in relevant]
    seen = {id(u) for u in found}
    pending = list(found)
    for name in handed:
        pending.extend(methods.get(name, ()))
    while pending:
        unit = pending.pop()
        callees = [d for name in unit.name_calls for d in defs.get(name, ())]
        callees += [m for d in callees if d.kind == "class" for m in d.methods if m.name == "__init__"]
        callees += [m for name in unit.self_calls for m in methods.get(name, ())]
        for callee in [unit, *callees]:
            if id(callee) not in seen:
                seen.add(id(callee))
                found.append(callee)
                pending.append(callee)
    return found


def _self_reached(methods: set, headers: list, kept: set[int]) -> set:
    found = set(methods)
    pending = list(methods)
    by_name: dict[str, list] = {}
    for header in headers:
        for method in header.methods:
            by_name.setdefault(method.name, []).append(method)
    while pending:
        method = pending.pop()
        for name in method.self_calls:
            for callee in by_name.get(name, ()):
                if callee not in found:
                    found.add(callee)
                    pending.append(callee)
    return found


def _lineage(headers: list, kept: set[int], by_name: dict[str, list]) -> set[str]:
    """Names of the kept classes and of the classes of the module that derive from one."""
    names = {h.name for h in headers if id(h) in kept}
    changed = True
    while changed:
        changed = False
        for header in headers:
            if header.name not in names and any(base in names for base in header.bases):
                names.add(header.name)
                changed = True
    return names


def blank(text: str, threads: bool) -> str | None:
    """`text` with the units no relevant code reaches blanked out, or None when nothing is blanked
    (nothing to blank, the switch is off, or Python cannot parse the text)."""
    if os.environ.get(DISABLE):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
        units = kept_units(tree, threads)
    except (SyntaxError, ValueError, RecursionError, MemoryError, _GiveUp):
        return None
    dropped = [u for u in units if not u.keep and not (u.kind == "class" and any(m.keep for m in u.methods))]
    if not dropped:
        return None
    return blank_lines(text, [(u.first, u.last) for u in dropped if u.kind != "class"]
                       + [(u.first, u.last) for u in dropped if u.kind == "class"])


def blank_lines(text: str, ranges: list[tuple[int, int]]) -> str:
    """`text` with each range of lines (first, last; from 1) replaced by `pass` at the first
    line's indentation and empty lines, line ends kept. Ranges may nest; the outer one wins."""
    pieces = _LINE_END.split(text)  # text, end, text, end, ..., text
    lines = pieces[0::2]
    ends = pieces[1::2]
    blanked = [False] * (len(lines) + 1)
    for first, last in sorted(ranges, key=lambda r: (r[0], -r[1])):
        if blanked[first]:
            continue
        indent = _INDENT.match(lines[first - 1]).group()  # type: ignore[union-attr]
        lines[first - 1] = indent + "pass"
        blanked[first] = True
        for number in range(first + 1, last + 1):
            lines[number - 1] = ""
            blanked[number] = True
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        if index < len(ends):
            out.append(ends[index])
    return "".join(out)
