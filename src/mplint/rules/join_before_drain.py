"""MPL007: joining a process that puts on a queue (or sends on a pipe) before taking the items off."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind, methods
from mplint.facts import CallSite, Instance, ModuleFacts, PipeSender, Producer, Scope
from mplint.facts.queues import same_object
from mplint.facts.resolve import owner_of
from mplint.rules.base import Report, Rule


class JoinBeforeDrain(Rule):
    """Finds `p.join()` on a process whose code puts items on a `multiprocessing.Queue`,
    `JoinableQueue` or `SimpleQueue` when the same function takes the items off that queue
    (`q.get()`) only after the join. The queue is followed into the process through its
    `args=`/`kwargs=` (also through `functools.partial` and helpers the worker hands it to) and,
    for `Process` subclasses, through the constructor into `self.queue`. Not reported: joins with
    a timeout, queues the parent reads before joining, workers that only put values known to be
    small (`None`, a number, a flag such as `a != b`, `len(rows)`, `os.getpid()`, a number the
    worker was given, what a function of the module returns when every `return` is small, tuples
    and f-strings of those), and manager queues (`manager.Queue()`), which do not hold the child
    back. Text whose size the input decides (`traceback.format_exc()`, captured output) is still
    reported.
    A worker that calls `cancel_join_thread()` is still reported: its join returns, but the items
    it had not flushed are lost, and a `get()` can then block on a half-written item. The same
    holds for a `Pipe()`: a process given one end (`args=`/`kwargs=`, also through helpers) whose
    target sends on it (`send`, `send_bytes`) something other than those small markers, joined
    before the function receives from the other end (`recv`, `recv_bytes`), with `Pipe()`,
    `Pipe(False)` and `Pipe(duplex=False)` (whose second end sends). Pipes held in `self` by a
    `Process` subclass are not followed. Nor is a join reported after the same function
    `terminate()`s or `kill()`s the process: a killed child cannot hold the join back (reading
    what it shared then is MPL018's finding)."""

    code = "MPL007"
    name = "join-before-drain"
    summary = "`join()` on a process that puts on a queue or pipe the parent reads only after the join (deadlock)"
    why = (
        "A process that has put items on a `multiprocessing.Queue` does not exit until a "
        "background thread has written all of them into the underlying pipe, and a pipe holds "
        "only a limited buffer (64 KiB by default on Linux). If the parent calls `join()` "
        "before it reads the queue, the child waits for the parent to read and the parent waits "
        "for the child to exit: the program hangs. It works in tests with small results and hangs "
        "in production once the results grow, on every platform and start method. "
        "`SimpleQueue.put()` writes to the pipe itself and blocks the same way, and so does "
        "`Connection.send()` on the end of a `Pipe()`: the child cannot return from `send()`, "
        "let alone exit, until the parent receives."
    )
    fix = (
        "Take the items off the queue before joining: one `q.get()` per expected item (or read "
        "until a sentinel such as `None` that each worker puts last), then `join()` the "
        "processes; for a pipe, `recv()` on the parent's end before the join. If the results "
        "fit a pool's model, `Pool.map` or "
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
            if type(site.node.func) is cst.Attribute  # LibCST's node classes have no subclasses
            and site.node.func.attr.value == "join"
            and not site.node.args  # a timeout returns: no deadlock
        ]
        if not joins:
            return
        finder = facts.producers
        stopping = methods(Kind.PROCESS).terminate
        stops = [
            (index, site) for index, site in enumerate(facts.calls)
            if type(site.node.func) is cst.Attribute and site.node.func.attr.value in stopping
        ]
        for index, site in joins:
            process = facts.values.instance_of(site.node.func.value, site.scope)  # type: ignore[attr-defined]
            if process is None or process.kind is not Kind.PROCESS:
                continue
            owner = owner_of(site.scope)
            if _stopped_before(facts, process, owner, index, stops):
                continue  # a killed child cannot hold the join back
            for producer in finder.of(process):
                gets = [
                    (i, get)
                    for i, queue, get in finder.gets_in(owner)
                    if same_object(facts, queue, get.scope, producer.queue, producer.scope)
                ]
                if gets and all(i > index for i, _ in gets):
                    yield Report(site.node, _message(facts, site, producer, gets[0][1]))
                    break
            else:
                for sender in finder.pipe_senders(process):
                    recvs = [
                        (i, conn, recv)
                        for i, conn, recv in finder.recvs_in(owner)
                        if _other_end(facts, conn, recv.scope, sender)
                    ]
                    if recvs and all(i > index for i, _, _ in recvs):
                        yield Report(site.node, _pipe_message(facts, site, sender, recvs[0][1], recvs[0][2]))
                        break


def _stopped_before(
    facts: ModuleFacts, process: Instance, owner: object, index: int, stops: list[tuple[int, CallSite]]
) -> bool:
    """The same function calls `terminate()` or `kill()` on the process before the join (`stops`:
    the module's calls of those methods, with their index in source order)."""
    for at, site in stops:
        if at >= index:
            break
        if owner_of(site.scope) is not owner:
            continue
        stopped = facts.values.instance_of(site.node.func.value, site.scope)  # type: ignore[attr-defined]
        if stopped is not None and stopped.creation is process.creation:
            return True
    return False


def _other_end(facts: ModuleFacts, conn: cst.BaseExpression, scope: Scope, sender: PipeSender) -> bool:
    """`conn` is the end of the sender's pipe that the child does not have."""
    end = facts.resources.resource_of(conn, scope)
    return end is not None and end.creation is sender.resource.creation and end.end != sender.resource.end


def _pipe_message(
    facts: ModuleFacts, join: CallSite, sender: PipeSender, conn: cst.BaseExpression, recv: CallSite
) -> str:
    child, parent = facts.code(sender.end), facts.code(conn)
    return (
        f"`{facts.code(join.node)}` waits for a process whose worker `{sender.worker.name}` sends on "
        f"`{child}`, but this function receives from the other end `{parent}` only after the join "
        f"(line {facts.line_of(recv.node)}): `send()` writes into the pipe and blocks while its "
        f"buffer is full, so once the data outgrow it the child never exits and the parent waits "
        f"for it forever; receive from `{parent}` first, then join"
    )


def _message(facts: ModuleFacts, join: CallSite, producer: Producer, get: CallSite) -> str:
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
