"""Queues and pipes between a parent and its processes: which queue of the parent a process's
code puts on (its target through a parameter, or a `Process` subclass's `run` through `self.x`
set in `__init__`), which end of a `Pipe()` its target sends on, and where each function of the
parent reads a queue or receives from a pipe end, in source order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from mplint.apis import Kind, methods
from mplint.facts.resolve import owner_of

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.resources import Resource
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope
    from mplint.facts.values import Instance

_PUTS = methods(Kind.QUEUE).put
_GETS = methods(Kind.QUEUE).get
_SENDS = methods(Kind.PIPE).put
_RECVS = methods(Kind.PIPE).get


@dataclass(frozen=True)
class Producer:
    """A queue of the parent that a process's code puts on."""

    queue: cst.BaseExpression  # how the parent names it, where the process is made
    scope: Scope
    instance: Instance
    worker: FunctionInfo
    #: the worker calls `cancel_join_thread()` on it: it exits without flushing what it put
    cancelled: bool = False


@dataclass(frozen=True)
class PipeSender:
    """A pipe end that a process's code sends on: the parent receives from the other end."""

    end: cst.BaseExpression  # how the parent names the end it gives the process
    scope: Scope
    resource: Resource
    worker: FunctionInfo


class Producers:
    """The queues that processes put on and where each function reads a queue
    (ModuleFacts.producers)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._gets: dict[Scope | None, list[tuple[int, cst.BaseExpression, CallSite]]] | None = None

    def gets_in(self, owner: Scope | None) -> list[tuple[int, cst.BaseExpression, CallSite]]:
        """Where one function (or the module's top level) reads a queue, in source order: the
        `x.get()` calls, and calls handed `x.get` itself (`iter(x.get, None)`): (order, x, call)."""
        return self._reads(owner, _GETS)

    def recvs_in(self, owner: Scope | None) -> list[tuple[int, cst.BaseExpression, CallSite]]:
        """Where one function (or the module's top level) receives from a pipe end, in source
        order: `c.recv()`, `c.recv_bytes()`, and calls handed `c.recv` (order, c, call)."""
        return self._reads(owner, _RECVS)

    def _reads(self, owner: Scope | None, methods: frozenset[str]) -> list[tuple[int, cst.BaseExpression, CallSite]]:
        if self._gets is None:
            self._gets = {}
            for index, site in enumerate(self.facts.calls):
                func = site.node.func
                reads = [func] + [arg.value for arg in site.node.args]
                for read in reads:
                    if type(read) is cst.Attribute and read.attr.value in _GETS | _RECVS:
                        self._gets.setdefault(owner_of(site.scope), []).append((index, read.value, site))
        return [
            (index, read, site) for index, read, site in self._gets.get(owner, [])
            if _method(site, read) in methods
        ]

    def pipe_senders(self, process: Instance) -> Iterator[PipeSender]:
        """The ends of `Pipe()`s given to this process (`args=`) that its target sends on, with
        something that may fill the pipe (see `_fills_pipe`)."""
        facts = self.facts
        for worker, param, argument, scope in self._handed(process):
            end = facts.resources.resource_of(argument, scope)
            if end is None or end.kind != "pipe" or end.end is None:
                continue
            if _fills_pipe(facts, facts.arguments.method_calls_on(worker, param, _SENDS)):
                yield PipeSender(argument, scope, end, worker)

    def _handed(self, process: Instance) -> Iterator[tuple[FunctionInfo, str, cst.BaseExpression, Scope]]:
        """What the process's target receives from the parent: (target, parameter, argument, scope)."""
        for dispatch in self.facts.workers.dispatches:
            if dispatch.kind != "target" or dispatch.site is None or dispatch.site.node is not process.creation:
                continue
            if dispatch.worker is None:
                continue
            for param, argument in dispatch.arguments().items():
                yield dispatch.worker, param, argument, dispatch.site.scope

    def of(self, process: Instance) -> Iterator[Producer]:
        """The queues that the code of this process puts on, as the parent names them."""
        facts = self.facts
        for worker, param, argument, scope in self._handed(process):
            queue = facts.values.instance_of(argument, scope)
            if queue is None or queue.kind is not Kind.QUEUE:
                continue
            puts = facts.arguments.method_calls_on(worker, param, _PUTS)
            if _fills_pipe(facts, puts):
                cancelled = bool(facts.arguments.method_calls_on(worker, param, {"cancel_join_thread"}))
                yield Producer(argument, scope, queue, worker, cancelled)
        if process.cls is not None:
            yield from self._through_constructor(process)

    def _through_constructor(self, process: Instance) -> Iterator[Producer]:
        """`class W(Process)` whose `run` puts on `self.q`, set in `__init__` from a parameter."""
        facts = self.facts
        info = facts.classes[process.cls]  # type: ignore[index]
        run = info.methods.get("run")
        init = info.methods.get("__init__")
        site = self._site_of(process.creation)
        if run is None or init is None or site is None:
            return
        puts: dict[str, list[CallSite]] = {}
        cancelled: set[str] = set()
        for function in facts.callgraph.reached_from(run):
            for call in function.calls:
                attribute = _self_attribute(facts, call, info.node)
                if attribute is None:
                    continue
                if call.node.func.attr.value in _PUTS:  # type: ignore[attr-defined]
                    puts.setdefault(attribute, []).append(call)
                elif call.node.func.attr.value == "cancel_join_thread":  # type: ignore[attr-defined]
                    cancelled.add(attribute)
        passed = facts.arguments.bind(site, init)
        for attribute, calls in puts.items():
            assigned = info.attributes.get(attribute, [])
            if len(assigned) != 1 or not _fills_pipe(facts, calls):
                continue
            param = facts.arguments.parameter(assigned[0][0], assigned[0][1])
            if param is None or param[0] is not init or param[1] not in passed:
                continue
            argument = passed[param[1]]
            queue = facts.values.instance_of(argument, site.scope)
            if queue is not None and queue.kind is Kind.QUEUE:
                yield Producer(argument, site.scope, queue, run, attribute in cancelled)

    def _site_of(self, call: cst.Call) -> CallSite | None:
        return self.facts.site_of.get(call)


def _method(site: CallSite, read: cst.BaseExpression) -> str:
    """The method of a read found at `site`: `get` for `q.get()` or `iter(q.get, None)`."""
    for expr in (site.node.func, *(arg.value for arg in site.node.args)):
        if type(expr) is cst.Attribute and expr.value is read:
            return expr.attr.value
    return ""


def _self_attribute(facts: ModuleFacts, call: CallSite, cls: cst.ClassDef) -> str | None:
    """`x` for a call `self.x.method(...)` in a method of `cls`."""
    func = call.node.func
    if type(func) is not cst.Attribute or type(func.value) is not cst.Attribute:
        return None
    holder = func.value
    if facts.names.class_of(holder.value, call.scope) is not cls:
        return None
    return holder.attr.value


def _fills_pipe(facts: ModuleFacts, puts: list[CallSite]) -> bool:
    """Some put may carry real data: not every one of them puts a value known to be small."""
    return any(
        not (site.node.args and facts.payloads.small(site.node.args[0].value, site.scope)) for site in puts
    )


def same_object(
    facts: ModuleFacts, a: cst.BaseExpression, a_scope: Scope, b: cst.BaseExpression, b_scope: Scope
) -> bool:
    """`a` and `b` name the same variable: one name bound in one scope, or `self.x` of one class."""
    if type(a) is cst.Name and type(b) is cst.Name:
        if a.value != b.value:
            return False
        found_a = facts.names.lookup(a.value, a_scope)
        found_b = facts.names.lookup(b.value, b_scope)
        return found_a is not None and found_b is not None and found_a[0] is found_b[0]
    if type(a) is cst.Attribute and type(b) is cst.Attribute and a.deep_equals(b):
        cls = facts.names.class_of(a.value, a_scope)
        return cls is not None and cls is facts.names.class_of(b.value, b_scope)
    return False
