"""A module's summary read from its facts (`summary.py` holds what it is made of): one reading of
the facts the rules have built or would build, not another walk of the tree."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Collection

import libcst as cst

from mplint import apis
from mplint.facts.setters import unforced_setter
from mplint.facts.workload import Workloads
from mplint.closure import closure
from mplint.project.summary import (
    CONFTEST, KNOWN_METHODS, LOCAL, OWN, SELF, Change, Function, Names, Summary, Work, kept_functions,
)

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo


def call_target(facts: ModuleFacts, site: CallSite, keys: dict[FunctionInfo, str]) -> str | None:
    """The summary's name for what a call runs: a function of the module, or a qualified name
    that may be one of the project's."""
    callee = facts.callgraph.callee(site)
    if callee is not None:
        key = keys.get(callee)
        return LOCAL + key if key is not None else None
    if facts.api_of_call(site) is not None:
        return None  # an API of the table: the rules know it better
    return facts.names.qualname(site.node.func, site.scope)


def summarise(facts: ModuleFacts, names: Names | bool = True) -> Summary:
    """The module's summary; with `names` (what the text of the run's other summarised modules
    shares with this one's), only of the functions they may reach (`summary.Names`)."""
    keys = facts.summary_keys
    summary = Summary()
    workloads = Workloads(facts)
    threaded = _may_start_threads(facts)
    child = facts.workers.child_functions
    in_thread = _thread_workers(facts)
    summary.handed = _handed(facts)
    for name, bindings in facts.module_scope.bindings.items():
        imported = {binding.imported for binding in bindings}
        if len(imported) == 1 and None not in imported:
            summary.aliases[name] = imported.pop()  # type: ignore[assignment]
    external = set()
    for site in facts.calls:
        target = call_target(facts, site, keys)
        if target is not None and not target.startswith(LOCAL):
            external.add(target)
    summary.external = sorted(external)
    kept = None
    if isinstance(names, Names):
        summary.words = list(names.words)
        kept = _kept(facts, keys, names, summary, child, in_thread)
    for info, key in keys.items():
        if kept is not None and key not in kept:
            summary.dropped.append(key)
            continue
        shown = info.name if key.startswith("<") else key.removesuffix(".__init__")
        function = Function(f"{shown}()", facts.def_line(info))
        for site in info.calls:
            if function.sets_method is None and unforced_setter(facts, site):
                function.sets_method = (facts.line_of(site.node), facts.code(site.node))
            if function.starts is None and facts.starts_processes(site):
                function.starts = (facts.line_of(site.node), facts.call_text(site.node))
                continue
            target = call_target(facts, site, keys)
            if target is not None and target != LOCAL + key and target not in function.calls:
                function.calls.append(target)
        function.work = _own_work(facts, workloads, info)
        function.changes = _changes(facts, info)
        function.threads = _threads_left_running(facts, info) if info.node in threaded else None
        function.starts_handed = _starts_handed(facts, info)
        function.hands_on = _hands_on(facts, info, keys) if function.starts_handed is None else []
        function.returns_thread = _returns_thread(facts, info) if info.node in threaded else None
        function.child = info.node in child
        function.in_thread = info.node in in_thread
        summary.functions[key] = function
    summary.plain = _plain_values(facts)
    summary.forks = facts.source is None or "fork" in facts.source
    if PurePath(facts.path).name == CONFTEST:
        method = facts.contexts.module_method
        summary.start_method = method if method in KNOWN_METHODS else None
    return summary


