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
`MPLINT_NO_PARTIAL=1` in the environment turns it off (to compare findings both ways).
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

from mplint import apis

#: the environment variable that turns partial parsing off
DISABLE = "MPLINT_NO_PARTIAL"

_LINE_END = re.compile(r"(\r\n|\r|\n)")
_INDENT = re.compile(r"[ \t\f]*")
#: methods that put an object into a container: `self.procs.append(p)` fills `procs`
_FILLING = frozenset({
    "append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft", "put",
    "put_nowait", "__setitem__",
})


@lru_cache(maxsize=2)
def _api_names(threads: bool) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(modules any of whose names is relevant, qualified names of the APIs themselves, the
    modules and classes that lead to an API).

    The multiprocessing-like families, the pool libraries and the modules of the other process
    APIs (`concurrent.futures`) count whole; `os` and `threading` only by their APIs' names (and
    `threading`'s only when threads matter)."""
    whole = {family.root for family in apis.FAMILIES} | set(apis.LIBRARY_ROOTS)
    names = set()
    for api in apis.APIS.values():
        if api.kind in apis.THREAD_KINDS and not threads and not _under(api.qualname, whole):
            continue
        names.add(api.qualname)
        if api.qualname.split(".")[0] in apis.IMPORT_ROOTS and not _under(api.qualname, whole):
            whole.add(api.qualname.rsplit(".", 1)[0])
    leading = {name.rsplit(".", depth)[0] for name in names for depth in range(1, name.count(".") + 1)}
    return frozenset(whole), frozenset(names), frozenset(leading)


def _under(qualname: str, modules: set[str] | frozenset[str]) -> bool:
    """`qualname` is one of `modules` or inside one."""
    parts = qualname.split(".")
    return any(".".join(parts[:end]) in modules for end in range(1, len(parts) + 1))


@lru_cache(maxsize=4096)
def _relevant_qualname(qualname: str, threads: bool, prefix: bool = True) -> bool:
    """Whether code naming `qualname` uses the API: it is in a module that counts whole, it is an
    API or in one (an attribute of a class of the table), or with `prefix` it leads to one (`os`
    for `os.fork`: a module handed on, or named again, `m = os`)."""
    whole, names, leading = _api_names(threads)
    return _under(qualname, whole) or _under(qualname, names) or (prefix and qualname in leading)


@dataclass(eq=False)
class _Unit:
    first: int  # first line (decorators included)
    last: int
    kind: str  # "module", "def", "class" (a class's own statements), "method"
    name: str = ""
    cls: _Unit | None = None  # a method's class header
    bases: tuple[str, ...] = ()  # a class's bases that are plain names
    methods: list[_Unit] = field(default_factory=list)
    self_name: str = ""  # a method's first parameter
    loads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)  # module-level names it binds
    attr_loads: set[str] = field(default_factory=set)
    attr_stores: set[str] = field(default_factory=set)  # attributes set or changed in place
    mutates: set[str] = field(default_factory=set)  # names changed in place or rebound by `global`
    name_calls: set[str] = field(default_factory=set)
    self_calls: set[str] = field(default_factory=set)  # `self.m(...)` / `cls.m(...)`
    handed: set[str] = field(default_factory=set)  # attributes used as values, not called
    globals: set[str] = field(default_factory=set)  # names declared `global`
    chains: set[tuple[str, str]] = field(default_factory=set)  # (`a`, `b.c`) for `a.b.c`
    aliases: set[str] = field(default_factory=set)  # names assigned as they are: `m = os`
    defined: set[str] = field(default_factory=set)  # functions and classes a module statement defines
    #: (names, attributes, what they are given), for each assignment
    flows: list[tuple[set[str], set[str], _Unit]] = field(default_factory=list)
    api: bool = False
    keep: bool = False


class _GiveUp(Exception):
    pass


