"""MPL001: processes started while the module is being imported."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterator

from mplint.apis import Kind
from mplint.facts import CallSite, Chain, ModuleFacts
from mplint.project.told import shown
from mplint.fixes.guard import with_guard_fix
from mplint.rules.base import Report, Rule

_FIX_TITLE = 'Move the script\'s work under `if __name__ == "__main__":`'
#: rules that leave import-time code to this one and look at it once it is guarded
_FIX_REVEALS = ("MPL002",)

_WHAT_STARTS = {
    Kind.PROCESS: "starts a process",
    Kind.POOL: "starts a pool of worker processes",
    Kind.PROCESS_EXECUTOR: "creates a process pool executor",
    Kind.MANAGER: "starts a manager's server process",
    Kind.MANAGER_CLASS: "starts a manager's server process",
    Kind.SPAWN: "spawns processes",
    Kind.PARALLEL: "runs its tasks in joblib's multiprocessing backend, which starts worker processes,",
    Kind.PROCESS_DECORATOR: "runs a `@concurrent.process` function, which starts a process,",
}

_WHY_SHORT = (
    "under spawn or forkserver (the default on Windows, macOS, and Linux from Python 3.14) "
    "each child re-imports this module and runs it again"
)


class UnguardedProcessCreation(Rule):
    """Finds code that starts child processes while the module is being imported: a process start,
    a pool, a `ProcessPoolExecutor` or a manager created by a module-level statement outside
    `if __name__ == "__main__":`, and calls made at import time to functions (such as `main()`)
    that start processes, directly or through other functions, of this module or of another module
    of the project (`from app.cli import main`): the message names the chain, with file and line. The pool libraries are
    judged by their documentation: pathos' process pools, a joblib `Parallel(...)(tasks)` run
    with `backend="multiprocessing"` and a call of a pebble `@concurrent.process` function are
    reported; loky's executors and joblib's default loky backend are not (loky starts its workers
    without running the main module, and joblib documents that they need no guard), nor is an
    mpire `WorkerPool` (it starts no worker until a map runs, and forks where it can), a pathos
    `ParallelPool` (ppft starts its local workers as separate interpreters with `subprocess`) or a
    pebble `ProcessPool` made at import time (it starts its workers at its first task). A package's
    `__main__.py` is not reported: run as `python -m package` (or as a folder or a zip archive),
    it is a main module that a spawned or forkserver child never runs again (multiprocessing
    leaves such modules out when it prepares the child's `__main__`)."""

    code = "MPL001"
    name = "unguarded-process-creation"
    summary = 'Processes started at import time, outside `if __name__ == "__main__":`'
    why = (
        "With the spawn start method (the default on Windows and macOS) and the forkserver start "
        "method (the default on Linux from Python 3.14), each child process starts a fresh "
        "interpreter and imports the main module again before it runs its task. Code that starts "
        "processes at import time therefore runs again in every child. Python stops it with "
        "`RuntimeError: An attempt has been made to start a new process before the current process "
        "has finished its bootstrapping phase`; other libraries and older Pythons may instead start "
        "processes without end. The script works under fork on Linux and breaks the day it runs on "
        "a Mac, on Windows, or on Python 3.14."
    )
    fix = (
        'Put the code that starts processes under `if __name__ == "__main__":`, or in a function '
        "that only the guarded block calls. Definitions (functions, classes, constants) may stay at "
        "module level: the children need them."
    )
    autofix = (
        'Puts the script\'s work under `if __name__ == "__main__":`. Imports, definitions, `if` and '
        "`try` blocks that hold imports or definitions, and every assignment whose name a function "
        "of the module reads stay at module level, in their order: under spawn a child imports "
        "the module, and a name bound only under the guard would be a `NameError` in the worker. "
        "The rest of the module-level work (the statements that start processes, prints, loops, "
        "`with` blocks, a bare `main()` call, and what runs before the processes start, which "
        "every spawned child would repeat) moves, in order, into one guard at the end, merged with "
        "an existing guard. Safe, except where the kept code reads at import time (a class body, a "
        "decorator, a default argument) or a function reads a name only moved code binds, or a "
        "moved statement sets up what children need at import (logging configuration, `sys.path`, "
        "`os.environ`): then the fix is unsafe. Only a module run as a script gets it (one with a "
        "guard, a shebang or module-level work), never a library module, a test module or a "
        "`conftest.py`."
    )
    bad_example = '''\
import multiprocessing


def square(x):
    return x * x


with multiprocessing.Pool(4) as pool:
    print(pool.map(square, range(10)))
'''
    good_example = '''\
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        print(pool.map(square, range(10)))
'''
    references = (
        (
            "multiprocessing programming guidelines: safe importing of main module",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
        (
            "Contexts and start methods",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        yield from with_guard_fix(
            facts.module, facts.path, list(self._reports(facts)), _FIX_TITLE, _FIX_REVEALS, facts.source
        )

    def _reports(self, facts: ModuleFacts) -> Iterator[Report]:
        if PurePath(facts.path).name == "__main__.py":
            return  # `python -m package`: a child never runs a `__main__` module again
        for site in facts.calls:
            kind = facts.starts_unguarded(site) if site.import_time else None
            if kind is not None:
                yield Report(
                    site.node,
                    f"`{facts.call_text(site.node)}` {_WHAT_STARTS[kind]} at import time; "
                    f"{_WHY_SHORT}: move it under `if __name__ == \"__main__\":`",
                )
        for site in facts.calls:
            project_chain = facts.project_start(site) if site.import_time else None
            if project_chain is not None:
                yield self._called(facts, site, _through_project(facts, (), project_chain))
        def reaching(site: CallSite) -> bool:
            return facts.starts_unguarded_processes(site) or facts.project_start(site) is not None

        for site, chain in facts.import_time_calls_reaching(reaching):
            if facts.starts_unguarded_processes(site):
                continue  # reported above as a start of its own
            last = chain[-1]
            if facts.starts_unguarded_processes(last):
                through = " -> ".join(f"`{facts.call_text(s.node)}`" for s in chain)
                through += f" on line {facts.line_of(last.node)}"
            else:
                through = _through_project(facts, chain[:-1], facts.project_start(last) or ())
            yield self._called(facts, site, through)

    def _called(self, facts: ModuleFacts, site: CallSite, through: str) -> Report:
        return Report(
            site.node,
            f"`{facts.call_text(site.node)}` is called at import time and starts processes "
            f"(through {through}); {_WHY_SHORT}: call it under `if __name__ == \"__main__\":`",
        )


def _through_project(facts: ModuleFacts, local: tuple[CallSite, ...], chain: Chain) -> str:
    """`helper()` (line 8) -> `main()` (app/cli.py:12) -> ... -> `Pool(...)` (app/jobs.py:41)"""
    steps = [f"`{facts.call_text(s.node)}` (line {facts.line_of(s.node)})" for s in local]
    return " -> ".join([*steps, shown(chain)])
