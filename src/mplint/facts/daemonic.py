"""Which functions of the module run in a daemonic child process, and how they get there.

A daemonic process may not start children (`AssertionError: daemonic processes are not allowed
to have children`). Code runs in one when it is the worker of a pool whose workers are daemonic
(`apis.Api.daemonic_workers`: multiprocessing's `Pool` and its forks), a pool's initializer, or
the target (or `run`) of a `Process` made with `daemon=True`, and so does every function of the
module it calls. A function that reads a `.daemon` flag (`if not current_process().daemon:`) is
taken to check for it: it and what it calls are left out, as are calls made behind such a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import libcst as cst

from mplint import apis
from mplint.facts.syntax import argument
from mplint.facts.uses import Use

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.callgraph import CallChain
    from mplint.facts.scopes import CallSite, FunctionInfo
    from mplint.facts.workers import Dispatch

DaemonReason = Literal["pool", "daemon"]


@dataclass(frozen=True, eq=False)
class DaemonicRun:
    """How a function comes to run in a daemonic child."""

    #: where the code is handed to the child
    dispatch: Dispatch
    #: "pool": a worker (or initializer) of a pool with daemonic workers; "daemon": a process
    #: made with `daemon=True`
    reason: DaemonReason
    #: the worker that the dispatch runs
    worker: FunctionInfo
    #: the calls from the worker to the function (empty for the worker itself)
    chain: CallChain


class Daemonic:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._checking = {
            scope.function.node
            for _, scope in facts.attribute_loads.get("daemon", ())
            if scope.function is not None
        }
        #: each function that runs in a daemonic child -> the first way found (shortest chain)
        self.functions: dict[cst.FunctionDef, DaemonicRun] = {}
        for dispatch in facts.workers.dispatches:
            reason = self._reason(dispatch)
            worker = dispatch.worker
            if reason is None or worker is None:
                continue
            self._spread(dispatch, reason, worker)

    def run_of(self, function: FunctionInfo) -> DaemonicRun | None:
        return self.functions.get(function.node)

    def checks_daemon(self, site: CallSite) -> bool:
        """The call is behind a test of a `.daemon` flag."""
        return self._facts.conditions.behind_test(site, _reads_daemon)

    def _reason(self, dispatch: Dispatch) -> DaemonReason | None:
        runner = dispatch.runner
        if dispatch.kind in ("pool", "initializer"):
            if runner is not None and runner.api.daemonic_workers and not self._made_not_daemon(runner.creation):
                return "pool"
            return None
        if dispatch.kind == "target" and runner is not None and self._daemon_process(runner.creation):
            return "daemon"
        if dispatch.kind == "run" and dispatch.worker is not None and dispatch.worker.cls is not None:
            made = [
                life for life in self._facts.lifecycles.all if life.instance.cls is dispatch.worker.cls
            ]
            if made and all(self._daemon_process(life.creation) for life in made):
                return "daemon"
        return None

    @staticmethod
    def _made_not_daemon(creation: cst.Call) -> bool:
        """A library pool made with `daemon=False` (mpire): its workers may have children; any
        other value given (a variable) leaves it unknown, so it is silent too."""
        given = argument(creation, None, "daemon")
        return given is not None and not (type(given) is cst.Name and given.value == "True")

    def _daemon_process(self, creation: cst.Call) -> bool:
        """Made with `daemon=True`, by a class that sets it, or given `.daemon = True` later."""
        given = argument(creation, None, "daemon")
        if given is not None:
            return type(given) is cst.Name and given.value == "True"
        life = self._facts.lifecycles.of(creation)
        if life is None or life.kind is not apis.Kind.PROCESS:
            return False
        return life.daemon or any(event.use is Use.DAEMON for event in life.events())

    def _spread(self, dispatch: Dispatch, reason: DaemonReason, worker: FunctionInfo) -> None:
        callgraph = self._facts.callgraph
        frontier: list[tuple[FunctionInfo, CallChain]] = [(worker, ())]
        seen = {worker.node}
        while frontier:
            following: list[tuple[FunctionInfo, CallChain]] = []
            for function, chain in frontier:
                if function.node in self._checking:
                    continue
                self.functions.setdefault(function.node, DaemonicRun(dispatch, reason, worker, chain))
                for site in function.calls:
                    callee = callgraph.callee(site)
                    if callee is None or callee.node in seen or self.checks_daemon(site):
                        continue
                    seen.add(callee.node)
                    following.append((callee, (*chain, site)))
            frontier = following


def _reads_daemon(part: cst.CSTNode, site: CallSite) -> bool:
    return type(part) is cst.Attribute and part.attr.value == "daemon"
