"""A run: find the files, check each one, collect what came back."""

from __future__ import annotations

import contextlib
import gc
import os
import stat
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Mapping, Sequence

from mplint.discovery import discover
from mplint.file_index import FileIndex, SourceFile
from mplint.findings import FileError, FileResult, Finding
from mplint.project.scan import is_test_module, may_import_any_project, names_of
from mplint.source import SourceError, decode

if TYPE_CHECKING:  # the project-wide analysis and the workers: imported when a file needs them
    from mplint.cache import Cache
    from mplint.command_record import Record
    from mplint.config import Settings
    from mplint.options import RuleOptions
    from mplint.parallel import Job, Workers
    from mplint.project.memo import Outcome
    from mplint.project.session import File, Session
    from mplint.project.summary import Names
    from mplint.project.told import ProjectFacts

STDIN = "-"
STDIN_DEFAULT_NAME = "<stdin>"


@dataclass
class Run:
    results: list[FileResult] = field(default_factory=list)
    #: paths given that hold no file to check
    empty_paths: list[str] = field(default_factory=list)
    #: the text read from standard input, by its name (files are on disk)
    sources: dict[str, str] = field(default_factory=dict)
    #: `--unsafe-fixes` was given: unsafe fixes count as fixable
    unsafe_fixes: bool = False
    #: with `--fix`, how many findings the fixes removed (None: no fixing was asked for)
    fixed: int | None = None

    @property
    def findings(self) -> list[Finding]:
        return sorted(finding for result in self.results for finding in result.findings)

    @property
    def errors(self) -> list[FileError]:
        errors = [result.error for result in self.results if result.error is not None]
        return sorted(errors, key=lambda e: (e.path, e.line or 0, e.column or 0, e.message))

    @property
    def files_checked(self) -> int:
        return sum(1 for result in self.results if result.error is None)

    @property
    def files_with_findings(self) -> int:
        return len({finding.path for finding in self.findings})


_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), "something else")


def read_source(path: str) -> bytes | FileResult:
    """The file's bytes (the engine honours the file's own encoding), or why they cannot be had.

    Only regular files are read, and the open never waits: a FIFO would block the run until
    something writes to it, a device could stream forever.
    """
    def cannot(why: str) -> FileResult:
        return FileResult(path, error=FileError(path, why))

    try:
        kind = _not_regular(os.stat(path).st_mode)  # a socket cannot even be opened
        if kind is None:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            try:
                status = os.fstat(descriptor)
                kind = _not_regular(status.st_mode)  # it may have been swapped
                if kind is None:
                    return _read_all(descriptor, status.st_size)
            finally:
                os.close(descriptor)
    except OSError as exc:
        return cannot(f"cannot read: {exc.strerror or exc}")
    return cannot(f"skipped: {kind}, not a regular file")


def _read_all(descriptor: int, size: int) -> bytes:
    """The file's bytes to its end: one read of the size `fstat` gave and a byte more, which
    comes back short at the end (a third of the cost of a buffered file object's read); more
    reads when the file grew or shrank since, or the system gave less."""
    data = os.read(descriptor, size + 1)
    if len(data) == size:
        return data
    chunks = [data]
    while chunk := os.read(descriptor, max(size, 1 << 16)):
        chunks.append(chunk)
    return b"".join(chunks)


Progress = Callable[[int, int], None]


def check_buffer(
    path: str,
    source: bytes | str,
    codes: frozenset[str],
    options: RuleOptions,
    cache: Cache | None,
    unsaved: Mapping[str, bytes | str] | None = None,
    *,
    noqa: bool = True,
    fixes: bool = True,
) -> tuple[FileResult, ProjectFacts]:
    """The result of `source` (an unsaved buffer, standard input named by --stdin-display-name)
    checked with what the project of `path` tells it, and what it told it (the language server
    keeps its digest, to tell when another buffer's change changes what this one is told); in
    one parse when it can: the buffer is checked in the parse that makes its summary, as a named
    file of `lint_paths` is, and again only when its project answers what that check asked
    (`project/asked.py`). Its project's modules are read from disk, summarised through the cache,
    except those in `unsaved` (path -> text: an editor's other open buffers), read from there.
    With `noqa` false its findings are not filtered by
    `# noqa` comments (flake8 does that); with `fixes` false no fix is built (flake8 and the
    server's diagnostics show none)."""
    with _without_collections():
        return _check_buffer(path, _as_bytes(source), codes, options, cache, unsaved, noqa, fixes)


