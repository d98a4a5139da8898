"""The memo of a whole run (`run_memo.py`): keyed by the named files alone, with the project
modules, `pyproject.toml` files, folder listings and "is it a folder?" answers the project side
read recorded beside it. A warm run with nothing changed neither builds the session nor imports
it; any change to what it recorded is a miss, for real, with the right findings after it. The
scenarios both memos must answer alike (a module changed, added or removed, a package shadowing a
module, a folder's listing) are run against this one too in tests/test_link_memo.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import assert_no_traceback, drop_command_memos, mplint, write
from mplint import runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings

from memo_layers import FOUND, JOBS, JOBS_IDLE, RUN, RUN_MEMO, Counted, age_all, make_project, memo_entries


def test_a_warm_run_with_nothing_changed_builds_no_session(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND and run.misses == 1
    assert run(root) == FOUND and run.misses == 1
    assert run(root, ".") == FOUND and run.misses == 2  # other named files: another key
    assert run(root, ".") == FOUND and run.misses == 2


def test_a_changed_named_file_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND
    (root / "run.py").write_text("from app import jobs\n\n\njobs.run_all()\n")
    age_all(root)
    assert run(root) == [("run.py", 4, "MPL001")] and run.misses == 2


def test_a_racily_clean_module_is_read_again(tmp_path: Path, monkeypatch) -> None:
    """The module was read within the index's timestamp resolution of its last change (so the
    index holds no entry for it), then changed keeping its size and, put back with utime, its
    time: the memo's look-up reads it, and misses."""
    root = make_project(tmp_path / "p")
    jobs = root / "app" / "jobs.py"
    jobs.write_text(JOBS)  # just now: racily clean when this run reads it
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND
    stamp = jobs.stat()
    jobs.write_text(JOBS_IDLE)
    os.utime(jobs, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert (jobs.stat().st_size, jobs.stat().st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns)
    assert run(root) == [] and run.misses == 2


def test_a_renamed_module_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND
    (root / "app" / "jobs.py").rename(root / "app" / "work.py")
    assert run(root) == [] and run.misses == 2
    (root / "app" / "work.py").rename(root / "app" / "jobs.py")
    assert run(root) == FOUND and run.misses == 2  # as the first run saw it: its memo stands


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_module_that_could_not_be_read_and_now_can_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    """`app/jobs.py` is a named pipe (never read: it could block the run), then a file."""
    root = make_project(tmp_path / "p", {"run.py": "import multiprocessing\n" + RUN})
    jobs = root / "app" / "jobs.py"
    jobs.unlink()
    os.mkfifo(jobs)
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == []
    assert run(root) == [] and run.misses == 1
    jobs.unlink()
    jobs.write_text(JOBS)
    assert run(root) == [("run.py", 4, "MPL001")] and run.misses == 2


def test_a_new_project_root_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    """A `pyproject.toml` put in `app/` makes it a project of its own: `run.py` no longer
    reaches `app.jobs` (the folder listing above the file tells it)."""
    root = make_project(tmp_path / "p")
    (root / "app" / "__init__.py").unlink()
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND  # `app` is a namespace package of the project
    write(root / "sub", {"pyproject.toml": "[project]\nname = 's'\n", "run.py": RUN})
    write(root, {"sub/app/jobs.py": JOBS})
    age_all(root)
    assert run(root, "sub/run.py") == [("sub/run.py", 3, "MPL001")]
    (root / "sub" / "app" / "jobs.py").write_text(JOBS_IDLE)
    age_all(root)
    assert run(root, "sub/run.py") == []
    built = run.misses
    (root / "sub" / "pyproject.toml").unlink()  # sub/ is now part of p: `app` is p's again
    assert run(root, "sub/run.py") == [] and run.misses == built + 1


def test_the_selected_rules_and_the_fixes_key_the_memo(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND
    assert run(root, codes=frozenset({"MPL002"})) == [] and run.misses == 2
    assert run(root, fixes=False) == FOUND and run.misses == 3  # (a result with fixes serves it)
    assert run(root) == FOUND and run.misses == 3
    assert any(f.fix is not None for f in run.last.findings)  # the first memo, with its fix


def _cli(root: Path, cache: Path, *args: str) -> list[tuple[str, int, str]]:
    done = mplint("--cache-dir", str(cache), "--format", "json", *args, cwd=root)
    assert_no_traceback(done)
    return [(f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)]


def test_the_src_setting_and_a_per_file_ignore_miss_through_the_cli(tmp_path: Path) -> None:
    """The CLI in a subprocess: `[tool.mplint] src` (read by the resolver, not by the run's
    settings when it is another project's) and `per-file-ignores` (the named file's codes)."""
    root = tmp_path / "p"
    write(root, {"pyproject.toml": "[project]\nname = 'p'\n", "bin/run.py": RUN,
                 "lib/app/__init__.py": "", "lib/app/jobs.py": JOBS})
    age_all(root)
    cache = tmp_path / "cache"
    assert _cli(root, cache, "bin/run.py") == []  # lib/ is not a source root: `app` is unknown
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.mplint]\nsrc = ['lib']\n")
    assert _cli(root, cache, "bin/run.py") == [("bin/run.py", 3, "MPL001")]
    assert _cli(root, cache, "bin/run.py") == [("bin/run.py", 3, "MPL001")]
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.mplint]\nsrc = ['lib']\n"
                                         "per-file-ignores = {'bin/*' = ['MPL001']}\n")
    assert _cli(root, cache, "bin/run.py") == []
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert _cli(root, cache, "bin/run.py") == []


