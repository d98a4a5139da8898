"""MPL003: state changed in a child process that the parent expects to see."""

from __future__ import annotations

from itertools import chain
from typing import Iterable, Iterator

import libcst as cst

from mplint.facts import Dispatch, FunctionInfo, ModuleFacts, Plain
from mplint.facts.scopes import Binding, Scope
from mplint.object_apis import PROGRESS_METHODS
from mplint.facts.state import fits
from mplint.project.told import Chain, shown
from mplint.rules.base import Report, Rule

_COPY = "the child works on a copy under fork, on a fresh import under spawn/forkserver"
_SPAWN = (
    "under spawn or forkserver (the default on Windows and macOS, and on Linux from Python 3.14) "
    "the child imports the module afresh"
)


class SharedMutableState(Rule):
    """Finds state that code running in a child process changes and the parent reads, as if
    processes shared memory: a module-level list, dict, set or object mutated (or a module-level
    name rebound through `global`) by a worker (handed over directly or through
    `functools.partial`, also a partial bound to a name first, or passed to the helper that
    starts it: `launch(worker)` for `def launch(target): Process(target=target)`, when every
    call of the helper in the module passes the same worker and the helper is never handed on
    or decorated); a plain list/dict/set/object handed to a worker as
    an argument and filled there; an attribute that a bound-method worker or a `Process`
    subclass's `run` sets on `self` and the parent reads; a method called in a worker on an
    object of the parent (module-level, or captured from the function that starts the process)
    whose body, or a method it calls on `self`, assigns to `self` or fills one of its containers
    (`stats.add(size)` where `add` does `self.total += size`), when the parent reads the object;
    a tqdm progress bar of the parent (`tqdm`, `tqdm.auto`, `tqdm.notebook`) advanced with
    `update()` in a worker, also `self.bar` in the target of a forked process (a pool task's or a
    spawned process's object is pickled, and a bar cannot be: MPL026); and a module-level name
    that the parent sets only at run time and a worker reads. Across the modules of a project: a
    worker that changes a plain value (or rebinds a name) of an imported project module
    (`shared.status[i] = ...`), or calls a function of another module that changes its own
    module's state, or is such a function (`pool.map(shared.record, ...)`), when the parent
    reads that state (`shared.status`); and `Process(target=component.run)` for an object of a
    class of another module whose `run` (or a method of its class that `run` calls) sets
    attributes on `self` that the parent reads; those messages name the chain to the change with
    file and line. Objects made for sharing (queues,
    pipes, `Value`, `Array`, Manager proxies, shared memory, locks) are fine and never reported;
    so are a worker's own locals and the objects it creates, a per-process cache that the parent
    never reads, a global or an object set up by a pool `initializer=` (also one the module hands
    over only as a value, through a name, a `partial` or `**kwargs`), the state a process sets up
    in its target's first statements when only accessors that the parent's code is not seen to
    call read it, instances of classes of
    other modules (what their methods do is not seen from this file), and anything whose type the
    analysis cannot tell."""

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
            checker.method_calls(),
            checker.run_time_globals(),
            checker.project_state(),
        ):
            if report.node not in seen:
                seen.add(report.node)
                yield report


