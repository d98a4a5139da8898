"""MPL010: the worker is called in the parent instead of being handed to the child."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import Dispatch, ModuleFacts
from mplint.facts.returns import returns_no_callable
from mplint.fixes import Rewrite
from mplint.fixes.arguments import pass_the_function
from mplint.rules.base import Report, Rule



class TargetCalled(Rule):
    """Finds a worker that is called where it should be passed: `Process(target=work(x))`,
    `pool.map(work(), items)`, `executor.submit(work(x))`, `Pool(initializer=setup(cfg))`, when
    `work` is a function of the module whose result cannot be called: it returns nothing, or only
    literals, f-strings, containers, arithmetic or the results of builtins such as `len()` and
    `str()`. A factory that may return a function (a nested def, a lambda, a `functools.partial`,
    the result of another call) is not reported, nor are generators, decorated functions and
    methods that another class of the module overrides."""

    code = "MPL010"
    name = "target-called"
    summary = "A worker called in the parent instead of passed to the child"
    why = (
        "`Process(target=work(x))` evaluates `work(x)` first, in the parent, and hands the process "
        "what it returned. The work is done once, serially, in the parent; the child receives "
        "`None` (and then does nothing: a `Process` without a target runs nothing) or a value "
        "that is no function (and fails with `TypeError: ... object is not callable`). With a "
        "pool or an executor every task fails with that `TypeError`. The program looks as if it "
        "works, only without any parallelism, which is easy to miss on a small input."
    )
    fix = (
        "Pass the function itself and its arguments separately: `Process(target=work, "
        "args=(x,))`, `pool.apply_async(work, (x,))`, `executor.submit(work, x)`, "
        "`Pool(initializer=setup, initargs=(cfg,))`; for `map`, bind fixed arguments with "
        "`functools.partial(work, x)`."
    )
    autofix = (
        "Passes the function instead of its result: `target=work()` becomes `target=work`, "
        "`target=work(a, b)` becomes `target=work, args=(a, b)` (when there is no `args=` yet), "
        "`Pool(initializer=setup(cfg))` becomes `initializer=setup, initargs=(cfg,)`, "
        "`pool.apply_async(work(x))` becomes `pool.apply_async(work, (x,))` and "
        "`executor.submit(work(x))` becomes `executor.submit(work, x)`. Unsafe: the work moves from "
        "the parent into the child, which is the point, but it changes what the program does (the "
        "parent no longer waits for it, its side effects happen in another process). Only with "
        "`--unsafe-fixes`."
    )
    bad_example = '''\
from multiprocessing import Process


def download(url):
    print("downloading", url)


if __name__ == "__main__":
    workers = [Process(target=download(url)) for url in ["a.example", "b.example"]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
'''
    good_example = '''\
from multiprocessing import Process


def download(url):
    print("downloading", url)


if __name__ == "__main__":
    workers = [Process(target=download, args=(url,)) for url in ["a.example", "b.example"]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
'''
    references = (
        (
            "multiprocessing.Process",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process",
        ),
        (
            "multiprocessing.pool.Pool",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
        (
            "Executor.submit",
            "https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.Executor.submit",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for dispatch in facts.workers.dispatches:
            call = dispatch.target
            if dispatch.scope is None or type(call) is not cst.Call:
                continue
            definition = facts.names.definition(call.func, dispatch.scope)
            if type(definition) is not cst.FunctionDef:
                continue
            function = facts.functions.get(definition)
            if function is None or facts.callgraph.may_be_overridden(function):
                continue
            returned = returns_no_callable(facts, function)
            if returned is None:
                continue
            fixed = _fixed(facts, dispatch, call)
            yield Report(
                call,
                f"`{facts.code(call)}` runs `{facts.code(call.func)}` now, in the parent, and passes "
                f"its result ({returned}) {_as_what(dispatch)}{_consequence(dispatch, returned)}; "
                f"pass the function itself: {fixed}",
                _fix(dispatch, call, f"Pass the function itself: {fixed}"),
            )


def _fix(dispatch: Dispatch, call: cst.Call, title: str) -> Rewrite | None:
    if dispatch.site is None or dispatch.partial is not None:
        return None
    return pass_the_function(dispatch.kind, dispatch.site.node, call, title)


def _as_what(dispatch: Dispatch) -> str:
    return {
        "target": "as the process target",
        "initializer": "as the workers' initializer",
        "pool": "to the pool as the function to run",
        "executor": "to the executor as the function to run",
        "spawn": "as the function to run in each process",
    }.get(dispatch.kind, "as the function to run")


def _consequence(dispatch: Dispatch, returned: str) -> str:
    if dispatch.kind == "target" and returned == "None":
        return ": the work runs serially in the parent and the child does nothing"
    if dispatch.kind == "initializer":
        if returned == "None":
            return ": it runs once in the parent and initializes no worker"
        return ": creating the pool fails with `TypeError: initializer must be a callable`"
    return ": the child fails with `TypeError: ... object is not callable`"


def _fixed(facts: ModuleFacts, dispatch: Dispatch, call: cst.Call) -> str:
    """The dispatch written the way it was meant, for this code."""
    func = facts.code(call.func)
    arguments = ", ".join(_argument_text(facts, a) for a in call.args)
    positional = [facts.code(a.value) for a in call.args if a.keyword is None and not a.star]
    packed = None
    if len(positional) == len(call.args):
        packed = f"({positional[0]},)" if len(positional) == 1 else f"({arguments})"
    if dispatch.partial is not None:
        return f"`functools.partial({func}, ...)`"
    if dispatch.kind in ("target", "initializer"):
        keyword, args_keyword = (
            ("target", "args") if dispatch.kind == "target" else ("initializer", "initargs")
        )
        if not call.args:
            return f"`{keyword}={func}`"
        if packed is not None:
            return f"`{keyword}={func}, {args_keyword}={packed}`"
        return f"`{keyword}={func}` with its arguments in `{args_keyword}=`"
    site = dispatch.site
    if site is None:
        return f"`{func}`"
    owner = facts.code(site.node.func)
    method = site.node.func.attr.value if type(site.node.func) is cst.Attribute else ""
    if not call.args:
        return f"`{owner}({func}, ...)`"
    if dispatch.kind == "executor" and method == "submit":
        return f"`{owner}({func}, {arguments})`"
    if dispatch.kind == "pool" and method in ("apply", "apply_async") and packed is not None:
        return f"`{owner}({func}, {packed})`"
    return f"`{owner}(functools.partial({func}, {arguments}), ...)`"


def _argument_text(facts: ModuleFacts, arg: cst.Arg) -> str:
    value = facts.code(arg.value)
    if arg.keyword is not None:
        return f"{arg.keyword.value}={value}"
    return f"{arg.star}{value}"
