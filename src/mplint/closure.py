"""What a walk along a relation reaches: the modules that import a module, the functions a
function calls, the callers of a function, a class's bases."""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, TypeVar

T = TypeVar("T", bound=Hashable)


def closure(seeds: Iterable[T], following: Callable[[T], Iterable[T]]) -> set[T]:
    """`seeds`, and every item `following` leads to from one reached, each followed once."""
    found = set(seeds)
    todo = list(found)
    while todo:
        for item in following(todo.pop()):
            if item not in found:
                found.add(item)
                todo.append(item)
    return found
