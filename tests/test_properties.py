"""Properties of the engine on generated programs: it never raises, and every finding points
inside the file.

Derandomized, with no example database: the same examples on every run and every machine, so
that CI is deterministic. The counts are modest to keep the suite fast.
"""

from __future__ import annotations

import re

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mplint import lint_source
from mplint.rules import all_rules
import pytest

pytestmark = pytest.mark.slow  # hundreds of generated programs

ALL_CODES = [rule.code for rule in all_rules()]

# Makes every generated program pass the prefilter, so that it is parsed and every rule runs.
PRELUDE = "import multiprocessing as mp\nfrom concurrent.futures import ProcessPoolExecutor\n"

def deterministic(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def assert_findings_inside(text: str, source: str | bytes) -> None:
    result = lint_source(source, "generated.py", codes=ALL_CODES)
    lines = re.split(r"\r\n|\r|\n", text)
    for finding in result.findings:
        assert 1 <= finding.line <= len(lines), finding
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1, finding
        assert (finding.line, finding.column) <= (finding.end_line, finding.end_column), finding
        assert finding.end_line <= len(lines), finding
        assert finding.end_column <= len(lines[finding.end_line - 1]) + 1, finding
    if result.error is not None:
        # Python's or LibCST's parser may refuse what the grammar allows; once parsed, a file
        # is checked: no internal error, and small programs are never "nested too deeply"
        assert result.error.message.startswith("cannot parse: "), result.error
        assert "\n" not in str(result.error)


@deterministic(60)
@given(hypothesmith.from_grammar())
def test_no_program_from_the_grammar_makes_the_engine_raise(source):
    text = PRELUDE + source
    assert_findings_inside(text, text)


# Statements that use the APIs the rules know, to be combined at random: the generated programs
# reach far more of the rules than programs from the grammar do.
NAMES = st.sampled_from(["work", "main", "run", "helper", "p", "pool", "q", "items", "mp", "X"])
STATEMENTS = [
    "p = mp.Process(target={0}, args=(1,))", "p.start()", "p.join()", "{0}.start()",
    "pool = mp.Pool(4)", "pool.map({0}, range(3))", "pool.close()", "pool.join()",
    "with mp.Pool() as pool:\n    pool.map({0}, [1, 2])", "result = pool.apply_async({0}, (1,))",
    "q = mp.Queue()", "q.put({0})", "q.get()", "v = mp.Value('i', 0)", "v.value += 1",
    "ex = ProcessPoolExecutor()", "ex.submit({0}, 1)", "ex.shutdown()",
    "procs = [mp.Process(target={0}) for _ in range(2)]", "for p in procs:\n    p.start()",
    "{0}()", "{0} = []", "{0}.append(1)", "global {0}", "ctx = mp.get_context('spawn')",
    "ctx.Process(target=lambda: None).start()", "mp.set_start_method('fork')",
    "import requests", "requests.get('http://example.invalid')", "return {0}",
    "m = mp.Manager()", "d = m.dict()", "lock = mp.Lock()", "with lock:\n    pass",
]
BLOCKS = ["def {0}(x=None):", "if __name__ == '__main__':", "class {0}(mp.Process):",
          "for {0} in range(2):", "with mp.Pool() as {0}:", "try:", "while True:"]


@st.composite
def programs(draw) -> str:
    lines: list[str] = []
    depth = 0
    for _ in range(draw(st.integers(1, 25))):
        name = draw(NAMES)
        if depth and draw(st.integers(0, 4)) == 0:
            if lines[-1].endswith(":"):
                lines.append("    " * depth + "pass")
            depth -= 1
        if draw(st.integers(0, 3)) == 0 and depth < 4:
            block = draw(st.sampled_from(BLOCKS)).format(name)
            lines.append("    " * depth + block)
            depth += 1
            if block == "try:":
                lines.append("    " * depth + "pass")
                lines.append("    " * (depth - 1) + "finally:")
            continue
        statement = draw(st.sampled_from(STATEMENTS)).format(name)
        lines.extend("    " * depth + part for part in statement.split("\n"))
    if lines[-1].endswith(":"):
        lines.append("    " * depth + "pass")
    return PRELUDE + "\n".join(lines) + "\n"


def _compiles(source: str) -> bool:
    try:
        compile(source, "generated.py", "exec")
    except SyntaxError:
        return False
    return True


@deterministic(150)
@given(programs().filter(_compiles))
def test_no_multiprocessing_program_makes_the_engine_raise(source):
    assert_findings_inside(source, source)


@deterministic(40)
@given(programs().filter(_compiles), st.sampled_from(["\r\n", "\n"]), st.booleans())
def test_findings_stay_inside_with_other_line_ends_and_a_bom(source, newline, bom):
    text = source.replace("\n", newline)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    assert_findings_inside(text, data)
