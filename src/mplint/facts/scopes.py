"""The one walk over a module: scopes, what each name is bound to, every call, where code runs.

LibCST's ScopeProvider and QualifiedNameProvider cost several parses per file; the rules need far
less: for each name, the few statements that bind it, and for each call, its scope and whether it
runs at import time. This walk records exactly that, once, for all rules.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import guards
from mplint.facts.records import (
    Binding, CallSite, ClassInfo, Collected, FunctionInfo, FunctionNode, Scope, ScopeKind, StoreNode,
    Span, WithBlock,
)
from mplint.facts.walk import FIELD_KINDS, LEAVE, NODE, SEQUENCE, ClassTest, Walker, fields_of, handler_of

__all__ = [
    "Binding", "CallSite", "ClassInfo", "Collected", "FunctionInfo", "FunctionNode", "Scope",
    "ScopeKind", "Span", "StoreNode", "WithBlock", "assigned_names", "collect",
]

_IS_STATEMENT = ClassTest(cst.SimpleStatementLine, cst.BaseCompoundStatement)


_NAME = cst.Name
#: node class -> its visit handler, its leave handler, whether it is a statement, and its fields
#: in the order the walk pushes them (the last first)
_CLASSES: dict[type, tuple] = {}


def _handlers(cls: type, node: cst.CSTNode) -> tuple:
    return (
        handler_of(_Collector, f"visit_{cls.__name__}"),
        handler_of(_Collector, f"leave_{cls.__name__}"),
        _IS_STATEMENT[cls],
        tuple(reversed(fields_of(node))),
    )


def assigned_names(target: cst.BaseExpression) -> Iterator[cst.Name]:
    if type(target) is cst.Name:
        yield target
    elif type(target) in (cst.Tuple, cst.List):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from assigned_names(target.value)


def _unpacked(
    target: cst.BaseExpression, value: cst.BaseExpression | None
) -> Iterator[tuple[cst.Name, cst.BaseExpression | None]]:
    """The names an assignment binds, each with the expression it takes when that is known:
    `lock, queue = Lock(), Queue()` gives each name its own element (nested displays too)."""
    if type(target) is cst.Name:
        yield target, value
        return
    if (
        type(target) in (cst.Tuple, cst.List)
        and type(value) in (cst.Tuple, cst.List)
        and len(target.elements) == len(value.elements)
        and not any(type(e) is cst.StarredElement for e in (*target.elements, *value.elements))
    ):
        for element, given in zip(target.elements, value.elements):
            yield from _unpacked(element.value, given.value)
        return
    for name in assigned_names(target):
        yield name, None


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if type(star) is cst.Param:
            found.append(star)
    return found


def _dotted(node: cst.BaseExpression) -> str:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


class _Collector(Walker):
    def __init__(self, module: cst.Module) -> None:
        self.module_scope = Scope("module", module, None, import_time=True)
        self.scope = self.module_scope
        self.scopes: dict[cst.CSTNode, Scope] = {module: self.module_scope}
        self.calls: list[CallSite] = []
        self.functions: dict[cst.FunctionDef, FunctionInfo] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.name_scopes: dict[cst.Name, Scope] = {}
        self.function_stack: list[FunctionInfo] = []
        self.class_stack: list[ClassInfo | None] = []
        self.statements: list[cst.CSTNode] = []
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.up: dict[cst.CSTNode, cst.CSTNode] = {}
        #: the node whose visit handler runs (the parent of what it walks); None: the module's
        self.current: cst.CSTNode | None = None
        self.stores: list[tuple[StoreNode, Scope, int]] = []
        self.returns_and_yields: list[cst.Return | cst.Yield] = []
        self.breaks: list[cst.Break] = []
        self.whiles: list[cst.While] = []
        self.with_items: list[tuple[cst.WithItem, Scope, int]] = []
        self.withs: list[WithBlock] = []
        self.exits: list[cst.Call | cst.With] = []
        self.spans: dict[cst.CSTNode, Span] = {}
        self.open_calls: list[tuple[int, int]] = []
        # `guard_depth` counts enclosing main-guard blocks, `dead_depth` TYPE_CHECKING blocks
        self.guard_depth = 0
        self.dead_depth = 0
        self.loads: dict[str, list[tuple[cst.Name, Scope]]] = {}
        self.attribute_loads: dict[str, list[tuple[cst.Attribute, Scope]]] = {}
        # names and attributes met before their visit that are not reads: targets, keywords, ...
        self.not_loads: set[cst.CSTNode] = set()
        self.import_depth = 0

    # --- scopes -----------------------------------------------------------------------------

    def _push(self, kind: ScopeKind, node: cst.CSTNode) -> Scope:
        runs_now = kind in ("class", "comprehension") and self.scope.import_time
        scope = Scope(kind, node, self.scope, import_time=runs_now)
        self.scopes[node] = scope
        self.scope = scope
        return scope

    def _pop(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent

    @property
    def _at_import_time(self) -> bool:
        return self.scope.import_time and self.guard_depth == 0 and self.dead_depth == 0

    # --- statements ---------------------------------------------------------------------------

    # The walk itself, written out for this walk, which passes every node of the module: one
    # look-up per node class gives its handlers, whether it is a statement and its fields; a node
    # is left (`LEAVE`) only where a leave handler or the statement stack asks, and a Name (a
    # third of the nodes, with no children) is recorded here without a handler's call.
    def walk(self, node: cst.CSTNode) -> None:
        up, parents, statements = self.up, self.parents, self.statements
        name_scopes, not_loads, loads = self.name_scopes, self.not_loads, self.loads
        classes, kinds = _CLASSES, FIELD_KINDS
        caller = self.current
        up[node] = caller
        stack: list[object] = [node]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            item = pop()
            if item is LEAVE:
                item = pop()
                leave, statement = classes[type(item)][1:3]
                if leave is not None:
                    leave(self, item)
                if statement:
                    statements.pop()
                continue
            cls = type(item)
            if cls is _NAME:
                name_scopes[item] = scope = self.scope  # type: ignore[index]
                if item not in not_loads and not self.import_depth:
                    loads.setdefault(item.value, []).append((item, scope))  # type: ignore[attr-defined]
                continue
            try:
                visit, leave, statement, fields = classes[cls]
            except KeyError:
                visit, leave, statement, fields = classes[cls] = _handlers(cls, item)  # type: ignore[arg-type]
            if statement:
                if statements:
                    parents[item] = statements[-1]  # type: ignore[index]
                statements.append(item)  # type: ignore[arg-type]
                push(item)
                push(LEAVE)
            elif leave is not None:
                push(item)
                push(LEAVE)
            if visit is not None:
                self.current = item  # type: ignore[assignment]
                if visit(self, item) is False:
                    continue
            for name in fields:  # in reverse: the first child is popped first
                value = getattr(item, name)
                kind = kinds[type(value)]
                if kind == NODE:
                    up[value] = item
                    push(value)
                elif kind == SEQUENCE:
                    for element in value:
                        up[element] = item
                    extend(reversed(value))
        self.current = caller

    def visit_If(self, node: cst.If) -> bool:
        # Only blocks that run at import time can be guards; a guard inside a function guards nothing.
        self._walk_spanned(node.test)
        test = node.test
        body_guarded = self.scope.kind == "module" and guards.is_main_guard(test)
        else_guarded = self.scope.kind == "module" and guards.is_not_main_guard(test)
        dead = guards.is_type_checking(test)
        self.guard_depth += body_guarded
        self.dead_depth += dead
        self.walk(node.body)
        self.guard_depth -= body_guarded
        self.dead_depth -= dead
        if node.orelse is not None:
            self.guard_depth += else_guarded
            self.walk(node.orelse)
            self.guard_depth -= else_guarded
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            self.walk(decorator)
        owner = self.class_stack[-1] if self.class_stack and self.scope.kind == "class" else None
        self.scope.bind(Binding(node.name.value, node, definition=node))
        # defaults and annotations are evaluated where the def statement runs, not in the function
        params = _all_params(node.params)
        for param in params:
            for part in (param.default, param.annotation):
                if part is not None:
                    self.walk(part)
        if node.returns is not None:
            self.walk(node.returns)
        scope = self._push("function", node)
        info = FunctionInfo(node, scope, owner.node if owner else None)
        self.functions[node] = info
        if owner is not None:
            owner.methods.setdefault(node.name.value, info)
        self.function_stack.append(info)
        self.class_stack.append(None)
        for param in params:
            self.scope.bind(Binding(param.name.value, param))
            self.name_scopes[param.name] = scope
        info.names_from = len(self.name_scopes)
        self.walk(node.body)
        info.names_to = len(self.name_scopes)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.function_stack.pop()
        self.class_stack.pop()
        self._pop()

    def visit_Param(self, node: cst.Param) -> bool:
        # only lambdas' parameters come here: a def binds its own (see visit_FunctionDef)
        self.scope.bind(Binding(node.name.value, node))
        self.not_loads.add(node.name)
        return True

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._push("lambda", node)
        self.function_stack.append(None)  # type: ignore[arg-type]  # calls in a lambda are no function's
        return True

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.function_stack.pop()
        self._pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for decorator in node.decorators:
            self.walk(decorator)
        for arg in (*node.bases, *node.keywords):
            self.walk(arg)
        self.scope.bind(Binding(node.name.value, node, definition=node))
        outer = self.scope
        scope = self._push("class", node)
        self.classes[node] = info = ClassInfo(node, scope, outer)
        self.class_stack.append(info)
        self.walk(node.body)
        return False

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()
        self._pop()

    def _visit_comprehension(self, node: cst.CSTNode) -> bool:
        self._push("comprehension", node)
        return True

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        self._pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    # --- bindings -----------------------------------------------------------------------------

    def _stores(self, target: cst.BaseExpression) -> None:
        """`target` is assigned to: its names and its outermost attribute are not read."""
        if type(target) is cst.Attribute:
            self.not_loads.add(target)
        for name in assigned_names(target):
            self.not_loads.add(name)
        if type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                if type(element.value) is cst.Attribute:
                    self.not_loads.add(element.value)

    def leave_Import(self, original_node: cst.Import) -> None:
        self.import_depth -= 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self.import_depth -= 1

    def visit_Import(self, node: cst.Import) -> None:
        self.import_depth += 1
        for alias in node.names:
            full = _dotted(alias.name)
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                self.scope.bind(Binding(alias.asname.name.value, node, imported=full))
            else:
                top = full.split(".")[0]
                self.scope.bind(Binding(top, node, imported=top))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.import_depth += 1
        # a relative import keeps its dots (`.cli.main`): a module of this project, which the
        # API table never matches and the project's resolver reads
        dots = "." * len(node.relative)
        base = dots + (_dotted(node.module) if node.module is not None else "")
        if type(node.names) is cst.ImportStar:
            return
        for alias in node.names:
            name = _dotted(alias.name)
            bound = name
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                bound = alias.asname.name.value
            self.scope.bind(Binding(bound, node, imported=f"{base}.{name}" if base and not base.endswith(".") else base + name))

    def visit_Assign(self, node: cst.Assign) -> None:
        self.stores.append((node, self.scope, len(self.calls)))
        for target in node.targets:
            self._stores(target.target)
            for name, value in _unpacked(target.target, node.value):
                self.scope.bind(Binding(name.value, node, value=value))
            if type(target.target) is cst.Attribute:
                self._bind_attribute(target.target, node.value)

    def _bind_attribute(self, target: cst.Attribute, value: cst.BaseExpression) -> None:
        """Record `self.x = value` in a method, so that `self.x` can be followed like a name."""
        method = self.function_stack[-1] if self.function_stack else None
        if method is None or method.cls is None or type(target.value) is not cst.Name:
            return
        params = method.node.params.params
        if params and params[0].name.value == target.value.value:
            info = self.classes[method.cls]
            info.attributes.setdefault(target.attr.value, []).append((value, self.scope))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.stores.append((node, self.scope, len(self.calls)))
        if node.value is not None:
            self._stores(node.target)
        elif type(node.target) is cst.Name:
            self.not_loads.add(node.target)  # `x: int` declares, reads nothing
        if type(node.target) is cst.Name and node.value is not None:
            self.scope.bind(Binding(node.target.value, node, value=node.value))
        elif type(node.target) is cst.Attribute and node.value is not None:
            self._bind_attribute(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.stores.append((node, self.scope, len(self.calls)))
        function = self.function_stack[-1] if self.function_stack else None
        if function is not None:
            function.operations.append(node)
        if type(node.target) is cst.Name:
            self.scope.bind(Binding(node.target.value, node, augmented=True))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._stores(node.target)
        if type(node.target) is cst.Name:
            scope = self.scope
            while scope.kind == "comprehension" and scope.parent is not None:
                scope = scope.parent  # PEP 572: := in a comprehension binds in the enclosing scope
            scope.bind(Binding(node.target.value, node, value=node.value))

    def visit_For(self, node: cst.For) -> None:
        self._stores(node.target)
        single = type(node.target) is cst.Name
        for name in assigned_names(node.target):
            self.scope.bind(Binding(name.value, node, iter=node.iter if single else None))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._stores(node.target)
        single = type(node.target) is cst.Name
        for name in assigned_names(node.target):
            self.scope.bind(Binding(name.value, node, iter=node.iter if single else None))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self.with_items.append((node, self.scope, len(self.calls)))
        if node.asname is not None:
            self._stores(node.asname.name)
            single = type(node.asname.name) is cst.Name
            for name in assigned_names(node.asname.name):
                self.scope.bind(Binding(name.value, node, value=node.item if single else None))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and type(node.name.name) is cst.Name:
            self.not_loads.add(node.name.name)
            self.scope.bind(Binding(node.name.name.value, node))

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.global_names.update(item.name.value for item in node.names)
        self.not_loads.update(item.name for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.scope.nonlocal_names.update(item.name.value for item in node.names)
        self.not_loads.update(item.name for item in node.names)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_loads.add(node.keyword)

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self.not_loads.add(node.name)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.not_loads.add(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.not_loads.add(node.name)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.not_loads.add(node.rest)

    def visit_MatchKeywordElement(self, node: cst.MatchKeywordElement) -> None:
        self.not_loads.add(node.key)

    def visit_Del(self, node: cst.Del) -> None:
        self.stores.append((node, self.scope, len(self.calls)))
        self._stores(node.target)
        for name in assigned_names(node.target):
            self.scope.bind(Binding(name.value, node))

    # --- uses ---------------------------------------------------------------------------------

    # a Name is recorded by the walk itself: the scope it is read in, and whether it is a load

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.not_loads.add(node.attr)
        if node not in self.not_loads and not self.import_depth:
            self.attribute_loads.setdefault(node.attr.value, []).append((node, self.scope))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        function = self.function_stack[-1] if self.function_stack else None
        if function is not None:
            function.operations.append(node)

    def visit_Return(self, node: cst.Return) -> None:
        self.returns_and_yields.append(node)
        if self.function_stack and self.function_stack[-1] is not None:
            self.function_stack[-1].returns.append(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.returns_and_yields.append(node)
        if self.function_stack and self.function_stack[-1] is not None:
            self.function_stack[-1].yields = True

    def visit_With(self, node: cst.With) -> bool:
        for item in node.items:
            self.walk(item)
        calls, stores = len(self.calls), len(self.stores)
        self.walk(node.body)
        self.withs.append(WithBlock(node, self.scope, calls, len(self.calls), stores, len(self.stores)))
        self.exits.append(node)
        return False

    def visit_Break(self, node: cst.Break) -> None:
        self.breaks.append(node)

    def visit_While(self, node: cst.While) -> bool:
        self.whiles.append(node)
        self._walk_spanned(node.test)
        self.walk(node.body)
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        self.walk(node.body)
        self._walk_spanned(node.test)
        self.walk(node.orelse)
        return False

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        self._walk_spanned(node.left)
        self.walk(node.right)
        return False

    def _walk_spanned(self, node: cst.CSTNode) -> None:
        """Walks a test, recording which Names and calls it holds (`Collected.spans`)."""
        names, calls = len(self.name_scopes), len(self.calls)
        self.walk(node)
        self.spans[node] = Span(names, len(self.name_scopes), calls, len(self.calls))

    def visit_Call(self, node: cst.Call) -> None:
        function = self.function_stack[-1] if self.function_stack else None
        site = CallSite(
            node,
            self.scope,
            self.statements[-1] if self.statements else node,
            import_time=self._at_import_time,
            main_guarded=self.guard_depth > 0,
        )
        self.open_calls.append((len(self.name_scopes), len(self.calls)))
        self.calls.append(site)
        if function is not None:
            function.calls.append(site)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.exits.append(original_node)
        names, calls = self.open_calls.pop()
        self.spans[original_node] = Span(names, len(self.name_scopes), calls, len(self.calls))


def collect(module: cst.Module) -> Collected:
    collector = _Collector(module)
    collector.walk(module)
    return Collected(
        collector.module_scope,
        collector.scopes,
        collector.calls,
        collector.functions,
        collector.classes,
        collector.name_scopes,
        collector.loads,
        collector.attribute_loads,
        collector.parents,
        collector.up,
        collector.stores,
        collector.returns_and_yields,
        collector.breaks,
        collector.whiles,
        collector.with_items,
        collector.withs,
        collector.exits,
        collector.spans,
    )
