"""Plain mutable state and what functions do to it.

A *plain mutable* value is one that a child process gets as a copy (pickled under spawn and
forkserver, a copy-on-write page under fork): a list, dict or set display or comprehension,
`list()`/`dict()`/`set()`/`bytearray()`, the `collections` containers, `types.SimpleNamespace`,
and instances of plain classes of this module. Objects made for sharing (Manager proxies,
`Value`/`Array`, queues, pipes, locks, events, shared memory) are never plain, and neither is
anything whose origin the analysis cannot see (parameters, results of other calls): those are
unknown, and unknown is never reported.

A *mutation* is a statement or call in a function that changes an object in place or rebinds a
module-level name: a mutating method call (`x.append(v)`), an item or attribute assignment
(`x[k] = v`, `x.a = v`, also augmented), a `del x[k]` / `del x.a`, an in-place `x += v`, and
`global x` followed by `x = v` / `x += v` / `del x`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from mplint import object_apis
from mplint.facts import guards
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH, SKIP, agreeing

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Binding, FunctionInfo, Scope, StoreNode


#: decorators that wrap a function for its own callers rather than hand it to someone else
_WRAPPING_BUILTINS = frozenset({"property", "staticmethod", "classmethod"})
_WRAPPING_DECORATORS = frozenset(
    {
        "functools.wraps", "functools.lru_cache", "functools.cache", "functools.cached_property",
        "functools.singledispatch", "contextlib.contextmanager", "contextlib.asynccontextmanager",
        "abc.abstractmethod", "typing.overload", "typing.final", "typing.override",
    }
)

#: builtins that make a fresh plain container
_PLAIN_BUILTINS = {"list": "list", "dict": "dict", "set": "set", "bytearray": "bytearray"}
#: library callables that make a plain mutable object
_PLAIN_QUALNAMES = {
    "collections.deque": "deque",
    "collections.defaultdict": "defaultdict",
    "collections.OrderedDict": "OrderedDict",
    "collections.Counter": "Counter",
    "collections.ChainMap": "ChainMap",
    "types.SimpleNamespace": "SimpleNamespace",
    "array.array": "array",
}
_DISPLAYS: dict[type, str] = {
    cst.List: "list",
    cst.ListComp: "list",
    cst.Dict: "dict",
    cst.DictComp: "dict",
    cst.Set: "set",
    cst.SetComp: "set",
}
#: builtin bases a plain class may have
_PLAIN_BASES = frozenset({"object", "list", "dict", "set"})
#: methods through which a class may share or redirect its state: such a class is not plain
_SHARING_HOOKS = frozenset(
    {"__setattr__", "__getattr__", "__getattribute__", "__reduce__", "__reduce_ex__",
     "__getstate__", "__setstate__", "__setitem__", "__delitem__"}
)
_PLAIN_CLASS_DECORATORS = frozenset({"dataclass", "dataclasses.dataclass"})

#: methods of the builtin and `collections` containers that add or overwrite data
WRITING_METHODS = frozenset(
    {"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft",
     "subtract"}
)
#: methods that change a container by removing or reordering what is in it
REMOVING_METHODS = frozenset(
    {"pop", "popitem", "popleft", "remove", "discard", "clear", "sort", "reverse", "rotate",
     "move_to_end", "difference_update", "intersection_update", "symmetric_difference_update"}
)
MUTATING_METHODS = WRITING_METHODS | REMOVING_METHODS


@dataclass(frozen=True, eq=False)
class Plain:
    """A plain mutable value: what the expression evaluates to, as far as the module shows."""

    #: "list", "dict", ..., or the name of a plain class of the module for its instances
    type: str
    #: the expression that made it (the display or the call), for messages
    creation: cst.BaseExpression
    #: the value is an instance of a class (attributes can be assigned), not a container
    is_object: bool = False


@dataclass(frozen=True, eq=False)
class Mutation:
    """One change of an object, or of a module-level name, made by a function."""

    #: the call or the statement that makes the change (where a finding goes)
    node: cst.CSTNode
    #: what it changes, in words: "`.append()`", "item assignment", ...
    action: str
    #: the scope the statement runs in (the function's, or a comprehension's inside it)
    scope: Scope
    #: the object changed in place (`results` in `results[k] = v`, `self` in `self.x = 1`); None
    #: when a module-level name is rebound through `global`
    obj: cst.BaseExpression | None = None
    #: for attribute assignments and deletions: the attribute
    attr: str | None = None
    #: for rebindings through `global`: the module-level name
    name: str | None = None
    #: the change adds or overwrites data (append, assignment) rather than removing or reordering
    writes: bool = True


@dataclass(frozen=True, eq=False)
class SelfChange:
    """A change that calling a method makes to its own object."""

    #: the attribute of `self` changed: `total` for `self.total += n`, `items` for `self.items.append(v)`
    attr: str
    mutation: Mutation
    #: the method whose body makes it (the one called, or one it calls on `self`)
    method: FunctionInfo


class State:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._mutations: dict[cst.FunctionDef, list[Mutation]] = {}
        self._plain_classes: dict[cst.ClassDef, bool] = {}
        self._self_changes: dict[cst.FunctionDef, list[SelfChange]] = {}

    # --- what a value is ---------------------------------------------------------------------

    def plain(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Plain | None:
        """The plain mutable value `expr` evaluates to, or None (not plain, or unknown)."""
        if _depth > _MAX_DEPTH:
            return None
        kind = _DISPLAYS.get(type(expr))
        if kind is not None:
            return Plain(kind, expr)
        names = self._facts.names
        if type(expr) is cst.Call:
            func = expr.func
            if type(func) is cst.Name and func.value in _PLAIN_BUILTINS:
                if names.lookup(func.value, scope) is None:  # the builtin, not a shadowing name
                    return Plain(_PLAIN_BUILTINS[func.value], expr)
                return None
            qualname = names.qualname(func, scope)
            if qualname in _PLAIN_QUALNAMES:
                return Plain(_PLAIN_QUALNAMES[qualname], expr, qualname == "types.SimpleNamespace")
            local = names.definition(func, scope)
            if type(local) is cst.ClassDef and self.is_plain_class(local):
                return Plain(local.name.value, expr, is_object=True)
            return None
        if type(expr) is cst.Name:
            found = names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            return self._agreed(bindings, where, _depth)
        if type(expr) is cst.Attribute:
            owner = names.class_of(expr.value, scope)
            if owner is None:
                return None
            values = self.attribute_values(owner, expr.attr.value)
            results = [self.plain(value, where, _depth + 1) for value, where in values]
            if results and all(r is not None for r in results):
                return results[0]
        return None

    def _agreed(self, bindings: list[Binding], where: Scope, depth: int) -> Plain | None:
        """Plain when every binding of a name makes a plain value (augmented ones keep it)."""
        return agreeing(
            (
                SKIP if binding.augmented
                else None if binding.value is None
                else self.plain(binding.value, where, depth + 1)
                for binding in bindings
            ),
            lambda first, other: True,  # any plain values: the first one describes the name
        )

    def attribute_values(
        self, cls: cst.ClassDef, attr: str, _depth: int = 0
    ) -> list[tuple[cst.BaseExpression, Scope]]:
        """What `self.attr` may hold in instances of `cls`: `self.attr = v` in its methods and its
        local bases' methods, and `attr = v` in their class bodies."""
        facts = self._facts
        info = facts.classes[cls]
        values = list(info.attributes.get(attr, ()))
        for binding in info.scope.bindings.get(attr, ()):
            if binding.value is None and binding.definition is None:
                return []  # bound in the class body some way we cannot follow
            if binding.value is not None:
                values.append((binding.value, info.scope))
        if _depth < _MAX_DEPTH:
            for base in cls.bases:
                local = facts.names.definition(base.value, info.outer)
                if type(local) is cst.ClassDef and local is not cls:
                    values.extend(self.attribute_values(local, attr, _depth + 1))
        return values

    def is_plain_class(self, cls: cst.ClassDef, _depth: int = 0) -> bool:
        """A class of the module whose instances are ordinary objects: no known API among its
        bases, no bases we cannot see, no metaclass, no hooks that could share or redirect state."""
        if cls in self._plain_classes:
            return self._plain_classes[cls]
        self._plain_classes[cls] = False  # cycles of bases are not plain
        facts = self._facts
        info = facts.classes[cls]
        plain = (
            not cls.keywords
            and facts.values.class_api(cls) is None
            and not (_SHARING_HOOKS & set(info.methods))
            and all(self._plain_decorator(d.decorator, info.outer) for d in cls.decorators)
            and _depth < _MAX_DEPTH
        )
        for base in cls.bases if plain else ():
            expr = base.value
            builtin = type(expr) is cst.Name and facts.names.lookup(expr.value, info.outer) is None
            if builtin and expr.value in _PLAIN_BASES:  # type: ignore[attr-defined]
                continue
            local = facts.names.definition(expr, info.outer)
            if not (type(local) is cst.ClassDef and self.is_plain_class(local, _depth + 1)):
                plain = False
                break
        self._plain_classes[cls] = plain
        return plain

    def _plain_decorator(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        if type(expr) is cst.Call:
            expr = expr.func
        return self._facts.names.qualname(expr, scope) in _PLAIN_CLASS_DECORATORS

    # --- what functions do ---------------------------------------------------------------------

    def mutations(self, function: FunctionInfo) -> list[Mutation]:
        """The changes `function`'s own body makes (not those of functions defined inside it),
        in source order."""
        if function.node not in self._mutations:
            statements = self._facts.statements
            found: list[tuple[int, Mutation]] = []
            for site in function.calls:
                func = site.node.func
                if (
                    type(func) is cst.Attribute
                    and func.attr.value in MUTATING_METHODS
                    and statements.owner(site.node) is function.node
                ):
                    method = func.attr.value
                    found.append((statements.order(site.node), Mutation(
                        site.node, f"`.{method}()`", site.scope, func.value, writes=method in WRITING_METHODS
                    )))
            for node, scope in statements.own_stores(function.node):
                order = statements.store_order(node)
                found.extend((order, mutation) for mutation in _store_mutations(node, scope))
            found.sort(key=lambda pair: pair[0])
            self._mutations[function.node] = [mutation for _, mutation in found]
        return self._mutations[function.node]

    def self_attribute(self, mutation: Mutation, me: str, function: FunctionInfo) -> str | None:
        """The attribute of `self` (the parameter `me` of `function`) that a mutation changes:
        `self.x = v`, `del self.x`, or a plain container held in it (`self.items.append(v)`)."""
        obj = mutation.obj
        if type(obj) is cst.Name and obj.value == me and mutation.attr is not None:
            attr = mutation.attr
        elif (
            type(obj) is cst.Attribute
            and type(obj.value) is cst.Name
            and obj.value.value == me
            and mutation.attr is None
        ):
            plain = self.plain(obj, mutation.scope)
            if plain is None or not fits(plain, mutation):
                return None
            attr = obj.attr.value
        else:
            return None
        found = self._facts.names.lookup(me, mutation.scope)
        if found is None or found[0] is not function.scope or len(found[1]) != 1:
            return None  # `self` rebound: not the object the method was called on
        return attr

    def self_changes(self, method: FunctionInfo) -> list[SelfChange]:
        """What calling `method` changes on its own object: the `self` attributes its body sets,
        deletes or fills (see `self_attribute`), and those of the methods it calls on `self`
        (`self._bump(n)`), through any depth. Empty for functions that are no instance method."""
        if method.node in self._self_changes:
            return self._self_changes[method.node]
        self._self_changes[method.node] = []  # recursion through `self.other()` ends here
        found: list[SelfChange] = []
        me = _self_name(method)
        if me is not None:
            for mutation in self.mutations(method):
                attr = self.self_attribute(mutation, me, method)
                if attr is not None:
                    found.append(SelfChange(attr, mutation, method))
            for site in method.calls:
                func = site.node.func
                if not (type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == me):
                    continue
                callee = self._facts.callgraph.callee(site)
                if callee is not None and callee.cls is not None and callee is not method:
                    found.extend(self.self_changes(callee))
        self._self_changes[method.node] = found
        return found

    def progress_bar(self, expr: cst.BaseExpression, scope: Scope) -> cst.Call | None:
        """The creation of the progress bar (`tqdm(...)`, see `object_apis.PROGRESS_BARS`) that a
        name holds in every one of its bindings, or `self.x` in every assignment of its class."""
        names = self._facts.names
        if type(expr) is cst.Call:
            return expr if names.qualname(expr.func, scope) in object_apis.PROGRESS_BARS else None
        values: list[tuple[cst.BaseExpression | None, Scope]] = []
        if type(expr) is cst.Name:
            found = names.lookup(expr.value, scope)
            if found is None:
                return None
            values = [(b.value, found[0]) for b in found[1]]
        elif type(expr) is cst.Attribute:
            owner = names.class_of(expr.value, scope)
            if owner is not None:
                values = list(self.attribute_values(owner, expr.attr.value))
        made = [self.progress_bar(v, where) if type(v) is cst.Call else None for v, where in values]
        return made[0] if made and all(m is not None for m in made) else None

    def returned_names(self, function: FunctionInfo) -> set[str]:
        """Names that `function` returns as they are (`return acc`, `return acc, n`)."""
        returned: set[str] = set()
        for node in function.returns:
            value = node.value
            elements = value.elements if type(value) is cst.Tuple else ()
            for expr in (value, *(e.value for e in elements)):
                if type(expr) is cst.Name:
                    returned.add(expr.value)
        return returned

    # --- where code runs ---------------------------------------------------------------------

    def in_child(self, scope: Scope) -> bool:
        """Code in `scope` runs in a child process: it is (inside) a worker or what a worker calls,
        a lambda handed to a process API, or a function another module of the project hands
        (or reaches from code it hands) to a child."""
        child_functions = self._facts.workers.child_functions
        project_children = self._facts.project_children
        current: Scope | None = scope
        while current is not None:
            node = current.node
            if node in child_functions or node in self._child_lambdas or node in project_children:
                return True
            current = current.parent
        return False

    def called_back(self, scope: Scope) -> bool:
        """Code in `scope` is (inside) a function that a decorator registers with someone else
        (`@app.route(...)`, `@signal_handler`): whoever calls it, in whichever process, is out of
        sight. Decorators that only wrap a function for its callers (`@property`,
        `@functools.lru_cache`, ...) are not registrations."""
        facts = self._facts
        current: Scope | None = scope
        while current is not None:
            node = current.node
            if type(node) is cst.FunctionDef and current.parent is not None:
                for decorator in node.decorators:
                    expr = decorator.decorator
                    if type(expr) is cst.Call:
                        expr = expr.func
                    if type(expr) is cst.Name and expr.value in _WRAPPING_BUILTINS:
                        if facts.names.lookup(expr.value, current.parent) is None:
                            continue
                    if facts.names.qualname(expr, current.parent) in _WRAPPING_DECORATORS:
                        continue
                    return True
            current = current.parent
        return False

    @cached_property
    def _child_lambdas(self) -> frozenset[cst.CSTNode]:
        return frozenset(
            d.target for d in self._facts.workers.dispatches if type(d.target) is cst.Lambda
        )

    def reads(self, name: str, where: Scope) -> Iterator[tuple[cst.Name, Scope]]:
        """The reads of `name` that see the binding of scope `where`."""
        names = self._facts.names
        for node, scope in self._facts.loads.get(name, ()):
            found = names.lookup(name, scope)
            if found is not None and found[0] is where:
                yield node, scope

    @cached_property
    def import_time_functions(self) -> frozenset[cst.FunctionDef]:
        """Functions that may run while the module is imported, so also in every spawned child:
        those called or used as decorators at import time, and what they call."""
        facts = self._facts
        roots: list[FunctionInfo] = []
        for site in facts.calls:
            if site.import_time:
                callee = facts.callgraph.callee(site)
                if callee is not None:
                    roots.append(callee)
        for node, info in facts.functions.items():
            if info.scope.parent is not None and info.scope.parent.import_time:
                for decorator in node.decorators:
                    expr = decorator.decorator
                    target = facts.names.definition(expr, info.scope.parent)
                    if type(target) is cst.FunctionDef:
                        roots.append(facts.functions[target])
        for info in facts.classes.values():
            if info.outer.import_time:
                for decorator in info.node.decorators:
                    target = facts.names.definition(decorator.decorator, info.outer)
                    if type(target) is cst.FunctionDef:
                        roots.append(facts.functions[target])
        reached: set[cst.FunctionDef] = set()
        for root in roots:
            if root.node not in reached:
                reached.update(f.node for f in facts.callgraph.reached_from(root))
        return frozenset(reached)

    def module_level_binding(self, node: cst.CSTNode) -> bool | None:
        """For a statement of module-level code (outside functions, classes, lambdas and
        comprehensions) that binds names: whether it is under `if __name__ == "__main__":` (runs
        in the parent only); None for any other node."""
        if type(node) not in _BINDING_STATEMENTS:
            return None
        up = self._facts.up
        guarded = False
        child, parent = node, up.get(node)
        while parent is not None:
            if type(parent) in _OWN_SCOPES:
                return None
            if type(parent) is cst.If:
                if child is parent.body:
                    guarded = guarded or guards.is_main_guard(parent.test)
                elif child is parent.orelse:
                    guarded = guarded or guards.is_not_main_guard(parent.test)
            child, parent = parent, up.get(parent)
        return guarded

    @cached_property
    def global_rebindings(self) -> dict[cst.CSTNode, FunctionInfo]:
        """Statements that rebind a module-level name through `global`, with their function."""
        found: dict[cst.CSTNode, FunctionInfo] = {}
        for info in self._facts.functions.values():
            if info.scope.global_names:
                for mutation in self.mutations(info):
                    if mutation.name is not None:
                        found[mutation.node] = info
        return found


def _store_mutations(statement: StoreNode, scope: Scope) -> list[Mutation]:
    """The changes an assignment or `del` makes: to items, attributes, `global` names, and
    in-place `+=`/`|=`."""
    found: list[Mutation] = []
    if type(statement) is cst.Assign:
        for target in statement.targets:
            _target(found, target.target, statement, "", scope)
    elif type(statement) is cst.AnnAssign:
        if statement.value is not None:
            _target(found, statement.target, statement, "", scope)
    elif type(statement) is cst.AugAssign:
        _target(found, statement.target, statement, "augmented ", scope)
    else:
        _target(found, statement.target, statement, "del", scope)
    return found


def _target(found: list[Mutation], target: cst.BaseExpression, statement: StoreNode, how: str, scope: Scope) -> None:
    deleting = how == "del"
    if type(target) in (cst.Tuple, cst.List):
        for element in target.elements:
            _target(found, element.value, statement, how, scope)
    elif type(target) is cst.StarredElement:
        _target(found, target.value, statement, how, scope)
    elif type(target) is cst.Subscript:
        action = "`del` of an item" if deleting else f"{how}item assignment"
        found.append(Mutation(statement, action, scope, target.value, writes=not deleting))
    elif type(target) is cst.Attribute:
        action = "`del` of an attribute" if deleting else f"{how}attribute assignment"
        found.append(
            Mutation(statement, action, scope, target.value, attr=target.attr.value, writes=not deleting)
        )
    elif type(target) is cst.Name:
        function_scope = scope.function or scope
        if target.value in function_scope.global_names:
            action = "`del`" if deleting else f"{how}assignment through `global`"
            found.append(Mutation(statement, action, scope, name=target.value))
        elif how == "augmented " and type(statement) is cst.AugAssign:
            # `acc += [x]` / `acc |= {...}` extend a list or update a dict/set in place
            operator = _IN_PLACE.get(type(statement.operator))
            if operator is not None:
                found.append(Mutation(statement, f"in-place `{operator}`", scope, target))


#: the statements (and parts of statements) that bind names
_BINDING_STATEMENTS = (
    cst.FunctionDef, cst.ClassDef, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem,
    cst.Import, cst.ImportFrom, cst.NamedExpr, cst.Del, cst.ExceptHandler,
)
#: code that is not the module's own: functions, classes, lambdas and comprehensions
_OWN_SCOPES = (
    cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
)

def fits(plain: Plain, mutation: Mutation) -> bool:
    """The kind of change fits the kind of value: attributes are set on objects, containers are
    changed by their methods, item assignment and in-place operators. A method call on an object
    of a class of the module is that class's own method: not known to change anything."""
    if mutation.attr is not None:
        return plain.is_object
    return not plain.is_object


def _self_name(method: FunctionInfo) -> str | None:
    """The name of a method's instance parameter (`self`); None for static and class methods."""
    params = method.node.params.params
    if method.cls is None or not params:
        return None
    for decorator in method.node.decorators:
        if type(decorator.decorator) is cst.Name and decorator.decorator.value in ("staticmethod", "classmethod"):
            return None
    return params[0].name.value


#: augmented assignments that change a list, dict or set in place
_IN_PLACE: dict[type, str] = {cst.AddAssign: "+=", cst.BitOrAssign: "|="}