@contextlib.contextmanager
def _without_collections() -> Iterator[None]:
    """The collector off while one buffer is checked: LibCST's tree and the facts' records are
    made then, tens of thousands of objects that live until the check ends (the facts cut their
    own cycles, `ModuleFacts.release`, and the tree holds none), which its passes would only
    traverse, again and again (the 2,000-line script with a guard fix: 13 passes, 27 ms of a 0.45 s
    check); it is on again as it was once the check is over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _check_buffer(
    path: str,
    data: bytes,
    codes: frozenset[str],
    options: RuleOptions,
    cache: Cache | None,
    unsaved: Mapping[str, bytes | str] | None,
    noqa: bool,
    fixes: bool,
) -> tuple[FileResult, ProjectFacts]:
    from mplint.project.told import NO_PROJECT_FACTS

    if path in (STDIN_DEFAULT_NAME, STDIN):
        from mplint.parallel import check_source

        return check_source(data, path, codes, options, noqa=noqa, fixes=fixes)[0], NO_PROJECT_FACTS
    from mplint.precheck import precheck

    ready = precheck(data, path, codes)
    uses_api = not isinstance(ready, FileResult)
    if isinstance(ready, FileResult) and not unsaved and not takes_part(path, SourceFile.of_bytes(path, data), False):
        return ready, NO_PROJECT_FACTS  # its project can tell it nothing: the prefilter's result stands
    session = _buffer_session(path, data, uses_api, cache, unsaved)
    summarise_project(session, options, 1, cache, [(path, SourceFile.of_bytes(path, data), codes, uses_api)],
                      noqa=noqa, fixes=fixes)
    _save_index(session)
    project = session.facts_for(path).only_for(codes)
    settled, result = _standing(session, path, uses_api, project)
    if settled:
        return result or (ready if isinstance(ready, FileResult) else FileResult(path)), project
    from mplint.parallel import check_source

    return check_source(data, path, codes, options, project=project, noqa=noqa, fixes=fixes)[0], project


def _buffer_session(
    path: str, data: bytes, uses_api: bool, cache: Cache | None, unsaved: Mapping[str, bytes | str] | None
) -> Session:
    """The project around one buffer, explored; the index is the cache's."""
    from mplint import prefilter
    from mplint.project.session import Session

    session = Session(index=cache.file_index() if cache is not None else None)
    session.add(path, data, uses_api)
    for other, text in (unsaved or {}).items():
        other_data = _as_bytes(text)
        session.add(other, other_data, prefilter.may_contain_findings(other_data), named=False)
    session.explore(prefilter.may_contain_findings)
    session.add_conftests(prefilter.may_contain_findings)
    return session


def _save_index(session: Session) -> None:
    if session.index is not None:
        session.index.save()


def takes_part(path: str, source: SourceFile, uses_api: bool) -> bool:
    """The file may take part in its project's analysis: it uses the API, or may import a
    project module, or is a test module (the `conftest.py` files above it may pin the start
    method). A run none of whose files does has no project to analyse (`project/session.py`
    would find nothing to summarise and tell each file nothing): it skips that step, and never
    imports it."""
    return uses_api or is_test_module(path) or may_import_any_project(names_of(source))


def _standing(session: Session, path: str, uses_api: bool, project: ProjectFacts) -> tuple[bool, FileResult | None]:
    """Whether a named file's result is settled without a check against `project` (what its
    project tells it), and that result (None: the prefilter's stands)."""
    key = os.path.abspath(path)
    asked, local = session.asked.get(key), session.local_results.get(key)
    if asked is not None and not asked.answered_by(project):
        # checked while it was summarised, and nothing it asked of its project is answered
        # otherwise than by empty facts: that check stands (without the API, the prefilter's)
        return True, local
    if not uses_api and not project:
        return True, None  # its precheck result stands: it cannot have a finding
    if asked is None and local is not None and not project:
        return True, local  # its worker crashed, and its project adds nothing
    return False, None


