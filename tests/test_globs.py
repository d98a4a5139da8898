from __future__ import annotations

import pytest

from mplint.globs import Glob

BASE = "/project"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("tests/*.py", "/project/tests/test_a.py", True),
        ("tests/*.py", "/project/src/tests/test_a.py", False),  # anchored to the base folder
        ("tests/*", "/project/tests/deep/test_a.py", True),  # `*` crosses folders, as in flake8
        ("__init__.py", "/project/pkg/sub/__init__.py", True),  # a bare name matches any name
        ("*_pb2.py", "/project/pkg/api_pb2.py", True),
        ("**/gen/*.py", "/project/gen/a.py", True),  # `**/` may match no folder
        ("**/gen/*.py", "/project/a/b/gen/a.py", True),
        ("./tests/", "/project/tests", True),  # leading ./ and trailing / are ignored
        ("test_[ab].py", "/project/test_a.py", True),
        ("test_[!ab].py", "/project/test_a.py", False),
        ("test_?.py", "/project/test_c.py", True),
        ("test_?.py", "/project/test_cc.py", False),
        ("a.py", "/project/a_py", False),  # `.` is literal
        ("Tests", "/project/tests", False),  # case-sensitive on every system
        ("/project/vendor/*", "/project/vendor/x.py", True),  # absolute patterns
        ("tests", "/project/tests/a.py", False),  # folders only when asked for
    ],
)
def test_matches(pattern, path, expected):
    assert Glob(pattern, BASE).matches(path) is expected


def test_ancestors_count_when_asked():
    assert Glob("tests", BASE).matches("/project/tests/a/b.py", ancestors=True)
    assert Glob("pkg/sub", BASE).matches("/project/pkg/sub/x.py", ancestors=True)
    assert not Glob("pkg/sub", BASE).matches("/project/other/pkg/sub/x.py", ancestors=True)


def test_relative_paths_are_taken_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Glob("src/*.py", str(tmp_path)).matches("src/a.py")
    assert not Glob("src/*.py", str(tmp_path / "elsewhere")).matches("src/a.py")
