"""MPL022: tasks submitted to a process pool and waited for one at a time, so nothing runs in parallel."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint import apis
from mplint.facts import ModuleFacts
from mplint.facts.syntax import argument
from mplint.facts.testing import in_test
from mplint.facts.values import Instance
from mplint.rules.base import Report, Rule


class SerialPoolCalls(Rule):
    """Finds process pools used one task at a time: `pool.apply(...)` in a loop or a
    comprehension (it waits for the task's result before returning), and
    `pool.apply_async(...).get()` or `executor.submit(...).result()` in one expression inside a
    loop or comprehension (the result is waited for before the next task is submitted). The call
    that waits is reported. A single `apply` outside a loop, results collected first and waited
    for afterwards, and `map`/`imap`/`starmap` are not reported; nor are loops that may stop early
    (a `break` or `return` in their body: a retry, or a search that stops at the first hit),
    pools and executors made with one worker (kept for isolation, not speed), thread pools, and
    test code (a `test_...` function or a `TestCase` method exercising the pool)."""

    code = "MPL022"
    name = "serial-pool-calls"
    summary = "Pool tasks submitted and waited for one at a time in a loop, so nothing runs in parallel"
    why = (
        "`pool.apply(f, args)` sends one task to a worker and blocks until its result is back; "
        "`pool.apply_async(...).get()` and `executor.submit(...).result()` do the same in two "
        "steps. In a loop, the next task is only submitted once the previous one has finished, "
        "so the other workers sit idle: the program pays for starting the worker processes and "
        "for pickling every argument and result, and runs no faster than a plain loop (usually "
        "slower). Nothing fails, which is why it survives review: it just never gets faster "
        "with more cores."
    )
    fix = (
        "Submit every task before waiting for any: `pool.map(f, items)` (or `starmap` for "
        "several arguments, `imap` to consume results as they come); or keep the pending "
        "results in a list, `[pool.apply_async(f, (x,)) for x in items]` / "
        "`[executor.submit(f, x) for x in items]`, and call `.get()` / `.result()` on each "
        "afterwards (`concurrent.futures.as_completed` gives them in the order they finish)."
    )
    bad_example = '''\
from multiprocessing import Pool


def checksum(path):
    with open(path, "rb") as f:
        return sum(f.read()) % 65536


if __name__ == "__main__":
    paths = ["a.bin", "b.bin", "c.bin", "d.bin"]
    with Pool(4) as pool:
        sums = [pool.apply(checksum, (p,)) for p in paths]
    print(sums)
'''
    good_example = '''\
from multiprocessing import Pool


def checksum(path):
    with open(path, "rb") as f:
        return sum(f.read()) % 65536


if __name__ == "__main__":
    paths = ["a.bin", "b.bin", "c.bin", "d.bin"]
    with Pool(4) as pool:
        sums = pool.map(checksum, paths)
    print(sums)
'''
    references = (
        (
            "multiprocessing.pool.Pool.apply (blocks until the result is ready)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool.apply",
        ),
        (
            "concurrent.futures: Executor.submit and as_completed",
            "https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.Executor.submit",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site in facts.calls:
            func = site.node.func
            if type(func) is not cst.Attribute:
                continue
            submit = _submitting_call(facts, site.node, site.scope)
            if submit is None:
                continue
            loop = facts.loops.loop_of(site.node)
            if loop is None or facts.loops.may_stop_early(loop):
                continue
            if in_test(facts, site.scope):
                continue  # a test exercising the pool one task at a time: speed is not the point
            runner = facts.values.instance_of(submit.func.value, site.scope)  # type: ignore[attr-defined]
            if runner is None or runner.kind not in apis.SUBMIT_AND_WAIT or _one_worker(runner):
                continue
            if runner.api.methods is not None:
                continue  # a library's pool: the fix would name methods it may not have
            in_comprehension = type(loop) not in (cst.For, cst.While)
            yield Report(site.node, _message(facts, site.node, submit, runner, in_comprehension))


def _submitting_call(facts: ModuleFacts, call: cst.Call, scope: object) -> cst.Call | None:
    """The call that submits the task `call` waits for: `call` itself for `pool.apply(...)`, the
    inner call for `pool.apply_async(...).get()` / `executor.submit(...).result()`."""
    func = call.func
    assert type(func) is cst.Attribute
    method = func.attr.value
    if method in apis.POOL_BLOCKING_SUBMIT:
        return call
    inner = func.value
    if type(inner) is cst.Call and type(inner.func) is cst.Attribute:
        if (inner.func.attr.value, method) in apis.SUBMIT_AND_WAIT.values():
            return inner
    return None


def _one_worker(runner: Instance) -> bool:
    """A pool or executor made with a single worker: one task at a time is what it is for."""
    keyword = "processes" if runner.kind is apis.Kind.POOL else "max_workers"
    if runner.cls is not None:
        return False  # a subclass's constructor may take other arguments first
    size = argument(runner.creation, 0, keyword)
    return type(size) is cst.Integer and size.value == "1"


def _message(
    facts: ModuleFacts, call: cst.Call, submit: cst.Call, runner: Instance, in_comprehension: bool
) -> str:
    where = "a comprehension" if in_comprehension else "a loop"
    shown = facts.call_text(call) if call is submit else f"{facts.call_text(submit)}.{call.func.attr.value}()"  # type: ignore[attr-defined]
    owner = facts.code(submit.func.value)  # type: ignore[attr-defined]
    task = argument(submit, 0, "fn" if runner.kind is apis.Kind.PROCESS_EXECUTOR else "func")
    task_text = facts.code(task) if task is not None else "f"
    if runner.kind is apis.Kind.POOL:
        fix = (
            f"submit every task before waiting for any: `{owner}.map({task_text}, items)` "
            f"(`starmap` for several arguments), or collect `{owner}.apply_async(...)` results "
            f"in a list and `.get()` each afterwards"
        )
    else:
        fix = (
            f"submit every task before waiting for any: `{owner}.map({task_text}, items)`, or "
            f"collect the `{owner}.submit(...)` futures in a list and `.result()` each "
            f"afterwards (`concurrent.futures.as_completed` gives them as they finish)"
        )
    return (
        f"`{shown}` in {where} waits for each task to finish before the next one is submitted, "
        f"so the workers of `{owner}` run one task at a time and nothing runs in parallel; {fix}"
    )
