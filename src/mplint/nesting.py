"""Is a source safe to hand to LibCST's native parser? A scan that needs no grammar.

LibCST's parser is a recursive descent in native code: on deep nesting it takes seconds and
gigabytes (1,000 nested brackets: 2 s and 1 GB; 1,000 nested calls: 12 s and 2 GB) or overflows
the C stack and takes the process down (3,000 nested brackets, 10,000 chained operations). Python's
own parser refuses the worst of it, but it costs half a LibCST parse's tenth on every file, and
it refuses any syntax newer than the Python that runs mplint, which LibCST parses.

The scan here reads only brackets, strings and comments (so it holds for every Python version's
grammar) and answers one of three ways:

- `TOO_DEEP`: more than 200 nested brackets, which no Python accepts either;
- `ASK_PYTHON`: a statement long and dense enough (over 1,000 operators, dots and brackets) that
  only a parser can tell whether it nests deeply: Python's parser decides, as before;
- `SAFE`: every chain is too short to hurt, LibCST parses it directly.

It errs on the side of asking: strings inside a long statement count as operators, and an
f-string counts its braces, since Python 3.12 lets f-strings nest inside one another.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Python's own limit on nested brackets (its tokenizer's MAXLEVEL)
MAX_BRACKETS = 200
#: operators, dots and brackets in one statement above which Python's parser is asked first
MAX_CHAIN = 1_000
#: a statement shorter than this many characters cannot hold MAX_CHAIN of them worth counting
_SHORT = MAX_CHAIN

_STRING = (
    r"'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'(?:[^\\'\n]|\\.)*'|\"(?:[^\\\"\n]|\\.)*\""
)
# Comments, strings and brackets, in order.
# A PEP 701 f-string that holds its own quote is cut into pieces here; the pieces between
# are read as code, which only ever counts more, never less.
_TOKEN = re.compile(
    r"#[^\n]*|(?P<string>" + _STRING + r")|(?P<open>[(\[{])|(?P<close>[)\]}])", re.DOTALL
)
_CHAIN = re.compile(r"[-+~*/%@&|^.(\[]|\b(?:not|lambda|await|if|and|or)\b")
# Both are tried only where a line starts (`^`): tried at every character, each would read on to
# the line's end from each of its characters, a time that grows with the square of the line's
# length (a 280 KB line: 50 s), where from the line's start it reads each line once. A match of
# either starts where a line does anyway, so the two find the same lines.
_LONG_LINE = re.compile(r"^[^\n]{%d,}" % _SHORT, re.MULTILINE)
_CONTINUED_LINES = re.compile(r"^(?:[^\n]*\\\n)+[^\n]*", re.MULTILINE)  # lines joined by a backslash


class Verdict(NamedTuple):
    kind: str  # SAFE, ASK_PYTHON or TOO_DEEP
    line: int | None = None  # where, for TOO_DEEP
    column: int | None = None


SAFE, ASK_PYTHON, TOO_DEEP = "safe", "ask-python", "too-deep"


def scan(text: str) -> Verdict:
    depth = 0
    region_start = region_end = 0  # the statement being read, as far as brackets join it
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            if depth == 0:
                start = match.start()
                if _new_line_between(text, region_end, start):
                    if _dense(text, region_start, region_end):
                        return Verdict(ASK_PYTHON)
                    region_start = text.rfind("\n", 0, start) + 1
            depth += 1
            if depth > MAX_BRACKETS:
                line = text.count("\n", 0, match.start()) + 1
                return Verdict(TOO_DEEP, line, match.start() - text.rfind("\n", 0, match.start()))
        elif kind == "close":
            if depth:
                depth -= 1
                if depth == 0:
                    region_end = match.end()
        elif kind == "string":
            # an f- or t-string (the letters before the quote are its prefix)
            start = match.start()
            prefix = text[max(start - 2, 0):start].lower()
            if ("f" in prefix or "t" in prefix) and text.count("{", start, match.end()) > MAX_BRACKETS:
                return Verdict(ASK_PYTHON)
    if depth or _dense(text, region_start, region_end):
        return Verdict(ASK_PYTHON)  # an unclosed bracket: a syntax error, which Python words best
    for pattern in (_LONG_LINE, _CONTINUED_LINES):
        for line in pattern.finditer(text):
            if _dense(text, line.start(), line.end()):
                return Verdict(ASK_PYTHON)
    return Verdict(SAFE)


def _new_line_between(text: str, start: int, end: int) -> bool:
    """Whether a statement can end between `start` and `end` (a newline not escaped by `\\`)."""
    newlines = text.count("\n", start, end)
    return newlines > text.count("\\\n", start, end)


def _dense(text: str, start: int, end: int) -> bool:
    return end - start >= _SHORT and len(_CHAIN.findall(text, start, end)) > MAX_CHAIN
