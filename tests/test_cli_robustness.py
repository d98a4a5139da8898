"""Input that must neither stop nor hang a run, through the installed console script: files that are
not regular files, paths that cannot be read, code LibCST regenerates differently, long chains,
file names that are not UTF-8, damaged cache entries, excludes under pre-commit, empty selections.

Every run has a time limit (in `console.mplint`), so a hang fails its test instead of the suite.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from mplint.report import formats

from console import BAD, CLEAN, assert_no_traceback, console_script, mplint as run, stderr_lines, write

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess

TIME_LIMIT = 60  # seconds; a run that blocks on a read is killed and fails


def parsed(stdout: str) -> list[tuple[str, int, int, str]]:
    rows = []
    for line in stdout.splitlines():
        path, line_no, column, rest = line.split(":", 3)
        rows.append((path, int(line_no), int(column), rest.split()[0]))
    return rows


# --- not a regular file: one line, skipped, never a wait --------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
@pytest.mark.parametrize("jobs", [["-j1"], []])
@pytest.mark.parametrize("named", [True, False])
def test_a_fifo_is_one_line_and_never_blocks_the_run(tmp_path, jobs, named):
    write(tmp_path, {"good.py": CLEAN, "bad.py": BAD})
    os.mkfifo(tmp_path / "fifo.py")
    paths = ["fifo.py", "good.py", "bad.py"] if named else ["."]
    done = run("--no-cache", *jobs, *paths, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert_no_traceback(done)
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]
    assert stderr_lines(done)[0] == "mplint: error: fifo.py: skipped: a named pipe (FIFO), not a regular file"


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets on this platform")
def test_a_socket_in_a_folder_is_one_line(tmp_path):
    write(tmp_path, {"bad.py": BAD})
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.py"))
        done = run("--no-cache", ".", cwd=tmp_path)
    finally:
        server.close()
    assert done.returncode == 2
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]
    assert "mplint: error: sock.py: skipped: a socket, not a regular file" in stderr_lines(done)


# --- paths that cannot be read: as a user who is not root ------------------------------------------


def _as_unprivileged_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script under a user for whom mode 000 means unreadable: as root (CI runs as
    root), without the capabilities that let root read everything, else as `nobody`."""
    command = [str(console_script()), "--no-cache", *args]
    options: dict[str, object] = {}
    if os.geteuid() == 0:
        if shutil.which("setpriv"):
            command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
        else:  # pragma: no cover - depends on the machine
            options = {"user": 65534, "group": 65534, "extra_groups": []}
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIME_LIMIT, errors="replace",
            **options,  # type: ignore[call-overload]
        )
    except PermissionError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"cannot drop root's privileges here: {exc}")
    if done.returncode != 2 and "mplint" not in done.stderr:  # pragma: no cover
        pytest.skip(f"cannot drop root's privileges here: {done.stderr.strip()}")
    return done


