"""Inputs that break linters: each gives the right findings or one clear error, in bounded time
and memory, and never takes the process down.

Each case runs `lint_source` in a child interpreter, so that a crash of LibCST's native parser
(a stack overflow is a segfault, not an exception) fails this test instead of killing the run,
and so that the child's peak memory can be read.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from mplint import partial

pytestmark = pytest.mark.slow  # each case runs in a child interpreter; one is 100,000 lines

# A file with a finding on its second line (the call starts at column 8) and another after the
# pathological part, so that a test sees both that checking went on and that lines are right.
HEAD = "import multiprocessing\npool = multiprocessing.Pool(4)\n"
TAIL = "pool2 = multiprocessing.Pool(2)\n"

_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from mplint import lint_source
    source = sys.stdin.buffer.read()
    started = time.perf_counter()
    result = lint_source(source, "case.py")
    print(json.dumps({
        "seconds": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "error": str(result.error) if result.error else None,
        "findings": [[f.line, f.column, f.code] for f in result.findings],
    }))
    """
)


def lint_in_child(source: bytes | str, *, timeout: float = 60) -> dict:
    data = source.encode() if isinstance(source, str) else source
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], input=data, capture_output=True, timeout=timeout
    )
    assert done.returncode == 0, f"the check crashed (exit {done.returncode}): {done.stderr.decode()[-2000:]}"
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return json.loads(done.stdout)


def findings_of(outcome: dict) -> list[tuple[int, int, str]]:
    return [tuple(f) for f in outcome["findings"]]  # type: ignore[misc]


def test_a_file_of_100000_lines_is_checked_to_its_end():
    body = "".join(f"value_{i} = {i}\n" for i in range(100_000))
    outcome = lint_in_child(HEAD + body + TAIL, timeout=120)
    assert outcome["error"] is None
    assert findings_of(outcome) == [(2, 8, "MPL001"), (100_003, 9, "MPL001")]
    assert outcome["peak_mb"] < 2000


@pytest.mark.parametrize("opening", ["(", "[", "{", "f("])
def test_brackets_nested_1000_deep_are_one_clear_error(opening):
    closing = {"(": ")", "[": "]", "{": "}", "f(": ")"}[opening]
    nested = "x = " + opening * 1000 + "1" * (opening == "(") + closing * 1000 + "\n"
    outcome = lint_in_child(HEAD + nested + TAIL, timeout=30)
    # Python refuses more than 200 nested brackets; so does mplint, before LibCST's parser,
    # which overflows its stack on such input
    assert outcome["error"].startswith("case.py:3:"), outcome
    assert "too many nested parentheses" in outcome["error"]
    assert outcome["findings"] == []
    assert outcome["seconds"] < 5


@pytest.mark.parametrize(
    "expression",
    [
        "-" * 1000 + "1",  # unary operators
        " + ".join(["a"] * 1000),  # a left-leaning chain of binary operations
        "lambda: " * 1000 + "1",
        "a" + ".b" * 1000,
    ],
    ids=["unary", "binary", "lambda", "attributes"],
)
def test_valid_expressions_nested_1000_deep_are_checked(expression):
    outcome = lint_in_child(HEAD + "x = " + expression + "\n" + TAIL, timeout=60)
    assert outcome["error"] is None
    assert findings_of(outcome) == [(2, 8, "MPL001"), (4, 9, "MPL001")]
    assert outcome["peak_mb"] < 1500


def test_nesting_python_itself_refuses_is_one_clear_error():
    outcome = lint_in_child(HEAD + "x = " + "-" * 10_000 + "1\n" + TAIL, timeout=30)
    assert outcome["error"] == "case.py: cannot parse: the code is nested too deeply for Python's parser"
    assert outcome["seconds"] < 5


