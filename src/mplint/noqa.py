"""`# noqa` suppressions, read exactly as flake8 reads them, so that a file gives the same findings
under `mplint` and under `flake8` with the plugin.

- `# noqa` (one space, any letter case; `#noqa` is not one) silences every finding on its line;
  `# noqa: MPL001,MPL002` only those codes, and a code also covers the codes it is a prefix of.
- The codes are compared as written: `# noqa: mpl001` names no rule of mplint (flake8 compares
  codes case-sensitively) and silences nothing. The comment is only read up to its last code:
  `# noqa: MPL001 a reason` is fine.
- A comment counts for its own physical line, and for every line of a token that spans lines (a
  triple-quoted string) or of lines joined by a backslash. A call spread over lines in brackets is
  several lines: the comment goes on the line the finding is reported at (the call's first line).
- Only the first `# noqa` of a line counts. flake8 reads the line's text, not its comments: a
  string holding `# noqa` counts too.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Iterable

from mplint.findings import Finding

# flake8's own pattern (flake8.defaults.NOQA_INLINE_REGEXP), so that both read the same comments
NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_LINE = re.compile(r".*?(?:\r\n|\r|\n|$)", re.DOTALL)

#: None stands for a bare `# noqa`: every code
Codes = frozenset[str] | None


@dataclass(frozen=True)
class Noqa:
    """One `# noqa` comment and the lines it covers."""

    first_line: int
    last_line: int
    #: line of the comment itself, and where it starts on that line (0-based)
    line: int
    column: int
    end_column: int
    codes: Codes


def physical_lines(text: str) -> list[str]:
    lines = _LINE.findall(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def line_groups(text: str, count: int) -> list[tuple[int, int]]:
    """The groups of physical lines flake8 reads as one: split at every line end the tokenizer
    reports (NEWLINE and NL), so only tokens spanning lines and backslashes join lines."""
    try:
        ranges = []
        low, high = count + 2, -1
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            low, high = min(low, token.start[0]), max(high, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                ranges.append((low, high))
                low, high = count + 2, -1
        return ranges
    except (tokenize.TokenError, SyntaxError):
        # source the tokenizer cannot read: flake8 falls back to physical lines
        return [(number, number) for number in range(1, count + 1)]


def comments(text: str) -> list[Noqa]:
    """Every `# noqa` that counts, in source order."""
    if "noqa" not in text.lower():
        return []
    lines = physical_lines(text)
    found = []
    for first, last in line_groups(text, len(lines)):
        joined = "".join(lines[first - 1 : last])
        match = NOQA.search(joined)
        if match is None:
            continue
        line, column = first, match.start()
        for physical in lines[first - 1 : last]:
            if column < len(physical):
                break
            line, column = line + 1, column - len(physical)
        codes = match.group("codes")
        length = len(match.group().rstrip(", \t\r\n\f\v")) if codes else len(match.group())
        found.append(Noqa(
            first, last, line, column, column + length,
            None if codes is None else frozenset(c for c in re.split(r"[,\s]+", codes) if c),
        ))
    return found


def suppressions(text: str) -> dict[int, Codes]:
    """Line number -> the codes suppressed on it (None: all)."""
    return {line: noqa.codes for noqa in comments(text) for line in range(noqa.first_line, noqa.last_line + 1)}


def covers(codes: Codes, code: str) -> bool:
    return codes is None or code in codes or code.startswith(tuple(codes))


def is_suppressed(finding: Finding, lines: dict[int, Codes]) -> bool:
    return finding.line in lines and covers(lines[finding.line], finding.code)


def without_suppressed(findings: Iterable[Finding], text: str) -> list[Finding]:
    findings = list(findings)
    if not findings:
        return findings
    lines = suppressions(text)
    return [f for f in findings if not is_suppressed(f, lines)]
