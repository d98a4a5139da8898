"""MPL005: a shared Value or Array updated in worker code without holding a lock."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import FunctionInfo, ModuleFacts, SharedValue
from mplint.facts.locks import UpdateNode
from mplint.facts.shared_values import GLOBAL
from mplint.fixes import Rewrite
from mplint.fixes.locking import hold_own_lock
from mplint.rules.base import Report, Rule


class UnsynchronizedSharedValue(Rule):
    """Finds read-modify-write updates of a shared `multiprocessing.Value`, `Array`, `RawValue` or
    `RawArray` in code that runs in worker processes (`counter.value += 1`,
    `counter.value = counter.value + 1`, `totals[0] += n`) that are not inside `with <lock>:`
    (`with counter.get_lock():`, a `Lock` passed in) nor between a lock's `acquire()` and
    `release()`. The object is known to be shared when the parent passes it to the worker (through
    `args=`, `functools.partial`, a pool `initializer=` that stores it in a global, a `Process`
    subclass's constructor, or helpers of the worker) or creates it at module level. Updates that
    only one process makes, and array items indexed by the worker's own parameter or range (each
    worker its own slot), are not reported."""

    code = "MPL005"
    name = "unsynchronized-shared-value"
    summary = "A shared `Value`/`Array` updated with `+=` (read-modify-write) in a worker without holding a lock"
    why = (
        "`counter.value += 1` is not one operation: it reads the shared value, adds one in the "
        "worker, and writes the result back. The lock that `Value` and `Array` carry is taken "
        "separately for the read and for the write, not around both, so two workers can read the "
        "same number and both write back that number plus one: one of the updates is lost. The "
        "count comes out too low, by a different amount on every run, and only under load. "
        "`RawValue`, `RawArray` and `Value(..., lock=False)` have no lock at all. A module-level "
        "`Value` is worse: it is shared only through fork; under spawn or forkserver (the default "
        "on Windows, macOS, and Linux from Python 3.14) each child re-creates its own and the "
        "parent never sees the updates."
    )
    fix = (
        "Hold the object's own lock around the whole update: `with counter.get_lock(): "
        "counter.value += 1`. For `RawValue`/`RawArray` or `lock=False`, pass a "
        "`multiprocessing.Lock()` to the workers and hold it around the update, or create the "
        "object with `Value`/`Array` (which carry a lock) instead. Create shared objects in the "
        "parent and hand them to the workers (`args=`, or `initializer=`/`initargs=` for a pool). "
        "When each worker only needs to report a number, returning it and summing in the parent "
        "avoids the shared state altogether."
    )
    autofix = (
        "Puts the update under the object's own lock: `total.value += n` becomes `with "
        "total.get_lock():` with `total.value += n` indented under it. Only for a `Value` that "
        "carries a lock (not `RawValue`, not `lock=False`) and an update that is a line of its own. "
        "Safe, except where the worker takes another lock too (in its own body, or its caller holds "
        "one around the call): then the fix is unsafe, since taking a second lock can change the "
        "order locks are taken in."
    )
    bad_example = '''\
import multiprocessing


def count_words(texts, total):
    for text in texts:
        total.value += len(text.split())


if __name__ == "__main__":
    total = multiprocessing.Value("i", 0)
    batches = [["a b", "c d e"], ["f"]] * 4
    workers = [multiprocessing.Process(target=count_words, args=(b, total)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value)
'''
    good_example = '''\
import multiprocessing


def count_words(texts, total):
    for text in texts:
        words = len(text.split())
        with total.get_lock():
            total.value += words


if __name__ == "__main__":
    total = multiprocessing.Value("i", 0)
    batches = [["a b", "c d e"], ["f"]] * 4
    workers = [multiprocessing.Process(target=count_words, args=(b, total)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value)
'''
    references = (
        (
            "multiprocessing: Value (its lock does not make `+=` atomic)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Value",
        ),
        (
            "multiprocessing: Sharing state between processes",
            "https://docs.python.org/3/library/multiprocessing.html#sharing-state-between-processes",
        ),
        (
            "multiprocessing.sharedctypes: RawValue and RawArray have no lock",
            "https://docs.python.org/3/library/multiprocessing.html#module-multiprocessing.sharedctypes",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        workers = facts.workers
        if not workers.child_functions:
            return
        shared_values = facts.shared_values
        for node in workers.child_functions:
            function = facts.functions[node]
            if not shared_values.many_processes(function):
                continue
            regions = facts.locks.regions(function)
            for update, obj, index in regions.unlocked_updates:
                if index is not None and not shared_values.slot_is_shared(index, function.scope):
                    continue
                shared = shared_values.source(obj, function.scope)
                if shared is not None:
                    fix = _fix(facts, update, obj, index, shared, function) if shared.has_lock else None
                    yield Report(update, _message(facts, update, obj, shared, function), fix)


def _fix(
    facts: ModuleFacts,
    update: UpdateNode,
    obj: cst.BaseExpression,
    index: cst.BaseExpression | None,
    shared: SharedValue,
    function: FunctionInfo,
) -> Rewrite | None:
    """`with v.get_lock():` around `v.value += 1`; unsafe where another lock is taken around or
    beside it (the order locks are taken in may change)."""
    if index is not None or shared.kind_name != "Value" or not _plain(obj):
        return None
    other_lock = facts.locks.regions(function).takes_locks or any(
        caller is not None
        and type(caller.node) is cst.FunctionDef
        and caller.node in facts.functions
        and site.node in facts.locks.regions(facts.functions[caller.node]).locked_calls
        for site, _ in facts.arguments.callers(function)
        for caller in (site.scope.function,)
    )
    return hold_own_lock(update, facts.code(obj), safe=not other_lock)


def _plain(expr: cst.BaseExpression) -> bool:
    """A name or a chain of attributes of one (`total`, `self.total`)."""
    while type(expr) is cst.Attribute:
        expr = expr.value
    return type(expr) is cst.Name


def _message(facts: ModuleFacts, update: UpdateNode, obj: cst.BaseExpression, shared: SharedValue, fn: FunctionInfo) -> str:
    name = facts.code(obj)
    text = facts.code(update).strip()
    shown = f"`{text}`" if len(text) <= 60 and "\n" not in text else "this update"
    problem = (
        f"{shown} in worker code (`{fn.name}`) is a read-modify-write of the shared "
        f"`{shared.kind_name}` `{name}` without a lock: it reads, computes and writes back in "
        f"separate steps, so updates other processes make in between are lost"
    )
    if shared.has_lock:
        fix = f"hold its lock around the update: `with {name}.get_lock():`"
    else:
        made = "it has no lock" if shared.kind_name.startswith("Raw") else "it was made with `lock=False`"
        fix = (
            f"{made}: pass a `multiprocessing.Lock()` to the workers and hold it around the "
            f"update, or create it with `{shared.kind_name.removeprefix('Raw')}(...)` and use "
            f"`with {name}.get_lock():`"
        )
    if shared.route == GLOBAL:
        fix += (
            "; and create it in the parent and pass it to the workers: a module-level one is "
            "shared only under fork, under spawn/forkserver each child re-creates its own"
        )
    return f"{problem}; {fix}"