#: node class -> (the expression assigned, its targets)
_FLOWS = {
    ast.Assign: lambda node: (node.value, node.targets),
    ast.AnnAssign: lambda node: (node.value, [node.target]),
    ast.AugAssign: lambda node: (node.value, [node.target]),
    ast.NamedExpr: lambda node: (node.value, [node.target]),
    ast.For: lambda node: (node.iter, [node.target]),
    ast.AsyncFor: lambda node: (node.iter, [node.target]),
    ast.withitem: lambda node: (node.context_expr, [node.optional_vars] if node.optional_vars else []),
}
#: a unit's sets that an assignment's sources add to
_MERGED = (
    "loads", "binds", "attr_loads", "attr_stores", "mutates", "name_calls", "self_calls", "handed",
    "globals", "chains", "aliases", "defined",
)


@lru_cache(maxsize=None)
def _fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that can hold nodes."""
    return tuple(name for name in kind._fields if name not in ("ctx", "type_comment", "kind"))


class _Reader:
    """Fills a unit's sets from its nodes."""

    def __init__(self, threads: bool) -> None:
        #: local name -> qualified name, for the module's imports (at any depth)
        self.imports: dict[str, str] = {}
        #: star imports, by module
        self.star: list[str] = []
        #: the sources of every assignment read, to be judged once every import is known
        self.flows: list[_Unit] = []
        self.threads = threads

    def read(self, unit: _Unit, nodes: list[ast.AST], module_level: bool) -> None:
        stack = list(nodes)
        threads = self.threads
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is str or node is None or kind is int:
                continue  # a field that holds a name, or nothing
            if kind is ast.Name:
                self._name(unit, node, module_level)
                continue
            if kind is ast.Attribute:
                stack.extend(self._attribute(unit, node))
                continue
            if kind is ast.Call:
                func = node.func
                if type(func) is ast.Name:
                    unit.name_calls.add(func.id)
                elif type(func) is ast.Attribute:
                    receiver = func.value
                    if type(receiver) is ast.Name:
                        if receiver.id in ("self", "cls", unit.self_name):
                            unit.self_calls.add(func.attr)
                        unit.mutates.add(receiver.id)
                    elif type(receiver) is ast.Attribute and func.attr in _FILLING:
                        unit.attr_stores.add(receiver.attr)  # `self.items.append(x)`
                    stack.extend(self._attribute(unit, func, called=True))
                    if func.attr in _FILLING and (node.args or node.keywords):
                        self._flow(unit, [*node.args, *node.keywords], [receiver], module_level)
                    else:
                        stack.extend(node.args)
                        stack.extend(node.keywords)
                    continue
            elif kind is ast.Subscript or kind is ast.Starred:
                if kind is ast.Subscript and type(node.ctx) is not ast.Load:
                    self._changed(unit, node.value)
            elif kind in _FLOWS:
                source, targets = _FLOWS[kind](node)
                if source is not None:
                    if type(source) is ast.Name:  # `m = os`: `m.fork()` is os.fork
                        unit.aliases.add(source.id)
                    self._flow(unit, [source], targets, module_level)
                    stack.extend(targets)
                    if kind is ast.AugAssign:
                        self._changed(unit, node.target)
                    elif kind is ast.For or kind is ast.AsyncFor:
                        stack.extend(node.body)
                        stack.extend(node.orelse)
                    elif kind is ast.withitem:
                        pass
                    continue
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
                if module_level:
                    unit.defined.add(node.name)
            elif kind is ast.Global:
                unit.globals.update(node.names)
                unit.binds.update(node.names)
                unit.mutates.update(node.names)
            elif kind is ast.Import or kind is ast.ImportFrom:
                modules = (
                    [alias.name for alias in node.names] if kind is ast.Import
                    else [f"{node.module}.{alias.name}" for alias in node.names]
                    if node.module and not node.level else []
                )
                if any(_relevant_qualname(m, threads, prefix=kind is ast.ImportFrom) for m in modules):
                    unit.api = True
                self._bind_import(node)
                continue  # what an import binds is judged where it is read, by its qualified name
            elif kind is ast.Constant:
                continue
            for name in _fields(kind):
                value = getattr(node, name, None)
                if type(value) is list:
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)

    def _flow(self, unit: _Unit, sources: list[ast.AST], targets: list[ast.AST], module_level: bool) -> None:
        """What the targets of an assignment (or a container filled, a loop's variable, a `with`'s
        name) get from the sources: read into a unit of their own, then added to `unit`'s."""
        source = _Unit(0, 0, "flow", self_name=unit.self_name)
        self.read(source, sources, module_level)
        self.flows.append(source)
        names: set[str] = set()
        attrs: set[str] = set()
        pending = list(targets)
        while pending:
            target = pending.pop()
            kind = type(target)
            if kind is ast.Name:
                names.add(target.id)
            elif kind is ast.Attribute:
                attrs.add(target.attr)
            elif kind is ast.Subscript or kind is ast.Starred:
                pending.append(target.value)
            elif kind is ast.Tuple or kind is ast.List:
                pending.extend(target.elts)
        unit.flows.append((names, attrs, source))
        for name in _MERGED:
            getattr(unit, name).update(getattr(source, name))
        unit.api = unit.api or source.api
        for flow in source.flows:
            unit.flows.append(flow)

    def _bind_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if type(node) is ast.Import:
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    self.imports[root] = root
        elif not node.level and node.module:
            for alias in node.names:
                if alias.name == "*":
                    self.star.append(node.module)
                else:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def judge(self, unit: _Unit) -> None:
        """Whether the unit names an API, once every import is known."""
        if unit.api:
            return
        imports, threads = self.imports, self.threads
        for name in unit.loads:
            qualname = imports.get(name)
            if qualname is not None and _relevant_qualname(qualname, threads, prefix=name in unit.aliases):
                unit.api = True
                return
        for base, attrs in unit.chains:
            qualname = imports.get(base)
            if qualname is not None and _relevant_qualname(f"{qualname}.{attrs}", threads):
                unit.api = True
                return

    def _name(self, unit: _Unit, node: ast.Name, module_level: bool) -> None:
        if type(node.ctx) is ast.Load:
            unit.loads.add(node.id)
        else:
            unit.loads.add(node.id)  # a rebinding matters to the facts as much as a read
            if module_level:
                unit.binds.add(node.id)

    def _changed(self, unit: _Unit, target: ast.AST) -> None:
        if type(target) is ast.Name:
            unit.mutates.add(target.id)
        elif type(target) is ast.Attribute:
            unit.attr_stores.add(target.attr)
            if type(target.value) is ast.Name:
                unit.mutates.add(target.value.id)

    def _attribute(self, unit: _Unit, node: ast.Attribute, called: bool = False) -> list[ast.AST]:
        """Reads a chain `a.b.c` at once; gives back what remains to read under it."""
        attrs = []
        current: ast.AST = node
        while type(current) is ast.Attribute:
            attrs.append(current.attr)
            current = current.value  # type: ignore[attr-defined]
        unit.attr_loads.update(attrs)
        if type(node.ctx) is not ast.Load:
            unit.attr_stores.add(node.attr)
            if type(node.value) is ast.Name:
                unit.mutates.add(node.value.id)
        elif not called:
            unit.handed.add(node.attr)  # a bound method handed over, or an attribute read
        if type(current) is ast.Name:
            unit.loads.add(current.id)
            unit.chains.add((current.id, ".".join(reversed(attrs))))
            return []
        return [current]


