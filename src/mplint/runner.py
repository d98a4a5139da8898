"""A run: find the files, check each one, collect what came back."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Collection, Sequence

from mplint import engine
from mplint.config import Settings
from mplint.discovery import discover
from mplint.findings import FileError, FileResult, Finding
from mplint.options import DEFAULT_OPTIONS, RuleOptions

STDIN = "-"
STDIN_DEFAULT_NAME = "<stdin>"


@dataclass
class Run:
    results: list[FileResult] = field(default_factory=list)

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


def check_source(
    source: bytes, path: str, codes: Collection[str], options: RuleOptions = DEFAULT_OPTIONS
) -> FileResult:
    try:
        return engine.lint_source(source, path, codes=codes, options=options)
    except Exception as exc:  # an engine bug must cost one file, not the run or the other files
        return FileResult(path, error=FileError(path, f"internal error: {type(exc).__name__}: {exc}"))


def check_file(path: str, codes: Collection[str], options: RuleOptions = DEFAULT_OPTIONS) -> FileResult:
    """Check one file on disk. Top-level and picklable-argument only, so a pool can run it."""
    try:
        with open(path, "rb") as file:  # bytes: the engine honours the file's own encoding
            source = file.read()
    except OSError as exc:
        return FileResult(path, error=FileError(path, f"cannot read: {exc.strerror or exc}"))
    return check_source(source, path, codes, options)


def lint_paths(
    paths: Sequence[str],
    settings: Settings,
    *,
    stdin_filename: str | None = None,
    stdin: BinaryIO | None = None,
) -> Run:
    """Check `paths` (files, folders, or `-` for standard input) with `settings`."""
    run = Run()
    if STDIN in paths:
        name = stdin_filename or STDIN_DEFAULT_NAME
        source = (stdin or sys.stdin.buffer).read()
        run.results.append(check_source(source, name, settings.codes_for(name), settings.rule_options))
    found = discover([path for path in paths if path != STDIN], settings.is_excluded)
    run.results += [FileResult(error.path, error=error) for error in found.errors]
    for path in found.files:
        run.results.append(check_file(path, settings.codes_for(path), settings.rule_options))
    return run
