"""MPL009: `set_start_method(...)` run while the module is being imported."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterator

import libcst as cst

from mplint.facts import CallSite, Chain, ModuleFacts
from mplint.facts.setters import tolerated, unforced_setter
from mplint.fixes.guard import start_method_fix
from mplint.project.told import shown
from mplint.rules.base import Report, Rule

_FIX_TITLE = 'Move it under `if __name__ == "__main__":`, first'

_ALREADY_SET = "`RuntimeError: context has already been set`"
_WHY_SPAWNED = (
    "every child started with spawn or forkserver imports this module again after its start method "
    f"is set, and the call raises {_ALREADY_SET} there (as in any program that set a start method "
    "before importing this module)"
)
_WHY_FORKED = (
    "a program that set a start method before importing this module (or that imports the script "
    f"again by name) gets {_ALREADY_SET}"
)


class StartMethodAtImport(Rule):
    """Finds `set_start_method(...)` calls that run when the module is imported, outside
    `if __name__ == "__main__":` and without `force=True`, directly or through a function called at
    import time, also a function of another module of the project (the message names the chain
    with file and line). Calls that tolerate a start method chosen before (under
    `if multiprocessing.get_start_method(allow_none=True) is None:`, or in a `try` that catches
    `RuntimeError`) are not reported."""

    code = "MPL009"
    name = "start-method-at-import"
    summary = "`set_start_method()` called at import time"
    why = (
        "The start method is global to the program and may be set once: a second "
        "`set_start_method()` without `force=True` raises `RuntimeError: context has already been "
        "set`. A call at import time runs every time the module is imported by a new interpreter. "
        "Each child started with spawn (the default on Windows and macOS) or forkserver (the "
        "default on Linux from Python 3.14) sets its start method first and then imports the "
        "main module and what it imports, so the call fails in every child; a pool keeps replacing "
        "its dying workers, and the program hangs. A library module that sets it also breaks the "
        "programs that chose their own start method before importing it."
    )
    fix = (
        "Take a context instead of changing the global default: `ctx = "
        'multiprocessing.get_context("spawn")`, then create processes, pools and queues from `ctx` '
        '(`ctx.Process`, `ctx.Pool`), or pass `mp_context=ctx` to `ProcessPoolExecutor`. A script '
        'that wants a program-wide default can call `set_start_method()` under `if __name__ == '
        '"__main__":`.'
    )
    autofix = (
        'Moves the `set_start_method(...)` statement into the `if __name__ == "__main__":` block, '
        "as its first statement (creating the block at the end of the module when there is none), "
        "so that it runs once, in the main script, before anything starts a process. Only in a "
        "module run as a script, and only for a statement of its own at module level. Safe, "
        "except when module-level code after it (other than definitions) would now run before "
        "the start method is set: then unsafe."
    )
    bad_example = '''\
import multiprocessing

multiprocessing.set_start_method("spawn")


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(10)))
'''
    good_example = '''\
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        print(pool.map(square, range(10)))
'''
    references = (
        (
            "Contexts and start methods",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
        (
            "multiprocessing.set_start_method",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.set_start_method",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if PurePath(facts.path).name == "conftest.py":
            return  # pytest's configuration: imported once by the test run, never by its children
        yield from self._through_project(facts)
        setters = [site for site in facts.calls if unforced_setter(facts, site)]
        if not setters:
            return
        for site in setters:
            if site.import_time:
                yield Report(
                    site.node,
                    f"`{facts.code(site.node)}` runs at import time without `force=True`: "
                    f"{_why(facts, site)}: {_suggestion(facts, site)}",
                    start_method_fix(facts.module, facts.path, site.node, _FIX_TITLE),
                )
        in_functions = {site.node for site in setters if not site.import_time}
        if not in_functions:
            return
        for site, chain in facts.import_time_calls_reaching(lambda s: s.node in in_functions):
            if not tolerated(facts, site):
                setter = chain[-1]
                yield Report(
                    site.node,
                    f"`{facts.call_text(site.node)}` is called at import time and calls "
                    f"`{facts.code(setter.node)}` (line {facts.line_of(setter.node)}): "
                    f"{_why(facts, setter)}: {_suggestion(facts, setter)}",
                )


    @staticmethod
    def _through_project(facts: ModuleFacts) -> Iterator[Report]:
        """Import-time calls that reach a function of another module of the project that sets
        the start method, directly or through functions of this module."""
        if not facts.project or not facts.project.sets_method:
            return
        for site, chain in facts.import_time_calls_reaching(lambda s: facts.project_setter(s) is not None):
            if tolerated(facts, site):
                continue
            remote = facts.project_setter(chain[-1])
            local = [f"`{facts.call_text(s.node)}` (line {facts.line_of(s.node)})" for s in chain]
            yield Report(site.node, _remote_message(facts, site, local, remote))  # type: ignore[arg-type]
        for site in facts.calls:
            remote = facts.project_setter(site) if site.import_time else None
            if remote is not None and not tolerated(facts, site):
                yield Report(site.node, _remote_message(facts, site, [], remote))


def _remote_message(facts: ModuleFacts, site: CallSite, local: list[str], remote: Chain) -> str:
    setter = remote[-1][0]
    method = setter[setter.find("(") + 1: setter.rfind(")")].split(",")[0].strip()
    why = _WHY_FORKED if method in ('"fork"', "'fork'") else _WHY_SPAWNED
    module = setter[: setter.find("set_start_method")].rstrip(".") or "multiprocessing"
    through = " -> ".join([*local, shown(remote)])
    return (
        f"`{facts.call_text(site.node)}` is called at import time and calls `{setter}` in another "
        f"module (through {through}): {why}: create processes from "
        f"`ctx = {module}.get_context({method})` instead, or make the call under "
        '`if __name__ == "__main__":`'
    )


def _method(facts: ModuleFacts, site: CallSite) -> str:
    """The method argument as written (empty when missing)."""
    for arg in site.node.args:
        if arg.keyword is None or arg.keyword.value == "method":
            return facts.code(arg.value)
    return ""


def _why(facts: ModuleFacts, site: CallSite) -> str:
    method = _method(facts, site)
    return _WHY_FORKED if method in ('"fork"', "'fork'") else _WHY_SPAWNED


def _suggestion(facts: ModuleFacts, site: CallSite) -> str:
    api = facts.api_of_call(site)
    func = site.node.func
    if type(func) is cst.Attribute:
        module = facts.code(func.value)
    else:
        module = api.qualname.rsplit(".", 1)[0] if api is not None else "multiprocessing"
    return (
        f"create processes from `ctx = {module}.get_context({_method(facts, site)})` instead, or call it under "
        '`if __name__ == "__main__":`'
    )