def _units(tree: ast.Module, reader: _Reader) -> list[_Unit]:
    units: list[_Unit] = []
    for statement in tree.body:
        first = _first_line(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            unit = _Unit(first, statement.end_lineno or first, "def", statement.name)
            unit.binds.add(statement.name)
            reader.read(unit, [statement], module_level=False)
            units.append(unit)
        elif isinstance(statement, ast.ClassDef):
            header = _Unit(first, statement.end_lineno or first, "class", statement.name)
            header.binds.add(statement.name)
            header.bases = tuple(b.id for b in statement.bases if isinstance(b, ast.Name))
            own: list[ast.AST] = [*statement.decorator_list, *statement.bases, *statement.keywords]
            for item in statement.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    method = _Unit(_first_line(item), item.end_lineno or item.lineno, "method", item.name)
                    method.cls = header
                    params = item.args.posonlyargs + item.args.args
                    method.self_name = params[0].arg if params else ""
                    reader.read(method, [item], module_level=False)
                    header.methods.append(method)
                else:
                    own.append(item)
            reader.read(header, own, module_level=False)
            units.append(header)
            units.extend(header.methods)
        else:
            unit = _Unit(first, statement.end_lineno or first, "module")
            reader.read(unit, [statement], module_level=True)
            units.append(unit)
    return units


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(d.lineno for d in decorators or ())])


