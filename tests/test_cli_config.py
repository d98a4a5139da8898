"""`[tool.mplint]` in pyproject.toml, read by the installed command."""

from __future__ import annotations

import pytest

from console import BAD, CLEAN, assert_no_traceback, mplint as run, stderr_lines, write

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess


def reported(done) -> list[str]:
    return [line.split(":")[0] for line in done.stdout.splitlines()]


def config(body: str) -> str:
    return "[project]\nname = 'demo'\n\n[tool.mplint]\n" + body + "\n"


def test_the_nearest_pyproject_with_a_tool_mplint_table_is_used(tmp_path):
    write(tmp_path, {
        "pyproject.toml": config('ignore = ["MPL001"]'),
        "sub/pyproject.toml": "[project]\nname = 'inner'\n",  # no [tool.mplint]: looked past
        "sub/deeper/bad.py": BAD,
    })
    done = run(".", cwd=tmp_path / "sub" / "deeper")
    assert (done.returncode, done.stdout) == (0, "")


def test_a_nearer_table_wins_over_an_outer_one(tmp_path):
    write(tmp_path, {
        "pyproject.toml": config('ignore = ["MPL001"]'),
        "sub/pyproject.toml": config("ignore = []"),
        "sub/bad.py": BAD,
    })
    assert reported(run(".", cwd=tmp_path / "sub")) == ["bad.py"]


def test_config_select_and_ignore(tmp_path):
    write(tmp_path, {"pyproject.toml": config('select = ["MPL"]\nignore = ["MPL00"]'), "bad.py": BAD})
    assert run(cwd=tmp_path).stdout == ""


@pytest.mark.parametrize(
    ("file", "options", "expected"),
    [
        ('ignore = ["MPL001"]', ["--select", "MPL001"], ["bad.py"]),
        ('ignore = ["MPL"]', ["--extend-select", "MPL001"], ["bad.py"]),
        ('select = ["MPL001"]', ["--ignore", "MPL001"], []),
        ('select = ["MPL001"]', ["--ignore", "MPL"], []),
        ('ignore = ["MPL001"]', [], []),
    ],
)
def test_command_line_options_win_over_the_file(tmp_path, file, options, expected):
    write(tmp_path, {"pyproject.toml": config(file), "bad.py": BAD})
    assert reported(run(*options, cwd=tmp_path)) == expected


def test_per_file_ignores(tmp_path):
    write(tmp_path, {
        "pyproject.toml": config('[tool.mplint.per-file-ignores]\n"tests/*" = ["MPL001"]\n"scripts" = ["MPL"]\n'
                                 '"demo_*.py" = ["MPL00"]'),
        "app.py": BAD,
        "tests/test_app.py": BAD,
        "tests/deep/test_more.py": BAD,
        "scripts/run.py": BAD,
        "pkg/demo_pool.py": BAD,
        "pkg/real.py": BAD,
    })
    assert reported(run(cwd=tmp_path)) == ["app.py", "pkg/real.py"]
    # globs are relative to the config file's folder, wherever mplint runs from
    assert reported(run(".", cwd=tmp_path / "tests")) == []
    assert reported(run("real.py", "demo_pool.py", cwd=tmp_path / "pkg")) == ["real.py"]


def test_per_file_ignores_apply_to_stdin_by_its_name(tmp_path):
    write(tmp_path, {"pyproject.toml": config('per-file-ignores = { "tests/*" = ["MPL001"] }')})
    assert run("-", "--stdin-filename", "tests/t.py", cwd=tmp_path, stdin=BAD).stdout == ""
    assert reported(run("-", "--stdin-filename", "app.py", cwd=tmp_path, stdin=BAD)) == ["app.py"]


def test_exclude_and_extend_exclude(tmp_path):
    write(tmp_path, {
        "pyproject.toml": config('exclude = ["generated"]\nextend-exclude = ["legacy/*.py", "*_pb2.py"]'),
        "app.py": BAD,
        "generated/a.py": BAD,
        "legacy/old.py": BAD,
        "pkg/api_pb2.py": BAD,
        "build/x.py": BAD,  # skipped by default, and still skipped with an `exclude` set
    })
    assert reported(run(cwd=tmp_path)) == ["app.py"]
    assert stderr_lines(run(cwd=tmp_path)) == ["Found 1 finding in 1 file (1 file checked)."]
    # relative to the config file's folder when run from elsewhere
    assert reported(run("..", cwd=tmp_path / "legacy")) == ["../app.py"]


def test_a_file_named_explicitly_is_checked_even_if_excluded(tmp_path):
    write(tmp_path, {"pyproject.toml": config('exclude = ["generated"]'), "generated/a.py": BAD})
    assert reported(run("generated/a.py", cwd=tmp_path)) == ["generated/a.py"]


