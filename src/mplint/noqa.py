"""`# noqa` suppressions, read the way flake8 reads them.

`# noqa` silences every finding on its line, `# noqa: MPL001,MPL002` only those codes (a code
also matches the codes it is a prefix of), in any letter case. A comment on any physical line of a
statement that spans several lines counts for the whole statement, as in flake8.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable

from mplint.findings import Finding

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)

#: None stands for a bare `# noqa`: every code
Codes = frozenset[str] | None


def _parse(comment: str) -> Codes | bool:
    match = _NOQA.search(comment)
    if match is None:
        return False
    if match.group("codes") is None:
        return None
    return frozenset(c.upper() for c in re.split(r"[,\s]+", match.group("codes")) if c)


def _merge(old: Codes | bool, new: Codes | bool) -> Codes | bool:
    if old is False:
        return new
    if new is False:
        return old
    if old is None or new is None:
        return None
    return old | new


def suppressions(text: str) -> dict[int, Codes]:
    """Line number -> the codes suppressed on it (None: all)."""
    if "noqa" not in text.lower():
        return {}
    try:
        return _by_statement(text)
    except (tokenize.TokenError, SyntaxError):
        # unusual source the tokenizer of this Python cannot read: fall back to physical lines
        found: dict[int, Codes] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if "#" in line:
                codes = _parse(line[line.index("#") :])
                if codes is not False:
                    found[number] = codes  # type: ignore[assignment]
        return found


def _by_statement(text: str) -> dict[int, Codes]:
    found: dict[int, Codes] = {}
    start = 1
    codes: Codes | bool = False
    has_code = False
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            codes = _merge(codes, _parse(token.string))
        elif token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            if token.type == tokenize.NL and has_code:
                continue  # a line break inside brackets: the statement goes on
            if codes is not False:
                for line in range(start, token.end[0] + 1):
                    found[line] = codes  # type: ignore[assignment]
            start, codes, has_code = token.end[0] + 1, False, False
        elif token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            has_code = True
    return found


def is_suppressed(finding: Finding, lines: dict[int, Codes]) -> bool:
    if finding.line not in lines:
        return False
    codes = lines[finding.line]
    return codes is None or any(finding.code.startswith(code) for code in codes)


def without_suppressed(findings: Iterable[Finding], text: str) -> list[Finding]:
    findings = list(findings)
    if not findings:
        return findings
    lines = suppressions(text)
    return [f for f in findings if not is_suppressed(f, lines)]
