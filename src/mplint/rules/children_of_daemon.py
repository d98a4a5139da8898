"""MPL015: processes started from code that runs in a daemonic process."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import DaemonicRun, ModuleFacts
from mplint.facts.scopes import CallSite
from mplint.project.told import shown
from mplint.rules.base import Report, Rule

_WHAT = {
    Kind.PROCESS: "is started as a child process",
    Kind.POOL: "creates a pool",
    Kind.PROCESS_EXECUTOR: "creates a process pool executor",
    Kind.MANAGER: "starts a manager's server process",
    Kind.MANAGER_CLASS: "is started as a manager's server process",
    Kind.SPAWN: "spawns processes",
}


class ChildrenOfDaemon(Rule):
    """Finds a `Pool`, a `Process`, a `ProcessPoolExecutor` or a manager created in code that runs
    in a daemonic process: a worker (or the initializer) of a `multiprocessing` `Pool`, whose
    workers are daemonic (as are those of pathos' `ProcessPool` and mpire's `WorkerPool` unless
    made with `daemon=False`; pebble's `ProcessPool` workers are not, since pebble 5), or the target or `run` of a `Process` made with `daemon=True`, directly
    or through the functions of the module it calls. The creation is reported (for a `Process`,
    the `Process(...)` that is then started), with the way the code reaches the daemon; when the
    daemonic code calls a function of another module of the project that starts processes, that
    call is reported, with the chain of calls to the creation. Not
    reported: `ProcessPoolExecutor` and loky workers (they are not daemonic), joblib tasks (joblib
    runs nested calls sequentially in a daemonic worker), thread pools and threads in
    a worker, and code behind a test of a `daemon` flag (`if not current_process().daemon:`), or
    in a function that reads one."""

    code = "MPL015"
    name = "children-of-daemon"
    summary = "A process, pool or manager created in a pool worker or another daemonic process"
    why = (
        "The workers of a `multiprocessing.Pool` are daemonic processes, and so is a "
        "`Process(daemon=True)`. A daemonic process is killed when its parent exits, so it may "
        "not have children that it would orphan: starting one raises `AssertionError: daemonic "
        "processes are not allowed to have children`. A library function that uses a pool "
        "internally works when called from the main program and fails as soon as someone calls "
        "it from a pool's task. It fails on every platform, Python version and start method; only "
        "the task that reaches the creation fails, so it can hide behind a rarely taken branch."
    )
    fix = (
        "Use a `concurrent.futures.ProcessPoolExecutor` for the outer pool: its workers are not "
        "daemonic and may start processes. Or keep the work inside the worker serial, or in "
        "threads (`multiprocessing.pool.ThreadPool`, `ThreadPoolExecutor`). For a process of your "
        "own, start it with `daemon=False` and join it."
    )
    bad_example = '''\
from multiprocessing import Pool


def square(x):
    return x * x


def squares(chunk):
    with Pool(2) as inner:
        return inner.map(square, chunk)


if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(squares, [[1, 2], [3, 4]]))
'''
    good_example = '''\
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool


def square(x):
    return x * x


def squares(chunk):
    with Pool(2) as inner:
        return inner.map(square, chunk)


if __name__ == "__main__":
    with ProcessPoolExecutor(2) as executor:
        print(list(executor.map(squares, [[1, 2], [3, 4]])))
'''
    references = (
        (
            "multiprocessing.Process.daemon",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process.daemon",
        ),
        (
            "concurrent.futures.ProcessPoolExecutor",
            "https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        reported: set[cst.Call] = set()
        for function in facts.functions.values():
            run = facts.daemonic.run_of(function)
            if run is None:
                continue
            for site in function.calls:
                kind = facts.started_kind(site)
                if facts.daemonic.checks_daemon(site):
                    continue
                if kind is None:
                    chain = facts.project_start(site)
                    if chain is not None and site.node not in reported:
                        reported.add(site.node)
                        yield Report(
                            site.node,
                            f"`{facts.call_text(site.node)}` starts processes in another module "
                            f"(through {shown(chain)}) in code that runs in a daemonic process "
                            f"({_how(facts, run)}); a daemonic process cannot have children: this "
                            "raises `AssertionError: daemonic processes are not allowed to have "
                            f"children`; {_fix(run)}",
                        )
                    continue
                creation = _creation(facts, site, kind)
                if creation in reported:
                    continue
                reported.add(creation)
                yield Report(
                    creation,
                    f"`{facts.call_text(creation)}` {_WHAT[kind]} in code that runs in a daemonic "
                    f"process ({_how(facts, run)}); a daemonic process cannot have children: "
                    "this raises `AssertionError: daemonic processes are not allowed to have "
                    f"children`; {_fix(run)}",
                )


def _creation(facts: ModuleFacts, site: CallSite, kind: Kind) -> cst.Call:
    """For `p.start()`, the `Process(...)` that made `p`; else the call itself."""
    func = site.node.func
    if kind in (Kind.PROCESS, Kind.MANAGER_CLASS) and type(func) is cst.Attribute:
        instance = facts.values.instance_of(func.value, site.scope)
        if instance is not None:
            return instance.creation
    return site.node


def _how(facts: ModuleFacts, run: DaemonicRun) -> str:
    dispatch = run.dispatch
    worker = f"`{run.worker.name}`"
    if dispatch.site is None:
        owner = run.worker.cls.name.value if run.worker.cls is not None else "Process"
        worker = f"`{owner}.run`"
        handed = "the code of a daemon process"
    elif run.reason == "pool":
        role = "the initializer" if dispatch.kind == "initializer" else "a task"
        handed = (
            f"{role} of `{facts.call_text(dispatch.site.node)}` on line "
            f"{facts.line_of(dispatch.site.node)}, whose workers are daemonic"
        )
    else:
        handed = (
            f"the target of the daemon process `{facts.call_text(dispatch.site.node)}` on line "
            f"{facts.line_of(dispatch.site.node)}"
        )
    if not run.chain:
        return f"{worker} is {handed}"
    through = " -> ".join(f"`{facts.call_text(s.node)}`" for s in run.chain)
    return f"{worker}, {handed}, calls it through {through}"


def _fix(run: DaemonicRun) -> str:
    if run.reason == "pool":
        return (
            "run the outer tasks in a `ProcessPoolExecutor` (its workers are not daemonic), or do "
            "this work serially or in threads"
        )
    return "start the outer process with `daemon=False` and join it, or do this work in threads"