def _kept(
    facts: ModuleFacts, keys: dict[FunctionInfo, str], names: Names, summary: Summary,
    child: Collection[cst.FunctionDef], in_thread: Collection[cst.FunctionDef],
) -> set[str]:
    """The functions other modules may reach: named in their text, or by one of this module's
    own qualified names (its re-exports, hand-overs and calls, which may name itself), with the
    functions of the module these call; and those run in a child or a thread."""
    own = [*summary.aliases.values(), *summary.external, *(h[0] for h in summary.handed)]
    calls: dict[str, list[str]] = {}
    for info, key in keys.items():
        local = calls[key] = []
        for site in info.calls:
            target = call_target(facts, site, keys)
            if target is not None and target.startswith(LOCAL):
                local.append(target[len(LOCAL):])
    for site in facts.calls:
        func = site.node.func
        qualname = facts.names.qualname(func, site.scope)
        if qualname is not None:
            own.append(qualname)
        if isinstance(func, cst.Attribute):
            own.append(func.attr.value)  # `job.run()` may name `Job.run` (`facts.project_name`)
    always = [key for info, key in keys.items() if info.node in child or info.node in in_thread]
    stem = PurePath(facts.path).name.removesuffix(".py")
    return kept_functions(keys.values(), names.with_own(own, stem), calls, always)


# --- what other modules ask of a function ----------------------------------------------------------


def _own_work(facts: ModuleFacts, workloads: Workloads, info: FunctionInfo) -> Work:
    own = workloads.own_work(info)
    work = Work(
        [(facts.line_of(b.site.node), facts.call_text(b.site.node), b.waits_for) for b in own.blocking],
        None, own.releases_gil, own.local_io, None, own.process_only,
    )
    if own.compute is not None:
        work.compute = (facts.line_of(own.compute.node), own.compute.what)
    elif _recursive(facts, info):
        work.compute = (facts.def_line(info), f"recursion in `{info.name}`")
    for site in info.calls:
        kind, detail = workloads.call_kind(site)
        if kind != "unknown":
            continue
        named = facts.project_name(site.node.func, site.scope)
        if named is not None:
            if named not in work.named:
                work.named.append(named)
        elif work.unknown is None:
            work.unknown = detail
    return work


def _recursive(facts: ModuleFacts, info: FunctionInfo) -> bool:
    graph = facts.callgraph
    for site in info.calls:
        callee = graph.callee(site)
        if callee is not None and any(f.node is info.node for f in graph.reached_from(callee)):
            return True
    return False


def _changes(facts: ModuleFacts, info: FunctionInfo) -> list[Change]:
    """The module state the function's own body changes: module-level plain values and names of
    its module, attributes of `self` (in a method), attributes of imported modules."""
    changes: list[Change] = []
    mutations = facts.state.mutations(info)
    if not mutations:
        return changes
    visibility = facts.visibility
    params = info.node.params.params
    me = params[0].name.value if info.cls is not None and params else None
    for mutation in mutations:
        line, text = facts.line_of(mutation.node), _shown(facts, mutation.node)
        if mutation.name is not None:
            changes.append(Change(line, text, OWN + mutation.name))
            continue
        found = visibility.module_object(mutation)
        if found is not None:
            changes.append(Change(line, text, OWN + found[0].value))
            continue
        attr = visibility.self_attribute(mutation, me, info) if me is not None else None
        if attr is not None:
            changes.append(Change(line, text, SELF + attr))
            continue
        imported = visibility.imported_target(mutation)
        if imported is not None:
            changes.append(Change(line, text, imported[0], in_place=imported[1]))
    return changes


def _shown(facts: ModuleFacts, node: cst.CSTNode) -> str:
    """A change as a message quotes it: `results.append(...)`, `status[key] = ...`."""
    if isinstance(node, cst.Call):
        return facts.call_text(node)
    if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
        targets = node.targets if isinstance(node, cst.Assign) else [node]
        text = " = ".join(" ".join(facts.code(t.target).split()) for t in targets)
        operator = facts.code(node.operator).strip() if isinstance(node, cst.AugAssign) else "="
        return f"{text} {operator} ..."
    return " ".join(facts.code(node).split())[:40]


_THREAD_KINDS = frozenset(
    {apis.Kind.THREAD, apis.Kind.THREAD_PROCESS, apis.Kind.THREAD_POOL, apis.Kind.THREAD_EXECUTOR}
)


