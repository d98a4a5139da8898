"""Whether a value sent through a queue or a pipe is known to be small.

A pipe holds a limited buffer (64 KiB by default on Linux): a child blocks on what it sends until
the parent reads it. A value is *small* when its size is bounded by the code itself, whatever the
input: a literal or a marker (`None`, a number, a literal string, a flag such as `a != b`), a
number (`len(rows)`, `os.getpid()`, `time.time()`, arithmetic on numbers, a `range()` loop
variable), what a function of the module returns when every `return` is small, a name every
binding of which is small (a parameter: every argument its callers and its process's `args=` pass),
and tuples, lists and f-strings made of small values. Anything else may be as big as its input:
text (`traceback.format_exc()`, captured output), a result, a value whose origin is out of sight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Literal

import libcst as cst

from mplint.facts.resolve import MAX_DEPTH, SKIP

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Binding, FunctionInfo, Scope

#: what a small value is: a number (arithmetic keeps it one), or some other small value
Size = Literal["number", "small"]

#: calls whose result is a number, whatever their arguments
NUMBER_RESULTS = frozenset(
    {
        "len", "int", "float", "bool", "hash", "id", "abs", "round", "ord", "isinstance",
        "issubclass", "callable", "hasattr",
        "os.getpid", "os.getppid", "os.cpu_count", "os.getuid", "os.getgid",
        "time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns", "time.perf_counter",
        "time.perf_counter_ns", "time.process_time", "threading.get_ident",
        "threading.get_native_id", "threading.active_count", "random.random", "random.randint",
        "math.floor", "math.ceil", "math.sqrt", "math.log", "math.isclose",
    }
)
#: calls whose result is a short string or a small object, whatever their arguments
SMALL_RESULTS = frozenset(
    {
        "socket.gethostname", "platform.node", "platform.system", "platform.python_version",
        "uuid.uuid1", "uuid.uuid4", "datetime.datetime.now", "datetime.datetime.utcnow",
        "datetime.date.today", "multiprocessing.current_process", "threading.current_thread",
    }
)
#: builtins that turn a small value into a short string
_SHOWN = frozenset({"str", "repr", "hex", "oct", "bin", "chr", "format"})


class Payloads:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._returns: dict[cst.FunctionDef, Size | None] = {}

    def small(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """`expr` is known to be small (see the module's docstring)."""
        return self.size(expr, scope) is not None

    def size(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Size | None:
        """"number" or "small" when the value's size is bounded by the code; None: it may be big."""
        if _depth > MAX_DEPTH:
            return None
        depth = _depth + 1
        if type(expr) in (cst.Integer, cst.Float, cst.Imaginary):
            return "number"
        if type(expr) in (cst.SimpleString, cst.ConcatenatedString):
            return "small"
        if type(expr) is cst.Comparison:
            return "number"  # a bool, however big the operands
        if type(expr) is cst.UnaryOperation:
            if type(expr.operator) is cst.Not:
                return "number"
            return "number" if self.size(expr.expression, scope, depth) == "number" else None
        if type(expr) is cst.BinaryOperation:
            left = self.size(expr.left, scope, depth)
            right = self.size(expr.right, scope, depth)
            if left == right == "number":
                return "number"
            if type(expr.operator) in (cst.Add, cst.Modulo) and left and right:
                return "small"  # two short strings joined, a literal format of small values
            return None  # `text * n`: as long as n says
        if type(expr) in (cst.Tuple, cst.List, cst.Set):
            elements = expr.elements
            if all(type(e) is not cst.StarredElement and self.size(e.value, scope, depth) for e in elements):
                return "small"
            return None
        if type(expr) is cst.FormattedString:
            parts = [p.expression for p in expr.parts if type(p) is cst.FormattedStringExpression]
            return "small" if all(self.size(p, scope, depth) for p in parts) else None
        if type(expr) is cst.Name:
            return self._name(expr, scope, depth)
        if type(expr) is cst.Attribute:
            # `current_process().name`, `current_process().pid`
            if type(expr.value) is cst.Call and self._call(expr.value, scope, depth) == "small":
                return "small"
            return None
        if type(expr) is cst.Call:
            return self._call(expr, scope, depth)
        return None

    def _call(self, call: cst.Call, scope: Scope, depth: int) -> Size | None:
        facts = self._facts
        qualname = facts.names.qualname(call.func, scope)
        if qualname is None and type(call.func) is cst.Name and facts.names.lookup(call.func.value, scope) is None:
            qualname = call.func.value  # a builtin
        if qualname in NUMBER_RESULTS:
            return "number"
        if qualname in SMALL_RESULTS:
            return "small"
        if qualname in _SHOWN:
            args = [a.value for a in call.args]
            return "small" if all(self.size(a, scope, depth) for a in args) else None
        definition = facts.names.definition(call.func, scope)
        function = facts.functions.get(definition) if type(definition) is cst.FunctionDef else None
        return self._returned(function, depth) if function is not None else None

    def _returned(self, function: FunctionInfo, depth: int) -> Size | None:
        """What every `return` of a function of the module gives, when all are small."""
        node = function.node
        if node in self._returns:
            return self._returns[node]
        self._returns[node] = None  # recursion: unknown
        answer: Size | None = None
        if function.returns and not function.yields and node.asynchronous is None:
            sizes = [
                "small" if r.value is None else self.size(r.value, function.scope, depth)
                for r in function.returns
            ]
            if all(sizes):
                answer = "number" if all(s == "number" for s in sizes) else "small"
        self._returns[node] = answer
        return answer

    def _name(self, name: cst.Name, scope: Scope, depth: int) -> Size | None:
        if name.value in ("None", "True", "False") and self._facts.names.lookup(name.value, scope) is None:
            return "small" if name.value == "None" else "number"
        found = self._facts.names.lookup(name.value, scope)
        if found is None:
            return None
        where, bindings = found
        return _joined(self._binding(b, where, depth) for b in bindings)

    def _binding(self, binding: Binding, where: Scope, depth: int) -> Size | None:
        node = binding.node
        if binding.augmented:
            return SKIP  # `n += 1` keeps what the other bindings make it
        if type(node) is cst.Param:
            return self._parameter(binding.name, where, depth)
        if type(binding.value) in (cst.List, cst.Set):
            return None  # a container that a name holds may grow after it is made
        if binding.value is not None:
            return self.size(binding.value, where, depth)
        loop = binding.iter
        if type(loop) is cst.Call and type(loop.func) is cst.Name and loop.func.value == "range":
            if self._facts.names.lookup("range", where) is None:
                return "number"  # `for i in range(n)`
        return None

    def _parameter(self, name: str, where: Scope, depth: int) -> Size | None:
        """A parameter is small when every argument given to it is: by the module's calls of its
        function and by the processes it is the target of. Unknown without a known caller."""
        facts = self._facts
        function = facts.functions.get(where.node) if type(where.node) is cst.FunctionDef else None  # type: ignore[call-overload]
        if function is None:
            return None
        given: list[tuple[cst.BaseExpression, Scope]] = []
        for site, passed in facts.arguments.callers(function):
            if name not in passed:
                return None
            given.append((passed[name], site.scope))
        for dispatch in facts.workers.dispatches_of(function):
            if dispatch.worker is not function or dispatch.scope is None:
                continue
            passed = dispatch.arguments()
            if name not in passed:
                return None
            given.append((passed[name], dispatch.scope))
        if not given:
            return None
        return _joined(self.size(value, scope, depth) for value, scope in given)


def _joined(sizes: Iterable[Size | None]) -> Size | None:
    """"number" when every size is one, "small" when every one is small, else None (SKIP passed over)."""
    found = [s for s in sizes if s is not SKIP]
    if not found or not all(found):
        return None
    return "number" if all(s == "number" for s in found) else "small"
