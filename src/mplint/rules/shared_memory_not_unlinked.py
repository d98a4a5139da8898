"""MPL019: `SharedMemory(create=True)` whose `unlink()` is not reached on every path of the code that owns it."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import ModuleFacts
from mplint.facts.scopes import CallSite
from mplint.rules.base import Report, Rule


class SharedMemoryNotUnlinked(Rule):
    """Finds `multiprocessing.shared_memory.SharedMemory(create=True, ...)` whose `unlink()` is
    not reached on every path of the code that owns the segment: no `unlink()` at all, or one
    that an exception before it skips (not in a `finally:`, not in an `atexit` handler, not
    handed to `atexit.register`/`weakref.finalize`/an `ExitStack` as a callback). `with
    SharedMemory(...)` does not help: leaving the block only closes the segment. The creation is
    reported. Ownership handed on is not: a segment returned or yielded, stored in a container or
    on another object, or given to code mplint cannot see; a segment kept on `self` is reported
    only when the class never unlinks it. `SharedMemory(name)` attachments (they only `close()`)
    and `SharedMemoryManager` segments (the manager unlinks them) are not reported."""

    code = "MPL019"
    name = "shared-memory-not-unlinked"
    summary = "`SharedMemory(create=True)` whose `unlink()` is not reached on every path: the segment outlives its use"
    why = (
        "A shared memory segment belongs to the operating system, not to the process: `close()` "
        "only unmaps it, and the memory is given back when `unlink()` is called. On POSIX, a "
        "segment never unlinked stays in `/dev/shm` until the program ends, when the resource "
        "tracker reclaims it with a `UserWarning: resource_tracker: There appear to be N leaked "
        "shared_memory objects`; a long-running program, or a loop that creates segments, fills "
        "`/dev/shm` first (`OSError: [Errno 28] No space left on device`, a bus error in "
        "containers with a small `/dev/shm`). With `track=False` (Python 3.13+), or when the "
        "tracker is killed with the program, the segment outlives it until reboot. An `unlink()` "
        "at the end of the happy path is skipped by the first exception before it."
    )
    fix = (
        "Put `shm.close()` and `shm.unlink()` in a `finally:` right after the creation, or let "
        "a `multiprocessing.managers.SharedMemoryManager` own the segments: inside `with "
        "SharedMemoryManager() as smm:`, `smm.SharedMemory(size)` segments are unlinked when the "
        "block ends. An object that keeps a segment should unlink it in its `close()` or "
        "`__exit__`; processes that only attach with `SharedMemory(name)` call `close()` only."
    )
    bad_example = '''\
from multiprocessing import Process
from multiprocessing.shared_memory import SharedMemory


def fill(name, size):
    shm = SharedMemory(name=name)
    shm.buf[:size] = bytes(size)
    shm.close()


if __name__ == "__main__":
    shm = SharedMemory(create=True, size=1 << 20)
    p = Process(target=fill, args=(shm.name, shm.size))
    p.start()
    p.join()
    print(bytes(shm.buf[:8]))
    shm.close()
    shm.unlink()
'''
    good_example = '''\
from multiprocessing import Process
from multiprocessing.shared_memory import SharedMemory


def fill(name, size):
    shm = SharedMemory(name=name)
    shm.buf[:size] = bytes(size)
    shm.close()


if __name__ == "__main__":
    shm = SharedMemory(create=True, size=1 << 20)
    try:
        p = Process(target=fill, args=(shm.name, shm.size))
        p.start()
        p.join()
        print(bytes(shm.buf[:8]))
    finally:
        shm.close()
        shm.unlink()
'''
    references = (
        (
            "multiprocessing.shared_memory.SharedMemory.unlink",
            "https://docs.python.org/3/library/multiprocessing.shared_memory.html#multiprocessing.shared_memory.SharedMemory.unlink",
        ),
        (
            "multiprocessing.managers.SharedMemoryManager",
            "https://docs.python.org/3/library/multiprocessing.shared_memory.html#multiprocessing.managers.SharedMemoryManager",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        segments = facts.shared_memory
        for site in segments.created():
            creation = site.node
            if segments.unlink_always_reached(creation):
                continue
            owner = segments.kept_on_self(creation)
            unlinks = segments.unlinks(creation)
            if owner is not None:
                if not unlinks:
                    yield Report(creation, _kept_message(facts, site, owner))
                continue
            if segments.handed_on(creation) is not None:
                continue
            yield Report(creation, _message(facts, site, unlinks))


def _message(facts: ModuleFacts, site: CallSite, unlinks: list[CallSite]) -> str:
    made = f"`{facts.call_text(site.node)}`"
    in_with = type(site.statement) is cst.With and any(item.item is site.node for item in site.statement.items)
    if unlinks:
        first = unlinks[0]
        helper = first.scope.function
        where = ""
        if helper is not None and helper is not site.scope.function and type(helper.node) is cst.FunctionDef:
            where = f" in `{helper.node.name.value}`"
        problem = (
            f"its `{facts.code(first.node)}`{where} (line {facts.line_of(first.node)}) is not "
            f"reached from a `finally:`, so an exception before it skips it"
        )
    elif in_with:
        problem = "leaving the `with` block only closes it, and nothing calls `unlink()`"
    else:
        problem = "nothing calls its `unlink()`"
    return (
        f"{made} creates a shared memory segment, but {problem}: on POSIX the segment stays in "
        f"/dev/shm after its last use, until the resource tracker reclaims it at exit with a "
        f"'leaked shared_memory objects' warning (never, with `track=False` or a killed "
        f"tracker), and a long-running program or a loop runs out of shared memory; call "
        f"`close()` and `unlink()` in a `finally:` after the creation, or create it with "
        f"`SharedMemoryManager().SharedMemory(size)` inside `with SharedMemoryManager() as smm:`"
    )


def _kept_message(facts: ModuleFacts, site: CallSite, owner: cst.ClassDef) -> str:
    return (
        f"`{facts.call_text(site.node)}` creates a shared memory segment that `{owner.name.value}` "
        f"keeps on `self`, but no method of the class calls its `unlink()`: on POSIX the segment "
        f"stays in /dev/shm after the object is gone, until the resource tracker reclaims it at "
        f"exit with a 'leaked shared_memory objects' warning; unlink it in the class's `close()` "
        f"or `__exit__` (and call that in a `finally:` or a `with` block)"
    )
