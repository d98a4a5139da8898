"""Partial parsing (`mplint.partial`): findings are the same with it and without it, and blanking
keeps every position of the code that is kept."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mplint import partial
from mplint.config import Settings
from mplint.engine import lint_source
from mplint.rules import all_rules
from mplint.runner import lint_paths

FIXTURES = Path(__file__).parent / "fixtures"
ALL_CODES = [rule.code for rule in all_rules()]
SOURCES = sorted(FIXTURES.rglob("*.py"))


def _both_ways(monkeypatch: pytest.MonkeyPatch, check):
    monkeypatch.delenv(partial.DISABLE, raising=False)
    with_partial = check()
    monkeypatch.setenv(partial.DISABLE, "1")
    whole = check()
    monkeypatch.delenv(partial.DISABLE)
    return with_partial, whole


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_are_the_same_with_partial_parsing(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = path.read_bytes()
    with_partial, whole = _both_ways(
        monkeypatch, lambda: lint_source(source, str(path), codes=ALL_CODES, noqa=False)
    )
    assert with_partial == whole  # findings, positions, messages and fixes


@pytest.mark.parametrize("project", sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir()),
                         ids=lambda p: p.name)
def test_project_findings_are_the_same_with_partial_parsing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_ = Settings(enabled=frozenset(ALL_CODES))

    def run():
        done = lint_paths([str(project)], settings_)
        return sorted((f.path, f.line, f.column, f.code, f.message) for f in done.findings), done.errors

    with_partial, whole = _both_ways(monkeypatch, run)
    assert with_partial == whole


#: code that no fixture's API code reaches, added to each fixture below so that every one of them
#: is blanked in part (most fixtures are all API code)
UNRELATED = """

def _unrelated_function(items):
    return [item for item in items]  # noqa: MPL002


class _UnrelatedClass:
    def _unrelated_method(self):
        return _unrelated_function([self])
"""


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_are_the_same_with_unrelated_code_blanked(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        text = path.read_text(encoding="utf-8") + UNRELATED
    except UnicodeDecodeError:
        return
    with_partial, whole = _both_ways(monkeypatch, lambda: lint_source(text, str(path), codes=ALL_CODES))
    assert with_partial == whole
    try:
        ast.parse(text)
    except SyntaxError:
        return
    blanked = partial.blank(text, threads=True)
    assert blanked is not None and "_UnrelatedClass" not in blanked
    _kept_positions(text, blanked)


def test_the_fixtures_exercise_blanking() -> None:
    """Some fixtures are blanked in part as they are (the others with UNRELATED above)."""
    blanked = [
        path for path in SOURCES
        if partial.blank(path.read_text(encoding="utf-8", errors="replace"), threads=True)
    ]
    assert len(blanked) >= 15, len(blanked)


def _kept_positions(text: str, blanked: str) -> None:
    """Every statement that survives the blanking is where it was, node for node."""
    before, after = ast.parse(text), ast.parse(blanked)
    assert len(re.split(r"\r\n|\r|\n", text)) == len(re.split(r"\r\n|\r|\n", blanked))
    kept_after = {_dump(node) for node in _statements(after)}
    for node in _statements(before):
        if not _blank_line(blanked, node.lineno):
            assert _dump(node) in kept_after, ast.dump(node)


def _dump(node: ast.AST) -> str:
    """The statement with its positions, without the statements it holds (a class's, a function's,
    an `if`'s or a `try`'s: they are compared one by one, some blanked, some kept, a definition
    kept with its body blanked)."""
    if isinstance(node, ast.stmt):
        fields = {name: _without_statements(value) for name, value in ast.iter_fields(node)}
        node = type(node)(**fields, lineno=node.lineno, col_offset=node.col_offset)
    return ast.dump(node, include_attributes=True)


def _without_statements(value):
    if not isinstance(value, list):
        return value
    if any(isinstance(item, ast.stmt) for item in value):
        return []
    if any(isinstance(item, ast.ExceptHandler) for item in value):
        return [ast.ExceptHandler(h.type, h.name, [], lineno=h.lineno, col_offset=h.col_offset) for h in value]
    if any(isinstance(item, ast.match_case) for item in value):
        return [ast.match_case(c.pattern, c.guard, []) for c in value]
    return value


def _statements(tree: ast.Module):
    """Every statement, at any depth."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.stmt))


def _blank_line(text: str, line: int) -> bool:
    content = re.split(r"\r\n|\r|\n", text)[line - 1]
    return content.strip() in ("", "pass", "pass \\", "\\")  # a blanked range: `pass \`, `\`, ..., ``


SAMPLE = '''\
# -*- coding: utf-8 -*-
"""A module."""
import multiprocessing as mp
import os


def unused(x):  # noqa: MPL002
    s = """a string
    over lines"""
    return x + \\
        1


\f
@decorator(
    "arg",
)
class Unused:
\tdef method(self):
\t\treturn 1


def work(item):
    return item * 2


class Tests:
    value = 1

    def test_pool(self):
        with mp.Pool() as pool:
            pool.map(work, [1])

    def test_other(self):
        return os.getcwd()


if __name__ == "__main__":
    print(len(os.sep))
'''


