"""MPL017: a Lock, Queue, Event, Value (...) sent to a pool or executor task, which pickles it."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint import apis
from mplint.facts import Carried, Dispatch, ModuleFacts
from mplint.facts.carried import pickles_only_by_inheritance
from mplint.rules.base import Report, Rule


class SyncPrimitiveAsTaskArgument(Rule):
    """Finds a `multiprocessing` `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`,
    `Event`, `Barrier`, `Queue`, `JoinableQueue`, `SimpleQueue`, `Value`, `Array`, `RawValue` or
    `RawArray` given to a task of a process pool or a `ProcessPoolExecutor` (`map`, `imap`,
    `imap_unordered`, `starmap`, their `_async` forms, `apply`, `apply_async`, `submit`): as an
    argument, inside a tuple, list, dict or `functools.partial`, among the items of the iterable
    that `map` spreads over the workers (`zip(items, repeat(lock))`, `[(x, lock) for x in
    items]`), in an instance of a class of the module, or held on `self` by the object whose
    bound method is the task. The submitting call is reported. The same object given to
    `Process(args=...)` or to a pool's `initializer`/`initargs` is fine (it is handed over while
    the child starts), and so are manager proxies (`manager.Lock()`, `manager.Queue()`), pipes,
    `SharedMemory` and thread pools."""

    code = "MPL017"
    name = "sync-primitive-as-task-argument"
    summary = "A multiprocessing Lock, Queue, Event or Value passed as a pool or executor task argument"
    why = (
        "A pool sends each task to a worker that is already running, by pickling the task's "
        "function and arguments onto the pool's task queue. Locks, semaphores, events, queues and "
        "shared `Value`/`Array` objects wrap operating-system handles that can only be handed to "
        "a process while it is being started, so pickling one at any other time raises "
        "`RuntimeError: Lock objects should only be shared between processes through "
        "inheritance`. The error is raised in the pool's background thread and comes back as the "
        "task's result: `.get()` or `.result()` re-raises it, and a result that is never read "
        "(an `apply_async` without `.get()`, a future whose result is not asked for) loses it "
        "silently, so the task simply never runs."
    )
    fix = (
        "Hand the object to every worker once, when the pool starts: `Pool(initializer=init, "
        "initargs=(lock,))` (or `ProcessPoolExecutor(initializer=..., initargs=...)`) with an "
        "`init` that stores it in a global the task reads. Or use a manager's proxy, which "
        "pickles fine and can be a task argument: `manager = multiprocessing.Manager()`, then "
        "`manager.Lock()`, `manager.Queue()`, `manager.Value(...)`. A `Process(target=...,"
        "args=(lock,))` may take the object directly."
    )
    bad_example = '''\
import multiprocessing


def append_line(path, line, lock):
    with lock:
        with open(path, "a") as f:
            f.write(line + "\\n")


if __name__ == "__main__":
    lock = multiprocessing.Lock()
    with multiprocessing.Pool(4) as pool:
        pending = [pool.apply_async(append_line, ("log.txt", str(i), lock)) for i in range(8)]
        for result in pending:
            result.get()
'''
    good_example = '''\
import multiprocessing

file_lock = None


def init(lock):
    global file_lock
    file_lock = lock


def append_line(path, line):
    with file_lock:
        with open(path, "a") as f:
            f.write(line + "\\n")


if __name__ == "__main__":
    lock = multiprocessing.Lock()
    with multiprocessing.Pool(4, initializer=init, initargs=(lock,)) as pool:
        pending = [pool.apply_async(append_line, ("log.txt", str(i))) for i in range(8)]
        for result in pending:
            result.get()
'''
    references = (
        (
            "multiprocessing programming guidelines: explicitly pass resources to child processes",
            "https://docs.python.org/3/library/multiprocessing.html#programming-guidelines",
        ),
        (
            "multiprocessing: Sharing state between processes (server process managers)",
            "https://docs.python.org/3/library/multiprocessing.html#sharing-state-between-processes",
        ),
        (
            "multiprocessing.pool.Pool: initializer and initargs",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for dispatch in facts.workers.dispatches:
            if dispatch.kind not in ("pool", "executor") or dispatch.site is None:
                continue
            scope = dispatch.site.scope
            found: list[Carried] = []
            for expr in facts.carried.task_payload(dispatch):
                found.extend(facts.carried.carried(expr, scope))
            via_self = False
            if not found and dispatch.bound and dispatch.worker is not None and dispatch.worker.cls is not None:
                found = facts.carried.held_by_instance(dispatch.worker.cls)
                via_self = True
            unique: dict[cst.Call, Carried] = {}
            for item in found:
                if pickles_only_by_inheritance(item.instance):
                    unique.setdefault(item.instance.creation, item)
            if unique:
                yield Report(dispatch.site.node, _message(facts, dispatch, list(unique.values()), via_self))


_INHERITANCE = "objects should only be shared between processes through inheritance"
#: the error pickling raises, where it does not name the class itself
_ERROR = {
    "Event": f"RuntimeError: Condition {_INHERITANCE}",
    "Barrier": f"RuntimeError: Condition {_INHERITANCE}",
    "Value": f"RuntimeError: Synchronized {_INHERITANCE}",
    "synchronized": f"RuntimeError: Synchronized {_INHERITANCE}",
    "Array": f"RuntimeError: SynchronizedArray {_INHERITANCE}",
    "RawValue": "TypeError: cannot pickle 'mmap.mmap' object",
    "RawArray": "PicklingError: Can't pickle <class '...c_int_Array_3'>",
}


def _message(facts: ModuleFacts, dispatch: Dispatch, found: list[Carried], via_self: bool) -> str:
    assert dispatch.site is not None
    call = facts.call_text(dispatch.site.node)
    first = found[0]
    kind = apis.short_name(first.instance.api)
    shown = f"`self.{first.attribute}`" if first.attribute else f"`{facts.code(first.expr)}`"
    if len(found) > 1:
        shown += f" (and {len(found) - 1} more)"
    if via_self:
        what = (
            f"the task `{facts.code(dispatch.callable)}` is a bound method, so its object is "  # type: ignore[arg-type]
            f"pickled with it, and that object holds {_a(kind)} {shown}"
        )
    else:
        what = f"`{call}` sends {_a(kind)} {shown} to a worker as part of a task"
    error = _ERROR.get(kind, f"RuntimeError: {kind} objects should only be shared between processes through inheritance")
    runner = "Pool" if dispatch.kind == "pool" else "ProcessPoolExecutor"
    proxy = apis.MANAGER_EQUIVALENT.get(kind, kind)
    fix = (
        f"give it to the workers once with `{runner}(initializer=..., initargs=(...,))` and keep "
        f"it in a global there, or use a manager's `Manager().{proxy}()` proxy, which can be "
        f"passed to tasks"
    )
    if via_self:
        fix = (
            f"make the task a module-level function given only the data it needs, or leave "
            f"{shown} out of the object's pickled state (`__getstate__`) and {fix}"
        )
    return (
        f"{what}: task arguments are pickled, and {_a(kind)} can only reach a child process "
        f"while it is being started, so the task fails with `{error}`; {fix}"
    )


def _a(kind: str) -> str:
    """The article as the name is said: "an `Event`", "an `RLock`" (ar-lock), "a `Lock`"."""
    spelled = len(kind) > 1 and kind[1].isupper()  # a leading letter read on its own
    vowel = kind[0] in "AEIOU" or (spelled and kind[0] in "FHLMNRSX")
    return f"{'an' if vowel else 'a'} `{kind}`"
