"""Partial parsing of module-level code (`mplint.partial`, `mplint.ast_units`): a module-level
statement that names no API is kept only where kept code needs it (it binds or changes a name kept
code reads, reads a name kept code changes, or names a definition that reaches kept code), or where
the facts read the module itself (imports, the docstring, the main guard, a module-level skip or
exit, `pytestmark`, a line shared with another statement). Findings stay the same either way."""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mplint import partial
from mplint.engine import lint_source
from mplint.rules import all_rules

from test_partial import _kept_positions

FIXTURES = Path(__file__).parent / "fixtures"
ALL_CODES = [rule.code for rule in all_rules()]
SOURCES = sorted(FIXTURES.rglob("*.py"))


def _blanked(source: str) -> str:
    blanked = partial.blank(source, threads=False)
    assert blanked is not None
    _kept_positions(source, blanked)
    ast.parse(blanked)  # also what `facts/lines.py` parses again
    return blanked


def _findings(text: str, monkeypatch: pytest.MonkeyPatch, blanked: bool) -> list:
    if blanked:
        monkeypatch.delenv(partial.DISABLE, raising=False)
    else:
        monkeypatch.setenv(partial.DISABLE, "1")
    result = lint_source(text, "sample.py", codes=ALL_CODES)
    monkeypatch.delenv(partial.DISABLE, raising=False)
    return [(f.line, f.column, f.code, f.message, f.fix) for f in result.findings]


def _same_both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> list:
    found = _findings(text, monkeypatch, blanked=True)
    assert found == _findings(text, monkeypatch, blanked=False)
    return found


UNRELATED = '''\
"""Module code that no code using the API reaches."""
import multiprocessing

print("importing")
TABLE = {"a": 1}
TABLE["b"] = 2
for key in sorted(TABLE):
    print(key)
print(len(TABLE))


def work(x):
    return x * 2


def unrelated():
    return 3


unrelated()
'''


def test_module_level_code_that_reaches_nothing_is_blanked() -> None:
    blanked = _blanked(UNRELATED + "\nif __name__ == '__main__':\n    multiprocessing.Pool().map(work, [1])\n")
    kept = {line.strip() for line in blanked.splitlines()}
    assert '"""Module code that no code using the API reaches."""' in kept and "import multiprocessing" in kept
    assert "def work(x):" in kept and "if __name__ == '__main__':" in kept
    assert 'print("importing")' in kept  # the first statement that makes the module a script
    for gone in ('TABLE = {"a": 1}', 'TABLE["b"] = 2', "for key in sorted(TABLE):", "print(len(TABLE))",
                 "def unrelated():", "unrelated()"):
        assert gone not in kept


CHAIN = '''\
import multiprocessing

CONFIG = {"processes": 2}
CONFIG["processes"] = 4
SIZE = 10
DONE = []


def run(n):
    with multiprocessing.Pool(CONFIG["processes"]) as pool:
        return pool.map(abs, range(n))


def inner():
    return run(SIZE)


def outer():
    return inner()


def worker(x):
    DONE.append(x)


def start():
    multiprocessing.Process(target=worker, args=(1,)).start()


outer()
print(len(DONE))
print("loaded")
'''


def test_import_time_calls_and_what_kept_code_reads_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = _blanked(CHAIN)
    for kept in ('CONFIG = {"processes": 2}', 'CONFIG["processes"] = 4', "SIZE = 10", "def inner():",
                 "def outer():", "\nouter()", "print(len(DONE))"):
        assert kept in blanked  # a name read, changed, a call chain at import time, a changed name read
    assert 'print("loaded")' not in blanked
    found = _same_both_ways(CHAIN, monkeypatch)
    assert any(code == "MPL001" and line == CHAIN.splitlines().index("outer()") + 1 for line, _, code, _, _ in found)


#: a fork-only test module (a fixture), with module-level code around its skips
SKIPPED = (FIXTURES / "MPL006" / "ok_module_skipped_without_fork.py").read_text(encoding="utf-8").replace(
    'if sys.platform == "win32":', 'print("collecting")\nif sys.platform == "win32":'
).replace(
    'fcntl = pytest.importorskip("fcntl")',
    'print("still collecting")\nfcntl = pytest.importorskip("fcntl")\npytestmark = [pytest.mark.forked]',
)


def test_module_level_skips_and_marks_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = _blanked(SKIPPED)
    assert 'print("collecting")' in blanked and 'print("still collecting")' not in blanked
    for kept in ('if sys.platform == "win32":', 'fcntl = pytest.importorskip("fcntl")', "pytestmark ="):
        assert kept in blanked
    without_skip = SKIPPED.replace('if sys.platform == "win32":\n    pytest.skip', 'if sys.platform == "win32":\n    print')
    without_skip = without_skip.replace('fcntl = pytest.importorskip("fcntl")', 'fcntl = None')
    # the skip decides MPL006 (a local function handed to a child: fine only where fork is sure)
    assert [f[2] for f in _same_both_ways(SKIPPED, monkeypatch)] != [
        f[2] for f in _same_both_ways(without_skip, monkeypatch)]


