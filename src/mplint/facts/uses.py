"""What one use of a name does to the object it holds, read from the syntax around it: the
classifier under the flow fact (flow.py).

The reader looks at `stack`, the nodes from the module down to the name (or the creation) being
read, and answers with a `Seen`: a method called on the object, a `with` that manages it, a
store into a local collection, a daemon flag, a polling loop, a plain read that keeps nothing, or
an escape (anything it cannot follow: returned, passed on, stored on an attribute).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import libcst as cst

from mplint import apis
from mplint.facts.syntax import EXHAUSTING_BUILTINS, ITERATING_BUILTINS, getattr_method

if TYPE_CHECKING:
    from mplint.facts.names import Names
    from mplint.facts.scopes import Scope

LIFECYCLE_METHODS = apis.LIFECYCLE_METHODS
#: the methods of a pool's `AsyncResult` that wait for its outcome or look at it
RESULT_WAITS = frozenset({"get", "wait", "ready", "successful"})
#: bound methods that whoever is handed one may call to end the object or wait for it
_HANDED_ON = LIFECYCLE_METHODS | RESULT_WAITS
#: builtins that look at an object without keeping it
_INSPECTING_BUILTINS = frozenset(
    {"print", "len", "repr", "str", "id", "isinstance", "type", "bool", "hash", "format", "callable"}
)
#: unittest assertions (`self.assertTrue(proc)`): they look at an object without keeping it
_ASSERTIONS = frozenset(
    {
        "assertTrue", "assertFalse", "assertIsNone", "assertIsNotNone", "assertIsInstance",
        "assertNotIsInstance", "assertEqual", "assertNotEqual", "assertIs", "assertIsNot",
        "assertIn", "assertNotIn",
    }
)
#: builtins whose result iterates the same elements (`for p in reversed(procs)`)
_SAME_ELEMENTS = frozenset({"list", "tuple", "set", "sorted", "reversed", "iter"})
#: callers that run a `map()` iterator to its end, so the mapped join runs for every element
#: (`any` too: join() returns None, which `any` passes over; `all` stops at the first None)
_CONSUMERS = EXHAUSTING_BUILTINS | {"any"}
_STORE_METHODS = frozenset({"append", "add", "insert", "appendleft"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp)


class Use(enum.Enum):
    """What happens to an object where it is used."""

    CALL = "call"  # a method is called on it (`Event.method` names it)
    WITH = "with"  # a context manager takes care of it (`with`, `closing()`, `enter_context()`)
    ESCAPE = "escape"  # someone else may handle it from here
    STORE = "store"  # put into a local collection (`Event.into`)
    DAEMON = "daemon"  # its daemon flag set to something other than False
    POLL = "poll"  # `is_alive()`/`exitcode` as a `while` condition: the polling reaps it
    ITERATE = "iterate"  # a `for` walks it (`for p in procs`, `enumerate(procs)`): its loop
    #: variable stands for the elements
    CONSUME = "consume"  # run through by a builtin or `yield from` (`list(it)`, `next(it)`)
    LENT = "lent"  # handed to a helper of the module that only uses it (handed.py): a look
    READ = "read"  # looked at without being kept: no event


#: how a new object is used where it is made (see `lifecycles.Lifecycle.how`)
How = Literal["with", "name", "element", "unbound", "discarded", "escape", "unknown"]


class Seen(NamedTuple):
    use: Use
    where: cst.CSTNode
    #: for a store: the name of the collection stored into
    into: cst.Name | None = None
    #: the method called, for `Use.CALL`
    method: str | None = None
    #: it happens to every element of a collection (`procs[i].join()`, `map(Process.join, procs)`)
    each: bool = False


def path_to(node: cst.CSTNode, top: cst.CSTNode, up: dict[cst.CSTNode, cst.CSTNode]) -> list[cst.CSTNode]:
    """The nodes from `top` down to `node` (both included), as the one walk reached them
    (`ModuleFacts.up`): the `stack` a walk from `top` would hold at `node`."""
    path = [node]
    while node is not top:
        node = up[node]
        path.append(node)
    path.reverse()
    return path


def _is_false(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Name and expr.value in ("False", "None")


def _daemon_keyword(call: cst.Call) -> bool:
    return any(
        arg.keyword is not None and arg.keyword.value == "daemon" and not _is_false(arg.value)
        for arg in call.args
    )


def _unwrap_binding_position(stack: list[cst.CSTNode], i: int) -> tuple[cst.CSTNode, cst.CSTNode]:
    """Climb from stack[i] through tuple/list/starred targets: (the outermost one, its parent)."""
    while i > 0 and type(stack[i - 1]) in (cst.Element, cst.StarredElement, cst.Tuple, cst.List):
        i -= 1
    return stack[i], stack[i - 1] if i > 0 else stack[i]


class UseReader:
    """The syntax classifier. It reads no tree itself: the flow walk (flow.Flow) keeps `stack`
    as it goes; a query of one name sets `stack` to the path the one walk recorded down to it
    (`path_to`)."""

    stack: list[cst.CSTNode]
    names: Names
    #: what helpers of the module do with what they are given: an object whose
    #: `passed(call, value)` answers as `handed.Handed.passed` does, when known
    helpers: Any = None

    def _creation_context(self, i: int) -> tuple[How, cst.CSTNode | None]:
        """How the expression stack[i], which makes a new object, is used."""
        expr, parent = self.stack[i], self.stack[i - 1]
        if type(parent) is cst.IfExp and parent.test is not expr:
            return self._creation_context(i - 1)  # either branch flows to the same place
        if type(parent) is cst.Attribute and parent.value is expr:
            return "unbound", None
        if type(parent) is cst.Expr:
            return "discarded", None
        if type(parent) is cst.Assign and parent.value is expr:
            if len(parent.targets) == 1 and type(parent.targets[0].target) is cst.Name:
                return "name", parent.targets[0].target
            return "escape", None
        if type(parent) in (cst.AnnAssign, cst.NamedExpr) and parent.value is expr:
            target = parent.target
            return ("name", target) if type(target) is cst.Name else ("escape", None)
        if type(parent) is cst.WithItem and parent.item is expr:
            bound = parent.asname.name if parent.asname is not None else None
            return "with", bound if type(bound) is cst.Name else None
        if type(parent) is cst.Arg and parent.value is expr:
            seen = self._passed(i - 2)
            if seen.use is Use.WITH:
                return "with", None
            if seen.use is Use.STORE and seen.into is not None:
                return "element", seen.into
            return "escape", None
        literal = None
        if type(parent) is cst.Element and i >= 2:
            literal = i - 2
        elif type(parent) in _COMPREHENSIONS and parent.elt is expr:
            literal = i - 1
        if literal is not None:
            into = self._collection_target(literal)
            return ("element", into) if into is not None else ("escape", None)
        if type(parent) in (cst.Return, cst.Yield, cst.Lambda, cst.Await):
            return "escape", None
        return "unknown", None

    def _collection_target(self, j: int) -> cst.Name | None:
        """The local name a list/tuple/set literal or comprehension at stack[j] fills, if any."""
        literal, parent = self.stack[j], self.stack[j - 1]
        if type(parent) is cst.Assign and parent.value is literal:
            if len(parent.targets) == 1 and type(parent.targets[0].target) is cst.Name:
                return parent.targets[0].target
        elif type(parent) in (cst.AnnAssign, cst.AugAssign) and parent.value is literal:
            return parent.target if type(parent.target) is cst.Name else None
        elif type(parent) is cst.Arg and parent.value is literal:
            call = self.stack[j - 2]
            if (
                type(call) is cst.Call
                and type(call.func) is cst.Attribute
                and call.func.attr.value == "extend"
                and type(call.func.value) is cst.Name
            ):
                return call.func.value
        return None

    def _is_use(self, i: int) -> bool:
        """stack[i] (a Name) is read as a value: not a label, not a target being bound."""
        node, parent = self.stack[i], self.stack[i - 1]
        if type(parent) in (cst.Attribute, cst.Arg):
            return parent.value is node  # not `x.name`, not `f(name=...)`
        if type(parent) in (cst.FunctionDef, cst.ClassDef, cst.Param):
            return parent.name is not node
        if type(parent) is cst.AugAssign:
            return parent.target is not node
        if type(parent) in (cst.ImportAlias, cst.NameItem, cst.AsName, cst.Del):
            return False
        outer, holder = _unwrap_binding_position(self.stack, i)
        if type(holder) in (cst.AssignTarget, cst.AsName):
            return False
        if type(holder) in (cst.For, cst.CompFor) and holder.target is outer:
            return False
        if type(holder) is cst.NamedExpr and holder.target is outer:
            return False
        if type(holder) is cst.AnnAssign and holder.target is outer:
            return holder.value is None  # `pool: Pool = Pool(4)` binds; a bare `pool: Pool` reads nothing (see _use)
        return True

    def _builtin(self, func: cst.BaseExpression) -> str | None:
        """The builtin `func` names, unless the module rebinds that name."""
        if type(func) is not cst.Name:
            return None
        scope = self.names.scope_of(func)
        if scope is not None and self.names.lookup(func.value, scope) is not None:
            return None
        return func.value

    # --- what a use does ----------------------------------------------------------------------

    def _use(self, i: int) -> Seen:
        """What the expression stack[i] (an object, or a collection of them) undergoes where it is
        used: (verb, where, collection stored into)."""
        expr, parent = self.stack[i], self.stack[i - 1]
        grand = self.stack[i - 2] if i >= 2 else parent
        if type(parent) is cst.Attribute and parent.value is expr:
            attr = parent.attr.value
            if type(grand) is cst.Call and grand.func is parent:
                if attr == "is_alive" and self._in_while_test(i - 2):
                    return Seen(Use.POLL, grand)
                return Seen(Use.CALL, grand, method=attr)
            if type(grand) is cst.AssignTarget and grand.target is parent and i >= 3:
                assign = self.stack[i - 3]
                if attr == "daemon" and type(assign) is cst.Assign and not _is_false(assign.value):
                    return Seen(Use.DAEMON, assign)
                return Seen(Use.READ, parent)
            if attr == "exitcode" and self._in_while_test(i - 1):
                return Seen(Use.POLL, parent)
            if attr in _HANDED_ON:
                return Seen(Use.ESCAPE, parent)  # a bound method handed on: whoever holds it may call it
            return Seen(Use.READ, parent)
        if type(parent) is cst.Subscript and parent.value is expr:
            seen = self._use(i - 1)
            if seen.use in (Use.READ, Use.ESCAPE, Use.ITERATE, Use.CONSUME, Use.LENT) or seen.each:
                return seen
            return seen._replace(each=True)  # done to an element: `procs[i].join()`
        if type(parent) is cst.Arg and parent.value is expr:
            return self._passed(i - 2)
        if type(parent) in (cst.Element, cst.StarredElement) and i >= 2:
            literal = self.stack[i - 2]
            loop = self.stack[i - 3] if i >= 3 else None
            if type(loop) in (cst.For, cst.CompFor) and loop.iter is literal:
                return Seen(Use.READ, literal)  # the loop variable stands for it: see _loop_alias
            into = self._collection_target(i - 2)
            return (Seen(Use.STORE, literal, into)) if into is not None else (Seen(Use.ESCAPE, literal))
        if type(parent) is cst.WithItem and parent.item is expr:
            return Seen(Use.WITH, parent)
        if type(parent) in (cst.For, cst.CompFor) and parent.iter is expr:
            return Seen(Use.ITERATE, parent)
        if type(parent) is cst.From:  # `yield from it`
            return Seen(Use.CONSUME, parent)
        if type(parent) is cst.AssignTarget and type(expr) is cst.Subscript:
            return Seen(Use.READ, parent)  # procs[i] = ...: a store into the collection
        if type(parent) in (cst.Comparison, cst.ComparisonTarget, cst.Expr, cst.FormattedStringExpression, cst.Del,
             cst.CompIf, cst.If, cst.While, cst.Assert):
            return Seen(Use.READ, parent)
        if type(parent) is cst.UnaryOperation and type(parent.operator) is cst.Not:
            return Seen(Use.READ, parent)
        if type(parent) is cst.IfExp and parent.test is expr:
            return Seen(Use.READ, parent)
        if type(parent) is cst.BooleanOperation:
            j = i - 1
            while j > 0 and type(self.stack[j - 1]) is cst.BooleanOperation:
                j -= 1
            top = self.stack[j - 1]
            if type(top) in (cst.If, cst.While, cst.Assert, cst.CompIf, cst.Expr) or (
                type(top) is cst.UnaryOperation and type(top.operator) is cst.Not
            ):
                return Seen(Use.READ, parent)
        if type(parent) is cst.AugAssign and parent.target is expr:
            return Seen(Use.READ, parent)
        if type(parent) is cst.AnnAssign and parent.target is expr:
            return Seen(Use.READ, parent)  # a bare annotation `pool: Pool` declares, binds nothing
        return Seen(Use.ESCAPE, parent)

    def _passed(self, j: int) -> Seen:
        """What the call at stack[j] does with an object passed to it (stack[j + 2]): read from
        the syntax, unless the callee is a helper of the module that only uses it."""
        seen = self._passed_by_syntax(j)
        if seen.use is Use.ESCAPE and j + 2 < len(self.stack):
            return self._handed_on(j, self.stack[j + 2]) or seen  # type: ignore[arg-type]
        return seen

    def _handed_on(self, j: int, value: cst.BaseExpression) -> Seen | None:
        """What a helper of the module called at stack[j] does with `value`, when it only uses it."""
        call = self.stack[j]
        if self.helpers is None or type(call) is not cst.Call:
            return None
        return self.helpers.passed(call, value)

    def _passed_by_syntax(self, j: int) -> Seen:
        call = self.stack[j]
        if type(call) is not cst.Call:
            return Seen(Use.ESCAPE, call)
        func = call.func
        scope = self.names.scope_of(func) if type(func) is cst.Name else None
        if type(func) is cst.Attribute:
            scope = self._scope_of_expr(func)
        qualname = self.names.qualname(func, scope) if scope is not None else None
        if qualname == "contextlib.closing":
            outer = self.stack[j - 1]
            if type(outer) is cst.WithItem and outer.item is call:
                return Seen(Use.WITH, outer)
            if type(outer) is cst.Arg and self._passed(j - 2).use is Use.WITH:
                return Seen(Use.WITH, call)
            return Seen(Use.ESCAPE, call)
        if type(func) is cst.Attribute:
            attr = func.attr.value
            if attr in ("enter_context", "push"):
                return Seen(Use.WITH, call)
            if attr in _STORE_METHODS and type(func.value) is cst.Name:
                return Seen(Use.STORE, call, func.value)
            if attr in _ASSERTIONS and type(func.value) is cst.Name and func.value.value == "self":
                return Seen(Use.READ, call)
            return Seen(Use.ESCAPE, call)
        builtin = self._builtin(func)
        if builtin in _INSPECTING_BUILTINS:
            return Seen(Use.READ, call)
        if builtin == "getattr":
            return self._got_attribute(j)
        if builtin == "map" and len(call.args) == 2 and call.args[1] is self.stack[j + 1]:
            method = _mapped_method(call.args[0].value)
            if method is not None:
                # map() is lazy: unless something runs through it, the method is never called
                return Seen(Use.CALL, call, method=method, each=True) if self._consumed(j) else Seen(Use.READ, call)
        if builtin in _SAME_ELEMENTS or builtin in ("enumerate", "zip"):
            outer = self.stack[j - 1]
            if type(outer) in (cst.For, cst.CompFor) and outer.iter is call:
                return Seen(Use.ITERATE, call)  # the loop variable stands for it
        if builtin in ITERATING_BUILTINS:
            return Seen(Use.CONSUME, call)
        return Seen(Use.ESCAPE, call)

    def _got_attribute(self, j: int) -> Seen:
        """`getattr(obj, "name")` at stack[j], as `obj.name` would be read; a name that is not a
        literal is a use nobody can tell (an escape)."""
        call = self.stack[j]
        assert type(call) is cst.Call
        found = getattr_method(call)
        if found is None or found[0] is not getattr(self.stack[j + 1], "value", None):
            return Seen(Use.ESCAPE, call)
        attr = found[1]
        outer = self.stack[j - 1]
        if type(outer) is cst.Call and outer.func is call:
            return Seen(Use.CALL, outer, method=attr)  # `getattr(pool, "map")(f, xs)`
        if attr in _HANDED_ON:
            return Seen(Use.ESCAPE, call)  # a bound method handed on
        return Seen(Use.READ, call)

    def _scope_of_expr(self, expr: cst.BaseExpression) -> Scope | None:
        while type(expr) is cst.Attribute:
            expr = expr.value
        return self.names.scope_of(expr) if type(expr) is cst.Name else None

    def _consumed(self, j: int) -> bool:
        """The iterator made by the call at stack[j] is run through (map() is lazy)."""
        call, outer = self.stack[j], self.stack[j - 1]
        if type(outer) in (cst.For, cst.CompFor) and outer.iter is call:
            return True
        if type(outer) is cst.Arg and j >= 2:
            consumer = self.stack[j - 2]
            return type(consumer) is cst.Call and self._builtin(consumer.func) in _CONSUMERS
        return False

    def _in_while_test(self, i: int) -> bool:
        """stack[i] is (part of) the condition of a while loop."""
        while i > 0:
            parent = self.stack[i - 1]
            if type(parent) is cst.While:
                return parent.test is self.stack[i]
            if type(parent) not in (cst.UnaryOperation, cst.BooleanOperation, cst.Comparison, cst.ComparisonTarget):
                return False
            i -= 1
        return False


def _mapped_method(func: cst.BaseExpression) -> str | None:
    """The method `map(func, objects)` calls on each object: `Process.join`, `lambda p: p.join()`."""
    if type(func) is cst.Attribute:
        return func.attr.value
    if type(func) is cst.Lambda and len(func.params.params) == 1:
        param = func.params.params[0].name.value
        body = func.body
        if (
            type(body) is cst.Call
            and type(body.func) is cst.Attribute
            and type(body.func.value) is cst.Name
            and body.func.value.value == param
        ):
            return body.func.attr.value
    return None
