"""MPL023: one process started per item of a collection whose size the code does not bound."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import Fanout, ModuleFacts
from mplint.rules.base import Report, Rule


class ProcessPerItem(Rule):
    """Finds a `Process` created and started once per element of a collection whose size the
    code does not bound, in a `for` loop or a comprehension, with all of them alive at once
    (started in one loop, joined in another, or never joined). Unbounded means that the size
    comes from outside the code: standard input, the lines of a file, a directory listing
    (`os.listdir`, `glob.glob`, `Path.iterdir()`), query results (`fetchall()`), the parts of a
    text read at run time, `range(len(...))` of one of those, or a parameter of a function
    that the module never calls (a function for others to call) or always calls with such a
    collection. The finding is reported at the creation.

    Left alone: loops over literal tuples and lists, over `range(n)` where `n` is a constant, a
    CPU count (`os.cpu_count()`, `os.process_cpu_count()`, `multiprocessing.cpu_count()`) or a
    `--workers`-like setting (`workers`, `n_procs`, `args.jobs`, ...); loops that join each
    process before starting the next; loops that cap the live processes (a semaphore or lock,
    `len(active) < limit`, an `is_alive()` poll, `os.wait()`, a `while` loop waiting for a slot);
    `while` loops and collections whose size cannot be judged (an attribute, the result of a
    call of unknown kind, a parameter that a caller gives something else). Command-line
    arguments (`sys.argv`) are left alone too: the person who runs the program chooses how
    many. A process handed elsewhere, or kept in a dict, is not judged here.

    Off by default: a handful of items is fine, and only the code's users know how many there
    will be."""

    code = "MPL023"
    name = "process-per-item"
    summary = "A process started per item of an unbounded collection, all alive at once"
    why = (
        "Each `Process` is a whole interpreter: under spawn or forkserver it imports the main "
        "module again, and every one takes its own memory. One per item of a list that comes "
        "from input, a directory or a query starts as many as there are items: ten in a test, "
        "ten thousand in production, where they compete for a few CPUs, exhaust memory or the "
        "process limit (`OSError: [Errno 11] Resource temporarily unavailable`, `Too many open "
        "files`) and finish no sooner than a few workers would."
    )
    fix = (
        "Hand the items to a pool with a bounded number of workers, which reuses its processes: "
        "`with multiprocessing.Pool() as pool: pool.map(work, items)` or "
        "`concurrent.futures.ProcessPoolExecutor(max_workers=...)` (both default to the number "
        "of CPUs). If each item needs a process of its own, cap how many are alive at once (a "
        "`BoundedSemaphore`, or join the oldest when `len(active)` reaches a limit)."
    )
    bad_example = '''\
import os
from multiprocessing import Process


def convert(path):
    print("converting", path)


def main(folder):
    workers = []
    for path in os.listdir(folder):
        worker = Process(target=convert, args=(path,))
        worker.start()
        workers.append(worker)
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main("incoming")
'''
    good_example = '''\
import os
from multiprocessing import Pool


def convert(path):
    print("converting", path)


def main(folder):
    with Pool() as pool:
        pool.map(convert, os.listdir(folder))


if __name__ == "__main__":
    main("incoming")
'''
    references = (
        (
            "multiprocessing: Using a pool of workers",
            "https://docs.python.org/3/library/multiprocessing.html#using-a-pool-of-workers",
        ),
        (
            "concurrent.futures.ProcessPoolExecutor",
            "https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor",
        ),
    )
    default_enabled = False  # a judgement about scale: opt-in, like the other judgement rules

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for fanout in facts.fanouts.all:
            yield Report(fanout.life.creation, self._message(facts, fanout))

    @staticmethod
    def _message(facts: ModuleFacts, fanout: Fanout) -> str:
        creation = fanout.life.creation
        loop = "`for` loop" if type(fanout.loop) in (cst.For, cst.While) else "comprehension"
        worker = _worker(facts, creation, _loop_target(fanout.loop))
        items = facts.code(fanout.iterable)
        if worker is not None and "\n" not in items and len(items) <= 40:
            pooled = f"`with multiprocessing.Pool() as pool: pool.map({worker}, {items})`"
        else:
            pooled = "`multiprocessing.Pool()` and its `map()`"
        return (
            f"`{facts.call_text(creation)}` starts one process per item of {fanout.what}, in the "
            f"{loop} at line {facts.line_of(fanout.loop)}, with all of them alive at once: as many "
            f"interpreters as there are items, each with its own memory, competing for a few CPUs; "
            f"hand the items to a pool with a bounded number of workers, {pooled} or "
            f"`concurrent.futures.ProcessPoolExecutor`, or cap the live processes"
        )


def _worker(facts: ModuleFacts, creation: cst.Call, item: cst.BaseExpression | None) -> str | None:
    """The name of the target, when the process is given a plain function and the item alone:
    then `pool.map(target, items)` does the same work."""
    if type(item) is not cst.Name:
        return None
    for dispatch in facts.workers.dispatches:
        if dispatch.site is not None and dispatch.site.node is creation and dispatch.partial is None:
            target = dispatch.callable
            [arg] = dispatch.args if len(dispatch.args) == 1 and not dispatch.kwargs else [None]
            if type(target) is cst.Name and type(arg) is cst.Name and arg.value == item.value:
                return target.value
    return None


def _loop_target(loop: cst.CSTNode) -> cst.BaseExpression | None:
    if type(loop) is cst.For:
        return loop.target
    comp = getattr(loop, "for_in", None)
    while comp is not None and comp.inner_for_in is not None:
        comp = comp.inner_for_in
    return comp.target if comp is not None else None
