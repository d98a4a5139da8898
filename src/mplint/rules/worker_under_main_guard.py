"""MPL013: a worker defined under `if __name__ == "__main__":`, which a spawned child cannot find."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import Context, Dispatch, ModuleFacts, Scope
from mplint.rules.base import Report, Rule

_DEFAULTS = "the default on Windows and macOS, and on Linux from Python 3.14"

#: what the user sees, by how the callable reaches the child
_SYMPTOM = {
    "target": "the child fails as it starts",
    "run": "the child fails as it starts",
    "initializer": "each worker fails as it starts and the pool keeps replacing it",
    "pool": "each worker dies unpickling the task and `map()`/`get()` can wait forever",
    "executor": "the worker dies unpickling the task and the executor is broken "
    "(`BrokenProcessPool`)",
    "spawn": "every spawned process fails as it starts",
}


class WorkerUnderMainGuard(Rule):
    """Finds a function or class defined inside `if __name__ == "__main__":` and handed to a
    child process that is started with spawn or forkserver: as a `Process` target, a pool's or
    executor's task or `initializer=`, as the class of a bound method, as an argument of the
    worker, or as a `Process` subclass defined there and started. The hand-over is reported (for a
    `Process` subclass, its creation), with the line of the definition; a worker passed to a
    helper of the module that starts it (`launch(work)`) is reported where it is passed, when
    every call of the helper passes the same one. A definition only used in
    the parent is not reported, nor hand-overs where fork is chosen explicitly
    (`get_context("fork")`, `set_start_method("fork")`), where the start method is chosen at run
    time, or to packages that pickle by value (`multiprocess` with dill; loky and pathos are no
    multiprocessing APIs to mplint)."""

    code = "MPL013"
    name = "worker-under-main-guard"
    summary = 'A worker defined under `if __name__ == "__main__":` cannot be found by a spawned child'
    why = (
        "pickle sends a function or class by name: the module and the name to import it by. A "
        "child started with spawn (the default on Windows and macOS) or forkserver (the default "
        "on Linux from Python 3.14) imports the main script again, under the name `__mp_main__`, "
        "so `if __name__ == \"__main__\":` is false there and what is defined inside it does not "
        "exist. Unpickling the task fails with `AttributeError: Can't get attribute 'work' on "
        "<module '__mp_main__'>`. A `Process` child exits with status 1 as it starts; a `Pool` "
        "worker dies on the task, the pool starts a new worker and the task's result never comes, "
        "so `map()` hangs; a `ProcessPoolExecutor` raises `BrokenProcessPool`. It works under "
        "fork, where the child is a copy of the parent, which is why it breaks on moving to a Mac, "
        "to Windows or to Python 3.14."
    )
    fix = (
        "Define the function or class at module level, above the guard: only the code that starts "
        "processes belongs under `if __name__ == \"__main__\":`."
    )
    bad_example = '''\
from multiprocessing import Pool

if __name__ == "__main__":

    def square(x):
        return x * x

    with Pool(4) as pool:
        print(pool.map(square, range(10)))
'''
    good_example = '''\
from multiprocessing import Pool


def square(x):
    return x * x


if __name__ == "__main__":
    with Pool(4) as pool:
        print(pool.map(square, range(10)))
'''
    references = (
        (
            "multiprocessing programming guidelines: safe importing of main module",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
        (
            "pickle: what can be pickled and unpickled",
            "https://docs.python.org/3/library/pickle.html#what-can-be-pickled-and-unpickled",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if not facts.main_only:
            return
        for dispatch in facts.workers.dispatches:
            if dispatch.site is None:
                continue
            context = facts.contexts.of_dispatch(dispatch)
            if not _spawns_by_name(context):
                continue
            handed = [(dispatch.passed_in or dispatch.callable, self._callable_definition(facts, dispatch), "")]
            handed += [
                (value, _named_definition(facts, value, dispatch.site.scope), " as an argument")
                for value in (*dispatch.args, *dispatch.kwargs.values())
            ]
            for node, definition, how in handed:
                if node is None or definition is None or definition not in facts.main_only:
                    continue
                defined = (
                    f"{_what(definition)} is defined under `if __name__ == \"__main__\":` (line "
                    f"{facts.line_of(definition.name)})"
                )
                handed_to = f"`{facts.call_text(dispatch.site.node)}`{how}"
                if facts.code(node) == definition.name.value:
                    opening = f"{defined} and handed to {handed_to}"
                else:
                    opening = f"`{facts.code(node)}` is handed to {handed_to}, but {defined}"
                yield Report(
                    node,
                    f"{opening}; {_started(context, dispatch)}, the child imports this module as "
                    "`__mp_main__`, where the guard is false, and cannot unpickle it "
                    f"(`AttributeError: Can't get attribute`): {_SYMPTOM[dispatch.kind]}; "
                    "define it at module level, above the guard",
                )
        for life in facts.lifecycles.all:
            cls = life.instance.cls
            if life.kind is not Kind.PROCESS or cls is None or cls not in facts.main_only:
                continue
            if not any(e.calls("start") for e in life.events()):
                continue
            context = facts.contexts.of(life.instance)
            if not _spawns_by_name(context):
                continue
            yield Report(
                life.creation,
                f"`{cls.name.value}` is a `Process` subclass defined under `if __name__ == "
                f"\"__main__\":` (line {facts.line_of(cls.name)}); {_started(context, None)}, `start()` "
                "pickles the process by its class's name and the child, which imports this "
                "module as `__mp_main__` where the guard is false, cannot find it "
                "(`AttributeError: Can't get attribute`): define the class at module level, "
                "above the guard",
            )

    @staticmethod
    def _callable_definition(facts: ModuleFacts, dispatch: Dispatch) -> cst.FunctionDef | cst.ClassDef | None:
        """The def, or the class of the method, or the class itself, that the child must import."""
        worker = dispatch.worker
        if worker is not None:
            if worker.node in facts.main_only:
                return worker.node
            return worker.cls
        where = dispatch.target_scope or dispatch.scope
        if dispatch.target is None or where is None:
            return None
        definition = facts.names.definition(dispatch.target, where)
        return definition if type(definition) is cst.ClassDef else None


def _named_definition(
    facts: ModuleFacts, value: cst.BaseExpression, scope: Scope
) -> cst.FunctionDef | cst.ClassDef | None:
    """The def or class an argument is, or the class it is an instance of."""
    definition = facts.names.definition(value, scope) if type(value) is cst.Name else None
    if definition is not None:
        return definition
    return facts.names.class_of(value, scope) if type(value) in (cst.Name, cst.Call) else None


def _spawns_by_name(context: Context | None) -> bool:
    """The child re-imports the main module and pickle looks names up there."""
    return (
        context is not None
        and context.pickler == "pickle"
        and context.method in (None, "spawn", "forkserver")
    )


def _started(context: Context | None, dispatch: Dispatch | None) -> str:
    method = context.method if context is not None else None
    if dispatch is not None and dispatch.kind == "spawn" and method == "spawn":
        return "under spawn"  # torch's spawn() always spawns; start_processes() was told to
    if method is None:
        return f"under spawn or forkserver ({_DEFAULTS})"
    return f"under {method}, chosen here"


def _what(definition: cst.FunctionDef | cst.ClassDef) -> str:
    if type(definition) is cst.ClassDef:
        return f"class `{definition.name.value}`"
    return f"`{definition.name.value}`"
