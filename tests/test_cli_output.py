"""The output and inspection options, through the installed console script: --output-format,
--color, --quiet, --output-file, --show-files, --show-settings, --add-noqa, --jobs, and the GitLab
code quality and JUnit XML formats."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from console import BAD, CLEAN, assert_no_traceback, console_script, mplint as run, stderr_lines, write
from mplint.report import formats

TWO = "import multiprocessing\n\npool = multiprocessing.Pool(4)\nother = multiprocessing.Pool(2)\n"


# --- --output-format full -------------------------------------------------------------------------


def test_full_output_shows_the_source_line_with_carets_under_the_finding(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    done = run("--no-cache", "--output-format", "full", "bad.py", cwd=tmp_path)
    assert done.returncode == 1
    first, *excerpt = done.stdout.splitlines()
    assert first.startswith("bad.py:3:8: MPL001 ")
    assert excerpt[:3] == [
        "  |",
        "3 | pool = multiprocessing.Pool(4)",
        "  |        ^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_full_output_of_stdin_shows_its_source(tmp_path):
    done = run("--no-cache", "--output-format", "full", "-", cwd=tmp_path, stdin=BAD)
    assert "3 | pool = multiprocessing.Pool(4)" in done.stdout


def test_concise_is_the_default_output(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    concise = run("--no-cache", "--output-format", "concise", "bad.py", cwd=tmp_path)
    assert concise.stdout == run("--no-cache", "bad.py", cwd=tmp_path).stdout
    assert len(concise.stdout.splitlines()) == 1


# --- colour ------------------------------------------------------------------------------------


def _on_a_terminal(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """stdout of the console script when it is a terminal (a pseudo-terminal here)."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([str(console_script()), *args], cwd=cwd, stdout=follower,
                              stderr=subprocess.DEVNULL, env=env, timeout=120)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 1
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_colour_on_a_terminal_unless_no_color(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    assert "\033[" in _on_a_terminal("--no-cache", "bad.py", cwd=tmp_path, env=env)
    assert "\033[" not in _on_a_terminal("--no-cache", "bad.py", cwd=tmp_path, env={**env, "NO_COLOR": "1"})
    assert "\033[" not in _on_a_terminal("--no-cache", "--color", "never", "bad.py", cwd=tmp_path, env=env)


def test_colour_always_and_never_whatever_the_stream(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    assert "\033[" not in run("--no-cache", "bad.py", cwd=tmp_path).stdout  # a pipe: auto means none
    always = run("--no-cache", "--color", "always", "bad.py", cwd=tmp_path).stdout
    assert "\033[31m" in always and "\033[0m" in always
    assert "\033[" not in run("--no-cache", "--color", "never", "bad.py", cwd=tmp_path).stdout


# --- --quiet -------------------------------------------------------------------------------------


def test_quiet_prints_the_findings_and_the_errors_only(tmp_path):
    write(tmp_path, {"bad.py": BAD, "empty/notes.txt": "x"})
    done = run("--no-cache", "-q", "bad.py", "missing.py", "empty", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("bad.py:3:8: MPL001 ")
    assert stderr_lines(done) == ["mplint: error: missing.py: no such file or directory"]
    clean = run("--no-cache", "--quiet", "bad.py", cwd=tmp_path)
    assert clean.stderr == ""


# --- --output-file -----------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", formats())
def test_output_file_holds_exactly_what_stdout_would(tmp_path, output_format):
    write(tmp_path, {"bad.py": BAD})
    to_stdout = run("--no-cache", "--format", output_format, "bad.py", cwd=tmp_path)
    (tmp_path / "out").mkdir()
    to_file = run("--no-cache", "--format", output_format, "--output-file", "out/report", "bad.py", cwd=tmp_path)
    assert to_file.returncode == to_stdout.returncode == 1
    assert to_file.stdout == ""
    assert to_file.stderr == to_stdout.stderr
    assert (tmp_path / "out" / "report").read_text() == to_stdout.stdout


def test_an_output_file_that_cannot_be_written_is_a_usage_error(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    done = run("--no-cache", "--output-file", "nowhere/report.txt", "bad.py", cwd=tmp_path)
    assert done.returncode == 2
    assert_no_traceback(done)
    assert "--output-file: cannot write nowhere/report.txt: No such file or directory" in done.stderr


# --- --show-files and --show-settings --------------------------------------------------------------


def test_show_files_lists_what_a_run_would_check_and_what_needs_a_parse(tmp_path):
    write(tmp_path, {"jobs.py": BAD, "util.py": "def add(a, b):\n    return a + b\n",
                     "skipped/x.py": BAD, "pyproject.toml": '[tool.mplint]\nexclude = ["skipped"]\n'})
    done = run("--show-files", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "jobs.py: parse",
        "util.py: no parse (it cannot hold a finding of the rules enabled for it)",
    ]
    assert not (tmp_path / ".mplint_cache").exists()  # nothing was checked


def test_show_settings_gives_every_key_its_value_and_its_origin(tmp_path):
    from mplint.config import OPTIONS

    write(tmp_path, {"pyproject.toml": '[tool.mplint]\nignore = ["MPL002"]\nexclude = ["gen"]\n'})
    done = run("--show-settings", "--extend-select", "MPL004", "--exclude", "other", "--ignore", "MPL003",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "# configuration file: pyproject.toml"
    rows = {line.split(" = ")[0]: line for line in lines[2:] if " = " in line}
    assert set(rows) == {option.key for option in OPTIONS}  # every key of the schema, no other
    assert rows["select"].endswith("# default")
    assert rows["ignore"].split("  #")[0].rstrip().endswith('["MPL002", "MPL003"]')
    assert rows["ignore"].endswith("# pyproject.toml + --ignore")
    assert rows["exclude"].split("  #")[0].rstrip().endswith('["other"]') and rows["exclude"].endswith("# --exclude")
    assert rows["extend-select"].endswith("# --extend-select")
    assert rows["per-file-ignores"].endswith("# default")
    enabled = lines[-1]
    assert enabled.startswith("# rules enabled: ") and "MPL004" in enabled and "MPL002" not in enabled


# --- --add-noqa ---------------------------------------------------------------------------------


def test_add_noqa_silences_every_finding_keeping_existing_codes(tmp_path):
    source = (
        "import multiprocessing\n"
        "\n"
        "a = multiprocessing.Pool(1)  # noqa: E501\n"
        "b = multiprocessing.Pool(2)  # a comment\n"
        'c = multiprocessing.Pool("""\n'
        '""")\n'
        "d = multiprocessing.Pool(4) + \\\n"
        "    0\n"
        "e = multiprocessing.Pool(  # noqa: MPL001\n"
        "    5)\n"
    )
    write(tmp_path, {"jobs.py": source})
    done = run("--no-cache", "--add-noqa", "jobs.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stderr_lines(done)[-1] == "mplint: added 4 noqa comments in 1 file"
    assert (tmp_path / "jobs.py").read_text() == (
        "import multiprocessing\n"
        "\n"
        "a = multiprocessing.Pool(1)  # noqa: E501, MPL001\n"
        "b = multiprocessing.Pool(2)  # a comment  # noqa: MPL001\n"
        'c = multiprocessing.Pool("""\n'
        '""")  # noqa: MPL001\n'
        "d = multiprocessing.Pool(4) + \\\n"
        "    0  # noqa: MPL001\n"
        "e = multiprocessing.Pool(  # noqa: MPL001\n"
        "    5)\n"
    )
    again = run("--no-cache", "jobs.py", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "MPL", "jobs.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (flake8.returncode, flake8.stdout) == (0, "")  # flake8 reads the comments the same way


def test_add_noqa_keeps_the_files_encoding_and_line_ends(tmp_path):
    source = "# -*- coding: latin-1 -*-\r\nimport multiprocessing\r\nname = 'caf\xe9'\r\npool = multiprocessing.Pool(4)\r\n"
    (tmp_path / "jobs.py").write_bytes(source.encode("latin-1"))
    assert run("--no-cache", "--add-noqa", "jobs.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "jobs.py").read_bytes() == source.replace(
        "Pool(4)\r\n", "Pool(4)  # noqa: MPL001\r\n").encode("latin-1")


def test_add_noqa_does_not_read_stdin(tmp_path):
    done = run("--add-noqa", "-", cwd=tmp_path, stdin=BAD)
    assert done.returncode == 2 and "--add-noqa" in done.stderr


# --- --jobs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["auto", "0", "1", "2"])
def test_jobs_auto_and_0_mean_the_cpus_available(tmp_path, jobs):
    write(tmp_path, {f"m{i}.py": TWO for i in range(6)})
    done = run("--no-cache", "--jobs", jobs, ".", cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 12


@pytest.mark.parametrize("jobs", ["-1", "many"])
def test_jobs_must_be_a_count_or_auto(tmp_path, jobs):
    done = run("--jobs", jobs, cwd=tmp_path)
    assert done.returncode == 2 and "--jobs" in done.stderr


# --- GitLab code quality -----------------------------------------------------------------------


def test_gitlab_code_quality_report(tmp_path):
    write(tmp_path, {"a.py": TWO, "b.py": CLEAN, "broken.py": "import multiprocessing\ndef f(:\n"})
    done = run("--no-cache", "--format", "gitlab", ".", cwd=tmp_path)
    assert done.returncode == 2
    issues = json.loads(done.stdout)
    assert len(issues) == 3
    for issue in issues:
        assert set(issue) == {"type", "check_name", "description", "categories", "severity", "fingerprint", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
    broken, *found = issues
    assert broken["check_name"] == "mplint-could-not-check" and broken["location"]["path"] == "broken.py"
    assert [issue["check_name"] for issue in found] == ["MPL001", "MPL001"]
    assert found[0]["location"] == {"path": "a.py", "positions": {"begin": {"line": 3, "column": 8},
                                                                "end": {"line": 3, "column": 31}}}
    assert found[0]["severity"] == "major"
    assert len({issue["fingerprint"] for issue in issues}) == 3
    # the fingerprint stays when code above moves
    write(tmp_path, {"a.py": "\n\n" + TWO})
    moved = json.loads(run("--no-cache", "--format", "gitlab", ".", cwd=tmp_path).stdout)
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in issues]


# --- JUnit XML --------------------------------------------------------------------------------


def test_junit_report_is_structurally_valid(tmp_path):
    write(tmp_path, {"a.py": TWO, "b.py": CLEAN, "broken.py": "import multiprocessing\ndef f(:\n"})
    done = run("--no-cache", "--format", "junit", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ElementTree.fromstring(done.stdout.encode())
    assert root.tag == "testsuites"
    [suite] = list(root)
    assert suite.tag == "testsuite" and suite.get("name") == "mplint"
    cases = list(suite)
    assert all(case.tag == "testcase" and case.get("classname") and case.get("name") for case in cases)
    failures = [child for case in cases for child in case if child.tag == "failure"]
    errors = [child for case in cases for child in case if child.tag == "error"]
    for element in (root, suite):
        assert element.get("tests") == str(len(cases)) == "4"
        assert element.get("failures") == str(len(failures)) == "2"
        assert element.get("errors") == str(len(errors)) == "1"
    assert all(len(case) <= 1 for case in cases)  # one outcome a test case
    assert {f.get("type") for f in failures} == {"MPL001"} and all(f.get("message") for f in failures)
    assert failures[0].text.startswith("a.py:3:8: MPL001 ")
    passed = [case for case in cases if len(case) == 0]
    assert [case.get("classname") for case in passed] == ["b.py"]
