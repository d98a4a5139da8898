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

The walk is the module's flow fact (flow.py, with the syntax reader of uses.py), which walks
only the functions that own a tracked creation (or the whole module when module-level code owns
one); this module picks the creations and assembles their events per object.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Callable, Iterable, Iterator

import libcst as cst

from mplint import apis
from mplint.facts.names import Names
from mplint.facts.resolve import owner_of
from mplint.facts.scopes import CallSite, ClassInfo, Scope, StoreNode
from mplint.facts.flow import Event, Flow, Key, Use
from mplint.facts.uses import How, _daemon_keyword, _is_false
from mplint.facts.syntax import argument
from mplint.facts.values import Instance, Values

#: the kinds of object whose lifecycle is followed: each owns child processes that someone must reap
TRACKED_KINDS = frozenset(
    {apis.Kind.PROCESS, apis.Kind.POOL, apis.Kind.PROCESS_EXECUTOR, apis.Kind.MANAGER,
     apis.Kind.MANAGER_CLASS}
)

LIFECYCLE_METHODS = apis.LIFECYCLE_METHODS
#: methods of a manager that return no proxy (every other method makes a shared object whose
#: proxy holds a reference to the manager)
_NOT_PROXY_METHODS = LIFECYCLE_METHODS | apis.methods(apis.Kind.MANAGER).no_proxy


def _owned(instance: Instance) -> bool:
    """The caller must end it: not a reusable executor the library keeps, nor an mpire pool that
    stops its workers after each map (it keeps them with `keep_alive=True`)."""
    if instance.api.owned:
        return True
    keep = argument(instance.creation, None, "keep_alive")
    return type(keep) is cst.Name and keep.value == "True"


# --- the facts --------------------------------------------------------------------------------


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
        return (e for e in self.events if e.use is Use.STORE)


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
    how: How = "unknown"
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
        return self.how in ("escape", "unknown") or any(e.use is Use.ESCAPE for e in self.events())

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
            if type(loop) in (cst.For, cst.While):
                return loop
        return None


def _element_events(collection: Holder) -> Iterator[Event]:
    return (e for e in collection.events if e.element or e.use is Use.ESCAPE)


def creations(calls: Iterable[CallSite], values: Values) -> Iterator[tuple[CallSite, Instance, Scope]]:
    """The creations whose lifecycle is followed: (the call, the object, its owner)."""
    for site in calls:
        instance = values.instance_of(site.node, site.scope)
        if instance is None or instance.kind not in TRACKED_KINDS or not _owned(instance):
            continue
        owner = owner_of(site.scope)
        if owner is not None:  # else a class body or a lambda: the object is someone else's
            yield site, instance, owner


def _as_lifecycles_see_it(events: Iterable[Event]) -> list[Event]:
    """A look at the object or a loop over it is no event of its own (the loop variable's are);
    a builtin that runs through it may keep what it yields: an escape."""
    return [
        replace(e, use=Use.ESCAPE) if e.use is Use.CONSUME else e
        for e in events
        if e.use not in (Use.ITERATE, Use.READ, Use.LENT)
    ]


