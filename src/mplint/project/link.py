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
#: a longer chain is shown by its first and last steps around an ellipsis
_SHOWN_STEPS = 6

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
    #: the start method a `conftest.py` above the module pins for the tests below it
    start_method: str | None = None

    def __bool__(self) -> bool:
        return bool(self.starts) or self.start_method is not None

    def digest(self) -> str:
        return repr((sorted(self.starts.items()), self.start_method))


NO_PROJECT_FACTS = ProjectFacts()
#: the step that stands for the middle of a long chain
ELLIPSIS: Step = ("...", "", 0)


def shown(chain: Chain) -> str:
    """A chain as messages show it: `main()` (app/cli.py:12) -> `run_all()` (app/jobs.py:40) -> `Pool()` (app/jobs.py:41)."""
    return " -> ".join("..." if step == ELLIPSIS else f"`{step[0]}` ({step[1]}:{step[2]})" for step in chain)


@dataclass
class Module:
    ref: ModuleRef
    project: Project
    summary: Summary | None  # None: it could not be read or parsed (nothing goes through it)


class Linked:
    def __init__(self, modules: dict[str, Module]) -> None:
        self._modules = modules
        self._resolved: dict[tuple[str, str], Node | None] = {}
        #: each function that starts processes -> the next function of its chain (None: it
        #: starts them itself); chains are made whole only when asked, so a long one costs its length
        self._next: dict[Node, Node | None] = {}
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
        callers: dict[Node, list[Node]] = {}
        for node, callees in edges.items():
            for callee in callees:
                callers.setdefault(callee, []).append(node)
        for node, function in self._functions_index.items():
            if function.starts is not None:
                self._next[node] = None
        # each round settles the functions one call further from a start: shortest chains first
        frontier = sorted(self._next)
        while frontier:
            settled: list[Node] = []
            for callee in frontier:
                for caller in callers.get(callee, ()):
                    if caller not in self._next:
                        self._next[caller] = callee
                        settled.append(caller)
            frontier = settled

    def chain(self, node: Node) -> Chain:
        """The calls from `node` to the one that starts processes, the start last."""
        steps: list[Step] = []
        current: Node | None = node
        while current is not None:
            steps.append(self._step(current))
            last = current
            current = self._next[current]
        line, text = self._functions_index[last].starts  # type: ignore[misc]
        steps.append((text, self._shown(last[0]), line))
        if len(steps) > _SHOWN_STEPS:
            steps = [*steps[: _SHOWN_STEPS - 2], ELLIPSIS, *steps[-2:]]
        return tuple(steps)

    def _step(self, node: Node) -> Step:
        function = self._functions_index[node]
        return function.shown, self._shown(node[0]), function.line

    def _shown(self, path: str) -> str:
        module = self._modules[path]
        return os.path.relpath(path, module.project.root).replace(os.sep, "/")

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
        starts = {}
        for target in module.summary.external:
            node = self.resolve(target, path)
            if node is not None and node[0] != path and node in self._next:
                starts[target] = self.chain(node)
        return ProjectFacts(starts, pinned) if starts or pinned else NO_PROJECT_FACTS

