"""Project-wide analysis on input that could make it loop, hang or blow up: long chains of
modules, import cycles, symlinked packages (one that points back up), many files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mplint.config import load_settings
from mplint.runner import lint_paths

POOL = "import multiprocessing\n\n\ndef f():\n    with multiprocessing.Pool() as pool:\n        return pool.map(abs, [1])\n"


def _run(root: Path, *paths: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(root)
    return lint_paths(list(paths or ["."]), load_settings(cwd=str(root)))


def test_a_chain_through_hundreds_of_modules_is_found_and_shown_short(tmp_path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    count = 300
    for index in range(count - 1):
        (tmp_path / f"m{index}.py").write_text(f"from m{index + 1} import f as g\n\n\ndef f():\n    return g()\n")
    (tmp_path / f"m{count - 1}.py").write_text(POOL)
    (tmp_path / "run.py").write_text("import m0\n\nm0.f()\n")
    run = _run(tmp_path, "run.py", monkeypatch=monkeypatch)
    [finding] = run.findings
    assert (finding.path, finding.line, finding.code) == ("run.py", 3, "MPL001")
    assert "`f()` (m0.py:4) -> `f()` (m1.py:4)" in finding.message and " -> ... -> " in finding.message
    assert f"(m{count - 1}.py:5)" in finding.message and len(finding.message) < 700


def test_import_cycles_of_every_length_end(tmp_path, monkeypatch) -> None:
    (tmp_path / "setup.py").write_text("")
    for index in range(50):  # each module imports the next, the last the first; nothing starts
        (tmp_path / f"c{index}.py").write_text(
            f"import multiprocessing\nfrom c{(index + 1) % 50} import f as g\n\n\ndef f():\n    return g()\n"
        )
    (tmp_path / "run.py").write_text("import c0\n\nc0.f()\n")
    assert _run(tmp_path, monkeypatch=monkeypatch).findings == []


def test_symlinked_packages_resolve_and_a_link_back_up_does_not_loop(tmp_path, monkeypatch) -> None:
    real = tmp_path / "vendor" / "realpkg"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("")
    (real / "jobs.py").write_text(POOL)
    os.symlink(tmp_path, real / "up")  # a folder that leads back to the root
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    os.symlink(real, project / "pkg")
    (project / "run.py").write_text("from pkg.up.project.pkg.up.project.pkg import jobs\nfrom pkg import jobs as j\n\nj.f()\njobs.f()\n")
    run = _run(project, "run.py", monkeypatch=monkeypatch)
    assert [(f.line, f.code) for f in run.findings] == [(4, "MPL001"), (5, "MPL001")]


@pytest.mark.slow
def test_fifty_thousand_files(tmp_path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    package = tmp_path / "big"
    for part in range(50):
        folder = package / f"p{part}"
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        for index in range(1000):
            (folder / f"m{index}.py").write_text(f"from big.p{part} import m{(index + 1) % 1000}\nVALUE = {index}\n")
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text(POOL)
    (tmp_path / "run.py").write_text("from big import jobs\nimport big.p0.m0\n\njobs.f()\n")
    run = _run(tmp_path, monkeypatch=monkeypatch)
    assert [(f.path, f.line) for f in run.findings] == [("run.py", 4)]
    assert run.files_checked > 50_000


def test_the_standard_library_is_never_a_project() -> None:
    """Checking the interpreter's own library reads no module of it as a project's (its `test`
    package is not in sys.stdlib_module_names, and imports itself everywhere)."""
    import sysconfig

    from mplint.project.resolver import Project

    stdlib = sysconfig.get_paths()["stdlib"]
    project = Project(stdlib)
    assert project.module_of(os.path.join(stdlib, "test", "support", "__init__.py")) is None
    assert project.module_of(os.path.join(stdlib, "concurrent", "futures", "process.py")) is None


def test_the_forks_of_multiprocessing_are_never_a_project(tmp_path: Path) -> None:
    """`multiprocess` and `billiard` checked in their own source tree are the library the API
    table describes, as the standard library's `multiprocessing` is: none of their modules is
    a project module, and an import of them finds no project file; a project's own package
    beside them still is one."""
    from mplint.project.resolver import Project

    for name in ("multiprocess", "billiard", "mylib"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "util.py").write_text("registry = {}\n")
    project = Project(str(tmp_path))
    for name in ("multiprocess", "billiard"):
        assert project.module_of(str(tmp_path / name / "util.py")) is None
        assert project.find(f"{name}.util", (str(tmp_path),)) is None
    mylib = project.module_of(str(tmp_path / "mylib" / "util.py"))
    assert mylib is not None and mylib.name == "mylib.util"
    assert project.find("mylib.util", (str(tmp_path),)) == str(tmp_path / "mylib" / "util.py")


@pytest.mark.parametrize(
    "text, src",
    [
        ("[project]\nname = 'p'\n", (".", "src")),
        ("[project]\nname = 'p'\n\n[tool.mplint]\nsrc = ['lib']\n", ("lib",)),
        ("[project]\nname = 'p'\n\n[tool.\"\\u006dplint\"]\nsrc = ['lib']\n", ("lib",)),  # an escaped key
        ("[tool.mplint\nsrc = ['lib']\n", (".", "src")),  # broken: the defaults
        ("not toml at all\n", (".", "src")),
    ],
)
def test_the_src_setting_is_read_only_where_a_table_of_mplint_can_be(tmp_path: Path, monkeypatch, text, src) -> None:
    """A pyproject.toml whose text cannot hold a `[tool.mplint]` table (no `mplint` in it, and no
    escape that could spell it) gives the default source roots without a TOML reading."""
    from mplint import config
    from mplint.project import resolver

    (tmp_path / "pyproject.toml").write_text(text)
    read = []
    reading = config.read_config
    monkeypatch.setattr(config, "read_config", lambda path: read.append(path) or reading(path))
    assert resolver._src_setting(str(tmp_path)) == src
    assert bool(read) == ("mplint" in text or "\\" in text)
