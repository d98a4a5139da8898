"""What the one walk (scopes.py) records: scopes and the bindings of their names, calls, functions
and classes, and the module-wide records in source order (`Collected`) that facts query instead
of walking the tree again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, NamedTuple, Union

import libcst as cst

ScopeKind = Literal["module", "class", "function", "lambda", "comprehension"]
FunctionNode = Union[cst.FunctionDef, cst.Lambda]
StoreNode = Union[cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del]
#: what a memo holds before its question is asked
UNASKED = object()


@dataclass(eq=False)
class Binding:
    """One statement that gives a name a value.

    `value` is the expression whose value the name takes (for `x = expr`, `with expr as x`,
    `x: T = expr`, `(x := expr)`); `iter` the iterable for loop targets; `imported` the qualified
    name for imports; `definition` the def or class. Anything else (parameters, `except ... as`,
    tuple unpacking, augmented assignment) leaves all four empty: the value is unknown.
    """

    name: str
    node: cst.CSTNode
    value: cst.BaseExpression | None = None
    iter: cst.BaseExpression | None = None
    imported: str | None = None
    definition: cst.FunctionDef | cst.ClassDef | None = None
    augmented: bool = False


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: cst.CSTNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    #: code in this scope runs when the module is imported (module, class bodies, comprehensions
    #: there), outside `if __name__ == "__main__":` and `if TYPE_CHECKING:`
    import_time: bool = False

    def bind(self, binding: Binding) -> None:
        """Record a binding where Python puts it: `global x` sends it to the module's scope."""
        scope: Scope = self
        if binding.name in self.global_names:
            while scope.parent is not None:
                scope = scope.parent
        elif binding.name in self.nonlocal_names:
            scope = self.parent or self
            while scope.parent is not None and binding.name not in scope.bindings:
                scope = scope.parent
        scope.bindings.setdefault(binding.name, []).append(binding)

    @property
    def function(self) -> Scope | None:
        """The innermost function or lambda scope this scope is part of."""
        scope: Scope | None = self
        while scope is not None and scope.kind in ("comprehension", "class"):
            if scope.kind == "class":
                return None
            scope = scope.parent
        return scope if scope is not None and scope.kind in ("function", "lambda") else None

    def functions(self) -> Iterator[Scope]:
        """The function and lambda scopes whose code this scope is part of, innermost first
        (a class body between them ends the chain, as `function` does)."""
        function = self.function
        while function is not None:
            yield function
            parent = function.parent
            function = parent.function if parent is not None else None


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    #: the simple or compound statement that holds the call
    statement: cst.CSTNode
    #: the call runs when the module is imported (see Scope.import_time; a call in a module-level
    #: block that is not the main guard counts)
    import_time: bool
    #: the call is under `if __name__ == "__main__":` (or the `else` of `!=`)
    main_guarded: bool
    #: the API of the table the call's callee names, once asked (`ModuleFacts.api_of_call`, asked
    #: of every call by several facts); `UNASKED` before
    api: object = field(default=UNASKED, repr=False)


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef
    scope: Scope  # the function's own scope
    #: the class whose body defines it, if it is a method
    cls: cst.ClassDef | None
    calls: list[CallSite] = field(default_factory=list)
    #: the `return` statements of its own body (not of the functions and classes inside it)
    returns: list[cst.Return] = field(default_factory=list)
    #: its body yields (it is a generator)
    yields: bool = False
    #: the Names of its body (nested code included) are the keys of `Collected.name_scopes`
    #: from `names_from` to `names_to`, in source order
    names_from: int = 0
    names_to: int = 0
    #: the binary operations and augmented assignments of its body, in source order (those of
    #: a class body or a nested def's defaults inside it included: `arithmetic.py` sorts them)
    operations: list[cst.BinaryOperation | cst.AugAssign] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    scope: Scope  # the class body's scope
    outer: Scope  # where the class statement is
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    #: `self.NAME = value` in the class's methods: NAME -> [(value, the method's scope)]
    attributes: dict[str, list[tuple[cst.BaseExpression, Scope]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name.value


class WithBlock(NamedTuple):
    """A `with` statement, the scope it runs in, and where its body is in the walk's calls and
    stores: the calls of its body are `Collected.calls[calls_from:calls_to]`, its assignments
    and `del`s `Collected.stores[stores_from:stores_to]` (its items' calls come before)."""

    node: cst.With
    scope: Scope
    calls_from: int
    calls_to: int
    stores_from: int
    stores_to: int


class Span(NamedTuple):
    """The Names and the calls an expression holds, as ranges of the walk's records: its Names
    are the keys of `Collected.name_scopes` from `names_from` to `names_to`, its calls
    `Collected.calls[calls_from:calls_to]` (the expression itself first, for a call)."""

    names_from: int
    names_to: int
    calls_from: int
    calls_to: int


@dataclass
class Collected:
    module_scope: Scope
    scopes: dict[cst.CSTNode, Scope]
    calls: list[CallSite]
    functions: dict[cst.FunctionDef, FunctionInfo]
    classes: dict[cst.ClassDef, ClassInfo]
    #: every node's scope for names: the scope each Name expression is read in
    name_scopes: dict[cst.Name, Scope]
    #: names read (loaded, including `x += 1`), by name, in source order, with the scope they are
    #: read in; names being bound, attribute names, keywords and imported names are not reads
    loads: dict[str, list[tuple[cst.Name, Scope]]] = field(default_factory=dict)
    #: attributes read (`obj.name` loaded, including `obj.name += 1`), by attribute name
    attribute_loads: dict[str, list[tuple[cst.Attribute, Scope]]] = field(default_factory=dict)
    #: statement -> the compound statement whose block holds it (absent at the top of a module)
    parents: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    #: every node the walk reaches -> the node the walk reached it from (None for the module):
    #: a def's defaults, annotations and decorators hang from the def itself
    up: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    #: assignments, augmented assignments and `del`, with their scope and how many calls come
    #: before them in the source, in source order
    stores: list[tuple[StoreNode, Scope, int]] = field(default_factory=list)
    #: every `return` statement and `yield` expression, in source order
    returns_and_yields: list[cst.Return | cst.Yield] = field(default_factory=list)
    #: every `break` statement and every `while` loop
    breaks: list[cst.Break] = field(default_factory=list)
    whiles: list[cst.While] = field(default_factory=list)
    #: `with` items with their scope and how many calls come before them in the source
    with_items: list[tuple[cst.WithItem, Scope, int]] = field(default_factory=list)
    #: every `with` statement, in the order the walk leaves them
    withs: list[WithBlock] = field(default_factory=list)
    #: every call and `with` statement in the order the walk leaves them (a call after the calls
    #: of its arguments, a `with` after its body): the order in which they are done
    exits: list[cst.Call | cst.With] = field(default_factory=list)
    #: the Names and calls of every call, of the test of every `if`, `while` and conditional
    #: expression, and of the left operand of every `and`/`or`
    spans: dict[cst.CSTNode, Span] = field(default_factory=dict)
