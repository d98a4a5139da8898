"""A fixture's whole expected output, pinned beside it: `bad_x.py` -> `bad_x.py.snap`.

One finding a line, `line:column: CODE message`, in report order; an empty file for a fixture
that expects nothing. Rewritten by `python -m pytest tests/test_fixtures.py --snapshot-update`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from mplint.findings import Finding

UPDATE_COMMAND = "python -m pytest tests/test_fixtures.py --snapshot-update"


def snapshot_path(fixture: Path) -> Path:
    return fixture.with_name(fixture.name + ".snap")


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        message = f.message.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{f.line}:{f.column}: {f.code} {message}\n")
    return "".join(lines)


def difference(fixture: Path, expected: str, actual: str) -> str:
    """Which lines of the fixture's output changed, as a unified diff named by the fixture."""
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        fromfile=f"{snapshot_path(fixture).name} (pinned)",
        tofile=f"{fixture.name} (now)",
        n=0,
    )
    return "".join(diff)
