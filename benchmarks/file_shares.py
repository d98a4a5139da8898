"""Which files a cold run's CPU goes to, and what the costliest of them cost a run next to ruff.

    python benchmarks/file_shares.py [PATH] [--top 10] [--repeat 3] [--runs 0] [--without 1]
                                     [--work DIR]

PATH defaults to this interpreter's standard library (its installed packages left out by mplint's
own default excludes). First, in this process, each file that passes the prefilter is checked
(`engine.lint_source`, the rules enabled by default) `--repeat` times; the fastest of its checks
(CPU seconds of this process, `time.process_time`) is split into partial parsing's reading
(Python's parse and the units, `partial.read`), LibCST's parse (`libcst.parse_module`: of what
partial parsing kept, or of the whole file) and the rest (the nesting check, the facts and the
rules), and the `--top` costliest files are printed with their share of all the checks.

Then, with `--runs N`, whole cold runs are measured, N rounds interleaved as in `run.py` (CPU of
the process tree, medians): `mplint PATH` with an empty cache each time (its default two workers,
as run.py's "mplint cold"), the same with the `--without` costliest files left out by
`--extend-exclude`, and ruff's parse-only run of the whole of PATH (run.py's peer, from its virtual
environment under `--work`). The second row tells what the rest of the corpus costs against ruff.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import run


def _checked_files(path: str) -> list[tuple[str, bytes]]:
    """The files of `path` a run parses: those that pass the prefilter."""
    from mplint.discovery import discover
    from mplint.precheck import precheck

    found = []
    for name in discover([path]).files:
        with open(name, "rb") as file:
            data = file.read()
        if isinstance(precheck(data, name), tuple):
            found.append((name, data))
    return found


def _shares(files: list[tuple[str, bytes]], repeat: int) -> list[tuple[str, float, float, float]]:
    """(path, partial parsing's reading, LibCST's parse, the rest) of each file's fastest check."""
    import libcst

    from mplint import engine, parallel, partial

    parallel._freeze_what_lives()  # the imports a first check makes, as a worker has them
    spent = {"read": 0.0, "parse": 0.0}

    def timed(function, phase):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - start

        return wrapper

    partial.read = timed(partial.read, "read")
    libcst.parse_module = timed(libcst.parse_module, "parse")
    rows = []
    for name, data in files:
        best: tuple[float, float, float] | None = None
        for _ in range(repeat):
            spent["read"] = spent["parse"] = 0.0
            start = time.process_time()
            engine.lint_source(data, name)
            total = time.process_time() - start
            gc.collect()  # what the check left, collected outside the timings (a worker does so)
            if best is None or total < sum(best):
                best = (spent["read"], spent["parse"], total - spent["read"] - spent["parse"])
        assert best is not None
        rows.append((name, *best))
    return rows


def _runs(path: str, excluded: list[str], rounds: int, work: Path) -> None:
    bin_dir = run.peers_venv(work)
    cache = Path(tempfile.mkdtemp(prefix="mplint-cache-", dir=work))
    mplint = [sys.executable, "-m", "mplint", path, "--exit-zero", "--cache-dir", str(cache)]
    globs = [os.path.relpath(name) for name in excluded]
    emptied = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    rows = [
        run.Row("mplint cold", mplint, before=emptied),
        run.Row(f"mplint cold without the {len(excluded)} costliest", [*mplint, "--extend-exclude", ",".join(globs)],
                before=emptied),
    ]
    measured = run.cold_rounds(rows, rounds, bin_dir, path)
    emptied()
    print()
    print(measured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="checks of each file, the fastest kept")
    parser.add_argument("--runs", type=int, default=0, help="rounds of whole cold runs (0: none)")
    parser.add_argument("--without", type=int, default=1, help="costliest files left out of the second run")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mplint-bench")
    arguments = parser.parse_args()
    files = _checked_files(arguments.path)
    rows = sorted(_shares(files, arguments.repeat), key=lambda row: sum(row[1:]), reverse=True)
    total = sum(sum(row[1:]) for row in rows)
    print(f"{arguments.path}: {len(rows)} files pass the prefilter; their checks: {total:.3f} s CPU "
          f"(fastest of {arguments.repeat} each); load average {os.getloadavg()[0]:.2f}")
    print(f"  {'check s':>7} {'share':>6} {'reading':>8} {'LibCST':>7} {'rest':>6}  file")
    for name, reading, parse, rest in rows[: arguments.top]:
        check = reading + parse + rest
        shown = os.path.relpath(name, arguments.path)
        print(f"  {check:7.3f} {check / total:6.1%} {reading:8.3f} {parse:7.3f} {rest:6.3f}  {shown}")
    sums = [sum(row[i] for row in rows) for i in (1, 2, 3)]
    print(f"  {total:7.3f} {1:6.0%} {sums[0]:8.3f} {sums[1]:7.3f} {sums[2]:6.3f}  all {len(rows)}")
    if arguments.runs:
        arguments.work.mkdir(parents=True, exist_ok=True)
        _runs(arguments.path, [row[0] for row in rows[: arguments.without]], arguments.runs, arguments.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
