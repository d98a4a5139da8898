"""`--add-noqa`: a `# noqa: CODE` on each line with a finding, so that a new rule can be adopted
now and the old findings fixed later.

The comment goes where flake8 and mplint read it (`noqa.comments`): on the finding's line, or on the
last line of the lines read with it (a triple-quoted string, lines joined by a backslash), never
inside a string. A `# noqa: CODES` already there keeps its codes and gets the new ones appended.
The file keeps its encoding, byte order mark and line ends.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from collections import defaultdict
from typing import Iterable

from mplint.findings import Finding
from mplint.noqa import comments, line_groups, physical_lines


def with_noqa(text: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """`text` with the findings' codes added to noqa comments, and how many lines changed."""
    lines = physical_lines(text)
    groups = line_groups(text, len(lines))
    group_of = {line: (first, last) for first, last in groups for line in range(first, last + 1)}
    existing = {(noqa.first_line, noqa.last_line): noqa for noqa in comments(text)}
    wanted: dict[tuple[int, int], list[str]] = defaultdict(list)
    for finding in findings:
        group = group_of.get(finding.line, (finding.line, finding.line))
        if finding.code not in wanted[group]:
            wanted[group].append(finding.code)
    changed = 0
    for group, codes in sorted(wanted.items()):
        noqa = existing.get(group)
        if noqa is not None and noqa.codes is None:
            continue  # a bare noqa silences everything already
        if noqa is not None:
            codes = [code for code in codes if code not in noqa.codes]  # type: ignore[operator]
            line, at, addition = noqa.line, noqa.end_column, "".join(f", {code}" for code in codes)
        else:
            line = group[1]
            body = lines[line - 1].rstrip("\r\n")
            at, addition = len(body), f"  # noqa: {', '.join(codes)}"
        if not codes or not 0 < line <= len(lines):
            continue
        physical = lines[line - 1]
        lines[line - 1] = physical[:at] + addition + physical[at:]
        changed += 1
    return "".join(lines), changed


def encoding_of(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else encoding


def add_noqa(findings: Iterable[Finding]) -> tuple[int, list[str]]:
    """Rewrite each file with findings; gives the number of comments added or extended and the
    lines saying which files could not be rewritten."""
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    total, problems = 0, []
    for path, found in by_path.items():
        try:
            with open(path, "rb") as file:
                data = file.read()
            encoding = encoding_of(data)
            text, changed = with_noqa(data.decode(encoding), found)
            if changed:
                with open(path, "wb") as file:
                    file.write(text.encode(encoding))
        except (OSError, UnicodeError) as exc:
            problems.append(f"{path}: cannot add noqa comments: {getattr(exc, 'strerror', None) or exc}")
            continue
        total += changed
    return total, problems
