"""The installed `mplint` command: output, exit codes, rule selection, noqa, stdin."""

from __future__ import annotations

import json
import re
import sys

import pytest

import mplint
from console import BAD, CLEAN, assert_no_traceback, mplint as run, stderr_lines, write

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess

FINDING = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<code>MPL\d{3}) (?P<message>.+)$")


def parsed(stdout: str) -> list[tuple[str, int, int, str]]:
    rows = []
    for line in stdout.splitlines():
        match = FINDING.match(line)
        assert match, f"not a finding line: {line!r}"
        rows.append((match["path"], int(match["line"]), int(match["column"]), match["code"]))
    return rows


def test_a_finding_is_one_flake8_style_line_and_exit_1(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    done = run("bad.py", cwd=tmp_path)
    assert done.returncode == 1
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]
    # the message teaches the fix
    assert '__name__ == "__main__"' in done.stdout
    assert stderr_lines(done) == ["Found 1 finding in 1 file (1 file checked)."]


def test_clean_code_prints_nothing_and_exits_0(tmp_path):
    write(tmp_path, {"clean.py": CLEAN})
    done = run("clean.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert stderr_lines(done) == ["No findings (1 file checked)."]


def test_findings_are_sorted_by_path_line_and_column(tmp_path):
    two_on_a_line = "import multiprocessing\na = multiprocessing.Pool(1); b = multiprocessing.Pool(2)\n"
    write(tmp_path, {
        "a.py": BAD,
        "b.py": BAD + "\nother = multiprocessing.Pool(2)\n",
        "c.py": two_on_a_line,
        "sub/d.py": BAD,
    })
    done = run("sub", "c.py", "b.py", "a.py", cwd=tmp_path)  # given out of order on purpose
    assert done.returncode == 1
    assert parsed(done.stdout) == [
        ("a.py", 3, 8, "MPL001"),
        ("b.py", 3, 8, "MPL001"),
        ("b.py", 5, 9, "MPL001"),
        ("c.py", 2, 5, "MPL001"),
        ("c.py", 2, 34, "MPL001"),
        ("sub/d.py", 3, 8, "MPL001"),
    ]
    assert stderr_lines(done) == ["Found 6 findings in 4 files (4 files checked)."]


def test_default_path_is_the_current_folder_walked_for_py_files(tmp_path):
    write(tmp_path, {
        "bad.py": BAD,
        "clean.py": CLEAN,
        "pkg/mod.py": BAD,
        "notes.txt": BAD,  # not Python: not looked at when walking
        "script": BAD,  # no .py suffix: only checked when named
        **{f"{folder}/x.py": BAD for folder in (
            ".git", ".hg", ".venv", "venv", ".tox", ".nox", "build", "dist", "__pycache__",
            "node_modules", "lib/site-packages", ".eggs", "mplint.egg-info",
        )},
    })
    done = run(cwd=tmp_path)
    assert [row[0] for row in parsed(done.stdout)] == ["bad.py", "pkg/mod.py"]
    assert stderr_lines(done) == ["Found 2 findings in 2 files (3 files checked)."]


def test_a_file_named_explicitly_is_checked_whatever_its_suffix(tmp_path):
    write(tmp_path, {"script": BAD, "build/gen.py": BAD})
    done = run("script", "build/gen.py", cwd=tmp_path)
    assert parsed(done.stdout) == [("build/gen.py", 3, 8, "MPL001"), ("script", 3, 8, "MPL001")]


def test_json_output_is_an_array_of_findings_and_nothing_else(tmp_path):
    write(tmp_path, {"bad.py": BAD, "clean.py": CLEAN})
    done = run("--format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1
    findings = json.loads(done.stdout)  # the whole of stdout is the JSON document
    assert len(findings) == 1
    finding = findings[0]
    assert list(finding) == ["path", "line", "column", "end_line", "end_column", "code", "name", "message", "fix"]
    # `multiprocessing.Pool(4)` spans columns 8 to 30 of `pool = multiprocessing.Pool(4)`;
    # the end is exclusive
    assert {k: v for k, v in finding.items() if k not in ("message", "fix")} == {
        "path": "bad.py", "line": 3, "column": 8, "end_line": 3, "end_column": 31,
        "code": "MPL001", "name": "unguarded-process-creation",
    }
    assert "import" in finding["message"]
    assert stderr_lines(done) == ["Found 1 finding in 1 file (2 files checked)."]


def test_json_output_without_findings_is_an_empty_array(tmp_path):
    write(tmp_path, {"clean.py": CLEAN})
    done = run("--format", "json", cwd=tmp_path)
    assert (done.returncode, json.loads(done.stdout)) == (0, [])


def test_exit_zero_turns_findings_into_success_but_keeps_the_output(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    done = run("--exit-zero", "bad.py", cwd=tmp_path)
    assert done.returncode == 0
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]


def test_exit_zero_does_not_hide_files_that_could_not_be_checked(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    done = run("--exit-zero", "bad.py", "missing.py", cwd=tmp_path)
    assert done.returncode == 2


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ([], True),
        (["--select", "MPL001"], True),
        (["--select", "mpl001"], True),  # codes are not case-sensitive
        (["--select", "MPL"], True),
        (["--ignore", "MPL001"], False),
        (["--ignore", "MPL", "--extend-select", "MPL002"], False),
        (["--ignore", "MPL00"], False),
        (["--select", "MPL", "--ignore", "MPL001"], False),
        (["--select", "MPL001", "--ignore", "MPL"], True),  # the more specific selector wins
        (["--select", "MPL00,MPL002", "--ignore", "MPL00"], False),  # a tie goes to ignore
        (["--ignore", "MPL", "--extend-select", "MPL001"], True),
        (["--select", "MPL001,MPL"], True),  # comma-separated
        # repeatable: only the second --ignore outweighs --extend-select
        (["--extend-select", "MPL001,MPL002", "--ignore", "MPL", "--ignore", "MPL001"], False),
        (["--ignore", " MPL001 , "], False),
    ],
)
def test_select_ignore_and_extend_select(tmp_path, options, reported):
    write(tmp_path, {"bad.py": BAD})
    done = run(*options, "bad.py", cwd=tmp_path)
    assert done.returncode == (1 if reported else 0), done.stderr
    assert bool(done.stdout) is reported


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
@pytest.mark.parametrize("value", ["MPL999", "MPL9", "E501", "MPL001,XYZ"])
def test_unknown_rule_codes_are_a_usage_error_naming_option_and_code(tmp_path, option, value):
    write(tmp_path, {"bad.py": BAD})
    done = run(option, value, "bad.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    unknown = value.split(",")[-1]
    assert stderr_lines(done) == [f"mplint: error: {option}: unknown rule code or prefix {unknown!r}"]


@pytest.mark.parametrize(
    "comment",
    ["# noqa", "# noqa: MPL001", "# noqa:MPL001,MPL002", "# noqa: MPL002, MPL001", "# NOQA: MPL001", "# noqa: MPL"],
)
def test_noqa_suppresses_the_finding_on_its_line(tmp_path, comment):
    write(tmp_path, {"bad.py": BAD.replace("Pool(4)", f"Pool(4)  {comment}")})
    done = run("bad.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


# as under flake8: codes are compared as written, and `#noqa` is not a noqa comment
@pytest.mark.parametrize("comment", ["# noqa: MPL002", "# noqa:E501", "# no qa", "# NOQA: mpl001", "#noqa"])
def test_noqa_for_another_code_does_not_suppress(tmp_path, comment):
    write(tmp_path, {"bad.py": BAD.replace("Pool(4)", f"Pool(4)  {comment}")})
    done = run("bad.py", cwd=tmp_path)
    assert done.returncode == 1
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]


def test_noqa_on_another_line_does_not_suppress(tmp_path):
    write(tmp_path, {"bad.py": BAD.replace("import multiprocessing", "import multiprocessing  # noqa")})
    assert parsed(run("bad.py", cwd=tmp_path).stdout) == [("bad.py", 3, 8, "MPL001")]


def test_stdin_is_read_with_dash_and_named_by_stdin_filename(tmp_path):
    done = run("-", "--stdin-filename", "pkg/job.py", cwd=tmp_path, stdin=BAD)
    assert done.returncode == 1
    assert parsed(done.stdout) == [("pkg/job.py", 3, 8, "MPL001")]
    assert stderr_lines(done) == ["Found 1 finding in 1 file (1 file checked)."]


def test_stdin_without_a_name(tmp_path):
    done = run("-", cwd=tmp_path, stdin=BAD)
    assert parsed(done.stdout) == [("<stdin>", 3, 8, "MPL001")]


def test_stdin_filename_alone_reads_stdin(tmp_path):
    write(tmp_path, {"other.py": BAD})  # not read: no path means stdin here, not `.`
    done = run("--stdin-filename", "job.py", cwd=tmp_path, stdin=CLEAN)
    assert (done.returncode, done.stdout) == (0, "")
    assert stderr_lines(done) == ["No findings (1 file checked)."]


def test_stdin_together_with_files(tmp_path):
    write(tmp_path, {"a.py": BAD})
    done = run("a.py", "-", "--stdin-filename", "b.py", cwd=tmp_path, stdin=BAD)
    assert [row[0] for row in parsed(done.stdout)] == ["a.py", "b.py"]


def test_stdin_filename_without_dash_among_paths_is_a_usage_error(tmp_path):
    write(tmp_path, {"a.py": BAD})
    done = run("a.py", "--stdin-filename", "b.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "--stdin-filename" in done.stderr
    assert_no_traceback(done)


def test_list_rules_prints_every_rule_as_an_aligned_table(tmp_path):
    from mplint.rules import all_rules

    done = run("--list-rules", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    rules = all_rules()
    assert len(lines) == len(rules) >= 1
    for line, rule in zip(lines, rules):
        assert line.startswith(rule.code + " ")
        assert f" {rule.name} " in line
        assert line.endswith(rule.summary) or line.endswith(rule.summary + " (not enabled by default)")
    # the summaries start in one column
    assert len({line.index(rule.summary) for line, rule in zip(lines, rules)}) == 1
    mpl001 = next(line for line in lines if line.startswith("MPL001"))
    assert "unguarded-process-creation" in mpl001


def test_version(tmp_path):
    done = run("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"mplint {mplint.__version__}")


def test_python_dash_m_runs_the_same_command(tmp_path):
    import subprocess

    write(tmp_path, {"bad.py": BAD})
    done = subprocess.run([sys.executable, "-m", "mplint", "bad.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]


@pytest.mark.parametrize("options", [["--frobnicate"], ["--format", "xml"], ["--select"]])
def test_bad_options_are_usage_errors(tmp_path, options):
    done = run(*options, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_no_traceback(done)


def test_an_unexpected_exception_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    # No input makes the real command fail unexpectedly, so the wrapper is tested in-process.
    from mplint import cli, runner

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "lint_paths", broken)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main([str(tmp_path)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "mplint: internal error: RuntimeError: boom\n"