@pytest.fixture
def shared_tmp():
    """A folder every user may enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="mplint-unreadable-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions only")
def test_an_unreadable_file_named_on_the_command_line_is_one_line_and_the_rest_is_checked(shared_tmp):
    write(shared_tmp, {"bad.py": BAD, "secret.py": BAD})
    for path in shared_tmp.iterdir():
        path.chmod(0o644)
    (shared_tmp / "secret.py").chmod(0)
    done = _as_unprivileged_user("secret.py", "bad.py", cwd=shared_tmp)
    assert done.returncode == 2, done.stderr
    assert_no_traceback(done)
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]
    assert stderr_lines(done)[0] == "mplint: error: secret.py: cannot read: Permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions only")
@pytest.mark.parametrize("named", [True, False])
def test_a_folder_that_cannot_be_listed_is_one_line_and_the_rest_is_checked(shared_tmp, named):
    write(shared_tmp, {"bad.py": BAD, "deep/er/locked/hidden.py": BAD})
    for path in shared_tmp.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (shared_tmp / "deep/er/locked").chmod(0)
    paths = ["deep/er/locked", "bad.py"] if named else ["."]
    done = _as_unprivileged_user(*paths, cwd=shared_tmp)
    assert done.returncode == 2, done.stderr
    assert_no_traceback(done)
    assert parsed(done.stdout) == [("bad.py", 3, 8, "MPL001")]
    errors = [line for line in stderr_lines(done) if line.startswith("mplint: error:")]
    assert len(errors) == 1 and "locked: cannot read folder: Permission denied" in errors[0], errors


# --- --force-exclude -------------------------------------------------------------------------------


EXCLUDING = '[tool.mplint]\nexclude = ["generated"]\n'


def test_named_files_are_checked_unless_force_exclude(tmp_path):
    write(tmp_path, {"pyproject.toml": EXCLUDING, "generated/bad.py": BAD, "bad.py": BAD})
    named = run("--no-cache", "generated/bad.py", "bad.py", cwd=tmp_path)
    assert [row[0] for row in parsed(named.stdout)] == ["bad.py", "generated/bad.py"]
    forced = run("--no-cache", "--force-exclude", "generated/bad.py", "bad.py", cwd=tmp_path)
    assert forced.returncode == 1
    assert parsed(forced.stdout) == [("bad.py", 3, 8, "MPL001")]
    assert "no Python file" not in forced.stderr  # excluded on purpose: nothing to say


def test_force_exclude_applies_to_the_stdin_filename(tmp_path):
    write(tmp_path, {"pyproject.toml": EXCLUDING})
    args = ("--no-cache", "--stdin-filename", "generated/job.py", "-")
    assert run(*args, cwd=tmp_path, stdin=BAD).returncode == 1
    forced = run("--force-exclude", *args, cwd=tmp_path, stdin=BAD)
    assert (forced.returncode, forced.stdout) == (0, "")


# --- an empty selection is an error; nothing to check is said ------------------------------------


@pytest.mark.parametrize(
    ("config", "options", "culprit"),
    [
        ("", ["--select", ""], "--select is empty"),
        ("[tool.mplint]\nselect = []\n", [], "pyproject.toml: [tool.mplint] select is empty"),
        ("", ["--select", "MPL001", "--ignore", "MPL001"], "the selection and the ignores leave nothing"),
    ],
)
def test_a_selection_of_no_rule_is_an_error(tmp_path, config, options, culprit):
    write(tmp_path, {"bad.py": BAD, "pyproject.toml": config})
    done = run("--no-cache", *options, "bad.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert stderr_lines(done) == [
        f"mplint: error: no rule to check: {culprit}; name at least one rule (`mplint --list-rules`)"
    ]


def test_a_path_with_no_python_file_says_so_and_exits_0(tmp_path):
    write(tmp_path, {"docs/notes.txt": "nothing here", "good.py": CLEAN})
    done = run("--no-cache", "docs", "good.py", cwd=tmp_path)
    assert done.returncode == 0
    assert stderr_lines(done) == ["mplint: warning: docs: no Python file to check", "No findings (1 file checked)."]


# --- positions: Python's tokens, also where LibCST regenerates other text ------------------------


def _call_position(source: str, nth: int = 0) -> tuple[int, int]:
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return calls[nth].lineno, calls[nth].col_offset + 1


@pytest.mark.parametrize(
    "source",
    [
        "import multiprocessing\n\\\npool = multiprocessing.Pool()\n",
        "import multiprocessing\n\\\n\\\n\npool = multiprocessing.Pool()\n",
        "import multiprocessing\ntry:\n    pass\nexcept OSError : pool = multiprocessing.Pool()\n",
        "import multiprocessing\ntry:\n    pass\nexcept OSError  :  pool = multiprocessing.Pool()\n",
    ],
    ids=["backslash line", "two backslash lines", "space before colon", "spaces around colon"],
)
def test_positions_are_those_of_pythons_tokens(tmp_path, source):
    write(tmp_path, {"m.py": source})
    done = run("--no-cache", "m.py", cwd=tmp_path)
    line, column = _call_position(source)
    assert parsed(done.stdout) == [("m.py", line, column, "MPL001")]


# --- a long chain inside a function keeps the file's findings ------------------------------------


@pytest.mark.parametrize("chain", [".m()" * 300, "[0]" * 300, " + 1" * 600], ids=["calls", "subscripts", "sum"])
def test_a_long_chain_does_not_lose_the_files_findings(tmp_path, chain):
    source = f"import multiprocessing\n\n\ndef main():\n    y = x{chain}\n    pool = multiprocessing.Pool(2)\n"
    write(tmp_path, {"m.py": source})
    done = run("--no-cache", "m.py", cwd=tmp_path)
    assert_no_traceback(done)
    assert "error" not in done.stderr, done.stderr
    assert parsed(done.stdout) == [("m.py", 6, 12, "MPL002")]


# --- file names that are not UTF-8 ----------------------------------------------------------------


NAME = b"bad\xffname.py"


@pytest.fixture
def undecodable_name(tmp_path):
    try:
        (tmp_path / os.fsdecode(NAME)).write_text(BAD)
    except (OSError, UnicodeError):  # pragma: no cover - e.g. a file system that insists on UTF-8
        pytest.skip("this file system refuses names that are not UTF-8")
    return tmp_path


def _raw(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(console_script()), "--no-cache", *args, "."], cwd=cwd,
                          capture_output=True, timeout=TIME_LIMIT)


def test_text_output_writes_a_name_that_is_not_utf8_as_its_own_bytes(undecodable_name):
    done = _raw(cwd=undecodable_name)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(NAME + b":3:8: MPL001 ")


@pytest.mark.parametrize("output_format", [name for name in formats() if name != "text"])
def test_machine_formats_write_a_name_that_is_not_utf8_as_valid_unicode(undecodable_name, output_format):
    done = _raw("--format", output_format, cwd=undecodable_name)
    assert done.returncode == 1, done.stderr
    text = done.stdout.decode("utf-8")  # strict: no lone surrogates, no stray bytes
    assert "\\udc" not in text and "\udcff" not in text
    if output_format == "json":
        assert json.loads(text)[0]["path"] == "bad\\xffname.py"
    elif output_format == "gitlab":
        assert json.loads(text)[0]["location"]["path"] == "bad\\xffname.py"
    elif output_format == "sarif":
        [result] = json.loads(text)["runs"][0]["results"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad%FFname.py"
    else:
        assert "bad\\xffname.py" in text


# --- cache entries that are not what mplint writes ------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"findings": [["a", 8, 3, 31, "MPL001", "x", "y"]], "error": null}',
        '{"findings": [[3, 8, 3, 31, "MPL001", "x", 5]], "error": null}',
        '{"findings": [[true, 8, 3, 31, "MPL001", "x", "y"]], "error": null}',
        '{"findings": [[3, 8, 3, 31, "MPL001", "x"]], "error": null}',
        '{"findings": [], "error": ["msg", "a", null]}',
        '{"findings": {}, "error": null}',
        '{"findings": [], "error": null, "extra": 1}',
        '{"findings": [[{"a": 1}]], "error": null}',
        "[]",
    ],
    ids=["nested", "line str", "message int", "line bool", "short row", "error line str",
         "findings dict", "extra key", "row of dict", "array"],
)
def test_a_cache_entry_that_is_not_exactly_what_mplint_writes_is_recomputed(tmp_path, entry):
    cache = tmp_path / "cache"
    write(tmp_path, {"a.py": BAD})
    first = run("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    [stored] = [path for path in cache.rglob("*.json") if not path.parent.name.startswith("index-")]
    stored.write_text(entry)
    again = run("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    assert_no_traceback(again)
    assert (again.returncode, again.stdout, again.stderr) == (1, first.stdout, first.stderr)
    assert json.loads(stored.read_text())["result"]["findings"][0][0] == 3  # rewritten whole
