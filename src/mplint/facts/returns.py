"""What calling a function of the module gives, when that is provably not callable: read from
the `return` statements the one walk recorded for it (`FunctionInfo.returns`, `yields`).

A function returns nothing callable when every `return` of its own body gives a literal, a
display or comprehension, a comparison, arithmetic, `None`/`True`/`False` or the result of a
builtin that makes data (`len`, `sum`, ...), or when it has no `return` with a value at all. A
decorator other than `staticmethod`/`classmethod`, `async def`, a generator, and a stub body (a
subclass's version may return anything) leave it unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import FunctionInfo, Scope

#: decorators that leave what a call returns as the function body says
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
_ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
)
#: builtins whose result is never callable (when the module does not rebind the name)
_DATA_BUILTINS = frozenset(
    {
        "abs", "all", "any", "bool", "chr", "dict", "divmod", "float", "format", "frozenset",
        "hash", "int", "isinstance", "issubclass", "len", "list", "ord", "repr", "round", "set",
        "sorted", "str", "sum", "tuple",
    }
)
_LITERALS = (
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Tuple,
    cst.Set,
    cst.Dict,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.Comparison,
)


def returns_no_callable(facts: ModuleFacts, function: FunctionInfo) -> str | None:
    """What calling the function gives, when that is provably not callable: "None" or a
    description; None when it may be callable or cannot be told."""
    node = function.node
    if node.asynchronous is not None or not all(
        type(d.decorator) is cst.Name and d.decorator.value in _PLAIN_DECORATORS for d in node.decorators
    ):
        return None
    body = node.body
    if type(body) is not cst.IndentedBlock or _is_stub(body):
        return None  # an abstract method or a placeholder: a subclass's version may return anything
    if function.yields:
        return None  # a generator
    values = [r.value for r in function.returns if r.value is not None]
    if not values:
        return "None"
    if all(_not_callable(facts, v, function.scope) for v in values):
        return "a value, not a function"
    return None


def _is_stub(body: cst.IndentedBlock) -> bool:
    """Only a docstring, `pass`, `...` or `raise`: nothing that returns normally."""
    for statement in body.body:
        if type(statement) is not cst.SimpleStatementLine:
            return False
        for small in statement.body:
            if type(small) in (cst.Pass, cst.Raise):
                continue
            if type(small) is cst.Expr and type(small.value) in (cst.Ellipsis, cst.SimpleString):
                continue
            return False
    return True


def _not_callable(facts: ModuleFacts, value: cst.BaseExpression, scope: Scope) -> bool:
    if type(value) in _LITERALS:
        return True
    if type(value) is cst.Name:
        return value.value in ("None", "True", "False")
    if type(value) is cst.Call and type(value.func) is cst.Name:
        # `len(x)`, `sum(...)`: a builtin, as long as no binding of the module shadows it
        name = value.func.value
        return name in _DATA_BUILTINS and facts.names.lookup(name, scope) is None
    if type(value) is cst.BinaryOperation:
        return isinstance(value.operator, _ARITHMETIC)
    if type(value) is cst.UnaryOperation:
        return True
    if type(value) is cst.BooleanOperation:
        return _not_callable(facts, value.left, scope) and _not_callable(facts, value.right, scope)
    if type(value) is cst.IfExp:
        return _not_callable(facts, value.body, scope) and _not_callable(facts, value.orelse, scope)
    return False

