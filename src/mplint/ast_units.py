"""A module's units as Python's `ast` reads them, for partial parsing (`mplint.partial`): each
top-level statement, and each method of a top-level class (also those under a class-level `if`
or `try`), with the names and attributes it reads, binds, changes and calls, what its assignments
give to what, and whether it names an API of the table (`apis.py`). A method also has its
signature (decorators, parameters, annotations) read on its own, for a method that is kept as a
definition only, its body blanked; a class's assignments to plain names are read on their own too
(and into the class), for the ones no kept code reads.
A module-level statement has an anchor where the facts read it whatever kept code reaches."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

from mplint import apis

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
def relevant_qualname(qualname: str, threads: bool, prefix: bool = True) -> bool:
    """Whether code naming `qualname` uses the API: it is in a module that counts whole, it is an
    API or in one (an attribute of a class of the table), or with `prefix` it leads to one (`os`
    for `os.fork`: a module handed on, or named again, `m = os`)."""
    whole, names, leading = _api_names(threads)
    return _under(qualname, whole) or _under(qualname, names) or (prefix and qualname in leading)


@dataclass(eq=False, slots=True)
class Unit:
    first: int  # first line (decorators included)
    last: int
    kind: str  # "module", "def", "class" (a class's own statements), "method"
    name: str = ""
    cls: Unit | None = None  # a method's class header
    bases: tuple[str, ...] = ()  # a class's bases that are plain names
    methods: list[Unit] = field(default_factory=list)
    self_name: str = ""  # a method's first parameter
    loads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)  # module-level names it binds
    attr_loads: set[str] = field(default_factory=set)
    #: attributes read other than on a method's own first parameter in its own body (`self.x`
    #: there is an attribute of the method's class, as `names.class_of` reads it)
    foreign_attr_loads: set[str] = field(default_factory=set)
    attr_stores: set[str] = field(default_factory=set)  # attributes set or changed in place
    mutates: set[str] = field(default_factory=set)  # names changed in place or rebound by `global`
    name_calls: set[str] = field(default_factory=set)
    self_calls: set[str] = field(default_factory=set)  # `self.m(...)` / `cls.m(...)`
    handed: set[str] = field(default_factory=set)  # attributes used as values, not called
    globals: set[str] = field(default_factory=set)  # names declared `global`
    chains: set[tuple[str, str]] = field(default_factory=set)  # (`a`, `b.c`) for `a.b.c`
    aliases: set[str] = field(default_factory=set)  # names assigned as they are: `m = os`
    defined: set[str] = field(default_factory=set)  # functions and classes a module statement defines
    nested_methods: set[str] = field(default_factory=set)  # methods of the classes defined inside it
    #: (names, attributes, what they are given), for each assignment
    flows: list[tuple[set[str], set[str], Unit]] = field(default_factory=list)
    #: a method's decorators, parameters and return annotation, read on their own
    signature: Unit | None = None
    #: a class's decorators, bases and keywords, read on their own: what makes the class itself
    #: one of the API's (a subclass of `Process`), where its body only holds API objects
    identity: Unit | None = None
    #: a class's assignments to plain names (`config = {...}`), each read on its own: one that
    #: no kept code reads is blanked in a class kept for other reasons
    members: list[Unit] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)  # the names a class's assignment binds
    twice: set[str] = field(default_factory=set)  # a class's method names defined more than once
    #: what a class's own statements read other than its members (bases, decorators, the rest)
    own_loads: set[str] = field(default_factory=set)
    #: a method's first body line and column (UTF-8 bytes), where its body may be blanked alone
    body_line: int = 0
    body_column: int = 0
    #: why a module-level statement is kept whatever kept code reaches ("" when only what kept
    #: code asks of it decides): it imports, is the docstring or the main guard, may skip or end
    #: the module, binds `pytestmark`, or shares a line with another statement
    anchor: str = ""
    #: a module-level statement raises or calls something named like a skip or an exit
    halts: bool = False
    imports: bool = False  # a module-level statement imports
    api: bool = False
    keep: bool = False
    outline: bool = False  # kept as a definition only: its body is blanked
    why: str = ""  # why it is kept (for the tests and for debugging)


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
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
#: the nodes that bind a name given as a string (`except E as name`, `case [*name]`)
_BINDING_BY_STRING = frozenset({ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping})
#: the nodes whose code runs in a scope of its own: `self` there may be another object
_NESTED = _SCOPES | {ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp}
#: a unit's sets that an assignment's sources add to
_MERGED = (
    "loads", "binds", "attr_loads", "foreign_attr_loads", "attr_stores", "mutates", "name_calls", "self_calls", "handed",
    "globals", "chains", "aliases", "defined", "nested_methods",
)


#: what the reader passes over: the values of fields that hold no node (a name as a string, a
#: level, `case True:`'s value) and the constants
_SKIPPED = frozenset({str, int, bool, float, complex, bytes, type(None), type(...), ast.Constant})
#: the node classes the reader looks at; the others only hold nodes to read
_LOOKED_AT = frozenset({
    ast.Attribute, ast.Call, ast.Subscript, ast.Starred, ast.Global, ast.Raise, ast.Import, ast.ImportFrom,
    *_FLOWS, *_NESTED, *_BINDING_BY_STRING,
})
#: node class -> the fields that can hold nodes (filled as classes are met)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that can hold nodes."""
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(
            name for name in getattr(kind, "_fields", ()) if name not in ("ctx", "type_comment", "kind")
        )
    return found


