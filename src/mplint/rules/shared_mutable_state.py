"""MPL003: state changed in a child process that the parent expects to see."""

from __future__ import annotations

from itertools import chain
from typing import Iterable, Iterator

import libcst as cst

from mplint.apis import Kind
from mplint.facts import Dispatch, FunctionInfo, ModuleFacts, Mutation, Plain
from mplint.facts.scopes import Binding, Scope
from mplint.rules.base import Report, Rule

_COPY = "the child works on a copy under fork, on a fresh import under spawn/forkserver"
_SPAWN = (
    "under spawn or forkserver (the default on Windows and macOS, and on Linux from Python 3.14) "
    "the child imports the module afresh"
)


class SharedMutableState(Rule):
    """Finds state that code running in a child process changes and the parent reads, as if
    processes shared memory: a module-level list, dict, set or object mutated (or a module-level
    name rebound through `global`) by a worker; a plain list/dict/set/object handed to a worker as
    an argument and filled there; an attribute that a bound-method worker or a `Process`
    subclass's `run` sets on `self` and the parent reads; and a module-level name that the parent
    sets only at run time and a worker reads. Objects made for sharing (queues, pipes, `Value`,
    `Array`, Manager proxies, shared memory, locks) are fine and never reported; so are a worker's
    own locals, a per-process cache that the parent never reads, a global set by a pool
    `initializer=`, and anything whose type the analysis cannot tell."""

    code = "MPL003"
    name = "shared-mutable-state"
    summary = "A worker process changes state (globals, arguments, `self`) that the parent never sees"
    why = (
        "A child process does not share the parent's memory. Under fork it starts with a copy of "
        "it; under spawn and forkserver (the default on Windows and macOS, and on Linux from "
        "Python 3.14) it starts a fresh interpreter, imports the module again and receives its "
        "task and arguments pickled. Either way what the child appends to a list, stores in a "
        "dict, assigns to `self.attribute` or to a global stays in the child and is gone when it "
        "exits: the parent's list is still empty and its counter still zero, with no error. The "
        "reverse also bites: a global that the parent sets at run time (in `main()` or under "
        "`if __name__ == \"__main__\":`) is seen by a forked child but not by a spawned one, which "
        "gets the value the module gives it at import."
    )
    fix = (
        "Send results back instead of sharing them: return them from a pool or executor task and "
        "collect what `map`/`submit` give back, or put them on a `multiprocessing.Queue` (or a "
        "`Pipe`) that the parent reads. When the state really must be shared, make it an object "
        "made for sharing: a `Value`/`Array` (with its lock for `+=`), or a `Manager().list()` / "
        "`.dict()`. Give workers the configuration they need as arguments, or set it in each "
        "worker with `Pool(initializer=..., initargs=...)`."
    )
    bad_example = '''\
import multiprocessing

results = []


def work(n):
    results.append(n * n)


if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        pool.map(work, range(10))
    print(results)  # prints []
'''
    good_example = '''\
import multiprocessing


def work(n):
    return n * n


if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        results = pool.map(work, range(10))
    print(results)
'''
    references = (
        (
            "multiprocessing programming guidelines: explicitly pass resources to child processes",
            "https://docs.python.org/3/library/multiprocessing.html#programming-guidelines",
        ),
        (
            "Sharing state between processes",
            "https://docs.python.org/3/library/multiprocessing.html#sharing-state-between-processes",
        ),
        (
            "Exchanging objects between processes",
            "https://docs.python.org/3/library/multiprocessing.html#exchanging-objects-between-processes",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if not facts.workers.dispatches:
            return
        checker = _Checker(facts)
        seen: set[cst.CSTNode] = set()
        for report in chain(
            checker.module_state(),
            checker.arguments(),
            checker.bound_objects(),
            checker.run_time_globals(),
        ):
            if report.node not in seen:
                seen.add(report.node)
                yield report


class _Checker:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.state = facts.state
        self.workers = facts.workers

    # --- module-level values changed in a worker ---------------------------------------------

    def module_state(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        module = facts.module_scope
        for node, dispatches in self.workers.child_functions.items():
            if all(d.kind == "initializer" for d in dispatches):
                continue  # setting up each worker's own state is what an initializer is for
            function = facts.functions[node]
            for mutation in state.mutations(function):
                if mutation.name is not None:
                    name, what = mutation.name, "module-level name"
                    read = self._parent_read(mutation.name, module)
                    if read is None:
                        continue  # a per-process value (a cache) that the parent never looks at
                    yield Report(
                        mutation.node,
                        f"`{_shown(facts, mutation.node)}` in `{function.name}` rebinds the "
                        f"{what} `{name}` in a child process ({self._where(dispatches)}), so the "
                        f"parent's `{name}` (read on line {facts.line_of(read)}) never changes "
                        f"({_COPY}): {self._fix(dispatches, function, None)}",
                    )
                    continue
                found = self._module_object(mutation)
                if found is None:
                    continue
                root, plain = found
                read = self._parent_read(root.value, module)
                if read is None:
                    continue
                yield Report(
                    mutation.node,
                    f"`{_shown(facts, mutation.node)}` in `{function.name}` changes the "
                    f"module-level {_describe(plain)} `{facts.code(mutation.obj)}` in a child "
                    f"process ({self._where(dispatches)}), so the parent's `{root.value}` (read "
                    f"on line {facts.line_of(read)}) never changes ({_COPY}): "
                    f"{self._fix(dispatches, function, plain)}",
                )

    def _module_object(self, mutation: Mutation) -> tuple[cst.Name, Plain] | None:
        """The module-level name whose plain value the mutation changes, and that value."""
        obj, names, state = mutation.obj, self.facts.names, self.state
        root = obj.value if isinstance(obj, cst.Attribute) else obj
        if not isinstance(root, cst.Name):
            return None
        found = names.lookup(root.value, mutation.scope)
        if found is None or found[0] is not self.facts.module_scope:
            return None
        if isinstance(obj, cst.Attribute):
            # `stats.seen.add(x)`: an attribute of a plain module-level object
            owner = state.plain(root, mutation.scope)
            if owner is None or not owner.is_object:
                return None
        plain = state.plain(obj, mutation.scope) if obj is not None else None
        if plain is None or not _fits(plain, mutation):
            return None
        return root, plain

    def _parent_read(self, name: str, where: Scope) -> cst.Name | None:
        """A read of `name` (bound in `where`) in code that runs in the parent."""
        for node, scope in self.state.reads(name, where):
            # a callback registered by a decorator may well run in the child that set the name
            if not self.state.in_child(scope) and not self.state.called_back(scope):
                return node
        return None

    # --- arguments filled in a worker ------------------------------------------------------------

    def arguments(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        for dispatch in self.workers.dispatches:
            worker, scope = dispatch.worker, dispatch.scope
            if worker is None or scope is None or dispatch.kind == "initializer":
                continue
            given = dispatch.arguments()
            if not given:
                continue
            returned = state.returned_names(worker) if dispatch.kind in ("pool", "executor") else set()
            for mutation in state.mutations(worker):
                obj = mutation.obj
                if not (mutation.writes and isinstance(obj, cst.Name) and obj.value in given):
                    continue
                if obj.value in returned or not _is_untouched_parameter(facts, obj.value, mutation.scope, worker):
                    continue
                argument = given[obj.value]
                if not isinstance(argument, cst.Name):
                    continue
                plain = state.plain(argument, scope)
                if plain is None or not _fits(plain, mutation):
                    continue
                read = self._read_besides(argument, scope, dispatch)
                if read is None:
                    continue
                yield Report(
                    mutation.node,
                    f"`{_shown(facts, mutation.node)}` in `{worker.name}` changes its parameter "
                    f"`{obj.value}`, the parent's {_describe(plain)} `{argument.value}` "
                    f"({self._where([dispatch])}); the child gets a copy, so the "
                    f"parent's `{argument.value}` (read on line {facts.line_of(read)}) never "
                    f"changes: {self._fix([dispatch], worker, plain)}",
                )

    def _read_besides(self, argument: cst.Name, scope: Scope, dispatch: Dispatch) -> cst.Name | None:
        found = self.facts.names.lookup(argument.value, scope)
        if found is None:
            return None
        inside = _names_in(dispatch.site.node)  # type: ignore[union-attr]
        for node, read_scope in self.state.reads(argument.value, found[0]):
            if node not in inside and not self.state.in_child(read_scope):
                return node
        return None

    # --- attributes of a bound-method worker's object ------------------------------------------

    def bound_objects(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        for dispatch in self.workers.dispatches:
            worker = dispatch.worker
            if worker is None or worker.cls is None or not (dispatch.bound or dispatch.kind == "run"):
                continue
            family = self._family(worker.cls)
            for function in facts.callgraph.reached_from(worker):
                if function.cls not in family or not function.node.params.params:
                    continue
                me = function.node.params.params[0].name.value
                for mutation in state.mutations(function):
                    attr = self._self_attribute(mutation, me, function)
                    if attr is None:
                        continue
                    changed = (
                        state.plain(mutation.obj, mutation.scope)
                        if isinstance(mutation.obj, cst.Attribute)
                        else None
                    )
                    read = self._read_outside(attr, family)
                    if read is None:
                        continue
                    owner = facts.classes[worker.cls].name
                    yield Report(
                        mutation.node,
                        f"`{_shown(facts, mutation.node)}` in `{facts.classes[function.cls].name}."  # type: ignore[index]
                        f"{function.name}` changes `self.{attr}` on the child's copy of the "
                        f"`{owner}` object ({self._where([dispatch])}); the parent's object is "
                        f"another copy, so `{facts.code(read)}` on line {facts.line_of(read)} "
                        f"never sees the change: {self._fix([dispatch], worker, changed, attribute=True)}",
                    )

    def _self_attribute(self, mutation: Mutation, me: str, function: FunctionInfo) -> str | None:
        """The attribute of `self` that a mutation changes: `self.x = v`, `self.items.append(v)`."""
        obj = mutation.obj
        if isinstance(obj, cst.Name) and obj.value == me and mutation.attr is not None:
            attr = mutation.attr
        elif (
            isinstance(obj, cst.Attribute)
            and isinstance(obj.value, cst.Name)
            and obj.value.value == me
            and mutation.attr is None
        ):
            plain = self.state.plain(obj, mutation.scope)
            if plain is None or not _fits(plain, mutation):
                return None
            attr = obj.attr.value
        else:
            return None
        found = self.facts.names.lookup(me, mutation.scope)
        if found is None or found[0] is not function.scope or len(found[1]) != 1:
            return None  # `self` rebound: not the object handed over
        return attr

    def _family(self, cls: cst.ClassDef) -> set[cst.ClassDef]:
        """The class, its bases of this module, and its subclasses of this module."""
        facts = self.facts

        def local_bases(c: cst.ClassDef) -> list[cst.ClassDef]:
            info = facts.classes[c]
            found = [facts.names.definition(b.value, info.outer) for b in c.bases]
            return [b for b in found if isinstance(b, cst.ClassDef)]

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
                if other not in family and cls in self._ancestors(other, local_bases):
                    family.add(other)
                    changed = True
        return family

    @staticmethod
    def _ancestors(cls: cst.ClassDef, local_bases) -> set[cst.ClassDef]:  # type: ignore[no-untyped-def]
        seen: set[cst.ClassDef] = set()
        pending = [cls]
        while pending:
            for base in local_bases(pending.pop()):
                if base not in seen:
                    seen.add(base)
                    pending.append(base)
        return seen

    def _read_outside(self, attr: str, family: set[cst.ClassDef]) -> cst.Attribute | None:
        """A read of `obj.attr` in parent code, `obj` an instance of the family, outside `__init__`
        (which runs before the worker)."""
        facts = self.facts
        for node, scope in facts.attribute_loads.get(attr, ()):
            if self.state.in_child(scope):
                continue
            function_scope = scope.function
            if function_scope is not None and isinstance(function_scope.node, cst.FunctionDef):
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

    # --- globals set by the parent at run time ---------------------------------------------

    def run_time_globals(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        if self._fork_is_forced():
            return
        module = facts.module_scope
        for name, bindings in module.bindings.items():
            sorted_ = self._sort_bindings(bindings)
            if sorted_ is None:
                continue
            import_time, run_time = sorted_
            if not run_time:
                continue
            before = [_value_text(facts, b) for b in import_time]
            if before and all(_value_text(facts, b) in before for b in run_time):
                continue  # the parent sets it to what the import gives anyway
            reported: set[cst.CSTNode] = set()
            for node, scope in state.reads(name, module):
                if not state.in_child(scope):
                    continue
                where = scope.function.node if scope.function is not None else scope.node
                if where in reported:
                    continue
                reported.add(where)
                dispatches = self.workers.child_functions.get(where, [])  # type: ignore[call-overload]
                worker = facts.functions.get(where)  # type: ignore[call-overload]
                in_what = f"`{worker.name}`" if worker is not None else "a lambda"
                setter = run_time[0]
                import_value = (
                    f"`{_value_text(facts, import_time[0])}`, its import-time value"
                    if import_time and import_time[0].value is not None
                    else "no such name at all (a `NameError`)"
                )
                yield Report(
                    node,
                    f"`{name}` is read in {in_what}, which runs in a child process, but the parent "
                    f"sets it only at run time (`{_shown(facts, setter.node)}` on line "
                    f"{facts.line_of(setter.node)}); {_SPAWN} and sees {import_value}: "
                    f"{_config_fix(dispatches, name)}",
                )

    def _sort_bindings(self, bindings: list[Binding]) -> tuple[list[Binding], list[Binding]] | None:
        """(import-time bindings, bindings the parent makes at run time) of a module-level name;
        None when a binding is made in a child (per-worker state) or cannot be placed."""
        state = self.state
        level = state.module_level_bindings
        rebindings = state.global_rebindings
        import_time: list[Binding] = []
        run_time: list[Binding] = []
        for binding in bindings:
            if binding.node in level:
                (run_time if level[binding.node] else import_time).append(binding)
                continue
            function = rebindings.get(binding.node)
            if function is None or state.in_child(function.scope):
                return None
            if function.node in state.import_time_functions:
                import_time.append(binding)
            else:
                run_time.append(binding)
        return import_time, run_time

    def _fork_is_forced(self) -> bool:
        """The module asks for the fork start method: children inherit run-time globals."""
        facts = self.facts
        for site in facts.calls:
            api = facts.api_of_call(site)
            if api is None or api.kind not in (Kind.SET_START_METHOD, Kind.CONTEXT):
                continue
            args = [a.value for a in site.node.args if a.keyword is None or a.keyword.value == "method"]
            if args and isinstance(args[0], cst.SimpleString) and args[0].evaluated_value == "fork":
                return True
        return False

    # --- wording ---------------------------------------------------------------------------------

    def _where(self, dispatches: Iterable[Dispatch]) -> str:
        facts = self.facts
        for dispatch in dispatches:
            if dispatch.site is not None:
                return (
                    f"handed over at `{facts.call_text(dispatch.site.node)}` on line "
                    f"{facts.line_of(dispatch.site.node)}"
                )
            if dispatch.worker is not None and dispatch.worker.cls is not None:
                return f"`{facts.classes[dispatch.worker.cls].name}.run` runs in the child"
        return "it runs in the child"

    def _fix(
        self,
        dispatches: Iterable[Dispatch],
        function: FunctionInfo,
        plain: Plain | None,
        attribute: bool = False,
    ) -> str:
        dispatches = list(dispatches)
        if dispatches and all(d.kind in ("pool", "executor") for d in dispatches):
            site = dispatches[0].site
            call = f"`{self.facts.call_text(site.node)}`" if site is not None else "the pool"
            task = dispatches[0].worker.name if dispatches[0].worker is not None else function.name
            return f"return the value from `{task}` and use what {call} gives back in the parent"
        if plain is not None and plain.type in ("list", "deque"):
            shared = "a `Manager().list()`"
        elif plain is not None and plain.type in ("dict", "defaultdict", "OrderedDict", "Counter"):
            shared = "a `Manager().dict()`"
        elif plain is None and attribute:
            return (
                "send the value back through a `multiprocessing.Queue` or `Pipe`, or for a "
                "number share a `multiprocessing.Value` made before the child starts"
            )
        elif plain is None:
            shared = "a `multiprocessing.Value` (updated under its lock)"
        else:
            shared = "a `Manager()` proxy"
        return f"send the result back through a `multiprocessing.Queue`, or share it as {shared}"


def _config_fix(dispatches: list[Dispatch], name: str) -> str:
    if any(d.kind in ("pool", "executor", "initializer") for d in dispatches):
        return (
            f"pass `{name}` to the task as an argument, or set it in each worker with "
            f"`initializer=` and `initargs=`"
        )
    return f"pass `{name}` to the worker as an argument (`args=`)"


def _fits(plain: Plain, mutation: Mutation) -> bool:
    """The kind of change fits the kind of value: attributes are set on objects, containers are
    changed by their methods, item assignment and in-place operators. A method call on an object
    of a class of the module is that class's own method: not known to change anything."""
    if mutation.attr is not None:
        return plain.is_object
    return not plain.is_object


def _is_untouched_parameter(facts: ModuleFacts, name: str, scope: Scope, worker: FunctionInfo) -> bool:
    """`name` in `scope` is `worker`'s parameter, never rebound: still the object it was given."""
    found = facts.names.lookup(name, scope)
    if found is None or found[0] is not worker.scope:
        return False
    return all(isinstance(b.node, cst.Param) or b.augmented for b in found[1])


def _describe(plain: Plain) -> str:
    return f"`{plain.type}` object" if plain.is_object else plain.type


def _shown(facts: ModuleFacts, node: cst.CSTNode) -> str:
    """A change as a message quotes it: `results.append(...)`, `counts[key] += ...`."""
    if isinstance(node, cst.Call):
        return facts.call_text(node)
    text = " ".join(facts.code(node).split())
    if len(text) <= 40:
        return text
    if isinstance(node, cst.Assign):
        return " = ".join(facts.code(t.target) for t in node.targets) + " = ..."
    if isinstance(node, cst.AnnAssign):
        return f"{facts.code(node.target)} = ..."
    if isinstance(node, cst.AugAssign):
        return f"{facts.code(node.target)} {facts.code(node.operator).strip()} ..."
    return text[:37] + "..."


def _value_text(facts: ModuleFacts, binding: Binding) -> str:
    if binding.value is not None:
        return " ".join(facts.code(binding.value).split())
    return " ".join(facts.code(binding.node).split())


def _names_in(node: cst.CSTNode) -> set[cst.Name]:
    found: set[cst.Name] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name)

    node.visit(_Names())
    return found