def _as_bytes(source: bytes | str) -> bytes:
    return source.encode("utf-8", "surrogateescape") if isinstance(source, str) else source


def summarise_project(
    session: Session,
    options: RuleOptions,
    jobs: int | Workers,
    cache: Cache | None,
    named: Sequence[tuple[str, SourceFile, frozenset[str], bool]] = (),
    noqa: bool = True,
    fixes: bool = True,
) -> None:
    """Summaries of the project modules that can matter (from the cache, else parsed), then the
    link. A named file is checked in the same parse, without what its project tells it but noting
    what its check asks of it (`project/asked.py`): most are asked nothing the project answers,
    and keep that result (its fixes built with `fixes`)."""
    from mplint.cache import Local
    from mplint.parallel import Job, run_jobs

    codes_of = {os.path.abspath(path): codes for path, _, codes, _ in named}
    wanted = session.wanted()
    summarised = {file.path for file in wanted}
    # the named files that use the API and need no summary are checked here too, for the record
    files = wanted + [
        file for path, file in sorted(session.files.items())
        if file.named and file.uses_api and path in codes_of and path not in summarised
    ]
    found: dict[int, Local] = {}
    keys: dict[str, str] = {}
    for index, file in enumerate(files):
        codes = codes_of.get(file.path, frozenset()) if file.named else frozenset()
        filtered = noqa or not codes  # `noqa` matters only to a file whose rules run
        if cache is not None:
            local = cache.get_local(cache.local_key(file.origin.digest, file.path, codes, options, filtered), file.given, fixes)
            if local is not None and (local.summarised or file.path not in summarised):
                found[index] = local
    names = session.shared_names(wanted, {files[i].path: local.summary for i, local in found.items() if local.summarised})
    todo: list[Job] = []
    for index, file in enumerate(files):
        codes = codes_of.get(file.path, frozenset()) if file.named else frozenset()
        filtered = noqa or not codes
        local = found.get(index)
        if local is not None and (
            local.summary is None or local.summary.serves(names.get(file.path) if names is not None else None)
        ):
            _keep(session, file, local, file.path in summarised, file.path in codes_of)
            continue
        if cache is not None:
            file.origin.data()  # read now if it was not: the key must be that of the bytes parsed
            keys[file.path] = cache.local_key(file.origin.digest, file.path, codes, options, filtered)
        todo.append(Job(index, file.given, file.source, codes, options,
                        summarise=_summarise(file.path, summarised, names), record=True, noqa=filtered,
                        fixes=fixes))
    for index, result, summary, asked in run_jobs(todo, jobs):
        file = files[index]
        if asked is None or (result.error is not None and result.error.internal):
            session.complete = False  # what it gave is not kept: nor is what the project tells
        if asked is None:  # its worker crashed: that is its result, and it has no summary
            if file.path in summarised:
                session.summaries[file.path] = None
            if file.path in codes_of and file.uses_api:
                session.local_results[file.path] = result
            continue
        local = Local(result, asked, file.path in summarised, summary)
        _keep(session, file, local, file.path in summarised, file.path in codes_of)
        if cache is not None and not (result.error is not None and result.error.internal):
            cache.put_local(keys[file.path], local)
    session.link()


def _summarise(path: str, summarised: set[str], names: dict[str, Names] | None) -> bool | Names:
    """What the job of a module asks for its summary: none, all of it, or what `names` may reach."""
    if path not in summarised:
        return False
    return names[path] if names is not None else True


