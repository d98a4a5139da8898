"""Which code runs in a child process, and where it was handed over.

A *dispatch* is a place where a callable is given to a process API: `Process(target=f)`, the `run`
method of a `Process` subclass, `pool.map(f, ...)` and the other pool methods, a pool's or
executor's `initializer=`, `executor.submit(f, ...)` / `executor.map(f, ...)` (also as
`getattr(pool, "map")(...)` with a literal name), and `torch.multiprocessing.spawn(f, ...)`.
`functools.partial(f, ...)` is seen through, also when it is bound to a name first
(`work = partial(f, x)`), and so is a parameter (`def launch(target): Process(target=target)`)
that every call of its function in the module fills with the same callable (`launch(worker)`),
when the function is never handed on or decorated. A *worker* is a
function of this module handed over at a dispatch; what it calls in this module runs in the child
too.

The same hand-overs to threads (`threading.Thread(target=f)`, its subclasses' `run`,
`ThreadPoolExecutor`, `ThreadPool` and `multiprocessing.dummy`) are *thread dispatches*, kept
apart (`Workers.thread_dispatches`): nothing of them runs in a child.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterator, Literal

import libcst as cst

from mplint import apis
from mplint.facts.syntax import argument, decorator_names, dict_items, getattr_method, tuple_elements

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope
    from mplint.facts.values import Instance

DispatchKind = Literal["target", "run", "initializer", "pool", "executor", "spawn"]


# Positions of parameters in the constructors, for calls that pass them positionally.
_PROCESS_PARAMS = ("group", "target", "name", "args", "kwargs")
_POOL_PARAMS = ("processes", "initializer", "initargs", "maxtasksperchild")
_EXECUTOR_PARAMS = ("max_workers", "mp_context", "initializer", "initargs")


@dataclass(eq=False)
class Dispatch:
    kind: DispatchKind
    #: the call that hands the callable over (None for the `run` method of a Process subclass)
    site: CallSite | None
    #: the callable expression as written (`f`, `self.step`, `partial(f, x)`, a lambda)
    callable: cst.BaseExpression | None
    #: the callable once a `functools.partial` is seen through
    target: cst.BaseExpression | None
    #: the function of this module that runs in the child, if the callable is one
    worker: FunctionInfo | None
    #: the process, pool or executor the callable is handed to
    runner: Instance | None
    #: the `functools.partial(...)` call wrapping the callable, if any
    partial: cst.Call | None = None
    #: the callable is a bound method (`self.step`, `obj.work`): the child gets a copy of the object
    bound: bool = False
    #: argument expressions given to the worker in the parent, positionally and by keyword
    args: list[cst.BaseExpression] = field(default_factory=list)
    kwargs: dict[str, cst.BaseExpression] = field(default_factory=dict)
    #: the expression given as the tuple of positional arguments, as written (`args=`,
    #: `initargs=`, the `args` of `apply`/`apply_async`/`spawn`), when there is one
    packed_args: cst.BaseExpression | None = None
    #: where `target` is evaluated: the dispatch's scope, or a caller's when the callable is a
    #: parameter that every call of its function fills (`launch(worker)`)
    target_scope: Scope | None = None
    #: the expression a caller passes for that parameter (`worker` in `launch(worker)`)
    passed_in: cst.BaseExpression | None = None
    #: the pool's or executor's method that takes the task (`map`, also through
    #: `getattr(pool, "map")(...)`), for the "pool" and "executor" kinds
    method: str | None = None

    @property
    def scope(self) -> Scope | None:
        """Where the dispatch's expressions are evaluated."""
        return self.site.scope if self.site is not None else None

    def arguments(self) -> dict[str, cst.BaseExpression]:
        """The worker's parameters that receive a known expression of the parent, by name."""
        if self.worker is None:
            return {}
        params = list(self.worker.node.params.params)
        classmethod_ = self.worker.cls is not None and _is_classmethod(self.worker.node)
        if self.bound or self.kind == "run" or classmethod_:
            params = params[1:]  # `self` / `cls` is not the parent's to give
        if self.kind == "spawn":
            params = params[1:]  # torch's spawn passes the process index first, then `args`
        given: dict[str, cst.BaseExpression] = {}
        for param, value in zip(params, self.args):
            given[param.name.value] = value
        names = {p.name.value for p in (*params, *self.worker.node.params.kwonly_params)}
        for name, value in self.kwargs.items():
            if name in names:
                given[name] = value
        return given


