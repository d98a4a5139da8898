"""The functions and classes that exist only when the module runs as the main script.

A `def` or `class` under `if __name__ == "__main__":` (or the `else` of `!=`) binds its name
only in the process that runs the script. A child started with spawn or forkserver imports the
script as `__mp_main__`, where the guard is false: the name is missing there, and pickle, which
sends functions and classes by name, cannot find it.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.facts import guards
from mplint.facts.walk import ClassTest

Definition = cst.FunctionDef | cst.ClassDef


_COMPOUND = ClassTest(cst.BaseCompoundStatement)


def main_only_definitions(module: cst.Module) -> frozenset[Definition]:
    """The module-level defs and classes made in main-guarded blocks (in nested ifs, loops,
    `try` and `with` there too), but not the defs inside them: those come with their class."""
    return frozenset(_in_guarded(module.body, guarded=False))


def _in_guarded(statements: object, guarded: bool) -> Iterator[Definition]:
    for statement in _statements(statements):
        if type(statement) in (cst.FunctionDef, cst.ClassDef):
            if guarded:
                yield statement
        elif type(statement) is cst.If:
            yield from _in_if(statement, guarded)
        elif _COMPOUND[type(statement)]:
            for block in _blocks(statement):
                yield from _in_guarded(block, guarded)


def _in_if(node: cst.If, guarded: bool) -> Iterator[Definition]:
    yield from _in_guarded(node.body, guarded or guards.is_main_guard(node.test))
    orelse = node.orelse
    if type(orelse) is cst.If:
        yield from _in_if(orelse, guarded)
    elif type(orelse) is cst.Else:
        yield from _in_guarded(orelse.body, guarded or guards.is_not_main_guard(node.test))


def _blocks(statement: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    body = getattr(statement, "body", None)  # a `match` has only its cases
    if isinstance(body, cst.BaseSuite):
        yield body
    for part in ("orelse", "finalbody"):
        extra = getattr(statement, part, None)
        if extra is not None:
            yield extra.body
    for handler in getattr(statement, "handlers", ()):
        yield handler.body
    for case in getattr(statement, "cases", ()):
        yield case.body


def _statements(block: object) -> tuple[cst.CSTNode, ...]:
    if type(block) is cst.IndentedBlock:
        return tuple(block.body)
    if type(block) is cst.SimpleStatementSuite:
        return ()
    if isinstance(block, (list, tuple)):
        return tuple(block)
    return ()
