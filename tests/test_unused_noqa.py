"""MPL100 unused-noqa through the installed console script and a real flake8: opt-in, judged only
for rules that ran, the same under both."""

from __future__ import annotations

import subprocess
import sys

from console import mplint as run, write

SOURCE = """\
import multiprocessing


def main():
    with multiprocessing.Pool(4) as pool:  # noqa: MPL002
        return pool.map(abs, [-1])


pool = multiprocessing.Pool(2)  # noqa: MPL001
"""


def test_unused_noqa_is_opt_in(tmp_path):
    write(tmp_path, {"jobs.py": SOURCE})
    done = run("--no-cache", "jobs.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_unused_noqa_reports_the_stale_code_at_its_comment(tmp_path):
    write(tmp_path, {"jobs.py": SOURCE})
    done = run("--no-cache", "--extend-select", "MPL100", "jobs.py", cwd=tmp_path)
    assert done.returncode == 1
    [line] = done.stdout.splitlines()
    assert line.startswith("jobs.py:5:44: MPL100 `# noqa` names `MPL002`, but mplint reports no MPL002 finding")


def test_a_code_of_a_rule_that_did_not_run_is_not_judged(tmp_path):
    write(tmp_path, {"jobs.py": SOURCE})
    done = run("--no-cache", "--extend-select", "MPL100", "--ignore", "MPL002", "jobs.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_flake8_reports_the_same_unused_noqa(tmp_path):
    write(tmp_path, {"jobs.py": SOURCE})
    cli = run("--no-cache", "--extend-select", "MPL100", "jobs.py", cwd=tmp_path)
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "MPL", "--extend-select", "MPL100", "jobs.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert flake8.stdout.splitlines() == cli.stdout.splitlines() != []
