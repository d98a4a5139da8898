"""MPL021: `JoinableQueue.join()` while the code that takes items from the queue never calls `task_done()`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint import apis
from mplint.facts import ModuleFacts, Resource
from mplint.facts.scopes import CallSite
from mplint.rules.base import Report, Rule


class JoinableQueueWithoutTaskDone(Rule):
    """Finds `queue.join()` on a `multiprocessing.JoinableQueue` (or a manager's
    `manager.JoinableQueue()`) when the code that takes items from that queue (its `get()` and
    `get_nowait()` calls, in workers, helpers or methods of the module) never calls
    `queue.task_done()`. The `join()` is reported. A consumer that calls `task_done()`, directly
    or through a helper it hands the queue to, keeps the rule silent; so does a queue given to
    code mplint cannot see (a function of another module, a process target defined elsewhere),
    a `task_done()` on an object mplint cannot tell apart from the queue, and a queue whose
    items are never taken in this module."""

    code = "MPL021"
    name = "joinable-queue-without-task-done"
    summary = "`JoinableQueue.join()` while the consumers of the queue never call `task_done()`: the join never returns"
    why = (
        "A `JoinableQueue` counts the items put on it that are not yet done; `join()` returns "
        "only when that count is back to zero, and only `task_done()` lowers it, once per item. "
        "`get()` does not: taking every item off the queue leaves the count where it was. When "
        "the consumers never call `task_done()`, `join()` blocks forever, even though the "
        "workers finished long ago: the program hangs at the end, with no error and no CPU use."
    )
    fix = (
        "Call `queue.task_done()` once for every item the consumer takes, after it has handled "
        "it (in a `finally:` so that an item that fails still counts, and for the sentinel that "
        "stops the worker too). If nothing needs to wait for the items to be handled, use a "
        "plain `Queue` and `join()` the worker processes instead."
    )
    bad_example = '''\
import multiprocessing


def resize(tasks):
    while True:
        path = tasks.get()
        if path is None:
            break
        print("resized", path)


if __name__ == "__main__":
    tasks = multiprocessing.JoinableQueue()
    workers = [multiprocessing.Process(target=resize, args=(tasks,), daemon=True) for _ in range(2)]
    for w in workers:
        w.start()
    for path in ["a.png", "b.png", "c.png"]:
        tasks.put(path)
    tasks.join()
'''
    good_example = '''\
import multiprocessing


def resize(tasks):
    while True:
        path = tasks.get()
        try:
            if path is None:
                break
            print("resized", path)
        finally:
            tasks.task_done()


if __name__ == "__main__":
    tasks = multiprocessing.JoinableQueue()
    workers = [multiprocessing.Process(target=resize, args=(tasks,), daemon=True) for _ in range(2)]
    for w in workers:
        w.start()
    for path in ["a.png", "b.png", "c.png"]:
        tasks.put(path)
    tasks.join()
'''
    references = (
        (
            "multiprocessing.JoinableQueue: task_done() and join()",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.JoinableQueue",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if not any(_makes_joinable_queue(facts, s) for s in facts.calls):
            return  # no JoinableQueue made here: nothing to resolve
        resources = facts.resources
        if resources.unresolved_calls("task_done"):
            return  # a task_done() on something mplint cannot tell: it may be this queue's
        for site in facts.calls:
            func = site.node.func
            if not (getattr(func, "attr", None) is not None and func.attr.value == "join"):  # type: ignore[attr-defined]
                continue
            queue = resources.resource_of(func.value, site.scope)  # type: ignore[attr-defined]
            if queue is None or queue.type != apis.JOINABLE_QUEUE:
                continue
            gets = resources.method_calls(queue, apis.QUEUE_GETS)
            if not gets or resources.method_calls(queue, frozenset({"task_done"})) or resources.escapes(queue):
                continue
            yield Report(site.node, _message(facts, site, queue, gets[0]))


def _makes_joinable_queue(facts: ModuleFacts, site: CallSite) -> bool:
    """`x.JoinableQueue()` (a module, a context or a manager), or an alias of the class."""
    func = site.node.func
    if type(func) is cst.Attribute and func.attr.value == apis.JOINABLE_QUEUE:
        return True
    api = facts.api_of_call(site) if type(func) is cst.Name else None
    return api is not None and apis.short_name(api) == apis.JOINABLE_QUEUE


def _message(facts: ModuleFacts, join: CallSite, queue: Resource, get: CallSite) -> str:
    name = facts.code(join.node.func.value)  # type: ignore[attr-defined]
    function = get.scope.function
    where = f" in `{function.node.name.value}`" if function is not None and hasattr(function.node, "name") else ""  # type: ignore[attr-defined]
    made = "a manager's `JoinableQueue`" if queue.proxy else "a `JoinableQueue`"
    return (
        f"`{facts.call_text(join.node)}` waits until `task_done()` has been called once for every "
        f"item put on `{name}` ({made}), but the code that takes its items "
        f"(`{facts.call_text(get.node)}`{where}, line {facts.line_of(get.node)}) never calls "
        f"`task_done()`, so this join never returns; call `task_done()` on the queue after each "
        f"item is handled (in a `finally:`), or use a plain `Queue` and join the workers instead"
    )
