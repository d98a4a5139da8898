"""The `mplint` command.

Exit codes: 0 no findings, 1 findings, 2 a usage or configuration error or a file that could not be
checked (2 wins over 1). The engine and the rules are imported only once there is something to
check, so `--version` and `--help` stay quick.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from typing import Iterable, Iterator, Sequence


@contextlib.contextmanager
def _datetime_in_c() -> Iterator[None]:
    """click imports `datetime.datetime` (for its DateTime type), which on Python 3.10 and 3.11
    executes all of `datetime.py`, the pure-Python implementation, before it replaces it with the
    C module's classes (about 1 ms of a run that never meets a date). While click is imported
    the C module stands for `datetime`, then goes: click holds the same class, and any later
    `import datetime` gets the real module."""
    if sys.version_info >= (3, 12) or "datetime" in sys.modules:  # (3.12: datetime.py is small)
        yield
        return
    try:
        import _datetime
    except ImportError:  # no C module: datetime.py's own classes
        yield
        return
    sys.modules["datetime"] = _datetime
    try:
        yield
    finally:
        if sys.modules.get("datetime") is _datetime:
            del sys.modules["datetime"]


with _datetime_in_c():
    import click

from mplint import __version__
from mplint.interrupts import CLEAR_LINE
from mplint.output import Output, emit, output_options, print_summary

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes_option(name: str, help_text: str):
    return click.option(name, multiple=True, metavar="CODES", help=help_text + " Comma-separated; repeatable.")


def _split(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _given(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """None when the option was not used at all, so the config file's value stands."""
    return _split(values) if values else None


def rule_table(rules: Sequence[type]) -> str:
    """One aligned line per rule: code, slug, summary."""
    rows = [
        (rule.code, rule.name, rule.summary + ("" if rule.default_enabled else " (not enabled by default)"))
        for rule in rules
    ]
    if not rows:
        return ""
    code_width = max(len(row[0]) for row in rows)
    name_width = max(len(row[1]) for row in rows)
    return "\n".join(
        f"{code:<{code_width}}  {name:<{name_width}}  {summary}" for code, name, summary in rows
    )


class ProgressLine:
    """`checked 40/180 files` on one terminal line, for runs long enough to wonder about."""

    MIN_FILES = 20
    INTERVAL = 0.1  # seconds between redraws

    def __init__(self) -> None:
        self.shown = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total < self.MIN_FILES or (now - self._last < self.INTERVAL and done < total):
            return
        self._last = now
        self.shown = True
        click.echo(f"\rmplint: parsed {done}/{total} files", err=True, nl=False)

    def clear(self) -> None:
        if self.shown:
            click.echo(CLEAR_LINE, err=True, nl=False)