def _uses_threads(facts: ModuleFacts) -> bool:
    """The module makes threads, thread pools or executors (the cheap test before the order)."""
    for site in facts.calls:
        api = facts.api_of_call(site)
        if api is not None and api.kind in _THREAD_KINDS:
            return True
    return any(
        (api := facts.values.class_api(info.node)) is not None and api.kind in _THREAD_KINDS
        for info in facts.classes.values()
    )


_STARTS_WORK = frozenset({"start", "submit", "map"})


def _may_start_threads(facts: ModuleFacts) -> set[cst.FunctionDef]:
    """The functions that may start a thread, directly or through functions of the module: the
    ones worth following in order (a cheap reading: a thread API called, or `.start()`,
    `.submit()`, `.map()` on anything)."""
    if not _uses_threads(facts):
        return set()
    callers: dict[cst.FunctionDef, list[cst.FunctionDef]] = {}
    found: list[cst.FunctionDef] = []
    for info in facts.functions.values():
        for site in info.calls:
            callee = facts.callgraph.callee(site)
            if callee is not None:
                callers.setdefault(callee.node, []).append(info.node)
            func = site.node.func
            if (isinstance(func, cst.Attribute) and func.attr.value in _STARTS_WORK) or (
                (api := facts.api_of_call(site)) is not None and api.kind in _THREAD_KINDS
            ):
                found.append(info.node)
    return closure(found, lambda function: callers.get(function, ()))


def _threads_left_running(facts: ModuleFacts, info: FunctionInfo) -> tuple[int, str] | None:
    """The start of a thread of the program's own that is still running when `info` returns
    (in the order `facts/order.py` gives); None when the function returns a value (the caller
    may stop what it gets)."""
    if any(r.value is not None for r in info.returns) or info.yields:
        return None
    forking = facts.forking
    running: dict[cst.Call, CallSite] = {}
    for step in facts.order.run(info):
        for stopped in forking.threads_stopped(step):
            running.pop(stopped, None)
        if step.site is not None:
            started = forking.thread_started(step.site)
            if started is not None:
                running.setdefault(started, step.site)
    if not running:
        return None
    site = next(iter(running.values()))
    return facts.line_of(site.node), facts.call_text(site.node)


_THREAD_OBJECTS = frozenset({apis.Kind.THREAD, apis.Kind.THREAD_PROCESS})


def _starts_handed(facts: ModuleFacts, info: FunctionInfo) -> tuple[int, str, int, str] | None:
    """A thread the function is handed (a parameter of a plain function) and starts in its own
    body, joining it nowhere there, and returning nothing (the caller could stop what it got)."""
    if info.cls is not None or info.yields or any(r.value is not None for r in info.returns):
        return None
    position = {p.name.value: index for index, p in enumerate(info.node.params.params)}
    found = None
    for site in info.calls:
        func = site.node.func
        if site.scope is not info.scope or not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
            continue
        name = func.value.value
        bound = facts.names.lookup(name, site.scope) if name in position else None
        if bound is None or bound[0] is not info.scope or not all(isinstance(b.node, cst.Param) for b in bound[1]):
            continue
        if func.attr.value != "start":
            return None  # joined, or handed on: what becomes of it is not known here
        if found is None:
            found = (position[name], name, facts.line_of(site.node), facts.call_text(site.node))
    return found