class Reader:
    """Fills a unit's sets from its nodes."""

    def __init__(self, threads: bool) -> None:
        #: local name -> qualified name, for the module's imports (at any depth)
        self.imports: dict[str, str] = {}
        #: star imports, by module
        self.star: list[str] = []
        #: the sources of every assignment read, to be judged once every import is known
        self.flows: list[Unit] = []
        self.threads = threads

    def read(self, unit: Unit, nodes: list[ast.AST], module_level: bool, me: str = "") -> None:
        """Reads `nodes` into `unit`; `me` is the method's first parameter where `nodes` are its
        own body (not a nested scope)."""
        stack = list(nodes)
        pop, push, extend = stack.pop, stack.append, stack.extend
        threads = self.threads
        load_name, bind_name = unit.loads.add, unit.binds.add
        name_kind, load_kind, skipped, looked_at, fields_of = ast.Name, ast.Load, _SKIPPED, _LOOKED_AT, _FIELDS
        while stack:
            node = pop()
            kind = type(node)
            if kind is name_kind:
                load_name(node.id)  # a rebinding matters to the facts as much as a read
                if type(node.ctx) is not load_kind:
                    if module_level:
                        bind_name(node.id)
                    if me and node.id == me:
                        unit.foreign_attr_loads.add("")  # `self` rebound: every attribute is foreign
                continue
            if kind in skipped:
                continue  # a field that holds a name or a number, nothing, or a constant
            if kind not in looked_at:  # a node that only holds others: read what it holds
                fields = fields_of.get(kind) or _fields(kind)
                for name in fields:
                    value = getattr(node, name, None)
                    if type(value) is list:
                        extend(value)
                    elif value is not None:
                        push(value)
                continue
            if kind is ast.Attribute:
                stack.extend(self._attribute(unit, node, me=me))
                continue
            if kind is ast.Call:
                func = node.func
                if type(func) is ast.Name:
                    unit.name_calls.add(func.id)
                elif type(func) is ast.Attribute:
                    receiver = func.value
                    if module_level and _halting(func.attr):
                        unit.halts = True
                    if type(receiver) is ast.Name:
                        if receiver.id in ("self", "cls", unit.self_name):
                            unit.self_calls.add(func.attr)
                        unit.mutates.add(receiver.id)
                    elif type(receiver) is ast.Attribute and func.attr in _FILLING:
                        unit.attr_stores.add(receiver.attr)  # `self.items.append(x)`
                    stack.extend(self._attribute(unit, func, called=True, me=me))
                    if func.attr in _FILLING and (node.args or node.keywords):
                        self._flow(unit, [*node.args, *node.keywords], [receiver], module_level, me)
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
                    self._flow(unit, [source], targets, module_level, me)
                    stack.extend(targets)
                    if kind is ast.AugAssign:
                        self._changed(unit, node.target)
                    elif kind is ast.For or kind is ast.AsyncFor:
                        stack.extend(node.body)
                        stack.extend(node.orelse)
                    elif kind is ast.withitem:
                        pass
                    continue
            elif module_level and kind in _SCOPES:
                # a function or class under a module-level `if`/`try`: its name is the module's,
                # the names inside it are not
                if kind is not ast.Lambda:
                    unit.defined.add(node.name)
                    unit.binds.add(node.name)
                self.read(unit, [node], module_level=False)
                continue
            elif kind is ast.Global:
                unit.globals.update(node.names)
                unit.binds.update(node.names)
                unit.mutates.update(node.names)
            elif kind is ast.Raise and module_level:
                unit.halts = True
            elif kind is ast.Import or kind is ast.ImportFrom:
                if module_level:
                    unit.imports = True
                modules = (
                    [alias.name for alias in node.names] if kind is ast.Import
                    else [f"{node.module}.{alias.name}" for alias in node.names]
                    if node.module and not node.level else []
                )
                if any(relevant_qualname(m, threads, prefix=kind is ast.ImportFrom) for m in modules):
                    unit.api = True
                self._bind_import(node)
                if me and any((alias.asname or alias.name.split(".")[0]) == me for alias in node.names):
                    unit.foreign_attr_loads.add("")  # `self` rebound
                continue  # what an import binds is judged where it is read, by its qualified name
            elif me and kind in _BINDING_BY_STRING and me in (getattr(node, "name", None), getattr(node, "rest", None)):
                unit.foreign_attr_loads.add("")  # `except E as self:`: `self` rebound
            elif me and kind in _NESTED:
                self.read(unit, [node], module_level)  # its `self` is not the method's own
                continue
            elif kind is ast.ClassDef:  # a class inside the unit: which methods it defines
                unit.nested_methods.update(
                    item.name for item in node.body
                    if type(item) is ast.FunctionDef or type(item) is ast.AsyncFunctionDef
                )
            for name in _fields(kind):
                value = getattr(node, name, None)
                if type(value) is list:
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)

    def _flow(
        self, unit: Unit, sources: list[ast.AST], targets: list[ast.AST], module_level: bool, me: str = ""
    ) -> None:
        """What the targets of an assignment (or a container filled, a loop's variable, a `with`'s
        name) get from the sources: read into a unit of their own, then added to `unit`'s."""
        source = Unit(0, 0, "flow", self_name=unit.self_name)
        self.read(source, sources, module_level, me)
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
        _merge(unit, source)

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

    def judge(self, unit: Unit) -> None:
        """Whether the unit names an API, once every import is known."""
        if unit.api:
            return
        imports, threads = self.imports, self.threads
        for name in unit.loads:
            qualname = imports.get(name)
            if qualname is not None and relevant_qualname(qualname, threads, prefix=name in unit.aliases):
                unit.api = True
                return
        for base, attrs in unit.chains:
            qualname = imports.get(base)
            if qualname is not None and relevant_qualname(f"{qualname}.{attrs}", threads):
                unit.api = True
                return

    def _changed(self, unit: Unit, target: ast.AST) -> None:
        if type(target) is ast.Name:
            unit.mutates.add(target.id)
        elif type(target) is ast.Attribute:
            unit.attr_stores.add(target.attr)
            if type(target.value) is ast.Name:
                unit.mutates.add(target.value.id)

    def _attribute(self, unit: Unit, node: ast.Attribute, called: bool = False, me: str = "") -> list[ast.AST]:
        """Reads a chain `a.b.c` at once; gives back what remains to read under it."""
        attrs = []
        current: ast.AST = node
        while type(current) is ast.Attribute:
            attrs.append(current.attr)
            current = current.value  # type: ignore[attr-defined]
        unit.attr_loads.update(attrs)
        if me and type(current) is ast.Name and current.id == me:
            unit.foreign_attr_loads.update(attrs[:-1])  # `self.x.y`: `y` is another object's
        else:
            unit.foreign_attr_loads.update(attrs)
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


