"""The one run over a whole real tree: this interpreter's standard library, broken test files
included. Bounded: about two seconds of parsing, the rest is prefiltered away."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

from console import assert_no_traceback, mplint
import pytest

pytestmark = pytest.mark.slow  # the whole standard library

FINDING = re.compile(r"^.+\.py:\d+:\d+: MPL\d{3} \S")
ERROR = re.compile(r"^mplint: error: .+\.py(:\d+)*: \S")


def test_the_standard_library_is_checked_without_a_traceback(tmp_path: Path) -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    done = mplint("--no-cache", "--select", "MPL", stdlib, cwd=tmp_path)
    assert_no_traceback(done)
    # the test suite's deliberately undecodable files make it exit 2; the findings still come
    assert done.returncode == 2, done.stderr
    assert done.stdout, "no findings at all in the standard library"
    assert all(FINDING.match(line) for line in done.stdout.splitlines())
    *errors, summary, fixable = done.stderr.splitlines()
    assert summary.startswith("Found "), summary
    assert fixable.endswith(" fixable with `--fix`."), fixable  # test/mp_fork_bomb.py is a script
    assert errors and all(ERROR.match(line) for line in errors), errors
    assert not any("internal error" in line for line in errors), errors
    assert any("badsyntax_pep3120.py" in line and "cannot decode" in line for line in errors), errors