def _hands_on(
    facts: ModuleFacts, info: FunctionInfo, keys: dict[FunctionInfo, str]
) -> list[tuple[int, str, str, int | None, str | None, int]]:
    """The parameters of a plain function that returns nothing, each handed on as it is to one
    call by name (`start.go(thread)`) and used nowhere else in the function: the link follows
    the call (the thread runs on when this returns if the callee starts it and returns with it
    running). For each: (position of the parameter, its name, the call's target, the argument's
    position or keyword there, the call's line)."""
    if info.cls is not None or info.yields or any(r.value is not None for r in info.returns):
        return []
    position = {p.name.value: index for index, p in enumerate(info.node.params.params)}
    found: dict[str, tuple[int, str, str, int | None, str | None, int] | None] = {}
    keyword_names: set[cst.Name] = set()
    for site in info.calls:
        if site.scope is not info.scope:
            continue
        positional, hidden = 0, False
        for arg in site.node.args:
            value = arg.value
            if isinstance(value, cst.Name) and value.value in position:
                name = value.value
                bound = facts.names.lookup(name, site.scope)
                keyword = arg.keyword.value if arg.keyword is not None else None
                target = call_target(facts, site, keys)
                known = (
                    bound is not None and bound[0] is info.scope and all(isinstance(b.node, cst.Param) for b in bound[1])
                    and target is not None and not arg.star and not (keyword is None and hidden)
                )
                # handed to two calls, to one not known by name, or behind `*args`: not known
                found[name] = None if name in found or not known else (
                    position[name], name, target, positional if keyword is None else None,  # type: ignore[arg-type]
                    keyword, facts.line_of(site.node),
                )
                keyword_names.update(a.keyword for a in site.node.args if a.keyword is not None)
            if arg.keyword is None:
                positional += 1
                hidden = hidden or bool(arg.star)
    if not any(found.values()):
        return []
    reads: dict[str, int] = {}
    for name in facts.names_in_order[info.names_from : info.names_to]:
        if name.value in found and name not in keyword_names:
            reads[name.value] = reads.get(name.value, 0) + 1
    # one read, the call's argument: else it is read again (`thread.join()`, `other = thread`)
    return [entry for name, entry in sorted(found.items()) if entry is not None and reads.get(name) == 1]


def _returns_thread(facts: ModuleFacts, info: FunctionInfo) -> tuple[int, str, bool] | None:
    """The one thread every `return` of the function gives, made in the function: whether it is
    running when the function returns (started, not joined), with the line and text of its start,
    else of its creation."""
    if info.yields or not info.returns or any(r.value is None for r in info.returns):
        return None
    made = set()
    for statement in info.returns:
        instance = facts.values.instance_of(statement.value, info.scope)  # type: ignore[arg-type]
        if instance is None or instance.kind not in _THREAD_OBJECTS or instance.creation is None:
            return None
        made.add(instance.creation)
    if len(made) != 1:
        return None
    creation = made.pop()
    if facts.statements.owner(creation) is not info.node:
        return None  # made elsewhere: a thread of the module's, which its own check follows
    forking = facts.forking
    start = None
    for step in facts.order.run(info):
        if creation in forking.threads_stopped(step):
            return None  # joined before it is returned: it no longer runs, nor can it start
        if step.site is not None and forking.thread_started(step.site) is creation:
            start = start or step.site.node
    shown = start if start is not None else creation
    return facts.line_of(shown), facts.call_text(shown), start is not None


def _thread_workers(facts: ModuleFacts) -> set[cst.FunctionDef]:
    """The functions of the module that its own hand-overs run in threads."""
    found: set[cst.FunctionDef] = set()
    if not _uses_threads(facts):
        return found
    for dispatch in facts.workers.thread_dispatches:
        if dispatch.worker is not None and dispatch.worker.node not in found:
            found.update(f.node for f in facts.callgraph.reached_from(dispatch.worker))
    return found


def _handed(facts: ModuleFacts) -> list[tuple[str, int, str]]:
    """Callables handed to children that are no function of this module, by qualified name."""
    handed = []
    for dispatch in facts.workers.dispatches:
        site, target = dispatch.site, dispatch.target
        if dispatch.worker is not None or site is None or target is None or isinstance(target, cst.Lambda):
            continue
        name = facts.project_name(target, site.scope)
        if name is not None and apis.lookup(name) is None:
            handed.append((name, facts.line_of(site.node), facts.call_text(site.node)))
    return handed


def _plain_values(facts: ModuleFacts) -> dict[str, str]:
    state, module = facts.state, facts.module_scope
    plain: dict[str, str] = {}
    for name, bindings in module.bindings.items():
        if all(b.value is not None and not b.augmented for b in bindings):
            found = [state.plain(b.value, module) for b in bindings]  # type: ignore[arg-type]
            if found and all(f is not None and not f.is_object for f in found):
                plain[name] = found[0].type  # type: ignore[union-attr]
    return plain
