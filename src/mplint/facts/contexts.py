"""Under which start method a process, pool or executor runs, and how it pickles what it sends.

Whether a callable handed to a child is pickled depends on both: a pool pickles every task it sends
under any start method, while a process target (or a pool initializer) is pickled only when the
child is not forked. The start method comes from the context the object was made from
(`mp.get_context("spawn").Process`, `ProcessPoolExecutor(mp_context=...)`, `Pool(context=...)`),
else from the `set_start_method(...)` calls of this module, else from the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from mplint import apis
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH, agreeing
from mplint.facts.syntax import argument, positions_hidden

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, Scope
    from mplint.facts.values import Instance
    from mplint.facts.workers import Dispatch

_METHODS = frozenset({"fork", "spawn", "forkserver"})
#: process classes bound to one start method whatever the context
_FIXED_PROCESS_CLASSES = {
    "context.SpawnProcess": "spawn",
    "context.ForkProcess": "fork",
    "context.ForkServerProcess": "forkserver",
}


#: a start method chosen at run time (`get_context(args.method)`), or chosen differently in places
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Context:
    #: "fork", "spawn" or "forkserver"; None when nothing in this module chooses one, so the
    #: platform's default applies (spawn on Windows and macOS, forkserver on Linux from 3.14);
    #: UNKNOWN when the module chooses one that cannot be told
    method: str | None
    #: "pickle", or "dill"/"cloudpickle" for the families that pickle lambdas and local functions
    pickler: str


class _Unknown(Exception):
    """The context cannot be told (an object from elsewhere, bindings that disagree)."""


class Contexts:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._default = self._module_default()

    def of(self, instance: Instance) -> Context | None:
        """The context a process, pool or executor was made in (None: cannot tell which)."""
        try:
            return self._resolved(self._of_instance(instance))
        except _Unknown:
            return None

    def of_dispatch(self, dispatch: Dispatch) -> Context | None:
        """The context in which the callable of a dispatch reaches the child (None: cannot tell)."""
        if dispatch.kind == "spawn" and dispatch.site is not None:
            # torch.multiprocessing.spawn always spawns; start_processes takes start_method=
            try:
                method = _argument(dispatch.site.node, None, "start_method")
            except _Unknown:
                return None
            return Context(_method_literal(method) if method is not None else "spawn", "pickle")
        if dispatch.runner is None:
            return None
        return self.of(dispatch.runner)

    @property
    def module_method(self) -> str | None:
        """The start method this module sets with `set_start_method(...)`: None if it sets none,
        UNKNOWN if it cannot be told."""
        return self._default

    # --- resolution ---------------------------------------------------------------------------

    def _resolved(self, context: Context) -> Context:
        if context.method is not None:
            return context
        return Context(self._default, context.pickler)

    def _module_default(self) -> str | None:
        chosen: set[str | None] = set()
        for site in self._facts.calls:
            api = self._facts.api_of_call(site)
            if api is None or api.kind is not apis.Kind.SET_START_METHOD:
                continue
            try:
                method = _argument(site.node, 0, "method")
            except _Unknown:
                return UNKNOWN
            # `set_start_method(None, force=True)` goes back to the default: as good as unknown
            chosen.add(_method_literal(method) if method is not None else UNKNOWN)
        if not chosen:
            # a `conftest.py` above a test module may pin the method for every test below it
            return self._facts.project.start_method
        if len(chosen) == 1:
            return chosen.pop() or UNKNOWN
        return UNKNOWN

    def _of_instance(self, instance: Instance) -> Context:
        call = instance.creation
        scope = self._scope_of(call)
        if instance.cls is not None:
            return self._of_class(instance.cls, 0)
        if apis.is_library(instance.api):
            return self._of_library(instance.api, call, scope)
        if instance.kind is apis.Kind.PROCESS_EXECUTOR:
            given = _argument(call, 1, "mp_context")
            if given is None:
                return Context(None, instance.api.pickler)
            return self._of_context_expr(given, scope, 0)
        if instance.kind is apis.Kind.POOL:
            given = _argument(call, 4, "context")
            if given is not None:
                return self._of_context_expr(given, scope, 0)
        return self._of_callee(call.func, scope, 0)

    def _of_library(self, api: apis.Api, call: cst.Call, scope: Scope) -> Context:
        """A library's pool or executor, read by keyword only (their positions differ):
        `start_method=` and `use_dill=` (mpire), `context=`/`mp_context=` (pebble, loky)."""
        pickler = api.pickler
        dill = _argument(call, None, "use_dill")
        if dill is not None:
            if type(dill) is not cst.Name or dill.value not in ("True", "False"):
                raise _Unknown
            pickler = "dill" if dill.value == "True" else pickler
        method = _argument(call, None, "start_method")
        if method is not None:
            return Context(_method_literal(method), pickler)
        for keyword in ("context", "mp_context"):
            given = _argument(call, None, keyword)
            if given is not None:
                return Context(self._of_context_expr(given, scope, 0).method, pickler)
        return Context(api.start_method, pickler)

    def _scope_of(self, call: cst.Call) -> Scope:
        site = self._facts.site_of.get(call)
        if site is None:
            raise _Unknown
        return site.scope

    def _of_class(self, cls: cst.ClassDef, depth: int) -> Context:
        """A subclass of Process: the context of the base it derives from."""
        if depth > _MAX_DEPTH:
            raise _Unknown
        info = self._facts.classes[cls]
        for base in cls.bases:
            api = self._facts.names.api(base.value, info.outer)
            if api is not None and api.kind is apis.Kind.PROCESS:
                return self._of_callee(base.value, info.outer, depth + 1)
            local = self._facts.names.definition(base.value, info.outer)
            if type(local) is cst.ClassDef and self._facts.values.class_api(local) is not None:
                return self._of_class(local, depth + 1)
        raise _Unknown

    def _of_callee(self, func: cst.BaseExpression, scope: Scope, depth: int) -> Context:
        """The context of the API a creation calls: `ctx.Process`, `mp.Pool`, `SpawnProcess`."""
        if depth > _MAX_DEPTH:
            raise _Unknown
        names = self._facts.names
        api = names.api(func, scope)
        if api is None:
            raise _Unknown
        for suffix, method in _FIXED_PROCESS_CLASSES.items():
            if api.qualname.endswith("." + suffix):
                return Context(method, api.pickler)
        if type(func) is cst.Attribute:
            try:
                return self._of_context_expr(func.value, scope, depth + 1)
            except _Unknown:
                base = names.qualname(func.value, scope)
                if base is not None and base not in apis.FAMILY_ROOTS:
                    # a submodule reached by its dotted name (`multiprocessing.pool.Pool`)
                    return Context(None, api.pickler)
                raise
        if type(func) is cst.Name:
            found = names.lookup(func.value, scope)
            if found is None:
                raise _Unknown
            where, bindings = found
            return _agreed(
                Context(None, api.pickler) if binding.imported is not None
                else self._of_callee(binding.value, where, depth + 1) if binding.value is not None
                else None
                for binding in bindings
            )
        raise _Unknown

    def _of_context_expr(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> Context:
        """What start method a module or context expression stands for: `mp`, `ctx`, `get_context(m)`."""
        if depth > _MAX_DEPTH:
            raise _Unknown
        names = self._facts.names
        if type(expr) is cst.Call:
            api = names.api(expr.func, scope)
            if api is None or api.kind is not apis.Kind.CONTEXT:
                raise _Unknown
            method = _argument(expr, 0, "method")
            return Context(_method_literal(method) if method is not None else None, api.pickler)
        if type(expr) is cst.Name:
            found = names.lookup(expr.value, scope)
            if found is None:
                raise _Unknown
            where, bindings = found
            return _agreed(
                self._of_context_expr(binding.value, where, depth + 1) if binding.value is not None
                else self._of_module(binding.imported) if binding.imported is not None
                else None
                for binding in bindings
            )
        if type(expr) is cst.Attribute:
            qualname = names.qualname(expr, scope)
            if qualname is not None:
                return self._of_module(qualname)
        raise _Unknown

    @staticmethod
    def _of_module(qualname: str) -> Context:
        for family in apis.FAMILIES:
            if family.root == qualname:
                return Context(None, family.pickler)
        raise _Unknown


def _agreed(contexts: Iterable[Context | None]) -> Context:
    """The context every binding of a name gives (unknown when one is unknown or two differ)."""
    found = agreeing(contexts)
    if found is None:
        raise _Unknown
    return found


def _method_literal(expr: cst.BaseExpression) -> str | None:
    """The start method a `get_context`/`set_start_method` argument names (None: the default)."""
    if type(expr) is cst.Name and expr.value == "None":
        return None
    if type(expr) is cst.SimpleString:
        value = expr.evaluated_value
        if isinstance(value, str) and value in _METHODS:
            return value
    return UNKNOWN


def _argument(call: cst.Call, index: int | None, keyword: str) -> cst.BaseExpression | None:
    if index is not None and argument(call, None, keyword) is None and positions_hidden(call, index):
        raise _Unknown
    return argument(call, index, keyword)
