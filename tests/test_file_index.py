"""The stat-keyed index in front of the cache: an unchanged file is not read again, and a file
that may have changed is, whatever its size and time say."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from console import BAD, CLEAN, assert_no_traceback, console_script, mplint, write
from mplint import file_index, observed, runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings
from mplint.project import session as project_session

HOUR_NS = 3600 * 10**9
#: BAD with its one finding moved from line 3 to line 4, the same number of bytes
BAD_MOVED = "import multiprocessing\n\n\npool = multiprocessing.Pool(4)\n"[:len(BAD)]
assert len(BAD_MOVED) == len(BAD)


FIXTURES = Path(__file__).parent / "fixtures" / "projects"


def _run(paths: list[Path], cache: Cache, reads: list[str], codes: frozenset[str] | None = None) -> runner.Run:
    """A run of `paths` noting every file read: named (the runner) or read for the project."""
    real, real_project = runner.read_source, project_session._read

    def reading(path: str):
        reads.append(os.path.basename(path))
        return real(path)

    def reading_project(path: str):
        reads.append(os.path.basename(path))
        return real_project(path)

    runner.read_source, project_session._read = reading, reading_project
    try:
        settings = load_settings(CommandLine())
        if codes is not None:
            settings = type(settings)(**{**settings.__dict__, "enabled": codes})
        return runner.lint_paths([str(p) for p in paths], settings, cache=cache)
    finally:
        runner.read_source, project_session._read = real, real_project


def _age(path: Path, ns: int) -> None:
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns - ns))


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "b.py": CLEAN, "c.py": "x = 1\n"})
    for name in ("a.py", "b.py", "c.py"):
        _age(tmp_path / name, HOUR_NS)
    cache = Cache(tmp_path / "cache")
    reads: list[str] = []
    first = _run([tmp_path], cache, reads)
    assert sorted(reads) == ["a.py", "b.py", "c.py"]
    reads.clear()
    again = _run([tmp_path], Cache(tmp_path / "cache"), reads)
    assert reads == []
    assert [f.line for f in again.findings] == [f.line for f in first.findings] == [3]


def test_an_edit_that_keeps_size_and_time_in_the_racy_window_is_checked_again(tmp_path: Path) -> None:
    """The file is recorded within the index's timestamp resolution of its last change, then
    changed again keeping its size and, put back with utime, its time: it must be read again."""
    path = tmp_path / "a.py"
    path.write_text(BAD)
    cache = Cache(tmp_path / "cache")
    first = _run([path], cache, [])
    assert [f.line for f in first.findings] == [3]
    stamp = path.stat()
    path.write_text(BAD_MOVED)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns)
    reads: list[str] = []
    again = _run([path], Cache(tmp_path / "cache"), reads)
    assert reads == ["a.py"]
    assert [f.line for f in again.findings] == [4]


def test_a_change_of_size_time_or_inode_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(BAD)
    _age(path, HOUR_NS)
    index = file_index.FileIndex(tmp_path / "index-test")
    seen = file_index.now_ns()
    status = path.stat()
    index.record(str(path), status, seen, file_index.Known("digest"))
    assert index.lookup(str(path), status) is not None
    index.save()
    reread = file_index.FileIndex(tmp_path / "index-test")
    assert reread.lookup(str(path), status) == file_index.Known("digest")
    _age(path, 1)
    assert reread.lookup(str(path), path.stat()) is None
    replaced = tmp_path / "new.py"
    replaced.write_text(BAD)
    os.utime(replaced, ns=(status.st_atime_ns, status.st_mtime_ns))
    os.replace(replaced, path)  # same size and time, another inode
    assert reread.lookup(str(path), path.stat()) is None


def _index_files(cache: Path) -> list[Path]:
    """The index's files: one per folder of checked files."""
    return list(cache.glob("index-*/*.json"))


