"""Where the rules that judge a worker's work (MPL004 `io-bound-process`, MPL024
`cpu-bound-threads`) report: the same reading of dispatches for processes and for threads.

A pool or executor is reported at its creation when every task it runs is judged the same way
(and it is created in the function that hands the tasks over), else at each hand-over; a single
process or thread at its creation; a subclass at its base class, where the fix goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

import libcst as cst

from mplint.apis import Kind

if TYPE_CHECKING:
    from mplint.facts import Dispatch, FunctionInfo, ModuleFacts
    from mplint.facts.workload import Work, Workloads


def work_of(facts: ModuleFacts, workloads: Workloads, dispatch: Dispatch) -> Work | None:
    """The work a dispatch hands over: a function of the module with all it calls, the calls a
    lambda makes, or a function of another module of the project with all it reaches there;
    None for any other callable (its work is unknown)."""
    if dispatch.worker is not None:
        return workloads.work_of([dispatch.worker])
    if type(dispatch.target) is cst.Lambda:
        scope = facts.scopes.get(dispatch.target)
        entries = [
            callee
            for site in facts.calls
            if site.scope is scope and (callee := facts.callgraph.callee(site)) is not None
        ]
        return workloads.work_of(entries, scope)
    if dispatch.site is not None and dispatch.target is not None:
        return workloads.handed_work(dispatch.site, dispatch.target)  # another module's function
    return None


def judged_sites(
    facts: ModuleFacts,
    judged: list[tuple[Dispatch, Work | None]],
    wanted: Callable[[Work | None], bool],
    single: Kind,
) -> Iterator[tuple[Dispatch, Work, cst.CSTNode, Kind]]:
    """For each dispatch whose work is `wanted`, once per place: the dispatch, its work, where to
    report and the kind of runner replaced there. `single` is the kind of one process or thread
    (`Kind.PROCESS`, `Kind.THREAD`)."""
    runner_all: dict[cst.Call, bool] = {}
    for dispatch, work in judged:
        if dispatch.runner is not None and dispatch.kind in ("pool", "executor"):
            creation = dispatch.runner.creation
            runner_all[creation] = runner_all.get(creation, True) and wanted(work)
    sites = facts.site_of
    seen: set[cst.CSTNode] = set()
    for dispatch, work in judged:
        if work is None or not wanted(work):
            continue
        node, kind = _where(facts, dispatch, sites, runner_all, single)
        if node is None or kind is None or node in seen:
            continue
        seen.add(node)
        yield dispatch, work, node, kind


def _where(
    facts: ModuleFacts,
    dispatch: Dispatch,
    sites: dict,  # type: ignore[type-arg]
    runner_all: dict[cst.Call, bool],
    single: Kind,
) -> tuple[cst.CSTNode | None, Kind | None]:
    if dispatch.kind == "run":
        cls = dispatch.worker.cls if dispatch.worker is not None else None
        if cls is None:
            return None, None
        info = facts.classes[cls]
        for base in cls.bases:
            api = facts.names.api(base.value, info.outer)
            local = facts.names.definition(base.value, info.outer)
            if (api is not None and _same(api.kind, single)) or (
                type(local) is cst.ClassDef and facts.values.class_api(local) is not None
            ):
                return base.value, single
        return None, None
    site = dispatch.site
    runner = dispatch.runner
    if site is None:
        return None, None
    if dispatch.kind == "spawn":
        return site.node, Kind.SPAWN
    if runner is None:
        return None, None
    if dispatch.kind == "target":
        return site.node, runner.kind if _same(runner.kind, single) else single
    creation_site = sites.get(runner.creation)
    if (
        creation_site is not None
        and creation_site.scope.function is site.scope.function
        and runner_all.get(runner.creation)
        and runner.cls is None
    ):
        return runner.creation, runner.kind
    return site.node, runner.kind


def _same(kind: Kind, single: Kind) -> bool:
    """One process, or one thread (`threading.Thread` or `multiprocessing.dummy.Process`)."""
    threads = (Kind.THREAD, Kind.THREAD_PROCESS)
    return kind is single or (kind in threads and single in threads)


def worker_name(facts: ModuleFacts, dispatch: Dispatch) -> str:
    worker: FunctionInfo | None = dispatch.worker
    if worker is None:
        target = dispatch.target
        return facts.code(target) if target is not None and type(target) is not cst.Lambda else "a lambda"
    if worker.cls is not None:
        return f"{facts.classes[worker.cls].name}.{worker.name}"
    return worker.name