def kept_units(tree: ast.Module, threads: bool) -> list[_Unit]:
    """Every unit, with `_keep` marked on those to keep. Raises _GiveUp where it cannot tell."""
    reader = _Reader(threads)
    units = _units(tree, reader)
    if any(_relevant_qualname(module, threads) for module in reader.star):
        raise _GiveUp  # names of the API bound without being named
    for unit in (*units, *reader.flows):
        reader.judge(unit)
    relevant = _relevant(units)
    return _reach(units, relevant)


def _relevant(units: list[_Unit]) -> set[int]:
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


def _given_api(unit: _Unit, api_names: set[str], api_attrs: set[str]) -> tuple[set[str], set[str]]:
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


def _reach(units: list[_Unit], relevant: set[int]) -> list[_Unit]:
    kept: set[int] = set(relevant)
    kept.update(id(u) for u in units if u.kind == "module")
    headers = [u for u in units if u.kind == "class"]
    by_name: dict[str, list[_Unit]] = {}
    for header in headers:
        by_name.setdefault(header.name, []).append(header)
    for header in headers:  # every method of a class that itself uses the API
        if id(header) in relevant:
            kept.update(id(m) for m in header.methods)
    handed_relevant = set().union(*(u.handed for u in units if id(u) in relevant))
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
        kept_names = set().union(*(u.binds for u in live if u.kind in ("def", "class")))
        module_bound = set().union(*(u.binds for u in units if u.kind == "module"), *(u.globals for u in units))
        mutated = set().union(*(u.mutates for u in live)) & module_bound
        # methods handed to a child (and what they call on self) set attributes the parent reads
        handed = {m for h in headers if id(h) in kept for m in h.methods
                  if id(m) in kept and (m.name in handed_relevant or id(h) in relevant)}
        handed_methods = _self_reached(handed, headers, kept)
        seen_attrs = set().union(*(m.attr_stores for m in handed_methods))
        kept_methods = {m.name for h in headers if id(h) in kept for m in h.methods if id(m) in kept}
        kept_lineage = _lineage(headers, kept, by_name)
        kept_classes = {h.name for h in headers if id(h) in kept}
        for unit in units:
            if id(unit) in kept:
                continue
            if _wanted(unit, loads, attr_loads, kept_names, mutated, seen_attrs, kept_methods,
                       kept_lineage, kept_classes, kept):
                kept.add(id(unit))
                changed = True
    for unit in units:
        unit.keep = id(unit) in kept
    return units


def _wanted(unit, loads, attr_loads, kept_names, mutated, seen_attrs, kept_methods, lineage, classes, kept) -> bool:
    if unit.kind in ("def", "class") and unit.name in loads:
        return True
    if unit.globals & loads:
        return True  # `global x; x = ...` in a function: a binding of a name kept code reads
    if unit.kind == "method" and id(unit.cls) in kept:
        if unit.name.startswith("__") and unit.name.endswith("__"):
            return True
        if unit.name in attr_loads or unit.name in unit.cls.loads or unit.attr_stores & attr_loads:
            return True
    if unit.name_calls & kept_names:
        return True  # a caller of a kept function or class: what its parameters receive
    if unit.kind == "method" and unit.self_calls & kept_methods and unit.cls.name in lineage:
        return True
    if unit.loads & classes and unit.attr_loads & kept_methods:
        return True  # `obj = Cls(); obj.method(x)`: a caller of a kept method
    if unit.loads & mutated:
        return True  # reads a module-level name that kept code changes
    if unit.attr_loads & seen_attrs:
        return True
    return False


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
