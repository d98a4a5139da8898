"""What happens to each process, pool, executor and manager a module creates.

For every creation of such an object (a `Lifecycle`), in the function or module that owns it:
how the creation is used (a `with` item, bound to a local name, put into a local collection,
never bound, handed to someone else), and the `Event`s that follow in that owner, in source
order: methods called on it (`start`, `join`, `close`, `terminate`, `shutdown`, `map`, ...),
context-manager use (`with`, `contextlib.closing()`, `ExitStack.enter_context()`), escapes
(returned, yielded, stored on an attribute, aliased, passed to a call, captured by a nested
function), a daemon flag, and stores into a collection whose elements are later handled through
loop variables (`for p in procs: p.join()`), comprehensions, subscripts or `map()`.

The analysis is deliberately modest: names are followed only inside their owner (a name is a
`Holder`), flow is approximated by source order plus the loops around each event, and anything it
cannot follow is an escape. Rules that need certainty treat an escape as "someone else handles it".

Only modules that create such objects are walked, and only the functions that own one (or the
whole module when module-level code owns one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

import libcst as cst

from mplint import apis
from mplint.facts.names import Names
from mplint.facts.resolve import owner_of
from mplint.facts.scopes import CallSite, ClassInfo, Scope
from mplint.facts.syntax import EXHAUSTING_BUILTINS
from mplint.facts.values import Instance, Values
from mplint.facts.walk import Walker

#: the kinds of object whose lifecycle is followed: each owns child processes that someone must reap
TRACKED_KINDS = frozenset(
    {apis.Kind.PROCESS, apis.Kind.POOL, apis.Kind.PROCESS_EXECUTOR, apis.Kind.MANAGER,
     apis.Kind.MANAGER_CLASS}
)

LIFECYCLE_METHODS = apis.LIFECYCLE_METHODS

#: builtins that look at an object without keeping it
_INSPECTING_BUILTINS = frozenset(
    {"print", "len", "repr", "str", "id", "isinstance", "type", "bool", "hash", "format", "callable"}
)
#: unittest assertions (`self.assertTrue(proc)`): they look at an object without keeping it
_ASSERTIONS = frozenset(
    {
        "assertTrue", "assertFalse", "assertIsNone", "assertIsNotNone", "assertIsInstance",
        "assertNotIsInstance", "assertEqual", "assertNotEqual", "assertIs", "assertIsNot",
        "assertIn", "assertNotIn",
    }
)
#: builtins whose result iterates the same elements (`for p in reversed(procs)`)
_SAME_ELEMENTS = frozenset({"list", "tuple", "set", "sorted", "reversed", "iter"})
#: callers that run a `map()` iterator to its end, so the mapped join runs for every element
#: (`any` too: join() returns None, which `any` passes over; `all` stops at the first None)
_CONSUMERS = EXHAUSTING_BUILTINS | {"any"}
_STORE_METHODS = frozenset({"append", "add", "insert", "appendleft"})
_NOT_PROXY_METHODS = LIFECYCLE_METHODS | apis.methods(apis.Kind.MANAGER).no_proxy
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp)


# --- the facts --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Event:
    """Something that happens to an object (or to every element of a collection) in its owner.

    `verb` is the method called (`"start"`, `"join"`, `"map"`, ...) or one of: `"with"` (managed
    by a context manager), `"escape"` (someone else may handle it from here), `"store"` (put
    into the collection `into`), `"daemon"` (its daemon flag set to something other than False),
    `"poll"` (`is_alive()`/`exitcode` as a `while` condition: the polling reaps it).
    """

    verb: str
    node: cst.CSTNode
    #: position in source order: events with a higher order come later in the text
    order: int
    #: the loops (for, while, comprehensions) of the owner around the event, outermost first
    loops: tuple[cst.CSTNode, ...]
    #: it happens to the elements of a collection (through a loop variable, subscript or map())
    element: bool = False
    into: Holder | None = None
    #: inside `with pytest.raises(...)`, `with self.assertRaises(...)` and the like: it is
    #: expected to fail
    expected_to_fail: bool = False

    def after(self, other: Event) -> bool:
        """Runs after `other` on some path: later in the text, or both repeat in one loop."""
        return self.order > other.order or any(loop in other.loops for loop in self.loops)


@dataclass(eq=False)
class Holder:
    """A local name of the owner that holds such objects (`pool`) or a collection of them (`procs`)."""

    name: str
    scope: Scope
    owner: Scope
    collection: bool
    kind: apis.Kind
    events: list[Event] = field(default_factory=list)
    #: the creations bound to the name (or put into the collection) in the owner
    lifecycles: list[Lifecycle] = field(default_factory=list)

    def stores(self) -> Iterator[Event]:
        return (e for e in self.events if e.verb == "store")


@dataclass(eq=False)
class Lifecycle:
    """One creation of a process, pool, executor or manager, and what its owner does with it."""

    instance: Instance
    site: CallSite
    #: the function (or module) whose code creates it
    owner: Scope
    #: how the creation is used: "with" (a context manager takes care of it), "name" (bound to
    #: `holder`), "element" (put into the collection `holder`), "unbound" (a method called on the
    #: creation itself: `Process(...).start()`), "discarded" (an expression statement), "escape"
    #: (returned, stored on an attribute, passed on, ...), "unknown"
    how: str = "unknown"
    holder: Holder | None = None
    order: int = 0
    #: the loops of the owner around the creation, outermost first
    loops: tuple[cst.CSTNode, ...] = ()
    #: events on the creation expression itself (`Process(...).start()`)
    own_events: list[Event] = field(default_factory=list)
    #: made with `daemon=` something other than False, or from a class that sets `daemon`
    daemon: bool = False
    #: created inside `with pytest.raises(...)` and the like: the creation is expected to fail
    expected_to_fail: bool = False

    @property
    def kind(self) -> apis.Kind:
        return self.instance.kind

    @property
    def creation(self) -> cst.Call:
        return self.instance.creation

    def events(self) -> list[Event]:
        """Everything that happens to this object, in source order: directly, through its name,
        and as an element of the collections it was put into."""
        found = list(self.own_events)
        if self.holder is not None:
            if self.how == "element":
                found.extend(_element_events(self.holder))
            else:
                found.extend(self.holder.events)
                for store in self.holder.stores():
                    if store.into is not None:
                        found.extend(_element_events(store.into))
        return sorted(found, key=lambda e: e.order)

    @property
    def escapes(self) -> bool:
        return self.how in ("escape", "unknown") or any(e.verb == "escape" for e in self.events())

    @property
    def siblings(self) -> list[Lifecycle]:
        """The creations bound to the same name or collection (itself included)."""
        return self.holder.lifecycles if self.holder is not None else [self]

    @property
    def rebinding_loop(self) -> cst.For | cst.While | None:
        """The innermost loop around a creation bound to a name: each pass rebinds the name."""
        if self.how != "name":
            return None
        for loop in reversed(self.loops):
            if isinstance(loop, (cst.For, cst.While)):
                return loop
        return None


def _element_events(collection: Holder) -> Iterator[Event]:
    return (e for e in collection.events if e.element or e.verb == "escape")


class Lifecycles:
    """The lifecycles of one module, computed on first use (ModuleFacts.lifecycles)."""

    def __init__(
        self,
        module: cst.Module,
        calls: list[CallSite],
        scopes: dict[cst.CSTNode, Scope],
        classes: dict[cst.ClassDef, ClassInfo],
        names: Names,
        values: Values,
    ) -> None:
        self._names = names
        self._values = values
        self._classes = classes
        self._by_creation: dict[cst.Call, Lifecycle] = {}
        #: loops that a `break` (of their own) or a `return` may leave early
        self.loops_with_break: set[cst.CSTNode] = set()
        for site in calls:
            instance = values.instance_of(site.node, site.scope)
            if instance is None or instance.kind not in TRACKED_KINDS:
                continue
            owner = owner_of(site.scope)
            if owner is None:
                continue  # a class body or a lambda: the object is someone else's
            life = Lifecycle(instance, site, owner)
            life.daemon = _daemon_keyword(site.node) or self._class_sets_daemon(instance.cls)
            self._by_creation[site.node] = life
        if self._by_creation:
            self._analyse(module, scopes)

    @property
    def all(self) -> list[Lifecycle]:
        """Every lifecycle, in source order of the creations."""
        return list(self._by_creation.values())

    def of(self, creation: cst.Call) -> Lifecycle | None:
        return self._by_creation.get(creation)

    def defines_method(self, life: Lifecycle, method: str) -> bool:
        """The object's class, or a base class of this module, defines `method`."""
        cls = life.instance.cls
        return cls is not None and any(method in info.methods for info in self._class_chain(cls))

    # --- building ---------------------------------------------------------------------------

    def _analyse(self, module: cst.Module, scopes: dict[cst.CSTNode, Scope]) -> None:
        owners = {life.owner for life in self._by_creation.values()}
        # names that may hold an object: bound in an owner or in a comprehension of one
        candidates: set[str] = set()
        for scope in scopes.values():
            if owner_of(scope) in owners and scope.kind != "class":
                candidates.update(scope.bindings)
        walker = _Walker(self, owners, candidates)
        walker.walk(module)
        self.loops_with_break = walker.breaks
        holders: dict[tuple[Scope, str], Holder] = {}

        def holder(key: tuple[Scope, str], collection: bool, kind: apis.Kind) -> Holder | None:
            scope, name = key
            owner = owner_of(scope)
            if owner is None or owner not in owners:
                return None
            found = holders.get(key)
            if found is None:
                probe = cst.Name(name)
                what = (
                    self._values.element_of(probe, scope) if collection
                    else self._values.instance_of(probe, scope)
                )
                if what is None:
                    return None
                found = holders[key] = Holder(name, scope, owner, collection, what.kind)
                found.events.extend(walker.uses.get(key, ()))
            if found.collection != collection or found.kind is not kind:
                return None
            return found

        for life in self._by_creation.values():
            key = walker.bound.get(life.creation)
            if key is None:
                continue
            found = holder(key, life.how == "element", life.kind)
            if found is not None and found.owner is life.owner:
                life.holder = found
                found.lifecycles.append(life)
            elif life.how == "name" and (segment := _segment(life, key, walker)) is not None:
                life.holder = segment
            elif life.how in ("name", "element"):
                life.how = "unknown"  # bound to a name that also holds other things: not followed
        # a store into a collection that cannot be followed is an escape; so is storing a
        # whole collection somewhere (only single objects are followed into collections)
        resolved: set[int] = set()
        while len(resolved) < len(holders):  # resolving a store may follow a new collection
            for found in list(holders.values()):
                if id(found) in resolved:
                    continue
                resolved.add(id(found))
                for i, event in enumerate(found.events):
                    if event.verb != "store":
                        continue
                    target = walker.store_targets.get(event.node)
                    into = holder(target, True, found.kind) if target and not found.collection else None
                    if into is None or into.owner is not found.owner:
                        found.events[i] = replace(event, verb="escape", into=None)
                    else:
                        found.events[i] = replace(event, into=into)

    def _class_chain(self, cls: cst.ClassDef) -> Iterator[ClassInfo]:
        seen: set[cst.ClassDef] = set()
        todo = [cls]
        while todo:
            current = todo.pop()
            if current in seen or current not in self._classes:
                continue
            seen.add(current)
            info = self._classes[current]
            yield info
            for base in current.bases:
                local = self._names.definition(base.value, info.outer)
                if isinstance(local, cst.ClassDef):
                    todo.append(local)

    def _class_sets_daemon(self, cls: cst.ClassDef | None) -> bool:
        """A class of the module that makes its instances daemons (`super().__init__(daemon=True)`,
        `self.daemon = True` in `__init__`, or a `daemon` class attribute)."""
        if cls is None:
            return False
        for info in self._class_chain(cls):
            if any(
                b.value is None or not _is_false(b.value) for b in info.scope.bindings.get("daemon", ())
            ):
                return True
            init = info.methods.get("__init__")
            if init is None:
                continue
            if any(_daemon_keyword(site.node) for site in init.calls):
                return True
            finder = _DaemonAssignment()
            finder.walk(init.node.body)
            if finder.found:
                return True
        return False


