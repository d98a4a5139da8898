"""MPL004: processes started for work that mostly waits on I/O."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind, methods
from mplint.facts import Dispatch, ModuleFacts
from mplint.facts.testing import in_test
from mplint.facts.workload import TIMER, Blocking, Bound, Work, Workloads
from mplint.project.told import shown as shown_chain
from mplint.rules._judged_work import judged_sites, work_of, worker_name
from mplint.rules.base import Report, Rule

_THREADS = {
    Kind.POOL: "`multiprocessing.pool.ThreadPool` (the same API) or `concurrent.futures.ThreadPoolExecutor`",
    Kind.PROCESS_EXECUTOR: "`concurrent.futures.ThreadPoolExecutor` (the same API)",
    Kind.PROCESS: "`threading.Thread` (the same `target=`/`start()`/`join()` API)",
    Kind.SPAWN: "threads (`concurrent.futures.ThreadPoolExecutor`)",
}


class IoBoundProcess(Rule):
    """Finds processes, pools and executors whose workers spend their time waiting: on the
    network (`requests`, `httpx`, `urllib`, `socket`, `boto3`, database clients, ...) or on
    another program (`subprocess.run`, `check_output`, `os.system`), maybe with `time.sleep`
    between tries, directly or through functions of the module they call, or through the
    functions of other modules of the project (a worker calling `fetch()` of a `net` module
    that does `requests.get`, or `pool.map(net.fetch, urls)`), with no CPU-heavy work of their
    own (a worker handed over through `functools.partial`, also a partial bound to a name
    first, is judged by the function inside it; a worker passed to a helper of the module that
    starts it, `run_all(fetch, urls)`, is judged when every call of the helper passes the same
    worker). The message names the blocking calls it saw, and for those made in another module
    the chain of calls to them with file and line. Calls on a client count as
    the client's library: what `boto3.client(...)`, `session.resource(...)` or
    `requests.Session()` returns, kept in a global or on `self`, or returned by a helper of the
    module (`s3_client().download_file(...)`); so `s3.get(key)` on such a client waits, where
    `settings.get(key)` on a dict does not. Bookkeeping around the waiting (logging, string
    formatting, path joins, counters and totals, dict and list operations, URL parsing, retry
    loops) changes nothing. A worker that only sleeps is left alone: that is pacing, or a
    stand-in for real work in an example.

    The rule reports only work it can judge as I/O-bound, and any doubt keeps it silent: a
    call into a numeric, imaging, compression or hashing library, a loop or comprehension
    doing arithmetic without waiting on I/O, recursion, or a call whose cost cannot be known (a
    function of an installed package or of a module the project does not hold, a parameter, a
    method of an object of unknown type) all make
    the work not I/O-bound. Local file reads and writes and queues count as neither. A worker
    that installs signal handlers, changes directory or user, or is terminated by the parent
    wants a process and is left alone, and so is test code (a `test_...` function or a
    `TestCase` method exercising processes). Thread pools and executors are the fix, so they are
    never reported.

    Off by default: a process doing I/O works, it only costs more than it needs to. List your
    own blocking APIs with `io-bound-calls` in `[tool.mplint]`."""

    code = "MPL004"
    name = "io-bound-process"
    summary = "Processes used for work that waits on I/O, where threads or asyncio fit"
    why = (
        "A process buys parallel CPU at a price: an interpreter to start (and under spawn or "
        "forkserver, the module to import again), arguments and results to pickle, memory for "
        "each worker. Work that waits on the network or on another program gains nothing "
        "from it: Python releases the GIL while a thread waits, so threads overlap that waiting "
        "just as well, and asyncio overlaps thousands of waits in one thread. A pool of 8 "
        "processes also caps you at 8 requests in flight, where 64 threads cost less."
    )
    fix = (
        "Use threads for I/O-bound work: `concurrent.futures.ThreadPoolExecutor` in place of "
        "`ProcessPoolExecutor`, `multiprocessing.pool.ThreadPool` in place of `Pool` (the same "
        "API), `threading.Thread` in place of `Process`, or asyncio with an async client. Keep "
        "processes for the CPU-heavy part, if there is one."
    )
    bad_example = '''\
from concurrent.futures import ProcessPoolExecutor

import requests


def fetch(url):
    return requests.get(url, timeout=10).status_code


if __name__ == "__main__":
    urls = ["https://example.org", "https://python.org"]
    with ProcessPoolExecutor(max_workers=8) as executor:
        print(list(executor.map(fetch, urls)))
'''
    good_example = '''\
from concurrent.futures import ThreadPoolExecutor

import requests


def fetch(url):
    return requests.get(url, timeout=10).status_code


if __name__ == "__main__":
    urls = ["https://example.org", "https://python.org"]
    with ThreadPoolExecutor(max_workers=8) as executor:
        print(list(executor.map(fetch, urls)))
'''
    references = (
        (
            "concurrent.futures: ThreadPoolExecutor",
            "https://docs.python.org/3/library/concurrent.futures.html#threadpoolexecutor",
        ),
        (
            "multiprocessing.pool.ThreadPool",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.ThreadPool",
        ),
        ("asyncio", "https://docs.python.org/3/library/asyncio.html"),
    )
    default_enabled = False  # advice about cost, not a bug: opt-in, like other opinionated checks

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        dispatches = [d for d in facts.workers.dispatches if d.kind != "initializer"]
        if not dispatches:
            return
        workloads = Workloads(facts, self.options.io_bound_calls)
        judged = [(d, self._work(facts, workloads, d)) for d in dispatches]
        for dispatch, work, node, kind in judged_sites(facts, judged, _wants_threads, Kind.PROCESS):
            yield Report(node, self._message(facts, dispatch, work, node, kind))

    def _work(self, facts: ModuleFacts, workloads: Workloads, dispatch: Dispatch) -> Work | None:
        if dispatch.scope is not None and in_test(facts, dispatch.scope):
            return None  # a test exercising processes: speed is not the point
        runner = dispatch.runner
        if dispatch.kind == "target" and runner is not None and self._terminated(facts, runner.creation, None):
            return None  # the parent kills it: isolation a thread cannot give
        if dispatch.kind == "run" and dispatch.worker is not None and dispatch.worker.cls is not None:
            if self._terminated(facts, None, dispatch.worker.cls):
                return None
        return work_of(facts, workloads, dispatch)

    @staticmethod
    def _terminated(facts: ModuleFacts, creation: cst.Call | None, cls: cst.ClassDef | None) -> bool:
        for site in facts.calls:
            func = site.node.func
            if type(func) is cst.Attribute and func.attr.value in methods(Kind.PROCESS).terminate:
                instance = facts.values.instance_of(func.value, site.scope)
                if instance is None:
                    continue
                if (creation is not None and instance.creation is creation) or (
                    cls is not None and instance.cls is cls
                ):
                    return True
        return False

    @staticmethod
    def _message(facts: ModuleFacts, dispatch: Dispatch, work: Work, node: cst.CSTNode, kind: Kind) -> str:
        worker = worker_name(facts, dispatch)
        if dispatch.kind == "run":
            subject = f"this `Process` subclass runs `{worker}`"
            alternative = "subclass `threading.Thread` instead (the same `run()`/`start()`/`join()` API)"
        else:
            where = "a child process" if kind is Kind.PROCESS else "worker processes"
            subject = f"`{facts.call_text(node)}` runs `{worker}` in {where}"  # type: ignore[arg-type]
            alternative = f"use {_THREADS.get(kind, 'threads')}"
        return (
            f"{subject}, which waits on {_waits_seen(facts, work)} and does no CPU-heavy work: "
            f"processes add start-up, pickling and memory costs to waiting that threads do not; "
            f"{alternative}, or asyncio"
        )


#: how many of the blocking calls seen a message names
_NAMED_CALLS = 3


def _waits_seen(facts: ModuleFacts, work: Work) -> str:
    """What the work waits on and the blocking calls seen, the most telling first (the network or
    a program before a timer, using a client before making one): "the network (`s3.get_object(...)`
    in `fetch`, line 7; ...)"."""
    ordered = sorted(work.blocking, key=lambda b: (b.waits_for == TIMER, _constructs(facts, b)))
    named: list[str] = []
    seen: set[str] = set()
    #: calls made in another module, by the chain that reaches them: where they are named
    through: dict[str, int] = {}
    for blocking in ordered:
        call = facts.call_text(blocking.site.node)
        inside = f" in `{blocking.function.name}`" if blocking.function is not None else ""
        text = f"`{call}`{inside}, line {facts.line_of(blocking.site.node)}"
        if blocking.via is not None:  # made in another module: the chain to it
            text = f"{text} -> {shown_chain(blocking.via[:-1])}"
            last = shown_chain(blocking.via[-1:])
            if text in through:
                if last not in named[through[text]]:
                    named[through[text]] += f", {last}"
                continue
            through[text] = len(named)
            named.append(f"{text} -> {last}")
            continue
        if text not in seen:
            seen.add(text)
            named.append(text)
    more = len(named) - _NAMED_CALLS
    shown = "; ".join(named[:_NAMED_CALLS]) + (f"; and {more} more" if more > 0 else "")
    what: list[str] = []
    for blocking in ordered:
        if blocking.waits_for not in what:
            what.append(blocking.waits_for)
    return f"{' and '.join(what)} ({shown})"


def _wants_threads(work: Work | None) -> bool:
    """I/O-bound work with nothing that only a process can do (signal handlers, a working
    directory of its own)."""
    return work is not None and work.bound is Bound.IO and work.process_only is None


def _constructs(facts: ModuleFacts, blocking: Blocking) -> bool:
    """`requests.Session()`, `smtplib.SMTP(...)`: making a client (by convention a class) says
    less about the wait than using it does."""
    if blocking.via is not None:
        name = blocking.via[-1][0].removesuffix("(...)").removesuffix("()").rpartition(".")[2]
        return name[:1].isupper()
    func = blocking.site.node.func
    name = func.attr.value if type(func) is cst.Attribute else facts.code(func)
    return name[:1].isupper()