def test_blanking_keeps_the_users_of_the_api_and_what_they_reach() -> None:
    blanked = partial.blank(SAMPLE, threads=False)
    assert blanked is not None
    _kept_positions(SAMPLE, blanked)
    kept = {line.strip() for line in blanked.splitlines()}
    assert "def work(item):" in kept and "def test_pool(self):" in kept and "class Tests:" in kept
    assert "def unused(x):  # noqa: MPL002" not in kept
    assert "class Unused:" not in kept and "def test_other(self):" not in kept
    assert "value = 1" not in kept  # a class-level name no kept code reads
    assert 'if __name__ == "__main__":' in kept
    # form feeds, tabs and CRLF line ends: the lines stay where they are
    crlf = SAMPLE.replace("\n", "\r\n")
    blanked_crlf = partial.blank(crlf, threads=False)
    assert blanked_crlf is not None and blanked_crlf.count("\r\n") == crlf.count("\r\n")
    _kept_positions(crlf, blanked_crlf)


@pytest.mark.parametrize("source", [
    "import multiprocessing\ntype Alias = int\ndef f():\n    pass\n",  # newer than Python 3.11
    "from multiprocessing import *\ndef f():\n    pass\ndef g():\n    Pool()\n",  # names unknown
])
def test_nothing_is_blanked_where_python_cannot_tell(source: str) -> None:
    try:
        ast.parse(source)
    except SyntaxError:
        pass  # the running Python is older than the syntax: nothing to blank
    else:
        if "type Alias" in source:
            pytest.skip("this Python parses the newer syntax")  # pragma: no cover
    assert partial.blank(source, threads=False) is None


def test_callers_readers_and_setters_are_kept() -> None:
    source = '''\
import multiprocessing as mp

state = []

def helper(pool, items):
    return pool.map(len, items)

def main():
    with mp.Pool() as pool:
        helper(pool, [[1]])

def other_caller():
    helper(FakePool(), [])

def reader():
    return len(state)

def worker(x):
    state.append(x)

def start():
    mp.Process(target=worker, args=(1,)).start()

class Holder:
    def setup(self):
        self.p = mp.Process(target=worker)

    def finish(self):
        self.p.join()

    def unrelated(self):
        return 2

def unrelated():
    return 3
'''
    blanked = partial.blank(source, threads=False)
    assert blanked is not None
    _kept_positions(source, blanked)
    for kept in ("def other_caller", "def reader", "def finish", "def helper"):
        assert kept in blanked
    assert "return 2" not in blanked and "return 3" not in blanked


def test_thread_apis_count_only_when_threads_matter() -> None:
    source = (
        "import multiprocessing, threading\n"
        "def threads():\n    threading.Thread(target=print).start()\n"
        "def processes():\n    multiprocessing.Process(target=print).start()\n"
    )
    assert "threading.Thread" not in (partial.blank(source, threads=False) or source)
    assert partial.blank(source, threads=True) is None


