"""Recognising the blocks that do not run when a child process imports the module."""

from __future__ import annotations

import libcst as cst


def _is_dunder_name(node: cst.BaseExpression) -> bool:
    return type(node) is cst.Name and node.value == "__name__"


def _is_main_string(node: cst.BaseExpression) -> bool:
    return type(node) is cst.SimpleString and node.evaluated_value == "__main__"


def _compares_name_to_main(test: cst.BaseExpression, operator: type) -> bool:
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, operator):
        return False
    left, right = test.left, target.comparator
    return (_is_dunder_name(left) and _is_main_string(right)) or (
        _is_main_string(left) and _is_dunder_name(right)
    )


def is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"`, either way round, possibly one operand of an `and`."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return is_main_guard(test.left) or is_main_guard(test.right)
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return _is_not_main(test.expression)
    return _compares_name_to_main(test, cst.Equal)


def _is_not_main(test: cst.BaseExpression) -> bool:
    # the body of `if not X` runs when X is false: for X an `or`, only when every operand is false
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or:
        return _is_not_main(test.left) or _is_not_main(test.right)
    return _compares_name_to_main(test, cst.NotEqual)


def is_not_main_guard(test: cst.BaseExpression) -> bool:
    """A test whose `else` runs only in the main script: `__name__ != "__main__"` (or an `or` of it)."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or:
        return is_not_main_guard(test.left) or is_not_main_guard(test.right)
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return is_main_guard(test.expression)
    return _compares_name_to_main(test, cst.NotEqual)


def is_type_checking(test: cst.BaseExpression) -> bool:
    if type(test) is cst.Name:
        return test.value == "TYPE_CHECKING"
    return type(test) is cst.Attribute and test.attr.value == "TYPE_CHECKING"
