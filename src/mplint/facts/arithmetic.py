"""Which loop of a function computes: a `for`, `while` or comprehension of its own body that
does arithmetic and waits on nothing (workload.py counts it as CPU work). A query of what the one
walk recorded: each function's binary operations and augmented assignments
(`FunctionInfo.operations`), its calls, and every node's parent (`ModuleFacts.up`).

An operation belongs to its innermost loop; a loop's iterable (of a `for`, of a comprehension's
first `for`) is evaluated once, before the loop. Counters and totals (`n += 1`, `total +=
row.size`, `stats["pages"] += 1`), offsets by a constant (`i - 1`), building strings and the
arguments of a blocking call (`time.sleep(2 ** attempt)` computes a delay) are bookkeeping;
`counts[ord(c) - 97] += 1` computes. A loop waits when a call in it (its iterable aside) blocks,
or calls a function of the module that reaches a blocking call. When several loops compute, the
answer is the one that ends first, reading each loop's iterable before the rest of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import libcst as cst

from mplint.facts.uses import path_to
from mplint.facts.walk import children

if TYPE_CHECKING:
    from mplint.facts.scopes import CallSite, FunctionInfo
    from mplint.facts.workload import Workloads

_ARITHMETIC = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power,
    cst.MatrixMultiply, cst.LeftShift, cst.RightShift, cst.BitAnd, cst.BitOr, cst.BitXor,
)
_AUGMENTED_ARITHMETIC = (
    cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign,
    cst.FloorDivideAssign, cst.ModuloAssign, cst.PowerAssign, cst.MatrixMultiplyAssign,
    cst.LeftShiftAssign, cst.RightShiftAssign, cst.BitAndAssign, cst.BitOrAssign,
    cst.BitXorAssign,
)
_COUNTING = (cst.Add, cst.Subtract, cst.AddAssign, cst.SubtractAssign)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_OTHER_CODE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def computing_loop(workloads: Workloads, function: FunctionInfo) -> cst.CSTNode | None:
    """The loop of the function's own body that does arithmetic and waits on nothing."""
    facts = workloads._facts
    up = facts.up
    sites: dict[cst.Call, CallSite] = {}

    def blocks(call: cst.Call) -> bool:
        if not sites:  # made when a loop's arithmetic is met (most functions have none)
            sites.update((site.node, site) for site in function.calls)
        site = sites.get(call)
        return site is not None and workloads.call_kind(site)[0] == "blocking"

    computing: dict[cst.CSTNode, None] = {}
    for node in function.operations:
        if not _computes(node):
            continue
        around = _around(node, function.node, up)
        if around is None or not around[0]:
            continue
        loops, calls = around
        if type(node) is cst.BinaryOperation and any(blocks(call) for call in calls):
            continue
        computing[loops[0]] = None
    if not computing:
        return None
    waiting: set[cst.CSTNode] = set()
    for site in function.calls:
        around = _around(site.node, function.node, up)
        if around is None or not any(loop in computing for loop in around[0]):
            continue
        kind, _ = workloads.call_kind(site)
        waits = kind == "blocking"
        if kind == "local":
            callee = facts.callgraph.callee(site)
            waits = callee is not None and workloads.reaches_blocking(callee)
        if waits:
            waiting.update(around[0])
    found: list[cst.CSTNode] | None = None
    for loop in computing:
        if loop in waiting:
            continue
        path = path_to(loop, function.node.body, up)
        if found is None or _ends_first(path, found):
            found = path
    return found[-1] if found is not None else None


def _computes(node: cst.CSTNode) -> bool:
    """An operation that computes, not one that counts or builds a string."""
    if type(node) is cst.BinaryOperation:
        if not isinstance(node.operator, _ARITHMETIC):
            return False
        if type(node.operator) in (cst.Add, cst.Modulo) and (
            type(node.left) in _STRINGS or type(node.right) in _STRINGS
        ):
            return False  # building a string
        # `i + 1`, `len(x) - 1`: counting
        return not (isinstance(node.operator, _COUNTING) and (_is_int(node.left) or _is_int(node.right)))
    assert type(node) is cst.AugAssign
    if not isinstance(node.operator, _AUGMENTED_ARITHMETIC) or type(node.value) in _STRINGS:
        return False
    # `n += 1`, `total += row.size`, `stats["pages"] += 1`: counters and totals
    return not (isinstance(node.operator, _COUNTING) and _is_total(node.target))


def _around(
    node: cst.CSTNode, function: cst.FunctionDef, up: dict[cst.CSTNode, cst.CSTNode]
) -> tuple[list[cst.CSTNode], list[cst.Call]] | None:
    """The loops that repeat `node` (innermost first) and the calls whose arguments (or callee)
    hold it, up to the function's body; None when `node` is another function's, a class body's
    or a lambda's code."""
    loops: list[cst.CSTNode] = []
    calls: list[cst.Call] = []
    grand: cst.CSTNode | None = None
    child, parent = node, up.get(node)
    while parent is not None:
        if type(parent) in _OTHER_CODE:
            return (loops, calls) if parent is function else None
        if type(parent) is cst.Call:
            calls.append(parent)
        elif type(parent) is cst.For:
            if child is not parent.iter:
                loops.append(parent)
        elif type(parent) is cst.While:
            loops.append(parent)
        elif type(parent) in _COMPREHENSIONS:
            if not (child is parent.for_in and grand is parent.for_in.iter):
                loops.append(parent)
        grand, child, parent = child, parent, up.get(parent)
    return None


def _ends_first(path: Sequence[cst.CSTNode], other: Sequence[cst.CSTNode]) -> bool:
    """The node at the end of `path` is left before the one at the end of `other` (a loop's
    iterable read first): a node inside the other first, else by the first place they part."""
    k = 0
    while k < len(path) and k < len(other) and path[k] is other[k]:
        k += 1
    if k == len(path):
        return False  # `path` ends at an ancestor of the other
    if k == len(other):
        return True
    parent, grand = path[k - 1], path[k - 2] if k >= 2 else None
    return _rank(parent, path[k], grand) < _rank(parent, other[k], grand)


def _rank(parent: cst.CSTNode, child: cst.CSTNode, grand: cst.CSTNode | None) -> int:
    """Where `child` comes among `parent`'s children when loops are read iterable first."""
    if type(parent) is cst.For:
        return _index((parent.iter, parent.target, parent.body, parent.orelse), child)
    if type(parent) in _COMPREHENSIONS:
        return 0 if child is parent.for_in else 1 + _index(children(parent), child)
    if type(parent) is cst.CompFor and child is parent.iter:
        if type(grand) in _COMPREHENSIONS and grand.for_in is parent:
            return -1  # a comprehension's first iterable: read before the loop starts
    return _index(children(parent), child)


def _index(nodes: Sequence[cst.CSTNode | None], node: cst.CSTNode) -> int:
    return next(i for i, n in enumerate(nodes) if n is node)


def _is_int(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Integer


def _is_total(target: cst.BaseExpression) -> bool:
    """A name, an attribute or an entry under a constant key: where a counter or total is kept."""
    if type(target) is cst.Subscript:
        return all(
            type(e.slice) is cst.Index and type(e.slice.value) in (cst.SimpleString, cst.Integer, cst.Name)
            for e in target.slice
        ) and _is_total(target.value)
    if type(target) is cst.Attribute:
        return _is_total(target.value)
    return type(target) is cst.Name
