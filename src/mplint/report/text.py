"""`path:line:col: CODE message`, one finding a line, as flake8 prints them (editors parse this).

`full` adds the source line under each finding with carets under its columns, as ruff's full output
and flake8's `--show-source` do; `color` adds ANSI colours (the command line decides when: a
terminal, `--color`, `NO_COLOR`).

A finding `--fix` can fix shows `[*]` before its message (an unsafe fix only with `--unsafe-fixes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TextIO

if TYPE_CHECKING:
    from mplint.findings import Finding
    from mplint.runner import Run

BOLD, RED, CYAN, DIM, RESET = "\033[1m", "\033[31m", "\033[36m", "\033[2m", "\033[0m"


def _paint(color: bool) -> Callable[[str, str], str]:
    return (lambda text, style: f"{style}{text}{RESET}") if color else (lambda text, style: text)


def line(f: Finding, color: bool = False, fixable: bool = False) -> str:
    paint = _paint(color)
    where = paint(f.path, BOLD) + paint(":", CYAN) + f"{f.line}" + paint(":", CYAN) + f"{f.column}" + paint(":", CYAN)
    mark = paint("[*]", CYAN) + " " if fixable else ""
    return f"{where} {paint(f.code, BOLD + RED)} {mark}{f.message}"


def source_excerpt(f: Finding, text: str, color: bool = False) -> list[str]:
    """The finding's first line with carets under its columns (to the line's end when the finding
    goes on), behind a gutter with the line number."""
    lines = text.splitlines()
    if not 0 < f.line <= len(lines):
        return []
    paint = _paint(color)
    source = lines[f.line - 1].expandtabs(1)  # a tab is one column, as the finding counts it
    end = f.end_column if f.end_line == f.line else len(source) + 1
    width = max(end - f.column, 1)
    gutter = " " * len(str(f.line))
    return [
        paint(f"{gutter} |", DIM),
        paint(f"{f.line} |", DIM) + f" {source}",
        paint(f"{gutter} |", DIM) + " " + " " * (f.column - 1) + paint("^" * width, RED + BOLD),
    ]


def write(
    run: Run,
    out: TextIO,
    *,
    full: bool = False,
    color: bool = False,
    source_of: Callable[[str], str | None] | None = None,
) -> None:
    """`source_of(path)` gives a file's text for `full` (None: not at hand; the line is left out)."""
    texts: dict[str, str | None] = {}
    for f in run.findings:
        fixable = f.fix is not None and f.fix.applies(run.unsafe_fixes)
        out.write(line(f, color, fixable) + "\n")
        if full and source_of is not None:
            if f.path not in texts:
                texts[f.path] = source_of(f.path)
            text = texts[f.path]
            excerpt = source_excerpt(f, text, color) if text is not None else []
            out.write("".join(row + "\n" for row in excerpt) + ("\n" if excerpt else ""))
