"""MPL005: a shared Value or Array updated in worker code without holding a lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

import libcst as cst

from mplint.apis import Kind
from mplint.facts import FunctionInfo, Instance, ModuleFacts, Scope
from mplint.facts.syntax import FunctionBodyVisitor
from mplint.rules.base import Report, Rule

_MAX_DEPTH = 8
#: dispatches that run the worker in more than one process at a time
_MANY_PROCESSES = frozenset({"pool", "executor", "initializer", "spawn"})
#: how the value reaches the worker: as an argument (`args=`, through helpers or `self.x`), or as a
#: global set by a pool initializer; both work under every start method
_PASSED, _INITIALIZER = "passed", "initializer"
#: ... or as a global the module creates itself: shared only by inheritance under fork
_GLOBAL = "global"

Update = Union[cst.AugAssign, cst.Assign]


@dataclass(frozen=True)
class _Shared:
    """A shared ctypes object that reaches worker code, and how."""

    instance: Instance
    route: str

    @property
    def kind_name(self) -> str:
        return self.instance.api.qualname.rsplit(".", 1)[-1]

    @property
    def has_lock(self) -> bool:
        if self.kind_name.startswith("Raw"):
            return False
        for arg in self.instance.creation.args:
            if arg.keyword is not None and arg.keyword.value == "lock":
                return not (isinstance(arg.value, cst.Name) and arg.value.value == "False")
        return True


class UnsynchronizedSharedValue(Rule):
    """Finds read-modify-write updates of a shared `multiprocessing.Value`, `Array`, `RawValue` or
    `RawArray` in code that runs in worker processes (`counter.value += 1`,
    `counter.value = counter.value + 1`, `totals[0] += n`) that are not inside `with <lock>:`
    (`with counter.get_lock():`, a `Lock` passed in) nor between a lock's `acquire()` and
    `release()`. The object is known to be shared when the parent passes it to the worker (through
    `args=`, `functools.partial`, a pool `initializer=` that stores it in a global, a `Process`
    subclass's constructor, or helpers of the worker) or creates it at module level. Updates that
    only one process makes, and array items indexed by the worker's own parameter or range (each
    worker its own slot), are not reported."""

    code = "MPL005"
    name = "unsynchronized-shared-value"
    summary = "A shared `Value`/`Array` updated with `+=` (read-modify-write) in a worker without holding a lock"
    why = (
        "`counter.value += 1` is not one operation: it reads the shared value, adds one in the "
        "worker, and writes the result back. The lock that `Value` and `Array` carry is taken "
        "separately for the read and for the write, not around both, so two workers can read the "
        "same number and both write back that number plus one: one of the updates is lost. The "
        "count comes out too low, by a different amount on every run, and only under load. "
        "`RawValue`, `RawArray` and `Value(..., lock=False)` have no lock at all. A module-level "
        "`Value` is worse: it is shared only through fork; under spawn or forkserver (the default "
        "on Windows, macOS, and Linux from Python 3.14) each child re-creates its own and the "
        "parent never sees the updates."
    )
    fix = (
        "Hold the object's own lock around the whole update: `with counter.get_lock(): "
        "counter.value += 1`. For `RawValue`/`RawArray` or `lock=False`, pass a "
        "`multiprocessing.Lock()` to the workers and hold it around the update, or create the "
        "object with `Value`/`Array` (which carry a lock) instead. Create shared objects in the "
        "parent and hand them to the workers (`args=`, or `initializer=`/`initargs=` for a pool). "
        "When each worker only needs to report a number, returning it and summing in the parent "
        "avoids the shared state altogether."
    )
    bad_example = '''\
import multiprocessing


def count_words(texts, total):
    for text in texts:
        total.value += len(text.split())


if __name__ == "__main__":
    total = multiprocessing.Value("i", 0)
    batches = [["a b", "c d e"], ["f"]] * 4
    workers = [multiprocessing.Process(target=count_words, args=(b, total)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value)
'''
    good_example = '''\
import multiprocessing


def count_words(texts, total):
    for text in texts:
        words = len(text.split())
        with total.get_lock():
            total.value += words


if __name__ == "__main__":
    total = multiprocessing.Value("i", 0)
    batches = [["a b", "c d e"], ["f"]] * 4
    workers = [multiprocessing.Process(target=count_words, args=(b, total)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value)
'''
    references = (
        (
            "multiprocessing: Value (its lock does not make `+=` atomic)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Value",
        ),
        (
            "multiprocessing: Sharing state between processes",
            "https://docs.python.org/3/library/multiprocessing.html#sharing-state-between-processes",
        ),
        (
            "multiprocessing.sharedctypes: RawValue and RawArray have no lock",
            "https://docs.python.org/3/library/multiprocessing.html#module-multiprocessing.sharedctypes",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        workers = facts.workers
        if not workers.child_functions:
            return
        analysis = _Analysis(facts)
        for node in workers.child_functions:
            function = facts.functions[node]
            if not analysis.many_processes(function):
                continue
            for update, obj, index in analysis.regions(function).unlocked_updates:
                if index is not None and not analysis.slot_is_shared(index, function.scope):
                    continue
                shared = analysis.source(obj, function.scope, 0)
                if shared is not None:
                    yield Report(update, _message(facts, update, obj, shared, function))


def _message(facts: ModuleFacts, update: Update, obj: cst.BaseExpression, shared: _Shared, fn: FunctionInfo) -> str:
    name = facts.code(obj)
    text = facts.code(update).strip()
    shown = f"`{text}`" if len(text) <= 60 and "\n" not in text else "this update"
    problem = (
        f"{shown} in worker code (`{fn.name}`) is a read-modify-write of the shared "
        f"`{shared.kind_name}` `{name}` without a lock: it reads, computes and writes back in "
        f"separate steps, so updates other processes make in between are lost"
    )
    if shared.has_lock:
        fix = f"hold its lock around the update: `with {name}.get_lock():`"
    else:
        made = "it has no lock" if shared.kind_name.startswith("Raw") else "it was made with `lock=False`"
        fix = (
            f"{made}: pass a `multiprocessing.Lock()` to the workers and hold it around the "
            f"update, or create it with `{shared.kind_name.removeprefix('Raw')}(...)` and use "
            f"`with {name}.get_lock():`"
        )
    if shared.route == _GLOBAL:
        fix += (
            "; and create it in the parent and pass it to the workers: a module-level one is "
            "shared only under fork, under spawn/forkserver each child re-creates its own"
        )
    return f"{problem}; {fix}"


class _Regions(FunctionBodyVisitor):
    """One function body: its read-modify-write updates and calls, and whether a lock is held there.

    Silence when unsure: a `with` over anything not known to be something else counts as a lock,
    and so does every statement after an `acquire()` unless a `release()` comes between and none
    follows.
    """

    def __init__(self, analysis: _Analysis, function: FunctionInfo) -> None:
        self._analysis = analysis
        self._scope = function.scope
        self._root = function.node
        self._with_locks = 0
        #: acquire/release calls in order, with the update and call events between them
        self._events: list[tuple[str, object]] = []
        self.unlocked_updates: list[tuple[Update, cst.BaseExpression, cst.BaseExpression | None]] = []
        self.locked_calls: set[cst.Call] = set()

    @classmethod
    def of(cls, analysis: _Analysis, function: FunctionInfo) -> _Regions:
        regions = cls(analysis, function)
        function.node.body.visit(regions)
        regions._resolve_acquires()
        return regions

    def visit_With(self, node: cst.With) -> bool:
        locking = any(self._analysis.may_be_lock(item.item, self._scope) for item in node.items)
        for item in node.items:
            item.visit(self)
        self._with_locks += locking
        node.body.visit(self)
        self._with_locks -= locking
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("acquire", "release"):
            self._events.append((func.attr.value, node))
        elif self._with_locks:
            self.locked_calls.add(node)
        else:
            self._events.append(("call", node))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._update(node, node.target)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            target = node.targets[0].target
            if _reads(node.value, target):
                self._update(node, target)

    def _update(self, node: Update, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute) and target.attr.value == "value":
            found = (node, target.value, None)
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
            found = (node, target.value, target.slice[0].slice.value)
        else:
            return
        if not self._with_locks:
            self._events.append(("update", found))

    def _resolve_acquires(self) -> None:
        last_acquire = last_release = -1
        releases = [i for i, (kind, _) in enumerate(self._events) if kind == "release"]
        for i, (kind, item) in enumerate(self._events):
            if kind == "acquire":
                last_acquire = i
            elif kind == "release":
                last_release = i
            else:
                held = last_acquire >= 0 and (last_release < last_acquire or any(r > i for r in releases))
                if kind == "update" and not held:
                    self.unlocked_updates.append(item)  # type: ignore[arg-type]
                elif kind == "call" and held:
                    self.locked_calls.add(item)  # type: ignore[arg-type]


def _reads(value: cst.CSTNode, target: cst.BaseExpression) -> bool:
    """`value` reads what `target` names: `c.value = c.value + 1`."""
    if value.deep_equals(target):
        return True
    return any(_reads(child, target) for child in value.children)


class _Analysis:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._regions: dict[cst.FunctionDef, _Regions] = {}
        self._loops: dict[cst.CSTNode, set[cst.Call]] = {}

    def regions(self, function: FunctionInfo) -> _Regions:
        if function.node not in self._regions:
            self._regions[function.node] = _Regions.of(self, function)
        return self._regions[function.node]

    # --- is it a lock? ----------------------------------------------------------------------

    def may_be_lock(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """False only for what is known not to be a lock: `open(...)`, a pool, an imported helper
        with no lock in its name."""
        facts = self.facts
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get_lock":
            return True
        instance = facts.values.instance_of(expr, scope)
        if instance is not None:
            return instance.kind in (Kind.LOCK, Kind.SHARED_VALUE)  # `with counter:` takes its lock
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Name) and func.value == "open" and facts.names.lookup("open", scope) is None:
                return False
            qualname = facts.names.qualname(func, scope)
            if qualname is not None:
                last = qualname.rsplit(".", 1)[-1].lower()
                return any(word in last for word in ("lock", "semaphore", "condition", "mutex"))
        return True

    # --- how many processes run it --------------------------------------------------------------

    def many_processes(self, function: FunctionInfo) -> bool:
        """More than one process may run `function` at a time (a pool, or processes made in a loop)."""
        dispatches = self.facts.workers.dispatches_of(function)
        sites = []
        for dispatch in dispatches:
            if dispatch.kind in _MANY_PROCESSES:
                return True
            if dispatch.kind == "run" and dispatch.worker is not None and dispatch.worker.cls is not None:
                sites.extend(self._constructions(dispatch.worker.cls))
            elif dispatch.site is not None:
                sites.append(dispatch.site)
        if any(self._in_loop(site) for site in sites):
            return True
        if len(sites) < 2:
            return False
        # several processes: a race only if two of them get the same object (or share a global)
        passed = [self._values_passed(site) for site in sites]
        if not any(passed):
            return True
        seen: set[cst.Call] = set()
        for creations in passed:
            if creations & seen:
                return True
            seen |= creations
        return False

    def _values_passed(self, site) -> set[cst.Call]:
        """The shared values (their creations) that a process creation hands to the child."""
        found = set()
        for arg in site.node.args:
            values = [e.value for e in arg.value.elements] if isinstance(arg.value, (cst.Tuple, cst.List)) else [arg.value]
            for value in values:
                instance = self.facts.values.instance_of(value, site.scope)
                if instance is not None and instance.kind is Kind.SHARED_VALUE:
                    found.add(instance.creation)
        return found

    def _constructions(self, cls: cst.ClassDef) -> list:
        facts = self.facts
        return [s for s in facts.calls if facts.names.definition(s.node.func, s.scope) is cls]

    def _in_loop(self, site) -> bool:
        scope = site.scope
        if scope.kind == "comprehension":
            return True
        owner = scope.node
        if owner not in self._loops:
            finder = _LoopCalls()
            body = owner.body if isinstance(owner, (cst.FunctionDef, cst.Module)) else None
            if body is not None:
                if isinstance(owner, cst.Module):
                    owner.visit(finder)
                else:
                    body.visit(finder)
            self._loops[owner] = finder.calls
        return site.node in self._loops[owner]

    # --- is the slot written by several workers? -------------------------------------------------

    def slot_is_shared(self, index: cst.BaseExpression, scope: Scope) -> bool:
        """The array item `arr[index]` may be the same one in every worker: a constant index, a
        bucket computed from the data (`%`, `//`, a call), or a loop over the whole array. An index
        that is a parameter or a loop over a range the worker was given is taken as its own slot."""
        if _is_int(index):
            return True
        if isinstance(index, cst.Name):
            found = self.facts.names.lookup(index.value, scope)
            if found is None:
                return False
            _, bindings = found
            if len(bindings) != 1 or not isinstance(bindings[0].iter, cst.Call):
                return False
            loop = bindings[0].iter
            return (
                isinstance(loop.func, cst.Name)
                and loop.func.value == "range"
                and self.facts.names.lookup("range", scope) is None
                and all(_is_int(a.value) or _is_len(a.value) for a in loop.args)
            )
        return _computes_bucket(index)

    # --- where the object comes from ---------------------------------------------------------

    def source(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> _Shared | None:
        """The shared Value/Array that `expr` (read in a function running in a child) is, if known."""
        if depth > _MAX_DEPTH:
            return None
        facts = self.facts
        if isinstance(expr, cst.Name):
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where, _ = found
            if where is facts.module_scope:
                return self._global(expr.value, depth)
            param = facts.arguments.parameter(expr, scope)
            return self._parameter(*param, depth) if param is not None else None
        if isinstance(expr, cst.Attribute):
            owner = facts.names.class_of(expr.value, scope)
            if owner is None:
                return None
            assigned = facts.classes[owner].attributes.get(expr.attr.value, [])
            found_all = [self._assigned(value, where, depth) for value, where in assigned]
            if found_all and all(found_all):
                return found_all[0]
        return None

    def _assigned(self, value: cst.BaseExpression, where: Scope, depth: int) -> _Shared | None:
        """What `self.x = value` stores, when it is a shared value the parent made."""
        facts = self.facts
        instance = facts.values.instance_of(value, where)
        if instance is not None:
            return _Shared(instance, _PASSED) if instance.kind is Kind.SHARED_VALUE else None
        param = facts.arguments.parameter(value, where)
        if param is None:
            return None
        function, name = param
        if facts.workers.runs_in_child(function):
            return self._parameter(function, name, depth + 1)
        # the constructor runs in the parent: what do the calls of it pass?
        for site, passed in facts.arguments.callers(function):
            argument = passed.get(name)
            instance = facts.values.instance_of(argument, site.scope) if argument is not None else None
            if instance is not None and instance.kind is Kind.SHARED_VALUE:
                return _Shared(instance, _PASSED)
        return None

    def _parameter(self, function: FunctionInfo, name: str, depth: int) -> _Shared | None:
        facts = self.facts
        for dispatch in facts.workers.dispatches:
            # values cannot be pickled into pool tasks (they raise RuntimeError): only these carry them
            if dispatch.worker is not function or dispatch.kind not in ("target", "initializer", "spawn"):
                continue
            argument = dispatch.arguments().get(name)
            if argument is None or dispatch.scope is None:
                continue
            instance = facts.values.instance_of(argument, dispatch.scope)
            if instance is not None and instance.kind is Kind.SHARED_VALUE:
                return _Shared(instance, _PASSED)
        for site, passed in facts.arguments.callers(function):
            argument = passed.get(name)
            caller = site.scope.function
            if argument is None or caller is None or not isinstance(caller.node, cst.FunctionDef):
                continue
            info = facts.functions.get(caller.node)
            if info is None or not facts.workers.runs_in_child(info):
                continue
            if site.node in self.regions(info).locked_calls:
                continue  # the helper runs under the caller's lock
            found = self.source(argument, site.scope, depth + 1)
            if found is not None:
                return found
        return None

    def _global(self, name: str, depth: int) -> _Shared | None:
        """A module-level name: a Value the module creates, or one a pool initializer stores there."""
        facts = self.facts
        bindings = facts.module_scope.bindings.get(name, [])
        found: _Shared | None = None
        for binding in bindings:
            value = binding.value
            if value is None:
                return None
            if isinstance(value, cst.Name) and value.value == "None":
                continue  # the placeholder an initializer fills in
            instance = facts.values.instance_of(value, facts.module_scope)
            if instance is not None:
                if instance.kind is not Kind.SHARED_VALUE:
                    return None
                found = found or _Shared(instance, _GLOBAL)
                continue
            stored = self._stored_by_function(name, value, depth)
            if stored is None:
                return None
            found = found or stored
        return found

    def _stored_by_function(self, name: str, value: cst.BaseExpression, depth: int) -> _Shared | None:
        """`global counter; counter = c` in a function whose parameter `c` gets a shared value."""
        facts = self.facts
        for function in facts.functions.values():
            if name not in function.scope.global_names:
                continue
            param = facts.arguments.parameter(value, function.scope)
            if param is not None:
                found = self._parameter(*param, depth + 1)
                if found is not None:
                    return _Shared(found.instance, _INITIALIZER)
        return None


class _LoopCalls(cst.CSTVisitor):
    """The calls of one function body (or module) that sit inside a `for` or `while` loop."""

    def __init__(self) -> None:
        self.depth = 0
        self.calls: set[cst.Call] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.depth -= 1

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self.depth:
            self.calls.add(node)


def _is_int(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        expr = expr.expression
    return isinstance(expr, cst.Integer)


def _is_len(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "len"


def _computes_bucket(expr: cst.CSTNode) -> bool:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Modulo, cst.FloorDivide)):
        return True
    if isinstance(expr, cst.Call):
        return True
    return any(_computes_bucket(child) for child in expr.children)
