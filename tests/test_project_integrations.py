"""Project-wide analysis through every integration, for real, on a multi-file project: the
installed command on a folder and on one changed file, flake8 on an editor's buffer, pre-commit
on a temporary git repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console import assert_no_traceback, mplint

pytestmark = pytest.mark.slow  # the console script, flake8 and pre-commit in subprocesses

PROJECT = Path(__file__).parent / "fixtures" / "projects" / "entry_chain"
CHAIN = (
    "(through `main()` (app/cli.py:14) -> `run_all()` (app/jobs.py:10) -> "
    "`multiprocessing.Pool(...)` (app/jobs.py:11))"
)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


def _lines(stdout: str) -> list[str]:
    return [line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in stdout.splitlines()]


def test_the_command_on_the_folder_reports_every_entry_script(project: Path) -> None:
    done = mplint("--no-cache", ".", cwd=project)
    assert_no_traceback(done)
    assert done.returncode == 1
    assert _lines(done.stdout) == ["bin/tool:8:10: MPL001", "run.py:5:1: MPL001", "run_package.py:5:1: MPL001"]
    assert CHAIN in done.stdout


def test_the_command_on_one_changed_file_reads_the_modules_it_reaches(project: Path) -> None:
    # pre-commit and editors pass the changed file only: the package is read, not reported
    cold = mplint("run.py", cwd=project)
    warm = mplint("run.py", cwd=project)  # the summaries now come from the cache
    for done in (cold, warm):
        assert_no_traceback(done)
        assert done.returncode == 1
        assert _lines(done.stdout) == ["run.py:5:1: MPL001"]
        assert CHAIN in done.stdout
    # the chain changes when a module it goes through changes, even though run.py did not
    jobs = project / "app" / "jobs.py"
    jobs.write_text(jobs.read_text().replace("with multiprocessing.Pool(workers) as pool:\n        return pool.map(square, range(100))", "return [square(n) for n in range(100)]"))
    edited = mplint("run.py", cwd=project)
    assert (edited.returncode, edited.stdout) == (0, ""), edited.stdout


def test_flake8_on_an_editor_buffer_gives_the_cross_module_finding(project: Path) -> None:
    buffer = "from app.cli import main\n\nprint('unsaved')\nmain()\n"
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "MPL", "--stdin-display-name",
         "run.py", "-"],
        input=buffer, capture_output=True, text=True, cwd=project, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith("run.py:4:1: MPL001 `main()` is called at import time")
    assert CHAIN in line


def test_stdin_with_a_display_name_is_checked_within_its_project(project: Path) -> None:
    done = mplint("--stdin-filename", "run.py", "-", cwd=project, stdin="from app import main\nmain()\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert _lines(done.stdout) == ["run.py:2:1: MPL001"]


def test_pre_commit_on_a_repository_checks_the_changed_file_within_its_project(project: Path, tmp_path: Path) -> None:
    from test_pre_commit_hook import _git, _try_repo

    home = tmp_path / "pre-commit-home"
    _git(project, "init", "-q")
    (project / "run.py").write_text("from app.cli import main\n\nif __name__ == '__main__':\n    main()\n")
    _git(project, "add", ".")
    passed = _try_repo(project, home, "--files", "run.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    (project / "run.py").write_text("from app.cli import main\n\nmain()\n")
    _git(project, "add", "run.py")
    failed = _try_repo(project, home, "--files", "run.py")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "run.py:3:1: MPL001 [*] `main()` is called at import time" in output and CHAIN in output
    assert "app/" not in output.split(CHAIN)[0].split("run.py:3:1")[0]
