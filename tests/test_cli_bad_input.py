"""Files that cannot be checked: one clear line each, exit 2, and every other file still checked."""

from __future__ import annotations

import os
import re

import pytest

from console import BAD, CLEAN, assert_no_traceback, mplint as run, stderr_lines, write

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess

# Each broken file mentions multiprocessing: a file that cannot contain a finding is not parsed.
SYNTAX_ERROR = "import multiprocessing\n\ndef start(:\n    pass\n"
UNDECODABLE = b"import multiprocessing\n\nname = '\xff\xfe'\n"
NULL_BYTE = b"import multiprocessing\n\x00\npool = multiprocessing.Pool(4)\n"


def make_broken_symlink(root):
    os.symlink(root / "nowhere.py", root / "broken.py")


def make_symlink_loop(root):
    os.symlink(root / "broken.py", root / "broken.py")


CASES = {
    "syntax error": lambda root: write(root, {"broken.py": SYNTAX_ERROR}),
    "undecodable bytes": lambda root: write(root, {"broken.py": UNDECODABLE}),
    "null byte": lambda root: write(root, {"broken.py": NULL_BYTE}),
    "unreadable (broken symlink)": make_broken_symlink,
    "unreadable (symlink loop)": make_symlink_loop,
    "missing path": lambda root: None,
}


def check_one_error_line(done, path_pattern: str) -> str:
    assert done.returncode == 2
    assert_no_traceback(done)
    lines = stderr_lines(done)
    errors = [line for line in lines if line.startswith("mplint: error: ")]
    assert len(errors) == 1, lines
    assert re.match(rf"mplint: error: {path_pattern}: \S", errors[0]), errors[0]
    # the error line and the summary: nothing else
    assert len(lines) == 2, lines
    return errors[0]


# A missing path can only be named: there is nothing to find when walking.
@pytest.mark.parametrize(
    ("case", "walked"),
    [(case, False) for case in CASES] + [(case, True) for case in CASES if case != "missing path"],
)
def test_a_file_that_cannot_be_checked_is_one_line_and_the_others_still_count(tmp_path, case, walked):
    write(tmp_path, {"good.py": CLEAN, "bad.py": BAD})
    CASES[case](tmp_path)
    paths = ["."] if walked else ["good.py", "broken.py", "bad.py"]
    done = run(*paths, cwd=tmp_path)
    check_one_error_line(done, r"broken\.py(:\d+)*")
    assert done.stdout.splitlines()[0].startswith("bad.py:3:8: MPL001 ")
    assert len(done.stdout.splitlines()) == 1
    assert stderr_lines(done)[-1] == (
        "Found 1 finding in 1 file (2 files checked, 1 file could not be checked)."
    )


def test_a_syntax_error_names_its_line(tmp_path):
    write(tmp_path, {"broken.py": SYNTAX_ERROR})
    line = check_one_error_line(run("broken.py", cwd=tmp_path), r"broken\.py:3:\d+")
    assert "cannot parse" in line


def test_undecodable_bytes_name_their_line(tmp_path):
    write(tmp_path, {"broken.py": UNDECODABLE})
    check_one_error_line(run("broken.py", cwd=tmp_path), r"broken\.py:3")


def test_a_null_byte_names_its_line(tmp_path):
    write(tmp_path, {"broken.py": NULL_BYTE})
    line = check_one_error_line(run("broken.py", cwd=tmp_path), r"broken\.py:2")
    assert "null byte" in line


def test_an_unreadable_file_says_why(tmp_path):
    make_broken_symlink(tmp_path)
    line = check_one_error_line(run("broken.py", cwd=tmp_path), r"broken\.py")
    assert line == "mplint: error: broken.py: cannot read: No such file or directory"


def test_a_missing_path_says_so(tmp_path):
    line = check_one_error_line(run("nothere", cwd=tmp_path), "nothere")
    assert line == "mplint: error: nothere: no such file or directory"


def test_bad_input_from_stdin_is_reported_under_its_name(tmp_path):
    done = run("-", "--stdin-filename", "job.py", cwd=tmp_path, stdin=SYNTAX_ERROR)
    check_one_error_line(done, r"job\.py:3:\d+")


def test_json_output_stays_valid_when_a_file_cannot_be_checked(tmp_path):
    import json

    write(tmp_path, {"bad.py": BAD, "broken.py": SYNTAX_ERROR})
    done = run("--format", "json", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert [f["path"] for f in json.loads(done.stdout)] == ["bad.py"]
    check_one_error_line(done, r"broken\.py:3:\d+")


def test_several_broken_files_give_one_line_each_sorted_by_path(tmp_path):
    write(tmp_path, {"z.py": SYNTAX_ERROR, "a.py": NULL_BYTE, "m.py": CLEAN})
    done = run(".", "missing.py", cwd=tmp_path)
    assert done.returncode == 2
    assert_no_traceback(done)
    errors = [line.split(":")[2].strip() for line in stderr_lines(done)[:-1]]
    assert errors == ["a.py", "missing.py", "z.py"]
    assert stderr_lines(done)[-1] == "No findings (1 file checked, 3 files could not be checked)."
