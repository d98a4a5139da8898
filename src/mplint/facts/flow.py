"""The flow of the owners (functions, or the module's top level) that make a tracked object:
what happens to each local name that may hold one, in source order, as typed `Event`s (a `Use`:
a method called on it, a `with` that manages it, a store into a local collection, a daemon flag,
a polling loop, a loop over it, a builtin that runs through it, an escape), each with the loops
around it; how each tracked creation is used where it is made (`Made`); where each name is
rebound and how the owners' blocks nest, so that a rebinding every path reaches can be told; and
the source order of the owners' calls and `with` blocks.

The tracked creations are the processes, pools, executors and managers (`lifecycles.py`
assembles their events per object) and the pending results of pools (`results.py`). Only their
owners are walked (and the whole module when module code owns one); `uses.py` reads the syntax
around each use. The one flow of a module is `ModuleFacts.flow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Iterable, Iterator, NamedTuple, Union

import libcst as cst

from mplint.facts.resolve import owner_of
from mplint.facts.scopes import assigned_names
from mplint.facts.uses import How, Seen, Use, UseReader, _SAME_ELEMENTS
from mplint.facts.walk import ClassTest, Walker

if TYPE_CHECKING:
    from mplint.facts.lifecycles import Holder
    from mplint.facts.names import Names
    from mplint.facts.scopes import Scope

#: a local name: the scope that binds it, and the name
Key = tuple["Scope", str]

#: what an event does: a `Use` other than `Use.CALL`, or for a call the method called (a name of
#: the vocabularies of `apis.py`)
Action = Union[Use, str]


# class tests of every node the walk passes, by the node's class (`walk.ClassTest`)
_ENTERED_OR_NOT = ClassTest(cst.FunctionDef, cst.ClassDef, cst.Lambda)
_OWN_BODY = ClassTest(cst.FunctionDef, cst.Lambda)
_STATEMENT = ClassTest(cst.SimpleStatementLine, cst.BaseCompoundStatement)
_COMPOUND = ClassTest(cst.BaseCompoundStatement)


@dataclass(frozen=True, eq=False)
class Event:
    """Something that happens to an object (or to every element of a collection) in its owner:
    a `Use`, and for `Use.CALL` the method called (`start`, `join`, `map`, ...)."""

    use: Use
    node: cst.CSTNode
    #: position in source order: events with a higher order come later in the text
    order: int
    #: the loops (for, while, comprehensions) of the owner around the event, outermost first
    loops: tuple[cst.CSTNode, ...]
    #: it happens to the elements of a collection (through a loop variable, subscript or map())
    element: bool = False
    into: Holder | None = None  # for `Use.STORE`: the collection stored into
    #: inside `with pytest.raises(...)`, `with self.assertRaises(...)` and the like: it is
    #: expected to fail
    expected_to_fail: bool = False
    method: str | None = None
    #: the name as written where it is used (the loop variable for an element)
    mention: cst.CSTNode | None = None

    @property
    def action(self) -> Action:
        """What it does: the method called for `Use.CALL`, else the `Use` itself."""
        return self.method if self.method is not None else self.use

    def calls(self, *methods: str) -> bool:
        """It calls one of `methods` on the object."""
        return self.use is Use.CALL and self.method in methods

    def after(self, other: Event) -> bool:
        """Runs after `other` on some path: later in the text, or both repeat in one loop."""
        return self.order > other.order or any(loop in other.loops for loop in self.loops)


class Span(NamedTuple):
    """A `with` statement of an owner's own code, by the order of its first node, of its body's
    first node and of its last node: a node of order o is in the statement when first < o <=
    last, in its body when body <= o <= last."""

    node: cst.With
    first: int
    body: int
    last: int


@dataclass(eq=False)
class Made:
    """How a tracked creation is used where it is made, and where that is."""

    how: How
    order: int
    #: the loops of the owner around the creation, outermost first
    loops: tuple[cst.CSTNode, ...]
    #: inside `with pytest.raises(...)` and the like
    expected_to_fail: bool
    #: the syntax around the creation: its parent and grandparent
    parent: cst.CSTNode
    grand: cst.CSTNode
    #: the name bound to it, or the collection it is put into ("name", "element", "with")
    key: Key | None = None
    #: for "unbound": what happens to the creation itself (`Process(...).start()`)
    seen: Seen | None = None
    event: Event | None = None


class Flow(UseReader, Walker):
    """Records, in source order, what happens to every name that may hold a tracked object, and
    how the owners' blocks nest (for the rebindings every path reaches)."""

    @classmethod
    def of(
        cls, module: cst.Module, scopes: Iterable[Scope], names: Names, creations: dict[cst.Call, Scope],
        helpers: object = None,
    ) -> Flow:
        """The flow of the owners of `creations` (each creation with its owner); `helpers`
        (`handed.Handed`) says what the module's helpers do with what they are given."""
        owners = set(creations.values())
        # names that may hold an object: bound in an owner or in a comprehension of one
        candidates: set[str] = set()
        for scope in scopes:
            if owner_of(scope) in owners and scope.kind != "class":
                candidates.update(scope.bindings)
        flow = cls(names, owners, candidates, creations)
        flow.helpers = helpers
        if creations:
            flow.walk(module)
        return flow

    def __init__(self, names: Names, owners: set[Scope], candidates: set[str], creations: Collection[cst.Call]) -> None:
        self.names = names
        self.owners = owners
        self.owner_nodes = {owner.node: owner for owner in owners}
        self.candidates = candidates
        self.creations = creations
        #: creation -> how it is used where it is made
        self.made: dict[cst.Call, Made] = {}
        #: the position in source order of each call of the owners' code
        self.order_of: dict[cst.Call, int] = {}
        #: each `with` of an owner's own code: [the owner, first, body, last] (see Span)
        self._withs: dict[cst.With, list] = {}
        # the defs and classes on the way to an owner must be entered; others only when module
        # code owns something (then any function may touch a global name)
        self.needed: set[cst.CSTNode] = set()
        for owner in owners:
            scope: Scope | None = owner
            while scope is not None:
                self.needed.add(scope.node)
                scope = scope.parent
        self.walk_everything = any(owner.kind == "module" for owner in owners)
        self.inside_owner = 0
        self.stack: list[cst.CSTNode] = []
        self.loops: list[cst.CSTNode] = []
        self.saved_loops: list[list[cst.CSTNode]] = []
        self.order = 0
        self.breaks: set[cst.CSTNode] = set()
        self.expecting = 0  # depth of `with pytest.raises(...)`-like blocks
        #: holder key -> what happens to the objects the name holds
        self.uses: dict[Key, list[Event]] = {}
        #: store event node -> the collection stored into
        self.store_targets: dict[cst.CSTNode, Key] = {}
        #: holder key -> where the name is bound: (order, the statement of a block that binds it)
        self.rebindings: dict[Key, list[tuple[int, cst.CSTNode | None]]] = {}
        #: statement -> the block (body) it is a statement of
        self.block_of: dict[cst.CSTNode, cst.CSTNode] = {}
        #: simple statement line -> the order of its last node
        self.statement_end: dict[cst.CSTNode, int] = {}
        #: block -> the compound statement it belongs to (not for a def's body)
        self.block_owner: dict[cst.CSTNode, cst.CSTNode] = {}

    # --- traversal ----------------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        cls = type(node)
        if _ENTERED_OR_NOT[cls] and not self._enter(node):
            return False
        self.order += 1
        self.stack.append(node)
        if _OWN_BODY[cls]:
            # a function's body does not repeat with the loops around its definition
            self.saved_loops.append(self.loops)
            self.loops = []
        if node in self.owner_nodes:
            self.inside_owner += 1
        if self.inside_owner:
            self._order(node)
        if _STATEMENT[cls] and len(self.stack) > 1:
            self.block_of[node] = self.stack[-2]
        elif cls is cst.IndentedBlock:
            # the if/with/try/... whose body it is; a def's body ends the climb (another scope)
            for outer in reversed(self.stack[:-1]):
                if type(outer) is cst.FunctionDef or type(outer) is cst.ClassDef:
                    break
                if _COMPOUND[type(outer)]:
                    self.block_owner[node] = outer
                    break
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not self.stack or self.stack[-1] is not original_node:
            return  # a def that was skipped
        super().on_leave(original_node)
        self.stack.pop()
        cls = type(original_node)
        if cls is cst.SimpleStatementLine:
            self.statement_end[original_node] = self.order + 1
        if _OWN_BODY[cls]:
            self.loops = self.saved_loops.pop()
        if original_node in self.owner_nodes:
            self.inside_owner -= 1

    def _enter(self, node: cst.CSTNode) -> bool:
        return self.walk_everything or self.inside_owner > 0 or node in self.needed

    def withs_in(self, owner: Scope) -> Iterator[Span]:
        """The `with` statements of an owner's own code, in source order."""
        for node, (scope, first, body, last) in self._withs.items():
            if scope is owner:
                yield Span(node, first, body, last)

    def _order(self, node: cst.CSTNode) -> None:
        """Records where the calls and `with` statements of the owners' code come."""
        cls = type(node)
        if cls is cst.Call:
            self.order_of[node] = self.order
        elif cls is cst.With:
            owner = self._own_code_of()
            if owner is not None:
                self._withs[node] = [owner, self.order, self.order, self.order]
        elif len(self.stack) > 1 and type(self.stack[-2]) is cst.With and self.stack[-2].body is node:
            span = self._withs.get(self.stack[-2])
            if span is not None:
                span[2] = self.order

    def _own_code_of(self) -> Scope | None:
        """The owner whose own code the current node is (not a def, class or lambda inside it)."""
        for outer in reversed(self.stack):
            if type(outer) in (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.Module):
                return self.owner_nodes.get(outer)
        return None

    def visit_For(self, node: cst.For) -> bool:
        # the iterable is evaluated once; the body repeats
        self.walk(node.target)
        self.walk(node.iter)
        self.loops.append(node)
        self.walk(node.body)
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def visit_While(self, node: cst.While) -> bool:
        self.loops.append(node)
        self.walk(node.test)
        self.walk(node.body)
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def _visit_comprehension(self, node: cst.CSTNode) -> None:
        self.loops.append(node)

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        self.loops.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    def visit_With(self, node: cst.With) -> None:
        self.expecting += _expects_failure(node)

    def leave_With(self, original_node: cst.With) -> None:
        self.expecting -= _expects_failure(original_node)
        if original_node in self._withs:
            self._withs[original_node][3] = self.order

    def visit_Break(self, node: cst.Break) -> None:
        if self.loops and type(self.loops[-1]) in (cst.For, cst.While):
            self.breaks.add(self.loops[-1])

    def visit_Return(self, node: cst.Return) -> None:
        # a return leaves every loop around it: such a loop may well run only once
        self.breaks.update(loop for loop in self.loops if type(loop) in (cst.For, cst.While))

    # --- creations ----------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if node not in self.creations:
            return
        i = len(self.stack) - 1
        how, detail = self._creation_context(i)
        made = self.made[node] = Made(
            how, self.order, tuple(self.loops), self.expecting > 0, self.stack[i - 1], self.stack[i - 2]
        )
        if how == "unbound":
            made.seen = seen = self._use(i)
            made.event = self._event(seen.use, seen.where, method=seen.method, mention=node)
        elif how in ("name", "element", "with") and type(detail) is cst.Name:
            made.key = self._key(detail)
            if made.key is None:
                made.how = "unknown"

    # --- uses of names ------------------------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.candidates or len(self.stack) < 2:
            return
        i = len(self.stack) - 1
        if not self._is_use(i):
            if self.inside_owner:
                key = self._key(node)
                if key is not None:
                    self.rebindings.setdefault(key, []).append((self.order, self._statement(i)))
            return
        scope = self.names.scope_of(node)
        if scope is None:
            return
        found = self.names.lookup(node.value, scope)
        if found is None:
            return
        where, bindings = found
        aliased = self._loop_alias(node, where, bindings)
        if aliased is not None:
            for key, element in aliased:
                self._record(key, i, scope, element)
            return
        if owner_of(where) in self.owners:
            self._record((where, node.value), i, scope, False)

    def _record(self, key: Key, i: int, use_scope: Scope, element: bool) -> None:
        mention = self.stack[i]
        if owner_of(use_scope) is not owner_of(key[0]):
            # a nested function or lambda uses it: it may run at any time, anywhere
            event = self._event(Use.ESCAPE, mention, element, mention=mention)
        else:
            seen = self._use(i)
            element = element or seen.each  # done to every element: `procs[i].join()`, `map(...)`
            event = self._event(seen.use, seen.where, element, seen.method, mention)
            if seen.use is Use.STORE and seen.into is not None:
                target = self._key(seen.into)
                if target is None:
                    event = self._event(Use.ESCAPE, seen.where, element, mention=mention)
                else:
                    self.store_targets[seen.where] = target
        self.uses.setdefault(key, []).append(event)

    def _event(
        self, use: Use, node: cst.CSTNode, element: bool = False, method: str | None = None,
        mention: cst.CSTNode | None = None,
    ) -> Event:
        return Event(
            use, node, self.order, tuple(self.loops), element, method=method,
            expected_to_fail=self.expecting > 0, mention=mention,
        )

    def _statement(self, i: int) -> cst.CSTNode | None:
        """The innermost statement around stack[i]."""
        for node in reversed(self.stack[: i + 1]):
            if _STATEMENT[type(node)]:
                return node
        return None

    def _key(self, name: cst.Name) -> Key | None:
        scope = self.names.scope_of(name)
        found = self.names.lookup(name.value, scope) if scope is not None else None
        return (found[0], name.value) if found is not None else None

    def _loop_alias(
        self, node: cst.Name, where: Scope, bindings: list
    ) -> list[tuple[Key, bool]] | None:
        """For a loop variable, the holders its values come from: (key, as an element of it)."""
        loop: cst.For | cst.CompFor | None = None
        if where.kind == "comprehension":
            fors = [b.node for b in bindings if type(b.node) is cst.CompFor]
            if len(fors) == 1:
                loop = fors[0]
        else:
            for ancestor in reversed(self.stack):
                if type(ancestor) is cst.For and self._binds(ancestor.target, node.value, where):
                    loop = ancestor
                    break
        if loop is None:
            return None
        return self._iterated(loop.target, node.value, loop.iter)

    def _binds(self, target: cst.BaseExpression, name: str, where: Scope) -> bool:
        for bound in assigned_names(target):
            if bound.value == name:
                return self.names.scope_of(bound) is where
        return False

    def _iterated(
        self, target: cst.BaseExpression, name: str, iterable: cst.BaseExpression
    ) -> list[tuple[Key, bool]]:
        """Where the values `name` takes in `for <target> in <iterable>` come from."""
        position: int | None = None
        if type(target) in (cst.Tuple, cst.List):
            for index, element in enumerate(target.elements):
                if type(element.value) is cst.Name and element.value.value == name:
                    position = index
            if position is None:
                return []
        return self._elements(iterable, position)

    def _elements(self, iterable: cst.BaseExpression, position: int | None) -> list[tuple[Key, bool]]:
        if type(iterable) is cst.Name and position is None:
            key = self._key(iterable)
            return [(key, True)] if key is not None else []
        if type(iterable) in (cst.List, cst.Tuple, cst.Set) and position is None:
            keys = []
            for element in iterable.elements:
                if type(element.value) is cst.Name:
                    key = self._key(element.value)
                    if key is not None:
                        keys.append((key, False))
            return keys
        if type(iterable) is cst.Subscript:  # a slice of the collection
            return self._elements(iterable.value, position)
        if type(iterable) is not cst.Call or not iterable.args:
            if type(iterable) is cst.Call and type(iterable.func) is cst.Attribute:
                attr = iterable.func.attr.value
                if attr == "values" and position is None:
                    return self._elements(iterable.func.value, None)
                if attr == "items" and position == 1:
                    return self._elements(iterable.func.value, None)
            return []
        func = iterable.func
        builtin = self._builtin(func)
        if builtin in _SAME_ELEMENTS:
            return self._elements(iterable.args[0].value, position)
        if builtin == "enumerate" and position == 1:
            return self._elements(iterable.args[0].value, None)
        if builtin == "zip" and position is not None and position < len(iterable.args):
            return self._elements(iterable.args[position].value, None)
        return []


_EXPECTING_FAILURE = frozenset(
    {"raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "warns", "assertWarns",
     "assertWarnsRegex"}
)


def _expects_failure(node: cst.With) -> bool:
    for item in node.items:
        call = item.item
        if type(call) is cst.Call:
            func = call.func
            name = func.attr.value if type(func) is cst.Attribute else getattr(func, "value", None)
            if name in _EXPECTING_FAILURE:
                return True
    return False