def _halting(name: str) -> bool:
    """A call that may end the module's import or skip its tests (`pytest.skip`, `sys.exit`,
    `os._exit`, `os.abort`, `pytest.importorskip`, `unittest.SkipTest`)."""
    lowered = name.lower()
    return "skip" in lowered or "exit" in lowered or lowered == "abort"


def _anchor(unit: Unit, statement: ast.stmt, index: int, body: list[ast.stmt]) -> str:
    """Why a module-level statement is kept whatever kept code reaches ("" when nothing asks it):
    what the facts read of the module itself, and what the blanking cannot leave out alone."""
    if unit.imports:
        return "imports"  # the names the facts resolve, `from __future__` included
    if index == 0 and type(statement) is ast.Expr and type(statement.value) is ast.Constant:
        return "docstring"  # a `from __future__` import must follow it
    if type(statement) is ast.If and any(type(n) is ast.Name and n.id == "__name__" for n in ast.walk(statement.test)):
        return "main guard"  # `main_only`, `reach` and MPL001 read it
    if unit.halts:
        return "may skip or end the module"  # `skips`: a module-level skip
    if "pytestmark" in unit.binds:
        return "pytestmark"
    if index and body[index - 1].end_lineno == statement.lineno or (
        index + 1 < len(body) and _first_line(body[index + 1]) == unit.last
    ):
        return "shares a line"  # `a = 1; b = 2`: a line is blanked whole
    return ""