#: the kinds that run a callable handed to them: (a process or thread, a pool, an executor)
_Kinds = tuple[frozenset[apis.Kind], apis.Kind, apis.Kind]
_PROCESS_KINDS: _Kinds = (frozenset({apis.Kind.PROCESS}), apis.Kind.POOL, apis.Kind.PROCESS_EXECUTOR)
_THREAD_KINDS: _Kinds = (
    frozenset({apis.Kind.THREAD, apis.Kind.THREAD_PROCESS}), apis.Kind.THREAD_POOL, apis.Kind.THREAD_EXECUTOR
)


class Workers:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self.dispatches: list[Dispatch] = self._find(_PROCESS_KINDS)
        self._thread_dispatches: list[Dispatch] | None = None
        #: each function that runs in a child -> the dispatches that make it run there
        self.child_functions: dict[cst.FunctionDef, list[Dispatch]] = {}
        for dispatch in self.dispatches:
            for function in self._entry_functions(dispatch):
                for reached in facts.callgraph.reached_from(function):
                    self.child_functions.setdefault(reached.node, []).append(dispatch)

    @property
    def thread_dispatches(self) -> list[Dispatch]:
        """Where callables are handed to threads (computed on first use)."""
        if self._thread_dispatches is None:
            self._thread_dispatches = self._find(_THREAD_KINDS)
        return self._thread_dispatches

    def _find(self, kinds: _Kinds) -> list[Dispatch]:
        facts = self._facts
        found: list[Dispatch] = []
        for site in facts.calls:
            found.extend(self._dispatches_at(site, kinds))
        for info in facts.classes.values():
            base = facts.values.class_api(info.node)
            run = info.methods.get("run")
            if base is not None and base.kind in kinds[0] and run is not None:
                found.append(Dispatch("run", None, None, None, run, None))
        return found

    def runs_in_child(self, function: FunctionInfo) -> bool:
        return function.node in self.child_functions

    def dispatches_of(self, function: FunctionInfo) -> list[Dispatch]:
        return self.child_functions.get(function.node, [])

    # --- finding dispatches ------------------------------------------------------------------

    def _entry_functions(self, dispatch: Dispatch) -> list[FunctionInfo]:
        if dispatch.worker is not None:
            return [dispatch.worker]
        if type(dispatch.target) is cst.Lambda:
            # the lambda itself is no function of ours, but what it calls runs in the child
            lambda_scope = self._facts.scopes.get(dispatch.target)
            callees = []
            for site in self._facts.calls:
                if site.scope is lambda_scope:
                    callee = self._facts.callgraph.callee(site)
                    if callee is not None:
                        callees.append(callee)
            return callees
        return []

    def _dispatches_at(self, site: CallSite, kinds: _Kinds) -> list[Dispatch]:
        facts = self._facts
        call = site.node
        singles, pool, executor = kinds
        made = facts.values.instance_of(call, site.scope)
        if made is not None and made.creation is call:
            return self._constructor_dispatches(site, made, kinds)
        api = facts.api_of_call(site)
        if api is not None and api.kind is apis.Kind.SPAWN and apis.Kind.PROCESS in singles:
            callable_ = argument(call, 0, "fn")
            packed = argument(call, 1, "args")
            return [self._dispatch("spawn", site, callable_, None, tuple_elements(packed), {}, packed)]
        called = self.method_called(call, site.scope)
        if called is None:
            return []
        receiver, method = called
        if method not in apis.SUBMIT_METHODS:
            return []
        runner = facts.values.instance_of(receiver, site.scope)
        if runner is None or runner.kind not in (pool, executor):
            return []
        row = apis.vocabulary(runner.api)
        passes = row.submit.get(method)
        if passes is None:
            return []
        func_name, args_name, kwargs_name = row.parameters
        callable_ = argument(call, 0, func_name)
        packed = None
        args: list[cst.BaseExpression] = []
        kwargs: dict[str, cst.BaseExpression] = {}
        if passes is apis.Passes.TUPLE:  # `apply(func, args=(), kwds={})`
            packed = argument(call, 1, args_name)
            args = tuple_elements(packed)
            kwargs = dict_items(argument(call, 2, kwargs_name))
        elif passes is apis.Passes.INLINE:  # `submit(fn, *args, **kwargs)`
            args = [a.value for a in call.args[1:] if a.keyword is None and not a.star]
            kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        kind: DispatchKind = "pool" if runner.kind is pool else "executor"
        dispatch = self._dispatch(kind, site, callable_, runner, args, kwargs, packed)
        dispatch.method = method
        return [dispatch]

    def method_called(self, call: cst.Call, scope: Scope) -> tuple[cst.BaseExpression, str] | None:
        """The object and the method a call calls: `pool.map(...)`, and `getattr(pool, "map")(...)`
        with the builtin `getattr` and a literal name."""
        func = call.func
        if type(func) is cst.Attribute:
            return func.value, func.attr.value
        if type(func) is cst.Call:
            found = getattr_method(func)
            if found is not None and self._facts.names.lookup("getattr", scope) is None:
                return found
        return None

    def _constructor_dispatches(
        self, site: CallSite, made: Instance, kinds: _Kinds
    ) -> list[Dispatch]:
        call = site.node
        if made.kind in kinds[0]:
            # a subclass may define its own __init__: only keywords mean what they say there
            positional = made.cls is None
            target = argument(call, 1 if positional else None, "target")
            if target is None:
                return []
            packed = argument(call, 3 if positional else None, "args")
            kwargs = dict_items(argument(call, 4 if positional else None, "kwargs"))
            return [self._dispatch("target", site, target, made, tuple_elements(packed), kwargs, packed)]
        if made.kind in kinds[1:] and made.cls is None:
            # a library's constructor is read by keyword only: its positions differ
            index = None if apis.is_library(made.api) else 1 if made.kind is kinds[1] else 2
            initializer = argument(call, index, "initializer")
            if initializer is None:
                return []
            packed = argument(call, None if index is None else index + 1, "initargs")
            return [self._dispatch("initializer", site, initializer, made, tuple_elements(packed), {}, packed)]
        return []

    def _dispatch(
        self,
        kind: DispatchKind,
        site: CallSite,
        callable_: cst.BaseExpression | None,
        runner: Instance | None,
        args: list[cst.BaseExpression],
        kwargs: dict[str, cst.BaseExpression],
        packed_args: cst.BaseExpression | None = None,
    ) -> Dispatch:
        facts = self._facts
        home = site.scope
        target, where, partial, passed_in = callable_, home, None, None
        # what is known before the callable is followed out of the dispatch's scope
        kept = (target, partial, args, kwargs)
        # partial(partial(f, a), b) is f with a, then b: peel from the outside in; a name bound
        # to a partial (`work = partial(download, s3)`) is seen through like the call itself,
        # and a parameter (`def launch(target): Process(target=target)`) is what every call of
        # its function in the module passes (`launch(worker)`)
        for _ in range(_MAX_STEPS):
            if type(target) is cst.Name:
                named = self.named_partial(target, where)
                if named is not None:
                    target, where = named
                else:
                    given = self._passed_in(target, where)
                    if given is not None:
                        target, where = given
                        passed_in = target
                        continue
            if not (
                type(target) is cst.Call
                and facts.names.qualname(target.func, where) == "functools.partial"
            ):
                break
            if where is not home and not _same_meaning(facts, target, where, home):
                # its arguments would be read where they mean something else: not followed
                target, partial, args, kwargs = kept
                where, passed_in = home, None
                break
            partial = partial or target
            wrapped = target
            target = argument(wrapped, 0, "func")
            bound_args = [a.value for a in wrapped.args[1:] if a.keyword is None and not a.star]
            bound_kwargs = {a.keyword.value: a.value for a in wrapped.args if a.keyword is not None}
            bound_kwargs.pop("func", None)
            if any(a.star for a in wrapped.args):
                bound_args, bound_kwargs = [], {}  # `*args` / `**kw`: which parameter gets what is unknown
            args = [*bound_args, *args]
            kwargs = {**bound_kwargs, **kwargs}
            if where is home:
                kept = (target, partial, args, kwargs)
        if type(target) is cst.Call and where is not home:
            # a call passed in (`launch(make())`): what it returns is not followed
            target, partial, args, kwargs = kept
            where, passed_in = home, None
        worker = None
        bound = False
        if target is not None:
            definition = facts.names.definition(target, where)
            if type(definition) is cst.FunctionDef:
                worker = facts.functions.get(definition)
                bound = (
                    type(target) is cst.Attribute
                    and worker is not None
                    and worker.cls is not None
                    and _is_instance_method(worker.node)
                    # `Cls.method` is the plain function: the object comes as its first argument
                    and type(facts.names.definition(target.value, where)) is not cst.ClassDef
                )
        return Dispatch(
            kind, site, callable_, target, worker, runner, partial, bound, args, kwargs, packed_args,
            target_scope=where, passed_in=passed_in,
        )

    def named_partial(self, name: cst.Name, scope: Scope) -> tuple[cst.Call, Scope] | None:
        """The `functools.partial(...)` call that the name holds when its one binding makes it,
        with the scope that binding is in."""
        names = self._facts.names
        found = names.lookup(name.value, scope)
        if found is None or len(found[1]) != 1:
            return None
        where, (binding,) = found
        value = binding.value
        if not (type(value) is cst.Call and names.qualname(value.func, where) == "functools.partial"):
            return None
        return value, where

    def _passed_in(self, name: cst.Name, scope: Scope) -> tuple[cst.BaseExpression, Scope] | None:
        """What a parameter holds, when it is the callable handed over: the expression every
        call of its function in the module passes for it (with the caller's scope), when they
        all agree (one caller, or callers that all pass the same function of the module). None
        when a call passes nothing for it, nobody calls the function, or the function escapes
        (it is read other than as the callee of a call, or decorated): unknown callers may pass
        anything."""
        facts = self._facts
        param = facts.arguments.parameter(name, scope)
        if param is None:
            return None
        function, parameter = param
        if self._escapes(function) or facts.callgraph.may_be_overridden(function):
            return None  # `self.launch(worker)` may run another class's `launch`
        given = []
        for site, passed in facts.arguments.callers(function):
            value = passed.get(parameter)
            if value is None or (type(value) is cst.Call and facts.names.qualname(value.func, site.scope) != "functools.partial"):
                return None
            given.append((value, site.scope))
        if not given:
            return None
        if len(given) > 1:
            first = facts.names.definition(*given[0])
            if type(first) is not cst.FunctionDef or any(facts.names.definition(*g) is not first for g in given):
                return None
        return given[0]

    def _escapes(self, function: FunctionInfo) -> bool:
        """The function may be called where this module cannot see: it is decorated, or its
        name is read other than as the callee of a call (handed on, stored, returned)."""
        if decorator_names(function.node) - {"staticmethod", "classmethod"} or any(
            type(d.decorator) is not cst.Name for d in function.node.decorators
        ):
            return True
        callees = self._callees
        facts = self._facts
        if function.cls is not None:
            return any(id(attr) not in callees for attr, _ in facts.attribute_loads.get(function.name, ()))
        return any(
            id(name) not in callees and facts.names.definition(name, scope) is function.node
            for name, scope in facts.loads.get(function.name, ())
        )

    @cached_property
    def _callees(self) -> set[int]:
        """The callee expressions of every call of the module (by id)."""
        return {id(site.node.func) for site in self._facts.calls}


