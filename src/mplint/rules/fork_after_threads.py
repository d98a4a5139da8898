"""MPL016: forking while threads of the program's own are running."""

from __future__ import annotations

from typing import Iterator

from mplint.apis import Kind
from mplint.facts import ForkWithThreads, ModuleFacts
from mplint.project.told import shown
from mplint.rules.base import Report, Rule

_FORKED = {
    Kind.FORK: "forks this process",
    Kind.PROCESS: "forks a child process (start method fork, chosen here)",
    Kind.MANAGER_CLASS: "forks a manager's server process (start method fork, chosen here)",
    Kind.POOL: "forks the pool's workers (start method fork, chosen here)",
    Kind.PROCESS_EXECUTOR: "forks the executor's workers (start method fork, chosen here)",
    Kind.MANAGER: "forks a manager's server process (start method fork, chosen here)",
}


class ForkAfterThreads(Rule):
    """Finds a fork made while threads that the program started are still running: `os.fork()`,
    or a process, pool, executor or manager whose start method is fork by explicit choice
    (`get_context("fork")`, `set_start_method("fork")`, `ForkProcess`), after a
    `threading.Thread` (or `Timer`, or subclass) was started and not joined, a `ThreadPool` was
    created and not joined, terminated or left by its `with` block, or a `ThreadPoolExecutor` was
    given tasks and not shut down. "After" follows the calls of the module's functions in the
    order they run: threads started in `setup()` and a fork in `run()` are found when `main()`
    calls both, in that order; a function of another module of the project that starts a
    thread and returns with it running (`monitor.start_heartbeat()`), starts the thread it is
    handed (`threads.launch(thread)`, or hands it on to a function that does, in any module and
    through any number of such calls) or makes and returns one already started starts one where
    it is called, and the message names the chain to the thread's start with file and line; a
    thread that another module makes and returns unstarted runs from its `start()` to its
    `join()`. Reported: the `os.fork()` call, the process's `start()`, or the
    creation of the pool, executor or manager. Not reported: forks where the platform default
    start method applies (mplint cannot know the platform), spawn and forkserver, threads joined
    or shut down before the fork, threads started only in the child (in a branch on the result
    of `os.fork()`, or in the code handed to the child), and multiprocessing's own helper
    threads (a pool's handlers, a queue's feeder)."""

    code = "MPL016"
    name = "fork-after-threads"
    summary = "A fork while threads that the program started are still running"
    why = (
        "`fork()` copies the whole memory of the process but only the thread that calls it. Any "
        "lock that another thread held at that moment (the logging module's, a `Queue`'s, "
        "stdout's buffer, the allocator's, the import lock, one in a C library) is held forever in "
        "the child, and the child hangs the first time it needs it. It happens rarely and under "
        "load, so it shows as a CI job or a worker that hangs now and then. It bites wherever fork "
        "exists: Linux and macOS (where fork is also unsafe with system frameworks), on every "
        "Python version; from Python 3.12 `os.fork()` and the fork start method emit a "
        "`DeprecationWarning` (\"This process is multi-threaded, use of fork() may lead to "
        "deadlocks in the child\"), which is hidden by default."
    )
    fix = (
        "Fork before starting threads, or join the threads (shut the thread pool down) before "
        "forking. Better, do not choose fork: the spawn or forkserver start method "
        "(`multiprocessing.get_context(\"forkserver\")`) starts children from a clean process "
        "that has no threads."
    )
    bad_example = '''\
import multiprocessing
import threading
import time


def heartbeat():
    while True:
        time.sleep(1)


def work():
    print("working")


if __name__ == "__main__":
    threading.Thread(target=heartbeat, daemon=True).start()
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=work)
    child.start()
    child.join()
'''
    good_example = '''\
import multiprocessing
import threading
import time


def heartbeat():
    while True:
        time.sleep(1)


def work():
    print("working")


if __name__ == "__main__":
    threading.Thread(target=heartbeat, daemon=True).start()
    ctx = multiprocessing.get_context("forkserver")
    child = ctx.Process(target=work)
    child.start()
    child.join()
'''
    references = (
        (
            "os.fork (the DeprecationWarning from Python 3.12)",
            "https://docs.python.org/3/library/os.html#os.fork",
        ),
        (
            "Contexts and start methods",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for found in facts.forking.while_threads_run:
            site = found.fork.site
            yield Report(
                site.node,
                f"`{facts.call_text(site.node)}` {_FORKED[found.fork.kind]} while a thread this "
                f"program started is running ({_started(facts, found)}): the child inherits only "
                "the forking thread, and any lock another thread held stays locked there, so the "
                "child can deadlock (Python 3.12+ warns with a hidden `DeprecationWarning`); join "
                "or shut down the threads before forking, or use the spawn or forkserver start "
                "method",
            )


def _started(facts: ModuleFacts, found: ForkWithThreads) -> str:
    started = found.started.node
    where = f"`{facts.call_text(started)}` on line {facts.line_of(started)}"
    if found.via is not None:
        return f"started by {where}, through {shown(found.via)}, not ended before"
    return f"started by {where}, not ended before"
