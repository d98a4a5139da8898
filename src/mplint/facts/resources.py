"""Queues, pipe ends, locks and events as the module uses them: which object an expression is, the
method calls made on each, and whether code mplint cannot see gets hold of one.

A resource is made by a call of the table (`mp.Queue()`, `mp.Lock()`), by a manager
(`manager.JoinableQueue()`, see `proxies`), or is one end of a `Pipe()` unpacked into two names
(`parent, child = mp.Pipe()`). It is followed through names, `self` attributes and the parameters
that every caller (and every hand-over to a child) fills with it.

A resource *escapes* when it is given to a call whose code is not in the module (a function of
another module, a process target defined elsewhere, `other_queue.put(q)`): what happens to it
there is unknown. Giving it to a function or class of the module, to a `Process`/pool/`Thread`
whose target is one, or to `print`/`repr`/`isinstance` is not an escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import libcst as cst

from mplint import apis

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, Scope
    from mplint.facts.workers import Dispatch

_KINDS = {
    apis.Kind.QUEUE: "queue",
    apis.Kind.PIPE: "pipe",
    apis.Kind.LOCK: "lock",
    apis.Kind.EVENT: "event",
}
_PROXY_KINDS = {
    "Queue": "queue", "JoinableQueue": "queue", "Lock": "lock", "RLock": "lock",
    "Semaphore": "lock", "BoundedSemaphore": "lock", "Condition": "lock", "Barrier": "lock",
    "Event": "event",
}
_HARMLESS_BUILTINS = frozenset({"print", "repr", "str", "id", "isinstance", "type", "hash"})
_THREADS = frozenset({"threading.Thread"})

Key = tuple[cst.Call, Optional[int]]


@dataclass(frozen=True)
class Resource:
    #: "queue", "pipe", "lock" or "event"
    kind: str
    #: the class or proxy made: "JoinableQueue", "Queue", "Lock", "Pipe" ...
    type: str
    creation: cst.Call
    #: for a pipe: which end (0 or 1) of the pair `Pipe()` returns
    end: int | None = None
    #: made by a manager: a proxy to an object in the manager's process
    proxy: bool = False

    @property
    def key(self) -> Key:
        return (self.creation, self.end)


class Resources:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._index: tuple[dict[Key, list[CallSite]], dict[str, list[CallSite]]] | None = None
        self._escapes: set[Key] | None = None

    def resource_of(self, expr: cst.BaseExpression, scope: Scope) -> Resource | None:
        """The queue, pipe end, lock or event `expr` is, if known."""
        facts = self._facts
        instance = facts.received.instance_of(expr, scope)
        if instance is not None:
            kind = _KINDS.get(instance.kind)
            if kind is None or instance.kind is apis.Kind.PIPE:
                return None  # `Pipe()` itself is a pair, not one end
            return Resource(kind, apis.short_name(instance.api), instance.creation)
        proxy = facts.proxies.proxy_of(expr, scope)
        if proxy is not None:
            kind = _PROXY_KINDS.get(proxy.type)
            return Resource(kind, proxy.type, proxy.creation, proxy=True) if kind else None
        return self._pipe_end(expr, scope)

    def _pipe_end(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Resource | None:
        facts = self._facts
        if type(expr) is not cst.Name or depth > 4:
            return None
        found = facts.names.lookup(expr.value, scope)
        if found is None:
            return None
        where, bindings = found
        if len(bindings) != 1:
            return None
        node = bindings[0].node
        if type(node) is cst.Param:
            param = facts.arguments.parameter(expr, scope)
            given = facts.received.given(*param) if param is not None else None
            if not given:
                return None
            ends = [self._pipe_end(v, s, depth + 1) for v, s in given]
            first = ends[0]
            return first if first is not None and all(e == first for e in ends) else None
        if not (type(node) is cst.Assign and len(node.targets) == 1 and type(node.value) is cst.Call):
            return None
        target = node.targets[0].target
        api = facts.names.api(node.value.func, where)
        if api is None or api.kind is not apis.Kind.PIPE or type(target) not in (cst.Tuple, cst.List):
            return None
        names = [e.value.value if type(e.value) is cst.Name else None for e in target.elements]
        if len(names) != 2 or expr.value not in names:
            return None
        return Resource("pipe", "Connection", node.value, end=names.index(expr.value))

    # --- uses --------------------------------------------------------------------------------

    def _build(self) -> tuple[dict[Key, list[CallSite]], dict[str, list[CallSite]]]:
        if self._index is None:
            by_key: dict[Key, list[CallSite]] = {}
            unresolved: dict[str, list[CallSite]] = {}
            for site in self._facts.calls:
                func = site.node.func
                if type(func) is cst.Attribute and func.attr.value in apis.RESOURCE_METHODS:
                    resource = self.resource_of(func.value, site.scope)
                    if resource is not None:
                        by_key.setdefault(resource.key, []).append(site)
                    else:
                        unresolved.setdefault(func.attr.value, []).append(site)
            self._index = (by_key, unresolved)
        return self._index

    def method_calls(self, resource: Resource, methods: frozenset[str] | None = None) -> list[CallSite]:
        """The calls `x.m(...)` made on the resource (any of `methods`, or all of the vocabulary)."""
        sites = self._build()[0].get(resource.key, [])
        if methods is None:
            return list(sites)
        return [s for s in sites if s.node.func.attr.value in methods]  # type: ignore[attr-defined]

    def unresolved_calls(self, method: str) -> list[CallSite]:
        """The calls `.method(...)` whose receiver is no resource mplint knows (it may be any)."""
        return list(self._build()[1].get(method, []))

    def escapes(self, resource: Resource) -> bool:
        """The resource is given to code mplint cannot see (see the module docstring)."""
        if self._escapes is None:
            self._escapes = self._find_escapes()
        return resource.key in self._escapes

    def _find_escapes(self) -> set[Key]:
        facts = self._facts
        dispatched = {d.site.node: d for d in facts.workers.dispatches if d.site is not None}
        escaped: set[Key] = set()
        for site in facts.calls:
            given = [r for r in (self._passed(site)) if r.key not in escaped]
            if not given or self._visible(site, dispatched):
                continue
            escaped.update(r.key for r in given)
        return escaped

    def _passed(self, site: CallSite) -> list[Resource]:
        found = []
        for arg in site.node.args:
            values = [arg.value]
            if type(arg.value) in (cst.Tuple, cst.List):
                values = [e.value for e in arg.value.elements]
            for value in values:
                if type(value) in (cst.Name, cst.Attribute):
                    resource = self.resource_of(value, site.scope)
                    if resource is not None:
                        found.append(resource)
        return found

    def _visible(self, site: CallSite, dispatched: dict) -> bool:
        facts = self._facts
        func = site.node.func
        if facts.callgraph.callee(site) is not None:
            return True
        dispatch = dispatched.get(site.node)
        if dispatch is not None:
            return dispatch.worker is not None
        if type(func) is cst.Name and func.value in _HARMLESS_BUILTINS and facts.names.lookup(func.value, site.scope) is None:
            return True
        if facts.names.qualname(func, site.scope) in _THREADS:
            for arg in site.node.args:
                if arg.keyword is not None and arg.keyword.value == "target":
                    return type(facts.names.definition(arg.value, site.scope)) is cst.FunctionDef
        return False


def _inside(scope: Scope, functions: set[Scope]) -> bool:
    """Code of `scope` is part of one of `functions` (or of code nested in one)."""
    return any(function in functions for function in scope.functions())


#: methods that give a resource up rather than use it: safe on one a terminated process shared
_RELEASING = frozenset({"close", "cancel_join_thread", "join_thread", "fileno"})


class ProcessResources:
    """The queues, pipe ends and locks each process is given, and where they are used."""

    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._given: dict[cst.Call, list[Resource]] | None = None
        self._held: list[tuple[cst.WithItem, Scope, int, Resource | None]] | None = None

    def given(self, process: cst.Call) -> list[Resource]:
        """What the process made by `process` (a `Process(...)` or subclass call) is handed:
        in `args=`/`kwargs=`, or in the arguments of a `Process` subclass's constructor."""
        return self._build().get(process, [])

    def processes_given(self, resource: Resource) -> list[cst.Call]:
        """The process creations handed `resource` (either end, for a pipe)."""
        return [
            creation for creation, given in self._build().items()
            if any(r.creation is resource.creation for r in given)
        ]

    def only_handed_on(self, process: cst.Call, resource: Resource) -> bool:
        """The process made by `process` never uses the resource itself: what it runs (its
        target, the module's functions that calls from there reach, the code nested in them and
        the threads they start) only hands it on to processes of its own, and uses of it are
        made elsewhere. Terminating it cannot cut one of its own `put()`s short: a `parent_task`
        that starts the real worker and joins it. False when the resource escapes, or what the
        process runs is not known."""
        own = self._runs(process)
        if own is None:
            return False
        if any(_inside(scope, own) for _, scope, _ in self.uses(resource)):
            return False  # the process itself uses it (or code inside what it runs does)
        given = self._build()
        handed_on = any(
            dispatch.site.node is not process and _inside(dispatch.site.scope, own)
            and any(r.creation is resource.creation for r in given.get(dispatch.site.node, ()))
            for dispatch in self._targets()
        )
        # asked last: whether any resource escapes resolves every argument of every call
        return handed_on and not self._facts.resources.escapes(resource)

    def _targets(self) -> list[Dispatch]:
        return [d for d in self._facts.workers.dispatches if d.kind == "target" and d.site is not None]

    def _runs(self, process: cst.Call) -> set[Scope] | None:
        """The function scopes whose code the process made by `process` runs itself: its
        target and what calls and threads from there reach (not the processes it starts);
        None when a part of it is not known."""
        facts = self._facts
        workers = [d.worker for d in self._targets() if d.site.node is process]  # type: ignore[union-attr]
        if len(workers) != 1 or workers[0] is None:
            return None
        own: set[Scope] = set()
        pending = [workers[0]]
        while pending:
            for function in facts.callgraph.reached_from(pending.pop()):
                if function.scope in own:
                    continue
                own.add(function.scope)
                for thread in facts.workers.thread_dispatches:
                    if thread.site is not None and thread.site.scope.function is function.scope:
                        if thread.worker is None:
                            return None
                        pending.append(thread.worker)
        return own

    def _build(self) -> dict[cst.Call, list[Resource]]:
        if self._given is None:
            facts = self._facts
            self._given = {}
            for dispatch in facts.workers.dispatches:
                if dispatch.kind == "target" and dispatch.site is not None:
                    exprs = [*dispatch.args, *dispatch.kwargs.values()]
                    self._add(dispatch.site.node, exprs, dispatch.site.scope)
            for site in facts.calls:
                made = facts.values.instance_of(site.node, site.scope)
                if made is not None and made.creation is site.node and made.cls is not None and made.kind is apis.Kind.PROCESS:
                    self._add(site.node, [a.value for a in site.node.args], site.scope)
        return self._given

    def _add(self, creation: cst.Call, exprs: list[cst.BaseExpression], scope: Scope) -> None:
        resources = self._facts.resources
        for expr in exprs:
            resource = resources.resource_of(expr, scope)
            if resource is not None:
                self._given.setdefault(creation, []).append(resource)  # type: ignore[union-attr]

    def uses(self, resource: Resource) -> list[tuple[cst.CSTNode, Scope, int]]:
        """Where the module uses the resource (both ends, for a pipe): its method calls (but not
        `close()` and the like) and `with` blocks, each with its scope and source order."""
        facts = self._facts
        resources = facts.resources
        keys = [resource] if resource.end is None else [
            Resource(resource.kind, resource.type, resource.creation, end, resource.proxy) for end in (0, 1)
        ]
        found: list[tuple[cst.CSTNode, Scope, int]] = []
        for key in keys:
            for site in resources.method_calls(key):
                if site.node.func.attr.value not in _RELEASING:  # type: ignore[attr-defined]
                    found.append((site.node, site.scope, facts.statements.order(site.node)))
        for item, scope, order, held in self._with_items():
            if held is not None and held.creation is resource.creation:
                found.append((item, scope, order))
        return found

    def _with_items(self) -> list[tuple[cst.WithItem, Scope, int, Resource | None]]:
        """Every `with` item, with its scope, its order and the resource it holds (resolved once)."""
        if self._held is None:
            facts = self._facts
            self._held = [
                (item, scope, order, facts.resources.resource_of(item.item, scope))
                for item, scope, order in facts.statements.with_items
            ]
        return self._held
