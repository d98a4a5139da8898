"""What a run loads: LibCST, the facts and the rules only once a file needs a parse; the rules'
metadata that is needed earlier is read from their source, and agrees with the classes; the collector
runs less often while a file is checked, and is given back its settings after."""

from __future__ import annotations

import gc
import os
import subprocess
from pathlib import Path

import pytest
from console import BAD, console_script, drop_command_memos, write
from mplint import engine
from mplint.rules import all_rules, rule_defaults, thread_rules

# (rule modules are imported by importlib, which the import-time report does not show; they import
# the facts, which it shows)
HEAVY = ("libcst", "mplint.facts", "mplint.engine")


def imported_modules(*args: str, cwd: Path, stdin: str = "") -> set[str]:
    """The modules the console script imports for `args` (Python's own import-time report)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("MPLINT_CACHE_DIR", None)
    done = subprocess.run(
        [str(console_script()), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
        input=stdin,
    )
    assert done.returncode in (0, 1), done.stderr
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_the_light_rule_metadata_is_what_the_rule_classes_say() -> None:
    assert rule_defaults() == {rule.code: rule.default_enabled for rule in all_rules()}
    assert not all(rule_defaults().values())  # an opt-in rule is among them: the test can fail
    assert thread_rules() == {rule.code for rule in all_rules() if rule.judges_threads}
    assert thread_rules()  # a rule that judges threads is among them


def test_a_run_with_nothing_to_parse_imports_neither_libcst_nor_facts_nor_rules(tmp_path: Path) -> None:
    write(tmp_path, {"plain.py": "x = 1\n", "threads.py": "import threading\n"})
    loaded = imported_modules("--no-cache", ".", cwd=tmp_path)
    assert "mplint.runner" in loaded  # the report is real: the run itself shows in it
    assert not loaded & set(HEAVY)


#: what a run whose files have nothing to parse, and no project module to import, does without:
#: the project-wide analysis (session, resolver and its `sysconfig` look-up, summaries, link,
#: what a project tells a file), the worker processes, the fixes, and a TOML reader when no
#: pyproject.toml is found
NOT_WITHOUT_A_PROJECT = (
    "mplint.project.session", "mplint.project.resolver", "mplint.project.summary",
    "mplint.project.link", "mplint.project.told", "mplint.project.asked", "mplint.parallel",
    "mplint.fixes", "sysconfig", "tomllib", "tomli",
)


@pytest.mark.slow
def test_a_file_with_nothing_to_parse_imports_no_project_analysis(tmp_path: Path) -> None:
    write(tmp_path, {"x.py": "x = 1\n"})
    runs = [("--no-cache", "x.py"), ("x.py",), ("x.py",)]  # no cache, then cold, then warm
    for args in runs:
        drop_command_memos(tmp_path / ".mplint_cache")  # (the warm run is the full one)
        loaded = imported_modules(*args, cwd=tmp_path)
        assert "mplint.runner" in loaded  # the report is real (the prefilter: when a file is read)
        assert not loaded & {*HEAVY, *NOT_WITHOUT_A_PROJECT}, args
    imported_modules("x.py", cwd=tmp_path)
    answered = imported_modules("x.py", cwd=tmp_path)  # by the command memo: less still
    assert "mplint.command_memo" in answered and not answered & {"mplint.runner", "mplint.cli", "click"}
    edited = imported_modules("-", "--stdin-filename", "x.py", cwd=tmp_path, stdin="x = 2\n")
    assert not edited & {*HEAVY, *NOT_WITHOUT_A_PROJECT} - {"mplint.project.told"}  # it returns them
    # nor does it look an entry up: no hash of the linter's sources, no JSON, no temporary file
    assert "mplint.cache" in edited  # (the cache is there: a buffer that could be parsed would use it)
    assert not edited & {"hashlib", "_hashlib", "json", "tempfile"}
    # the standard library is nobody's project: its names are told apart without a session
    write(tmp_path, {"x.py": "import os\nimport collections.abc\nx = os.sep\n"})
    loaded = imported_modules("x.py", cwd=tmp_path)
    assert "mplint.apis" in loaded  # asked whether `os` may be a project module (`scan.not_project`)
    assert not loaded & {*HEAVY, "mplint.project.resolver", "mplint.project.session", "mplint.project.link",
                         "mplint.parallel"}
    # a file that may import a project module takes the project's way, as one that uses the API
    write(tmp_path, {"x.py": "import helpers\n", "helpers.py": "y = 1\n"})
    assert {"mplint.project.session", "mplint.project.link"} <= imported_modules("x.py", cwd=tmp_path)


def test_a_run_answered_by_the_cache_imports_neither(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": BAD})
    first = imported_modules(".", cwd=tmp_path)
    assert set(HEAVY) <= first  # the cold run parses
    assert "tempfile" not in first  # and writes its entries whole without it (`whole_files.py`)
    assert not imported_modules(".", cwd=tmp_path) & set(HEAVY)


def test_checking_a_file_leaves_the_collector_as_it_was() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    original = engine._check

    def spy(*args):
        seen.append(gc.get_threshold())
        return original(*args)

    engine._check = spy
    try:
        result = engine.lint_source(BAD, "bad.py")
    finally:
        engine._check = original
    assert [finding.code for finding in result.findings] == ["MPL001"]
    assert seen and seen[0][0] >= engine.PARSE_GC_THRESHOLD  # collected less often meanwhile
    assert gc.get_threshold() == before