def test_exclude_on_the_command_line_replaces_the_files_and_extend_exclude_adds(tmp_path):
    write(tmp_path, {
        "pyproject.toml": config('exclude = ["generated"]'),
        "generated/a.py": BAD,
        "other/b.py": BAD,
        "third/c.py": BAD,
    })
    assert reported(run("--exclude", "other", cwd=tmp_path)) == ["generated/a.py", "third/c.py"]
    assert reported(run("--extend-exclude", "other,third", cwd=tmp_path)) == []


def test_config_option_names_the_file_and_its_folder_anchors_globs(tmp_path):
    write(tmp_path, {
        "conf/settings.toml": '[tool.mplint]\nextend-exclude = ["skipped/*.py"]\n',
        "conf/skipped/a.py": BAD,
        "skipped/b.py": BAD,
        "pyproject.toml": config('ignore = ["MPL001"]'),  # not read: --config wins
    })
    done = run("--config", "conf/settings.toml", ".", cwd=tmp_path)
    assert reported(done) == ["skipped/b.py"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('select = "MPL001"', "select: expected a list of rule codes, got 'MPL001'"),
        ("ignore = [1]", "ignore: expected a list of rule codes"),
        ("extend-select = {}", "extend-select: expected a list of rule codes"),
        ('exclude = "build"', "exclude: expected a list of globs"),
        ("extend-exclude = [true]", "extend-exclude: expected a list of globs"),
        ('per-file-ignores = { "tests/*" = "MPL001" }', "per-file-ignores: expected a table of glob"),
        ('per-file-ignores = ["tests/*"]', "per-file-ignores: expected a table of glob"),
        ('selct = ["MPL001"]', "unknown key 'selct'; did you mean 'select'?"),
        ('extend_select = ["MPL001"]', "unknown key 'extend_select'; did you mean 'extend-select'?"),
        ("colour = true", "unknown key 'colour' (known keys: select, extend-select, ignore"),
        ('select = ["MPL999"]', "select: unknown rule code or prefix 'MPL999'"),
        ('ignore = ["W503"]', "ignore: unknown rule code or prefix 'W503'"),
        ('per-file-ignores = { "x.py" = ["MPL01X"] }', "per-file-ignores 'x.py': unknown rule code or prefix 'MPL01X'"),
    ],
)
def test_a_bad_config_value_is_one_line_naming_the_key(tmp_path, body, named):
    write(tmp_path, {"pyproject.toml": config(body), "bad.py": BAD})
    done = run(cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_no_traceback(done)
    [line] = stderr_lines(done)
    assert line.startswith("mplint: error: pyproject.toml: [tool.mplint]")
    assert named in line


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("[tool.mplint\nselect = []\n", "invalid TOML"),
        ("[tool]\nmplint = 3\n", "[tool.mplint]: must be a table"),
    ],
)
def test_a_broken_pyproject_is_one_line(tmp_path, content, named):
    write(tmp_path, {"pyproject.toml": content, "clean.py": CLEAN})
    done = run(cwd=tmp_path)
    assert done.returncode == 2
    assert_no_traceback(done)
    [line] = stderr_lines(done)
    assert line.startswith("mplint: error: pyproject.toml: ") and named in line


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({}, "missing.toml: cannot read: No such file or directory"),
        ({"missing.toml": "[project]\nname = 'x'\n"}, "missing.toml: [tool.mplint]: no such table"),
    ],
)
def test_config_option_errors(tmp_path, files, named):
    write(tmp_path, {"clean.py": CLEAN, **files})
    done = run("--config", "missing.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert_no_traceback(done)
    assert stderr_lines(done) == [f"mplint: error: {named}"]


IO_BOUND = (
    "from concurrent.futures import ProcessPoolExecutor\n"
    "from mycompany import http\n"
    "\n"
    "\n"
    "def fetch(url):\n"
    "    return http.fetch(url)\n"
    "\n"
    "\n"
    'if __name__ == "__main__":\n'
    "    with ProcessPoolExecutor() as executor:\n"
    '        print(list(executor.map(fetch, ["a"])))\n'
)


def test_io_bound_calls_extend_what_mpl004_knows(tmp_path):
    write(tmp_path, {"pyproject.toml": config('extend-select = ["MPL004"]'), "fetch.py": IO_BOUND})
    assert run(cwd=tmp_path).stdout == ""  # http.fetch is of unknown cost: silent
    write(tmp_path, {"pyproject.toml": config('extend-select = ["MPL004"]\nio-bound-calls = ["mycompany.http."]')})
    done = run(cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("fetch.py:10:10: MPL004 ")
