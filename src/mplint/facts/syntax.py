"""Small readings of syntax that several facts and rules need: call arguments, decorators, the
blocks of a compound statement."""

from __future__ import annotations

from typing import Sequence

import libcst as cst


def positions_hidden(call: cst.Call, index: int) -> bool:
    """A `*args` at or before position `index` makes the positions after it unknowable."""
    positional = [a for a in call.args if a.keyword is None]
    return any(a.star for a in positional[: index + 1])


def argument(call: cst.Call, index: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The argument given by keyword, or at a position (counting positional arguments only);
    None when it is absent or hidden behind `*args`."""
    if keyword is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
    if index is not None and not positions_hidden(call, index):
        positional = [a for a in call.args if a.keyword is None]
        if index < len(positional):
            return positional[index].value
    return None


def tuple_elements(expr: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    """The elements of a tuple or list display (none when a `*x` makes them unknowable)."""
    if type(expr) in (cst.Tuple, cst.List):
        if any(type(e) is cst.StarredElement for e in expr.elements):
            return []
        return [e.value for e in expr.elements]
    return []


def dict_items(expr: cst.BaseExpression | None) -> dict[str, cst.BaseExpression]:
    """The string-keyed items of a `{...}` display or a `dict(k=v)` call."""
    items: dict[str, cst.BaseExpression] = {}
    if type(expr) is cst.Dict:
        for element in expr.elements:
            if type(element) is cst.DictElement and type(element.key) is cst.SimpleString:
                key = element.key.evaluated_value
                if isinstance(key, str):
                    items[key] = element.value
    elif type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "dict":
        for arg in expr.args:
            if arg.keyword is not None:
                items[arg.keyword.value] = arg.value
    return items


def getattr_method(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    """`getattr(obj, "map")` (with or without a default): the object and the attribute named by
    the literal; None for any other call, and for a name that is not a literal (the caller
    checks that `getattr` is the builtin)."""
    func = call.func
    if not (type(func) is cst.Name and func.value == "getattr") or not 2 <= len(call.args) <= 3:
        return None
    if any(a.keyword is not None or a.star for a in call.args):
        return None
    name = call.args[1].value
    if type(name) is not cst.SimpleString:
        return None
    value = name.evaluated_value
    return (call.args[0].value, value) if isinstance(value, str) and value.isidentifier() else None


def decorator_names(node: cst.FunctionDef) -> set[str]:
    return {d.decorator.value for d in node.decorators if type(d.decorator) is cst.Name}


#: builtins that run an iterator they are given to its end, whatever it yields
EXHAUSTING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max"})
#: builtins that take at least one item of an iterator they are given
ITERATING_BUILTINS = EXHAUSTING_BUILTINS | {"any", "all", "next", "zip", "enumerate"}


def blocks_of(statement: cst.CSTNode) -> list[tuple[cst.CSTNode, Sequence[cst.CSTNode]]]:
    """The blocks of a compound statement of this scope, each with its statements."""
    if type(statement) in (cst.FunctionDef, cst.ClassDef) or not isinstance(
        statement, cst.BaseCompoundStatement
    ):
        return []  # another scope, or a simple statement
    if type(statement) is cst.Match:
        return [(case.body, _block_statements(case.body)) for case in statement.cases]
    blocks: list[tuple[cst.CSTNode, Sequence[cst.CSTNode]]] = [(statement.body, _block_statements(statement.body))]
    if type(statement) in (cst.Try, cst.TryStar):
        blocks.extend((h, _block_statements(h.body)) for h in statement.handlers)
        if statement.finalbody is not None:
            blocks.append((statement.finalbody, _block_statements(statement.finalbody.body)))
    orelse = getattr(statement, "orelse", None)
    if type(orelse) is cst.If:
        blocks.append((orelse, [orelse]))  # elif
    elif type(orelse) is cst.Else:
        blocks.append((orelse, _block_statements(orelse.body)))
    return blocks


def _block_statements(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return block.body if type(block) is cst.IndentedBlock else []
