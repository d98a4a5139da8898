"""A small project and a counted run over it, for the tests of the two memos that answer a warm
run: the run memo (`run_memo.py`: keyed by the named files, asked first) and, behind it, the
project memo (`project/memo.py`: what the project tells each named file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from console import write
from mplint import runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings

HOUR_NS = 3600 * 10**9
RUN = "from app import jobs\n\njobs.run_all()\n"
JOBS = (
    "import multiprocessing\n"
    "\n"
    "\n"
    "def run_all():\n"
    "    with multiprocessing.Pool(2) as pool:\n"
    "        return pool.map(abs, [1, -2])\n"
)
#: JOBS without the pool, the same number of bytes (only its time tells the change)
JOBS_IDLE = ("import multiprocessing\n\n\ndef run_all():\n    return [abs(x) for x in (1, -2)]\n"
             .ljust(len(JOBS) - 1) + "\n")
assert len(JOBS_IDLE) == len(JOBS)
FOUND = [("run.py", 3, "MPL001")]

RUN_MEMO = "run memo"
PROJECT_MEMO = "project memo"


def make_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """`run.py` calls `app.jobs.run_all()`, which starts a pool, at import time."""
    write(root, {"pyproject.toml": "[project]\nname = 'p'\n", "run.py": RUN, "app/__init__.py": "",
                 "app/jobs.py": JOBS, **(files or {})})
    age_all(root)
    return root


def age_all(root: Path) -> None:
    """Older than the stat index's racy window, so that the index serves every file."""
    for path in root.rglob("*"):
        if path.is_file():
            status = path.stat()
            os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns - HOUR_NS))


def memo_entries(cache: Path, marker: str) -> list[Path]:
    """The cache's entries that hold `marker` at their top ("folders": the project memo's)."""
    found = []
    for entry in cache.glob("??/*.json"):
        data = json.loads(entry.read_text())
        if isinstance(data, dict) and marker in data:
            found.append(entry)
    return found


def drop_run_memos(cache: Path) -> int:
    """Without the run memo, the next run asks the project memo. How many there were."""
    entries = memo_entries(cache, RUN_MEMO)
    for entry in entries:
        entry.unlink()
    return len(entries)


class Counted:
    """`lint_paths` in this process, counting the runs in which the memo of `layer` missed.

    "run memo": the paths named are `run.py` alone by default (its project's modules are
    reached, not named), and a miss is a run that built the project's session. "project memo":
    the whole project is named, the run memo is dropped before each run (else it would answer
    first), and a miss is a run that summarised and linked the project."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cache: Path, layer: str = PROJECT_MEMO) -> None:
        self.misses = 0
        self.cache = cache
        self.layer = layer
        counted = "project_outcomes" if layer == RUN_MEMO else "summarise_project"
        real = getattr(runner, counted)

        def counting(*args, **kwargs):
            self.misses += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(runner, counted, counting)

    def __call__(self, root: Path, *names: str, codes: frozenset[str] | None = None,
                 fixes: bool = True) -> list[tuple[str, int, str]]:
        self.last = self.run(root, *names, codes=codes, fixes=fixes)
        return [(os.path.relpath(f.path, root), f.line, f.code) for f in self.last.findings]

    def run(self, root: Path, *names: str, codes: frozenset[str] | None = None, fixes: bool = True,
            cached: bool = True) -> runner.Run:
        settings = load_settings(CommandLine(), cwd=str(root))
        if codes is not None:
            settings = type(settings)(**{**settings.__dict__, "enabled": codes})
        if self.layer == PROJECT_MEMO:
            drop_run_memos(self.cache)
        default = ("run.py",) if self.layer == RUN_MEMO else (".",)
        paths = [os.path.normpath(os.path.join(root, name)) for name in names or default]
        return runner.lint_paths(paths, settings, cache=Cache(self.cache) if cached else None, fixes=fixes)