def _deterministic(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples, derandomize=True, database=None, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def _units_of(tree: ast.Module) -> list[tuple[int, int]]:
    ranges = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            ranges.append((first, node.end_lineno))
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        first = min([item.lineno, *(d.lineno for d in item.decorator_list)])
                        ranges.append((first, item.end_lineno))
    return ranges


@pytest.mark.slow
@_deterministic(60)
@given(hypothesmith.from_grammar(), st.randoms(use_true_random=False))
def test_blanking_any_definitions_keeps_the_module_valid_and_in_place(source: str, random) -> None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    ranges = [r for r in _units_of(tree) if random.random() < 0.6]
    blanked = partial.blank_lines(source, ranges)
    _kept_positions(source, blanked)


def _lint(text: str, monkeypatch: pytest.MonkeyPatch, blanked: bool) -> list:
    if blanked:
        monkeypatch.delenv(partial.DISABLE, raising=False)
    else:
        monkeypatch.setenv(partial.DISABLE, "1")
    found = lint_source(text, "sample.py", codes=ALL_CODES).findings
    monkeypatch.delenv(partial.DISABLE, raising=False)
    return [(f.line, f.column, f.code, f.message) for f in found]


def _blanked(source: str) -> str:
    """The source blanked in part (processes only), every kept statement where it was."""
    blanked = partial.blank(source, threads=False)
    assert blanked is not None
    _kept_positions(source, blanked)
    return blanked


def _lines_of(source: str, start: str) -> tuple[int, int]:
    """The lines (from 1) of the method that starts with `start`, as Python reads it."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and ast.get_source_segment(source, node).startswith(start):
            return node.lineno, node.end_lineno
    raise AssertionError(start)


OVERRIDDEN = '''\
import multiprocessing as mp


class Launcher:
    def make(self):
        return 42

    def launch(self):
        proc = mp.Process(target=self.make())
        proc.start()
        proc.join()


class Other:
    def make(self):
        value = len("other")
        return value

    def unrelated(self):
        return 3
'''


def test_a_method_only_an_override_check_asks_for_keeps_its_definition_not_its_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blanked = _blanked(OVERRIDDEN)
    assert "class Other:" in blanked and "    def make(self):\n        pass \\\n\n" in blanked
    assert 'len("other")' not in blanked and "def unrelated" not in blanked
    assert _lint(OVERRIDDEN, monkeypatch, blanked=True) == _lint(OVERRIDDEN, monkeypatch, blanked=False) == []
    # the definition is what matters: without it, `self.make()` could only be Launcher's
    first, last = _lines_of(OVERRIDDEN, "def make(self):\n        value")
    without = partial.blank_lines(OVERRIDDEN, [(first, last)])
    assert any(code == "MPL010" for _, _, code, _ in _lint(without, monkeypatch, blanked=False))


@pytest.mark.parametrize("change, whole", [
    # named by code that is kept: what it does is asked for, all of it is kept
    ("        proc.join()\n", "        proc.join()\n        Other().make()\n"),
    # its body on the line of its `def`: it cannot be blanked alone
    ('    def make(self):\n        value = len("other")\n        return value\n',
     '    def make(self): return len("other")\n'),
])
def test_an_override_that_cannot_be_outlined_is_kept_whole(change: str, whole: str, monkeypatch) -> None:
    source = OVERRIDDEN.replace(change, whole)
    blanked = _blanked(source)
    assert 'len("other")' in blanked
    assert _lint(source, monkeypatch, blanked=True) == _lint(source, monkeypatch, blanked=False)


CHILD_SETS = '''\
import multiprocessing as mp


class Worker:
    def run_job(self):
        self.result = 1

    def start(self):
        proc = mp.Process(target=self.run_job)
        proc.start()
        proc.join()

    def report(self):
        return self.result


class Sub(Worker):
    def total(self):
        return self.result + 1


class Unrelated:
    def show(self):
        return self.result

    def nested(self):
        return lambda: self.result

    def through(self):
        return self.other.result

    @staticmethod
    def peek(worker):
        return worker.result

    def rebound(self, other):
        self = other
        return self.result


def read(worker):
    return worker.result
'''


def test_readers_of_what_a_child_sets_are_kept_only_where_the_object_may_be_of_its_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blanked = _blanked(CHILD_SETS)
    # `self.result` in another class is that class's attribute: blanked
    assert "def show" not in blanked
    # in the family (the class, its bases, what derives from it), through another object, in a
    # nested scope, on a parameter that is not `self`, or with `self` rebound: kept
    for kept in ("def report", "def total", "def nested", "def through", "def peek", "def rebound", "def read"):
        assert kept in blanked, kept
    findings = _lint(CHILD_SETS, monkeypatch, blanked=True)
    assert findings == _lint(CHILD_SETS, monkeypatch, blanked=False)
    assert [code for _, _, code, _ in findings] == ["MPL003"]
    # the reader is what the finding shows: blanking the family's reader would lose it
    alone = CHILD_SETS[:CHILD_SETS.index("class Sub")]
    first, last = _lines_of(alone, "def report")
    assert _lint(partial.blank_lines(alone, [(first, last)]), monkeypatch, blanked=False) == []


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("final_end", [True, False])
def test_a_blanked_range_is_one_statement_on_its_lines(end: str, final_end: bool) -> None:
    """The lines of a blanked range are joined to its `pass` by backslashes, up to an empty last
    line: Python and LibCST read one `pass`, and what follows is on its line. A range that ends
    the text without a line end, or with a lone `\\r` in it, is left as empty lines."""
    source = end.join([
        "class A:", "    def f(self):", "        x = 1", "        return x", "", "    def g(self):",
        "        return 2", "y = A()", "def h():", "    return 3",
    ]) + (end if final_end else "")
    blanked = partial.blank_lines(source, [(2, 5), (9, 10)])
    lines = re.split(r"\r\n|\r|\n", blanked)
    assert len(lines) == len(re.split(r"\r\n|\r|\n", source))
    assert lines[1] == ("    pass" if end == "\r" else "    pass \\")
    assert lines[8] == ("pass \\" if final_end and end != "\r" else "pass")
    module = cst.parse_module(blanked)
    assert module.code == blanked or end == "\r"  # LibCST writes a lone `\r` back as it likes
    tree = ast.parse(blanked)
    assert [(type(n).__name__, n.lineno) for n in tree.body] == [("ClassDef", 1), ("Assign", 8), ("Pass", 9)]
    assert [(type(n).__name__, n.lineno) for n in tree.body[0].body] == [("Pass", 2), ("FunctionDef", 6)]
