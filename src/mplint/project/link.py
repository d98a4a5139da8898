"""Linking the summaries of a project's modules: which functions start processes, through which
chain of calls, computed over every module to a fixpoint.

A call is followed into another module only when the resolver finds the module in the project and
its summary names the function (directly, as `Cls.method`, a class's `__init__`, or re-exported by
an import in the module, as a package's `__init__.py` does). Anything else is unknown, and an
unknown call starts nothing: precision before recall. Import cycles are harmless: each function is
settled once, in the round that finds its shortest chain.

The same fixpoint gives the other chains a module is told about: which functions leave threads
running, call `set_start_method(...)`, or change module state (their own module's values, or an
imported module's); and, the other way, which functions of a module run in a child because
another module hands them (or a function that calls them) to one. A function's work is linked
over everything it reaches: its blocking calls with the chain to each, and why it may be heavy
or unknown (a call nobody in the project defines stays unknown).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from mplint.project.resolver import ModuleRef, Project
from mplint.project.summary import LOCAL, OWN, SELF, Function, Summary
from mplint.project.told import ELLIPSIS, NO_PROJECT_FACTS, Chain, ProjectFacts, RemoteWork, Step

#: re-exports followed from one module to the next before giving up (`a` re-exports `b`'s ...)
_MAX_HOPS = 16
#: a longer chain is shown by its first and last steps around an ellipsis
_SHOWN_STEPS = 6

Node = tuple[str, str]  # (path, key in that module's summary)


@dataclass
class Module:
    ref: ModuleRef
    project: Project
    summary: Summary | None  # None: it could not be read or parsed (nothing goes through it)


#: what ends a chain: (line, text) of the call or change in the function itself
Seed = tuple[int, str]


class Linked:
    def __init__(self, modules: dict[str, Module]) -> None:
        self._modules = modules
        self._resolved: dict[tuple[str, str], Node | None] = {}
        #: for each chain-ending fact: each function that has it -> the next function of its
        #: chain (None: it has it itself); chains are made whole only when asked, so a long one
        #: costs its length
        self._next: dict[Node, Node | None] = {}
        self._threads: dict[Node, Node | None] = {}
        self._sets: dict[Node, Node | None] = {}
        #: for each module state (its absolute name), the chains to the functions that change it
        self._changes: dict[str, dict[Node, Node | None]] = {}
        #: the module state each function that changes some changes itself: name -> (line, text)
        #: of its first change of that state
        self._changed: dict[Node, dict[str, tuple[int, str]]] = {}
        self._works: dict[Node, RemoteWork] = {}
        self._link()

    def resolve(self, target: str, importer: str, _hops: int = 0) -> Node | None:
        """The function a call target of module `importer` names, if the project has it."""
        key = (target, importer)
        if key not in self._resolved:
            self._resolved[key] = None  # a re-export that loops back resolves to nothing
            self._resolved[key] = self._resolve(target, importer, _hops)
        return self._resolved[key]

    def _resolve(self, target: str, importer: str, hops: int) -> Node | None:
        if target.startswith(LOCAL):
            return importer, target[len(LOCAL):]
        found = self.locate(target, importer, hops)
        if found is None:
            return None
        path, name = found
        functions = self._modules[path].summary.functions  # type: ignore[union-attr]
        if name in functions:
            return path, name
        if f"{name}.__init__" in functions:
            return path, f"{name}.__init__"
        return None

    def locate(self, target: str, importer: str, hops: int = 0) -> tuple[str, str] | None:
        """The summarised module a qualified name of `importer` lives in and the name there,
        through the re-exports of the modules on the way."""
        module = self._modules.get(importer)
        if module is None or hops > _MAX_HOPS:
            return None
        found = module.project.locate(target, module.ref)
        if found is None:
            return None
        path, name = found
        there = self._modules.get(path)
        if there is None or there.summary is None:
            return None
        head, _, tail = name.partition(".")
        alias = there.summary.aliases.get(head)
        if alias is not None and name not in there.summary.functions:
            return self.locate(f"{alias}.{tail}" if tail else alias, path, hops + 1)
        return path, name

    def _edges(self) -> dict[Node, list[Node]]:
        edges: dict[Node, list[Node]] = {}
        for path, module in self._modules.items():
            if module.summary is None:
                continue
            for key, function in module.summary.functions.items():
                callees = []
                for target in (*function.calls, *function.work.named):
                    node = self.resolve(target, path)
                    if node is not None and node in self._functions_index and node not in callees:
                        callees.append(node)
                edges[(path, key)] = callees
        return edges

    def _link(self) -> None:
        self._functions_index = {
            (path, key): function
            for path, module in self._modules.items()
            if module.summary is not None
            for key, function in module.summary.functions.items()
        }
        self._callees = self._edges()
        callers: dict[Node, list[Node]] = {}
        for node, callees in self._callees.items():
            for callee in callees:
                callers.setdefault(callee, []).append(node)
        for node, function in self._functions_index.items():
            changed = self._own_changes(node, function)
            if changed:
                self._changed[node] = changed
        _settle(self._next, callers, [n for n, f in self._functions_index.items() if f.starts])
        _settle(self._threads, callers, [n for n, f in self._functions_index.items() if f.threads])
        _settle(self._sets, callers, [n for n, f in self._functions_index.items() if f.sets_method])
        self._handed = self._settle_handed()
        for state in sorted({state for changed in self._changed.values() for state in changed}):
            links = self._changes[state] = {}
            _settle(links, callers, sorted(n for n, changed in self._changed.items() if state in changed))
        self._in_child = self._children()

    def _own_changes(self, node: Node, function: Function) -> dict[str, tuple[int, str]]:
        """The module state the function changes itself: the absolute name of each state it
        changes, with the line and text of its first change of it."""
        found: dict[str, tuple[int, str]] = {}
        for change in function.changes:
            if change.target.startswith(SELF):
                continue
            if change.target.startswith(OWN):
                state: str | None = f"{self._modules[node[0]].ref.name}.{change.target[len(OWN):]}"
            else:
                state = self.module_state(change.target, node[0], change.in_place)
            if state is not None and state not in found:
                found[state] = (change.line, change.text)
        return found

    def module_state(self, target: str, importer: str, in_place: bool) -> str | None:
        """The absolute name of another project module's state that `importer` changes through
        `target`: a plain value changed in place, or a module-level name rebound."""
        found = self.locate(target, importer)
        if found is None or "." in found[1] or found[0] == importer:
            return None
        path, name = found
        summary = self._modules[path].summary
        if summary is None or name in summary.functions or name in summary.aliases:
            return None
        if in_place and name not in summary.plain:
            return None
        return f"{self._modules[path].ref.name}.{name}"

    def _children(self) -> dict[Node, Chain]:
        """Each function that runs in a child through another module's hand-over, with the
        chain from it: the hand-over first, the function last."""
        found: dict[Node, Chain] = {}
        #: (function, the steps from the hand-over or from the module's own worker, crossed
        #: into another module on the way)
        frontier: list[tuple[Node, tuple[Step, ...], bool]] = []
        for path, module in self._modules.items():
            if module.summary is None:
                continue
            for target, line, text in module.summary.handed:
                node = self.resolve(target, path)
                if node is not None and node[0] != path and node in self._functions_index:
                    frontier.append((node, ((text, self._shown(path), line), self._step(node)), True))
            for key, function in module.summary.functions.items():
                if function.child:
                    frontier.append(((path, key), (self._step((path, key)),), False))
        seen = {node for node, _, _ in frontier}
        while frontier:
            following: list[tuple[Node, tuple[Step, ...], bool]] = []
            for node, steps, crossed in frontier:
                if crossed and not self._functions_index[node].child:
                    found.setdefault(node, _short(list(steps)))
                for callee in self._callees.get(node, ()):
                    if callee not in seen:
                        seen.add(callee)
                        following.append((callee, (*steps, self._step(callee)), crossed or callee[0] != node[0]))
            frontier = following
        return found

    def chain(self, node: Node, links: dict[Node, Node | None] | None = None, state: str = "") -> Chain:
        """The calls from `node` to the one that starts processes (or to the end of another
        fact's chain: `links`; for a change of module state, of `state`), that last."""
        links = self._next if links is None else links
        steps: list[Step] = []
        current: Node | None = node
        while current is not None:
            steps.append(self._step(current))
            last = current
            current = links[current]
        function = self._functions_index[last]
        if links is self._next:
            line, text = function.starts  # type: ignore[misc]
        elif links is self._threads:
            line, text = function.threads  # type: ignore[misc]
        elif links is self._sets:
            line, text = function.sets_method  # type: ignore[misc]
        elif links is self._handed:
            _, _, line, text = function.starts_handed  # type: ignore[misc]
        else:
            line, text = self._changed[last][state]
        steps.append((text, self._shown(last[0]), line))
        return _short(steps)

    def _step(self, node: Node) -> Step:
        function = self._functions_index[node]
        return function.shown, self._shown(node[0]), function.line

    def _shown(self, path: str) -> str:
        module = self._modules[path]
        return os.path.relpath(path, module.project.root).replace(os.sep, "/")

    # --- work ------------------------------------------------------------------------------------

    def work(self, node: Node) -> RemoteWork:
        """The work of a function with all it reaches in the project."""
        if node not in self._works:
            self._works[node] = self._work(node)
        return self._works[node]

    def _work(self, node: Node) -> RemoteWork:
        parent: dict[Node, Node | None] = {node: None}
        order = [node]
        unknown = None
        for current in order:
            function = self._functions_index[current]
            for named in function.work.named:
                callee = self.resolve(named, current[0])
                if (callee is None or callee not in self._functions_index) and unknown is None:
                    unknown = named
            for callee in self._callees.get(current, ()):
                if callee not in parent:
                    parent[callee] = current
                    order.append(callee)
        blocking: list[tuple[str, str, Chain]] = []
        found: dict[str, str | None] = {"compute": None, "releases_gil": None, "local_io": None,
                                        "unknown": unknown, "process_only": None}
        for current in order:
            work = self._functions_index[current].work
            path: list[Step] = []
            step: Node | None = current
            while step is not None:
                path.append(self._step(step))
                step = parent[step]
            path.reverse()
            where = self._shown(current[0])
            for line, text, waits in work.blocking:
                blocking.append((text, waits, _short([*path, (text, where, line)])))
            inside = f"in `{path[-1][0]}` ({where})"
            if work.compute is not None and found["compute"] is None:
                found["compute"] = f"{work.compute[1]} {inside}"
            for name in ("releases_gil", "local_io", "unknown", "process_only"):
                value = getattr(work, name)
                if value is not None and found[name] is None:
                    found[name] = value
        return RemoteWork(tuple(blocking), **found)

    # --- what a module is told -------------------------------------------------------------------

    def facts_for(self, path: str, conftests: list[str] = ()) -> ProjectFacts:  # type: ignore[assignment]
        """What the check of module `path` needs to know of the other modules; `conftests` are
        the `conftest.py` files pytest loads for it, outermost first."""
        pinned = None
        for conftest in conftests:
            there = self._modules.get(conftest)
            if there is not None and there.summary is not None and there.summary.start_method:
                pinned = there.summary.start_method  # the innermost one runs last
        module = self._modules.get(path)
        if module is None or module.summary is None:
            return ProjectFacts(start_method=pinned) if pinned else NO_PROJECT_FACTS
        summary = module.summary
        told: dict[str, Any] = {
            "starts": {}, "threads": {}, "sets_method": {}, "work": {}, "changes": {},
            "self_changes": {}, "imported_state": {}, "in_child": {}, "thread_args": {}, "thread_makers": {},
        }
        handed = {h[0] for h in summary.handed}
        # what workers call, and what is handed over: only there are work and changes asked
        asked = set(handed)
        for function in summary.functions.values():
            if function.child or function.in_thread:
                asked.update(t for t in function.calls if not t.startswith(LOCAL))
                asked.update(function.work.named)
        for target in sorted({*summary.external, *asked}):
            node = self.resolve(target, path)
            if node is None or node[0] == path or node not in self._functions_index:
                continue
            for field_, links in (("starts", self._next), ("threads", self._threads), ("sets_method", self._sets)):
                if field_ == "threads" and not (summary.forks or pinned == "fork"):
                    continue  # threads matter only to a fork by choice
                if node in links:
                    told[field_][target] = self.chain(node, links)
            if summary.forks or pinned == "fork":
                self._thread_objects(node, target, told)
            if target not in asked:
                continue
            changes = tuple(sorted(
                ((self.chain(node, links, state), state) for state, links in self._changes.items() if node in links),
                key=lambda found: (len(found[0]), found[1]),  # the nearest change first
            ))
            if changes:
                told["changes"][target] = changes
            work = self.work(node)
            if work != RemoteWork():
                told["work"][target] = work
            changed = self._self_changes(node) if target in handed else ()
            if changed:
                told["self_changes"][target] = changed
        for function in summary.functions.values():
            for change in function.changes if function.child else ():
                if change.target.startswith((OWN, SELF)):
                    continue
                state = self.module_state(change.target, path, change.in_place)
                if state is not None:
                    told["imported_state"][change.target] = state
        # a read in code run in a child is not the parent's: asked only where the module hands
        # code to children itself (MPL003's reads)
        if summary.handed or any(f.child for f in summary.functions.values()):
            for (there, key), chain in self._in_child.items():
                if there == path:
                    told["in_child"][key] = chain
        if not pinned and not any(told.values()):
            return NO_PROJECT_FACTS
        return ProjectFacts(start_method=pinned, package=module.ref.package_name, **told)

    def _thread_objects(self, node: Node, target: str, told: dict[str, Any]) -> None:
        """What a function does with a thread object: starts the one it is handed, makes the
        one it returns (threads matter only to a fork by choice)."""
        function = self._functions_index[node]
        where = self._shown(node[0])
        if node in self._handed:
            position, parameter = self._handed_by[node]
            told["thread_args"][target] = (position, parameter, self.chain(node, self._handed))
        if function.returns_thread is not None:
            line, text, started = function.returns_thread
            told["thread_makers"][target] = (started, (self._step(node), (text, where, line)))

    def _settle_handed(self) -> dict[Node, Node | None]:
        """Each function that starts the thread it is handed and returns with it running: itself
        (None), or through the function it hands the thread on to (`hand(thread)` calls
        `start.go(thread)`), to a fixpoint, shortest chains first; hand-overs that go round in a
        cycle and reach no start settle nothing. `_handed_by` keeps the parameter of each."""
        links: dict[Node, Node | None] = {}
        self._handed_by: dict[Node, tuple[int, str]] = {}
        forwarded: dict[Node, list[tuple[Node, tuple[int, str, str, int | None, str | None, int]]]] = {}
        for node, function in self._functions_index.items():
            for entry in function.hands_on:
                callee = self.resolve(entry[2], node[0])
                if callee is not None and callee != node and callee in self._functions_index:
                    forwarded.setdefault(callee, []).append((node, entry))
        frontier = sorted(n for n, f in self._functions_index.items() if f.starts_handed is not None)
        for node in frontier:
            links[node] = None
            self._handed_by[node] = self._functions_index[node].starts_handed[:2]  # type: ignore[index]
        while frontier:
            settled: list[Node] = []
            for callee in frontier:
                position, parameter = self._handed_by[callee]
                for caller, (own, name, _, index, keyword, _) in forwarded.get(callee, ()):
                    if caller not in links and (index == position if keyword is None else keyword == parameter):
                        links[caller] = callee
                        self._handed_by[caller] = (own, name)
                        settled.append(caller)
            frontier = sorted(settled)
        return links

    def _self_changes(self, node: Node) -> tuple[tuple[str, Chain], ...]:
        """The attributes of `self` that a method (with the methods of its class it calls) sets."""
        path, key = node
        cls, dot, _name = key.rpartition(".")
        if not dot or key.startswith("<"):
            return ()
        found: dict[str, Chain] = {}
        frontier: list[tuple[Node, tuple[Step, ...]]] = [(node, (self._step(node),))]
        seen = {node}
        while frontier:
            current, steps = frontier.pop(0)
            for change in self._functions_index[current].changes:
                if change.target.startswith(SELF):
                    found.setdefault(change.target[len(SELF):], _short([*steps, (change.text, self._shown(path), change.line)]))
            for callee in self._callees.get(current, ()):
                if callee[0] == path and callee[1].startswith(cls + ".") and callee not in seen:
                    seen.add(callee)
                    frontier.append((callee, (*steps, self._step(callee))))
        return tuple(sorted(found.items()))


def _settle(links: dict[Node, Node | None], callers: dict[Node, list[Node]], seeds: list[Node]) -> None:
    """Each round settles the functions one call further from a seed: shortest chains first."""
    for node in seeds:
        links[node] = None
    frontier = sorted(seeds)
    while frontier:
        settled: list[Node] = []
        for callee in frontier:
            for caller in callers.get(callee, ()):
                if caller not in links:
                    links[caller] = callee
                    settled.append(caller)
        frontier = settled


def _short(steps: list[Step]) -> Chain:
    if len(steps) > _SHOWN_STEPS:
        steps = [*steps[: _SHOWN_STEPS - 2], ELLIPSIS, *steps[-2:]]
    return tuple(steps)