@pytest.mark.parametrize("source", [
    '"""Doc."""\nfrom __future__ import annotations\nimport multiprocessing\nx = 1\n'
    "def f():\n    multiprocessing.Process(target=print).start()\n",
    "import multiprocessing\nUNREAD = 1; N = 2\nprint(N)\n"
    "def f():\n    multiprocessing.Pool(N)\n",
    "import multiprocessing\nclass A: pass\nprint(1); A.n = 2\n"
    "def f():\n    multiprocessing.Pool(A.n)\n",
])
def test_blanked_module_code_keeps_the_module_valid(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = partial.blank(source, threads=False)
    if blanked is not None:
        _kept_positions(source, blanked)
        ast.parse(blanked)
    _same_both_ways(source, monkeypatch)


def test_a_line_shared_by_two_statements_is_kept_whole() -> None:
    source = "import multiprocessing\nUNREAD = 1; N = 2\nOTHER = 3\ndef f():\n    multiprocessing.Pool(N)\n"
    blanked = _blanked(source)
    assert "UNREAD = 1; N = 2" in blanked and "OTHER = 3" not in blanked


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_are_the_same_with_unrelated_module_code_blanked(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    text += "\n\n_UNRELATED = {'a': 1}\n_UNRELATED['b'] = 2\nfor _key in sorted(_UNRELATED):\n    _size = len(_key)\n"
    _same_both_ways(text, monkeypatch)


def _module_ranges(source: str, random) -> list[tuple[int, int]]:
    """Module-level statements that the units let partial parsing blank (no anchor), class-level
    assignments on lines of their own, and definitions, each picked at random."""
    from mplint.ast_units import Reader, read_units

    units = read_units(ast.parse(source), Reader(threads=False))
    lines = partial._LINE_END.split(source)[0::2]
    members = [m for u in units for m in u.members if partial._starts_line(lines, m.body_line, m.body_column)]
    return [(u.first, u.last) for u in [*units, *members]
            if (u.kind in ("def", "class", "method", "member") or u.kind == "module" and not u.anchor)
            and random.random() < 0.6]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # generated code: `1()` and the like
@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(hypothesmith.from_grammar(), st.randoms(use_true_random=False))
def test_blanking_any_module_level_statements_keeps_the_module_valid_and_in_place(source: str, random) -> None:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    blanked = partial.blank_lines(source, _module_ranges(source, random))
    _kept_positions(source, blanked)


MEMBERS = '''\
import multiprocessing

DONE = []


def worker(x):
    DONE.append(x)


def start():
    multiprocessing.Process(target=worker, args=(1,)).start()


class Settings:
    """Read by the code that uses the API."""

    WORKERS = 2
    UNUSED = {"a": 1,
              "b": 2}
    FIRST = 1; SECOND = 2
    SEEN = len(DONE)
    __slots__ = ()

    def helper(self):
        return self.UNUSED


class Worker(multiprocessing.Process):
    UNREAD = 1


def run():
    with multiprocessing.Pool(Settings.WORKERS) as pool:
        return pool.map(abs, [1])
'''


def test_class_level_names_no_kept_code_reads_are_blanked(monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = _blanked(MEMBERS)
    assert "WORKERS = 2" in blanked and "SEEN = len(DONE)" in blanked  # read; reads what a child changes
    assert "FIRST = 1; SECOND = 2" in blanked and "__slots__ = ()" in blanked  # a shared line; a dunder
    assert "UNREAD = 1" in blanked  # a class that uses the API keeps all of itself
    assert 'UNUSED = {"a": 1,' not in blanked and '"b": 2}' not in blanked and "def helper" not in blanked
    _same_both_ways(MEMBERS, monkeypatch)


def test_a_class_level_name_a_kept_method_reads_is_kept() -> None:
    source = MEMBERS.replace("return self.UNUSED", "return multiprocessing.Queue(self.UNUSED)")
    blanked = _blanked(source + "\n\ndef unrelated():\n    return 3\n")
    assert 'UNUSED = {"a": 1,' in blanked and "def helper" in blanked and "return 3" not in blanked


def test_a_class_body_on_its_class_line_is_kept() -> None:
    source = "import multiprocessing\nclass A: X = 1\nclass B:\n    Y = 2\n    Z = 3\ndef f():\n    multiprocessing.Pool(A.n + B.Y)\n"
    blanked = _blanked(source)
    assert "class A: X = 1" in blanked and "Y = 2" in blanked and "Z = 3" not in blanked
