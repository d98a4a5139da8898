"""MPL026: a thread lock, a thread queue, an open file or a generator sent to a child through pickle."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import Dispatch, ModuleFacts, Sent
from mplint.rules._when_pickled import when_pickled
from mplint.rules.base import Report, Rule


class UnpicklableObject(Rule):
    """Finds objects that pickle cannot send to a child process, in what a process API pickles:
    a `threading` lock, `RLock`, `Condition`, `Event`, `Semaphore`, `Barrier`, `Thread` or
    `local`, a thread queue (`queue.Queue` and its relatives), an open file (`open`, `gzip.open`,
    `tempfile.TemporaryFile`, ...), an sqlite connection, a tqdm progress bar, or a generator (a
    generator expression, a call of a generator function of the module). They are reported as a
    worker's argument (in `args=`, the task's arguments, `functools.partial`, the items that
    `map` spreads over the workers) and in the object of a bound-method callable
    (`Process(target=crawler.run)`, `pool.map(self.fetch, urls)`, `executor.submit(job.run)`)
    whose `__init__` sets such an attribute on `self`. A pool or `ProcessPoolExecutor` pickles
    every task under any start method; a `Process` target, its arguments and a pool's
    `initializer=` are pickled only under spawn and forkserver (a module that uses fork is not
    reported). Not reported: the iterable that `map` reads in the parent (a generator there is
    fine), classes that pickle their own way (`__getstate__`, `__reduce__`) or have a base class
    mplint cannot see, attributes set only in the methods that run in the child, class
    attributes (not pickled with an instance), pools that pickle with dill (which recreates
    locks, thread queues and files in the child) or cloudpickle where it manages, sockets and
    multiprocessing's own objects (multiprocessing pickles those itself; its locks and queues in a
    pool task are MPL017). Not seen: objects of classes of other modules, attributes a
    dataclass declares as fields, and a `Process` subclass's own attributes. This is a rule of
    its own rather than part of MPL006 (`unpicklable-callable`): MPL006 is about where a
    function is defined, this about what an object holds, with another error and another fix,
    and a project can silence one without the other; its name is the error's own words
    (`cannot pickle '...' object`)."""

    code = "MPL026"
    name = "unpicklable-object"
    summary = "A thread lock, thread queue, open file or generator pickled to a child process"
    why = (
        "A child process receives its work through pickle: a pool or `ProcessPoolExecutor` "
        "pickles every task (the function and its arguments) under any start method, and a "
        "`Process` target and its `args=` are pickled when the child starts under spawn (the "
        "default on Windows and macOS) or forkserver (the default on Linux from Python 3.14). A "
        "bound method is pickled with its object, and the object with every attribute it holds. "
        "Some objects belong to one process and cannot be pickled at all: a `threading.Lock` and "
        "everything built on one (`RLock`, `Condition`, `Event`, `queue.Queue`, a `Thread`), an "
        "open file, a generator, a database connection. The call fails with `TypeError: cannot "
        "pickle '_thread.lock' object` (or `'_io.TextIOWrapper'`, `'generator'`): for a pool task "
        "when its result is read, for a `Process` at `start()`, and only on the platforms that "
        "spawn when the code was written on Linux with fork."
    )
    fix = (
        "Send the child what it needs to make the object, not the object: the path of a file, the "
        "values of a generator (`list(...)`), the settings of a connection. Create thread locks "
        "and queues in the child (a pool's `initializer=` can make one per worker), or use the "
        "`multiprocessing` ones handed over with `Process(args=...)` or `initargs=`. For a "
        "bound-method worker, make the worker a module-level function given only the data it "
        "needs, or leave the attribute out of the object's pickled state with `__getstate__` "
        "(and recreate it in `__setstate__`)."
    )
    bad_example = '''\
import threading
from concurrent.futures import ProcessPoolExecutor


class Crawler:
    def __init__(self, urls):
        self.urls = urls
        self.lock = threading.Lock()

    def fetch(self, url):
        return len(url)

    def run(self):
        with ProcessPoolExecutor() as executor:
            return list(executor.map(self.fetch, self.urls))


if __name__ == "__main__":
    print(Crawler(["https://example.org"]).run())
'''
    good_example = '''\
from concurrent.futures import ProcessPoolExecutor


def fetch(url):
    return len(url)


class Crawler:
    def __init__(self, urls):
        self.urls = urls

    def run(self):
        with ProcessPoolExecutor() as executor:
            return list(executor.map(fetch, self.urls))


if __name__ == "__main__":
    print(Crawler(["https://example.org"]).run())
'''
    references = (
        (
            "pickle: what can be pickled and unpickled",
            "https://docs.python.org/3/library/pickle.html#what-can-be-pickled-and-unpickled",
        ),
        (
            "multiprocessing programming guidelines: more picklability",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
        (
            "pickle: handling stateful objects (__getstate__ and __setstate__)",
            "https://docs.python.org/3/library/pickle.html#handling-stateful-objects",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        reported: set[cst.CSTNode] = set()
        for dispatch in facts.workers.dispatches:
            if dispatch.site is None:
                continue
            context = facts.contexts.of_dispatch(dispatch)
            if context is None:
                continue  # cannot tell how the child gets its work
            by_node: dict[cst.CSTNode, list[Sent]] = {}
            where: dict[cst.CSTNode, cst.CSTNode] = {}  # each object once: where it is first seen
            for sent in facts.unpicklables.sent_by(dispatch):
                if sent.node in reported or context.pickler in sent.found.row.pickled_by:
                    continue
                if where.setdefault(sent.found.creation, sent.node) is sent.node:
                    by_node.setdefault(sent.node, []).append(sent)
            for node, sents in by_node.items():
                when = when_pickled(facts, dispatch, context, sents[0].argument)
                if when is not None:
                    reported.add(node)
                    yield Report(node, _message(facts, dispatch, sents, when))


def _message(facts: ModuleFacts, dispatch: Dispatch, sents: list[Sent], when: str) -> str:
    sent = sents[0]
    found = sent.found
    row = found.row
    shown = f"`{facts.code(sent.node)}`"
    made = f"`{_short(facts, found.creation)}` on line {facts.line_of(found.creation)}"
    others = len({id(s.found.creation) for s in sents}) - 1
    if others:
        made += f"; and {others} more that cannot be pickled"
    if sent.attribute is not None:
        cls = facts.classes[sent.cls].name  # type: ignore[index]
        what = (
            f"{shown} is a bound method, so its `{cls}` object is pickled with it, and that object "
            f"holds {row.what} in `self.{sent.attribute}` ({made})"
        )
        fix = (
            f"{row.fix}; or make the worker a module-level function given only the data it needs, "
            f"or leave `self.{sent.attribute}` out of the pickled state with `__getstate__`"
        )
    elif sent.node is dispatch.callable:
        what = f"{shown}, the task's callable, holds {row.what} ({made})"
        fix = row.fix
    elif sent.node is found.creation:
        what = f"{shown} is {row.what}, passed to the worker as an argument"
        fix = row.fix
    else:
        what = f"{shown}, passed to the worker as an argument, holds {row.what} ({made})"
        fix = row.fix
    return f"{what}; {when} with `{found.error}`: {fix}"


def _short(facts: ModuleFacts, node: cst.BaseExpression) -> str:
    if type(node) is cst.Call:
        return facts.call_text(node)
    text = " ".join(facts.code(node).split())
    return text if len(text) <= 40 else text[:37] + "..."
