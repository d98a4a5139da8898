"""MPL012: `qsize()` of a multiprocessing queue, which macOS cannot answer."""

from __future__ import annotations

from typing import Callable, Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import CallSite, ModuleFacts
from mplint.rules.base import Report, Rule

#: the queue classes that have `qsize()` (a `SimpleQueue` has none)
_COUNTED = (".Queue", ".JoinableQueue")
#: what tells the platform, in a test around the call
_PLATFORM_CHECKS = frozenset(
    {"sys.platform", "platform.system", "platform.mac_ver", "platform.platform", "os.uname"}
)


class UnportableQueueSize(Rule):
    """Finds `q.qsize()` on a `multiprocessing` `Queue` or `JoinableQueue`, made by any context
    (`get_context(...).Queue()`) of any package with the multiprocessing API, also when the queue
    reaches the call through a helper's or a worker's parameter. A `Manager().Queue()` proxy, a
    `queue.Queue` or an `asyncio.Queue` is not reported, nor a subclass of `Queue` that defines its
    own `qsize`, nor a call made inside `try: ... except NotImplementedError` (or a handler of one
    of its base classes) or behind a test of `sys.platform` or `platform.system()`."""

    code = "MPL012"
    name = "unportable-queue-size"
    summary = "`qsize()` of a multiprocessing queue raises `NotImplementedError` on macOS"
    why = (
        "A multiprocessing `Queue` counts its items with a semaphore and answers `qsize()` with "
        "`sem_getvalue()`, which macOS does not implement: there `qsize()` raises "
        "`NotImplementedError`, on every Python version and under every start method. Code that "
        "works on Linux and Windows, typically a progress display or a loop that waits for the "
        "queue to drain, crashes on a Mac. Even where it works the number is a guess: other "
        "processes put and get while it is read."
    )
    fix = (
        "Do not ask a multiprocessing queue for its size: loop on `get()` with a sentinel or a "
        "timeout, test `q.empty()`, or count the items put and taken yourself (for example in a "
        "`multiprocessing.Value`). When the size is only informative, call `qsize()` inside "
        "`try: ... except NotImplementedError:` and carry on without it."
    )
    bad_example = '''\
import multiprocessing


def produce(queue):
    for n in range(100):
        queue.put(n)


if __name__ == "__main__":
    queue = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(queue,))
    producer.start()
    producer.join()
    print("items waiting:", queue.qsize())
'''
    good_example = '''\
import multiprocessing


def produce(queue):
    for n in range(100):
        queue.put(n)


if __name__ == "__main__":
    queue = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(queue,))
    producer.start()
    producer.join()
    try:
        print("items waiting:", queue.qsize())
    except NotImplementedError:  # macOS has no sem_getvalue()
        print("items waiting: unknown on this platform")
'''
    references = (
        (
            "multiprocessing.Queue.qsize",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Queue.qsize",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site in facts.calls:
            func = site.node.func
            if type(func) is not cst.Attribute or func.attr.value != "qsize" or site.node.args:
                continue
            queue = facts.received.instance_of(func.value, site.scope)
            if (
                queue is None
                or queue.kind is not Kind.QUEUE
                or not queue.api.qualname.endswith(_COUNTED)
                or (queue.cls is not None and facts.names.method(queue.cls, "qsize") is not None)
            ):
                continue
            if facts.conditions.handles(site, "NotImplementedError") or facts.conditions.behind_test(
                site, _checks_platform(facts)
            ):
                continue
            yield Report(
                site.node,
                f"`{facts.call_text(site.node)}` raises `NotImplementedError` on macOS: a "
                f"multiprocessing `{queue.api.qualname.rsplit('.', 1)[1]}` counts its items with "
                "`sem_getvalue()`, which macOS lacks; use `get()` with a sentinel or a timeout, or "
                "`empty()`, or catch `NotImplementedError` where the size is only informative",
            )


def _checks_platform(facts: ModuleFacts) -> Callable[[cst.CSTNode, CallSite], bool]:
    """A part of a test that reads the platform: `sys.platform`, `platform.system()`."""

    def checks(part: cst.CSTNode, site: CallSite) -> bool:
        return (
            type(part) in (cst.Name, cst.Attribute)
            and facts.names.qualname(part, site.scope) in _PLATFORM_CHECKS
        )

    return checks
