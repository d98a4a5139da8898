"""GitLab code quality: a JSON array of issues, the report a merge request widget and the pipeline's
code quality tab read (`artifacts: reports: codequality: mplint.json`).

Each issue has its rule's code as `check_name`, the message as `description`, a severity from the
rule's level (the rules on by default find bugs: "major"; the opt-in rules: "minor"), the path and
the lines, and a fingerprint GitLab uses to tell new issues from old ones. The fingerprint hashes
the path, the code, the message and how many identical issues come before in the file, not the line:
an issue keeps its fingerprint when code above it moves. Files that could not be checked are issues
too ("critical"), so a merge request shows that the check was partial.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, TextIO

from mplint.report import level, printable

if TYPE_CHECKING:
    from mplint.runner import Run

SEVERITY = {"error": "major", "warning": "minor"}
#: the check name of a file that could not be checked
CANNOT_CHECK = "mplint-could-not-check"


def _fingerprint(seen: dict[tuple[str, ...], int], *parts: str) -> str:
    occurrence = seen.get(parts, 0)
    seen[parts] = occurrence + 1
    digest = hashlib.sha256()
    for part in (*parts, str(occurrence)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def issues(run: Run) -> list[dict[str, Any]]:
    seen: dict[tuple[str, ...], int] = {}
    found = []
    for error in run.errors:
        found.append({
            "type": "issue",
            "check_name": CANNOT_CHECK,
            "description": printable(f"mplint could not check this file: {error.message}"),
            "categories": ["Bug Risk"],
            "severity": "critical",
            "fingerprint": _fingerprint(seen, error.path, CANNOT_CHECK, error.message),
            "location": {"path": printable(error.path), "lines": {"begin": error.line or 1}},
        })
    for f in run.findings:
        found.append({
            "type": "issue",
            "check_name": f.code,
            "description": printable(f"{f.code} {f.message}"),
            "categories": ["Bug Risk"],
            "severity": SEVERITY[level(f.code)],
            "fingerprint": _fingerprint(seen, f.path, f.code, f.message),
            "location": {
                "path": printable(f.path),
                "positions": {
                    "begin": {"line": f.line, "column": f.column},
                    "end": {"line": f.end_line, "column": f.end_column},
                },
            },
        })
    return found


def write(run: Run, out: TextIO) -> None:
    json.dump(issues(run), out, indent=2)
    out.write("\n")