def test_deep_but_valid_code_beyond_the_recursion_limit_is_checked():
    # 2,000 elifs and 3,000 implicitly joined strings: trees deeper than Python's default
    # recursion limit lets LibCST's code generation and a recursive visitor go
    elifs = "if x == -1:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(2000))
    strings = "TEXT = (\n" + "    'line'\n" * 3000 + ")\n"
    source = HEAD + "x = 0\n" + elifs + strings + TAIL
    outcome = lint_in_child(source, timeout=60)
    assert outcome["error"] is None
    assert findings_of(outcome) == [(2, 8, "MPL001"), (source.count("\n"), 9, "MPL001")]


def test_a_long_line_in_a_module_parsed_without_python_is_checked_in_bounded_time():
    # A module of nearly all API code (`partial.dense`: here no `def` and two mentions of `Pool`)
    # goes to LibCST without Python's parse, so the nesting scan reads it: a long line cost that
    # scan a time that grew with the square of the line's length (this 400 KB line: minutes)
    source = HEAD + "x = 1; " * 57_000 + "x = 1\n" + TAIL
    assert partial.dense(source)  # else Python's parse would clear it of the scan
    outcome = lint_in_child(source, timeout=60)
    assert outcome["error"] is None
    assert findings_of(outcome) == [(2, 8, "MPL001"), (4, 9, "MPL001")]
    assert outcome["seconds"] < 20


def test_a_10_mb_single_line_is_one_clear_error():
    line = "DATA = [" + "1, " * 3_500_000 + "]\n"
    outcome = lint_in_child(HEAD + line + TAIL, timeout=30)
    assert outcome["error"].startswith("case.py: too large to check (10.0 MB;"), outcome
    assert outcome["seconds"] < 5 and outcome["peak_mb"] < 500


def test_a_10_mb_file_that_cannot_contain_a_finding_is_skipped_quietly():
    outcome = lint_in_child("DATA = [" + "1, " * 3_500_000 + "]\n", timeout=30)
    assert outcome == {**outcome, "error": None, "findings": []}
    assert outcome["seconds"] < 5


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a BOM is not a column
        (b"\xef\xbb\xbf" + HEAD.encode(), [(2, 8, "MPL001")]),
        # Windows line ends
        (HEAD.replace("\n", "\r\n").encode() + b"x = (1,\r\n  2)\r\n" + TAIL.replace("\n", "\r\n").encode(),
         [(2, 8, "MPL001"), (5, 9, "MPL001")]),
        # form feeds (page breaks) in indentation: Python ignores them, LibCST drops them or
        # refuses them, and the columns must still be those of the file
        (b"import multiprocessing\n\x0c\n\x0cpool = multiprocessing.Pool(4)\n"
         b"if True:\n    \x0c  pool = multiprocessing.Pool(4)\n",
         [(3, 9, "MPL001"), (5, 15, "MPL001")]),
        # a PEP 263 declaration: the latin-1 byte 0xe9 is an e with an accent, not an error
        (b"# -*- coding: latin-1 -*-\nimport multiprocessing\nname = '\xe9t\xe9'\n"
         b"pool = multiprocessing.Pool(4)\n", [(4, 8, "MPL001")]),
    ],
    ids=["bom", "crlf", "form-feed", "latin-1-declared"],
)
def test_encodings_and_line_ends_give_the_right_positions(source, expected):
    outcome = lint_in_child(source)
    assert outcome["error"] is None
    assert findings_of(outcome) == expected


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (b"import multiprocessing\nname = '\xe9t\xe9'\npool = multiprocessing.Pool(4)\n",
         "case.py:2: cannot decode as utf-8: byte 0xe9 is invalid"),
        (b"import multiprocessing\n\x00\npool = multiprocessing.Pool(4)\n",
         "case.py:2: source contains a null byte"),
        (b"import multiprocessing\nprint 'hello'\n",
         "case.py:2:1: cannot parse: Missing parentheses in call to 'print'"),
    ],
    ids=["undeclared-latin-1", "null-byte", "python-2"],
)
def test_input_that_cannot_be_checked_is_one_clear_line(source, error):
    outcome = lint_in_child(source)
    assert outcome["error"].startswith(error), outcome
    assert "\n" not in outcome["error"]
    assert outcome["findings"] == []