def _segment(life: Lifecycle, key: tuple[Scope, str], walker: _Walker) -> Holder | None:
    """For a creation bound to a name that holds other things too (`p = Pool()` ... later
    `with ThreadPoolExecutor() as p:`): what happens to the name from the creation up to the
    next rebinding, when every path from the creation reaches that rebinding (it is a statement
    of the creation's block or of a block around it) and no loop repeats the creation. None when
    the name cannot be followed that way."""
    scope, name = key
    if life.loops or owner_of(scope) is not life.owner:
        return None
    statement = life.site.statement
    blocks: set[cst.CSTNode] = set()
    current: cst.CSTNode | None = statement
    while current in walker.block_of:  # the blocks around the creation, innermost first
        block = walker.block_of[current]
        blocks.add(block)
        current = _statement_of_block(block, walker)
    end: int | None = None
    for order, bound_at in walker.rebindings.get(key, ()):
        if order <= life.order or bound_at is statement:
            continue
        if bound_at is None or walker.block_of.get(bound_at) not in blocks:
            return None  # a rebinding on some paths only: the name may still hold the creation
        if isinstance(bound_at, cst.SimpleStatementLine):
            # `pool = wrap(pool)`: the right-hand side still sees the creation
            order = walker.statement_end.get(bound_at, order)
        end = order if end is None else min(end, order)
    if end is None:
        return None  # not rebound afterwards: the other values came first, yet it is unresolved
    events = []
    for event in walker.uses.get(key, ()):
        if event.verb == "escape":
            events.append(event)  # a closure may use the name at any time
        elif life.order <= event.order < end:
            # a store is not followed into its collection here: count it as an escape
            events.append(replace(event, verb="escape", into=None) if event.verb == "store" else event)
    segment = Holder(name, scope, life.owner, False, life.kind, events)
    segment.lifecycles.append(life)
    return segment


