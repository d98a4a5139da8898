"""What a cold run pays for its cache and for its second worker, and what the cache's steps cost.

    python benchmarks/cold_split.py [PATH] [--runs 7] [--steps 5] [--tunables SPEC ...]
                                    [--work DIR]

PATH defaults to this interpreter's standard library (its installed packages left out by mplint's
own default excludes). First, `--runs` rounds of whole runs, interleaved as in `run.py` (CPU of
the process tree, medians), of the four corners of a cold run: with an empty cache or none
(`--no-cache`), and with two workers or one (`--jobs 2`, `--jobs 1`), next to ruff's parse-only
run (run.py's peer, from its virtual environment under `--work`); each `--tunables SPEC` adds
the two-worker run without the cache again with glibc's allocator set by `GLIBC_TUNABLES=SPEC`
(inherited by the workers; without the cache, so that the file system's own variations do not
weigh in). The differences the table prints are the cache's cost and the second worker's.

Then, with `--steps N`, N cold `--jobs 1` runs, each in a fresh process with an empty cache, time
the cache's own steps (CPU seconds of that process, `time.process_time`, summed over each step's
calls, medians over the runs): the stat and the index's look-up of each file, the hash of its
bytes, the index's entries written, the results' entries written, and the keys of the memos.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import run

#: the cache's steps: (module, function or method) timed in a cold run
STEPS = [
    ("mplint.file_index", "SourceFile.__init__"),  # stat, then the index's look-up
    ("mplint.file_index", "FileIndex.lookup"),
    ("mplint.file_index", "SourceFile._hash"),  # the hash of the bytes, and the entry recorded
    ("mplint.file_index", "FileIndex.record"),
    ("mplint.file_index", "FileIndex.save"),
    ("mplint.cache", "Cache.get"),
    ("mplint.cache", "Cache.put"),
    ("mplint.run_memo", "RunMemo.key"),
    ("mplint.run_memo", "RunMemo.put"),
    ("mplint.project.memo", "LinkMemo.key"),
    ("mplint.project.memo", "LinkMemo.put"),
    ("mplint.command_memo", "_store"),
]

#: run in a fresh process: one cold run with the steps timed, then their figures as JSON, the last
#: line on stderr (its exit code is the run's: 2 where a file cannot be read, as three of the
#: standard library's test files cannot be decoded)
CHILD = r"""
import atexit, importlib, json, sys, time

spent = {}
atexit.register(lambda: sys.stderr.write("\n" + json.dumps(spent) + "\n"))  # (the run ends by exiting)

def timed(module, qualname):
    owner = importlib.import_module(module)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            step = spent.setdefault(qualname, [0.0, 0])
            step[0] += time.process_time() - start
            step[1] += 1

    setattr(owner, name, wrapper)

for module, qualname in json.loads(sys.argv[1]):
    timed(module, qualname)
from mplint.command_memo import main

sys.argv = ["mplint", *sys.argv[2:]]
main()
"""


def _runs(path: str, rounds: int, tunables: list[str], work: Path) -> None:
    bin_dir = run.peers_venv(work)
    cache = Path(tempfile.mkdtemp(prefix="mplint-cache-", dir=work))
    mplint = [sys.executable, "-m", "mplint", path, "--exit-zero"]
    emptied = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    corners = {  # (cold, jobs) -> its row
        (True, jobs): run.Row(f"mplint cold, --jobs {jobs}", [*mplint, "--cache-dir", str(cache), "--jobs", jobs],
                              before=emptied)
        for jobs in ("2", "1")
    }
    corners.update({
        (False, jobs): run.Row(f"mplint --no-cache --jobs {jobs}", [*mplint, "--no-cache", "--jobs", jobs])
        for jobs in ("2", "1")
    })
    tuned = [run.Row(f"mplint --no-cache --jobs 2, GLIBC_TUNABLES={spec}",
                     ["env", f"GLIBC_TUNABLES={spec}", *mplint, "--no-cache", "--jobs", "2"]) for spec in tunables]
    measured = run.cold_rounds([*corners.values(), *tuned], rounds, bin_dir, path)
    emptied()
    print(measured)
    cpu = {corner: row.median("cpu") for corner, row in corners.items()}
    for jobs in ("2", "1"):
        print(f"  the cache, --jobs {jobs}: {cpu[True, jobs] - cpu[False, jobs]:+.3f} s")
    for cold, kind in ((True, "cold"), (False, "no cache")):
        print(f"  the second worker, {kind}: {cpu[cold, '2'] - cpu[cold, '1']:+.3f} s")


def _steps(path: str, count: int, work: Path) -> None:
    figures: dict[str, list[tuple[float, int]]] = {}
    for _ in range(count):
        cache = tempfile.mkdtemp(prefix="mplint-cache-", dir=work)
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(STEPS), path, "--exit-zero", "--jobs", "1",
                 "--cache-dir", cache],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=run.measured_env(),
            )
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        last = done.stderr.strip().splitlines()[-1:]
        if not last or not last[0].startswith("{"):
            raise SystemExit(f"the timed run printed no figures (exit {done.returncode}):\n{done.stderr[-2000:]}")
        for qualname, (seconds, calls) in json.loads(last[0]).items():
            figures.setdefault(qualname, []).append((seconds, calls))
    print(f"\nThe cache's steps in a cold --jobs 1 run (CPU ms, medians of {count} runs; {run.load()})")
    print("  (a step that calls another includes it: SourceFile.__init__ holds FileIndex.lookup, _hash holds record)")
    for _, qualname in STEPS:
        runs = figures.get(qualname)
        if runs:
            print(f"  {statistics.median(s for s, _ in runs) * 1000:7.1f} ms {runs[0][1]:6} calls  {qualname}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--runs", type=int, default=7, help="rounds of whole runs (0: none)")
    parser.add_argument("--steps", type=int, default=5, help="cold runs with the cache's steps timed (0: none)")
    parser.add_argument("--tunables", action="append", default=[], help="a GLIBC_TUNABLES value to try")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mplint-bench")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    print(f"{arguments.path}; {run.load()}")
    if arguments.runs:
        _runs(arguments.path, arguments.runs, arguments.tunables, arguments.work)
    if arguments.steps:
        _steps(arguments.path, arguments.steps, arguments.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