def test_a_changed_module_misses_through_the_cli(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    assert _cli(root, cache, "run.py") == [("run.py", 3, "MPL001")]
    assert _cli(root, cache, "run.py") == [("run.py", 3, "MPL001")]
    (root / "app" / "jobs.py").write_text(JOBS_IDLE)
    age_all(root)
    assert _cli(root, cache, "run.py") == []


def test_a_warm_cli_run_imports_no_session_resolver_link_or_summary(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    assert _cli(root, cache, "run.py") == [("run.py", 3, "MPL001")]
    probe = (
        "import sys\n"
        "from mplint.cli import main\n"
        "try:\n"
        "    main(['--cache-dir', sys.argv[1], 'run.py'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = ('mplint.project.session', 'mplint.project.link', 'mplint.project.summary',\n"
        "         'mplint.project.memo', 'mplint.project.resolver', 'mplint.parallel', 'libcst')\n"
        "print(sorted(name for name in names if name in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(cache)], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert "run.py:3:" in done.stdout, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("damage", [b"{not json", b"[" * 100_000, b"null",
                                    b'{"run memo": "1", "modules": {}, "configs": {}, "listings": {}, "dirs": {},'
                                    b' "results": {"run.py": {"findings": [[0, 0, 0, 0, "x", "y", "z"]],'
                                    b' "error": null, "fixes": null}}}'])
def test_a_damaged_run_memo_is_ignored_without_a_word(tmp_path: Path, damage: bytes) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    first = mplint("--cache-dir", str(cache), "run.py", cwd=root)
    assert first.returncode == 1 and "run.py:3:" in first.stdout
    (entry,) = memo_entries(cache, RUN_MEMO)
    entry.write_bytes(damage)
    assert drop_command_memos(cache) == 1  # (it would answer first)
    again = mplint("--cache-dir", str(cache), "run.py", cwd=root)
    assert_no_traceback(again)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    assert len(memo_entries(cache, RUN_MEMO)) == 1  # written again whole


def test_a_run_memo_whose_record_was_tampered_with_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", RUN_MEMO)
    assert run(root) == FOUND
    (entry,) = memo_entries(tmp_path / "cache", RUN_MEMO)
    data = json.loads(entry.read_text())
    assert any(path.endswith("jobs.py") for path in data["modules"])  # it records the module reached
    data["modules"] = {path: "0" * 64 for path in data["modules"]}
    entry.write_text(json.dumps(data))
    assert run(root) == FOUND and run.misses == 2
