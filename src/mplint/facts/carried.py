"""What a value carries with it when it is pickled, and what a pool or executor task pickles.

A task's arguments go to the worker by pickle: the arguments themselves, and whatever they hold.
`carried(expr)` finds the objects made by known APIs inside an expression: the expression itself
(`lock`, `self.queue`, `locks[0]`), the elements of tuple, list, set and dict displays, the items a
comprehension makes, `[x] * n` and `a + b`, the arguments of `functools.partial`, `zip`,
`itertools.repeat`/`product`/`chain` and `list`/`tuple`/`dict`, names bound to any of these (and
what is appended to them), and the objects held by an instance of a class of the module whose
bound method is the task.

`task_payload(dispatch)` lists the expressions a pool or executor task pickles: the arguments given
at the call (through `partial` too), the tuple of `args`/`kwds`, and for `map`-like methods the
iterables whose items become the arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

import libcst as cst

from mplint import apis
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH
from mplint.facts.syntax import argument

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope
    from mplint.facts.values import Instance
    from mplint.facts.workers import Dispatch


T = TypeVar("T")
#: what a walk looks for: the leaves it finds at an expression, or None to walk on into it
Match = Callable[[cst.BaseExpression, "Scope"], Optional[list[T]]]

#: callables that keep their arguments in what they return (or yield), as far as pickling goes
_KEEPING_CALLS = frozenset({
    "functools.partial", "itertools.repeat", "itertools.product", "itertools.chain", "zip",
    "list", "tuple", "set", "dict", "iter", "reversed", "sorted", "enumerate",
})

#: pool and executor methods whose arguments after the callable are iterables of task arguments
_MAPPING_METHODS = apis.methods(apis.Kind.POOL).maps | apis.methods(apis.Kind.PROCESS_EXECUTOR).maps
#: keywords of those methods that are no iterable
_MAP_OPTIONS = frozenset({"chunksize", "timeout", "callback", "error_callback", "buffersize"})

#: methods that make a class's instances pickle differently from their `__dict__`
_CUSTOM_PICKLING = frozenset({"__getstate__", "__reduce__", "__reduce_ex__", "__getnewargs__"})


@dataclass(frozen=True)
class Carried:
    """An object made by a known API found inside a pickled value."""

    instance: Instance
    #: the expression that evaluates to it, as written where it was found
    expr: cst.BaseExpression
    #: for objects held by an instance: the attribute that holds it (`lock` for `self.lock`)
    attribute: str | None = None


class CarriedValues:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    def carried(self, expr: cst.BaseExpression, scope: Scope) -> list[Carried]:
        """The objects of known APIs that pickling `expr` pickles too (see the module docstring)."""
        return self.collect(expr, scope, self._instances)

    def held_by_instance(self, cls: cst.ClassDef) -> list[Carried]:
        """What pickling an instance of `cls` pickles: its `self.x = ...` attributes (none when the
        class pickles itself its own way, with `__getstate__` or `__reduce__`)."""
        facts = self._facts
        if self._pickles_its_own_way(cls):
            return []
        found: list[Carried] = []
        for attribute, values in facts.classes[cls].attributes.items():
            held: list[Carried] = []
            for value, scope in values:
                held.extend(self.collect(value, scope, self._instances))
            found.extend(Carried(c.instance, c.expr, attribute) for c in held)
        return found

    def pickles_its_own_way(self, cls: cst.ClassDef) -> bool:
        """The class defines how its instances pickle (`__getstate__`, `__reduce__`, ...), or may
        inherit that from a base class mplint cannot see."""
        return self._pickles_its_own_way(cls)

    def _pickles_its_own_way(self, cls: cst.ClassDef, depth: int = 0) -> bool:
        """The class defines how it pickles, or may inherit that from a base mplint cannot see."""
        facts = self._facts
        info = facts.classes[cls]
        for base in cls.bases:
            local = facts.names.definition(base.value, info.outer)
            if type(base.value) is cst.Name and base.value.value == "object":
                continue
            if type(local) is not cst.ClassDef or depth > _MAX_DEPTH or self._pickles_its_own_way(local, depth + 1):
                return True
        return any(name in info.methods for name in _CUSTOM_PICKLING)

    def task_payload(self, dispatch: Dispatch) -> list[cst.BaseExpression]:
        """The expressions a pool or executor task pickles to send it to a worker."""
        payload = [*dispatch.args, *dispatch.kwargs.values()]
        if type(dispatch.callable) is cst.Name:
            payload.append(dispatch.callable)  # `task = partial(f, lock=lock)`: pickled with the task
        if dispatch.packed_args is not None and type(dispatch.packed_args) not in (cst.Tuple, cst.List):
            payload.append(dispatch.packed_args)  # `args = (x, lock)` given by name
        site = dispatch.site
        if site is None or type(site.node.func) is not cst.Attribute:
            return payload
        call = site.node
        method = site.node.func.attr.value
        if dispatch.kind == "pool" and method in ("apply", "apply_async"):
            kwds = argument(call, 2, "kwds")
            if kwds is not None and type(kwds) is not cst.Dict:
                payload.append(kwds)
        else:
            payload.extend(self.map_iterables(dispatch))
        return payload

    def map_iterables(self, dispatch: Dispatch) -> list[cst.BaseExpression]:
        """The iterables a `map`-like task method spreads over the workers: read in the parent,
        their items pickled as the tasks' arguments."""
        site = dispatch.site
        if site is None or type(site.node.func) is not cst.Attribute or dispatch.kind not in ("pool", "executor"):
            return []
        call = site.node
        if site.node.func.attr.value not in _MAPPING_METHODS:
            return []
        positional = [a for a in call.args if a.keyword is None]
        if dispatch.kind == "pool":
            iterables = positional[1:2] + [a for a in call.args if a.keyword and a.keyword.value == "iterable"]
        else:
            iterables = positional[1:]
        return [a.value for a in iterables if not a.star or a.star == "*"]

    # --- the walk through an expression ------------------------------------------------------

    def collect(self, expr: cst.BaseExpression, scope: Scope, match: Match[T]) -> list[T]:
        """What `match` finds in the values that pickling `expr` pickles too, walking through the
        displays, calls and names of the module docstring. `match(e, scope)` answers the leaves: a
        list (possibly empty) ends the walk at `e`, None walks on into `e`."""
        found: list[T] = []
        self._collect(expr, scope, found, set(), 0, match)
        return found

    def _instances(self, expr: cst.BaseExpression, scope: Scope) -> list[Carried] | None:
        instance = self._facts.values.instance_of(expr, scope)
        return [Carried(instance, expr)] if instance is not None else None

    def _collect(
        self, expr: cst.BaseExpression, scope: Scope, found: list, seen: set[int], depth: int, match: Match
    ) -> None:
        if depth > _MAX_DEPTH or id(expr) in seen:
            return
        seen.add(id(expr))
        facts = self._facts
        leaves = match(expr, scope)
        if leaves is not None:
            found.extend(leaves)
            return
        step = depth + 1
        if type(expr) in (cst.Tuple, cst.List, cst.Set):
            for element in expr.elements:
                self._collect(element.value, scope, found, seen, step, match)
        elif type(expr) is cst.Dict:
            for item in expr.elements:
                if type(item) is cst.DictElement:
                    self._collect(item.key, scope, found, seen, step, match)
                self._collect(item.value, scope, found, seen, step, match)
        elif type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
            self._collect(expr.elt, facts.scopes.get(expr, scope), found, seen, step, match)
        elif type(expr) is cst.DictComp:
            inner = facts.scopes.get(expr, scope)
            self._collect(expr.key, inner, found, seen, step, match)
            self._collect(expr.value, inner, found, seen, step, match)
        elif type(expr) is cst.BinaryOperation:
            self._collect(expr.left, scope, found, seen, step, match)
            self._collect(expr.right, scope, found, seen, step, match)
        elif type(expr) is cst.StarredElement:
            self._collect(expr.value, scope, found, seen, step, match)
        elif type(expr) is cst.Call:
            self._collect_call(expr, scope, found, seen, step, match)
        elif type(expr) is cst.Name:
            self._collect_name(expr, scope, found, seen, step, match)

    def _collect_call(
        self, call: cst.Call, scope: Scope, found: list, seen: set[int], depth: int, match: Match
    ) -> None:
        facts = self._facts
        name = facts.names.qualname(call.func, scope)
        if name is None and type(call.func) is cst.Name and facts.names.lookup(call.func.value, scope) is None:
            name = call.func.value  # a builtin
        if name in _KEEPING_CALLS:
            for arg in call.args:
                self._collect(arg.value, scope, found, seen, depth, match)
            return
        cls = facts.names.definition(call.func, scope)
        if (
            type(cls) is cst.ClassDef
            and facts.values.class_api(cls) is None
            and not self._pickles_its_own_way(cls)
        ):
            # an instance of a class of the module (`Task(item, lock)`): pickled with its fields
            for arg in call.args:
                self._collect(arg.value, scope, found, seen, depth, match)

    def _collect_name(
        self, expr: cst.Name, scope: Scope, found: list, seen: set[int], depth: int, match: Match
    ) -> None:
        facts = self._facts
        lookup = facts.names.lookup(expr.value, scope)
        if lookup is None:
            return
        where, bindings = lookup
        if any(b.value is None and not b.augmented for b in bindings):
            return  # a parameter, an unpacking, a loop variable: what it holds is not known here
        for binding in bindings:
            if binding.value is not None:
                self._collect(binding.value, where, found, seen, depth, match)
        for added in facts.values.added_elements(expr.value, where):
            self._collect(added, where, found, seen, depth, match)


def pickles_only_by_inheritance(instance: Instance) -> bool:
    """The object raises `RuntimeError: ... should only be shared between processes through
    inheritance` when pickled anywhere but while a child process is being started."""
    return instance.kind in apis.INHERITANCE_ONLY
