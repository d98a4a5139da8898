"""How the command line prints a run: which stream, which format, with or without colour and source.

Kept apart from `cli.py` so that the options stay declared there and their behaviour lives here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, TextIO

import click

if TYPE_CHECKING:
    from mplint.runner import Run

COLOR_CHOICES = ("auto", "always", "never")
OUTPUT_STYLES = ("concise", "full")


@dataclass(frozen=True)
class Output:
    format: str = "text"  # --format
    full: bool = False  # --output-format full: the source line under each finding
    color: str = "auto"  # --color
    file: str | None = None  # --output-file
    quiet: bool = False  # --quiet: the findings and the errors, no summary, no warnings


def use_color(choice: str, stream: TextIO) -> bool:
    """`always` and `never` as said; `auto`: on a terminal, unless NO_COLOR is set (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextlib.contextmanager
def _stream(path: str | None) -> Iterator[TextIO]:
    if path is None:
        if hasattr(sys.stdout, "reconfigure"):
            # a file name that is not UTF-8 is written as its own bytes, so an editor can open it
            sys.stdout.reconfigure(errors="surrogateescape")
        yield sys.stdout
        sys.stdout.flush()  # findings first, then the lines on stderr, when both go to one terminal
        return
    try:
        file = open(path, "w", encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as exc:
        raise click.UsageError(f"--output-file: cannot write {path}: {exc.strerror or exc}") from None
    with file:
        yield file


def _source_of(run: Run):
    def source_of(path: str) -> str | None:
        if path in run.sources:
            return run.sources[path]
        from mplint.runner import read_source
        from mplint.source import SourceError, decode

        data = read_source(path)
        if not isinstance(data, bytes):
            return None
        try:
            return decode(data)
        except SourceError:
            return None

    return source_of


def emit(run: Run, output: Output) -> None:
    """The run's findings in the chosen format, to stdout or the output file."""
    from mplint.report import text, writer

    with _stream(output.file) as out:
        if output.format == "text":
            text.write(run, out, full=output.full, color=use_color(output.color, out), source_of=_source_of(run))
        else:
            writer(output.format)(run, out)


def print_summary(run: Run) -> None:
    """The summary on stderr, and how many findings `--fix` would fix."""
    from mplint.report import fixable, summary

    click.echo(summary(run), err=True)
    note = fixable(run)
    if note:
        click.echo(note, err=True)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of this module, handed to `command` as one `output=Output(...)` argument."""
    from mplint.report import formats

    @functools.wraps(command)
    def with_output(**kwargs: Any) -> Any:
        output = Output(
            format=kwargs.pop("output_format"),
            full=kwargs.pop("output_style") == "full",
            color=kwargs.pop("color"),
            file=kwargs.pop("output_file"),
            quiet=kwargs.pop("quiet"),
        )
        return command(output=output, **kwargs)

    options = [
        click.option("--format", "output_format", type=click.Choice(formats()), default="text",
                     show_default=True, help="How findings are printed."),
        click.option("--output-format", "output_style", type=click.Choice(OUTPUT_STYLES), default="concise",
                     show_default=True,
                     help="For --format text: one line a finding, or also its source line with "
                          "carets under it."),
        click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
                     help="Colour the text output: auto is on a terminal unless NO_COLOR is set."),
        click.option("--output-file", "-o", metavar="PATH",
                     help="Write the findings to PATH instead of stdout (any format)."),
        click.option("--quiet", "-q", is_flag=True,
                     help="Print the findings and the errors only: no summary, no warnings."),
    ]
    for option in reversed(options):
        with_output = option(with_output)
    return with_output
