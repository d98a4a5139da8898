"""Which top-level statements of a module read which others' bindings: the guard fix's plan
(`fixes/guard.py`) asks it of the whole module, once, when the fix is built.

The answer is read from Python's `ast` of the module's text (a tenth of LibCST's parse), each
`ast` statement mapped to the LibCST top-level statement that holds it (a simple statement line
holds one `ast` statement per small statement, a compound statement one). It is the answer that
LibCST's `ScopeProvider` gave (several parses' worth), rule for rule: the same scopes (a class
body hidden from the functions in it, a comprehension's first iterable read outside it, defaults,
annotations and decorators read where the `def` runs), the same order within a scope (a binding
is seen by the reads after the assignment-like statement or expression that made it; a function's
read of a name it binds only later falls back to the enclosing scopes), dotted imports
(`import os.path` binds `os.path`, read by `os.path.join`), the names in string annotations and
typing's forward references, and the names a `match` pattern captures counted as reads. A test
compares the two over the fixtures, the standard library and generated modules.

A module Python's parser refuses (syntax newer than the running Python) raises `SyntaxError`:
its finding is reported without the fix.
"""

from __future__ import annotations

import ast
import contextlib
import threading
import warnings
from typing import Iterator, Sequence, Union

import libcst as cst

from mplint.fixes.read_scopes import (
    Binding, Read, Scope, dotted_names, full_name, import_qualified, runs_at_import,
)

Reads = tuple[
    dict[int, set[int]], dict[int, dict[str, set[int]]], set[int], dict[int, set[str]], dict[int, set[str]]
]

_TYPING_CALLS = frozenset({"typing.NewType", "typing.TypeVar"})
_LITERALS = frozenset({"typing.Literal", "typing_extensions.Literal"})
_Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


def _call_order(call: ast.Call) -> list[ast.expr | ast.keyword]:
    """A call's arguments in the order they are written (`ast` keeps keywords apart)."""
    if not call.keywords or not call.args:
        return [*call.args, *call.keywords]
    return sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))


