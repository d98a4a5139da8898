"""MPL007: joining a process that puts on a queue before taking the items off that queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from mplint.apis import Kind, methods
from mplint.facts import CallSite, FunctionInfo, Instance, ModuleFacts, Scope
from mplint.facts.resolve import owner_of
from mplint.rules.base import Report, Rule

_PUTS = methods(Kind.QUEUE).put
_GETS = methods(Kind.QUEUE).get


@dataclass(frozen=True)
class _Producer:
    """A queue of the parent that a process's code puts on."""

    queue: cst.BaseExpression  # how the parent names it, where the process is made
    scope: Scope
    instance: Instance
    worker: FunctionInfo
    #: the worker calls `cancel_join_thread()` on it: it exits without flushing what it put
    cancelled: bool = False


class JoinBeforeDrain(Rule):
    """Finds `p.join()` on a process whose code puts items on a `multiprocessing.Queue`,
    `JoinableQueue` or `SimpleQueue` when the same function takes the items off that queue
    (`q.get()`) only after the join. The queue is followed into the process through its
    `args=`/`kwargs=` (also through `functools.partial` and helpers the worker hands it to) and,
    for `Process` subclasses, through the constructor into `self.queue`. Not reported: joins with
    a timeout, queues the parent reads before joining, workers that only put a few literal markers
    (`None`, a number) or flags (`a != b`, `not ok`), and manager queues (`manager.Queue()`), which do not hold the child back.
    A worker that calls `cancel_join_thread()` is still reported: its join returns, but the items
    it had not flushed are lost, and a `get()` can then block on a half-written item."""

    code = "MPL007"
    name = "join-before-drain"
    summary = "`join()` on a process that puts on a queue the parent reads only after the join (deadlock)"
    why = (
        "A process that has put items on a `multiprocessing.Queue` does not exit until a "
        "background thread has written all of them into the underlying pipe, and a pipe holds "
        "only a limited buffer (64 KiB by default on Linux). If the parent calls `join()` "
        "before it reads the queue, the child waits for the parent to read and the parent waits "
        "for the child to exit: the program hangs. It works in tests with small results and hangs "
        "in production once the results grow, on every platform and start method. "
        "`SimpleQueue.put()` writes to the pipe itself and blocks the same way."
    )
    fix = (
        "Take the items off the queue before joining: one `q.get()` per expected item (or read "
        "until a sentinel such as `None` that each worker puts last), then `join()` the "
        "processes. If the results fit a pool's model, `Pool.map` or "
        "`ProcessPoolExecutor.map` return them without a queue."
    )
    bad_example = '''\
import multiprocessing


def render(page, out):
    out.put((page, f"<html>{page}</html>" * 10_000))


if __name__ == "__main__":
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=render, args=(n, out)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    pages = dict(out.get() for _ in workers)
    print(len(pages))
'''
    good_example = '''\
import multiprocessing


def render(page, out):
    out.put((page, f"<html>{page}</html>" * 10_000))


if __name__ == "__main__":
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=render, args=(n, out)) for n in range(4)]
    for w in workers:
        w.start()
    pages = dict(out.get() for _ in workers)
    for w in workers:
        w.join()
    print(len(pages))
'''
    references = (
        (
            "multiprocessing programming guidelines: joining processes that use queues",
            "https://docs.python.org/3/library/multiprocessing.html#all-start-methods",
        ),
        (
            "multiprocessing.Queue (the feeder thread and cancel_join_thread)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Queue",
        ),
        (
            "Pipes and Queues",
            "https://docs.python.org/3/library/multiprocessing.html#pipes-and-queues",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        joins = [
            (index, site)
            for index, site in enumerate(facts.calls)
            if isinstance(site.node.func, cst.Attribute)
            and site.node.func.attr.value == "join"
            and not site.node.args  # a timeout returns: no deadlock
        ]
        if not joins:
            return
        finder = _Producers(facts)
        for index, site in joins:
            process = facts.values.instance_of(site.node.func.value, site.scope)  # type: ignore[attr-defined]
            if process is None or process.kind is not Kind.PROCESS:
                continue
            owner = owner_of(site.scope)
            for producer in finder.of(process):
                gets = [
                    (i, get)
                    for i, queue, get in finder.gets_in(owner)
                    if _same_object(facts, queue, get.scope, producer.queue, producer.scope)
                ]
                if gets and all(i > index for i, _ in gets):
                    yield Report(site.node, _message(facts, site, producer, gets[0][1]))
                    break


def _message(facts: ModuleFacts, join: CallSite, producer: _Producer, get: CallSite) -> str:
    queue = facts.code(producer.queue)
    simple = producer.instance.api.qualname.endswith("SimpleQueue")
    start = (
        f"`{facts.code(join.node)}` waits for a process whose worker `{producer.worker.name}` puts on "
        f"`{queue}`, but this function reads `{queue}` only after the join (line {facts.line_of(get.node)})"
    )
    fix = f"take the items off `{queue}` first, then join"
    if producer.cancelled:
        return (
            f"{start}: the worker's `cancel_join_thread()` lets it exit without flushing, so items "
            f"that did not fit the pipe are lost and the read can block on a half-written one; {fix}"
        )
    held = (
        "`SimpleQueue.put()` blocks until the parent reads"
        if simple
        else "a process does not exit until everything it put has been flushed into the pipe"
    )
    return (
        f"{start}: {held}, so once the items outgrow the pipe buffer the child and the parent wait "
        f"for each other forever; {fix}"
    )


class _Producers:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._gets: dict[Scope | None, list[tuple[int, cst.BaseExpression, CallSite]]] | None = None
        self._sites: dict[cst.Call, CallSite] | None = None

    def gets_in(self, owner: Scope | None) -> list[tuple[int, cst.BaseExpression, CallSite]]:
        """Where one function (or the module's top level) reads a queue, in source order: the
        `x.get()` calls, and calls handed `x.get` itself (`iter(x.get, None)`): (order, x, call)."""
        if self._gets is None:
            self._gets = {}
            for index, site in enumerate(self.facts.calls):
                func = site.node.func
                reads = [func] + [arg.value for arg in site.node.args]
                for read in reads:
                    if isinstance(read, cst.Attribute) and read.attr.value in _GETS:
                        self._gets.setdefault(owner_of(site.scope), []).append((index, read.value, site))
        return self._gets.get(owner, [])

    def of(self, process: Instance) -> Iterator[_Producer]:
        """The queues that the code of this process puts on, as the parent names them."""
        facts = self.facts
        for dispatch in facts.workers.dispatches:
            if dispatch.kind != "target" or dispatch.site is None or dispatch.site.node is not process.creation:
                continue
            worker = dispatch.worker
            if worker is None:
                continue
            for param, argument in dispatch.arguments().items():
                queue = facts.values.instance_of(argument, dispatch.scope)  # type: ignore[arg-type]
                if queue is None or queue.kind is not Kind.QUEUE:
                    continue
                puts = facts.arguments.method_calls_on(worker, param, _PUTS)
                if _fills_pipe(puts):
                    cancelled = bool(facts.arguments.method_calls_on(worker, param, {"cancel_join_thread"}))
                    yield _Producer(argument, dispatch.scope, queue, worker, cancelled)  # type: ignore[arg-type]
        if process.cls is not None:
            yield from self._through_constructor(process)

    def _through_constructor(self, process: Instance) -> Iterator[_Producer]:
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
            if len(assigned) != 1 or not _fills_pipe(calls):
                continue
            param = facts.arguments.parameter(assigned[0][0], assigned[0][1])
            if param is None or param[0] is not init or param[1] not in passed:
                continue
            argument = passed[param[1]]
            queue = facts.values.instance_of(argument, site.scope)
            if queue is not None and queue.kind is Kind.QUEUE:
                yield _Producer(argument, site.scope, queue, run, attribute in cancelled)

    def _site_of(self, call: cst.Call) -> CallSite | None:
        if self._sites is None:
            self._sites = {site.node: site for site in self.facts.calls}
        return self._sites.get(call)


def _self_attribute(facts: ModuleFacts, call: CallSite, cls: cst.ClassDef) -> str | None:
    """`x` for a call `self.x.method(...)` in a method of `cls`."""
    func = call.node.func
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Attribute):
        return None
    holder = func.value
    if facts.names.class_of(holder.value, call.scope) is not cls:
        return None
    return holder.attr.value


def _fills_pipe(puts: list[CallSite]) -> bool:
    """Some put may carry real data: not every one of them puts a literal marker."""
    return any(not (site.node.args and _is_marker(site.node.args[0].value)) for site in puts)


def _is_marker(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in ("None", "True", "False")
    if isinstance(expr, cst.Comparison) or (
        isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not)
    ):
        return True  # `a != b`, `not done`: a bool, however big the operands
    return isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString))


def _same_object(
    facts: ModuleFacts, a: cst.BaseExpression, a_scope: Scope, b: cst.BaseExpression, b_scope: Scope
) -> bool:
    """`a` and `b` name the same variable: one name bound in one scope, or `self.x` of one class."""
    if isinstance(a, cst.Name) and isinstance(b, cst.Name):
        if a.value != b.value:
            return False
        found_a = facts.names.lookup(a.value, a_scope)
        found_b = facts.names.lookup(b.value, b_scope)
        return found_a is not None and found_b is not None and found_a[0] is found_b[0]
    if isinstance(a, cst.Attribute) and isinstance(b, cst.Attribute) and a.deep_equals(b):
        cls = facts.names.class_of(a.value, a_scope)
        return cls is not None and cls is facts.names.class_of(b.value, b_scope)
    return False
