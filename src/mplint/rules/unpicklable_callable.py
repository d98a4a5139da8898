"""MPL006: a lambda or a local function handed to a child process through pickle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from mplint.facts import Dispatch, ModuleFacts, Scope
from mplint.rules._when_pickled import when_pickled
from mplint.rules.base import Report, Rule

_MAX_PARTIALS = 4
#: decorators that leave a function what it was, as far as pickle is concerned
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})



@dataclass(frozen=True)
class _Unpicklable:
    """A callable that cannot be pickled: what it is, why, and how to make it picklable."""

    subject: str
    reason: str
    fix: str

    def sentence(self, aside: str = "") -> str:
        if self.reason:
            return f"{self.subject}{aside} {self.reason}, so it cannot be pickled"
        return f"{self.subject}{aside} cannot be pickled"


class UnpicklableCallable(Rule):
    """Finds callables that the standard pickle cannot send to a child process, handed to a process
    API: a lambda, a function defined inside another function, or a method of a class defined
    inside a function. They are reported when given to a pool or a `ProcessPoolExecutor` (which
    pickle every task), as a pool's or executor's `initializer=`, as a `Process` target or as an
    argument to the worker (pickled when the child is started with spawn or forkserver), also
    through `functools.partial`, called in place or bound to a name first, passed to a helper
    of the module that starts the process or pool (`launch(report)` for
    `def launch(target): Process(target=target)`; the helper's every call in the module must
    pass the same callable, and the helper must not be handed on or decorated), and through a pool's
    method reached by `getattr` with a literal name (`getattr(pool, "map")(...)`; with a name
    chosen at run time the method, and so what it pickles, is unknown). A test module below a `conftest.py` that pins the start method
    (`set_start_method("fork")`) runs under that method, and a test skipped where fork is missing
    (`@pytest.mark.skipif(sys.platform == "win32", ...)`, `@unittest.skipUnless("fork" in
    multiprocessing.get_all_start_methods(), ...)`, `skipif(not hasattr(os, "fork"))`, a
    `pytestmark`, `pytest.skip(...)` or `self.skipTest(...)` under such a test at the top of the
    test or module, `pytest.importorskip("fcntl")`) is taken as meant for fork, so its process
    targets are not reported (on Linux from Python 3.14 and on macOS such a test still runs under
    forkserver or spawn unless it asks for fork with `get_context("fork")`). Pools that pickle with dill or
    cloudpickle (`multiprocess`, pathos, loky, joblib, mpire with `use_dill=True`) accept such
    callables and are not reported; pebble's pool pickles every task it schedules; mpire's pool
    passes the function to workers it forks (its default where fork exists) without pickling it,
    so it is reported only when the pool's `start_method=` is spawn or forkserver."""

    code = "MPL006"
    name = "unpicklable-callable"
    summary = "A lambda or a function defined inside a function handed to a child process"
    why = (
        "A child process receives its work through pickle, and pickle stores a function by name: "
        "the module and the qualified name under which the child can import it again. A lambda "
        "has no such name (`<lambda>`), and neither has a function or class defined inside "
        "another function (`main.<locals>.work`). A pool or `ProcessPoolExecutor` pickles every "
        "task it sends, under every start method, so `pool.map(lambda x: ..., items)` fails with "
        "`PicklingError` (or `AttributeError: Can't pickle local object`) everywhere. A "
        "`Process` target, a pool initializer and the worker's arguments are pickled when the "
        "child starts under spawn (the default on Windows and macOS) or forkserver (the default on "
        "Linux from Python 3.14): code that works with fork on older Linux fails there."
    )
    fix = (
        "Define the worker as a function at module level and pass it by name. Values that a "
        "lambda or a nested function took from the enclosing function become arguments: pass "
        "them with `args=`, or bind them with `functools.partial(work, value)`, which pickles "
        "as long as its function does. If the code must ship closures, use a pool that pickles "
        "with dill or cloudpickle (the `multiprocess` package, pathos, loky)."
    )
    bad_example = '''\
from multiprocessing import Pool


def main(words):
    with Pool(4) as pool:
        return pool.map(lambda word: word.upper(), words)


if __name__ == "__main__":
    print(main(["spam", "eggs"]))
'''
    good_example = '''\
from multiprocessing import Pool


def shout(word):
    return word.upper()


def main(words):
    with Pool(4) as pool:
        return pool.map(shout, words)


if __name__ == "__main__":
    print(main(["spam", "eggs"]))
'''
    references = (
        (
            "pickle: what can be pickled and unpickled",
            "https://docs.python.org/3/library/pickle.html#what-can-be-pickled-and-unpickled",
        ),
        (
            "multiprocessing programming guidelines: more picklability",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
        (
            "Contexts and start methods",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for dispatch in facts.workers.dispatches:
            scope = dispatch.scope
            if scope is None:
                continue
            context = facts.contexts.of_dispatch(dispatch)
            if context is None or context.pickler != "pickle":
                continue  # cannot tell how it is sent, or sent with dill/cloudpickle
            target_scope = dispatch.target_scope or scope
            parts = [] if dispatch.target is None else [(dispatch.target, target_scope, False)]
            parts.extend((value, scope, True) for value in (*dispatch.args, *dispatch.kwargs.values()))
            for expr, where, argument in parts:
                for node, found, as_argument in _parts(facts, expr, where, argument, 0):
                    when = when_pickled(facts, dispatch, context, as_argument)
                    if when is None:
                        continue
                    aside = ", passed to the worker as an argument," if as_argument else _passed_in(facts, dispatch)
                    yield Report(node, f"{found.sentence(aside)}, and {when}: {found.fix}")


def _passed_in(facts: ModuleFacts, dispatch: Dispatch) -> str:
    """Where a callable passed to a helper of the module is handed over (`launch(report)`)."""
    if dispatch.passed_in is None or dispatch.site is None:
        return ""
    return f" (handed over at `{facts.call_text(dispatch.site.node)}` on line {facts.line_of(dispatch.site.node)})"


def _parts(
    facts: ModuleFacts, expr: cst.BaseExpression, scope: Scope, argument: bool, depth: int
) -> Iterator[tuple[cst.BaseExpression, _Unpicklable, bool]]:
    """What cannot be pickled in a callable or argument, also inside a `functools.partial` bound
    to a name (`by_length = partial(sorted, key=lambda row: len(row))`)."""
    found = _unpicklable(facts, expr, scope)
    if found is not None:
        yield expr, found, argument
        return
    if type(expr) is not cst.Name or depth >= _MAX_PARTIALS:
        return
    named = facts.workers.named_partial(expr, scope)
    if named is None:
        return
    value, where = named
    for index, arg in enumerate(value.args):
        if not arg.star:
            is_func = index == 0 and arg.keyword is None
            yield from _parts(facts, arg.value, where, argument or not is_func, depth + 1)


def _unpicklable(facts: ModuleFacts, expr: cst.BaseExpression, scope: Scope) -> _Unpicklable | None:
    if type(expr) is cst.Lambda:
        return _Unpicklable("a lambda", "", "define a module-level function and pass it by name")
    definition = facts.names.definition(expr, scope)
    if type(definition) is cst.FunctionDef:
        return _local_function(facts, expr, definition)
    if type(expr) is cst.Name and definition is None:
        found = facts.names.lookup(expr.value, scope)
        if found is not None and all(type(b.value) is cst.Lambda for b in found[1]):
            return _Unpicklable(
                f"`{expr.value}`",
                "is a lambda",
                f"write `def {expr.value}(...)` at module level instead of assigning a lambda",
            )
    return None


def _local_function(
    facts: ModuleFacts, expr: cst.BaseExpression, definition: cst.FunctionDef
) -> _Unpicklable | None:
    info = facts.functions.get(definition)
    if info is None or not _plain(definition.decorators):
        return None  # a decorator may return something that pickles
    shown = f"`{facts.code(expr)}`"
    if info.cls is None:
        enclosing = _enclosing_function(info.scope)
        if enclosing is None:
            return None
        return _Unpicklable(
            shown,
            f"is defined inside `{enclosing}()` (the child cannot import "
            f"`{_python_qualname(info.scope, info.name)}`)",
            f"move `{info.name}` to module level and pass what it uses from `{enclosing}()` as "
            "arguments (`functools.partial` can bind them)",
        )
    cls = facts.classes[info.cls]
    enclosing = _enclosing_function(cls.scope)
    if enclosing is None:
        return None
    return _Unpicklable(
        shown,
        f"is a method of `{cls.name}`, a class defined inside `{enclosing}()` that the child "
        "cannot import",
        f"define `{cls.name}` at module level",
    )


def _plain(decorators: tuple[cst.Decorator, ...] | list[cst.Decorator]) -> bool:
    return all(
        type(d.decorator) is cst.Name and d.decorator.value in _PLAIN_DECORATORS for d in decorators
    )


def _python_qualname(scope: Scope, name: str) -> str:
    """The `__qualname__` Python gives the def or class whose own scope is `scope`."""
    parts = [name]
    current = scope.parent
    while current is not None and current.kind != "module":
        if current.kind == "function" and type(current.node) is cst.FunctionDef:
            parts += ["<locals>", current.node.name.value]
        elif current.kind == "lambda":
            parts += ["<locals>", "<lambda>"]
        elif current.kind == "class" and type(current.node) is cst.ClassDef:
            parts.append(current.node.name.value)
        current = current.parent
    return ".".join(reversed(parts))


def _enclosing_function(scope: Scope) -> str | None:
    """The name of the function a def or class statement is inside (through classes), if any."""
    current = scope.parent
    while current is not None:
        if current.kind == "function" and type(current.node) is cst.FunctionDef:
            return current.node.name.value
        if current.kind == "lambda":
            return "<lambda>"
        current = current.parent
    return None
