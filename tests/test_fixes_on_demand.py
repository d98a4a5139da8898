"""Fixes are built only for a consumer that shows them: flake8 and the language server's
diagnostics check without building any (no rewrite located, no guard plan made, one parse of a
partly parsed file), the command line and code actions build them, and the cache never hands a
result checked without fixes to a consumer that shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import libcst
import pytest

from mplint import engine, lint_source
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings
from mplint.findings import FileResult, Finding
from mplint.fixes import Fix, guard
from mplint.options import DEFAULT_OPTIONS
from mplint.precheck import enabled_codes
from mplint.runner import check_buffer, lint_paths

#: a script with a guard fix (MPL001) and a tuple fix (MPL011), and many functions that do not use
#: the API, which partial parsing blanks
SCRIPT = (
    "import multiprocessing\n\n\ndef square(x):\n    return x * x\n\n\n"
    + "".join(f"def step_{n}(values):\n    return [v * {n} for v in values]\n\n\n" for n in range(40))
    + "def greet(name):\n    print(name)\n\n\n"
    "worker = multiprocessing.Process(target=greet, args=(\"alice\"))\n"
    "worker.start()\nworker.join()\n"
    "with multiprocessing.Pool(2) as pool:\n    print(pool.map(square, range(10)))\n"
)


class Spy:
    """Counts LibCST parses, located rewrites and guard plans while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parses = self.located = self.plans = 0
        parse, locate, plan = libcst.parse_module, engine.locate, guard.plan

        def parsing(*args, **kwargs):
            self.parses += 1
            return parse(*args, **kwargs)

        def locating(*args, **kwargs):
            self.located += 1
            return locate(*args, **kwargs)

        def planning(*args, **kwargs):
            self.plans += 1
            return plan(*args, **kwargs)

        monkeypatch.setattr(engine.cst, "parse_module", parsing)
        monkeypatch.setattr(engine, "locate", locating)
        monkeypatch.setattr(guard, "plan", planning)

    def reset(self) -> None:
        self.parses = self.located = self.plans = 0


def _shape(findings: list[Finding]) -> list[tuple]:
    return [(f.line, f.column, f.end_line, f.end_column, f.code, f.message) for f in findings]


def test_a_check_without_fixes_builds_none_and_parses_once(monkeypatch) -> None:
    spy = Spy(monkeypatch)
    with_fixes = lint_source(SCRIPT, "job.py")
    assert sorted(f.code for f in with_fixes.findings if f.fix is not None) == ["MPL001", "MPL001", "MPL011"]
    assert with_fixes.fixes and spy.located == 3 and spy.plans == 1
    assert spy.parses == 2  # the blanked file, then the whole one to build the fixes on
    spy.reset()
    without = lint_source(SCRIPT, "job.py", fixes=False)
    assert (spy.parses, spy.located, spy.plans) == (1, 0, 0)
    assert not without.fixes and all(f.fix is None for f in without.findings)
    assert _shape(without.findings) == _shape(with_fixes.findings)


def test_a_module_that_is_no_script_makes_no_guard_plan_even_with_fixes(monkeypatch) -> None:
    spy = Spy(monkeypatch)
    found = lint_source(SCRIPT, "test_job.py", codes=["MPL001"])
    assert [f.code for f in found.findings] == ["MPL001", "MPL001"] and all(f.fix is None for f in found.findings)
    assert (spy.parses, spy.plans) == (1, 0)  # no fix to build: the blanked parse stands


def test_flake8_builds_no_fix(tmp_path: Path, monkeypatch) -> None:
    from mplint.flake8_plugin import Plugin

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLINT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    spy = Spy(monkeypatch)
    reported = list(Plugin(None, SCRIPT.splitlines(keepends=True), str(path)).run())
    assert sorted(text.split()[0] for _, _, text, _ in reported) == ["MPL001", "MPL001", "MPL011"]
    assert (spy.located, spy.plans) == (0, 0)
    assert spy.parses == 1  # the buffer is summarised for its project in its one parse


