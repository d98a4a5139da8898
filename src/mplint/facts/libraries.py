"""What the third-party pool libraries' own idioms start, read from their calls.

Two idioms start processes without a pool or process object that the rest of the facts follow:
joblib's `Parallel(n_jobs=...)(delayed(f)(x) for x in xs)` (the call of the `Parallel` object
runs the tasks, in worker processes for the process backends) and a function decorated with
pebble's `@concurrent.process` (each call runs the function in a new process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mplint import apis
from mplint.facts.syntax import argument

if TYPE_CHECKING:
    from mplint.facts.names import Names
    from mplint.facts.scopes import FunctionInfo, Scope
    from mplint.facts.values import Values

#: joblib's backends whose workers re-import `__main__` on spawn platforms; the default `loky` and
#: `threading` do not (joblib's docs: the main guard is needed with `backend="multiprocessing"`)
GUARDED_BACKENDS = frozenset({"multiprocessing"})


def parallel_run(call: cst.Call, scope: Scope, values: Values) -> cst.Call | None:
    """The `joblib.Parallel(...)` construction whose object a call runs: `Parallel(...)(tasks)`,
    `parallel(tasks)`."""
    made = values.instance_of(call.func, scope)
    if made is None or made.kind is not apis.Kind.PARALLEL:
        return None
    return made.creation


def backend_needs_guard(parallel: cst.Call) -> bool:
    """The `Parallel(...)` construction names a backend that needs the main guard."""
    backend = argument(parallel, 1, "backend")
    if type(backend) is not cst.SimpleString:
        return False  # the default (loky), or chosen at run time: stay silent
    return backend.evaluated_value in GUARDED_BACKENDS


def process_decorated(function: FunctionInfo, outer: Scope, names: Names) -> bool:
    """The function is decorated with `@concurrent.process` (pebble): calling it starts a process."""
    for decorator in function.node.decorators:
        expr = decorator.decorator
        if type(expr) is cst.Call:
            expr = expr.func
        api = names.api(expr, outer)
        if api is not None and api.kind is apis.Kind.PROCESS_DECORATOR:
            return True
    return False
