"""The engine's LibCST parse skips the validation of the nodes its parser makes
(`engine._parse_module`): the same trees, no node validated meanwhile, validation back after."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from mplint import engine

FIXTURES = Path(__file__).parent / "fixtures"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = sorted(p for p in FIXTURES.rglob("*.py") if "bad_input" not in p.parts)[::4]
SAMPLES += [STDLIB / name for name in ("subprocess.py", "concurrent/futures/process.py", "dataclasses.py")]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_the_tree_is_the_one_libcst_s_own_parse_gives(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    ours, theirs = engine._parse_module(source), cst.parse_module(source)
    assert ours.deep_equals(theirs)
    assert ours.code == theirs.code == source


def test_no_node_is_validated_while_the_engine_parses(monkeypatch) -> None:
    validated: list[str] = []
    for cls in (cst.Name, cst.SimpleWhitespace, cst.Call):
        original = cls._validate

        def counting(node, _original=original) -> None:
            validated.append(type(node).__name__)
            _original(node)

        monkeypatch.setattr(cls, "_validate", counting)
    source = "import os\nx = os.getpid( 1 )\n"
    engine._parse_module(source)
    assert validated == []
    cst.parse_module(source)
    assert {"Name", "SimpleWhitespace", "Call"} <= set(validated)


def test_validation_is_back_after_a_parse_and_after_a_syntax_error() -> None:
    engine._parse_module("x = 1\n")
    with pytest.raises(cst.ParserSyntaxError):
        engine._parse_module("x = = 1\n")
    assert "__post_init__" in vars(cst.CSTNode)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")


def test_a_check_leaves_validation_on() -> None:
    result = engine.lint_source("import multiprocessing as mp\npool = mp.Pool(4)\n", "bad.py")
    assert [finding.code for finding in result.findings] == ["MPL001"]
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
