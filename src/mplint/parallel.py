"""Checking many files in worker processes.

mplint checks multiprocessing code, and its own use of multiprocessing follows its rules: the
workers run a top-level function on picklable jobs, the executor is shut down by its `with` block
after every result has been taken, and nothing here runs at import time.

A `ProcessPoolExecutor` rather than a `Pool`: when a worker dies (a crash in the native parser) a
`Pool` waits for its task forever, while the executor reports a broken pool. The files that were in
flight are then checked again one at a time, each in a fresh process, so a crash costs one file.

The workers start the platform's way (its default start method, never one forced on it), and
import LibCST and the rules once for all of them where that way allows: where they are forked
from this process, it imports them (and freezes what lives, `_freeze_what_lives`) just before
the first worker starts, and every worker inherits them; where a fork server starts them, it
imports them (`set_forkserver_preload`) before it forks any; where each is spawned afresh (the
default on Windows and macOS), each imports them itself. Whichever it is, a worker is a process
of its own: a crash still costs the files it held.
"""

from __future__ import annotations

import gc
import os
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Iterator

from mplint.findings import FileError, FileResult
from mplint.interrupts import in_worker
from mplint.options import DEFAULT_OPTIONS, RuleOptions
from mplint.project.asked import Asked, Recorder
from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

    from mplint.project.summary import Summary

#: below this many files to parse, starting worker processes costs more than it saves
MIN_FILES_FOR_WORKERS = 4
#: batches per worker: enough to even out big and small files, few enough to keep messages rare
BATCHES_PER_WORKER = 4


@dataclass(frozen=True)
class Job:
    """One file to parse and check, already read and decoded by the parent."""

    index: int
    path: str
    text: str | bytes
    codes: frozenset[str]
    options: RuleOptions
    #: what the file's project tells its check; with `summarise` its summary is made too
    project: ProjectFacts = NO_PROJECT_FACTS
    summarise: bool = False
    #: check without project facts, noting what the check asks of them (`project` is not used)
    record: bool = False
    #: False: findings are not filtered by `# noqa` comments (the flake8 plugin leaves that to flake8)
    noqa: bool = True
    #: False: the findings' fixes are not built (a consumer that never shows them)
    fixes: bool = True


#: what a job gives back: its index, the file's result, its summary when one was asked for, and
#: with `record` what its check asked of the project
Done = tuple[int, FileResult, "Summary | None", "Asked | None"]


def available_cpus() -> int:
    if hasattr(os, "process_cpu_count"):  # Python 3.13+: honours the affinity mask
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def check_source(
    source: bytes | str,
    path: str,
    codes: Collection[str],
    options: RuleOptions = DEFAULT_OPTIONS,
    *,
    project: ProjectFacts = NO_PROJECT_FACTS,
    summarise: bool = False,
    noqa: bool = True,
    fixes: bool = True,
) -> tuple[FileResult, Summary | None]:
    """Check one file's source in this process, and with `summarise` make its summary (the engine
    never raises: see engine.lint_source)."""
    from mplint import engine  # LibCST, the facts and the rules: only once a file needs a parse

    return engine.check_and_summarise(
        source, path, codes=codes, noqa=noqa, options=options, project=project, summarise=summarise, fixes=fixes
    )


#: characters LibCST parsed (of a partly parsed file, what was kept) after which a process runs a
#: full collection: a module's facts and tree are cyclic garbage once it is checked, and Python's
#: full passes are rare in a large heap, so without this a worker's memory grows with every large
#: file it checks (the six sdists: 290 MiB against 170 MiB for the same files in one process)
COLLECT_AFTER_CHARS = 128 * 1024
_parsed_since_collection = 0
_frozen = False


def _freeze_what_lives() -> None:
    """Once per process, before its first check: what lives then (the imported modules, their
    tables, the run's own state) is moved out of the collector's sight (`gc.freeze`), so that a
    full collection traverses only what the checks since made, not the whole heap again each
    time (the six sdists, one process: 1.75 -> 1.0 s of full collections). What is frozen is
    never collected: only the state at the first check is, once.

    LibCST, the facts and every rule's module are imported first, with the collector off: what
    they make (37,000 objects) lives as long as the process, and the 55 collections it woke for
    meanwhile found nothing to free but traversed it again and again (15 ms of a 0.4 s editor
    check); nor is it collected before the freeze, which would traverse it all once more for the
    handful of unreachable objects an import leaves (5 of them: frozen, never freed)."""
    global _frozen
    if not _frozen:
        _frozen = True
        collecting = gc.isenabled()
        gc.disable()
        try:
            from mplint.dataclass_code import kept

            with kept():  # LibCST's classes and mplint's from the code compiled for them before
                from mplint import engine

                engine.enabled_rules(None)
        finally:
            if collecting:
                gc.enable()
        gc.freeze()


def _preloaded() -> list[str]:
    """What a fork server imports before it forks the workers: the main module (as it would
    anyway), the engine and every rule's module (found without importing the rules)."""
    import importlib.util
    import pkgutil

    spec = importlib.util.find_spec("mplint.rules")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    return ["__main__", "mplint.engine", *(f"mplint.rules.{module.name}" for module in pkgutil.iter_modules(folders))]


def check_job(job: Job) -> Done:
    global _parsed_since_collection
    _freeze_what_lives()
    project = Recorder() if job.record else job.project
    result, summary = check_source(
        job.text, job.path, job.codes, job.options, project=project, summarise=job.summarise, noqa=job.noqa,
        fixes=job.fixes,
    )
    from mplint import engine  # imported by check_source already

    _parsed_since_collection += engine.take_parsed_chars()
    if _parsed_since_collection >= COLLECT_AFTER_CHARS:
        _parsed_since_collection = 0
        gc.collect()
    return job.index, result, summary, project.asked if isinstance(project, Recorder) else None


