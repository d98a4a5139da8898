"""Which code is test code: a `def test_...` function (or code nested in one), or a method of a
`unittest.TestCase` subclass. Tests start processes and threads to exercise them, not for speed
or as a program's design, so rules about those choices stay silent there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope

_MAX_DEPTH = 12


def in_test(facts: ModuleFacts, scope: Scope) -> bool:
    """Code of `scope` runs in a test function or a test case's method."""
    for function in scope.functions():
        if type(function.node) is cst.FunctionDef:
            if function.node.name.value.startswith("test"):
                return True
            info = facts.functions.get(function.node)
            if info is not None and info.cls is not None and is_test_case(facts, info.cls):
                return True
    return False


def is_test_case(facts: ModuleFacts, cls: cst.ClassDef, depth: int = 0) -> bool:
    """`cls` derives from a `TestCase` (unittest's, Django's, or one of the module's)."""
    if depth > _MAX_DEPTH:
        return False
    info = facts.classes[cls]
    for arg in cls.bases:
        qualname = facts.names.qualname(arg.value, info.outer)
        if qualname is not None and qualname.endswith("TestCase"):
            return True
        local = facts.names.definition(arg.value, info.outer)
        if type(local) is cst.ClassDef and is_test_case(facts, local, depth + 1):
            return True
        if type(arg.value) in (cst.Name, cst.Attribute) and facts.code(arg.value).endswith("TestCase"):
            return True
    return False
