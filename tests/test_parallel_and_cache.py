"""Worker processes and the cache change how fast mplint is, never what it reports."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from console import BAD, CLEAN, assert_no_traceback, drop_command_memos, mplint, write
from memo_layers import drop_run_memos, memo_entries
from mplint import parallel
from mplint.findings import FileResult
from mplint.options import DEFAULT_OPTIONS

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """A copy of every fixture: dozens of files that need parsing, with findings of every rule,
    and the fixture projects but the one whose files cannot be checked on purpose."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("bad_input"))
    return root


def _entries(cache: Path) -> list[Path]:
    """The cache entries that hold a result: a module's own (with its summary and what its
    check asked of the project) or a result checked with its project's facts."""
    return sorted(p for p in cache.glob("*/*.json") if "findings" in _result_of(json.loads(p.read_text())))


def _result_of(data: dict) -> dict:
    return data["result"] if "result" in data else data


def _mark_cached(entry: Path) -> None:
    """Rewrite every cached message: a run that re-parsed the file would print the real one."""
    data = json.loads(entry.read_text())
    result = _result_of(data)
    result["findings"] = [[*row[:6], "FROM THE CACHE"] for row in result["findings"]]
    entry.write_text(json.dumps(data))


def test_worker_processes_report_exactly_what_one_process_reports(tree: Path) -> None:
    alone = mplint("--select", "MPL", "--no-cache", "--jobs", "1", ".", cwd=tree)
    workers = mplint("--select", "MPL", "--no-cache", "--jobs", "2", ".", cwd=tree)
    assert alone.returncode == workers.returncode == 1
    assert alone.stdout == workers.stdout
    assert alone.stdout.count("\n") > 50
    assert_no_traceback(workers)


def test_a_warm_run_takes_results_from_the_cache_instead_of_parsing(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = mplint("--cache-dir", str(cache), ".", cwd=tree)
    assert cold.returncode == 1
    entries = _entries(cache)
    assert entries, "the first run wrote no cache entries"
    for entry in entries:
        _mark_cached(entry)
    # the memos of the whole command, of the run and of the project side answer first, with the
    # cold run's results (the fixture tree has no root marker: above it, only the markers count)
    drop_command_memos(cache)
    drop_run_memos(cache)
    for entry in memo_entries(cache, "folders"):
        entry.unlink()
    warm = mplint("--cache-dir", str(cache), ".", cwd=tree)
    assert warm.returncode == 1
    lines = warm.stdout.splitlines()
    assert len(lines) == len(cold.stdout.splitlines())
    assert all(line.endswith("FROM THE CACHE") for line in lines)


def test_a_changed_file_or_changed_settings_miss_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_path, {"a.py": BAD, "b.py": BAD})
    mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
    for entry in _entries(cache):
        _mark_cached(entry)
    (tmp_path / "b.py").write_text(BAD + "\n# edited\n")
    edited = mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
    a_line, b_line = edited.stdout.splitlines()
    assert a_line.endswith("FROM THE CACHE")
    assert "MPL001" in b_line and not b_line.endswith("FROM THE CACHE")
    reselected = mplint("--cache-dir", str(cache), "--extend-select", "MPL004", "a.py", cwd=tmp_path)
    assert "FROM THE CACHE" not in reselected.stdout and "MPL001" in reselected.stdout