@pytest.mark.parametrize(
    "damage",
    [b"\x00not json{", b"[" * 100_000, b'{"format": 2, "folder": FOLDER, "files": {"a.py": [[1, 2], 3]}}',
     b"", b"[]", b'{"format": 2, "folder": FOLDER, "files": {"a.py": [[1, 2, 3], 4, 5, {}]}}',
     b'{"format": 2, "folder": "/elsewhere", "files": ENTRIES}', b'{"format": 2, "folder": FOLDER}'],
    ids=["binary", "nested", "short entry", "empty", "array", "digest int", "other folder", "no files"],
)
def test_a_damaged_index_is_ignored_without_a_traceback(tmp_path: Path, damage: bytes) -> None:
    write(tmp_path, {"a.py": BAD})
    _age(tmp_path / "a.py", HOUR_NS)
    cache = tmp_path / "cache"
    first = mplint("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    [index] = _index_files(cache)
    entries = json.dumps(json.loads(index.read_text())["files"]).encode()
    index.write_bytes(damage.replace(b"FOLDER", json.dumps(str(tmp_path)).encode()).replace(b"ENTRIES", entries))
    again = mplint("--cache-dir", str(cache), "a.py", cwd=tmp_path)
    assert_no_traceback(again)
    assert (again.returncode, again.stdout) == (1, first.stdout) and "a.py:3:8: MPL001" in again.stdout


def test_a_truncated_index_is_ignored_without_a_traceback(tmp_path: Path) -> None:
    """A run killed while another wrote it cannot leave one (it is renamed into place), but a full
    disk or a copy can: every cut of a real index is read as no index."""
    write(tmp_path, {"a.py": BAD, "b.py": CLEAN})
    for name in ("a.py", "b.py"):
        _age(tmp_path / name, HOUR_NS)
    cache = tmp_path / "cache"
    first = mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
    [index] = _index_files(cache)
    whole = index.read_bytes()
    assert len(json.loads(whole)["files"]) == 2
    for cut in (1, len(whole) // 3, len(whole) // 2, len(whole) - 2):
        index.write_bytes(whole[:cut])
        again = mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
        assert_no_traceback(again)
        assert (again.returncode, again.stdout) == (1, first.stdout)


@pytest.mark.slow
def test_concurrent_runs_leave_a_readable_index_and_right_results(tmp_path: Path) -> None:
    files = {f"m{i}.py": (BAD if i % 2 else CLEAN) + f"# {i}\n" for i in range(40)}
    write(tmp_path, files)
    for name in files:
        _age(tmp_path / name, HOUR_NS)
    cache = tmp_path / "cache"
    runs = [
        subprocess.Popen([str(console_script()), "--cache-dir", str(cache), "--jobs", "1", "."],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    expected = mplint("--no-cache", ".", cwd=tmp_path).stdout
    assert all(out.decode() == expected and b"Traceback" not in err for out, err in outputs)
    [index] = _index_files(cache)
    data = json.loads(index.read_text())
    assert len(data["files"]) == len(files)
    assert not list(cache.rglob("*.tmp"))
    warm = mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
    assert warm.stdout == expected
    assert_no_traceback(warm)


def test_an_entry_recorded_long_after_the_last_change_is_trusted_and_a_recent_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(BAD)
    status = path.stat()
    index = file_index.FileIndex(tmp_path / "index-test")
    index.record(str(path), status, status.st_mtime_ns + observed.RACY_NS + 1, file_index.Known("d"))
    assert index.lookup(str(path), status) is not None
    index.record(str(path), status, status.st_mtime_ns + observed.RACY_NS - 1, file_index.Known("d"))
    assert index.lookup(str(path), status) is None  # forgotten, not recorded
    index.save()
    assert _index_files(tmp_path) == [] or json.loads(_index_files(tmp_path)[0].read_text())["files"] == {}


def test_a_racily_clean_entry_written_into_the_index_is_not_trusted(tmp_path: Path) -> None:
    """The index never writes one, but an entry whose file was modified within the racy window of
    its reading (a copied or hand-made index) is a miss all the same."""
    path = tmp_path / "a.py"
    path.write_text(BAD)
    status = path.stat()
    index = file_index.FileIndex(tmp_path / "index-test")
    index.record(str(path), status, status.st_mtime_ns + observed.RACY_NS + 1, file_index.Known("d"))
    index.save()
    [shard] = _index_files(tmp_path)
    data = json.loads(shard.read_text())
    assert file_index.FileIndex(tmp_path / "index-test").lookup(str(path), status) is not None
    data["files"]["a.py"][1] = status.st_mtime_ns + observed.RACY_NS - 1
    shard.write_text(json.dumps(data))
    assert file_index.FileIndex(tmp_path / "index-test").lookup(str(path), status) is None


def test_an_editor_run_loads_only_the_folders_it_reads(tmp_path: Path) -> None:
    """A warm run over one file of a large tree reads its own folder's entries, not the tree's."""
    files = {f"pkg{i}/m.py": CLEAN for i in range(5)}
    write(tmp_path, files)
    for name in files:
        _age(tmp_path / name, HOUR_NS)
    cache = Cache(tmp_path / "cache")
    _run([tmp_path], cache, [])
    assert len(_index_files(tmp_path / "cache")) == 5
    index = cache.file_index()
    reads: list[str] = []
    real = file_index._read_shard

    def reading(path, folder):
        reads.append(folder)
        return real(path, folder)

    file_index._read_shard = reading
    try:
        index.lookup(str(tmp_path / "pkg3" / "m.py"), (tmp_path / "pkg3" / "m.py").stat())
    finally:
        file_index._read_shard = real
    assert reads == [str(tmp_path / "pkg3")]


def test_the_project_import_scan_is_served_from_the_index_for_unchanged_files(tmp_path: Path, monkeypatch) -> None:
    """Only app/jobs.py is named; app/net.py is read for what its workers do. A warm run reads
    neither, and gives the same cross-module findings; once net.py changes, it alone is read."""
    project = tmp_path / "worker_io"
    shutil.copytree(FIXTURES / "worker_io", project)
    for path in project.rglob("*.py"):
        _age(path, HOUR_NS)
    monkeypatch.chdir(project)
    jobs, codes = project / "app" / "jobs.py", frozenset({"MPL004"})
    reads: list[str] = []
    first = _run([jobs], Cache(tmp_path / "cache"), reads, codes)
    assert {"jobs.py", "net.py"} <= set(reads)
    assert [(f.line, f.code) for f in first.findings] == [(18, "MPL004"), (23, "MPL004"), (28, "MPL004")]
    reads.clear()
    again = _run([jobs], Cache(tmp_path / "cache"), reads, codes)
    assert reads == []
    assert again.findings == first.findings
    net = project / "app" / "net.py"
    net.write_text(net.read_text().replace("requests.get(url, timeout=10)", "compute(url)"))
    _age(net, HOUR_NS)  # older than the racy window: only its size and time tell the change
    reads.clear()
    changed = _run([jobs], Cache(tmp_path / "cache"), reads, codes)
    assert reads == ["net.py"]
    assert changed.findings == []


def test_an_index_written_first_makes_the_cache_folder_as_the_cache_does(tmp_path: Path) -> None:
    """A run with nothing to parse writes no cache entry but its index: the folder it makes is
    kept out of version control all the same."""
    write(tmp_path, {"plain.py": "x = 1\n"})
    _age(tmp_path / "plain.py", HOUR_NS)
    cache = tmp_path / "cache"
    done = mplint("--cache-dir", str(cache), ".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_index_files(cache)) == 1
    assert (cache / ".gitignore").is_file() and (cache / "CACHEDIR.TAG").is_file()
