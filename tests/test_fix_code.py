"""A fix's code made from the code the facts' positions generated of the module (`locate`'s
`known`): the same text as LibCST's `fixed.code`, for every fix the fixtures build, for modules
without a trailing newline, with a header and a footer, with `\\r\\n` newlines and tab indentation,
and for rewrites that keep no statement (a transformer rebuilds every node)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from mplint import engine, lint_source
from mplint.facts.positions import Positions
from mplint.fixes import Rewrite, rewrite
from mplint.rules import rule_defaults

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every fixed module's code made both ways, compared; the count of those that reused code."""
    code_of = rewrite._code_of
    reused = [0]

    def checked(fixed: cst.Module, module: cst.Module, known):  # type: ignore[no-untyped-def]
        text = code_of(fixed, module, known)
        assert text == fixed.code
        if any(known(node) is not None for node in fixed.body):
            reused[0] += 1
        return text

    monkeypatch.setattr(rewrite, "_code_of", checked)
    return reused


def _fixtures() -> list[Path]:
    return sorted(path for path in FIXTURES.rglob("*.py") if not path.name.endswith(".fixed.py"))


def test_every_fixture_fix_made_from_kept_code_is_libcsts(compared: list[int]) -> None:
    fixes = 0
    every_rule = sorted(rule_defaults())
    for path in _fixtures():
        result = lint_source(path.read_bytes(), str(path), codes=every_rule)
        fixes += sum(1 for finding in result.findings if finding.fix is not None)
    assert fixes > 50
    assert compared[0] > 10  # the guard's fixes keep the definitions


def _located(source: str, rewritten) -> str:  # type: ignore[no-untyped-def]
    """The fixed code `locate` makes with the positions' generation of `source`, checked."""
    module = cst.parse_module(source)
    positions = Positions(module, source)
    fixed = rewritten(module)
    text = rewrite._code_of(fixed, module, positions.top_level_code)
    assert text == fixed.code
    fix = rewrite.locate(module, Rewrite("t", rewritten), source, positions.top_level_code)
    expected = rewrite.locate(module, Rewrite("t", rewritten), source)
    assert fix == expected
    return text


def _moved_last(module: cst.Module) -> cst.Module:
    """The first statement moved to the end (the others kept, as the guard keeps them)."""
    body = list(module.body)
    return module.with_changes(body=[*body[1:], body[0]])


@pytest.mark.parametrize(
    "source",
    [
        "import os\n\n\ndef f():\n    return 1\n\n\nx = f()\n",
        "import os\ndef f():\n    return 1\nx = f()",  # no trailing newline: LibCST's own
        "#!/usr/bin/env python\n# header\n\nimport os\nx = 1\n\n# footer\n",
        "import os\r\nif True:\r\n\tx = 1\r\n\r\ny = 2\r\n",
        "import os\nclass A:\n    def f(self):  # c\n        pass\n    # trailing\n\n# after\ny = 2\n",
        "@d\n# between\n@e(1)\ndef f(): pass\nx = 1; y = 2\n",
    ],
)
def test_moved_statements_code_is_libcsts(source: str) -> None:
    assert _located(source, _moved_last) == _moved_last(cst.parse_module(source)).code


def test_a_rebuilt_module_and_an_empty_one() -> None:
    source = "import os\nx = 1\n"
    renamed = lambda module: module.visit(rewrite._Replacer({}))  # noqa: E731  # every node rebuilt
    _located(source, renamed)
    emptied = lambda module: module.with_changes(body=(), header=(), footer=())  # noqa: E731
    assert _located(source, emptied) == "\n"


def test_the_engine_locates_with_the_positions_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine hands `locate` the positions' code (a script's guard fix)."""
    given = []
    locate = engine.locate

    def spying(*args, **kwargs):  # type: ignore[no-untyped-def]
        given.append(args[3] if len(args) > 3 else kwargs.get("known"))
        return locate(*args, **kwargs)

    monkeypatch.setattr(engine, "locate", spying)
    source = "import multiprocessing\n\n\ndef f(x):\n    return x\n\n\nwith multiprocessing.Pool(2) as p:\n    p.map(f, [1])\n"
    result = lint_source(source, "script.py", codes=["MPL001"])
    assert [finding.fix is not None for finding in result.findings] == [True]
    assert given and all(known is not None for known in given)


GUARDED = (
    "import multiprocessing\n\nlimit = 3\n\n\ndef f(x):\n    return x * limit\n\n\n"
    "with multiprocessing.Pool(2) as p:\n    p.map(f, [1])\n"
)


def test_the_guards_reading_takes_the_tree_the_engine_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within `python_tree_given` the reading of that text is made from the tree given (the same
    answer, and no parse); of another text, it parses that text."""
    import ast

    from mplint.fixes import reads

    module = cst.parse_module(GUARDED)
    expected = reads.reads_and_binds(module, GUARDED)
    tree = ast.parse(GUARDED)
    parse = ast.parse
    parsed: list[str] = []

    def parsing(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(text)
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parsing)
    with reads.python_tree_given(GUARDED, tree):
        assert reads.reads_and_binds(module, GUARDED) == expected
        assert parsed == []
        other = GUARDED.replace("limit", "bound")
        assert reads.reads_and_binds(cst.parse_module(other), other) != expected
        assert parsed == [other]
    reads.reads_and_binds(module, GUARDED)
    assert parsed == [other, GUARDED]  # given no longer


def test_a_buffers_guard_fix_is_planned_from_the_engines_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    from mplint import runner
    from mplint.fixes import reads
    from mplint.options import DEFAULT_OPTIONS
    from mplint.precheck import enabled_codes

    found = []
    given = reads._given_tree

    def spying(source):  # type: ignore[no-untyped-def]
        found.append(given(source))
        return found[-1]

    monkeypatch.setattr(reads, "_given_tree", spying)
    result, _ = runner.check_buffer("script.py", GUARDED, enabled_codes(None), DEFAULT_OPTIONS, None)
    assert [(f.code, f.fix is not None) for f in result.findings] == [("MPL001", True)]
    assert len(found) == 1 and found[0] is not None
