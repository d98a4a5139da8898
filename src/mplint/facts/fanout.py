"""Processes started one per item: how many items a loop goes over, and whether the processes it
starts are all alive at once.

The size of what a loop iterates is one of three answers (`Size`):

- *bounded* by the code: a literal tuple, list or set; `range(n)` where `n` is a constant, a
  CPU count (`os.cpu_count()`, `os.process_cpu_count()`, `multiprocessing.cpu_count()`,
  `len(os.sched_getaffinity(0))`), a `--workers`-like setting (a name such as `workers`,
  `n_procs`, `args.jobs`, `concurrency`), or `min()`/arithmetic of those;
- *unbounded*: its size comes from outside: standard input, the lines of a file, a directory
  listing (`os.listdir`, `glob.glob`, `Path.iterdir`/`glob`), query results (`fetchall()`), the
  parts of a string read at run time, `range(len(x))` of one of those, or a parameter of a
  function that no code of the module calls (a function for others to call) or that every
  caller of the module gives such a collection;
- *unknown* otherwise: an attribute, the result of a call of unknown kind, the command line
  (`sys.argv`: the person who runs the program chooses how many), a parameter some caller
  gives something else. Unknown stays silent.

A `Fanout` is a process created once per item of an unbounded collection, in a `for` loop or a
comprehension, and started with none of them waited for before the next starts: no `join()`
on it in the round that starts it, nothing that caps the live processes in that round (a
semaphore or lock, `len(active)` compared, an `is_alive()` poll, `os.wait()`,
`multiprocessing.connection.wait()`, a `join()` of another process, a `while` loop waiting). A
process handed elsewhere (an escape) is someone else's to judge.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from mplint import apis
from mplint.facts.flow import Event, Use
from mplint.facts.lifecycles import Lifecycle
from mplint.facts.scopes import _dotted

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope


class Size(enum.Enum):
    BOUNDED = "bounded"
    UNBOUNDED = "unbounded"
    UNKNOWN = "unknown"


#: calls whose result is a collection read at run time -> what it is, for the message
_UNBOUNDED_CALLS = {
    "os.listdir": "a directory listing",
    "os.scandir": "a directory listing",
    "os.walk": "a directory walk",
    "glob.glob": "a directory listing",
    "glob.iglob": "a directory listing",
    "fileinput.input": "the lines of the input",
    "csv.reader": "the rows of a file",
    "csv.DictReader": "the rows of a file",
    "json.load": "data read from a file",
    "json.loads": "data read at run time",
}
_UNBOUNDED_NAMES = {"sys.stdin": "standard input"}
#: methods whose result has as many items as the data read at run time
_UNBOUNDED_METHODS = {
    "readlines": "the lines of a file",
    "iterdir": "a directory listing",
    "glob": "a directory listing",
    "rglob": "a directory listing",
    "fetchall": "query results",
    "splitlines": "the lines of a text read at run time",
    "split": "the parts of a text read at run time",
}
#: builtins whose result has as many items as their (first) iterable
_SAME_SIZE = frozenset({"enumerate", "sorted", "list", "tuple", "set", "frozenset", "reversed", "iter"})
_SECOND_ARGUMENT = frozenset({"map", "filter"})
#: the last part of a name that holds a number of workers
_WORKERS_LIKE = re.compile(
    r"(^|_)(n_?)?(workers?|procs?|processes|jobs|cpus?|cores|concurrency|parallel(ism)?|nproc|"
    r"threads|pool_size|max_workers|num_workers|n_workers|size)$",
    re.IGNORECASE,
)
_CPU_COUNTS = ("cpu_count", "process_cpu_count")
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Judged:
    size: Size
    #: what the collection is, for a message: "the parameter `paths`", "a directory listing"
    what: str = ""


_UNKNOWN = Judged(Size.UNKNOWN)
_BOUNDED = Judged(Size.BOUNDED)


@dataclass(frozen=True, eq=False)
class Fanout:
    """A process created and started once per item of a collection the code does not bound."""

    life: Lifecycle
    #: the loop or comprehension that creates one per item
    loop: cst.CSTNode
    #: what it iterates, as written, and what that is
    iterable: cst.BaseExpression
    what: str


class Fanouts:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._caps: dict[cst.CSTNode, bool] = {}
        self.all: list[Fanout] = []
        for life in facts.lifecycles.all:
            if life.kind is apis.Kind.PROCESS:
                fanout = self._fanout(life)
                if fanout is not None:
                    self.all.append(fanout)

    def _fanout(self, life: Lifecycle) -> Fanout | None:
        if not life.loops or life.escapes:
            return None
        loop = life.loops[-1]
        iterable = _iterable(loop)
        if iterable is None:
            return None  # a while loop: how many rounds is unknown
        judged = self.size_of(iterable, life.site.scope)
        if judged.size is not Size.UNBOUNDED:
            return None
        events = life.events()
        starts = [e for e in events if e.calls("start")]
        if not starts or any(e.use is Use.POLL for e in events):
            return None
        joins = [e for e in events if e.calls("join")]
        if all(self._one_at_a_time(start, joins) for start in starts):
            return None
        return Fanout(life, loop, iterable, judged.what)

    def _one_at_a_time(self, start: Event, joins: list[Event]) -> bool:
        """The round that starts the process waits for it, or caps how many are alive."""
        if not start.loops:
            return True  # started once, not per item
        round_ = start.loops[-1]
        if any(join.order > start.order and round_ in join.loops for join in joins):
            return True
        return self.caps_live_processes(round_) or any(self.caps_live_processes(loop) for loop in start.loops)

    def caps_live_processes(self, loop: cst.CSTNode) -> bool:
        """The loop's body holds something that limits how many processes are alive at once."""
        if type(loop) not in (cst.For, cst.While):
            return False
        found = self._caps.get(loop)
        if found is None:
            found = self._caps[loop] = _caps(self._facts, loop)
        return found

    # --- sizes ---------------------------------------------------------------------------------

    def size_of(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Judged:
        """How many items iterating `expr` gives, as far as the code says."""
        facts = self._facts
        if depth > _MAX_DEPTH:
            return _UNKNOWN
        if type(expr) in (cst.Tuple, cst.List, cst.Set):
            if any(type(e) is cst.StarredElement for e in expr.elements):
                return _UNKNOWN
            return _BOUNDED
        if type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
            return self.size_of(expr.for_in.iter, scope, depth + 1)
        if type(expr) is cst.Subscript:
            if len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Slice:
                upper = expr.slice[0].slice.upper
                if upper is not None and self._count(upper, scope, depth + 1).size is Size.BOUNDED:
                    return _BOUNDED  # `paths[:4]`
                return self.size_of(expr.value, scope, depth + 1)
            return _UNKNOWN
        qualname = facts.names.qualname(expr, scope) if type(expr) in (cst.Name, cst.Attribute) else None
        if qualname in _UNBOUNDED_NAMES:
            return Judged(Size.UNBOUNDED, _UNBOUNDED_NAMES[qualname])
        if type(expr) is cst.Call:
            return self._size_of_call(expr, scope, depth)
        if type(expr) is cst.Name:
            return self._size_of_name(expr, scope, depth)
        return _UNKNOWN

    def _size_of_call(self, call: cst.Call, scope: Scope, depth: int) -> Judged:
        facts = self._facts
        func = call.func
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        qualname = facts.names.qualname(func, scope)
        if qualname in _UNBOUNDED_CALLS:
            return Judged(Size.UNBOUNDED, f"{_UNBOUNDED_CALLS[qualname]} (`{facts.call_text(call)}`)")
        if type(func) is cst.Name and facts.names.lookup(func.value, scope) is None:  # a builtin
            name = func.value
            if name == "range" and positional:
                stop = positional[1] if len(positional) > 1 else positional[0]
                return self._count(stop, scope, depth + 1)
            if name == "open":
                return Judged(Size.UNBOUNDED, f"the lines of a file (`{facts.call_text(call)}`)")
            if name in _SAME_SIZE and positional:
                return self.size_of(positional[0], scope, depth + 1)
            if name in _SECOND_ARGUMENT and len(positional) > 1:
                return self.size_of(positional[1], scope, depth + 1)
            if name == "zip" and positional:
                sizes = [self.size_of(p, scope, depth + 1) for p in positional]
                if any(s.size is Size.BOUNDED for s in sizes):
                    return _BOUNDED  # as long as the shortest
                if all(s.size is Size.UNBOUNDED for s in sizes):
                    return sizes[0]
            return _UNKNOWN
        if type(func) is cst.Attribute:
            method = func.attr.value
            if method in _UNBOUNDED_METHODS:
                if method in ("split", "splitlines") and type(func.value) is cst.SimpleString:
                    return _BOUNDED  # "a b c".split()
                return Judged(Size.UNBOUNDED, f"{_UNBOUNDED_METHODS[method]} (`.{method}()`)")
            if method in ("items", "keys", "values"):
                return self.size_of(func.value, scope, depth + 1)
        return _UNKNOWN

    def _size_of_name(self, name: cst.Name, scope: Scope, depth: int) -> Judged:
        found = self._facts.names.lookup(name.value, scope)
        if found is None:
            return _UNKNOWN
        where, bindings = found
        judged: list[Judged] = []
        for binding in bindings:
            if type(binding.node) is cst.Param:
                judged.append(self._size_of_parameter(name.value, where, depth))
            elif binding.value is not None:
                judged.append(self.size_of(binding.value, where, depth + 1))
            else:
                return _UNKNOWN
        sizes = {j.size for j in judged}
        return judged[0] if len(sizes) == 1 else _UNKNOWN

    def _size_of_parameter(self, name: str, where: Scope, depth: int) -> Judged:
        """A parameter is what every caller in the module passes; with no caller in the module
        (a function for others to call), its size is not the code's to bound."""
        facts = self._facts
        function = facts.functions.get(where.node) if type(where.node) is cst.FunctionDef else None
        if function is None:
            return _UNKNOWN  # a lambda's parameter
        callers = facts.arguments.callers(function)
        if not callers:
            return Judged(Size.UNBOUNDED, f"the parameter `{name}`")
        judged = [
            self.size_of(passed[name], site.scope, depth + 1) if name in passed else _UNKNOWN
            for site, passed in callers
        ]
        return judged[0] if all(j.size is Size.UNBOUNDED for j in judged) else _UNKNOWN

    def _count(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> Judged:
        """How big a number of items is: bounded (a constant, a CPU count, a workers setting),
        unbounded (`len()` of an unbounded collection) or unknown."""
        facts = self._facts
        if depth > _MAX_DEPTH:
            return _UNKNOWN
        if type(expr) is cst.Integer:
            return _BOUNDED
        if type(expr) is cst.BinaryOperation:
            sides = [self._count(expr.left, scope, depth + 1), self._count(expr.right, scope, depth + 1)]
            if all(s.size is Size.BOUNDED for s in sides):
                return _BOUNDED
            if any(s.size is Size.UNBOUNDED for s in sides) and type(expr.operator) in (cst.Add, cst.Multiply):
                return next(s for s in sides if s.size is Size.UNBOUNDED)
            return _UNKNOWN
        if type(expr) is cst.Call:
            qualname = facts.names.qualname(expr.func, scope) or ""
            if qualname.rsplit(".", 1)[-1] in _CPU_COUNTS:
                return _BOUNDED
            func = expr.func
            args = [a.value for a in expr.args if a.keyword is None and not a.star]
            if type(func) is cst.Name and facts.names.lookup(func.value, scope) is None:
                if func.value == "min" and any(self._count(a, scope, depth + 1).size is Size.BOUNDED for a in args):
                    return _BOUNDED
                if func.value == "len" and len(args) == 1:
                    inner = args[0]
                    if type(inner) is cst.Call and (facts.names.qualname(inner.func, scope) or "").endswith(
                        "sched_getaffinity"
                    ):
                        return _BOUNDED
                    of = self.size_of(inner, scope, depth + 1)
                    return of if of.size is Size.UNBOUNDED else _UNKNOWN
                if func.value == "int" and len(args) == 1:
                    return self._count(args[0], scope, depth + 1)
            return _UNKNOWN
        if type(expr) in (cst.Name, cst.Attribute):
            last = expr.value if type(expr) is cst.Name else expr.attr.value
            if _WORKERS_LIKE.search(last):
                return _BOUNDED  # a --workers-like setting
            if type(expr) is cst.Name:
                found = facts.names.lookup(expr.value, scope)
                if found is not None:
                    where, bindings = found
                    values = [b.value for b in bindings]
                    if values and all(v is not None for v in values):
                        counts = {self._count(v, where, depth + 1).size for v in values if v is not None}
                        if counts == {Size.BOUNDED}:
                            return _BOUNDED
        return _UNKNOWN


def _iterable(loop: cst.CSTNode) -> cst.BaseExpression | None:
    if type(loop) is cst.For:
        return loop.iter
    if type(loop) in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
        comp = loop.for_in
        while comp.inner_for_in is not None:
            comp = comp.inner_for_in
        return comp.iter
    return None


#: methods that wait for a process or hold back the next start
_CAPPING_METHODS = frozenset({"acquire", "wait", "is_alive", "active_children"})
#: methods that wait when called as a process's or queue's are (`p.join()`, `p.join(5)`,
#: `results.get()`), not as a string's or a dict's (`", ".join(parts)`, `os.path.join(a, b)`)
_WAITING_WITHOUT_ARGUMENTS = frozenset({"join", "get"})
_CAPPING_CALLS = ("os.wait", "os.waitpid", "multiprocessing.connection.wait", "multiprocessing.active_children")


def _caps(facts: ModuleFacts, loop: cst.For | cst.While) -> bool:
    """A `while` loop waiting, `with semaphore:`, a call that waits for a process or polls it,
    or `len(active)` compared, in the loop's own body."""
    loops = facts.loops
    if any(loops.in_body(inner, loop) for inner in loops.whiles):
        return True  # waiting for a slot
    for item, _, _ in facts.statements.with_items:
        if type(item.item) in (cst.Name, cst.Attribute) and loops.in_body(item, loop):
            return True  # `with semaphore:`
    for site in facts.calls:
        node = site.node
        if (_caps_call(node) or _compared_length(facts, node)) and loops.in_body(node, loop):
            return True
    return False


def _caps_call(node: cst.Call) -> bool:
    func = node.func
    if type(func) is not cst.Attribute:
        return False
    method = func.attr.value
    positional = [a.value for a in node.args if a.keyword is None]
    if method in _CAPPING_METHODS:
        return True
    if method in _WAITING_WITHOUT_ARGUMENTS and (
        not positional or (len(positional) == 1 and type(positional[0]) in (cst.Integer, cst.Float))
    ):
        return True
    return _dotted(func).endswith(_CAPPING_CALLS)


def _compared_length(facts: ModuleFacts, node: cst.Call) -> bool:
    """`len(x)` compared: `if len(active) >= limit:`."""
    if not (type(node.func) is cst.Name and node.func.value == "len"):
        return False
    parent = facts.up.get(node)
    return type(parent) is cst.ComparisonTarget or (
        type(parent) is cst.Comparison and parent.left is node
    )