def _statement_of_block(block: cst.CSTNode, walker: _Walker) -> cst.CSTNode | None:
    """The statement whose body `block` is (None for the module or a function's body)."""
    return walker.block_owner.get(block)


# --- the walk ---------------------------------------------------------------------------------


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


def _daemon_keyword(call: cst.Call) -> bool:
    return any(
        arg.keyword is not None and arg.keyword.value == "daemon" and not _is_false(arg.value)
        for arg in call.args
    )


class _DaemonAssignment(Walker):
    def __init__(self) -> None:
        self.found = False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if (
                isinstance(target.target, cst.Attribute)
                and target.target.attr.value == "daemon"
                and not _is_false(node.value)
            ):
                self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _unwrap_binding_position(stack: list[cst.CSTNode], i: int) -> tuple[cst.CSTNode, cst.CSTNode]:
    """Climb from stack[i] through tuple/list/starred targets: (the outermost one, its parent)."""
    while i > 0 and isinstance(stack[i - 1], (cst.Element, cst.StarredElement, cst.Tuple, cst.List)):
        i -= 1
    return stack[i], stack[i - 1] if i > 0 else stack[i]


_Key = tuple[Scope, str]


class _Walker(Walker):
    """Records, in source order, what happens to every name that may hold a tracked object."""

    def __init__(self, lifecycles: Lifecycles, owners: set[Scope], candidates: set[str]) -> None:
        self.lifecycles = lifecycles
        self.names = lifecycles._names
        self.owners = owners
        self.owner_nodes = {owner.node for owner in owners}
        self.candidates = candidates
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
        self.uses: dict[_Key, list[Event]] = {}
        #: creation -> the name (or collection) it is bound to
        self.bound: dict[cst.Call, _Key] = {}
        #: store event node -> the collection stored into
        self.store_targets: dict[cst.CSTNode, _Key] = {}
        #: holder key -> where the name is bound: (order, the statement of a block that binds it)
        self.rebindings: dict[_Key, list[tuple[int, cst.CSTNode | None]]] = {}
        #: statement -> the block (body) it is a statement of
        self.block_of: dict[cst.CSTNode, cst.CSTNode] = {}
        #: simple statement line -> the order of its last node
        self.statement_end: dict[cst.CSTNode, int] = {}
        #: block -> the compound statement it belongs to (not for a def's body)
        self.block_owner: dict[cst.CSTNode, cst.CSTNode] = {}

    # --- traversal ----------------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and not self._enter(node):
            return False
        self.order += 1
        self.stack.append(node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            # a function's body does not repeat with the loops around its definition
            self.saved_loops.append(self.loops)
            self.loops = []
        if node in self.owner_nodes:
            self.inside_owner += 1
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) and len(self.stack) > 1:
            self.block_of[node] = self.stack[-2]
        elif isinstance(node, cst.IndentedBlock):
            # the if/with/try/... whose body it is; a def's body ends the climb (another scope)
            for outer in reversed(self.stack[:-1]):
                if isinstance(outer, (cst.FunctionDef, cst.ClassDef)):
                    break
                if isinstance(outer, cst.BaseCompoundStatement):
                    self.block_owner[node] = outer
                    break
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not self.stack or self.stack[-1] is not original_node:
            return  # a def that was skipped
        super().on_leave(original_node)
        self.stack.pop()
        if isinstance(original_node, cst.SimpleStatementLine):
            self.statement_end[original_node] = self.order + 1
        if isinstance(original_node, (cst.FunctionDef, cst.Lambda)):
            self.loops = self.saved_loops.pop()
        if original_node in self.owner_nodes:
            self.inside_owner -= 1

    def _enter(self, node: cst.CSTNode) -> bool:
        return self.walk_everything or self.inside_owner > 0 or node in self.needed

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

    def visit_Break(self, node: cst.Break) -> None:
        if self.loops and isinstance(self.loops[-1], (cst.For, cst.While)):
            self.breaks.add(self.loops[-1])

    def visit_Return(self, node: cst.Return) -> None:
        # a return leaves every loop around it: such a loop may well run only once
        self.breaks.update(loop for loop in self.loops if isinstance(loop, (cst.For, cst.While)))

    # --- creations ----------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        life = self.lifecycles._by_creation.get(node)
        if life is None:
            return
        life.order = self.order
        life.loops = tuple(self.loops)
        life.expected_to_fail = self.expecting > 0
        how, detail = self._creation_context(len(self.stack) - 1)
        life.how = how
        if how == "unbound":
            verb, where, _ = self._use(len(self.stack) - 1)
            life.own_events.append(self._event(verb, where))
            if life.kind is apis.Kind.MANAGER and verb not in _NOT_PROXY_METHODS:
                # `Manager().dict()`: the proxy keeps its manager alive, and the manager's
                # finalizer shuts the server down when the proxy goes: the proxy owns it
                life.own_events.append(self._event("escape", where))
        elif how in ("name", "element", "with") and isinstance(detail, cst.Name):
            key = self._key(detail)
            if key is None:
                life.how = "unknown"
            else:
                self.bound[node] = key

    def _creation_context(self, i: int) -> tuple[str, cst.CSTNode | None]:
        """How the expression stack[i], which makes a new object, is used."""
        expr, parent = self.stack[i], self.stack[i - 1]
        if isinstance(parent, cst.IfExp) and parent.test is not expr:
            return self._creation_context(i - 1)  # either branch flows to the same place
        if isinstance(parent, cst.Attribute) and parent.value is expr:
            return "unbound", None
        if isinstance(parent, cst.Expr):
            return "discarded", None
        if isinstance(parent, cst.Assign) and parent.value is expr:
            if len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                return "name", parent.targets[0].target
            return "escape", None
        if isinstance(parent, (cst.AnnAssign, cst.NamedExpr)) and parent.value is expr:
            target = parent.target
            return ("name", target) if isinstance(target, cst.Name) else ("escape", None)
        if isinstance(parent, cst.WithItem) and parent.item is expr:
            bound = parent.asname.name if parent.asname is not None else None
            return "with", bound if isinstance(bound, cst.Name) else None
        if isinstance(parent, cst.Arg) and parent.value is expr:
            verb, _, into = self._passed(i - 2)
            if verb == "with":
                return "with", None
            if verb == "store" and into is not None:
                return "element", into
            return "escape", None
        literal = None
        if isinstance(parent, cst.Element) and i >= 2:
            literal = i - 2
        elif isinstance(parent, _COMPREHENSIONS) and parent.elt is expr:
            literal = i - 1
        if literal is not None:
            into = self._collection_target(literal)
            return ("element", into) if into is not None else ("escape", None)
        if isinstance(parent, (cst.Return, cst.Yield, cst.Lambda, cst.Await)):
            return "escape", None
        return "unknown", None

    def _collection_target(self, j: int) -> cst.Name | None:
        """The local name a list/tuple/set literal or comprehension at stack[j] fills, if any."""
        literal, parent = self.stack[j], self.stack[j - 1]
        if isinstance(parent, cst.Assign) and parent.value is literal:
            if len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                return parent.targets[0].target
        elif isinstance(parent, (cst.AnnAssign, cst.AugAssign)) and parent.value is literal:
            return parent.target if isinstance(parent.target, cst.Name) else None
        elif isinstance(parent, cst.Arg) and parent.value is literal:
            call = self.stack[j - 2]
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "extend"
                and isinstance(call.func.value, cst.Name)
            ):
                return call.func.value
        return None

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

    def _record(self, key: _Key, i: int, use_scope: Scope, element: bool) -> None:
        if owner_of(use_scope) is not owner_of(key[0]):
            # a nested function or lambda uses it: it may run at any time, anywhere
            event = self._event("escape", self.stack[i], element)
        else:
            verb, where, into = self._use(i)
            if verb == "read":
                return
            if verb.startswith("each:"):  # done to every element: `procs[i].join()`, `map(...)`
                verb, element = verb[len("each:"):], True
            event = self._event(verb, where, element)
            if verb == "store" and into is not None:
                target = self._key(into)
                if target is None:
                    event = self._event("escape", where, element)
                else:
                    self.store_targets[where] = target
        self.uses.setdefault(key, []).append(event)

    def _event(self, verb: str, node: cst.CSTNode, element: bool = False) -> Event:
        return Event(
            verb, node, self.order, tuple(self.loops), element, expected_to_fail=self.expecting > 0
        )

    def _statement(self, i: int) -> cst.CSTNode | None:
        """The innermost statement around stack[i]."""
        for node in reversed(self.stack[: i + 1]):
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return node
        return None

    def _key(self, name: cst.Name) -> _Key | None:
        scope = self.names.scope_of(name)
        found = self.names.lookup(name.value, scope) if scope is not None else None
        return (found[0], name.value) if found is not None else None

    def _is_use(self, i: int) -> bool:
        """stack[i] (a Name) is read as a value: not a label, not a target being bound."""
        node, parent = self.stack[i], self.stack[i - 1]
        if isinstance(parent, (cst.Attribute, cst.Arg)):
            return parent.value is node  # not `x.name`, not `f(name=...)`
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Param)):
            return parent.name is not node
        if isinstance(parent, cst.AugAssign):
            return parent.target is not node
        if isinstance(parent, (cst.ImportAlias, cst.NameItem, cst.AsName, cst.Del)):
            return False
        outer, holder = _unwrap_binding_position(self.stack, i)
        if isinstance(holder, (cst.AssignTarget, cst.AsName)):
            return False
        if isinstance(holder, (cst.For, cst.CompFor)) and holder.target is outer:
            return False
        if isinstance(holder, cst.NamedExpr) and holder.target is outer:
            return False
        return True

    def _loop_alias(
        self, node: cst.Name, where: Scope, bindings: list
    ) -> list[tuple[_Key, bool]] | None:
        """For a loop variable, the holders its values come from: (key, as an element of it)."""
        loop: cst.For | cst.CompFor | None = None
        if where.kind == "comprehension":
            fors = [b.node for b in bindings if isinstance(b.node, cst.CompFor)]
            if len(fors) == 1:
                loop = fors[0]
        else:
            for ancestor in reversed(self.stack):
                if isinstance(ancestor, cst.For) and self._binds(ancestor.target, node.value, where):
                    loop = ancestor
                    break
        if loop is None:
            return None
        return self._iterated(loop.target, node.value, loop.iter)

    def _binds(self, target: cst.BaseExpression, name: str, where: Scope) -> bool:
        for bound in _target_names(target):
            if bound.value == name:
                return self.names.scope_of(bound) is where
        return False

    def _iterated(
        self, target: cst.BaseExpression, name: str, iterable: cst.BaseExpression
    ) -> list[tuple[_Key, bool]]:
        """Where the values `name` takes in `for <target> in <iterable>` come from."""
        position: int | None = None
        if isinstance(target, (cst.Tuple, cst.List)):
            for index, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name) and element.value.value == name:
                    position = index
            if position is None:
                return []
        return self._elements(iterable, position)

    def _elements(self, iterable: cst.BaseExpression, position: int | None) -> list[tuple[_Key, bool]]:
        if isinstance(iterable, cst.Name) and position is None:
            key = self._key(iterable)
            return [(key, True)] if key is not None else []
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)) and position is None:
            keys = []
            for element in iterable.elements:
                if isinstance(element.value, cst.Name):
                    key = self._key(element.value)
                    if key is not None:
                        keys.append((key, False))
            return keys
        if isinstance(iterable, cst.Subscript):  # a slice of the collection
            return self._elements(iterable.value, position)
        if not isinstance(iterable, cst.Call) or not iterable.args:
            if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute):
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

    def _builtin(self, func: cst.BaseExpression) -> str | None:
        """The builtin `func` names, unless the module rebinds that name."""
        if not isinstance(func, cst.Name):
            return None
        scope = self.names.scope_of(func)
        if scope is not None and self.names.lookup(func.value, scope) is not None:
            return None
        return func.value

    # --- what a use does ----------------------------------------------------------------------

    def _use(self, i: int) -> tuple[str, cst.CSTNode, cst.Name | None]:
        """What the expression stack[i] (an object, or a collection of them) undergoes where it is
        used: (verb, where, collection stored into)."""
        expr, parent = self.stack[i], self.stack[i - 1]
        grand = self.stack[i - 2] if i >= 2 else parent
        if isinstance(parent, cst.Attribute) and parent.value is expr:
            attr = parent.attr.value
            if isinstance(grand, cst.Call) and grand.func is parent:
                if attr == "is_alive" and self._in_while_test(i - 2):
                    return "poll", grand, None
                return attr, grand, None
            if isinstance(grand, cst.AssignTarget) and grand.target is parent and i >= 3:
                assign = self.stack[i - 3]
                if attr == "daemon" and isinstance(assign, cst.Assign) and not _is_false(assign.value):
                    return "daemon", assign, None
                return "read", parent, None
            if attr == "exitcode" and self._in_while_test(i - 1):
                return "poll", parent, None
            if attr in LIFECYCLE_METHODS:
                return "escape", parent, None  # a bound method handed on: whoever holds it may call it
            return "read", parent, None
        if isinstance(parent, cst.Subscript) and parent.value is expr:
            verb, where, into = self._use(i - 1)
            if verb in ("read", "escape") or verb.startswith("each:"):
                return verb, where, into
            return "each:" + verb, where, into
        if isinstance(parent, cst.Arg) and parent.value is expr:
            return self._passed(i - 2)
        if isinstance(parent, (cst.Element, cst.StarredElement)) and i >= 2:
            literal = self.stack[i - 2]
            loop = self.stack[i - 3] if i >= 3 else None
            if isinstance(loop, (cst.For, cst.CompFor)) and loop.iter is literal:
                return "read", literal, None  # the loop variable stands for it: see _loop_alias
            into = self._collection_target(i - 2)
            return ("store", literal, into) if into is not None else ("escape", literal, None)
        if isinstance(parent, cst.WithItem) and parent.item is expr:
            return "with", parent, None
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is expr:
            return "read", parent, None
        if isinstance(parent, cst.AssignTarget) and isinstance(expr, cst.Subscript):
            return "read", parent, None  # procs[i] = ...: a store into the collection
        if isinstance(
            parent,
            (cst.Comparison, cst.ComparisonTarget, cst.Expr, cst.FormattedStringExpression, cst.Del,
             cst.CompIf, cst.If, cst.While, cst.Assert),
        ):
            return "read", parent, None
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
            return "read", parent, None
        if isinstance(parent, cst.IfExp) and parent.test is expr:
            return "read", parent, None
        if isinstance(parent, cst.BooleanOperation):
            j = i - 1
            while j > 0 and isinstance(self.stack[j - 1], cst.BooleanOperation):
                j -= 1
            top = self.stack[j - 1]
            if isinstance(top, (cst.If, cst.While, cst.Assert, cst.CompIf, cst.Expr)) or (
                isinstance(top, cst.UnaryOperation) and isinstance(top.operator, cst.Not)
            ):
                return "read", parent, None
        if isinstance(parent, cst.AugAssign) and parent.target is expr:
            return "read", parent, None
        return "escape", parent, None

    def _passed(self, j: int) -> tuple[str, cst.CSTNode, cst.Name | None]:
        """What the call at stack[j] does with an object passed to it."""
        call = self.stack[j]
        if not isinstance(call, cst.Call):
            return "escape", call, None
        func = call.func
        scope = self.names.scope_of(func) if isinstance(func, cst.Name) else None
        if isinstance(func, cst.Attribute):
            scope = self._scope_of_expr(func)
        qualname = self.names.qualname(func, scope) if scope is not None else None
        if qualname == "contextlib.closing":
            outer = self.stack[j - 1]
            if isinstance(outer, cst.WithItem) and outer.item is call:
                return "with", outer, None
            if isinstance(outer, cst.Arg) and self._passed(j - 2)[0] == "with":
                return "with", call, None
            return "escape", call, None
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ("enter_context", "push"):
                return "with", call, None
            if attr in _STORE_METHODS and isinstance(func.value, cst.Name):
                return "store", call, func.value
            if attr in _ASSERTIONS and isinstance(func.value, cst.Name) and func.value.value == "self":
                return "read", call, None
            return "escape", call, None
        builtin = self._builtin(func)
        if builtin in _INSPECTING_BUILTINS:
            return "read", call, None
        if builtin == "map" and len(call.args) == 2 and call.args[1] is self.stack[j + 1]:
            method = _mapped_method(call.args[0].value)
            if method is not None:
                # map() is lazy: unless something runs through it, the method is never called
                return ("each:" + method if self._consumed(j) else "read"), call, None
        if builtin in _SAME_ELEMENTS or builtin in ("enumerate", "zip"):
            outer = self.stack[j - 1]
            if isinstance(outer, (cst.For, cst.CompFor)) and outer.iter is call:
                return "read", call, None  # the loop variable stands for it
        return "escape", call, None

    def _scope_of_expr(self, expr: cst.BaseExpression) -> Scope | None:
        while isinstance(expr, cst.Attribute):
            expr = expr.value
        return self.names.scope_of(expr) if isinstance(expr, cst.Name) else None

    def _consumed(self, j: int) -> bool:
        """The iterator made by the call at stack[j] is run through (map() is lazy)."""
        call, outer = self.stack[j], self.stack[j - 1]
        if isinstance(outer, (cst.For, cst.CompFor)) and outer.iter is call:
            return True
        if isinstance(outer, cst.Arg) and j >= 2:
            consumer = self.stack[j - 2]
            return isinstance(consumer, cst.Call) and self._builtin(consumer.func) in _CONSUMERS
        return False

    def _in_while_test(self, i: int) -> bool:
        """stack[i] is (part of) the condition of a while loop."""
        while i > 0:
            parent = self.stack[i - 1]
            if isinstance(parent, cst.While):
                return parent.test is self.stack[i]
            if not isinstance(
                parent, (cst.UnaryOperation, cst.BooleanOperation, cst.Comparison, cst.ComparisonTarget)
            ):
                return False
            i -= 1
        return False


_EXPECTING_FAILURE = frozenset(
    {"raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "warns", "assertWarns",
     "assertWarnsRegex"}
)


def _expects_failure(node: cst.With) -> bool:
    for item in node.items:
        call = item.item
        if isinstance(call, cst.Call):
            func = call.func
            name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
            if name in _EXPECTING_FAILURE:
                return True
    return False


def _target_names(target: cst.BaseExpression) -> Iterable[cst.Name]:
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)


def _mapped_method(func: cst.BaseExpression) -> str | None:
    """The method `map(func, objects)` calls on each object: `Process.join`, `lambda p: p.join()`."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Lambda) and len(func.params.params) == 1:
        param = func.params.params[0].name.value
        body = func.body
        if (
            isinstance(body, cst.Call)
            and isinstance(body.func, cst.Attribute)
            and isinstance(body.func.value, cst.Name)
            and body.func.value.value == param
        ):
            return body.func.attr.value
    return None