def test_a_corrupt_cache_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_path, {"a.py": BAD})
    first = mplint("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    (entry,) = _entries(cache)
    entry.write_bytes(b"\x00not json{")
    again = mplint("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    assert again.returncode == 1 and again.stdout == first.stdout
    assert_no_traceback(again)
    json.loads(entry.read_text())  # rewritten whole


def test_no_cache_writes_nothing_and_the_environment_names_the_folder(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    mplint("--no-cache", "a.py", cwd=tmp_path)
    assert not (tmp_path / ".mplint_cache").exists()
    folder = tmp_path / "elsewhere"
    env_run = _with_env({"MPLINT_CACHE_DIR": str(folder)}, "a.py", cwd=tmp_path)
    assert env_run.returncode == 1
    assert _entries(folder) and (folder / ".gitignore").read_text().strip().endswith("*")


def test_an_unusable_cache_folder_costs_speed_not_findings(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "b.py": CLEAN, "blocker": "a file where the cache folder should be"})
    done = mplint("--cache-dir", str(tmp_path / "blocker" / "cache"), ".", cwd=tmp_path)
    assert done.returncode == 1 and "a.py:3:8: MPL001" in done.stdout
    assert_no_traceback(done)


def _with_env(extra: dict[str, str], *args: str, cwd: Path):
    old = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        return mplint(*args, cwd=cwd)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- a worker that dies costs only its file -------------------------------------------------------


_REAL_CHECK_BATCH = parallel.check_batch
_REAL_CHECK_JOB = parallel.check_job


def _dying_batch(batch):
    if any(job.path.endswith("crash.py") for job in batch):
        os._exit(70)  # what a crash in native code looks like to the parent
    return _REAL_CHECK_BATCH(batch)


def _dying_job(job):
    if job.path.endswith("crash.py"):
        os._exit(70)
    return _REAL_CHECK_JOB(job)


def _jobs(names: list[str]) -> list[parallel.Job]:
    return [parallel.Job(i, name, BAD, frozenset({"MPL001"}), DEFAULT_OPTIONS) for i, name in enumerate(names)]


NAMES = [f"f{i}.py" for i in range(7)] + ["crash.py"]


def test_files_in_flight_when_a_worker_dies_are_checked_again_alone(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "check_batch", _dying_batch)
    results = {i: r for i, r, _summary, _asked in parallel.run_jobs(_jobs(NAMES), jobs=2)}
    assert sorted(results) == list(range(len(NAMES)))
    assert all(isinstance(r, FileResult) and r.error is None and r.findings for r in results.values())


def test_a_file_that_kills_its_worker_every_time_is_one_error(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "check_batch", _dying_batch)
    monkeypatch.setattr(parallel, "check_job", _dying_job)
    results = {i: r for i, r, _summary, _asked in parallel.run_jobs(_jobs(NAMES), jobs=2)}
    crashed = results[NAMES.index("crash.py")]
    assert crashed.error is not None and "crashed" in crashed.error.message and crashed.error.internal
    others = [r for i, r in results.items() if NAMES[i] != "crash.py"]
    assert len(others) == 7 and all(r.error is None and r.findings for r in others)


def _pid_batch(batch):
    return [(job.index, FileResult(str(os.getpid())), None, None) for job in batch]


def test_the_batches_of_one_run_share_its_worker_processes(monkeypatch) -> None:
    # the summaries' batch and the checks' batch: each worker imports LibCST and the rules once
    monkeypatch.setattr(parallel, "check_batch", _pid_batch)
    with parallel.Workers(2) as workers:
        first = {r.path for _i, r, _s, _a in parallel.run_jobs(_jobs(NAMES), workers)}
        started = {str(pid) for pid in workers.executor()._processes}  # the pool's own table
        second = {r.path for _i, r, _s, _a in parallel.run_jobs(_jobs(NAMES), workers)}
    assert len(started) == 2 and first <= started and second <= started


def test_a_batch_after_a_crash_gets_new_workers(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "check_batch", _dying_batch)
    with parallel.Workers(2) as workers:
        crashed = {i: r for i, r, _s, _a in parallel.run_jobs(_jobs(NAMES), workers)}
        again = {i: r for i, r, _s, _a in parallel.run_jobs(_jobs(NAMES[:-1]), workers)}
    assert sorted(crashed) == list(range(len(NAMES))) and sorted(again) == list(range(len(NAMES) - 1))
    assert all(r.error is None and r.findings for r in again.values())


def test_what_the_first_batch_left_is_collected_again_after_the_run() -> None:
    import gc

    with parallel.Workers(1) as workers:
        workers.between_batches()
        assert gc.get_freeze_count() > 0  # kept out of the second batch's collections
    assert gc.get_freeze_count() == 0


_FIRST_CHECK = """
import gc, sys
from mplint import parallel
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
parallel._freeze_what_lives()
assert "mplint.engine" in sys.modules and "libcst" in sys.modules, "imported first"
assert collections == [], collections
assert gc.isenabled() and gc.get_freeze_count() > 0
gc.disable()
parallel._frozen = False
parallel._freeze_what_lives()
assert not gc.isenabled(), "left off as it was"
"""


def test_the_first_check_imports_the_engine_without_a_collection_and_freezes_it() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FIRST_CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- the workers import LibCST and the rules once, the platform's way ----------------------------

_START_METHOD_RUN = '''
import json, multiprocessing, sys
from mplint import parallel
from mplint.options import DEFAULT_OPTIONS

SOURCE = {source!r}
IMPORTED = "'mplint.engine' in __import__('sys').modules"

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1])
    jobs = [parallel.Job(i, f"f{{i}}.py", SOURCE, frozenset({{"MPL001"}}), DEFAULT_OPTIONS) for i in range(6)]
    with parallel.Workers(2) as workers:
        # what a worker holds before its first job (eval: a function every process has)
        inherited = workers.executor().submit(eval, IMPORTED).result()
        results = {{i: r for i, r, _s, _a in parallel.run_jobs(jobs, workers)}}
    print(json.dumps({{
        "parent": "mplint.engine" in sys.modules,
        "worker": inherited,
        "findings": [[f.line, f.code] for i in sorted(results) for f in results[i].findings],
    }}))
'''


@pytest.mark.parametrize(
    ("method", "parent", "worker"),
    [
        ("fork", True, True),  # imported here before the first fork: every worker inherits it
        ("forkserver", False, True),  # the server imports it before it forks a worker
        ("spawn", False, False),  # each worker imports it itself, at its first job
    ],
)
def test_the_workers_share_one_import_of_libcst_where_the_start_method_allows(
    method: str, parent: bool, worker: bool, tmp_path: Path
) -> None:
    import multiprocessing
    import subprocess
    import sys

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not a start method of this platform")
    script = tmp_path / "run_workers.py"
    script.write_text(_START_METHOD_RUN.format(source=BAD))
    done = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert_no_traceback(done)
    seen = json.loads(done.stdout)
    alone = [[f.line, f.code] for f in parallel.check_source(BAD, "f.py", frozenset({"MPL001"}))[0].findings]
    assert seen["findings"] == alone * 6 and alone
    assert (seen["parent"], seen["worker"]) == (parent, worker)
