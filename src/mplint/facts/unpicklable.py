"""Objects that no pickle can send to a child, inside what a dispatch pickles.

A dispatch pickles its callable and its arguments when the child does not inherit them (see
`contexts`): a pool or executor task always, a `Process` target and its `args=` under spawn and
forkserver. This module finds in them the objects of `object_apis.UNPICKLABLE` (thread locks,
thread queues, open files, sqlite connections, progress bars) and generators (a generator
expression, a call of a generator function of the module): as arguments (through the displays,
names and `functools.partial` that `carried` walks through, and `self.x` when every assignment of
the attribute makes one), and, for a bound-method callable
(`Process(target=crawler.run)`, `pool.map(self.work, items)`), in the attributes its object
is given in `__init__` (and in the methods `__init__` calls on `self`), unless the class pickles
its own way (`__getstate__`, `__reduce__`) or has a base class mplint cannot see.

The iterables that `map`-like methods spread over the workers are read in the parent, not
pickled: a generator there is fine; its items are what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from mplint import object_apis
from mplint.facts.syntax import argument
from mplint.object_apis import Unpicklable

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope
    from mplint.facts.workers import Dispatch


@dataclass(frozen=True)
class Found:
    """An object that cannot be pickled, inside what a dispatch pickles."""

    row: Unpicklable
    #: the expression that made it: the constructor call, the generator expression
    creation: cst.BaseExpression
    #: the error pickling raises (for a file, the one its mode gives)
    error: str


@dataclass(frozen=True)
class Sent:
    """One part of what a dispatch sends that holds an unpicklable object."""

    #: where to point: the argument as written at the dispatch, or the bound-method callable
    node: cst.BaseExpression
    found: Found
    #: the part is an argument of the worker (not its callable)
    argument: bool
    #: for a bound method's object: the attribute of `self` that holds it, and the object's class
    attribute: str | None = None
    cls: cst.ClassDef | None = None


class Unpicklables:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    def sent_by(self, dispatch: Dispatch) -> list[Sent]:
        """The unpicklable objects a dispatch would pickle (whether it does: `contexts`)."""
        facts = self._facts
        scope = dispatch.scope
        if scope is None:
            return []
        carried = facts.carried
        sent: list[Sent] = []
        iterables = {id(e): self._iterable(e, scope) for e in carried.map_iterables(dispatch)}
        for expr in carried.task_payload(dispatch):
            # (a callable given by name is walked too: `find = partial(lookup, connection)`)
            top = iterables.get(id(expr))
            for found in carried.collect(expr, scope, lambda e, s: self._match(e, s, top)):
                sent.append(Sent(expr, found, argument=True))
        target = dispatch.target
        if dispatch.bound and type(target) is cst.Attribute:
            # the object's own class (a subclass may pickle its own way), not the method's
            cls = facts.names.class_of(target.value, dispatch.target_scope or scope)
            for attribute, found in self.held_by(cls) if cls is not None else ():
                sent.append(Sent(target, found, False, attribute, cls))
        return sent

    def held_by(self, cls: cst.ClassDef) -> list[tuple[str, Found]]:
        """The unpicklable objects an instance of `cls` holds once made: `self.x = ...` in its
        `__init__` (its own or a base's of this module) and the methods that calls on `self`.
        None when the class pickles its own way or has a base mplint cannot see."""
        facts = self._facts
        if facts.carried.pickles_its_own_way(cls):
            return []
        init = facts.names.method(cls, "__init__")
        if init is None:
            return []
        setup = {f.node for f in facts.callgraph.reached_from(init) if f.cls is not None}
        if any(_calls_init(site.node) for site in init.calls):  # `super().__init__()`: the bases' too
            for base in _local_bases(facts, cls):
                base_init = facts.classes[base].methods.get("__init__")
                if base_init is not None:
                    setup.update(f.node for f in facts.callgraph.reached_from(base_init) if f.cls is not None)
        held: list[tuple[str, Found]] = []
        for attribute in _attributes(facts, cls):
            values = [
                (value, scope) for value, scope in _assigned(facts, cls, attribute)
                if scope.function is not None and scope.function.node in setup
            ]
            for value, scope in values:
                for found in facts.carried.collect(value, scope, lambda e, s: self._match(e, s, None)):
                    held.append((attribute, found))
        return held

    # --- the leaves ----------------------------------------------------------------------------

    def _iterable(self, expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression:
        """What a map's iterable is, through names bound once (`rows = (... for ...)`)."""
        names = self._facts.names
        for _ in range(4):
            if type(expr) is not cst.Name:
                break
            found = names.lookup(expr.value, scope)
            if found is None or len(found[1]) != 1 or found[1][0].value is None:
                break
            scope, expr = found[0], found[1][0].value
        return expr

    def _match(
        self, expr: cst.BaseExpression, scope: Scope, top: cst.BaseExpression | None
    ) -> list[Found] | None:
        """The unpicklable object `expr` makes (a leaf), None to walk on into it. `top` is a
        map's iterable: a generator there is consumed in the parent, its items are sent."""
        facts = self._facts
        if expr is top:
            return None
        if type(expr) is cst.GeneratorExp:
            return [Found(object_apis.GENERATOR, expr, object_apis.GENERATOR.error)]
        if type(expr) is cst.Attribute:
            return self._attribute(expr, scope)
        if type(expr) is not cst.Call:
            return None
        func = expr.func
        qualname = facts.names.qualname(func, scope)
        if qualname is None and type(func) is cst.Name and facts.names.lookup(func.value, scope) is None:
            qualname = func.value  # a builtin: `open`
        row = object_apis.unpicklable(qualname)
        if row is not None:
            return [Found(row, expr, self._error(row, expr))]
        definition = facts.names.definition(func, scope)
        if type(definition) is cst.FunctionDef:
            info = facts.functions.get(definition)
            if info is not None and info.yields and definition.asynchronous is None and not definition.decorators:
                return [Found(object_apis.GENERATOR, expr, object_apis.GENERATOR.error)]
        return None

    def _attribute(self, expr: cst.Attribute, scope: Scope) -> list[Found]:
        """`self.lock` (or `obj.lock`, `obj` an instance of a class of the module): what every
        assignment of the attribute makes, when each makes an unpicklable object."""
        facts = self._facts
        cls = facts.names.class_of(expr.value, scope)
        if cls is None:
            return []
        found: list[Found] = []
        for value, where in facts.state.attribute_values(cls, expr.attr.value):
            made = facts.carried.collect(value, where, lambda e, s: self._match(e, s, None))
            if not made:
                return []  # some assignment holds something else (None, a picklable value)
            found.extend(made)
        return found

    def _error(self, row: Unpicklable, call: cst.Call) -> str:
        if row.mode is None:
            return row.error
        position, keyword, default = row.mode
        given = argument(call, position, keyword)
        if given is None:
            return object_apis.file_error(default)
        if type(given) is cst.SimpleString and isinstance(given.evaluated_value, str):
            return object_apis.file_error(given.evaluated_value)
        return object_apis.file_error(None)


def _calls_init(call: cst.Call) -> bool:
    return type(call.func) is cst.Attribute and call.func.attr.value == "__init__"


def _attributes(facts: ModuleFacts, cls: cst.ClassDef) -> list[str]:
    names: list[str] = []
    for attribute in facts.classes[cls].attributes:
        names.append(attribute)
    for base in _local_bases(facts, cls):
        names.extend(a for a in facts.classes[base].attributes if a not in names)
    return names


def _assigned(facts: ModuleFacts, cls: cst.ClassDef, attribute: str) -> list[tuple[cst.BaseExpression, Scope]]:
    values = list(facts.classes[cls].attributes.get(attribute, ()))
    for base in _local_bases(facts, cls):
        values.extend(facts.classes[base].attributes.get(attribute, ()))
    return values


def _local_bases(facts: ModuleFacts, cls: cst.ClassDef) -> list[cst.ClassDef]:
    found: list[cst.ClassDef] = []
    pending = [cls]
    while pending and len(found) < 8:
        current = pending.pop()
        info = facts.classes[current]
        for base in current.bases:
            local = facts.names.definition(base.value, info.outer)
            if type(local) is cst.ClassDef and local is not cls and local not in found:
                found.append(local)
                pending.append(local)
    return found
