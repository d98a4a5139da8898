"""Shared memory segments the module creates, and whether the code that owns each one unlinks it.

A segment is *created* by `SharedMemory(create=True, ...)` (`create` given as the literal `True`);
`SharedMemory(name)` only attaches to one. Its `unlink()` is *always reached* when a call
`x.unlink()` on it runs in a `finally:` block, in a function registered with `atexit` (or one that
such a function calls), or in a function called from a `finally:` block (helpers, up to three
calls deep); or when the bound method `x.unlink` is handed to a call as a callback
(`atexit.register(shm.unlink)`, `weakref.finalize(obj, shm.unlink)`, `stack.callback(shm.unlink)`).

The owner may hand the segment on instead: it is *handed on* when it is returned or yielded, stored
in an item or on an object other than `self`, or given to a call whose code mplint cannot see;
giving it to a function of the module, to a child process (which attaches, it does not own) or to
a pool task is not handing it on. It is *kept on self* when a method stores it in `self.x`: the
class owns it then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import libcst as cst

from mplint import apis
from mplint.facts.syntax import argument

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, Scope

_MAX_DEPTH = 3
_ATEXIT = frozenset({"atexit.register"})
#: context managers of test frameworks that expect the code inside to raise
_EXPECTING_ERRORS = frozenset({"assertRaises", "assertRaisesRegex", "raises"})
_HARMLESS_BUILTINS = frozenset({"print", "repr", "str", "id", "isinstance", "type", "len", "hash"})

Handover = Literal["returned", "stored", "passed"]


class SharedMemorySegments:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._unlinks: dict[cst.Call, list[CallSite]] | None = None
        self._at_exit: set[cst.FunctionDef] | None = None
        #: the `x.unlink` bound methods handed to a call, with the scope of the call
        self._unlinks_handed: list[tuple[cst.BaseExpression, Scope]] | None = None

    def created(self) -> list[CallSite]:
        """The `SharedMemory(create=True, ...)` calls of the module (but not those a test expects
        to fail: inside `with self.assertRaises(...)` or `with pytest.raises(...)`)."""
        facts = self._facts
        found = []
        for site in facts.calls:
            api = facts.api_of_call(site)
            if api is None or api.kind is not apis.Kind.SHARED_MEMORY or apis.short_name(api) != "SharedMemory":
                continue
            create = argument(site.node, 1, "create")
            if type(create) is cst.Name and create.value == "True" and not self._expected_to_fail(site):
                found.append(site)
        return found

    def _expected_to_fail(self, site: CallSite) -> bool:
        for condition in self._facts.conditions.around(site.node):
            if condition.kind == "with" and type(condition.node) is cst.With:
                for item in condition.node.items:
                    call = item.item
                    if type(call) is cst.Call:
                        func = call.func
                        name = func.attr.value if type(func) is cst.Attribute else getattr(func, "value", None)
                        if name in _EXPECTING_ERRORS:
                            return True
        return False

    def _is(self, expr: cst.BaseExpression, scope: Scope, creation: cst.Call) -> bool:
        if expr is creation:
            return True
        if type(expr) not in (cst.Name, cst.Attribute):
            return False
        instance = self._facts.received.instance_of(expr, scope)
        return instance is not None and instance.creation is creation

    # --- unlink --------------------------------------------------------------------------------

    def unlinks(self, creation: cst.Call) -> list[CallSite]:
        """The `x.unlink()` calls on the segment."""
        if self._unlinks is None:
            self._unlinks = {}
            for site in self._facts.calls:
                func = site.node.func
                if type(func) is cst.Attribute and func.attr.value == "unlink" and not site.node.args:
                    instance = self._facts.received.instance_of(func.value, site.scope)
                    if instance is not None and instance.kind is apis.Kind.SHARED_MEMORY:
                        self._unlinks.setdefault(instance.creation, []).append(site)
        return self._unlinks.get(creation, [])

    def unlink_always_reached(self, creation: cst.Call) -> bool:
        """Some `unlink()` of the segment runs whatever happens (see the module docstring)."""
        if any(self._always_runs(site, 0) for site in self.unlinks(creation)):
            return True
        return self._unlink_registered(creation)

    def _always_runs(self, site: CallSite, depth: int) -> bool:
        facts = self._facts
        if facts.statements.in_finally(site.node):
            return True
        function = site.scope.function
        if function is None or type(function.node) is not cst.FunctionDef or depth >= _MAX_DEPTH:
            return False
        info = facts.functions.get(function.node)
        if info is None:
            return False
        if info.node in self._at_exit_functions():
            return True
        return any(self._always_runs(caller, depth + 1) for caller, _ in facts.arguments.callers(info))

    def _at_exit_functions(self) -> set[cst.FunctionDef]:
        if self._at_exit is None:
            self._at_exit = self._read_at_exit_functions()
        return self._at_exit

    def _read_at_exit_functions(self) -> set[cst.FunctionDef]:
        facts = self._facts
        registered = []
        for site in facts.calls:
            if facts.names.qualname(site.node.func, site.scope) in _ATEXIT and site.node.args:
                target = facts.names.definition(site.node.args[0].value, site.scope)
                if type(target) is cst.FunctionDef:
                    registered.append(target)
        for info in facts.functions.values():
            for decorator in info.node.decorators:
                if facts.names.qualname(decorator.decorator, info.scope.parent or facts.module_scope) in _ATEXIT:
                    registered.append(info.node)
        reached: set[cst.FunctionDef] = set()
        for node in registered:
            reached.update(f.node for f in facts.callgraph.reached_from(facts.functions[node]))
        return reached

    def _unlink_registered(self, creation: cst.Call) -> bool:
        if self._unlinks_handed is None:
            self._unlinks_handed = [
                (arg.value.value, site.scope)
                for site in self._facts.calls
                for arg in site.node.args
                if type(arg.value) is cst.Attribute and arg.value.attr.value == "unlink"
            ]
        return any(self._is(value, scope, creation) for value, scope in self._unlinks_handed)

    # --- ownership -----------------------------------------------------------------------------

    def handed_on(self, creation: cst.Call) -> Handover | None:
        """How the owner hands the segment on, if it does (see the module docstring)."""
        facts = self._facts
        for value, scope in facts.statements.returned:
            if any(self._is(e, scope, creation) for e in _parts(value)):
                return "returned"
        for node, scope in facts.statements.stores:
            value = getattr(node, "value", None)
            if value is None or not any(self._is(e, scope, creation) for e in _parts(value)):
                continue
            targets = [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
            for target in targets:
                if type(target) is cst.Subscript or (
                    type(target) is cst.Attribute and not _on_self(facts, target, scope)
                ):
                    return "stored"
        dispatched = {d.site.node for d in facts.workers.dispatches if d.site is not None}
        for site in facts.calls:
            if site.node is creation or site.node in dispatched or not site.node.args:
                continue
            func = site.node.func
            if type(func) is cst.Name and func.value in _HARMLESS_BUILTINS:
                continue
            if facts.callgraph.callee(site) is not None:
                continue  # a function of the module: its own unlink() calls are followed
            given = [a.value for a in site.node.args]
            if not any(self._is(e, site.scope, creation) for v in given for e in _parts(v)):
                continue
            return "passed"
        return None

    def kept_on_self(self, creation: cst.Call) -> cst.ClassDef | None:
        """The class that keeps the segment in a `self.x` attribute, if one does."""
        facts = self._facts
        for cls, info in facts.classes.items():
            for values in info.attributes.values():
                if any(self._is(value, scope, creation) for value, scope in values):
                    return cls
        return None


def _parts(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if type(expr) in (cst.Tuple, cst.List, cst.Set):
        return [e.value for e in expr.elements]
    if type(expr) is cst.Dict:
        return [e.value for e in expr.elements if type(e) is cst.DictElement]
    return [expr]


def _on_self(facts: ModuleFacts, target: cst.Attribute, scope: Scope) -> bool:
    function = scope.function
    if function is None or type(function.node) is not cst.FunctionDef or type(target.value) is not cst.Name:
        return False
    info = facts.functions.get(function.node)
    params = function.node.params.params
    return info is not None and info.cls is not None and bool(params) and params[0].name.value == target.value.value
