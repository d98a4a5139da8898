"""The pre-commit hook, run for real: `pre-commit try-repo` installs this checkout into a fresh hook
environment (from PyPI) and runs it in a temporary git repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # pre-commit depends on PyYAML

from mplint import __version__

ROOT = Path(__file__).resolve().parent.parent

BAD = """\
import multiprocessing


def square(x):
    return x * x


pool = multiprocessing.Pool(2)
print(pool.map(square, range(4)))
"""

FIXED = """\
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(4)))
"""

GOOD = """\
def add(a, b):
    return a + b
"""


def _in_a_git_checkout(path: Path) -> bool:
    try:
        done = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True)
    except OSError:  # no git at all
        return False
    return done.returncode == 0


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)  # the hook gets its own environment, not the one running the tests
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "mplint", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )


def test_hook_definition() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "mplint"
    assert hook["entry"] == "mplint --force-exclude"  # pre-commit names every file
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["require_serial"] is True  # mplint runs its own process pool


def test_readme_snippet_names_this_hook_and_version() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- pre-commit-config -->\n```yaml\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no pre-commit-config block"
    [repo] = yaml.safe_load(block.group(1))["repos"]
    ids = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert [hook["id"] for hook in repo["hooks"]] == ["mplint"] and "mplint" in ids
    assert repo["rev"] == f"v{__version__}"


@pytest.mark.slow
@pytest.mark.skipif(not _in_a_git_checkout(ROOT),
                    reason="pre-commit try-repo needs this project as a git checkout (e.g. not an unpacked sdist)")
def test_hook_fails_on_a_mistake_and_passes_once_fixed(tmp_path: Path) -> None:
    repo, home = tmp_path / "repo", tmp_path / "pre-commit-home"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "jobs.py").write_text(BAD)
    (repo / "util.py").write_text(GOOD)
    (repo / "notes.txt").write_text("pool = multiprocessing.Pool(2)\n")  # not Python: not given to the hook
    # pre-commit names this file too: the config's exclude must still keep it out
    (repo / "pyproject.toml").write_text('[tool.mplint]\nexclude = ["generated"]\n')
    (repo / "generated").mkdir()
    (repo / "generated" / "jobs.py").write_text(BAD)
    _git(repo, "add", ".")

    failed = _try_repo(repo, home, "--all-files")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "Failed" in output
    assert "jobs.py:8:8: MPL001 [*] `multiprocessing.Pool(...)` starts a pool of worker processes" in output
    assert "util.py:" not in output and "notes.txt" not in output and "generated" not in output

    (repo / "jobs.py").write_text(FIXED)
    _git(repo, "add", ".")
    passed = _try_repo(repo, home, "--files", "jobs.py", "util.py")
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "Passed" in output and "MPL001" not in output


FIXABLE = """\
import multiprocessing


def double(x):
    return x * 2


with multiprocessing.Pool(2) as pool:
    print(pool.apply(double, ("ab")))
"""


def _snapshot_of_this_checkout(where: Path) -> tuple[Path, str]:
    """A git repository holding this checkout's files as they are now (as `try-repo` makes one),
    and its commit: a `.pre-commit-config.yaml` can point at it with a `rev` and `args`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")
    where.mkdir()
    _git(where, "init", "-q")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)
    _git(where, "add", ".")
    _git(where, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "snapshot")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, check=True, capture_output=True, text=True)
    return where, head.stdout.strip()


@pytest.mark.slow
def test_hook_with_fix_fails_when_it_changed_files_and_the_next_commit_passes(tmp_path: Path) -> None:
    source, rev = _snapshot_of_this_checkout(tmp_path / "mplint")
    repo, home = tmp_path / "repo", tmp_path / "pre-commit-home"
    repo.mkdir()
    _git(repo, "init", "-q")
    config = {"repos": [{"repo": str(source), "rev": rev, "hooks": [{"id": "mplint", "args": ["--fix"]}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    (repo / "jobs.py").write_text(FIXABLE)
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,
                              env=env, capture_output=True, text=True, timeout=540)

    first = run()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    fixed = (repo / "jobs.py").read_text()
    assert fixed == FIXABLE.replace("with multiprocessing", 'if __name__ == "__main__":\n    with multiprocessing').replace(
        "    print(", "        print(").replace('("ab")', '("ab",)')
    _git(repo, "add", ".")
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
