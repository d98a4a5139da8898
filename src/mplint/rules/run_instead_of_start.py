"""MPL014: `p.run()` runs a process's work in the caller; `p.start()` starts the process."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import ModuleFacts
from mplint.facts.testing import in_test
from mplint.rules.base import Report, Rule


class RunInsteadOfStart(Rule):
    """Finds `p.run()` called on a `Process` or on an instance of a `Process` subclass, from
    outside its class: directly, on the elements of a list of processes, on `self.worker` of
    another object, or on a process a helper receives as its argument. `super().run()` and
    `Base.run(self)` inside a subclass's own `run` are not reported, nor `run()` of objects that
    are not processes (threads, `multiprocessing.dummy.Process`, classes of the module that do not
    derive from `Process`), nor calls in test functions (`test_*` and the methods of
    `unittest.TestCase` subclasses), where running the work in place is how it is tested."""

    code = "MPL014"
    name = "run-instead-of-start"
    summary = "`p.run()` runs the process's work in the caller: nothing is started"
    why = (
        "`run()` is the method a process executes once `start()` has created it: it calls the "
        "target, or a subclass's own code. Called directly, it runs that code here, in the calling "
        "process, to its end. No child process exists, so the work is serial, a crash in it is a "
        "crash of the caller, `join()` then fails with `AssertionError: can only join a started "
        "process`, and `exitcode` stays `None`. It happens on every platform and Python version "
        "and under every start method, and it looks like it works: the output is right, it is "
        "only never parallel."
    )
    fix = (
        "Call `p.start()` to run `run()` in a new process, and `p.join()` where the parent needs "
        "the work done. To run the work in this process on purpose, call the target function "
        "itself rather than the process's `run()`."
    )
    bad_example = '''\
from multiprocessing import Process


def resize(path):
    print("resizing", path)


if __name__ == "__main__":
    workers = [Process(target=resize, args=(path,)) for path in ["a.png", "b.png"]]
    for worker in workers:
        worker.run()
'''
    good_example = '''\
from multiprocessing import Process


def resize(path):
    print("resizing", path)


if __name__ == "__main__":
    workers = [Process(target=resize, args=(path,)) for path in ["a.png", "b.png"]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
'''
    references = (
        (
            "multiprocessing.Process.run and start",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process.run",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site in facts.calls:
            func = site.node.func
            if type(func) is not cst.Attribute or func.attr.value != "run" or site.node.args:
                continue
            process = facts.received.instance_of(func.value, site.scope)
            if process is None or process.kind is not Kind.PROCESS:
                continue
            method_of = facts.names.method_class(site.scope)
            if process.cls is not None and method_of is not None and facts.names.related(method_of, process.cls):
                continue  # `super().run()`, `Base.run(self)` in the process's own class
            if in_test(facts, site.scope):
                continue  # running the work in place is how a test tests it
            what = (
                f"`{process.cls.name.value}.run`" if process.cls is not None else "the process's target"
            )
            if type(func.value) is cst.Call:  # `Process(...).run()`: no name to start and join
                fix = ("keep the process in a name (`p = ...`), then call `p.start()` (and `p.join()` "
                       "where the work must be done)")
            else:
                owner = facts.code(func.value)
                fix = f"call `{owner}.start()` (then `{owner}.join()` where the work must be done)"
            yield Report(
                site.node,
                f"`{facts.call_text(site.node)}` runs {what} here, in the calling process: no "
                f"process is started and the work is serial; {fix}",
            )