class _Reader:
    """Walks the `ast` as LibCST's scope visitor walks its tree: the same scopes, bindings in
    the same order, the same reads."""

    def __init__(self) -> None:
        builtin = Scope("builtins", None)
        self.scope = Scope("global", builtin)
        self.module = self.scope
        self.reads: list[Read] = []
        self.top = 0
        self.attributes: list[ast.Attribute | None] = [None]
        self.annotation: list[bool] = [False]
        self.type_hint: list[bool] = [False]
        self.literal = 0
        self.in_string = 0
        self.methods = {
            name[len("visit_"):]: getattr(self, name) for name in dir(self) if name.startswith("visit_")
        }

    # --- bindings and reads -----------------------------------------------------------------

    def bind(self, name: str, imported: ast.Import | ast.ImportFrom | None = None) -> None:
        target = self.scope.target(name)
        top = None if self.in_string else self.top
        target.bindings.setdefault(name, []).append(Binding(name, target, target.count, top, imported))

    def read(self, name: str) -> None:
        self.reads.append(
            Read(name, self.scope, self.scope.count, self.top, self.attributes[-1], bool(self.in_string))
        )

    def done(self) -> None:
        """An assignment-like statement or expression ends: what it bound is seen from here on."""
        self.scope.count += 1

    def qualified_names(self, full_name: str | None) -> set[str]:
        if full_name is None:
            return set()
        prefix: str | None = full_name
        found: list[Binding] | None = None
        while prefix:
            if self.scope.holds(prefix):
                found = self.scope.resolve(prefix, self.scope)
                if found is None:
                    return {f"builtins.{prefix}"}
                break
            cut = prefix.rfind(".")
            prefix = None if cut == -1 else prefix[:cut]
        names: set[str] = set()
        for binding in found or ():
            if binding.imported is not None:
                names.update(import_qualified(binding, full_name))
            else:
                prefix_of = binding.scope.prefix
                names.add(f"{prefix_of}.{full_name}" if prefix_of else full_name)
        return names

    # --- the walk ---------------------------------------------------------------------------

    def walk(self, node: ast.AST | None) -> None:
        if node is None:
            return
        method = self.methods.get(type(node).__name__)
        if method is not None:
            method(node)
        else:
            for child in ast.iter_child_nodes(node):
                self.walk(child)

    def walk_all(self, nodes: Sequence[ast.AST | None]) -> None:
        for node in nodes:
            self.walk(node)

    def in_scope(self, scope: Scope) -> Scope:
        outer, self.scope = self.scope, scope
        return outer

    def annotated(self, node: ast.expr | None) -> None:
        if node is not None:
            self.annotation.append(True)
            self.walk(node)
            self.annotation.pop()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store) and not self.in_string:
            self.bind(node.id)
        else:
            self.read(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.attributes[-1] is None:
            self.attributes[-1] = node
        self.walk(node.value)
        if self.attributes[-1] is node:
            self.attributes[-1] = None

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if value is None or value is True or value is False:
            self.read(str(value))  # Names in LibCST's tree
            return
        if not isinstance(value, (str, bytes)) or not value:
            return
        if not (self.type_hint[-1] or self.annotation[-1]) or self.literal:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = ast.parse(value)
        except (SyntaxError, ValueError):
            return  # Python ignores an annotation it cannot parse, and so does the plan
        self.in_string += 1
        self.walk_all(parsed.body)
        self.in_string -= 1

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                self.walk(part)

    def visit_Call(self, node: ast.Call) -> None:
        self.attributes.append(None)
        self.type_hint.append(False)
        arguments = _call_order(node)
        names = self.qualified_names(full_name(node))
        if names & _TYPING_CALLS:
            self.walk(node.func)
            self.type_hint[-1] = True
            self.walk_all(arguments[1:])
        elif "typing.cast" in names:
            self.walk(node.func)
            if arguments:
                self.type_hint.append(True)
                self.walk(arguments[0])
                self.type_hint.pop()
                self.walk_all(arguments[1:])
        else:
            self.walk(node.func)
            self.walk_all(arguments)
        self.attributes.pop()
        self.type_hint.pop()

    def visit_keyword(self, node: ast.keyword) -> None:
        self.walk(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        hint = literal = False
        if isinstance(node.value, ast.Name):
            names = self.qualified_names(node.value.id)
            hint = any(n.startswith(("typing.", "typing_extensions.")) for n in names)
            literal = bool(names & _LITERALS)
        self.literal += literal
        self.type_hint.append(hint)
        self.walk(node.value)
        self.walk(node.slice)
        self.type_hint.pop()
        self.literal -= literal

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.walk_all([node.body, node.test, node.orelse])

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            self.walk(key)
            self.walk(value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.walk(node.target)
        self.walk(node.value)
        self.done()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.walk_all(node.targets)
        self.walk(node.value)
        self.done()

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.walk(node.target)
        self.walk(node.value)
        self.done()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.walk(node.target)
        self.annotated(node.annotation)
        self.walk(node.value)
        self.done()

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.walk(node.target)
        self.done()
        self.walk(node.iter)
        self.walk_all(node.body)
        self.walk_all(node.orelse)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.walk(node.context_expr)
        if node.optional_vars is not None:
            self.walk(node.optional_vars)
            self.done()  # the `as` part
        self.done()

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self.walk(node.type)
        if node.name is not None:
            if self.in_string:
                self.read(node.name)
            else:
                self.bind(node.name)
            self.done()
        self.walk_all(node.body)

    def _imports(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                break
            if alias.asname is not None:
                self.bind(alias.asname, node)
                continue
            parts = alias.name.split(".")
            for end in range(len(parts), 0, -1):
                self.bind(".".join(parts[:end]), node)
        self.done()

    visit_Import = visit_ImportFrom = _imports

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if self.scope.kind != "global":
                self.scope.overwrites[name] = self.module
        self.done()

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for name in node.names:
            if self.scope.kind == "global":
                raise NotImplementedError("nonlocal at module level")
            self.scope.overwrites[name] = self.scope.up
        self.done()

    def _parameters(self, arguments: ast.arguments) -> None:
        """In the function's scope: each parameter binds its name, its default and annotation
        are read where the definition runs; then the parameters end."""
        positional = [*arguments.posonlyargs, *arguments.args]
        first_default = len(positional) - len(arguments.defaults)
        params: list[tuple[ast.arg, ast.expr | None]] = [
            (arg, arguments.defaults[i - first_default] if i >= first_default else None)
            for i, arg in enumerate(positional)
        ]
        if arguments.vararg is not None:
            params.append((arguments.vararg, None))
        params.extend(zip(arguments.kwonlyargs, arguments.kw_defaults))
        if arguments.kwarg is not None:
            params.append((arguments.kwarg, None))
        for arg, default in params:
            self.bind(arg.arg)
            inner = self.in_scope(self.scope.up)
            self.walk(default)
            self.annotated(arg.annotation)
            self.scope = inner
        self.done()

    def _type_params(self, node: ast.AST) -> bool:
        params = getattr(node, "type_params", None)
        if not params:
            return False
        self.scope = Scope("annotation", self.scope)
        for param in params:
            self.bind(param.name)
            self.walk(getattr(param, "bound", None))
            self.done()
        return True

    def visit_FunctionDef(self, node: _Function) -> None:
        self.bind(node.name)
        outer = self.scope
        self._type_params(node)
        around = self.scope
        self.scope = Scope("function", around, node.name)
        self._parameters(node.args)
        self.walk_all(node.body)
        self.scope = around
        self.walk_all(node.decorator_list)
        self.annotated(node.returns)
        self.scope = outer
        self.done()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        outer = self.in_scope(Scope("function", self.scope))
        self._parameters(node.args)
        self.walk(node.body)
        self.scope = outer

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bind(node.name)
        self.walk_all(node.decorator_list)
        outer = self.scope
        self._type_params(node)
        self.walk_all(node.bases)
        self.walk_all(node.keywords)
        self.scope = Scope("class", self.scope, node.name)
        self.walk_all(node.body)
        self.scope = outer
        self.done()

    def visit_TypeAlias(self, node: ast.AST) -> None:  # Python 3.12+
        self.bind(node.name.id)  # type: ignore[attr-defined]
        outer = self.scope
        self.scope = Scope("annotation", self.scope)
        for param in getattr(node, "type_params", ()):
            self.bind(param.name)
            self.walk(getattr(param, "bound", None))
            self.done()
        self.walk(node.value)  # type: ignore[attr-defined]
        self.scope = outer
        self.done()

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        first, *inner = node.generators
        self.walk(first.iter)
        outer = self.in_scope(Scope("comprehension", self.scope))
        self.walk(first.target)
        self.done()
        self.walk_all(first.ifs)
        self._inner(inner)
        if isinstance(node, ast.DictComp):
            self.walk(node.key)
            self.walk(node.value)
        else:
            self.walk(node.elt)
        self.scope = outer

    def _inner(self, generators: list[ast.comprehension]) -> None:
        if generators:
            generator, *rest = generators
            self.walk(generator.target)
            self.walk(generator.iter)
            self.walk_all(generator.ifs)
            self._inner(rest)
            self.done()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    # `match` patterns: LibCST reads the names a pattern captures
    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.walk(node.pattern)
        if node.name is not None:
            self.read(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            self.read(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for key, pattern in zip(node.keys, node.patterns):
            self.walk(key)
            self.walk(pattern)
        if node.rest is not None:
            self.read(node.rest)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        self.walk(node.cls)
        self.walk_all(node.patterns)
        for name, pattern in zip(node.kwd_attrs, node.kwd_patterns):
            self.read(name)
            self.walk(pattern)


#: the text being checked in this thread and Python's tree of it, when the engine made that tree
_checked = threading.local()


@contextlib.contextmanager
def python_tree_given(text: str, tree: ast.Module) -> Iterator[None]:
    """While it lasts, the reading of `text` in this thread is made from `tree` (Python's tree of
    that text, which the engine made already: it is read, never changed) rather than parsing the
    text again."""
    before = getattr(_checked, "given", None)
    _checked.given = (text, tree)
    try:
        yield
    finally:
        _checked.given = before


def _given_tree(source: str | None) -> ast.Module | None:
    given = getattr(_checked, "given", None)
    if given is None or source is None or given[0] != source:
        return None
    return given[1]


def _tops(module: cst.Module, tree: ast.Module) -> list[int]:
    """For each `ast` top-level statement, the LibCST top-level statement that holds it."""
    tops = []
    for index, statement in enumerate(module.body):
        tops.extend([index] * (len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1))
    if len(tops) != len(tree.body):
        raise ValueError("the module's statements do not match its text's")
    return tops


def reads_and_binds(module: cst.Module, source: str | None = None) -> Reads:
    """For each top-level statement: which statements' bindings it reads at import time, and which
    at run time (in a function body), by name; the statements whose bindings some function reads;
    the module-level names each binds, and the names it reads at import time. `source` is the
    text `module` was parsed from (its code, when not given)."""
    tree = _given_tree(source)
    if tree is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not the fix's to report
            tree = ast.parse(module.code if source is None else source)
    reader = _Reader()
    for top, statement in zip(_tops(module, tree), tree.body):
        reader.top = top
        reader.walk(statement)
    import_reads: dict[int, set[int]] = {}
    run_reads: dict[int, dict[str, set[int]]] = {}
    read_by_functions: set[int] = set()
    binds: dict[int, set[str]] = {}
    reads_names: dict[int, set[str]] = {}
    for name, bound in reader.module.bindings.items():
        for binding in bound:
            if binding.top is not None:
                binds.setdefault(binding.top, set()).add(name)
    for read in reader.reads:
        name = read.name
        if read.attribute is not None:
            for dotted in dotted_names(read.attribute):
                if read.scope.holds(dotted):
                    name = dotted
                    break
        at_import = runs_at_import(read.scope)
        if at_import and not read.in_string and "." not in name:
            reads_names.setdefault(read.top, set()).add(name)
        scope = read.scope
        found = scope.resolve(name, scope) or []
        referents = [b for b in found if b.scope is not scope or b.index < read.index]
        if not referents and found and scope.parent is not None:
            referents = scope.parent.resolve(name, scope) or []
        for binding in referents:
            if binding.scope.kind != "global" or binding.top is None:
                continue
            if at_import:
                import_reads.setdefault(read.top, set()).add(binding.top)
            else:
                run_reads.setdefault(read.top, {}).setdefault(binding.name, set()).add(binding.top)
                read_by_functions.add(binding.top)
    return import_reads, run_reads, read_by_functions, binds, reads_names
