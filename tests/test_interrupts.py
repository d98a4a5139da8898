"""Ctrl-C and SIGTERM on a parallel run: the workers stop at once, no process is left behind, the
cache holds only whole entries, and the exit status is 128 + the signal number."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console import console_script

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "killpg") or not Path("/proc/self/task").exists(),
                       reason="needs process groups and /proc to find the workers"),
]

# many files, each slow enough to parse that the run is still going when the signal arrives
HEAVY = "import multiprocessing\n" + "".join(
    f"def f{i}():\n    pool = multiprocessing.Pool({i})\n    pool.map(abs, [1])\n" for i in range(300)
)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_workers_at_once_and_exits_128_plus_its_number(tmp_path, signum, status):
    for i in range(120):
        (tmp_path / f"m{i}.py").write_text(HEAVY)
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [str(console_script()), "--jobs", "2", "--cache-dir", str(cache), "."],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(process.pid)
        assert len(workers) >= 2, "the run did not start its workers"
        time.sleep(1)  # let them get going
        assert process.poll() is None, "the run ended before the signal: make the tree bigger"
        sent = time.monotonic()
        # Ctrl-C reaches the terminal's whole process group; a SIGTERM is sent to mplint alone
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == status, stderr
    assert took < 10, f"took {took:.1f} s to stop: the queued work was finished first"
    assert b"Traceback" not in stderr and b"Aborted" not in stderr, stderr
    assert stderr.decode().splitlines()[-1] == f"mplint: interrupted ({signal.Signals(signum).name})"
    time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived mplint"
    for entry in cache.rglob("*"):  # whole entries only, no temporary files left behind
        if entry.is_file() and entry.name not in (".gitignore", "CACHEDIR.TAG"):
            assert entry.suffix == ".json", entry
            json.loads(entry.read_text())


def test_an_interrupt_leaves_no_manager_thread_for_the_exit_to_wake(monkeypatch):
    """The moment that once broke: the run stopped while its workers ran left the executor's
    manager thread running, and the interpreter's exit woke it (writing to its wake-up pipe,
    without the executor's lock) while it closed that pipe: `OSError: [Errno 9] Bad file
    descriptor` and a traceback. Once the workers are killed, the thread has closed the pipe
    and ended, so the exit has nothing to write to. The thread is made slow to close (as under
    load), so that a run that does not wait for it leaves it running every time."""
    import concurrent.futures.process as pool
    import threading

    from mplint import parallel
    from mplint.interrupts import Interrupted

    close = pool._ExecutorManagerThread.join_executor_internals

    def slow_close(self):
        time.sleep(1)
        close(self)

    monkeypatch.setattr(pool._ExecutorManagerThread, "join_executor_internals", slow_close)
    with pytest.raises(Interrupted):
        with parallel.Workers(2) as workers:
            running = [workers.executor().submit(time.sleep, 30) for _ in range(4)]
            time.sleep(0.5)  # the workers took their jobs
            raise Interrupted(signal.SIGTERM)
    assert all(future.done() for future in running)
    assert [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()] == []
    assert all(wakeup._closed for wakeup in pool._threads_wakeups.values())


class _Swallows:
    def __del__(self):  # a signal handled here raises where Python ignores exceptions
        os.kill(os.getpid(), signal.SIGTERM)


def _swallowed(**_options):
    _Swallows()  # (collected at once: the handler's exception is printed and ignored)
    raise SystemExit(0)


class _Field:
    def __set_name__(self, owner, name):  # (Python 3.11 wraps its exception in a RuntimeError)
        os.kill(os.getpid(), signal.SIGTERM)


def _wrapped(**_options):
    type("Node", (), {"whitespace_before": _Field()})
    raise SystemExit(0)


@pytest.mark.parametrize("run", [_swallowed, _wrapped])
def test_a_signal_whose_exception_was_swallowed_or_wrapped_still_ends_the_run_as_interrupted(
        monkeypatch, capsys, run):
    """A signal handled in a `__del__` (its exception ignored: the run went on to its end) or in
    a class's `__set_name__` (its exception wrapped in a RuntimeError: an internal error) is still
    reported as the interruption it was, with its status, and nothing else is printed."""
    from mplint import cli

    monkeypatch.setattr(cli.cli, "main", lambda **options: run(**options))
    with pytest.raises(SystemExit) as stop:
        cli.main(["."])
    assert stop.value.code == 143
    assert capsys.readouterr().err == "mplint: interrupted (SIGTERM)\n"


# the console script, with a signal sent to itself in its first step (the memo's look-up)
_EARLY = """
import os, signal, sys
from mplint import cli, command_memo

def where(args):
    os.kill(os.getpid(), int(sys.argv[1]))  # (delivered at once: the handler runs before this returns)

def run(argv=None):
    print("the command line ran")

command_memo._where = where
cli.main = run
command_memo.main(["."])
"""


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_before_the_command_line_is_imported_ends_the_run_as_interrupted(signum, status):
    """The console script's first steps (the memo's look-up, then importing click and the
    command line) are under the handlers too: a Ctrl-C there was a KeyboardInterrupt's
    traceback, a SIGTERM killed the process without a word."""
    done = subprocess.run([sys.executable, "-c", _EARLY, str(int(signum))], capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr.decode()) == (
        status, b"", f"mplint: interrupted ({signal.Signals(signum).name})\n")


_SWALLOWED_EARLY = """
import os, signal, sys
from mplint import cli, command_memo

class Swallows:
    def __del__(self):  # a signal handled here raises where Python ignores exceptions
        os.kill(os.getpid(), signal.SIGTERM)

def where(args):
    Swallows()

command_memo._where = where
cli.cli.main = lambda **options: sys.exit(0)
command_memo.main(["."])
"""


def test_a_signal_swallowed_before_the_command_line_ran_still_ends_the_run_as_interrupted():
    """A signal whose exception Python ignored during the console script's first steps (in a
    `__del__`) is not forgotten when the command line's own handlers are set."""
    done = subprocess.run([sys.executable, "-c", _SWALLOWED_EARLY], capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr.decode()) == (143, b"", "mplint: interrupted (SIGTERM)\n")
