"""A JSON array with one object per finding, for tools; an empty array when there is none."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from mplint.runner import Run

FIELDS = ("path", "line", "column", "end_line", "end_column", "code", "name", "message")


def write(run: Run, out: TextIO) -> None:
    findings = [{key: getattr(f, key) for key in FIELDS} for f in run.findings]
    json.dump(findings, out, indent=2)
    out.write("\n")