#: the module-level statements that make a module a script for `fixes.guard.is_script` (whose
#: guard fixes, MPL001's and MPL009's, a finding carries or not)
_SCRIPT_STATEMENTS = (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)


def _makes_a_script(statement: ast.stmt) -> bool:
    """A loop, a `with` or an expression that is not a string, at module level."""
    if isinstance(statement, _SCRIPT_STATEMENTS):
        return True
    return type(statement) is ast.Expr and not (
        type(statement.value) is ast.Constant and isinstance(statement.value.value, (str, bytes))
    )


def read_units(tree: ast.Module, reader: Reader) -> list[Unit]:
    units: list[Unit] = []
    script = False  # the first statement that makes the module a script is kept
    for index, statement in enumerate(tree.body):
        first = _first_line(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            unit = Unit(first, statement.end_lineno or first, "def", statement.name)
            unit.binds.add(statement.name)
            reader.read(unit, [statement], module_level=False)
            units.append(unit)
        elif isinstance(statement, ast.ClassDef):
            header = _read_class(statement, first, reader)
            units.append(header)
            units.extend(header.methods)
        else:
            unit = Unit(first, statement.end_lineno or first, "module")
            reader.read(unit, [statement], module_level=True)
            unit.anchor = _anchor(unit, statement, index, tree.body)
            if not script and _makes_a_script(statement):
                script = True
                unit.anchor = unit.anchor or "makes the module a script"  # the guard fixes ask
            units.append(unit)
    return units


def _read_class(statement: ast.ClassDef, first: int, reader: Reader) -> Unit:
    """A top-level class's header, its methods and its members, read."""
    header = Unit(first, statement.end_lineno or first, "class", statement.name)
    header.binds.add(statement.name)
    header.bases = tuple(b.id for b in statement.bases if isinstance(b, ast.Name))
    identity = Unit(first, statement.lineno, "identity")
    reader.read(identity, [*statement.decorator_list, *statement.bases, *statement.keywords], module_level=False)
    header.identity = identity
    own: list[ast.AST] = []
    for position, item in enumerate(statement.body):
        if _member(item, position, statement.body):
            member = Unit(item.lineno, item.end_lineno or item.lineno, "member", cls=header)
            member.targets = {target.id for target in item.targets}  # type: ignore[attr-defined]
            member.body_line, member.body_column = item.lineno, item.col_offset
            reader.read(member, [item], module_level=False)
            header.members.append(member)
        else:
            for method in _defs_in(item, own):
                header.methods.append(_read_method(method, header, reader))
    reader.read(header, own, module_level=False)
    _merge(header, identity)
    header.own_loads = header.loads | header.attr_loads
    for member in header.members:
        _merge(header, member)  # the class reads what its members read, as before
    names = [m.name for m in header.methods]
    if len(set(names)) < len(names):
        header.twice = {name for name in names if names.count(name) > 1}
    return header


def _defs_in(item: ast.stmt, own: list[ast.AST]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The methods a class-level statement defines: itself, or the defs at any depth of the blocks
    of an `if` or a `try` (methods of the class for the facts too: no scope of their own); what
    else the statement holds goes to `own`, the class's own statements."""
    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [item]
    if isinstance(item, ast.If):
        own.append(item.test)
        blocks = [item.body, item.orelse]
    elif isinstance(item, ast.Try) or type(item).__name__ == "TryStar":  # `except*` (3.11)
        handlers: list[ast.ExceptHandler] = item.handlers  # type: ignore[attr-defined]
        own.extend(handler.type for handler in handlers if handler.type is not None)
        blocks = [item.body, *(h.body for h in handlers), item.orelse, item.finalbody]  # type: ignore[attr-defined]
    else:
        own.append(item)
        return []
    return [found for block in blocks for statement in block for found in _defs_in(statement, own)]


def _read_method(item: ast.FunctionDef | ast.AsyncFunctionDef, header: Unit, reader: Reader) -> Unit:
    method = Unit(_first_line(item), item.end_lineno or item.lineno, "method", item.name)
    method.cls = header
    params = item.args.posonlyargs + item.args.args
    method.self_name = params[0].arg if params else ""
    signature = Unit(method.first, item.lineno, "signature", self_name=method.self_name)
    signed = [*item.decorator_list, *getattr(item, "type_params", ()), item.args, item.returns]
    reader.read(signature, signed, module_level=False)
    method.signature = signature
    reader.read(method, item.body, module_level=False, me=_direct_self(item))
    _merge(method, signature)
    if "" in method.foreign_attr_loads:  # `self` rebound in the method
        method.foreign_attr_loads |= method.attr_loads
    body = item.body[0]
    if not getattr(body, "decorator_list", None):
        method.body_line, method.body_column = body.lineno, body.col_offset
    return method


def _member(item: ast.stmt, position: int, body: list[ast.stmt]) -> bool:
    """A class-level assignment to plain names that are not dunders, on lines of its own."""
    if type(item) is not ast.Assign or not all(type(t) is ast.Name and not t.id.startswith("__") for t in item.targets):
        return False
    if position and body[position - 1].end_lineno == item.lineno:
        return False
    return not (position + 1 < len(body) and _first_line(body[position + 1]) == item.end_lineno)


def _merge(unit: Unit, part: Unit) -> None:
    """Adds what `part` (an assignment's source, a method's signature) reads to `unit`."""
    for name in _MERGED:
        found = getattr(part, name)
        if found:
            getattr(unit, name).update(found)
    unit.api = unit.api or part.api
    unit.flows.extend(part.flows)


def _direct_self(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The name whose attributes, in the method's own body, are attributes of an object of its
    class as `names.class_of` reads them: its first parameter (not a positional-only one, not in a
    static method)."""
    args = method.args
    if args.posonlyargs or not args.args:
        return ""
    if any(type(d) is ast.Name and d.id == "staticmethod" for d in method.decorator_list):
        return ""
    return args.args[0].arg


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(d.lineno for d in decorators or ())])