def project_outcomes(
    session: Session,
    options: RuleOptions,
    jobs: int | Workers,
    cache: Cache | None,
    named: Sequence[tuple[str, SourceFile, frozenset[str], bool]],
    fixes: bool = True,
) -> dict[str, Outcome]:
    """What the project decides for each named file (`project/memo.py`): from the memo when
    nothing the link starts from changed, else summarised and linked (and memoised); `fixes`
    as for `summarise_project` (a memo made without fixes serves only runs that show none)."""
    from mplint.project.memo import LinkMemo, Outcome
    from mplint.project.told import NO_PROJECT_FACTS

    memo = LinkMemo(cache, options, fixes=fixes) if cache is not None else None
    key = ""
    if memo is not None:
        key = memo.key(session, [(path, codes, uses_api) for path, _, codes, uses_api in named])
        found = memo.get(key, session.projects.folders)
        if found is not None and found.keys() == {path for path, _, _, _ in named}:
            return found
    summarise_project(session, options, jobs, cache, named, fixes=fixes)
    outcomes = {}
    for path, _source, codes, uses_api in named:
        project = session.facts_for(path).only_for(codes)
        settled, result = _standing(session, path, uses_api, project)
        outcomes[path] = Outcome(settled, result, NO_PROJECT_FACTS if settled else project)
    if memo is not None and session.summaries and session.complete:  # no summary, no link to skip
        if memo.key(session, [(path, codes, uses_api) for path, _, codes, uses_api in named]) == key:
            memo.put(key, session.projects.folders, outcomes)  # (else a file changed as it was read)
    return outcomes


def _keep(session: Session, file: File, local: Local, summarised: bool, named: bool) -> None:
    if summarised:
        session.summaries[file.path] = local.summary
    if named:
        session.asked[file.path] = local.asked
        if file.uses_api:  # for a file that does not, the prefilter's result stands
            session.local_results[file.path] = local.result


def lint_paths(
    paths: Sequence[str],
    settings: Settings,
    *,
    stdin_filename: str | None = None,
    stdin: BinaryIO | None = None,
    jobs: int | None = 1,
    cache: Cache | None = None,
    progress: Progress | None = None,
    force_exclude: bool = False,
    fixes: bool = True,
    record: Record | None = None,
) -> Run:
    """Check `paths` (files, folders, or `-` for standard input) with `settings`.

    Every file is read and prefiltered here; only files that mention a multiprocessing API and are
    not in the cache are parsed, in `jobs` worker processes when there are enough of them (None:
    one per CPU available).
    With `force_exclude` the excludes apply to the paths given (and to stdin's name) too; with
    `fixes` false no finding's fix is built (for output that shows none); `record` keeps
    what the run read (`command_record.py`).
    """
    run = Run()

    def force_excluded(path: str) -> bool:
        return settings.is_excluded(path, ancestors=True)

    if STDIN in paths:
        name = stdin_filename or STDIN_DEFAULT_NAME
        source = (stdin or sys.stdin.buffer).read()
        if not (force_exclude and stdin_filename and force_excluded(name)):
            codes = settings.codes_for(name)
            run.results.append(check_buffer(name, source, codes, settings.rule_options, cache, fixes=fixes)[0])
            with contextlib.suppress(SourceError):  # kept for output that quotes the source
                run.sources[name] = decode(source)
    found = discover(
        [path for path in paths if path != STDIN],
        settings.is_excluded,
        force_excluded=force_excluded if force_exclude else None,
        observe=record.seen if record is not None else None,
    )
    run.results += [FileResult(error.path, error=error) for error in found.errors]
    run.empty_paths = found.empty
    known = cache.file_index() if cache is not None and found.files else None  # (standard input's is its own)

    named: list[tuple[str, SourceFile, frozenset[str], bool]] = []
    slots: list[FileResult | None] = []
    for path in found.files:
        codes = settings.codes_for(path)
        source = SourceFile(path, read_source, known)
        ready = _prefiltered(source, path, codes)
        if record is not None:
            record.file(path, source)
        if isinstance(ready, FileResult) and ready.error is not None and not source.readable:
            slots.append(ready)  # it cannot be read
            continue
        slots.append(ready)
        named.append((path, source, codes, ready is None))
    if any(takes_part(path, source, uses_api) for path, source, _, uses_api in named):
        _check_with_project(named, slots, found.files, settings, jobs, cache, known, progress, fixes, record)
    run.results += [result for result in slots if result is not None]
    if known is not None:
        known.save()
    return run


