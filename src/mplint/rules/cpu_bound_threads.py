"""MPL024: threads started for pure-Python computation, which the GIL runs one at a time."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import Dispatch, ModuleFacts
from mplint.facts.syntax import argument
from mplint.facts.testing import in_test
from mplint.facts.workload import Work, Workloads
from mplint.rules._judged_work import judged_sites, work_of, worker_name
from mplint.rules.base import Report, Rule

_PROCESSES = {
    Kind.THREAD_EXECUTOR: "use `concurrent.futures.ProcessPoolExecutor` (the same API)",
    Kind.THREAD_POOL: "use `multiprocessing.Pool` (the same API)",
    Kind.THREAD: (
        "use a process pool (`concurrent.futures.ProcessPoolExecutor`) or `multiprocessing.Process` "
        "(the same `target=`/`start()`/`join()` API)"
    ),
}
_PROCESSES[Kind.THREAD_PROCESS] = _PROCESSES[Kind.THREAD]
#: methods that hand over one task (the others map the work over many)
_ONE_TASK = frozenset({"submit", "apply", "apply_async"})
_SUBCLASS = "subclass `multiprocessing.Process` instead (the same `run()`/`start()`/`join()` API), or use a process pool"


class CpuBoundThreads(Rule):
    """Finds threads, thread pools and thread executors (`threading.Thread`, its subclasses,
    `concurrent.futures.ThreadPoolExecutor`, `multiprocessing.pool.ThreadPool`,
    `multiprocessing.dummy`) whose work is pure-Python computation: a loop or comprehension
    doing arithmetic, recursion, or a library that computes while holding the GIL
    (`statistics`, `difflib`, `fractions`, ...), directly or through the functions of the module
    they call, with nothing that waits. The message names the computation it saw. A single
    `Thread` is reported only when it is created in a loop or comprehension (several at once);
    one background thread keeps the main thread free, which can be the point. A pool or
    executor created with one worker is left alone for the same reason.

    One task handed to an executor (`executor.submit(f)` outside a loop) runs on one thread and
    is left alone, and so is test code (`def test_...`, `TestCase` methods), which starts
    threads to exercise them, not for speed.

    The rule reports only work it can judge as CPU-bound, and any doubt keeps it silent: any
    blocking I/O (the network, another program, `time.sleep`), the local disk, queues, locks or
    futures (a thread that waits releases the GIL), a call into C code that releases the GIL
    (numpy and the other numeric and imaging libraries, `zlib`/`bz2`/`lzma`, `hashlib`, which
    releases it for data over 2 KiB, password hashing), or a call whose cost cannot be known (a
    function of another module, a parameter, a method of an object of unknown type). Counters,
    totals and string building are bookkeeping, not computation.

    Off by default, like MPL004. On a free-threaded build of CPython (3.13t and later), where
    threads do run Python code in parallel, declare it with `free-threaded = true` under
    `[tool.mplint]` (or `--mplint-free-threaded` under flake8) and the rule is silent."""

    code = "MPL024"
    name = "cpu-bound-threads"
    summary = "Threads used for pure-Python computation, which the GIL runs one at a time"
    why = (
        "On the default (GIL) build of CPython only one thread runs Python bytecode at a time. "
        "Threads doing pure-Python computation take turns: four of them finish no sooner than "
        "one doing the work alone, and the switching and contention for the GIL make them "
        "slower. Threads pay off for work that waits (the GIL is released while a thread waits "
        "on I/O) or that runs in C code releasing the GIL (numpy, zlib, hashlib on large "
        "buffers). Computation in Python needs processes, each with its own interpreter and GIL."
    )
    fix = (
        "Run pure-Python computation in processes: `concurrent.futures.ProcessPoolExecutor` in "
        "place of `ThreadPoolExecutor`, `multiprocessing.Pool` in place of `ThreadPool` (the same "
        "API), `multiprocessing.Process` in place of `threading.Thread`. The worker and its "
        "arguments must then pickle, and the start of the program must sit under "
        "`if __name__ == \"__main__\":`. Or move the hot loop into numpy or another library that "
        "releases the GIL. On a free-threaded build, declare `free-threaded = true`."
    )
    bad_example = '''\
from concurrent.futures import ThreadPoolExecutor


def count_primes(limit):
    count = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            count += 1
    return count


if __name__ == "__main__":
    with ThreadPoolExecutor(max_workers=4) as executor:
        print(list(executor.map(count_primes, [10_000, 20_000, 30_000, 40_000])))
'''
    good_example = '''\
from concurrent.futures import ProcessPoolExecutor


def count_primes(limit):
    count = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            count += 1
    return count


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=4) as executor:
        print(list(executor.map(count_primes, [10_000, 20_000, 30_000, 40_000])))
'''
    references = (
        (
            "concurrent.futures: ProcessPoolExecutor",
            "https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor",
        ),
        (
            "threading: CPython implementation detail (the GIL)",
            "https://docs.python.org/3/library/threading.html",
        ),
        (
            "Python support for free threading",
            "https://docs.python.org/3/howto/free-threading-python.html",
        ),
    )
    default_enabled = False  # advice about speed, not a bug: opt-in, like MPL004
    judges_threads = True

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if self.options.free_threaded:
            return
        dispatches = [d for d in facts.workers.thread_dispatches if d.kind != "initializer"]
        if not dispatches:
            return
        workloads = Workloads(facts, self.options.io_bound_calls)
        judged = [(d, self._work(facts, workloads, d)) for d in dispatches]
        for dispatch, work, node, kind in judged_sites(facts, judged, _computes, Kind.THREAD):
            yield Report(node, self._message(facts, dispatch, work, node, kind))

    def _work(self, facts: ModuleFacts, workloads: Workloads, dispatch: Dispatch) -> Work | None:
        if not _several_threads(facts, dispatch):
            return None
        if dispatch.scope is not None and in_test(facts, dispatch.scope):
            return None  # a test exercising threads: speed is not the point
        return work_of(facts, workloads, dispatch)

    @staticmethod
    def _message(facts: ModuleFacts, dispatch: Dispatch, work: Work, node: cst.CSTNode, kind: Kind) -> str:
        worker = worker_name(facts, dispatch)
        computation = work.compute
        seen = ""
        if computation is not None:
            inside = f" in `{computation.function.name}`" if computation.function is not None else ""
            seen = f" ({computation.what}{inside}, line {facts.line_of(computation.node)})"
        if dispatch.kind == "run":
            subject = f"this `Thread` subclass runs `{worker}`"
            alternative = _SUBCLASS
        else:
            subject = f"`{facts.call_text(node)}` runs `{worker}` in threads"  # type: ignore[arg-type]
            alternative = _PROCESSES.get(kind, "use processes")
        return (
            f"{subject}, which computes in pure Python{seen} and waits on nothing: the GIL lets "
            f"one thread run Python code at a time, so the threads take turns and add overhead, "
            f"not speed; {alternative}. On a free-threaded build, set `free-threaded = true` "
            f"under `[tool.mplint]`"
        )


def _computes(work: Work | None) -> bool:
    return work is not None and work.holds_the_gil


def _several_threads(facts: ModuleFacts, dispatch: Dispatch) -> bool:
    """More than one thread runs the work at once: threads created in a loop or comprehension; a
    pool or executor with more than one worker that maps the work over items or is handed it
    in a loop (one `submit(f)` runs on one thread)."""
    runner = dispatch.runner
    if dispatch.kind == "run":
        cls = dispatch.worker.cls if dispatch.worker is not None else None
        return cls is not None and any(
            facts.loops.loop_of(site.node) is not None
            for site in facts.calls
            if (made := facts.values.instance_of(site.node, site.scope)) is not None
            and made.creation is site.node
            and made.cls is cls
        )
    if runner is None:
        return False
    if dispatch.kind == "target":
        return facts.loops.loop_of(runner.creation) is not None
    size = argument(runner.creation, 0, "max_workers" if runner.kind is Kind.THREAD_EXECUTOR else "processes")
    if type(size) is cst.Integer and size.evaluated_value == 1:
        return False
    one_task = dispatch.method in _ONE_TASK
    return not one_task or (dispatch.site is not None and facts.loops.loop_of(dispatch.site.node) is not None)