_MAX_STEPS = 8


def _same_meaning(facts: ModuleFacts, call: cst.Call, where: Scope, scope: Scope) -> bool:
    """Every name a call reads in `where` resolves from `scope` to the same bindings (a lambda's
    body reads in its own scope; attribute names and keywords are no names)."""
    names = facts.names
    for name in _read_names(facts, call):
        there, here = names.lookup(name.value, where), names.lookup(name.value, scope)
        if (there is None) != (here is None) or (there is not None and here is not None and there[0] is not here[0]):
            return False
    return True


def _read_names(facts: ModuleFacts, call: cst.Call) -> Iterator[cst.Name]:
    up = facts.up
    for name in facts.names_in(call):
        child, parent = name, up[name]
        if type(parent) is cst.Attribute and parent.attr is name:
            continue  # `s3.client`: `client` is no name
        if type(parent) is cst.Arg and parent.keyword is name:
            continue  # `key=`: a keyword is no name
        while child is not call and type(parent) is not cst.Lambda:
            child, parent = parent, up[parent]
        if child is call:
            yield name


def _is_classmethod(node: cst.FunctionDef) -> bool:
    return "classmethod" in decorator_names(node)


def _is_instance_method(node: cst.FunctionDef) -> bool:
    return not {"classmethod", "staticmethod"} & decorator_names(node)
