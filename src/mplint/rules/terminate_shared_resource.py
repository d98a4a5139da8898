"""MPL018: `terminate()`/`kill()` on a process that shares a queue, pipe or lock still in use after the call."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint import apis
from mplint.facts import ModuleFacts, Resource
from mplint.facts.scopes import CallSite, Scope
from mplint.rules.base import Report, Rule

_STOPPING = frozenset({"terminate", "kill"})
_WHAT = {"queue": "queue", "pipe": "pipe end", "lock": "lock"}


class TerminateSharedResource(Rule):
    """Finds `p.terminate()` and `p.kill()` on a process that was given a `multiprocessing`
    queue, a pipe end or a lock (in `args=`/`kwargs=`, or in the constructor of a `Process`
    subclass), when the parent goes on using that resource after the call in the same function
    (`q.get()`, `conn.recv()` on either end of the pipe, `with lock:`, also on the next round of
    a loop), or another process that was given it is not terminated too. The call is reported. A
    process that holds no shared resource, a resource that is only closed or discarded after the
    call, a manager's queue (it lives in the manager's process), and a process that only hands the
    resource on to processes it starts (its target, and what that calls, never uses it) are not
    reported."""

    code = "MPL018"
    name = "terminate-shared-resource"
    summary = "`terminate()`/`kill()` on a process sharing a queue, pipe or lock that is still used after the call"
    why = (
        "`terminate()` (SIGTERM) and `kill()` (SIGKILL) stop the child wherever it is: no "
        "`finally:` blocks, no exit handlers, and no flushing of its queues. The multiprocessing "
        "docs warn that a queue or pipe the process was using may be corrupted, and a lock or "
        "semaphore it held is never released. A reader of the queue may then block forever on "
        "a half-written item, or fail to unpickle it; a pipe reader gets a truncated message; "
        "every later `acquire()` of the lock waits forever. It happens only when the signal "
        "lands at the wrong moment, so it shows up as a rare hang."
    )
    fix = (
        "Ask the child to stop instead: put a sentinel (`None`) on its input queue or set a "
        "`multiprocessing.Event` it checks, then `join()` it, and keep `terminate()` as a last "
        "resort after `join(timeout)`. After terminating a process, stop using what it shared: "
        "close the queue or pipe and make new ones (and a new lock) for the processes that go on."
    )
    bad_example = '''\
import multiprocessing


def produce(results):
    for i in range(1_000_000):
        results.put(i * i)


if __name__ == "__main__":
    results = multiprocessing.Queue()
    worker = multiprocessing.Process(target=produce, args=(results,))
    worker.start()
    worker.join(timeout=1.0)
    worker.terminate()
    print(results.get())
'''
    good_example = '''\
import multiprocessing


def produce(results, stop):
    for i in range(1_000_000):
        if stop.is_set():
            break
        results.put(i * i)
    results.put(None)


if __name__ == "__main__":
    results = multiprocessing.Queue()
    stop = multiprocessing.Event()
    worker = multiprocessing.Process(target=produce, args=(results, stop))
    worker.start()
    stop.set()
    last = None
    while (item := results.get()) is not None:
        last = item
    worker.join()
    print(last)
'''
    references = (
        (
            "multiprocessing.Process.terminate (queues and pipes may be corrupted, locks left held)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process.terminate",
        ),
        (
            "multiprocessing programming guidelines: avoid terminating processes",
            "https://docs.python.org/3/library/multiprocessing.html#programming-guidelines",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site in facts.calls:
            func = site.node.func
            if type(func) is not cst.Attribute or func.attr.value not in _STOPPING:
                continue
            process = facts.received.instance_of(func.value, site.scope)
            if process is None or process.kind is not apis.Kind.PROCESS:
                continue
            for resource in facts.process_resources.given(process.creation):
                if resource.kind not in _WHAT or (resource.proxy and resource.kind == "queue"):
                    continue
                if facts.process_resources.only_handed_on(process.creation, resource):
                    continue  # it never uses the resource itself: no use of its own is cut short
                later = _used_after(facts, site, resource)
                if later is not None:
                    yield Report(site.node, _message(facts, site, resource, later))
                    break
                others = _others_going_on(facts, process.creation, resource)
                if others:
                    yield Report(site.node, _message(facts, site, resource, None))
                    break


def _owner(scope: Scope) -> object:
    return scope.function or scope


def _used_after(facts: ModuleFacts, site: CallSite, resource: Resource) -> cst.CSTNode | None:
    """The parent's first use of the resource after the call, in the same function."""
    order = facts.statements.order(site.node)
    loop = facts.loops.loop_of(site.node)
    owner = _owner(site.scope)
    for node, scope, used_at in sorted(facts.process_resources.uses(resource), key=lambda u: u[2]):
        if _owner(scope) is not owner:
            continue
        again = loop is not None and type(node) is cst.Call and facts.loops.loop_of(node) is loop
        if used_at > order or again:
            return node
    return None


def _others_going_on(facts: ModuleFacts, creation: cst.Call, resource: Resource) -> list[cst.Call]:
    """Other processes given the resource that are never terminated or killed."""
    stopped = set()
    for site in facts.calls:
        func = site.node.func
        if type(func) is cst.Attribute and func.attr.value in _STOPPING:
            instance = facts.received.instance_of(func.value, site.scope)
            if instance is not None:
                stopped.add(instance.creation)
    return [c for c in facts.process_resources.processes_given(resource) if c is not creation and c not in stopped]


def _message(facts: ModuleFacts, site: CallSite, resource: Resource, later: cst.CSTNode | None) -> str:
    process = facts.code(site.node.func.value)  # type: ignore[attr-defined]
    what = _WHAT[resource.kind]
    if later is not None:
        shown = facts.code(later.item) if type(later) is cst.WithItem else facts.code(later)
        shown = f"`with {shown}:`" if type(later) is cst.WithItem else f"`{shown}`"
        when = "on the loop's next round" if facts.line_of(later) < facts.line_of(site.node) else "after it"
        going_on = f"the parent goes on using {when} ({shown}, line {facts.line_of(later)})"
    else:
        going_on = "other processes that were given it go on using"
    damage = {
        "queue": "a half-written item in the queue's pipe, which blocks or breaks the next reader",
        "pipe": "a half-written message in the pipe, which blocks or breaks the next `recv()`",
        "lock": "the lock held forever if it held it, so every later `acquire()` blocks",
    }[resource.kind]
    return (
        f"`{facts.call_text(site.node)}` stops `{process}` wherever it is, and it was given a "
        f"{what} ({resource.type}) which {going_on}: a process stopped while using it can leave "
        f"{damage}; ask it to stop instead (a sentinel on its queue or a `multiprocessing.Event`) "
        f"and `join()` it, or after terminating it stop using the {what} and make a new one"
    )
