"""What other modules need to know about a module, read from its facts: a small, serializable
summary, cached by content like findings are.

For each function and method of the module: where it is defined, the call by which it starts
processes itself (if it does), and the functions it calls, each either a function of the module
(`#name`) or a qualified name as the module imports it (`app.jobs.run_all`, `.jobs.run_all`).
Module-level names bound by imports are kept too, so that a package's `__init__.py` that
re-exports `from .cli import main` is seen through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo

CONFTEST = "conftest.py"
KNOWN_METHODS = ("fork", "spawn", "forkserver")
LOCAL = "#"  # a call target that is a function of the same module: `#run_all`, `#Job.run`
FORMAT = 2  # bump when the layout changes


@dataclass
class Function:
    #: what a message shows: `main()`, `Job.run()`
    shown: str
    line: int
    #: the call by which the function starts processes itself: (line, `Pool(...)`)
    starts: tuple[int, str] | None = None
    #: (target, line of the call) for every call whose target is known by name
    calls: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Summary:
    functions: dict[str, Function] = field(default_factory=dict)
    #: module-level names bound by an import: name -> qualified name as imported
    aliases: dict[str, str] = field(default_factory=dict)
    #: every qualified name the module calls that may be another module's function
    external: list[str] = field(default_factory=list)
    #: for a `conftest.py`: the start method it sets for the tests below it
    start_method: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "functions": {
                key: [f.shown, f.line, list(f.starts) if f.starts else None, [list(c) for c in f.calls]]
                for key, f in self.functions.items()
            },
            "aliases": self.aliases,
            "external": self.external,
            "start_method": self.start_method,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        if data.get("format") != FORMAT:
            raise ValueError("another summary format")
        functions = {}
        for key, (shown, line, starts, calls) in data["functions"].items():
            functions[key] = Function(
                shown, line, (starts[0], starts[1]) if starts else None, [(c[0], c[1]) for c in calls]
            )
        return cls(functions, dict(data["aliases"]), list(data["external"]), data["start_method"])


def function_keys(facts: ModuleFacts) -> dict[FunctionInfo, str]:
    """How the module's functions are named in its summary: `run` for a module-level function,
    `Job.run` for a method of a module-level class, `<line>name` keys for nested ones (which other
    modules cannot name, but which calls pass through)."""
    keys: dict[FunctionInfo, str] = {}
    module_scope = facts.module_scope
    for info in facts.functions.values():
        outer = info.scope.parent
        if info.cls is None and outer is module_scope:
            keys[info] = info.name
        elif info.cls is not None:
            cls = facts.classes[info.cls]
            if cls.outer is module_scope and outer is cls.scope:
                keys[info] = f"{cls.name}.{info.name}"
        if info not in keys:
            keys[info] = f"<{facts.line_of(info.node.name)}>{info.name}"
    return keys


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


def summarise(facts: ModuleFacts) -> Summary:
    keys = function_keys(facts)
    summary = Summary()
    for info, key in keys.items():
        shown = info.name if key.startswith("<") else key.removesuffix(".__init__")
        function = Function(f"{shown}()", facts.line_of(info.node.name))
        for site in info.calls:
            if function.starts is None and facts.starts_processes(site):
                function.starts = (facts.line_of(site.node), facts.call_text(site.node))
                continue
            target = call_target(facts, site, keys)
            if target is not None and target != LOCAL + key:
                function.calls.append((target, facts.line_of(site.node)))
        summary.functions[key] = function
    external = set()
    for site in facts.calls:
        target = call_target(facts, site, keys)
        if target is not None and not target.startswith(LOCAL):
            external.add(target)
    summary.external = sorted(external)
    if PurePath(facts.path).name == CONFTEST:
        method = facts.contexts.module_method
        summary.start_method = method if method in KNOWN_METHODS else None
    for name, bindings in facts.module_scope.bindings.items():
        imported = {binding.imported for binding in bindings}
        if len(imported) == 1 and None not in imported:
            summary.aliases[name] = imported.pop()  # type: ignore[assignment]
    return summary
