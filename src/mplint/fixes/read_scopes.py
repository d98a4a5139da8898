"""The scopes the guard fix's reading of a module (`fixes/reads.py`) records: LibCST's scope
model, rule for rule (what `ScopeProvider` answered): which scope a binding goes to (`global`,
`nonlocal`), which bindings a read from a scope may see (a class body is hidden from the functions
in it), and the qualified names of a dotted name that typing's checks ask."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Iterator


@dataclass(eq=False)
class Binding:
    name: str
    scope: Scope
    index: int
    #: the top-level statement that binds it; None inside a string annotation
    top: int | None
    #: the import statement, for the qualified names a typing check asks
    imported: ast.Import | ast.ImportFrom | None = None


@dataclass(eq=False)
class Scope:
    kind: str  # "builtins", "global", "function", "class", "comprehension", "annotation"
    parent: Scope | None
    name: str | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    overwrites: dict[str, Scope] = field(default_factory=dict)
    count: int = 0
    prefix: str = ""

    def __post_init__(self) -> None:
        parent = self.parent
        if self.kind in ("function", "class", "comprehension"):
            assert parent is not None
            part = {"function": [self.name, "<locals>"], "class": [self.name], "comprehension": ["<comprehension>"]}
            self.prefix = ".".join(p for p in [parent.prefix, *part[self.kind]] if p)
        elif self.kind == "annotation":
            assert parent is not None
            self.prefix = parent.prefix

    @property
    def up(self) -> Scope:
        return self.parent if self.parent is not None else self

    @property
    def module(self) -> Scope:
        scope = self
        while scope.kind != "global":
            scope = scope.up
        return scope

    def visible_to(self, child: Scope) -> bool:
        return self.kind != "class" or (child.parent is self and child.kind == "annotation")

    def next_visible(self, child: Scope, first: Scope | None = None) -> Scope:
        scope = first if first is not None else self.up
        while not scope.visible_to(child):
            scope = scope.up
        return scope

    def target(self, name: str) -> Scope:
        if self.kind == "builtins":
            raise NotImplementedError("no assignment in the builtins")
        if name in self.overwrites:
            return self.next_visible(self, self.overwrites[name]).target(name)
        return self

    def holds(self, name: str) -> bool:
        if self.kind == "builtins":
            return hasattr(builtins, name)
        if name in self.overwrites:
            return self.overwrites[name].holds(name)
        if self.bindings.get(name):
            return True
        return self.next_visible(self).holds(name)

    def resolve(self, name: str, child: Scope) -> list[Binding] | None:
        """The bindings a read of `name` from `child` may see; None for a builtin or nothing."""
        if self.kind == "builtins":
            return None
        if name in self.overwrites:
            return self.next_visible(child, self.overwrites[name]).resolve(name, child)
        if name in self.bindings:
            return self.bindings[name]
        return self.next_visible(child).resolve(name, child)


def runs_at_import(scope: Scope) -> bool:
    while scope.kind in ("class", "comprehension"):
        scope = scope.up
    return scope.kind == "global"


@dataclass(eq=False)
class Read:
    name: str
    scope: Scope
    index: int
    top: int
    attribute: ast.Attribute | None
    in_string: bool


def dotted_names(node: ast.expr) -> Iterator[str]:
    """The names a read at the head of `node` may be of, longest first (`a.b.c`, `a.b`, `a`);
    a call in the chain stands for what it calls."""
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        value = node.value
        if isinstance(value, ast.Call):
            if isinstance(value.func, (ast.Attribute, ast.Name)):
                yield from dotted_names(value.func)
        elif isinstance(value, (ast.Attribute, ast.Name)):
            names = dotted_names(value)
            first = next(names, None)
            if first is not None:
                yield f"{first}.{node.attr}"
                yield first
                yield from names


def full_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{full_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return full_name(node.func)
    if isinstance(node, ast.Subscript):
        return full_name(node.value)
    return None


def import_qualified(binding: Binding, full_name: str) -> Iterator[str]:
    node = binding.imported
    assert node is not None
    module = ""
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
    for alias in node.names:
        if alias.name == "*":
            continue
        parts = alias.name.split(".")
        for real_name in (".".join(parts[:i]) for i in range(len(parts), 0, -1)):
            as_name = real_name
            if module.endswith("."):
                real_name = module + real_name
            elif module:
                real_name = f"{module}.{real_name}"
            if alias.asname:
                as_name = alias.asname
            if full_name.startswith(as_name):
                rest = full_name.split(as_name, 1)[1]
                if rest and not rest.startswith("."):
                    continue
                rest = rest.lstrip(".")
                yield f"{real_name}.{rest}" if rest else real_name
                break
