"""MPL007: joining a process that puts on a queue before taking the items off that queue."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import CallSite, ModuleFacts, Producer
from mplint.facts.queues import same_object
from mplint.facts.resolve import owner_of
from mplint.rules.base import Report, Rule


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
        finder = facts.producers
        for index, site in joins:
            process = facts.values.instance_of(site.node.func.value, site.scope)  # type: ignore[attr-defined]
            if process is None or process.kind is not Kind.PROCESS:
                continue
            owner = owner_of(site.scope)
            for producer in finder.of(process):
                gets = [
                    (i, get)
                    for i, queue, get in finder.gets_in(owner)
                    if same_object(facts, queue, get.scope, producer.queue, producer.scope)
                ]
                if gets and all(i > index for i, _ in gets):
                    yield Report(site.node, _message(facts, site, producer, gets[0][1]))
                    break


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
