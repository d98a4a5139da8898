"""Code newer than the Python that runs mplint is checked, as far as LibCST parses it: nothing
asks the running Python's grammar first (linters often run in an interpreter of their own).
And the nesting check that stands in front of LibCST's parser instead works on any grammar."""

from __future__ import annotations

import pytest

from mplint import lint_source, nesting

POOL = "import multiprocessing\n\npool = multiprocessing.Pool(4)\n"  # MPL001 at 3:8

NEW_SYNTAX = {
    "type-alias (3.12)": "type Vector = list[float]\ntype Pair[T] = tuple[T, T]\n",
    "generic-function (3.12)": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "generic-class (3.12)": "class Box[T: (int, str), *Ts, **P]:\n    item: T\n",
    "f-string-quotes (3.12)": 'name = "x"\nprint(f"{name!r:>{10}} {f"{name}"} {"nested"}")\n'
                              "print(f'{'\\n'.join(['a', 'b'])}')\n",
    "except-star (3.11)": "try:\n    pass\nexcept* (ValueError, TypeError) as group:\n    pass\n",
    "type-parameter-default (3.13)": "def f[T = int](x: T) -> T:\n    return x\n",
    "template-string (3.14)": 'name = "x"\ngreeting = t"hello {name}"\n',
    "except-without-parentheses (3.14)": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
}


@pytest.mark.parametrize("code", list(NEW_SYNTAX.values()), ids=list(NEW_SYNTAX))
def test_a_module_with_newer_syntax_is_checked(code: str) -> None:
    result = lint_source(POOL + code + "pool2 = multiprocessing.Pool(2)\n", "new.py")
    assert result.error is None, result.error
    last = POOL.count("\n") + code.count("\n") + 1
    assert [(f.line, f.column, f.code) for f in result.findings] == [(3, 8, "MPL001"), (last, 9, "MPL001")]


def test_brackets_up_to_pythons_limit_are_safe_and_one_more_is_too_deep() -> None:
    assert nesting.scan("x = " + "(" * 200 + "1" + ")" * 200 + "\n").kind == nesting.SAFE
    verdict = nesting.scan("a = 1\nx = " + "[" * 201 + "]" * 201 + "\n")
    assert verdict == (nesting.TOO_DEEP, 2, 205)


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "-" * 2000 + "1\n",  # on one line
        "x = (\n" + "    lambda: \n" * 2000 + "    1)\n",  # over lines inside brackets
        "x = a" + " \\\n    .b" * 2000 + "\n",  # over lines joined by backslashes
        "x = f(a)" + "(\n    b)" * 1500 + "\n",  # a chain of calls over many short brackets
        'x = f"' + "{f'" * 300 + "1" + "'}" * 300 + '"\n',  # f-strings inside f-strings
    ],
    ids=["line", "brackets", "backslashes", "call-chain", "f-strings"],
)
def test_a_dense_statement_is_left_to_pythons_parser(code: str) -> None:
    assert nesting.scan(code).kind == nesting.ASK_PYTHON


@pytest.mark.parametrize(
    "code",
    [
        "x = [" + "-1, " * 200 + "]\n" * 1,
        '"""A docstring with (((( and [[[[ and a # that are not code."""\n# a comment ((((\n',
        "s = '(' * 300 + \"[\" * 300\n",
        "x = f'{{' * 300\n",
        "".join(f"value_{i} = -{i} + {i} * 2\n" for i in range(5000)),  # many short statements
    ],
    ids=["table", "strings-and-comments", "brackets-in-strings", "escaped-braces", "many-statements"],
)
def test_ordinary_code_is_safe(code: str) -> None:
    assert nesting.scan(code).kind == nesting.SAFE