def test_the_server_s_diagnostics_build_no_fix_and_its_code_actions_do(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("lsprotocol.types", reason="the server extra is part of the test extra")
    from mplint.server.documents import check

    monkeypatch.setenv("MPLINT_CACHE_DIR", str(tmp_path / "cache"))
    path = str(tmp_path / "job.py")
    settings = load_settings(CommandLine(), cwd=str(tmp_path))
    spy = Spy(monkeypatch)
    shown, _ = check(SCRIPT, path, settings, {})
    assert (spy.located, spy.plans) == (0, 0) and all(f.fix is None for f in shown.findings)
    spy.reset()
    fixed, _ = check(SCRIPT, path, settings, {}, fixes=True)
    assert spy.located == 3 and spy.plans == 1  # not served the entry the diagnostics left
    assert _shape(fixed.findings) == _shape(shown.findings)
    reference = lint_source(SCRIPT, path)
    assert [f.fix for f in fixed.findings] == [f.fix for f in reference.findings]


def test_a_cache_entry_made_without_fixes_serves_only_consumers_that_show_none(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    key = cache.key("digest", "job.py", ["MPL011"], DEFAULT_OPTIONS)
    checked = lint_source(SCRIPT, "job.py", codes=["MPL011"], fixes=False)
    cache.put(key, checked)
    assert json.loads(next((tmp_path / "cache").glob("*/*.json")).read_text())["fixes"] is None
    assert cache.get(key, "job.py", fixes=True) is None
    served = cache.get(key, "job.py", fixes=False)
    assert served is not None and not served.fixes and _shape(served.findings) == _shape(checked.findings)
    # one with fixes serves both; a result with no finding has no fix to miss
    cache.put(key, lint_source(SCRIPT, "job.py", codes=["MPL011"]))
    for fixes in (True, False):
        served = cache.get(key, "job.py", fixes=fixes)
        assert served is not None and served.fixes and isinstance(served.findings[0].fix, Fix)
    cache.put(key, FileResult("job.py", fixes=False))
    assert cache.get(key, "job.py", fixes=True) == FileResult("job.py")


def test_a_run_that_shows_fixes_is_not_served_a_buffer_s_fixless_entry(tmp_path: Path, monkeypatch) -> None:
    """The language server's diagnostics and the command line share the module's own entry (same
    key): the command line must check the file again, and a run that shows no fix need not."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    settings = load_settings(CommandLine(), cwd=str(tmp_path))
    codes = enabled_codes(None)
    cache = Cache(tmp_path / "cache")
    buffer, _ = check_buffer(str(path), SCRIPT, codes, settings.rule_options, cache, fixes=False)
    assert not buffer.fixes and buffer.findings
    spy = Spy(monkeypatch)
    quiet = lint_paths([str(path)], settings, cache=cache, fixes=False)
    assert spy.parses == 0 and _shape(quiet.findings) == _shape(buffer.findings)  # served: the same key
    shown = lint_paths([str(path)], settings, cache=cache)
    assert spy.parses > 0 and sorted(f.code for f in shown.findings if f.fix is not None) == ["MPL001", "MPL001", "MPL011"]
    spy.reset()
    again = lint_paths([str(path)], settings, cache=cache)  # the entry now holds the fixes
    assert spy.parses == 0 and [f.fix for f in again.findings] == [f.fix for f in shown.findings]


@pytest.mark.slow
def test_fix_through_the_command_line_after_flake8_and_the_server_left_fixless_entries(tmp_path: Path) -> None:
    pytest.importorskip("lsprotocol.types", reason="the server extra is part of the test extra")
    from mplint.flake8_plugin import _check
    from mplint.server.documents import check

    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    env = {**os.environ, "MPLINT_CACHE_DIR": str(tmp_path / "cache")}
    os.environ["MPLINT_CACHE_DIR"] = env["MPLINT_CACHE_DIR"]
    try:
        settings = load_settings(CommandLine(), cwd=str(tmp_path))
        check(SCRIPT, str(path), settings, {})
        _check(str(path), SCRIPT, enabled_codes(None), DEFAULT_OPTIONS)
    finally:
        del os.environ["MPLINT_CACHE_DIR"]
    entries = [json.loads(entry.read_text()) for entry in (tmp_path / "cache").glob("*/*.json")]
    assert sum(1 for entry in entries if "result" in entry and entry["result"]["fixes"] is None) == 2

    def mplint(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mplint", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    shown, fresh = mplint("job.py"), mplint("--no-cache", "job.py")
    assert shown.stdout.count("[*]") == 3 and "3 fixable with `--fix`." in shown.stderr, shown
    assert (shown.stdout, shown.stderr) == (fresh.stdout, fresh.stderr)
    mplint("--fix", "job.py")
    fixed = path.read_text()
    assert 'args=("alice",)' in fixed and 'if __name__ == "__main__":' in fixed


def test_the_formats_said_to_show_no_fix_print_the_same_without_fixes() -> None:
    """`report.SHOWS_FIXES` decides whether a `--quiet` run builds fixes: every other format must
    print a run with fixes and the same run without them alike (and each format that shows them
    must differ, or the list is wider than it needs)."""
    import dataclasses
    import io

    from mplint.report import SHOWS_FIXES, formats, writer
    from mplint.report import text
    from mplint.runner import Run

    with_fixes = lint_source(SCRIPT, "job.py")
    without = FileResult("job.py", [dataclasses.replace(f, fix=None) for f in with_fixes.findings], fixes=False)

    def printed(name: str, result: FileResult) -> str:
        out = io.StringIO()
        run = Run(results=[result], sources={"job.py": SCRIPT})
        if name == "text":
            text.write(run, out, source_of=run.sources.get)
        else:
            writer(name)(run, out)
        return out.getvalue()

    for name in formats():
        same = printed(name, with_fixes) == printed(name, without)
        assert same != (name in SHOWS_FIXES), name
