"""`mplint --fix`, `--diff` and `--unsafe-fixes` through the installed command; the fix objects of
the JSON and SARIF output; and programs that fail under spawn before the fix and work after it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from console import assert_no_traceback, mplint, write

pytestmark = pytest.mark.slow  # the installed console script, and the programs themselves

HERE = Path(__file__).resolve().parent
SCHEMA = json.loads((HERE / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

TUPLE = '''\
from multiprocessing import Process, set_start_method


def greet(name):
    print("hello", name)


if __name__ == "__main__":
    set_start_method("spawn")
    worker = Process(target=greet, args=("alice"))  # the comment stays
    worker.start()
    worker.join()
    print("exit code", worker.exitcode)
'''

CALLED = '''\
import multiprocessing
from multiprocessing import Process, Queue, set_start_method


def square(queue, n):
    queue.put(("in a child" if multiprocessing.parent_process() else "in the parent", n * n))


if __name__ == "__main__":
    set_start_method("spawn")
    queue = Queue()
    worker = Process(target=square(queue, 7))
    worker.start()
    print(*queue.get(timeout=20))
    worker.join()
'''


def test_fix_writes_the_safe_fixes_and_reports_what_remains(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE, "called.py": CALLED})
    done = mplint("--fix", ".", cwd=tmp_path)
    assert_no_traceback(done)
    assert done.returncode == 1, done.stderr  # the unsafe MPL010 fix was not made: it remains
    assert (tmp_path / "job.py").read_text() == TUPLE.replace('("alice")', '("alice",)')
    assert (tmp_path / "called.py").read_text() == CALLED
    assert done.stdout.startswith("called.py:12:29: MPL010 ")
    assert "Found 2 findings (1 fixed, 1 remaining); 2 files checked." in done.stderr
    assert "1 fixable with `--fix --unsafe-fixes`." in done.stderr
    again = mplint("--fix", ".", cwd=tmp_path)
    assert (tmp_path / "job.py").read_text() == TUPLE.replace('("alice")', '("alice",)')
    assert again.returncode == 1 and "0 fixed" not in again.stderr


def test_unsafe_fixes_are_made_with_the_flag_and_exit_0_when_nothing_remains(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE, "called.py": CALLED})
    done = mplint("--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "target=square, args=(queue, 7)" in (tmp_path / "called.py").read_text()
    assert "Found 2 findings (2 fixed, 0 remaining)" in done.stderr
    assert mplint(".", cwd=tmp_path).returncode == 0


def test_diff_prints_the_change_and_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE})
    done = mplint("--diff", "job.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == (
        "--- job.py\n"
        "+++ job.py\n"
        "@@ -7,7 +7,7 @@\n"
        " \n"
        ' if __name__ == "__main__":\n'
        '     set_start_method("spawn")\n'
        '-    worker = Process(target=greet, args=("alice"))  # the comment stays\n'
        '+    worker = Process(target=greet, args=("alice",))  # the comment stays\n'
        "     worker.start()\n"
        "     worker.join()\n"
        '     print("exit code", worker.exitcode)\n'
    )
    assert "Would fix 1 finding in 1 file." in done.stderr
    assert (tmp_path / "job.py").read_text() == TUPLE
    write(tmp_path, {"job.py": TUPLE.replace('("alice")', '("alice",)')})
    clean = mplint("--diff", "job.py", cwd=tmp_path)
    assert clean.returncode == 0 and clean.stdout == ""


def test_fix_from_stdin_prints_the_fixed_source_and_the_findings_on_stderr(tmp_path: Path) -> None:
    done = mplint("--fix", "--unsafe-fixes", "-", cwd=tmp_path, stdin=TUPLE + CALLED.replace("import multiprocessing\n", ""))
    assert 'args=("alice",)' in done.stdout and "target=square, args=(queue, 7)" in done.stdout
    nothing = mplint("--fix", "-", cwd=tmp_path, stdin="x = 1\n")
    assert nothing.stdout == "x = 1\n" and nothing.returncode == 0


def test_fix_keeps_the_encoding_the_line_endings_and_the_mode(tmp_path: Path) -> None:
    source = ("# -*- coding: latin-1 -*-\n# café\n" + TUPLE).replace("\n", "\r\n").encode("latin-1")
    path = tmp_path / "job.py"
    path.write_bytes(source)
    path.chmod(0o754)
    assert mplint("--fix", "--no-cache", "job.py", cwd=tmp_path).returncode == 0
    assert path.read_bytes() == source.replace(b'("alice")', b'("alice",)')
    assert path.stat().st_mode & 0o777 == 0o754
    assert [p.name for p in tmp_path.iterdir()] == ["job.py"]  # no temporary file left behind


def test_text_output_marks_fixable_findings(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE, "called.py": CALLED})
    done = mplint(".", cwd=tmp_path)
    assert "job.py:10:42: MPL011 [*] `args=(" in done.stdout
    assert "called.py:12:29: MPL010 `square(" in done.stdout  # unsafe: not marked without the flag
    assert done.stderr.splitlines()[-1] == "1 fixable with `--fix` (1 more with `--fix --unsafe-fixes`)."
    unsafe = mplint("--unsafe-fixes", ".", cwd=tmp_path)
    assert "MPL010 [*]" in unsafe.stdout
    assert unsafe.stderr.splitlines()[-1] == "2 fixable with `--fix --unsafe-fixes`."


def test_json_carries_each_findings_fix(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE, "called.py": CALLED})
    findings = json.loads(mplint("--format", "json", ".", cwd=tmp_path).stdout)
    by_code = {f["code"]: f["fix"] for f in findings}
    assert by_code["MPL011"] == {
        "title": 'Make it a one-element tuple: `("alice",)`',
        "applicability": "safe",
        "edits": [{"line": 10, "column": 49, "end_line": 10, "end_column": 49, "text": ","}],
    }
    assert by_code["MPL010"] == {
        "title": "Pass the function itself: `target=square, args=(queue, 7)`",
        "applicability": "unsafe",
        "edits": [{"line": 12, "column": 35, "end_line": 12, "end_column": 35, "text": ", args="}],
    }


def test_sarif_carries_fixes_that_validate(tmp_path: Path) -> None:
    write(tmp_path, {"job.py": TUPLE, "called.py": CALLED})
    log = json.loads(mplint("--format", "sarif", ".", cwd=tmp_path).stdout)
    jsonschema.validate(log, SCHEMA)
    fixes = {r["ruleId"]: r["fixes"] for r in log["runs"][0]["results"]}
    assert fixes["MPL011"] == [{
        "description": {"text": 'Make it a one-element tuple: `("alice",)`'},
        "artifactChanges": [{
            "artifactLocation": {"uri": "job.py", "uriBaseId": "%SRCROOT%"},
            "replacements": [{
                "deletedRegion": {"startLine": 10, "startColumn": 49, "endLine": 10, "endColumn": 49},
                "insertedContent": {"text": ","},
            }],
        }],
        "properties": {"applicability": "safe"},
    }]
    assert fixes["MPL010"][0]["properties"] == {"applicability": "unsafe"}


# --- the programs themselves, under spawn, before and after the fix ---------------------------------


GUARDLESS = '''\
import multiprocessing

ctx = multiprocessing.get_context("spawn")
print("preparing")


def square(x):
    return x * x


with ctx.Pool(2) as pool:
    print(pool.map(square, range(5)))
'''

START_METHOD = '''\
import multiprocessing

multiprocessing.set_start_method("spawn")


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(4)))
'''


def _run(path: Path, timeout: float = 60) -> tuple[str, str, int | None]:
    """stdout, stderr and the exit status (None when it hung and was killed, with its children)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen([sys.executable, str(path)], cwd=path.parent, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        return out, err, process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return out, err, None


@pytest.mark.parametrize(
    ("program", "flags", "wrong", "right"),
    [
        (TUPLE, (), "exit code 1", "hello alice\nexit code 0\n"),
        (CALLED, ("--unsafe-fixes",), "in the parent 49", "in a child 49\n"),
        (GUARDLESS, (), "preparing\npreparing", "preparing\n[0, 1, 4, 9, 16]\n"),
        (START_METHOD, (), "context has already been set", "[0, 1, 4, 9]\n"),
    ],
    ids=["MPL011", "MPL010", "MPL001", "MPL009"],
)
def test_the_program_works_under_spawn_after_the_fix(
    tmp_path: Path, program: str, flags: tuple[str, ...], wrong: str, right: str
) -> None:
    """Each program crashes, hangs or prints a wrong result under spawn; after `mplint --fix` it
    prints the right one."""
    path = tmp_path / "program.py"
    path.write_text(program)
    out, err, status = _run(path, timeout=20)
    assert wrong in out + err and (status != 0 or out != right), (status, out, err)
    fixed = mplint("--fix", *flags, "program.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    out, err, status = _run(path)
    assert status == 0 and out == right, (status, out, err)