class _Checker:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.state = facts.state
        self.visibility = facts.visibility
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
                # a process's own setup makes state for that process: only a read that the
                # parent's code is seen to make shows the parent expecting it
                setup = facts.reach.in_worker_setup(mutation, function)
                if mutation.name is not None:
                    name, what = mutation.name, "module-level name"
                    read = self.visibility.parent_read(mutation.name, module, seen_only=setup)
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
                found = self.visibility.module_object(mutation)
                if found is None:
                    continue
                root, plain = found
                read = self.visibility.parent_read(root.value, module, seen_only=setup)
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
                if not (mutation.writes and type(obj) is cst.Name and obj.value in given):
                    continue
                if obj.value in returned or not self.visibility.untouched_parameter(obj.value, mutation.scope, worker):
                    continue
                argument = given[obj.value]
                if type(argument) is not cst.Name:
                    continue
                plain = state.plain(argument, scope)
                if plain is None or not fits(plain, mutation):
                    continue
                read = self.visibility.parent_read_besides(argument, scope, dispatch.site.node)  # type: ignore[union-attr]
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

    # --- attributes of a bound-method worker's object ------------------------------------------

    def bound_objects(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        for dispatch in self.workers.dispatches:
            worker = dispatch.worker
            if worker is None or worker.cls is None or not (dispatch.bound or dispatch.kind == "run"):
                continue
            family = self.visibility.family(worker.cls)
            for function in facts.callgraph.reached_from(worker):
                if function.cls not in family or not function.node.params.params:
                    continue
                me = function.node.params.params[0].name.value
                for mutation in state.mutations(function):
                    attr = state.self_attribute(mutation, me, function)
                    if attr is None:
                        continue
                    changed = (
                        state.plain(mutation.obj, mutation.scope)
                        if type(mutation.obj) is cst.Attribute
                        else None
                    )
                    read = self.visibility.parent_attribute_read(attr, family)
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

    # --- objects of the parent changed through their methods ------------------------------------

    def method_calls(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        for node, dispatches in self.workers.child_functions.items():
            if all(d.kind == "initializer" for d in dispatches):
                continue
            function = facts.functions[node]
            for site in function.calls:
                func = site.node.func
                if type(func) is not cst.Attribute:
                    continue
                held = self._parents_object(func.value, site.scope, function, dispatches)
                if held is None:
                    continue
                name, where = held
                call = facts.call_text(site.node)
                if func.attr.value in PROGRESS_METHODS and state.progress_bar(func.value, site.scope):
                    yield Report(
                        site.node,
                        f"`{call}` in `{function.name}` advances the progress bar `{name}` in a "
                        f"child process ({self._where(dispatches)}): the child moves its own copy of "
                        f"the bar ({_COPY}), so the parent's bar never moves: "
                        f"{_progress_fix(dispatches, facts.code(func.value))}",
                    )
                    continue
                if where is None or self._set_up_in_each_worker(name, where):
                    continue  # `self.x.method()` (only progress bars are followed through `self`),
                    # or an object an `initializer=` prepares: each worker's own
                cls = facts.names.class_of(func.value, site.scope)
                plain = state.plain(func.value, site.scope)
                if cls is None or plain is None or not plain.is_object:
                    continue  # a class of another module, a proxy, a shared value: not known
                method = facts.names.method(cls, func.attr.value)
                changes = state.self_changes(method) if method is not None else []
                read = self.visibility.parent_read(name, where) if changes else None
                if read is None:
                    continue
                change = changes[0]
                owner = facts.classes[cls].name
                whose = "module-level" if where is facts.module_scope else "captured"
                yield Report(
                    site.node,
                    f"`{call}` in `{function.name}` calls `{owner}.{func.attr.value}`, which changes "
                    f"`self.{change.attr}` (`{_shown(facts, change.mutation.node)}` on line "
                    f"{facts.line_of(change.mutation.node)}), on the child's copy of the {whose} "
                    f"`{owner}` object `{name}` ({self._where(dispatches)}), so the parent's "
                    f"`{name}` (read on line {facts.line_of(read)}) never changes ({_COPY}): "
                    f"{self._fix(dispatches, function, None, attribute=True)}",
                )

    def _forked(self, dispatch: Dispatch) -> bool:
        if dispatch.kind not in ("target", "run"):
            return False
        context = self.facts.contexts.of_dispatch(dispatch) if dispatch.kind == "target" else None
        return context is not None and context.method == "fork"

    def _set_up_in_each_worker(self, name: str, where: Scope) -> bool:
        """Code run as a pool's `initializer=` uses the object: it is each worker's own state."""
        child_functions = self.workers.child_functions
        for _, scope in self.state.reads(name, where):
            function = scope.function
            dispatches = child_functions.get(function.node, []) if function is not None else []  # type: ignore[call-overload]
            if any(d.kind == "initializer" for d in dispatches):
                return True
        return False

    def _parents_object(
        self, expr: cst.BaseExpression, scope: Scope, function: FunctionInfo, dispatches: list[Dispatch]
    ) -> tuple[str, Scope | None] | None:
        """The name of the parent's object that `expr` in a child function is, and the scope that
        binds it: a module-level name, or one captured from a function that runs in the parent;
        `self.x` in a bound-method target of a forked process (scope None). None
        for objects the child makes itself."""
        facts = self.facts
        if type(expr) is cst.Name:
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where = found[0]
            if where is facts.module_scope:
                return expr.value, where
            if where.kind == "function" and where is not scope.function and not self.state.in_child(where):
                inner = scope
                while inner is not None and inner is not where:
                    inner = inner.parent
                return (expr.value, where) if inner is where else None
            return None
        if type(expr) is cst.Attribute and type(expr.value) is cst.Name:
            # a task's or a spawned process's object is pickled, and a bar cannot be;
            # a forked process gets a copy of it
            handed = any(
                d.worker is function and (d.bound or d.kind == "run") and self._forked(d) for d in dispatches
            )
            params = function.node.params.params
            if handed and params and params[0].name.value == expr.value.value and scope.function is function.scope:
                return facts.code(expr), None
        return None

    # --- state of other modules of the project ------------------------------------------------

    def project_state(self) -> Iterator[Report]:
        """A worker that changes another project module's state (`shared.status[i] = v`), calls
        a function of another module that changes its own, or is such a function, or a method of
        an object of an imported class that sets attributes on `self`."""
        facts = self.facts
        project = facts.project
        if not project:
            return
        for node, dispatches in self.workers.child_functions.items():
            if all(d.kind == "initializer" for d in dispatches):
                continue
            function = facts.functions[node]
            for mutation in self.state.mutations(function):
                imported = self.visibility.imported_target(mutation)
                absolute = project.imported_state.get(imported[0]) if imported is not None else None
                read = self.visibility.parent_read_of(absolute) if absolute is not None else None
                if read is not None:
                    yield Report(
                        mutation.node,
                        f"`{_shown(facts, mutation.node)}` in `{function.name}` changes "
                        f"{_state(absolute)} in a child process ({self._where(dispatches)}), so "  # type: ignore[arg-type]
                        f"the parent's `{facts.code(read)}` (read on line {facts.line_of(read)}) "
                        f"never changes ({_COPY}): {self._fix(dispatches, function, None)}",
                    )
            for site in function.calls:
                found = self._read_change(facts.project_changes(site))
                if found is not None:
                    (steps, state), read = found
                    yield Report(
                        site.node,
                        f"`{facts.call_text(site.node)}` in `{function.name}` changes "
                        f"{_state(state)} in a child process ({self._where(dispatches)}; "
                        f"through {shown(steps)}), so the parent's `{facts.code(read)}` "
                        f"(read on line {facts.line_of(read)}) never changes ({_COPY}): "
                        f"{self._fix(dispatches, function, None)}",
                    )
        for dispatch in self.workers.dispatches:
            yield from self._handed(dispatch)

    def _read_change(
        self, changes: tuple[tuple[Chain, str], ...]
    ) -> tuple[tuple[Chain, str], cst.CSTNode] | None:
        """Of the module states a call into another module changes (the nearest change first),
        the first one the parent reads, with that read."""
        for change in changes:
            read = self.visibility.parent_read_of(change[1])
            if read is not None:
                return change, read
        return None

    def _handed(self, dispatch: Dispatch) -> Iterator[Report]:
        facts = self.facts
        site, target = dispatch.site, dispatch.target
        if dispatch.worker is not None or site is None or target is None or dispatch.kind == "initializer":
            return
        name = facts.project_name(target, site.scope)
        if name is None:
            return
        found = self._read_change(facts.project.changes.get(name, ()))
        if found is not None:
            (steps, state), read = found
            yield Report(
                target,
                f"`{facts.code(target)}` changes {_state(state)} in a child process "
                f"({self._where([dispatch])}; through {shown(steps)}), so the parent's "
                f"`{facts.code(read)}` (read on line {facts.line_of(read)}) never changes "
                f"({_COPY}): {self._fix([dispatch], None, None)}",
            )
            return
        if type(target) is not cst.Attribute or type(target.value) is not cst.Name:
            return
        for attr, steps in facts.project.self_changes.get(name, ()):
            read = self.visibility.parent_object_read(target.value, site.scope, attr)
            if read is None:
                continue
            yield Report(
                target,
                f"`{facts.code(target)}` changes `self.{attr}` on the child's copy of "
                f"`{target.value.value}` ({self._where([dispatch])}; through {shown(steps)}); "
                f"the parent's object is another copy, so `{facts.code(read)}` on line "
                f"{facts.line_of(read)} never sees the change: "
                f"{self._fix([dispatch], None, None, attribute=True)}",
            )
            return

    # --- globals set by the parent at run time ---------------------------------------------

    def run_time_globals(self) -> Iterator[Report]:
        facts, state = self.facts, self.state
        if self.visibility.fork_is_forced():
            return
        module = facts.module_scope
        for name, bindings in module.bindings.items():
            sorted_ = self.visibility.import_and_run_time(bindings)
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

    # --- wording ---------------------------------------------------------------------------------

    def _where(self, dispatches: Iterable[Dispatch]) -> str:
        facts = self.facts
        for dispatch in dispatches:
            if dispatch.site is not None:
                passed = dispatch.passed_in
                through = (
                    f" as `{facts.code(passed)}`, passed in on line {facts.line_of(passed)}"
                    if passed is not None else ""
                )
                return (
                    f"handed over at `{facts.call_text(dispatch.site.node)}` on line "
                    f"{facts.line_of(dispatch.site.node)}{through}"
                )
            if dispatch.worker is not None and dispatch.worker.cls is not None:
                return f"`{facts.classes[dispatch.worker.cls].name}.run` runs in the child"
        return "it runs in the child"

    def _fix(
        self,
        dispatches: Iterable[Dispatch],
        function: FunctionInfo | None,
        plain: Plain | None,
        attribute: bool = False,
    ) -> str:
        dispatches = list(dispatches)
        if dispatches and all(d.kind in ("pool", "executor") for d in dispatches):
            site = dispatches[0].site
            call = f"`{self.facts.call_text(site.node)}`" if site is not None else "the pool"
            worker, target = dispatches[0].worker, dispatches[0].target
            task = (
                worker.name if worker is not None
                else function.name if function is not None
                else self.facts.code(target) if target is not None
                else "the task"
            )
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


def _progress_fix(dispatches: list[Dispatch], bar: str) -> str:
    if dispatches and all(d.kind == "pool" for d in dispatches):
        return (
            f"advance it in the parent as each task finishes: iterate over "
            f"`pool.imap_unordered(...)` and call `{bar}.update()` for each result"
        )
    if dispatches and all(d.kind == "executor" for d in dispatches):
        return (
            f"advance it in the parent as each task finishes: submit the tasks, iterate over "
            f"`concurrent.futures.as_completed(futures)` and call `{bar}.update()` for each"
        )
    return (
        f"put a progress message on a `multiprocessing.Queue` in the child and call `{bar}.update()` "
        f"in the parent as it reads them"
    )


def _state(absolute: str) -> str:
    """Another module's state as a message names it: `status` of module `app.shared`."""
    module, _, name = absolute.rpartition(".")
    return f"`{name}` of the module `{module}`"


def _config_fix(dispatches: list[Dispatch], name: str) -> str:
    if any(d.kind in ("pool", "executor", "initializer") for d in dispatches):
        return (
            f"pass `{name}` to the task as an argument, or set it in each worker with "
            f"`initializer=` and `initargs=`"
        )
    return f"pass `{name}` to the worker as an argument (`args=`)"


def _describe(plain: Plain) -> str:
    return f"`{plain.type}` object" if plain.is_object else plain.type


def _shown(facts: ModuleFacts, node: cst.CSTNode) -> str:
    """A change as a message quotes it: `results.append(...)`, `counts[key] += ...`."""
    if type(node) is cst.Call:
        return facts.call_text(node)
    text = " ".join(facts.code(node).split())
    if len(text) <= 40:
        return text
    if type(node) is cst.Assign:
        return " = ".join(facts.code(t.target) for t in node.targets) + " = ..."
    if type(node) is cst.AnnAssign:
        return f"{facts.code(node.target)} = ..."
    if type(node) is cst.AugAssign:
        return f"{facts.code(node.target)} {facts.code(node.operator).strip()} ..."
    return text[:37] + "..."


def _value_text(facts: ModuleFacts, binding: Binding) -> str:
    if binding.value is not None:
        return " ".join(facts.code(binding.value).split())
    return " ".join(facts.code(binding.node).split())
