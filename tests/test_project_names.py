"""Only the functions another module may name are summarised (`summary.Names`): what is left
out, that the link tells every module the same as with every function summarised, and that a
summary kept in the cache for fewer names is made again when another module names more."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from mplint import runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings
from mplint.facts import ModuleFacts
from mplint.project.readings import summarise
from mplint.project.summary import Names, Summary, shared_names, words

LIB = '''\
import multiprocessing


def start():
    with multiprocessing.Pool(2) as pool:
        return pool.map(square, range(3))


def square(x):
    return x * x


def helper():
    return start()


class Job:
    def __init__(self):
        self.pool = multiprocessing.Pool(2)

    def run(self):
        return helper()
'''


def _summary(source: str, names: Names | bool) -> Summary:
    return summarise(ModuleFacts(cst.parse_module(source), "lib.py", source), names)


def test_a_key_is_named_by_its_last_part_and_a_class_by_its_name() -> None:
    names = Names(frozenset({"run", "Job"}))
    assert names.may_name("run") and names.may_name("Job.run") and names.may_name("Job.__init__")
    assert not names.may_name("start") and not names.may_name("Other.__init__")
    assert not names.may_name("<12>run")  # a nested function: only its own module reaches it
    assert names.may_name("démarre")  # a name that is not ASCII is never left out
    # in a package's __init__.py, `X.__init__` may be named as `__init__` where `X` is a folder
    assert Names(frozenset({"__init__"}), package=True).may_name("Other.__init__")


def test_functions_no_other_module_names_are_left_out_with_what_they_alone_call() -> None:
    summary = _summary(LIB, Names(frozenset({"run"})))
    # `Job.run` is named; it calls `helper`, which calls `start`, which hands `square` to a child
    assert sorted(summary.functions) == ["Job.run", "helper", "square", "start"]
    assert summary.dropped == ["Job.__init__"]
    everything = _summary(LIB, True)
    assert not everything.dropped
    for key, function in summary.functions.items():
        assert function == everything.functions[key]
    assert summary.external == everything.external and summary.handed == everything.handed


def test_a_summary_serves_only_names_it_was_made_for() -> None:
    summary = _summary(LIB, Names(frozenset({"run"})))
    assert summary.serves(Names(frozenset({"run", "helper"})))
    assert not summary.serves(Names(frozenset({"Job"})))  # `Job(...)` reaches `Job.__init__`
    assert not summary.serves(None)  # a run that summarises every function
    assert _summary(LIB, True).serves(None)
    again = Summary.from_json(summary.to_json())
    assert again == summary and again.words == summary.words


def test_only_modules_found_under_each_others_folders_share_names(tmp_path: Path) -> None:
    text = {"a": b"def run(): pass\n", "b": b"run()\nimport x\n", "c": b"run()\n"}
    found = shared_names({
        "/p/pkg/a.py": (words(text["a"]), ("/p",)),
        "/p/pkg/b.py": (words(text["b"]), ("/p",)),
        "/q/vendored/a.py": (words(text["c"]), ("/q",)),
    })
    assert found["/p/pkg/a.py"].shared == {"run"}
    assert found["/p/pkg/b.py"].shared == {"run"}
    assert found["/q/vendored/a.py"].shared == frozenset()
    # a.py's stem is in no other text of its group: nothing can name it, though b.py says `run`
    assert not found["/p/pkg/a.py"].reached and not found["/p/pkg/a.py"].may_name("run")
    assert found["/p/pkg/a.py"].with_own(["pkg.a.run"], "a").may_name("run")  # it names itself
    named = shared_names({
        "/p/pkg/a.py": (words(text["a"]), ("/p",)), "/p/pkg/b.py": (words(b"from pkg import a\na.run()\n"), ("/p",)),
        "/p/pkg/__init__.py": (words(b"def run(): pass\n"), ("/p",)),
    })
    assert named["/p/pkg/a.py"].may_name("run")
    assert named["/p/pkg/__init__.py"].reached  # a relative import names a package without its name
    assert words(b"x = 1\x00") is None  # not ASCII-compatible: every function is summarised


def _run(paths: list[Path], cache: Cache) -> runner.Run:
    settings = load_settings(CommandLine())
    return runner.lint_paths([str(p) for p in paths], settings, cache=cache)


def test_a_summary_kept_for_fewer_names_is_made_again(tmp_path: Path, monkeypatch) -> None:
    """The first run summarises lib.py without `start` (app.py does not name it); once main.py
    calls `lib.start()` at import time, lib.py's kept summary no longer serves and is made again:
    main.py's finding comes through it as it does without a cache."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "app.py").write_text("import lib\n\n\ndef go():\n    return lib.square(2)\n")
    monkeypatch.chdir(tmp_path)
    cache = Cache(tmp_path / "cache")
    _run([tmp_path / "lib.py", tmp_path / "app.py"], cache)
    (tmp_path / "main.py").write_text("import lib\n\nlib.start()\n")
    cached = _run([tmp_path / "lib.py", tmp_path / "app.py", tmp_path / "main.py"], cache)
    fresh = _run([tmp_path / "lib.py", tmp_path / "app.py", tmp_path / "main.py"], None)  # type: ignore[arg-type]
    found = [(Path(f.path).name, f.line, f.code) for f in cached.findings]
    assert ("main.py", 3, "MPL001") in found
    assert found == [(Path(f.path).name, f.line, f.code) for f in fresh.findings]