def _check_with_project(
    named: list[tuple[str, SourceFile, frozenset[str], bool]],
    slots: list[FileResult | None],
    files: list[str],
    settings: Settings,
    jobs: int | None,
    cache: Cache | None,
    known: FileIndex | None,
    progress: Progress | None,
    fixes: bool,
    record: Record | None = None,
) -> None:
    """Fill `slots` (by the index of each file in `files`) with the results that the project or
    a parse decides: from the run memo when nothing it recorded changed (`run_memo.py`), else the
    project explored, summarised and linked, then each named file told what its project says,
    looked up in the cache, else checked (and the run memoised)."""
    index_of = {path: index for index, path in enumerate(files)}
    memo, key = None, None
    read_before: dict[str, SourceFile] = {}
    if cache is not None:
        from mplint.run_memo import RunMemo

        memo = RunMemo(cache, settings.rule_options, fixes)
        key = memo.key(named)
        found = memo.get(key, known, read_source, read_before) if key is not None else None
        if found is not None and found.keys() <= index_of.keys():
            for path, result in found.items():
                slots[index_of[path]] = result
            if record is not None:
                record.project(memo.reads(known, read_source, read_before))
            return

    from mplint import prefilter
    from mplint.parallel import Job, Workers, available_cpus, run_jobs
    from mplint.project.session import Session

    jobs = jobs or available_cpus()
    session = Session(index=known)
    session.read_before = read_before
    for path, source, _, uses_api in named:
        session.add(path, source, uses_api)
    session.explore(prefilter.may_contain_findings)
    session.add_conftests(prefilter.may_contain_findings)
    #: the results the project side decided, by path (the others keep the prefilter's)
    decided: dict[str, FileResult] = {}
    kept = True  # every result could be kept in the cache: the run may be memoised
    with Workers(jobs) as workers:  # one set of worker processes for both batches
        outcomes = project_outcomes(session, settings.rule_options, workers, cache, named, fixes=fixes)
        workers.between_batches()

        todo: list[Job] = []
        keys: dict[int, str] = {}
        for path, source, codes, uses_api in named:
            index = index_of[path]
            outcome = outcomes[path]
            if outcome.settled:
                if outcome.result is not None:
                    slots[index] = decided[path] = outcome.result
                continue
            project = outcome.project
            if cache is not None:
                key_of = cache.key(source.digest, path, codes, settings.rule_options, project.digest())
                cached = slots[index] = cache.get(key_of, path, fixes)
                if cached is not None:
                    decided[path] = cached
                    continue
                source.data()  # read now if it was not: the key must be that of the bytes checked
                keys[index] = cache.key(source.digest, path, codes, settings.rule_options, project.digest())
            slots[index] = None
            data = source.data()
            if isinstance(data, FileResult):  # it went away since
                slots[index] = data
                kept = False
                continue
            todo.append(Job(index, path, data, codes, settings.rule_options, project, fixes=fixes))

        for done, (index, result, _summary, _asked) in enumerate(run_jobs(todo, workers), start=1):
            slots[index] = decided[files[index]] = result
            if result.error is not None and result.error.internal:
                kept = False
            elif cache is not None:
                cache.put(keys[index], result)
            if progress is not None:
                progress(done, len(todo))
    if record is not None:
        from mplint.run_memo import session_reads

        record.project(session_reads(session, known, read_source) if kept and session.complete else None)
    if memo is not None and key is not None and kept and session.complete and session.wanted():
        memo.put(key, named, session, decided, known, read_source)  # (nothing to summarise: no link to skip)


#: the name of the prefilter's verdict in the stat index, by the codes it is for (most files of
#: a run share one set of codes: its name is made once, not once per file)
_VERDICTS: dict[frozenset[str], str] = {}


def _prefiltered(source: SourceFile, path: str, codes: frozenset[str]) -> FileResult | None:
    """The file's finished result when it needs no parse (`precheck`), None when it does; the
    verdict is the index's when the file is unchanged and it was clean (nothing to report)."""
    verdict = _VERDICTS.get(codes)
    if verdict is None:
        verdict = _VERDICTS[codes] = "prefilter " + ",".join(sorted(codes))
    known = source.fact(verdict)
    if known is True:
        return None
    if known is False:
        return FileResult(path)
    data = source.data()
    if isinstance(data, FileResult):
        return data
    from mplint.precheck import precheck  # (with LibCST's tree, the API table: a read file's)

    ready = precheck(data, path, codes)
    if not isinstance(ready, FileResult):
        source.learn(verdict, True)
        return None
    if not ready.findings and ready.error is None:
        source.learn(verdict, False)
    return ready
