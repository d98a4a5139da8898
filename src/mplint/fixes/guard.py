"""Putting a script's work under `if __name__ == "__main__":` (MPL001, MPL009).

Under spawn a child imports the main module: what the children need must stay at module level,
the rest of the work must not run there. So imports, definitions, `if`/`try` blocks that hold
imports or definitions, and every assignment whose name a function of the module reads (or a kept
statement reads while the module is imported) stay, in their order; every other module-level
statement moves, in order, into one guard at the end, merged with an existing guard, with the
`set_start_method()` calls first.

The plan is unsafe when a kept statement reads at import time (a class body, a decorator, a
default, a kept assignment) a name only moved code binds, when a function reads such a name (a
worker would get a `NameError`), when a moved statement reads a name a later kept statement binds
again, or when a moved statement sets up what children need at import (logging configuration,
`sys.path`, `os.environ`, the working folder).

Only a module run as a script gets these fixes: not a `conftest.py`, an `__init__.py`, a test
module or a library module (one with no sign of being run: no guard, no shebang, no module-level
work other than assignments).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Collection, Iterator, Sequence

import libcst as cst

from mplint.facts.walk import Walker
from mplint.fixes import Planned, Rewrite
from mplint.fixes.reads import reads_and_binds

if TYPE_CHECKING:
    from mplint.rules.base import Report

_GUARD_TEST = '__name__ == "__main__"'
_SETS_UP_CHILDREN = re.compile(
    r"\b(basicConfig|dictConfig|fileConfig|addHandler|setLevel|sys\.path|environ|putenv|chdir|"
    r"set_executable|set_forkserver_preload)\b"
)
_SETS_START_METHOD = re.compile(r"\bset_start_method\s*\(")
_NOT_SCRIPTS = frozenset({"conftest.py", "__init__.py", "setup.py"})


def _is_guard(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.If):
        return False
    test = statement.test
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = {type(test.left), type(target.comparator)}
    names = [s for s in (test.left, target.comparator) if isinstance(s, cst.Name)]
    strings = [s for s in (test.left, target.comparator) if isinstance(s, cst.SimpleString)]
    return (
        sides == {cst.Name, cst.SimpleString}
        and names[0].value == "__name__"
        and strings[0].evaluated_value == "__main__"
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _small(statement: cst.CSTNode) -> Sequence[cst.BaseSmallStatement]:
    return statement.body if isinstance(statement, cst.SimpleStatementLine) else ()


def _is_definition(statement: cst.CSTNode) -> bool:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return True
    small = _small(statement)
    return bool(small) and all(isinstance(s, (cst.Import, cst.ImportFrom, cst.Pass)) for s in small)


def _is_assignment(statement: cst.CSTNode) -> bool:
    small = _small(statement)
    return bool(small) and all(isinstance(s, (cst.Assign, cst.AnnAssign, cst.AugAssign)) for s in small)


def _dunder_assignment(statement: cst.CSTNode) -> bool:
    """`__all__ = [...]`, `__version__ = "1.0"`: module metadata, kept."""
    for small in _small(statement):
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [getattr(small, "target", None)]
        if not all(isinstance(t, cst.Name) and t.value.startswith("__") for t in targets):
            return False
    return _is_assignment(statement)


class _HoldsDefinitions(Walker):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.found = True
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.found = True
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        self.found = True
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.found = True
        return False


def _holds_definitions(statement: cst.CSTNode) -> bool:
    visitor = _HoldsDefinitions()
    visitor.walk(statement)
    return visitor.found


def _is_type_checking(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.If):
        return False
    test = statement.test
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
    )


def is_script(module: cst.Module, path: str) -> bool:
    """Whether the module is run as a script (see the module's docstring)."""
    name = PurePath(path).name
    if name in _NOT_SCRIPTS or name.startswith("test_") or name.endswith("_test.py"):
        return False
    if name == "__main__.py" or module.header and module.header[0].comment and \
            module.header[0].comment.value.startswith("#!"):
        return True
    for statement in module.body:
        if _is_guard(statement) or isinstance(statement, (cst.With, cst.For, cst.While)):
            return True
        if not _is_docstring(statement) and any(isinstance(s, cst.Expr) for s in _small(statement)):
            return True
    return False


class _TopLevel(Walker):
    """Which top-level statement each node belongs to."""

    def __init__(self, owner: dict[cst.CSTNode, int], index: int) -> None:
        self.owner = owner
        self.index = index

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.owner[node] = self.index
        return True


@dataclass
class GuardPlan:
    module: cst.Module
    keep: list[bool]
    guard: int | None
    safe: bool = True
    #: why the plan is unsafe (for tests and titles)
    reasons: list[str] = field(default_factory=list)

    def moves(self, index: int) -> bool:
        return not self.keep[index] and index != self.guard

    def rewrite(self, title: str, first: Collection[int] = (), reveals: tuple[str, ...] = ()) -> Rewrite:
        return Rewrite(title, lambda module: _rebuild(module, self, set(first)), self.safe, reveals)


def plan(
    module: cst.Module, path: str, starts: Collection[int] = (), source: str | None = None
) -> GuardPlan | None:
    """Which top-level statements stay and which move; `starts` are the statements that start
    processes (they move whatever reads them). None when the module is no script or has a guard
    this fix cannot merge with (two guards, a guard with an `else`). `source` is the text the
    module was parsed from (else its code is generated for Python's parser)."""
    if not is_script(module, path):
        return None
    body = list(module.body)
    guards = [i for i, statement in enumerate(body) if _is_guard(statement)]
    if len(guards) > 1 or (guards and body[guards[0]].orelse is not None):
        return None
    guard = guards[0] if guards else None
    keep = [False] * len(body)
    candidates = set()
    for index, statement in enumerate(body):
        if index == guard or index in starts:
            continue
        if (
            _is_docstring(statement)
            or _is_definition(statement)
            or _is_type_checking(statement)
            or _dunder_assignment(statement)
            or (isinstance(statement, (cst.If, cst.Try)) and _holds_definitions(statement))
        ):
            keep[index] = True
        elif _is_assignment(statement):
            candidates.add(index)
    import_reads, run_reads, read_by_functions, binds, reads_names = reads_and_binds(module, source)
    for index in candidates & read_by_functions:
        keep[index] = True
    changed = True
    while changed:  # what kept code reads at import time stays too, when it can
        changed = False
        for index, kept in enumerate(keep):
            if kept:
                for bound in import_reads.get(index, ()):
                    if bound in candidates and not keep[bound]:
                        keep[bound] = changed = True
    result = GuardPlan(module, keep, guard)
    moved = [i for i in range(len(body)) if result.moves(i)]
    if not moved:
        return None
    moved_set = set(moved)
    for index, kept in enumerate(keep):
        if kept and import_reads.get(index, set()) & moved_set:
            result.reasons.append("kept code reads at import time a name that moved code binds")
    for reader, names in run_reads.items():
        if keep[reader] and any(bound <= moved_set for bound in names.values()):
            result.reasons.append("a function reads a name that only moved code binds")
    for index in moved:
        code = module.code_for_node(body[index])
        if _SETS_UP_CHILDREN.search(code):
            result.reasons.append("moved code sets up what children need at import")
        later = set().union(*(binds.get(j, set()) for j in range(index + 1, len(body)) if keep[j]))
        if reads_names.get(index, set()) & later:
            result.reasons.append("moved code reads a name that kept code binds again later")
    result.safe = not result.reasons
    return result


def _blank_lines(statement: cst.CSTNode) -> int:
    count = 0
    for line in getattr(statement, "leading_lines", ()):
        if line.comment is not None:
            break
        count += 1
    return count


def _indented(statement: cst.BaseStatement, first: bool) -> cst.BaseStatement:
    """A statement moved into a block: no blank line before the block's first statement, at most
    one between the others, and blank lines without indentation."""
    lines = [
        line.with_changes(indent=False) if line.comment is None else line
        for line in getattr(statement, "leading_lines", ())
    ]
    lines = _at_most_one_blank(lines)
    while first and lines and lines[0].comment is None:
        lines.pop(0)
    return statement.with_changes(leading_lines=lines)


def _at_most_one_blank(lines: list[cst.EmptyLine]) -> list[cst.EmptyLine]:
    out: list[cst.EmptyLine] = []
    for line in lines:
        if line.comment is None and out and out[-1].comment is None:
            continue
        out.append(line)
    return out


def _kept(body: list[cst.BaseStatement], plan: GuardPlan) -> list[cst.BaseStatement]:
    """The statements that stay; one that followed moved ones keeps their blank lines before it."""
    kept = []
    blanks_of_moved: int | None = None
    for index, statement in enumerate(body):
        if not plan.keep[index]:
            if blanks_of_moved is None:
                blanks_of_moved = _blank_lines(statement)
            continue
        if blanks_of_moved and kept and _blank_lines(statement) < blanks_of_moved:
            missing = [cst.EmptyLine()] * (blanks_of_moved - _blank_lines(statement))
            statement = statement.with_changes(leading_lines=[*missing, *statement.leading_lines])
        blanks_of_moved = None
        kept.append(statement)
    return kept


def _rebuild(module: cst.Module, plan: GuardPlan, first: set[int]) -> cst.Module:
    body = list(module.body)
    kept = _kept(body, plan)
    guard = body[plan.guard] if plan.guard is not None else None
    before = [i for i in range(len(body)) if plan.moves(i) and (plan.guard is None or i < plan.guard)]
    after = [i for i in range(len(body)) if plan.moves(i) and plan.guard is not None and i > plan.guard]
    guarded = list(guard.body.body) if guard is not None else []
    leading = [s for s in guarded[:1] if _SETS_START_METHOD.search(module.code_for_node(s))]
    setters = [body[i] for i in before + after if i in first or _SETS_START_METHOD.search(module.code_for_node(body[i]))]
    rest = [body[i] for i in before if body[i] not in setters] + guarded[len(leading):] + [
        body[i] for i in after if body[i] not in setters
    ]
    statements = [_indented(s, i == 0) for i, s in enumerate([*leading, *setters, *rest])]
    after_definition = bool(kept) and isinstance(kept[-1], (cst.FunctionDef, cst.ClassDef))
    blanks = 2 if after_definition else 1 if kept else 0
    comments = [line for line in (guard.leading_lines if guard is not None else ()) if line.comment is not None]
    leading_lines = [cst.EmptyLine()] * blanks + comments
    if guard is not None:
        new_guard = guard.with_changes(body=guard.body.with_changes(body=statements), leading_lines=leading_lines)
    else:
        new_guard = cst.If(
            test=cst.parse_expression(_GUARD_TEST), body=cst.IndentedBlock(statements), leading_lines=leading_lines
        )
    return module.with_changes(body=[*kept, new_guard])


def top_level_index(module: cst.Module, nodes: Collection[cst.CSTNode]) -> dict[cst.CSTNode, int]:
    """The top-level statement each node is in."""
    owner: dict[cst.CSTNode, int] = {}
    for index, statement in enumerate(module.body):
        _TopLevel(owner, index).walk(statement)
    return {node: owner[node] for node in nodes if node in owner}


def with_guard_fix(
    module: cst.Module,
    path: str,
    reports: list[Report],
    title: str,
    reveals: tuple[str, ...] = (),
    source: str | None = None,
) -> Iterator[Report]:
    """The reports, each with the fix that moves the script's work under the guard when that fix
    moves the reported statement (a process started in a kept definition gets none). The plan
    reads the whole module's scopes (from Python's parse of `source`, the text the module was
    parsed from): it is `Planned`, made once for all the reports and only when a fix is built; a
    module that is no script gets no fix at all."""
    if not reports:
        return
    if not is_script(module, path):
        yield from (report._replace(fix=None) for report in reports)
        return
    nodes = [report.node for report in reports]

    @functools.cache
    def planned() -> tuple[dict[cst.CSTNode, int], GuardPlan | None]:
        where = top_level_index(module, nodes)
        return where, plan(module, path, set(where.values()), source)

    def rewrite_for(node: cst.CSTNode) -> Rewrite | None:
        where, found = planned()
        index = where.get(node)
        return found.rewrite(title, reveals=reveals) if found is not None and index is not None and found.moves(index) else None

    for report in reports:
        yield report._replace(fix=Planned(functools.partial(rewrite_for, report.node)))


def start_method_fix(module: cst.Module, path: str, node: cst.CSTNode, title: str) -> Rewrite | None:
    """`set_start_method(...)` moved into the guard, first (MPL009): only a top-level statement
    of its own, in a script. Unsafe when module-level code after it (not a definition) runs
    before the guard and so would run without the start method set."""
    if not is_script(module, path):
        return None
    body = list(module.body)
    index = top_level_index(module, [node]).get(node)
    guards = [i for i, statement in enumerate(body) if _is_guard(statement)]
    if index is None or len(guards) > 1 or (guards and body[guards[0]].orelse is not None):
        return None
    statement = body[index]
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    keep = [i != index for i in range(len(body))]
    guard = guards[0] if guards else None
    if guard is not None:
        keep[guard] = False
    result = GuardPlan(module, keep, guard)
    for later in body[index + 1 :]:
        if later is not (body[guard] if guard is not None else None) and not _is_definition(later) \
                and not _is_docstring(later) and "(" in module.code_for_node(later):
            result.reasons.append("module-level code after it would run before the start method is set")
            break
    result.safe = not result.reasons
    return result.rewrite(title, first={index})