class Jobs(click.ParamType):
    """`--jobs N`, `auto` or 0 (both: the CPUs available); None stands for auto."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int):
            number = value
        elif str(value).strip().lower() == "auto":
            return None
        else:
            try:
                number = int(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a number of processes or 'auto'", param, ctx)
        if number is not None and number < 0:
            self.fail(f"{value!r} is negative: give a number of processes, or 0 or 'auto'", param, ctx)
        return number or None


def _fail(message: str) -> None:
    click.echo(f"mplint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
# readable=False: a path that cannot be read is one error line for that path, not the end of the run
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@_codes_option("--select", "Check only these rules (codes or prefixes), instead of the default set.")
@_codes_option("--extend-select", "Check these rules too.")
@_codes_option("--ignore", "Do not check these rules.")
@click.option("--exclude", multiple=True, metavar="GLOBS",
              help="Paths to skip when walking folders, replacing the config's `exclude`. "
                   "Comma-separated; repeatable.")
@click.option("--extend-exclude", multiple=True, metavar="GLOBS",
              help="More paths to skip when walking folders. Comma-separated; repeatable.")
@click.option("--force-exclude", is_flag=True,
              help="Apply the excludes to the files named on the command line and to "
                   "--stdin-filename too (for pre-commit and editors, which name every file).")
@click.option("--fix", is_flag=True,
              help="Apply the safe fixes in place, then report what remains (with -, print the fixed "
                   "source on stdout and the findings on stderr).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, apply the unsafe fixes too.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of what --fix would change and write nothing (exit 1 when "
                   "there is a change).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True,
              help="Also count the findings per rule, on stderr before the summary.")
@click.option("--list-rules", is_flag=True, help="Print every rule (code, name, summary) and exit.")
@click.option("--explain", metavar="CODE",
              help="Print a rule's documentation (what it finds, why, an example, the fix) and exit.")
@click.option("--config", type=click.Path(dir_okay=False), metavar="PATH",
              help="A pyproject.toml to read [tool.mplint] from, instead of the nearest one.")
@click.option("--jobs", "-j", type=Jobs(), metavar="N|auto",
              help="Worker processes for parsing [default: auto, the CPUs available, as 0 is; "
                   "1 checks in-process].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache of earlier results.")
@click.option("--cache-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where to keep the cache [default: $MPLINT_CACHE_DIR, else .mplint_cache beside "
                   "the pyproject.toml in use, else in the current folder].")
@click.option("--stdin-filename", metavar="PATH",
              help="The name for source read from stdin (`-`), in output and per-file-ignores.")
@click.option("--show-files", is_flag=True,
              help="Print the files a run would check, and which of them need a parse, and exit.")
@click.option("--show-settings", is_flag=True,
              help="Print the configuration in effect, and where each value came from, and exit.")
@click.option("--add-noqa", is_flag=True,
              help="Append `# noqa: CODE` to every line with a finding (keeping the codes already "
                   "there) and exit.")
@click.version_option(__version__, "--version", prog_name="mplint", message="%(prog)s %(version)s")
@output_options
def cli(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool,
    fix: bool,
    unsafe_fixes: bool,
    show_diff: bool,
    exit_zero: bool,
    statistics: bool,
    list_rules: bool,
    explain: str | None,
    config: str | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: str | None,
    stdin_filename: str | None,
    show_files: bool,
    show_settings: bool,
    add_noqa: bool,
    output: Output,
) -> None:
    """Find Python multiprocessing mistakes in PATHS (files, folders, or - for stdin; default: .)."""
    if list_rules:
        from mplint.rules import all_rules

        click.echo(rule_table(all_rules()))
        return
    if explain is not None:
        # an option, not a subcommand: `mplint rule` would clash with a folder named "rule"
        from mplint.rule_pages import explain as explanation

        page = explanation(explain)
        if page is None:
            raise click.BadParameter(
                f"no rule {explain!r}; `mplint --list-rules` lists them", param_hint="--explain"
            )
        click.echo(page, nl=False)
        return

    from mplint.config import CommandLine, ConfigError, load_settings
    from mplint.report import statistics as count_per_rule
    from mplint.runner import STDIN, lint_paths

    if not paths:
        paths = (STDIN,) if stdin_filename else (".",)
    if stdin_filename and STDIN not in paths:
        raise click.UsageError("--stdin-filename names standard input: add - to PATHS")
    if add_noqa and STDIN in paths:
        raise click.UsageError("--add-noqa rewrites files: it cannot take standard input (-)")

    command_line = CommandLine(
        select=_given(select),
        extend_select=_split(extend_select),
        ignore=_split(ignore),
        exclude=_given(exclude),
        extend_exclude=_split(extend_exclude),
        config=config,
    )
    try:
        settings = load_settings(command_line)
    except ConfigError as exc:
        _fail(str(exc))
    if show_settings:
        from mplint.show import settings_report

        click.echo(settings_report(command_line, settings))
        return
    if show_files:
        _show_files(paths, settings, force_exclude)
        return

    from mplint.cache import Cache

    cache = None
    if not no_cache:
        root = os.path.dirname(settings.config_path) if settings.config_path else os.getcwd()
        cache = Cache(cache_dir if cache_dir else Cache.default_folder(root))
    progress = ProgressLine() if sys.stderr.isatty() else None
    fixing = fix or show_diff
    from mplint.command_record import recording  # (this run, for the memo of the whole command)

    record = recording(cache, settings.config_path,
                       reads_only=not (fixing or add_noqa or STDIN in paths or output.file is not None))
    stdin = sys.stdin.buffer.read() if fixing and STDIN in paths else None
    run = lint_paths(
        paths,
        settings,
        stdin_filename=stdin_filename,
        stdin=io.BytesIO(stdin) if stdin is not None else None,
        jobs=jobs,  # None (and 0): one per CPU available
        cache=cache,
        progress=progress,
        force_exclude=force_exclude,
        fixes=fixing or _shows_fixes(output) and not add_noqa,
        record=record,
    )
    if progress is not None:
        progress.clear()
    if add_noqa:
        _add_noqa(run)
    run.unsafe_fixes = unsafe_fixes
    if fixing:
        from mplint.fixes.command import fix_command

        changed = fix_command(run, settings, output=output, show_diff=show_diff, stdin=stdin,
                              stdin_name=stdin_filename)
        if run.errors:
            sys.exit(EXIT_ERROR)
        remains = changed if show_diff else bool(run.findings)
        sys.exit(EXIT_FINDINGS if remains and not exit_zero else EXIT_CLEAN)
    emit(run, output)
    for error in run.errors:
        click.echo(f"mplint: error: {error}", err=True)
    if not output.quiet:
        for path in run.empty_paths:
            click.echo(f"mplint: warning: {path}: no Python file to check", err=True)
    if statistics and run.findings:
        click.echo(count_per_rule(run), err=True)
    if not output.quiet:
        print_summary(run)
    if record is not None:
        record.finish(progress_shown=progress is not None and progress.shown)

    if run.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if run.findings and not exit_zero else EXIT_CLEAN)


def _shows_fixes(output: Output) -> bool:
    """Whether the run's output shows fixes (the `[*]` marks, JSON's and SARIF's fixes, the
    "fixable" line after the summary): where it does not, they are not built."""
    from mplint.report import SHOWS_FIXES

    return output.format in SHOWS_FIXES or not output.quiet


def _show_files(paths: Sequence[str], settings, force_exclude: bool) -> None:
    from mplint.show import files

    lines, problems = files(paths, settings, force_exclude=force_exclude)
    for line in lines:
        click.echo(line)
    for problem in problems:
        click.echo(f"mplint: {problem}", err=True)


def _add_noqa(run) -> None:
    """Write the comments, then leave only the findings that could not be silenced in the run."""
    from mplint.add_noqa import add_noqa

    added, problems = add_noqa(run.findings)
    for error in run.errors:
        click.echo(f"mplint: error: {error}", err=True)
    for problem in problems:
        click.echo(f"mplint: error: {problem}", err=True)
    files = len({finding.path for finding in run.findings})
    click.echo(f"mplint: added {added} noqa comment{'' if added == 1 else 's'} in "
               f"{files} file{'' if files == 1 else 's'}", err=True)
    if problems:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_ERROR if run.errors else EXIT_CLEAN)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point. `mplint server` (the first argument exactly `server`) starts the
    language server; a folder of that name is checked as `mplint ./server` or `mplint -- server`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["server"]:
        from mplint.server import main as serve

        if len(args) > 1:
            click.echo("mplint server: takes no arguments (it speaks LSP on stdin/stdout)", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(serve())
    from mplint.dataclass_code import kept
    from mplint.interrupts import entry_point

    try:
        # interrupted: the workers are gone already, what the cache holds is whole; the
        # settings', the run's and the engine's classes from the code compiled for them before
        with entry_point(), kept():
            cli.main(args=argv, prog_name="mplint")  # click reports usage errors itself (exit 2)
    except Exception as exc:  # a bug of ours: one line, never a traceback
        click.echo(f"mplint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