def check_batch(batch: list[Job]) -> list[Done]:
    return [check_job(job) for job in batch]


class Workers:
    """The worker processes of one run, shared by its batches (the summaries' and the checks'):
    started when a batch first needs them, each importing LibCST and the rules once, and shut
    down when the run's `with` block ends (killed at once when it ends by an exception: an
    interrupt, or the consumer giving up on the results; the executor's own `with` block would
    first finish every queued job). A pool broken by a crash is replaced for the next batch."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._executor: ProcessPoolExecutor | None = None
        self._size = 0
        self._froze = False

    def between_batches(self) -> None:
        """What the first batch left (its summaries, the link) lives until the run ends: where
        the checks run in this process, it is kept out of the full collections of the second
        batch (`gc.freeze`; the sdists, one process: 1.3 -> 0.95 s of them) until the run's
        `with` block ends, which hands it back to the collector."""
        if self.jobs <= 1:
            gc.collect()
            gc.freeze()
            self._froze = True

    def executor(self, wanted: int | None = None) -> ProcessPoolExecutor:
        """Running workers, at most `jobs`, as many as `wanted` when it is fewer (a pool smaller
        than a later batch wants is replaced)."""
        size = self.jobs if wanted is None else max(1, min(self.jobs, wanted))
        if self._executor is not None and self._size < size:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._executor is None:
            from concurrent.futures import ProcessPoolExecutor

            context = self._context()
            self._executor = ProcessPoolExecutor(max_workers=size, mp_context=context, initializer=in_worker)
            self._size = size
        return self._executor

    def _context(self) -> BaseContext:
        """The platform's start method, with LibCST and the rules imported once for all the
        workers where it allows (see the module's docstring)."""
        import multiprocessing

        context = multiprocessing.get_context()
        method = context.get_start_method()
        if method == "fork":
            if not _frozen:
                _freeze_what_lives()  # inherited by each worker, which then has nothing to import
                self._froze = True  # handed back to the collector when the run ends
        elif method == "forkserver":
            context.set_forkserver_preload(_preloaded())  # no effect once the server runs
        return context

    def broken(self) -> None:
        """Its workers crashed: the next batch starts new ones."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        global _frozen
        if self._froze:
            gc.unfreeze()  # a process that goes on (an editor's, a caller of lint_paths) collects it
            _frozen = False  # and freezes again at its next first check
            self._froze = False
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if kind is None:
            executor.shutdown(wait=True)
        else:
            _kill(executor)


def run_jobs(todo: list[Job], jobs: int | Workers) -> Iterator[Done]:
    """Each job's (index, result), in no particular order: in worker processes when there are
    enough jobs for more than one (`jobs`: how many, or the run's own `Workers`)."""
    count = jobs.jobs if isinstance(jobs, Workers) else jobs
    if count <= 1 or len(todo) < MIN_FILES_FOR_WORKERS:
        for job in todo:
            yield check_job(job)
        return
    if isinstance(jobs, Workers):
        yield from _run_batches(todo, jobs)
        return
    with Workers(min(count, len(todo))) as workers:
        yield from _run_batches(todo, workers)


def _run_batches(todo: list[Job], workers: Workers) -> Iterator[Done]:
    # imported here: multiprocessing and the executor cost a run that starts no worker 10 ms
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    batches = _batches(todo, workers.jobs * BATCHES_PER_WORKER)
    crashed: list[Job] = []
    executor = workers.executor(len(batches))
    futures = {executor.submit(check_batch, batch): batch for batch in batches}
    for future in as_completed(futures):
        try:
            yield from future.result()
        except BrokenProcessPool:
            crashed.extend(futures[future])
    if crashed:
        workers.broken()
    for job in crashed:
        yield _check_alone(job)


def _kill(executor: ProcessPoolExecutor) -> None:
    """Stop the workers at once, then wait for the executor's manager thread to close its wake-up
    pipe and end: left running, it closes that pipe while the interpreter's exit writes to it
    (`concurrent.futures.process._python_exit` wakes every manager thread without the executor's
    lock), and the exit, racing the close, fails with `OSError: [Errno 9] Bad file descriptor`
    and a traceback. Once the thread has ended the pipe is marked closed and the exit writes
    nothing."""
    # the executor has no public way to stop running work; its process table is the one handle
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with suppress(OSError, ValueError):
            process.kill()
    for process in processes:
        with suppress(OSError, ValueError, AssertionError):
            process.join(timeout=5)
    if manager is not None:
        with suppress(RuntimeError):
            manager.join(timeout=5)  # it sees the workers gone, fails their jobs, closes, ends


def _batches(todo: list[Job], count: int) -> list[list[Job]]:
    """Split the jobs into about `count` batches of similar size, the biggest files first."""
    batches: list[list[Job]] = [[] for _ in range(min(count, len(todo)))]
    sizes = [0] * len(batches)
    for job in sorted(todo, key=lambda job: len(job.text), reverse=True):
        lightest = sizes.index(min(sizes))
        batches[lightest].append(job)
        sizes[lightest] += len(job.text) + 1
    return batches


def _check_alone(job: Job) -> Done:
    from concurrent.futures.process import BrokenProcessPool

    try:
        with Workers(1) as alone:
            return alone.executor().submit(check_job, job).result()
    except BrokenProcessPool:
        message = "mplint's worker process crashed while checking this file; please report it"
        return job.index, FileResult(job.path, error=FileError(job.path, message, internal=True)), None, None
