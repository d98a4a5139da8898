"""Where the program forks, where its own threads start and stop, and which forks happen while
one of them runs.

A *fork* is `os.fork()` (or `os.forkpty()`), or a process, pool, executor or manager whose start
method is fork *by choice*: `get_context("fork")`, `set_start_method("fork")`, `ForkProcess`
(the platform's default is no choice: mplint cannot know the platform). A *thread of the
program's own* is a `threading.Thread` (or `Timer`, or a subclass) after `start()`, a
`ThreadPool` (from its creation) or a `ThreadPoolExecutor` (from its first task); it stops at its
`join()`, the pool's `join()`/`terminate()` or the end of its `with` block, the executor's
`shutdown()` (not `wait=False`) or the end of its `with` block. multiprocessing's own helper
threads (a pool's handlers, a queue's feeder) are not the program's and are not counted.
A call of a function of another module of the project that leaves a thread running
(`ProjectFacts.threads`) starts one too, as does one that starts the thread it is handed
(`thread_args`) or makes and returns a thread already started (`thread_makers`); a thread such a
function returns unstarted starts at its `start()`. The order is the one `facts/order.py` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from mplint import apis
from mplint.facts.order import Step
from mplint.facts.syntax import argument

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope
    from mplint.facts.values import Instance
    from mplint.project.told import Chain

Kind = apis.Kind
_THREADS = frozenset({Kind.THREAD, Kind.THREAD_PROCESS})
_FORKED_AT_CREATION = frozenset({Kind.POOL, Kind.PROCESS_EXECUTOR, Kind.MANAGER})


@dataclass(frozen=True, eq=False)
class Fork:
    site: CallSite
    #: FORK for `os.fork()`; else the kind of what is started with fork
    kind: apis.Kind
    #: the process, pool, executor or manager forked (None for `os.fork()`)
    instance: Instance | None = None


@dataclass(frozen=True, eq=False)
class ForkWithThreads:
    fork: Fork
    #: the call that started a thread still running at the fork
    started: CallSite
    #: the run in which it happens: a function of the module, or None for the module's own code
    root: FunctionInfo | None
    #: when `started` calls a function of another module of the project that leaves the thread
    #: running: the chain to the thread's start
    via: Chain | None = None


class Forking:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    @cached_property
    def while_threads_run(self) -> list[ForkWithThreads]:
        """Each fork that happens while a thread of the program's own is running, once, with the
        first such thread's start."""
        facts = self._facts
        if not any(self.fork_at(s) for s in facts.calls) or not any(self.begins(s) for s in facts.calls):
            return []
        found: dict[cst.Call, ForkWithThreads] = {}
        for root, steps in facts.order.roots():
            running: dict[cst.Call, tuple[CallSite, Chain | None]] = {}
            for step in steps:
                for stopped in self.threads_stopped(step):
                    running.pop(stopped, None)
                site = step.site
                if site is None:
                    continue
                begun = self.begins(site)
                if begun is not None:
                    running.setdefault(begun[0], (site, begun[1]))
                fork = self.fork_at(site)
                if fork is not None and running and site.node not in found:
                    first, via = next(iter(running.values()))
                    found[site.node] = ForkWithThreads(fork, first, root, via)
        return list(found.values())

    def begins(self, site: CallSite) -> tuple[cst.Call, Chain | None] | None:
        """The thread a call starts: the creation that stands for it while it runs (the call
        itself for a thread another module leaves running), and the chain when another module of
        the project starts it (`ProjectFacts`: it leaves one running, starts the thread it is
        handed, or makes and returns one already started)."""
        started = self.thread_started(site)
        if started is not None:
            return started, None
        facts = self._facts
        if not facts.project:
            return None
        chain = facts.project_threads(site)
        if chain is not None:
            return site.node, chain
        handed = facts.project_thread_arg(site)
        if handed is not None:
            position, parameter, chain = handed
            given = argument(site.node, position, parameter)
            thread = facts.received.instance_of(given, site.scope) if given is not None else None
            if thread is not None and thread.kind in _THREADS and thread.creation is not None:
                return thread.creation, chain
            made = self.made_elsewhere(given, site.scope) if given is not None else None
            if made is not None:
                return made, chain
        maker = facts.project_thread_maker(site)
        if maker is not None and maker[0]:
            return site.node, maker[1]
        func = site.node.func
        if type(func) is cst.Attribute and func.attr.value == "start":
            made = self.made_elsewhere(func.value, site.scope)
            if made is not None:
                return made, None
        return None

    def made_elsewhere(self, expr: cst.BaseExpression, scope: Scope) -> cst.Call | None:
        """The call of another module's function that made the thread `expr` is (`make()` in
        `make().start()`, or the one value of the name `thread = make()`)."""
        if not self._facts.project:
            return None
        if type(expr) is cst.Name:
            values = self._facts.values.bound_values(expr, scope)
            if values is None or len(values) != 1:
                return None
            expr, scope = values[0]
        site = self._sites.get(expr) if type(expr) is cst.Call else None
        if site is None or self._facts.project_thread_maker(site) is None:
            return None
        return site.node

    # --- what a step does -------------------------------------------------------------------

    def fork_at(self, site: CallSite) -> Fork | None:
        facts = self._facts
        api = facts.api_of_call(site)
        if api is not None and api.kind is Kind.FORK:
            return Fork(site, Kind.FORK)
        func = site.node.func
        if type(func) is cst.Attribute and func.attr.value == "start":
            started = facts.received.instance_of(func.value, site.scope)
            if started is not None and started.kind in (Kind.PROCESS, Kind.MANAGER_CLASS):
                return Fork(site, started.kind, started) if self._forks(started) else None
        made = facts.values.instance_of(site.node, site.scope) if api is not None else None
        if (
            made is not None and made.creation is site.node and made.kind in _FORKED_AT_CREATION
            and made.api.starts_at_creation
        ):
            return Fork(site, made.kind, made) if self._forks(made) else None
        return None

    def _forks(self, instance: Instance) -> bool:
        context = self._facts.contexts.of(instance)
        return context is not None and context.method == "fork"

    def thread_started(self, site: CallSite) -> cst.Call | None:
        """The creation of the thread, thread pool or executor whose threads this call starts."""
        values = self._facts.values
        func = site.node.func
        if type(func) is cst.Attribute:
            owner = self._facts.received.instance_of(func.value, site.scope)
            if owner is not None:
                method = func.attr.value
                if method == "start" and owner.kind in _THREADS:
                    return owner.creation
                if method in ("submit", "map") and owner.kind is Kind.THREAD_EXECUTOR:
                    return owner.creation
        made = values.instance_of(site.node, site.scope)
        if made is not None and made.creation is site.node and made.kind is Kind.THREAD_POOL:
            return site.node
        return None

    def threads_stopped(self, step: Step) -> list[cst.Call]:
        """The creations whose threads have ended once this step is done."""
        values = self._facts.values
        if step.kind == "exit" and step.block is not None and step.scope is not None:
            return [
                made.creation
                for item in step.block.items
                if (made := values.instance_of(item.item, self._scope_of(item.item, step.scope)))
                is not None
                and made.kind in (Kind.THREAD_POOL, Kind.THREAD_EXECUTOR)
            ]
        site = step.site
        if site is None or type(site.node.func) is not cst.Attribute:
            return []
        owner = self._facts.received.instance_of(site.node.func.value, site.scope)
        method = site.node.func.attr.value
        if owner is None:
            made = self.made_elsewhere(site.node.func.value, site.scope) if method == "join" else None
            return [made] if made is not None else []
        if (
            (method == "join" and owner.kind in (*_THREADS, Kind.THREAD_POOL))
            or (method == "terminate" and owner.kind is Kind.THREAD_POOL)
            or (method == "shutdown" and owner.kind is Kind.THREAD_EXECUTOR and not _no_wait(site.node))
        ):
            return [owner.creation]
        return []

    def _scope_of(self, expr: cst.BaseExpression, default: Scope) -> Scope:
        site = self._sites.get(expr) if type(expr) is cst.Call else None
        return site.scope if site is not None else default

    @property
    def _sites(self) -> dict[cst.Call, CallSite]:
        return self._facts.site_of


def _no_wait(call: cst.Call) -> bool:
    wait = argument(call, 0, "wait")
    return type(wait) is cst.Name and wait.value == "False"
