"""What the project tells the check of one module (`ProjectFacts`): the chains by which the
functions of other modules it calls start processes, leave threads running, set the start method
or change module state, and their work. `link.py` computes them over the summaries; the facts
ask them (`facts.project_start(site)`, ...).

A module of its own, apart from the link: a run whose files need no project (nothing to parse,
or nothing the project can tell) imports neither the link nor the summaries nor the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Collection

#: one step of a chain: what a message shows (`run_all()`), the file relative to the project
#: root, and the line (of the function's `def`, or of the call that starts processes, last)
Step = tuple[str, str, int]
Chain = tuple[Step, ...]


@dataclass(frozen=True)
class RemoteWork:
    """The work of a function of another module, with all it reaches in the project."""

    #: (call as shown, what it waits for, the chain from the function to the call)
    blocking: tuple[tuple[str, str, Chain], ...] = ()
    compute: str | None = None
    releases_gil: str | None = None
    local_io: str | None = None
    unknown: str | None = None
    process_only: str | None = None


@dataclass(frozen=True)
class ProjectFacts:
    """What the project tells the check of one module: for each qualified name it calls (or
    hands to a child) that is a function of another project module, the chains by which it
    starts processes, leaves threads running, sets the start method or changes module state,
    and its work; which of the module's own functions run in a child through another module."""

    starts: dict[str, Chain] = field(default_factory=dict)
    #: the start method a `conftest.py` above the module pins for the tests below it
    start_method: str | None = None
    threads: dict[str, Chain] = field(default_factory=dict)
    sets_method: dict[str, Chain] = field(default_factory=dict)
    work: dict[str, RemoteWork] = field(default_factory=dict)
    #: name -> (the chain to the change, the absolute name of the module state changed)
    changes: dict[str, tuple[tuple[Chain, str], ...]] = field(default_factory=dict)
    #: a method handed to a child -> (attribute of `self`, the chain to where it is set), ...
    self_changes: dict[str, tuple[tuple[str, Chain], ...]] = field(default_factory=dict)
    #: what the module itself changes in another module (`shared.status`): -> absolute name
    imported_state: dict[str, str] = field(default_factory=dict)
    #: the module's own functions (by summary key) that run in a child through another module:
    #: the chain from the hand-over
    in_child: dict[str, Chain] = field(default_factory=dict)
    #: the module's package, to read its relative names (`.shared.status`) as absolute ones
    package: str = ""
    #: a function that starts the thread it is handed and returns with it running:
    #: name -> (position of the parameter, its name, the chain to the start)
    thread_args: dict[str, tuple[int, str, Chain]] = field(default_factory=dict)
    #: a function that makes the thread it returns: name -> (it is running already, the chain
    #: to its start, else to its creation)
    thread_makers: dict[str, tuple[bool, Chain]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Whether it tells anything: the package alone (how to read the module's own names)
        tells nothing. (Asked of every file of a run: the empty facts answer at once.)"""
        return self is not NO_PROJECT_FACTS and any(getattr(self, name) for name in _TOLD)

    def digest(self) -> str:
        """Every field's value, tables in the order of their names: equal facts, equal digests."""
        return repr(tuple(
            sorted(value.items(), key=lambda item: item[0]) if isinstance(value, dict) else value
            for value in (getattr(self, name) for name in _FIELDS)
        ))

    def only_for(self, codes: Collection[str]) -> ProjectFacts:
        """What the rules of `codes` ask of it: a file whose enabled rules ask nothing it holds is
        told nothing, and keeps its first check."""
        if not self:
            return self
        dropped = {name: {} for name, asking in ASKED_BY.items() if not asking & set(codes)}
        if not dropped:
            return self
        pruned = replace(self, **dropped)  # type: ignore[arg-type]
        return pruned if pruned else NO_PROJECT_FACTS

    def absolute(self, qualname: str) -> str | None:
        """A name as the module writes it (`.shared.status`), made absolute."""
        from mplint.project.resolver import ModuleRef  # asked while a module is checked

        return ModuleRef("", self.package, True, ()).absolute(qualname)


#: the fields of `ProjectFacts`, in their order
_FIELDS = tuple(item.name for item in fields(ProjectFacts))
#: those that tell something (the package alone does not)
_TOLD = tuple(name for name in _FIELDS if name != "package")
NO_PROJECT_FACTS = ProjectFacts()

#: which rules ask each of the cross-module facts (the others are asked by all: the conftest's
#: start method through the start method of every process, the functions run in a child
#: through every fact that asks where code runs)
ASKED_BY: dict[str, frozenset[str]] = {
    "starts": frozenset({"MPL001", "MPL015"}),
    "threads": frozenset({"MPL016"}),
    "thread_args": frozenset({"MPL016"}),
    "thread_makers": frozenset({"MPL016"}),
    "sets_method": frozenset({"MPL009"}),
    "work": frozenset({"MPL004", "MPL024"}),
    "changes": frozenset({"MPL003"}),
    "self_changes": frozenset({"MPL003"}),
    "imported_state": frozenset({"MPL003"}),
}
#: the step that stands for the middle of a long chain
ELLIPSIS: Step = ("...", "", 0)


def shown(chain: Chain) -> str:
    """A chain as messages show it: `main()` (app/cli.py:12) -> `run_all()` (app/jobs.py:40) -> `Pool()` (app/jobs.py:41)."""
    return " -> ".join("..." if step == ELLIPSIS else f"`{step[0]}` ({step[1]}:{step[2]})" for step in chain)
