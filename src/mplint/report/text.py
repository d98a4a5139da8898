"""`path:line:col: CODE message`, one finding a line, as flake8 prints them (editors parse this)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from mplint.runner import Run


def write(run: Run, out: TextIO) -> None:
    for f in run.findings:
        out.write(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n")
