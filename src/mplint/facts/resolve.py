"""What every fact does the same way when it resolves a name: how deep it follows, when the
bindings of a name give one answer, and which function's code a scope belongs to.

Resolution is flow-insensitive: a name means something only when every binding of it agrees
(`p` is a process only if every assignment to `p` in its scope makes one). A binding that tells
nothing (a `None` placeholder, a value that depends on the name being resolved) is passed over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

if TYPE_CHECKING:
    from mplint.facts.scopes import Scope

T = TypeVar("T")

#: how many names, calls, bases or helpers any resolution follows before it gives up
MAX_DEPTH = 12

#: an answer that tells nothing about the name: `agreeing` passes over it
SKIP: Any = object()


def agreeing(
    answers: Iterable[T | None],
    same: Callable[[T, T], bool] = lambda a, b: a == b,
    *,
    skip: Any = SKIP,
    nothing: Any = None,
) -> T | None:
    """The answer that every one of `answers` gives: None as soon as one is unknown (None) or two
    disagree by `same`; answers that are `skip` are passed over, and `nothing` comes back when no
    other answer is left. Reads `answers` only as far as it must."""
    first: Any = skip
    for answer in answers:
        if answer is skip:
            continue
        if answer is None:
            return None
        if first is skip:
            first = answer
        elif not same(first, answer):
            return None
    return nothing if first is skip else first


def owner_of(scope: Scope) -> Scope | None:
    """The function or module whose code runs `scope` (comprehensions belong to it; None for
    class bodies and lambdas)."""
    current: Scope | None = scope
    while current is not None and current.kind == "comprehension":
        current = current.parent
    if current is not None and current.kind in ("function", "module"):
        return current
    return None
