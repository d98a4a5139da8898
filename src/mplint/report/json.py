"""A JSON array with one object per finding, for tools; an empty array when there is none.

Paths that are not valid UTF-8 are written as `report.printable` says.

Each object's `fix` is null, or the fix `--fix` would make: its `title`, its `applicability`
("safe", or "unsafe": applied only with `--unsafe-fixes`) and its `edits`, each replacing the text
from `line`:`column` to `end_line`:`end_column` (1-based, end exclusive) with `text`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

from mplint.report import printable

if TYPE_CHECKING:
    from mplint.runner import Run

FIELDS = ("path", "line", "column", "end_line", "end_column", "code", "name", "message")


def _value(value: object) -> object:
    return printable(value) if isinstance(value, str) else value


def write(run: Run, out: TextIO) -> None:
    findings = [
        {**{key: _value(getattr(f, key)) for key in FIELDS}, "fix": f.fix.as_dict() if f.fix is not None else None}
        for f in run.findings
    ]
    json.dump(findings, out, indent=2)
    out.write("\n")
