"""Linking the summaries of a project's modules: which functions start processes, through which
chain of calls, computed over every module to a fixpoint.

A call is followed into another module only when the resolver finds the module in the project and
its summary names the function (directly, as `Cls.method`, a class's `__init__`, or re-exported by
an import in the module, as a package's `__init__.py` does). Anything else is unknown, and an
unknown call starts nothing: precision before recall. Import cycles are harmless: each function is
settled once, in the round that finds its shortest chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mplint.project.resolver import ModuleRef, Project
from mplint.project.summary import LOCAL, Summary

#: re-exports followed from one module to the next before giving up (`a` re-exports `b`'s ...)
_MAX_HOPS = 16

#: one step of a chain: what a message shows (`run_all()`), the file relative to the project
#: root, and the line (of the function's `def`, or of the call that starts processes, last)
Step = tuple[str, str, int]
Chain = tuple[Step, ...]
Node = tuple[str, str]  # (path, key in that module's summary)


@dataclass(frozen=True)
class ProjectFacts:
    """What the project tells the check of one module: for each qualified name it calls that is a
    function of another project module, the chain by which it starts processes."""

    starts: dict[str, Chain] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.starts)

    def digest(self) -> str:
        return repr(sorted(self.starts.items()))


NO_PROJECT_FACTS = ProjectFacts()


@dataclass
class Module:
    ref: ModuleRef
    project: Project
    summary: Summary | None  # None: it could not be read or parsed (nothing goes through it)


class Linked:
    def __init__(self, modules: dict[str, Module]) -> None:
        self._modules = modules
        self._resolved: dict[tuple[str, str], Node | None] = {}
        self.starts: dict[Node, Chain] = {}
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
        functions = there.summary.functions
        if name in functions:
            return path, name
        if f"{name}.__init__" in functions:
            return path, f"{name}.__init__"
        head, _, tail = name.partition(".")
        alias = there.summary.aliases.get(head)
        if alias is not None:
            return self.resolve(f"{alias}.{tail}" if tail else alias, path, hops + 1)
        return None

    def _edges(self) -> dict[Node, list[Node]]:
        edges: dict[Node, list[Node]] = {}
        for path, module in self._modules.items():
            if module.summary is None:
                continue
            for key, function in module.summary.functions.items():
                callees = []
                for target, _line in function.calls:
                    node = self.resolve(target, path)
                    if node is not None and node in self._functions_index:
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
        edges = self._edges()
        for node, function in self._functions_index.items():
            if function.starts is not None:
                line, text = function.starts
                self.starts[node] = (self._step(node), (text, self._shown(node[0]), line))
        # each round settles the functions one call further from a start: shortest chains first
        frontier = set(self.starts)
        while frontier:
            settled: dict[Node, Chain] = {}
            for node, callees in edges.items():
                if node in self.starts:
                    continue
                for callee in callees:
                    if callee in frontier:
                        settled[node] = (self._step(node), *self.starts[callee])
                        break
            self.starts.update(settled)
            frontier = set(settled)

    def _step(self, node: Node) -> Step:
        function = self._functions_index[node]
        return function.shown, self._shown(node[0]), function.line

    def _shown(self, path: str) -> str:
        module = self._modules[path]
        return os.path.relpath(path, module.project.root).replace(os.sep, "/")

    def facts_for(self, path: str) -> ProjectFacts:
        """What the check of module `path` needs to know of the other modules."""
        module = self._modules.get(path)
        if module is None or module.summary is None:
            return NO_PROJECT_FACTS
        starts = {}
        for target in module.summary.external:
            node = self.resolve(target, path)
            if node is not None and node[0] != path and node in self.starts:
                starts[target] = self.starts[node]
        return ProjectFacts(starts) if starts else NO_PROJECT_FACTS

    def starting_modules(self) -> set[str]:
        """The files that hold a function that starts processes, directly or through others."""
        return {path for path, _ in self.starts}