class Lifecycles:
    """The lifecycles of one module, computed on first use (ModuleFacts.lifecycles)."""

    def __init__(
        self,
        made: Iterable[tuple[CallSite, Instance, Scope]],
        flow: Callable[[], Flow],
        classes: dict[cst.ClassDef, ClassInfo],
        names: Names,
        values: Values,
        stores: list[tuple[StoreNode, Scope, int]],
    ) -> None:
        """`made`: the creations (`creations()`); `flow`: the module's flow fact, asked only
        when there is one; `stores`: the module's assignments (`Collected.stores`)."""
        self._stores = stores
        self._names = names
        self._values = values
        self._classes = classes
        self._by_creation: dict[cst.Call, Lifecycle] = {}
        #: loops that a `break` (of their own) or a `return` may leave early
        self.loops_with_break: set[cst.CSTNode] = set()
        for site, instance, owner in made:
            life = Lifecycle(instance, site, owner)
            life.daemon = _daemon_keyword(site.node) or self._class_sets_daemon(instance.cls)
            self._by_creation[site.node] = life
        if self._by_creation:
            self._analyse(flow())

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

    def release(self) -> None:
        """Cut the links from each name's holder back to its lifecycles (a reference cycle
        through the module's scopes and tree: `ModuleFacts.release`)."""
        for life in self._by_creation.values():
            if life.holder is not None:
                life.holder.lifecycles.clear()
            life.holder = None

    # --- building ---------------------------------------------------------------------------

    def _analyse(self, walker: Flow) -> None:
        owners = {life.owner for life in self._by_creation.values()}
        self.loops_with_break = walker.breaks
        for life in self._by_creation.values():
            made = walker.made.get(life.creation)
            if made is None:
                continue  # never reached by the walk
            life.order, life.loops, life.how = made.order, made.loops, made.how
            life.expected_to_fail = made.expected_to_fail
            if made.event is not None and made.seen is not None:
                life.own_events.append(made.event)
                seen = made.seen
                if life.kind is apis.Kind.MANAGER and not (seen.use is Use.CALL and seen.method in _NOT_PROXY_METHODS):
                    # `Manager().dict()`: the proxy keeps its manager alive, and the manager's
                    # finalizer shuts the server down when the proxy goes: the proxy owns it
                    life.own_events.append(replace(made.event, use=Use.ESCAPE, method=None))
        holders: dict[Key, Holder] = {}

        def holder(key: Key, collection: bool, kind: apis.Kind) -> Holder | None:
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
                found.events.extend(_as_lifecycles_see_it(walker.uses.get(key, ())))
            if found.collection != collection or found.kind is not kind:
                return None
            return found

        for life in self._by_creation.values():
            made = walker.made.get(life.creation)
            key = made.key if made is not None else None
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
                    if event.use is not Use.STORE:
                        continue
                    target = walker.store_targets.get(event.node)
                    into = holder(target, True, found.kind) if target and not found.collection else None
                    if into is None or into.owner is not found.owner:
                        found.events[i] = replace(event, use=Use.ESCAPE, method=None, into=None)
                    else:
                        found.events[i] = replace(event, into=into)
        for found in holders.values():
            _split_at_rebindings(found, walker)

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
                if type(local) is cst.ClassDef:
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
            if init.scope in self._daemon_assigned:
                return True
        return False

    @cached_property
    def _daemon_assigned(self) -> set[Scope]:
        """The functions whose own code (a class body inside included) sets a `daemon` attribute
        to something other than False: `self.daemon = True`."""
        found: set[Scope] = set()
        for node, scope, _ in self._stores:
            if type(node) is not cst.Assign or _is_false(node.value):  # type: ignore[union-attr]
                continue
            if any(
                type(t.target) is cst.Attribute and t.target.attr.value == "daemon"
                for t in node.targets  # type: ignore[union-attr]
            ):
                while scope.kind == "class" and scope.parent is not None:
                    scope = scope.parent
                found.add(scope)
        return found


def _split_at_rebindings(found: Holder, walker: Flow) -> None:
    """A name bound to one creation after another (`pool = Pool()` ... `pool.close()` ...
    `pool = Pool()`): when every path from each creation reaches the next rebinding and no loop
    repeats one, each creation's events are the name's up to the next rebinding (the last one's
    up to the end), so that closing the first does not close the second. Otherwise they keep
    the name's events together: a close on any path may be the one that ends it."""
    lives = found.lifecycles
    if len(lives) < 2 or any(life.how != "name" for life in lives):
        return
    key = (found.scope, found.name)
    last = max(lives, key=lambda life: life.order)
    segments = [_segment(life, key, walker, last=life is last) for life in lives]
    if all(segment is not None for segment in segments):
        for life, segment in zip(lives, segments):
            life.holder = segment


def _segment(life: Lifecycle, key: Key, walker: Flow, last: bool = False) -> Holder | None:
    """For a creation bound to a name that holds other things too (`p = Pool()` ... later
    `with ThreadPoolExecutor() as p:`): what happens to the name from the creation up to the
    next rebinding, when every path from the creation reaches that rebinding (it is a statement
    of the creation's block or of a block around it) and no loop repeats the creation; for the
    `last` of the name's creations, up to the end when nothing rebinds it after. None when the
    name cannot be followed that way."""
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
        if type(bound_at) is cst.SimpleStatementLine:
            # `pool = wrap(pool)`: the right-hand side still sees the creation
            order = walker.statement_end.get(bound_at, order)
        end = order if end is None else min(end, order)
    if end is None and not last:
        return None  # not rebound afterwards: the other values came first, yet it is unresolved
    events = []
    for event in _as_lifecycles_see_it(walker.uses.get(key, ())):
        if event.use is Use.ESCAPE:
            events.append(event)  # a closure may use the name at any time
        elif life.order <= event.order and (end is None or event.order < end):
            # a store is not followed into its collection here: count it as an escape
            events.append(replace(event, use=Use.ESCAPE, method=None, into=None) if event.use is Use.STORE else event)
    segment = Holder(name, scope, life.owner, False, life.kind, events)
    segment.lifecycles.append(life)
    return segment


def _statement_of_block(block: cst.CSTNode, walker: Flow) -> cst.CSTNode | None:
    """The statement whose body `block` is (None for the module or a function's body)."""
    return walker.block_owner.get(block)
