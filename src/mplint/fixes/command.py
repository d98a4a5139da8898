"""What `--fix` and `--diff` do with a run: fix the files whose findings carry an applicable fix,
then write them back (`--fix`) or print what would change (`--diff`).

The command line's exit status: with `--fix`, 0 when no finding remains and 1 when some do; with
`--diff`, 1 when there is a change to make; 2 when a file could not be checked or written."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import click

from mplint.config import Settings
from mplint.output import Output
from mplint.findings import FileError, FileResult
from mplint.fixes.apply import fixes_for
from mplint.fixes.files import FixedFile, fix_bytes, unified_diff, write_atomically
from mplint.runner import STDIN_DEFAULT_NAME, Run


@dataclass
class FixedRun:
    files: list[FixedFile] = field(default_factory=list)
    #: the fixed text of standard input, when it was among the paths
    stdin: FixedFile | None = None

    @property
    def changed(self) -> list[FixedFile]:
        return [f for f in self.files if f.outcome.changed]

    @property
    def fixed_count(self) -> int:
        return sum(f.outcome.fixed_count for f in self.files)


def fix_run(
    run: Run, settings: Settings, *, unsafe: bool, stdin: bytes | None, stdin_name: str | None
) -> FixedRun:
    """Fixes every file of `run` with an applicable fix, and replaces its result in `run` with the
    findings of the fixed text. Nothing is written here."""
    fixed = FixedRun()
    stdin_name = stdin_name or STDIN_DEFAULT_NAME
    for index, result in enumerate(run.results):
        is_stdin = stdin is not None and result.path == stdin_name
        if result.error is not None or not (is_stdin or fixes_for(result.findings, unsafe)):
            continue
        data = stdin if is_stdin else _read(result.path)
        if data is None:
            run.results[index] = FileResult(result.path, error=FileError(result.path, "cannot read it again to fix it"))
            continue
        done = fix_bytes(data, result.path, settings.codes_for(result.path), settings.rule_options, unsafe)
        if isinstance(done, FileResult):
            run.results[index] = done
            continue
        run.results[index] = done.outcome.after
        fixed.files.append(done)
        if is_stdin:
            fixed.stdin = done
    return fixed


def write_fixed(fixed: FixedRun, run: Run) -> None:
    """Writes each changed file (not standard input) back; a file that cannot be written becomes
    an error of the run."""
    for file in fixed.changed:
        if file is fixed.stdin:
            continue
        try:
            write_atomically(file.path, file.encoded())
        except OSError as exc:
            for index, result in enumerate(run.results):
                if result.path == file.path:
                    run.results[index] = FileResult(
                        file.path, error=FileError(file.path, f"cannot write the fixes: {exc.strerror or exc}")
                    )


def diff(fixed: FixedRun) -> str:
    return "".join(unified_diff(f.path, f.outcome.original, f.outcome.source) for f in fixed.changed)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def fix_command(
    run: Run,
    settings: Settings,
    *,
    output: Output,
    show_diff: bool,
    stdin: bytes | None,
    stdin_name: str | None,
) -> bool:
    """`--fix` or `--diff` on a finished run: prints what the command line prints; whether
    something was (or, with `--diff`, would be) changed."""
    from mplint.output import emit, print_summary
    from mplint.report import text

    fixed = fix_run(run, settings, unsafe=run.unsafe_fixes, stdin=stdin, stdin_name=stdin_name)
    if show_diff:
        click.echo(diff(fixed), nl=False)
        _errors(run)
        count, files = fixed.fixed_count, len(fixed.changed)
        click.echo(
            f"Would fix {_count(count, 'finding')} in {_count(files, 'file')}." if files else "No fixes to make.",
            err=True,
        )
        return bool(files)
    write_fixed(fixed, run)
    run.fixed = fixed.fixed_count
    if stdin is not None:  # the fixed source is the output: the findings go to stderr
        if fixed.stdin is not None:
            sys.stdout.buffer.write(fixed.stdin.encoded())
        else:  # could not be checked or had nothing to fix: given back as it came
            sys.stdout.buffer.write(stdin)
        sys.stdout.flush()
        text.write(run, sys.stderr)
    else:
        emit(run, output)
    _errors(run)
    if not output.quiet:
        print_summary(run)
    return bool(fixed.changed)


def _errors(run: Run) -> None:
    for error in run.errors:
        click.echo(f"mplint: error: {error}", err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
