"""What the parent process can see of the state that child code changes.

Reads in parent code (of a name, of an attribute of an object of a class family), the module-level
plain value or `self` attribute that a mutation changes, and when the parent binds a module-level
name: at import time (every spawned child does it too) or only at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import libcst as cst

from mplint import apis
from mplint.apis import Kind
from mplint.closure import closure
from mplint.facts.state import fits

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Binding, FunctionInfo, Scope
    from mplint.facts.state import Mutation, Plain


class Visibility:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.state = facts.state

    # --- what a mutation changes -----------------------------------------------------------------

    def module_object(self, mutation: Mutation) -> tuple[cst.Name, Plain] | None:
        """The module-level name whose plain value the mutation changes, and that value."""
        obj, names, state = mutation.obj, self.facts.names, self.state
        root = obj.value if type(obj) is cst.Attribute else obj
        if type(root) is not cst.Name:
            return None
        found = names.lookup(root.value, mutation.scope)
        if found is None or found[0] is not self.facts.module_scope:
            return None
        if type(obj) is cst.Attribute:
            # `stats.seen.add(x)`: an attribute of a plain module-level object
            owner = state.plain(root, mutation.scope)
            if owner is None or not owner.is_object:
                return None
        plain = state.plain(obj, mutation.scope) if obj is not None else None
        if plain is None or not fits(plain, mutation):
            return None
        return root, plain

    def self_attribute(self, mutation: Mutation, me: str, function: FunctionInfo) -> str | None:
        """The attribute of `self` that a mutation changes (`State.self_attribute` answers)."""
        return self.state.self_attribute(mutation, me, function)

    def imported_target(self, mutation: Mutation) -> tuple[str, bool] | None:
        """What a mutation changes of another module, by qualified name, and whether in place:
        `shared.status[i] = v` changes `app.shared.status` in place, `shared.count = 1` rebinds
        `app.shared.count` (whether that is another project module's is for the project to say)."""
        obj = mutation.obj
        if obj is None or mutation.name is not None:
            return None
        root = obj
        while type(root) in (cst.Attribute, cst.Subscript):
            root = root.value
        if type(root) is not cst.Name:
            return None
        found = self.facts.names.lookup(root.value, mutation.scope)
        if found is None or not any(b.imported is not None for b in found[1]):
            return None
        qualname = self.facts.names.qualname(obj, mutation.scope)
        if qualname is None or apis.lookup(qualname) is not None:
            return None
        if mutation.attr is not None:
            return f"{qualname}.{mutation.attr}", False
        return qualname, True

    def untouched_parameter(self, name: str, scope: Scope, worker: FunctionInfo) -> bool:
        """`name` in `scope` is `worker`'s parameter, never rebound: still the object it was given."""
        found = self.facts.names.lookup(name, scope)
        if found is None or found[0] is not worker.scope:
            return False
        return all(type(b.node) is cst.Param or b.augmented for b in found[1])

    # --- reads in the parent ---------------------------------------------------------------------

    def parent_read(self, name: str, where: Scope, seen_only: bool = False) -> cst.Name | None:
        """A read of `name` (bound in `where`) in code that runs in the parent; with `seen_only`,
        only in module-level code or a function that the parent's own code is seen to run (not
        an accessor that nothing of the module calls)."""
        reached = self.facts.reach.parent_reached if seen_only else None
        for node, scope in self.state.reads(name, where):
            # a callback registered by a decorator may well run in the child that set the name
            if self.state.in_child(scope) or self.state.called_back(scope):
                continue
            if reached is not None:
                owner = scope.function
                if owner is not None and owner.node not in reached:
                    continue
            return node
        return None

    def parent_read_besides(self, argument: cst.Name, scope: Scope, call: cst.Call) -> cst.Name | None:
        """A read of `argument` in parent code other than in `call` (the one handing it over)."""
        found = self.facts.names.lookup(argument.value, scope)
        if found is None:
            return None
        for node, read_scope in self.state.reads(argument.value, found[0]):
            if not self.facts.inside(node, call) and not self.state.in_child(read_scope):
                return node
        return None

    def parent_read_of(self, absolute: str) -> cst.Name | cst.Attribute | None:
        """A read, in parent code, of another module's state by its absolute name
        (`app.shared.status`): `shared.status`, or `status` after `from app.shared import status`."""
        facts = self.facts
        project = facts.project
        last = absolute.rpartition(".")[2]
        reads: list[tuple[cst.Name | cst.Attribute, Scope]] = [
            *facts.attribute_loads.get(last, ()), *facts.loads.get(last, ())
        ]
        for node, scope in reads:
            if self.state.in_child(scope) or self.state.called_back(scope):
                continue
            qualname = facts.names.qualname(node, scope)
            if qualname is not None and project.absolute(qualname) == absolute:
                return node
        return None

    def parent_object_read(self, name: cst.Name, scope: Scope, attr: str) -> cst.Attribute | None:
        """A read of `name.attr` in parent code, `name` bound where it is in `scope` (the object
        handed over as `name.method`)."""
        facts = self.facts
        found = facts.names.lookup(name.value, scope)
        if found is None:
            return None
        for node, read_scope in facts.attribute_loads.get(attr, ()):
            value = node.value
            if type(value) is not cst.Name or value.value != name.value or self.state.in_child(read_scope):
                continue
            there = facts.names.lookup(value.value, read_scope)
            if there is not None and there[0] is found[0]:
                return node
        return None

    def parent_attribute_read(self, attr: str, family: set[cst.ClassDef]) -> cst.Attribute | None:
        """A read of `obj.attr` in parent code, `obj` an instance of the family, outside `__init__`
        (which runs before the worker)."""
        facts = self.facts
        for node, scope in facts.attribute_loads.get(attr, ()):
            if self.state.in_child(scope):
                continue
            function_scope = scope.function
            if function_scope is not None and type(function_scope.node) is cst.FunctionDef:
                info = facts.functions.get(function_scope.node)
                if info is not None and info.cls in family and info.name == "__init__":
                    continue
            owner = facts.names.class_of(node.value, scope)
            if owner is None:
                instance = facts.values.instance_of(node.value, scope)
                owner = instance.cls if instance is not None else None
            if owner in family:
                return node
        return None

    def family(self, cls: cst.ClassDef) -> set[cst.ClassDef]:
        """The class, its bases of this module, and its subclasses of this module."""
        facts = self.facts

        def local_bases(c: cst.ClassDef) -> list[cst.ClassDef]:
            info = facts.classes[c]
            found = [facts.names.definition(b.value, info.outer) for b in c.bases]
            return [b for b in found if type(b) is cst.ClassDef]

        family = {cls}
        pending = [cls]
        while pending:
            for base in local_bases(pending.pop()):
                if base not in family:
                    family.add(base)
                    pending.append(base)
        changed = True
        while changed:
            changed = False
            for other in facts.classes:
                if other not in family and cls in _ancestors(other, local_bases):
                    family.add(other)
                    changed = True
        return family

    # --- when the parent binds a module-level name -----------------------------------------------

    def import_and_run_time(self, bindings: list[Binding]) -> tuple[list[Binding], list[Binding]] | None:
        """(import-time bindings, bindings the parent makes at run time) of a module-level name;
        None when a binding is made in a child (per-worker state) or cannot be placed."""
        state = self.state
        rebindings = state.global_rebindings
        import_time: list[Binding] = []
        run_time: list[Binding] = []
        for binding in bindings:
            guarded = state.module_level_binding(binding.node)
            if guarded is not None:
                (run_time if guarded else import_time).append(binding)
                continue
            function = rebindings.get(binding.node)
            if function is None or state.in_child(function.scope):
                return None
            if function.node in self.facts.reach.handed_over_only:
                return None  # an initializer reached through a name or `**kwargs`, a callback
            if function.node in state.import_time_functions:
                import_time.append(binding)
            else:
                run_time.append(binding)
        return import_time, run_time

    def fork_is_forced(self) -> bool:
        """The module asks for the fork start method: children inherit run-time globals."""
        facts = self.facts
        for site in facts.calls:
            api = facts.api_of_call(site)
            if api is None or api.kind not in (Kind.SET_START_METHOD, Kind.CONTEXT):
                continue
            args = [a.value for a in site.node.args if a.keyword is None or a.keyword.value == "method"]
            if args and type(args[0]) is cst.SimpleString and args[0].evaluated_value == "fork":
                return True
        return False


def _ancestors(
    cls: cst.ClassDef, local_bases: Callable[[cst.ClassDef], list[cst.ClassDef]]
) -> set[cst.ClassDef]:
    return closure(local_bases(cls), local_bases)

