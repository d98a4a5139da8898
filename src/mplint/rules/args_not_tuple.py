"""MPL011: a single value where a tuple of arguments belongs (`args=("alice")`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from mplint.apis import Kind, methods
from mplint.facts import Dispatch, ModuleFacts
from mplint.fixes import Rewrite
from mplint.fixes.arguments import make_tuple
from mplint.rules.base import Report, Rule

_STARMAP = methods(Kind.POOL).starmaps


@dataclass(frozen=True)
class _NotATuple:
    #: what the value is: "the string 'alice'", "the number 42"
    what: str
    #: "text", "bytes", "number" (and None/True/False), or "dict"
    family: str


class ArgsNotTuple(Rule):
    """Finds a single value given where multiprocessing expects a tuple of arguments: `args=` of a
    `Process`, the arguments of `pool.apply()`/`apply_async()`, `initargs=` of a pool or a
    `ProcessPoolExecutor`, `args=` of `torch.multiprocessing.spawn`, and the argument tuples of
    `pool.starmap()`. Most often a one-element tuple that lost its comma: `args=("alice")` is the
    string `"alice"`. Reported when the value is a string, a number, `None`, a boolean or a dict,
    written there or held by a name whose every binding is one (`path = "/data"` ... `args=(path)`
    or `args=path`). A name bound to a tuple or a list, or to anything else (a parameter, a loop
    variable, a call's result), and a call may hold a tuple and are not reported; the elements of
    a `starmap` iterable are judged only when written there."""

    code = "MPL011"
    name = "args-not-tuple"
    summary = "A single value where a tuple of arguments is expected (`args=(x)` without a comma)"
    why = (
        "Parentheses alone do not make a tuple: the comma does. `args=(\"alice\")` is the string "
        '`"alice"`, and the child unpacks it like any sequence, so the worker is called with five '
        "one-character arguments and fails with `TypeError: ... takes 1 positional argument but "
        "5 were given` (or, worse, runs with the wrong values when it takes `*args`). A number or "
        "`None` cannot be unpacked at all: `Process` raises `TypeError: 'int' object is not "
        "iterable` when it is created, a pool's task or initializer fails in the worker process. "
        "A dict is unpacked into its keys. A one-character string happens to work, which is why "
        "the mistake survives until the first real input."
    )
    fix = (
        'Write a one-element tuple with a trailing comma: `args=("alice",)`, `initargs=(42,)`, '
        '`pool.apply_async(work, ("alice",))`. Keyword arguments go in `kwargs=` (`kwds=` for a '
        "pool's `apply`)."
    )
    autofix = (
        "Adds the missing comma: `args=(\"alice\")` becomes `args=(\"alice\",)`, `initargs=42` "
        "becomes `initargs=(42,)`, `args=path` becomes `args=(path,)`, each element of a `starmap` "
        "iterable likewise. Safe: the value is a literal, or a name every binding of which is "
        "one, so it is known not to be a tuple already, and the worker gets the one argument the "
        "code meant. For a dict the fix is unsafe: it passes the dict as one argument, "
        "where the code may have meant keyword arguments (`kwargs=`)."
    )
    bad_example = '''\
from multiprocessing import Process


def greet(name):
    print("hello", name)


if __name__ == "__main__":
    worker = Process(target=greet, args=("alice"))
    worker.start()
    worker.join()
'''
    good_example = '''\
from multiprocessing import Process


def greet(name):
    print("hello", name)


if __name__ == "__main__":
    worker = Process(target=greet, args=("alice",))
    worker.start()
    worker.join()
'''
    references = (
        (
            "Tuples and sequences (a one-element tuple needs a trailing comma)",
            "https://docs.python.org/3/tutorial/datastructures.html#tuples-and-sequences",
        ),
        (
            "multiprocessing.Process",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process",
        ),
        (
            "multiprocessing.pool.Pool.apply_async",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool.apply_async",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for dispatch in facts.workers.dispatches:
            if dispatch.site is None:
                continue
            packed = dispatch.packed_args
            if packed is not None and _takes_args_tuple(facts, dispatch):
                found = _not_a_tuple(packed, strict=False) or _held_not_a_tuple(facts, packed, dispatch)
                if found is not None:
                    yield Report(packed, _message(facts, dispatch, packed, found), _fix(facts, packed, found))
            yield from _starmap_elements(facts, dispatch)


def _takes_args_tuple(facts: ModuleFacts, dispatch: Dispatch) -> bool:
    """A subclass of Process with its own `__init__` may give `args=` another meaning."""
    runner = dispatch.runner
    if dispatch.kind != "target" or runner is None or runner.cls is None:
        return True
    cls: cst.ClassDef | None = runner.cls
    seen = set()
    while cls is not None and cls not in seen:
        seen.add(cls)
        info = facts.classes[cls]
        if "__init__" in info.methods:
            return False
        bases = [facts.names.definition(b.value, info.outer) for b in cls.bases]
        cls = next((b for b in bases if type(b) is cst.ClassDef), None)
    return True


def _not_a_tuple(expr: cst.BaseExpression, strict: bool) -> _NotATuple | None:
    """What a value that is provably not a tuple of arguments is. With `strict`, only values
    that fail outright or that are parenthesised (a tuple that lost its comma) count."""
    parenthesised = bool(getattr(expr, "lpar", ()))
    if type(expr) is cst.SimpleString:
        value = expr.evaluated_value
        if len(value) == 1 or (strict and not parenthesised):
            return None  # one character unpacks to itself: it works
        if isinstance(value, bytes):
            return _NotATuple(f"the bytes {expr.value}", "bytes")
        return _NotATuple(f"the string {expr.value}", "text")
    if type(expr) in (cst.ConcatenatedString, cst.FormattedString):
        if strict and not parenthesised:
            return None
        return _NotATuple("a string", "text")
    if type(expr) in (cst.Integer, cst.Float, cst.Imaginary):
        return _NotATuple(f"the number {expr.value}", "number")
    if type(expr) is cst.Name and expr.value in ("None", "True", "False"):
        return _NotATuple(f"`{expr.value}`", "number")
    if type(expr) is cst.Dict and (parenthesised or not strict):
        return _NotATuple("a dict", "dict")
    return None


def _held_not_a_tuple(facts: ModuleFacts, expr: cst.BaseExpression, dispatch: Dispatch) -> _NotATuple | None:
    """What a name given as the arguments holds, when every binding of it is one value that is
    no tuple, all of one family: `path = "/data"` ... `args=(path)` or `args=path`."""
    if type(expr) is not cst.Name or dispatch.scope is None:
        return None
    bound = facts.values.bound_values(expr, dispatch.scope)
    if not bound:
        return None
    found = [_not_a_tuple(value, strict=False) for value, _ in bound]
    first = found[0]
    if first is None or any(f is None or f.family != first.family for f in found):
        return None
    lines = " and ".join(str(facts.line_of(value)) for value, _ in bound)
    whats = list(dict.fromkeys(f.what for f in found if f is not None))
    if len(bound) == 1:
        return _NotATuple(f"{first.what} (the value of `{expr.value}`, line {lines})", first.family)
    shown = " or ".join(whats) if len(whats) <= 3 else f"one of {len(whats)} such values"
    return _NotATuple(f"{shown} (the values of `{expr.value}`, lines {lines})", first.family)


def _starmap_elements(facts: ModuleFacts, dispatch: Dispatch) -> Iterator[Report]:
    """`pool.starmap(work, [("alice"), ("bob")])`: each element is a tuple of arguments."""
    site = dispatch.site
    if dispatch.kind != "pool" or site is None or dispatch.method not in _STARMAP:
        return
    positional = [a for a in site.node.args if a.keyword is None]
    iterable = next((a.value for a in site.node.args if a.keyword and a.keyword.value == "iterable"), None)
    if iterable is None and len(positional) > 1 and not any(a.star for a in positional[:2]):
        iterable = positional[1].value
    if type(iterable) not in (cst.List, cst.Tuple, cst.Set):
        return
    for element in iterable.elements:
        if type(element) is cst.StarredElement:
            continue
        found = _not_a_tuple(element.value, strict=True)
        if found is not None:
            yield Report(
                element.value,
                f"`{facts.code(element.value)}` is {found.what}, not a tuple: each element of "
                f"`{facts.call_text(site.node)}`'s iterable is the arguments of one call, and "
                f"{_consequence(dispatch, found, 'each call')}; write `{_as_tuple(facts, element.value)}`",
                _fix(facts, element.value, found),
            )


def _fix(facts: ModuleFacts, value: cst.BaseExpression, found: _NotATuple) -> Rewrite:
    """A dict may have been meant as keyword arguments: making it one argument is a guess."""
    fix = make_tuple(value, _as_tuple(facts, value))
    return fix if found.family != "dict" else dataclasses.replace(fix, safe=False)


def _message(facts: ModuleFacts, dispatch: Dispatch, packed: cst.BaseExpression, found: _NotATuple) -> str:
    keyword = _keyword_of(dispatch, packed)
    written = f"`{keyword}={facts.code(packed)}`" if keyword else f"`{facts.code(packed)}`"
    if not keyword and dispatch.site is not None:
        written += f", the arguments of `{facts.call_text(dispatch.site.node)}`,"
    parens = " (parentheses without a comma make no tuple)" if getattr(packed, "lpar", ()) else ""
    owner = "the worker" if dispatch.kind != "initializer" else "the initializer"
    fixed = f"{keyword}={_as_tuple(facts, packed)}" if keyword else _as_tuple(facts, packed)
    if found.family == "dict":
        keywords = {"target": "kwargs=", "pool": "kwds="}.get(dispatch.kind)
        also = f" (keyword arguments go in `{keywords}`)" if keywords else ""
        return (
            f"{written} is a dict, not a tuple of arguments: {owner} is called with its keys; "
            f"write `{fixed}` to pass it as one argument{also}"
        )
    return (
        f"{written} is {found.what}, not a tuple of arguments{parens}: "
        f"{_consequence(dispatch, found, owner)}; write `{fixed}`"
    )


def _consequence(dispatch: Dispatch, found: _NotATuple, callee: str) -> str:
    if found.family == "text":
        return f"{callee} gets one argument per character"
    if found.family == "bytes":
        return f"{callee} gets one int argument per byte"
    if found.family == "dict":
        return f"{callee} gets the dict's keys as its arguments"
    if dispatch.kind == "target":
        return "creating the `Process` raises `TypeError: ... object is not iterable`"
    where = {"initializer": "each worker's initializer", "spawn": "each process"}.get(dispatch.kind, "the task")
    return f"{where} fails in the child with `TypeError: ... argument after * must be an iterable`"


def _keyword_of(dispatch: Dispatch, packed: cst.BaseExpression) -> str | None:
    if dispatch.site is None:
        return None
    for arg in dispatch.site.node.args:
        if arg.value is packed and arg.keyword is not None:
            return arg.keyword.value
    return None


def _as_tuple(facts: ModuleFacts, value: cst.BaseExpression) -> str:
    bare = value.with_changes(lpar=(), rpar=()) if hasattr(value, "lpar") else value
    return f"({facts.code(bare)},)"
