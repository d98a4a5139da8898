"""The memo of a whole command (`command_memo.py`): a warm run answered before its options are
parsed, with the output and exit code of the run that made it, byte for byte, and none of the
command line, the settings or discovery imported; each change to what that run read misses for
real (the full run's imports show, and its output is the new one); runs that read or write
anything else never store, and `--no-cache` never looks.

The runs are `python -m mplint` in a subprocess (the module's entry is the console script's,
which a test checks), each with Python's import-time report: a run that imports `mplint.cli`
is a full one. Each project has a root marker (`pyproject.toml`, `.git`): the project side lists
the folders above a file up to its root, and the shared temporary folder above changes all the
time."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from console import BAD, CLEAN, write
from memo_layers import FOUND, JOBS, JOBS_IDLE, RUN, age_all, make_project
from mplint import command_memo

HOUR_NS = 3600 * 10**9
#: all a hit imports of mplint's own
ANSWERED_WITH = {"mplint", "mplint.command_memo", "mplint.command_record", "mplint.observed", "mplint.listings", "mplint.identity",
                 "mplint.cache_folder", "mplint.interrupts"}  # (the signals' handlers, from the first step)


class Ran:
    def __init__(self, done: subprocess.CompletedProcess[bytes]) -> None:
        lines = done.stderr.splitlines(keepends=True)
        self.imported = {line.rsplit(b"|", 1)[1].strip().decode() for line in lines
                         if line.startswith(b"import time:") and b"|" in line}
        self.stdout = done.stdout
        self.stderr = b"".join(line for line in lines if not line.startswith(b"import time:"))
        self.code = done.returncode
        assert b"Traceback" not in self.stderr, self.stderr

    @property
    def answered(self) -> bool:
        """By the memo: the command line was never imported."""
        return "mplint.cli" not in self.imported

    @property
    def output(self) -> tuple[bytes, bytes, int]:
        return self.stdout, self.stderr, self.code


def run(cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> Ran:
    environment = {name: value for name, value in os.environ.items() if "MPLINT" not in name and name != "NO_COLOR"}
    environment.update({"PYTHONPROFILEIMPORTTIME": "1", **(env or {})})
    done = subprocess.run([sys.executable, "-m", "mplint", *args], cwd=cwd, capture_output=True, input=stdin,
                          env=environment, timeout=120)
    return Ran(done)


def cached(cwd: Path, cache: Path, *args: str, **kwargs) -> Ran:
    return run(cwd, "--cache-dir", str(cache), *args, **kwargs)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("commands/*.marshal"))


def test_the_console_script_is_the_memo_s_entry() -> None:
    from importlib.metadata import entry_points

    (script,) = [point for point in entry_points(group="console_scripts") if point.name == "mplint"]
    assert script.value == "mplint.command_memo:main", "reinstall: pip install -e '.[test]'"
    from mplint import __main__  # noqa: F401  (`python -m mplint` runs the same)


@pytest.mark.parametrize("args", [(), ("--format", "json"), ("--output-format", "full", "--color", "always"),
                                  ("--statistics", "--exit-zero"), ("--quiet",), ("--format", "sarif")])
def test_a_warm_run_is_answered_with_the_same_bytes_and_imports_nothing_else(tmp_path: Path, args) -> None:
    root = make_project(tmp_path / "p", {"clean.py": CLEAN, "broken.py": "import multiprocessing\ndef (:\n"})
    cache = tmp_path / "cache"
    first = cached(root, cache, ".", *args)
    assert not first.answered and first.code == 2  # findings, and a file that cannot be checked
    again = cached(root, cache, ".", *args)
    assert again.answered and again.output == first.output
    assert {name for name in again.imported if name.startswith("mplint")} == ANSWERED_WITH
    assert not again.imported & {"click", "typing", "json", "dataclasses", "hashlib", "re", "mplint.discovery",
                                 "mplint.config", "mplint.cache", "mplint.runner", "tomllib"}


def test_each_change_to_what_the_run_read_misses_for_real(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"tools/job": "#!/bin/sh\necho\n", "README": "read me\n",
                                         ".git/HEAD": ""})  # (its root still, without pyproject.toml)
    cache = tmp_path / "cache"

    def check(expected_answered: bool) -> Ran:
        done = cached(root, cache, "run.py", "app", "tools")
        assert done.answered is expected_answered, done.stderr
        full = run(root, "--no-cache", "run.py", "app", "tools")
        assert (done.stdout, done.code) == (full.stdout, full.code)  # the right output, whichever ran
        return done

    check(False)
    check(True)
    # a named file changed (its size): read again
    (root / "run.py").write_text(BAD)
    age_all(root)
    check(False)
    check(True)
    # a module no path named, reached by the project side, changed keeping its size and time,
    # read within the racy window: hashed again
    jobs = root / "app" / "jobs.py"
    (root / "run.py").write_text("from app import jobs\n\njobs.run_all()\n")
    jobs.write_text(JOBS)
    check(False)
    stamp = jobs.stat()
    jobs.write_text(JOBS_IDLE)
    os.utime(jobs, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert check(False).stdout.count(b"MPL") == 0
    age_all(root)
    check(True)  # (its time changed, its bytes did not: hashed again, they tell the same)
    # a file added to a walked folder, then removed
    (root / "app" / "more.py").write_text(BAD)
    age_all(root)
    assert b"app/more.py" in check(False).stdout
    (root / "app" / "more.py").unlink()
    check(False)
    check(True)
    # a suffixless file becomes a Python script
    (root / "tools" / "job").write_text("#!/usr/bin/env python3\n" + BAD)
    age_all(root)
    assert b"tools/job" in check(False).stdout
    check(True)
    # a folder listing the project side read: the module it reaches goes away
    jobs.rename(root / "app" / "work.py")
    check(False)
    check(True)
    # a pyproject.toml with a [tool.mplint] table put in the working folder, edited, removed
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.mplint]\nignore = ['MPL001']\n")
    assert b"MPL001" not in check(False).stdout
    check(True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.mplint]\nignore = ['MPL002']\n")
    check(False)
    (root / "pyproject.toml").unlink()
    check(False)
    check(True)


def test_a_pyproject_toml_above_the_working_folder_misses(tmp_path: Path) -> None:
    """The settings look from the working folder up: a config put above it is found, and with
    it the cache folder beside it (the memo is looked for there, where the full run keeps it)."""
    root = tmp_path / "p"
    write(root, {"sub/bad.py": BAD, ".git/HEAD": ""})  # (its project's root: nothing above is listed)
    age_all(root)
    sub = root / "sub"
    first = run(sub, "bad.py")
    assert not first.answered and b"MPL001" in first.stdout and entries(sub / ".mplint_cache")
    # the first run listed sub/ before it made the cache folder in it: its record lists it there
    assert run(sub, "bad.py").answered
    (root / "pyproject.toml").write_text("[tool.mplint]\nignore = ['MPL001']\n")
    moved = run(sub, "bad.py")
    assert not moved.answered and b"MPL001" not in moved.stdout
    assert entries(root / ".mplint_cache")  # beside the config in use
    again = run(sub, "bad.py")  # (p/ listed before its cache folder was made: recorded with it)
    assert again.answered and again.output == moved.output
    (root / "pyproject.toml").write_text("[project]\nname = 'mplint-user'\n")  # names mplint, no table
    back = run(sub, "bad.py")
    assert not back.answered and b"MPL001" in back.stdout
    assert run(sub, "bad.py").answered


def test_the_first_run_after_a_cold_one_into_the_default_cache_folder_is_answered(tmp_path: Path) -> None:
    """A cold run lists the folders it walks and the project side reads before it makes its cache
    folder, `.mplint_cache`, among them: its record lists that folder there (no run can read
    otherwise for it: discovery never walks into it, no import or root marker names it)."""
    root = make_project(tmp_path / "p", {".git/HEAD": ""})
    for args in ((".",), ("run.py",), ("run.py", "app")):
        first = run(root, *args)
        assert not first.answered and b"MPL001" in first.stdout and entries(root / ".mplint_cache")
        again = run(root, *args)
        assert again.answered and again.output == first.output == run(root, "--no-cache", *args).output
        shutil.rmtree(root / ".mplint_cache")
    # a cache folder an import could name (`cache` may be a namespace package) is not listed for
    # the run that made it: the next run reads for itself
    first = cached(root, root / "cache", "run.py")
    assert not first.answered and entries(root / "cache")
    assert not cached(root, root / "cache", "run.py").answered
    assert cached(root, root / "cache", "run.py").answered


def test_a_project_without_a_root_marker_is_answered_while_a_folder_above_it_changes(tmp_path: Path) -> None:
    """Without a root marker the project's root is looked for up to `/`: each folder on the way is
    asked which markers it holds, and recorded as that alone (`listings.view`), so a busy folder
    above it (`/tmp`) changing is no miss; a marker put there is."""
    busy = tmp_path / "busy"
    root = busy / "p"
    write(root, {"run.py": RUN, "app/__init__.py": "", "app/jobs.py": JOBS})
    age_all(root)
    first = run(root, "run.py")
    assert not first.answered and FOUND[0][2].encode() in first.stdout
    assert run(root, "run.py").answered
    (busy / "notes.txt").write_text("another name above the project\n")
    (tmp_path / "more").mkdir()
    again = run(root, "run.py")
    assert again.answered and again.output == first.output == run(root, "--no-cache", "run.py").output
    (busy / "setup.py").write_text("")  # a root marker above: busy/ is the project's root now
    moved = run(root, "run.py")
    assert not moved.answered and moved.output == run(root, "--no-cache", "run.py").output
    assert run(root, "run.py").answered
    (busy / "setup.py").unlink()
    assert not run(root, "run.py").answered


def test_a_view_of_a_listing_is_the_names_asked_for_that_it_holds(tmp_path: Path) -> None:
    from mplint import listings

    write(tmp_path, {"setup.py": "", "a.py": ""})
    key = listings.view(str(tmp_path), {"setup.py", ".git"})
    assert listings.listing(key) == {"setup.py"} and listings.listing(str(tmp_path)) == {"setup.py", "a.py"}
    (tmp_path / "b.py").write_text("")
    assert listings.listing(key) == {"setup.py"}  # another name: the same view
    (tmp_path / ".git").mkdir()
    assert listings.listing(key) == {"setup.py", ".git"}
    assert listings.listing(listings.view(str(tmp_path / "gone"), {"setup.py"})) == frozenset()


def test_the_config_option_and_the_environment_key_the_memo(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root, {"bad.py": BAD, "conf/pyproject.toml": "[tool.mplint]\nignore = []\n", ".git/HEAD": ""})
    age_all(root)
    first = run(root, "--config", "conf/pyproject.toml", "bad.py")
    assert not first.answered and entries(root / "conf" / ".mplint_cache")
    assert run(root, "--config", "conf/pyproject.toml", "bad.py").answered
    (root / "conf" / "pyproject.toml").write_text("[tool.mplint]\nignore = ['MPL001']\n")
    assert not run(root, "--config", "conf/pyproject.toml", "bad.py").answered
    cache = tmp_path / "cache"
    assert not run(root, "bad.py", env={"MPLINT_CACHE_DIR": str(cache)}).answered and entries(cache)
    assert run(root, "bad.py", env={"MPLINT_CACHE_DIR": str(cache)}).answered
    colourless = run(root, "bad.py", env={"MPLINT_CACHE_DIR": str(cache), "NO_COLOR": "1"})
    assert not colourless.answered
    assert not run(root, "bad.py", env={"MPLINT_CACHE_DIR": str(cache), "MPLINT_NO_PARTIAL": "1"}).answered


@pytest.mark.parametrize("args", [("--no-cache",), ("--fix",), ("--diff",), ("--output-file", "out.txt"),
                                  ("--add-noqa",), ("--show-settings",), ("--show-files",)])
def test_runs_that_read_or_write_anything_else_never_store(tmp_path: Path, args) -> None:
    root = tmp_path / "p"
    write(root, {"bad.py": BAD, ".git/HEAD": ""})
    age_all(root)
    cache = tmp_path / "cache"
    for _ in range(2):
        write(root, {"bad.py": BAD})
        assert not cached(root, cache, *args, "bad.py").answered
    assert entries(cache) == []


def test_standard_input_never_stores(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        done = cached(tmp_path, cache, "-", "--stdin-filename", "x.py", stdin=BAD.encode())
        assert not done.answered and b"x.py:3:" in done.stdout
    assert entries(cache) == []


def test_no_cache_never_looks() -> None:
    assert command_memo._where(["--no-cache", "x.py"]) is None
    assert command_memo._where(["x.py", "--cache-dir", "c", "--no-cache"]) is None
    assert command_memo._where(["server"]) is None
    assert command_memo._where(["x.py"]) is not None


@pytest.mark.parametrize("damage", [b"", b"\0\0\0\0", b"garbage" * 100, "flip", "folder", "key", "digest", "shape"])
def test_a_damaged_or_foreign_entry_is_a_miss(tmp_path: Path, damage) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    first = cached(root, cache, ".")
    (entry,) = entries(cache)
    raw = entry.read_bytes()
    data = marshal.loads(raw[4:])
    if damage == "flip":
        damage = raw[:-1] + bytes([raw[-1] ^ 1])
    elif isinstance(damage, str):
        fields = list(data)
        if damage == "folder":  # an entry made for another folder
            fields[2] = str(tmp_path / "elsewhere")
        elif damage == "key":
            fields[1] = fields[1] + " "
        elif damage == "digest":  # a file it recorded as read with other bytes
            record = list(fields[3])
            record[3] = {path: (*stamp[:3], 0, "0" * 64) for path, stamp in record[3].items()}
            fields[3] = tuple(record)
        else:
            fields[3] = fields[3][:-1]
        payload = marshal.dumps(tuple(fields))
        damage = zlib.crc32(payload).to_bytes(4, "big") + payload
    entry.write_bytes(damage)
    again = cached(root, cache, ".")
    assert not again.answered and again.output == first.output
    assert cached(root, cache, ".").answered  # written again whole


def test_mplint_s_own_code_and_the_terminals_are_checked(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    cached(root, cache, "run.py")
    (entry,) = entries(cache)
    data = marshal.loads(entry.read_bytes()[4:])
    monkeypatch.chdir(root)
    key, folders, chain, config = data[1], [data[2]], command_memo._config_chain(str(root), None), None
    assert command_memo._look_up(key, folders, chain, config) is not None  # as the subprocess saw it
    monkeypatch.setattr(command_memo, "source_stamps", lambda: ["run_memo.py:1"])
    assert command_memo._look_up(key, folders, chain, config) is None  # an edited mplint
    monkeypatch.undo()

    class Terminal:
        encoding, errors = sys.stdout.encoding, sys.stdout.errors

        def isatty(self) -> bool:
            return True

    args = ["run.py"]
    plain = command_memo._key(args, str(root))
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert command_memo._key(args, str(root)) != plain  # colour and the progress line differ there


def test_a_run_served_by_the_memo_when_its_files_were_just_written_rehashes_them(tmp_path: Path) -> None:
    """Files written just now are racily clean when the run reads them: the look-up hashes them
    again (a hit still, when their bytes are the same)."""
    root = tmp_path / "p"
    write(root, {"bad.py": BAD, ".git/HEAD": ""})  # not aged
    cache = tmp_path / "cache"
    first = cached(root, cache, "bad.py")
    again = cached(root, cache, "bad.py")
    assert again.answered and "mplint.digests" in again.imported and again.output == first.output
    stamp = (root / "bad.py").stat()
    (root / "bad.py").write_text(BAD.replace("Pool(4)", "Pool(5)"))
    os.utime(root / "bad.py", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    changed = cached(root, cache, "bad.py")
    assert not changed.answered and FOUND[0][2].encode() in changed.stdout


def test_a_run_exits_at_once_only_when_python_s_teardown_has_nothing_left_to_do(monkeypatch) -> None:
    import atexit
    import threading

    exited: list[int] = []

    class Exited(Exception):
        pass

    def exit_now(code: int) -> None:
        exited.append(code)
        raise Exited

    monkeypatch.setattr(os, "_exit", exit_now)
    monkeypatch.setattr(sys, "getprofile", lambda: None)  # (as in a run: the tests may be traced)
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(atexit, "_ncallbacks", lambda: 0)  # (as in a run: pytest registers its own)
    monkeypatch.setattr(threading, "_threading_atexits", [])
    with pytest.raises(Exited):
        command_memo._exit_now(1)
    with pytest.raises(Exited):
        command_memo._exit_now(None)
    assert exited == [1, 0]
    command_memo._exit_now("a message")  # Python prints it: no quick exit
    monkeypatch.setattr(sys, "getprofile", lambda: print)
    command_memo._exit_now(0)  # a profiler writes its profile once the run returns
    monkeypatch.setattr(sys, "getprofile", lambda: None)
    monkeypatch.setattr(atexit, "_ncallbacks", lambda: 1)
    command_memo._exit_now(0)  # an atexit callback (multiprocessing's joins its workers) to run
    monkeypatch.setattr(atexit, "_ncallbacks", lambda: 0)
    monkeypatch.setattr(threading, "_threading_atexits", [print])
    command_memo._exit_now(0)  # one of threading's (concurrent.futures' joins its threads)
    monkeypatch.setattr(threading, "_threading_atexits", [])
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        command_memo._exit_now(0)  # another thread: Python waits for it
    finally:
        stop.set()
        thread.join()
    assert exited == [1, 0]


def test_a_run_under_cprofile_writes_its_profile(tmp_path: Path) -> None:
    import pstats

    write(tmp_path, {"bad.py": BAD})
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", "run.prof", "-m", "mplint", "--no-cache", "bad.py"],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert b"MPL001" in done.stdout, done.stderr  # (cProfile exits 0 whatever the run's status)
    profiled = {path for path, _line, _name in pstats.Stats(str(tmp_path / "run.prof")).stats}  # type: ignore[attr-defined]
    assert any(path.endswith("engine.py") for path in profiled)  # the check itself, not only the start-up


_FULL_TEARDOWN = "import sys; from mplint.cli import main; sys.argv[0] = 'mplint'; main()"


def test_exit_codes_and_output_are_those_of_a_run_with_python_s_teardown(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": BAD, "clean.py": CLEAN, "x.py": "x = 1\n"})
    commands = [["--no-cache", "x.py"], ["--no-cache", "bad.py"], ["--select", "MPL999", "x.py"],
                ["--no-cache", "--jobs", "2", "bad.py", "clean.py", "x.py"], ["--no-cache", "--format", "json", "."],
                ["--no-cache", "--output-file", "out.txt", "bad.py"], ["x.py"], ["x.py"], ["--version"]]
    for args in commands:
        quick = run(tmp_path, *args)
        written = (tmp_path / "out.txt").read_bytes() if (tmp_path / "out.txt").exists() else None
        full = subprocess.run([sys.executable, "-c", _FULL_TEARDOWN, *args], cwd=tmp_path, capture_output=True,
                              timeout=120, env={k: v for k, v in os.environ.items() if "MPLINT" not in k})
        assert quick.output == (full.stdout, full.stderr, full.returncode), args
        if written is not None:
            assert written == (tmp_path / "out.txt").read_bytes() and written.count(b"MPL001") == 1
