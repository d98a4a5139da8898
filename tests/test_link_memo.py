"""The memo of what the project tells each named file (`project/memo.py`): a warm run with nothing
changed reads it instead of every module's summary, and anything the link starts from that
changes (a module changed, added, removed or renamed, a folder listing, `src`, the selected
rules) is a miss that gives the right findings; a damaged memo is ignored without a word. The run
memo, in front of it, is dropped before each run (`memo_layers.Counted`), except where a scenario
is run against both."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from console import assert_no_traceback, drop_command_memos, mplint, write
from memo_layers import (
    FOUND, JOBS, JOBS_IDLE, PROJECT_MEMO, RUN, RUN_MEMO, Counted, age_all, drop_run_memos, make_project, memo_entries,
)
from mplint import prefilter, runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings
from mplint.project.memo import facts_json, facts_of

FIXTURES = Path(__file__).parent / "fixtures" / "projects"


@pytest.fixture(params=[PROJECT_MEMO, RUN_MEMO])
def layer(request: pytest.FixtureRequest) -> str:
    """The memo a scenario is run against: the ones both memos must answer alike are here, each
    memo's own beside it (the run memo's in tests/test_run_memo.py)."""
    return request.param


def test_a_warm_run_with_nothing_changed_does_not_link(tmp_path: Path, monkeypatch, layer: str) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == FOUND and run.misses == 1
    assert run(root) == FOUND and run.misses == 1  # served by the memo


def test_a_changed_module_is_a_miss(tmp_path: Path, monkeypatch, layer: str) -> None:
    """A module that no path named (the run memo) or one of the named files (the project memo)."""
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == FOUND
    (root / "app" / "jobs.py").write_text(JOBS_IDLE)
    age_all(root)  # only its time tells the change
    assert run(root) == [] and run.misses == 2
    (root / "app" / "jobs.py").write_text(JOBS)
    age_all(root)
    # put back: the project memo keeps an entry for each state of the session's files, and the
    # first stands; the run memo keeps one entry for a set of named files, the last run's
    assert run(root) == FOUND and run.misses == {PROJECT_MEMO: 2, RUN_MEMO: 3}[layer]


def test_an_added_module_is_a_miss(tmp_path: Path, monkeypatch, layer: str) -> None:
    root = make_project(tmp_path / "p", {"run.py": "from app import tasks\n\ntasks.run_all()\n"})
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == []  # app.tasks is nowhere: unknown, silent
    write(root, {"app/tasks.py": JOBS})
    age_all(root)
    assert run(root) == FOUND and run.misses == 2


def test_a_removed_module_is_a_miss(tmp_path: Path, monkeypatch, layer: str) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == FOUND
    (root / "app" / "jobs.py").unlink()
    assert run(root) == [] and run.misses == 2


def test_a_renamed_folder_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache")
    assert run(root) == FOUND
    (root / "app").rename(root / "application")
    assert run(root) == [] and run.misses == 2
    (root / "application").rename(root / "app")
    assert run(root) == FOUND and run.misses == 2  # as the first run saw it: its memo stands


def test_a_changed_folder_listing_is_a_miss(tmp_path: Path, monkeypatch, layer: str) -> None:
    """No module of the run changes, but a folder the resolver listed does: the memo is not
    trusted (here the answer stays the same)."""
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == FOUND
    (root / "app" / "notes.txt").write_text("not a module\n")
    assert run(root) == FOUND and run.misses == 2
    assert run(root) == FOUND and run.misses == 2  # and memoised again


def test_a_package_that_shadows_a_module_is_a_miss(tmp_path: Path, monkeypatch, layer: str) -> None:
    """`app/jobs/__init__.py` wins over `app/jobs.py`, as Python's import system has it."""
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache", layer)
    assert run(root) == FOUND
    write(root, {"app/jobs/__init__.py": JOBS_IDLE})
    age_all(root)
    assert run(root) == [] and run.misses == 2


def test_the_selected_rules_key_the_memo(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache")
    assert run(root) == FOUND
    assert run(root, codes=frozenset({"MPL002"})) == [] and run.misses == 2
    assert run(root) == FOUND and run.misses == 2  # the first memo still stands


def test_a_memo_made_without_fixes_serves_no_run_that_shows_them(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p", {"run.py": "import multiprocessing\n\np = multiprocessing.Process(target=print)\n"
                                               "p.start()\n\nfrom app import jobs\n\njobs.run_all()\n"})
    run = Counted(monkeypatch, tmp_path / "cache")
    expected = [(f.line, f.code, f.fix) for f in run.run(root, cached=False).findings]
    assert any(fix is not None for _, _, fix in expected)  # the test can fail: a fix is shown
    run(root, fixes=False)
    assert all(f.fix is None for f in run.last.findings)
    run(root)
    assert [(f.line, f.code, f.fix) for f in run.last.findings] == expected
    run(root)
    assert [(f.line, f.code, f.fix) for f in run.last.findings] == expected
    assert run.misses == 3  # without a cache, then once for each memo


def test_the_src_setting_keys_the_memo(tmp_path: Path) -> None:
    """`[tool.mplint] src` moves the source roots: the CLI in a subprocess, each answer right."""
    root = tmp_path / "p"
    write(root, {"pyproject.toml": "[project]\nname = 'p'\n", "bin/run.py": RUN,
                 "lib/app/__init__.py": "", "lib/app/jobs.py": JOBS})
    age_all(root)
    cache = str(tmp_path / "cache")

    def codes() -> list[str]:
        done = mplint("--cache-dir", cache, "--format", "json", ".", cwd=root)
        assert_no_traceback(done)
        return [f["code"] for f in json.loads(done.stdout)]

    assert codes() == []  # lib/ is not a source root: `app` is unknown
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.mplint]\nsrc = ['lib']\n")
    assert codes() == ["MPL001"]
    assert codes() == ["MPL001"]
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert codes() == []


@pytest.mark.parametrize("damage", [b"{not json", b'{"format": "1", "folders": {}, "dirs": {}, "files": {"x": 1}}',
                                    b"[" * 100_000, b"null"])
def test_a_damaged_memo_is_ignored_without_a_word(tmp_path: Path, damage: bytes) -> None:
    root = make_project(tmp_path / "p")
    cache = tmp_path / "cache"
    first = mplint("--cache-dir", str(cache), ".", cwd=root)
    assert first.returncode == 1 and "run.py:3:" in first.stdout
    entries = memo_entries(cache, "folders")
    assert len(entries) == 1
    assert drop_run_memos(cache)
    entries[0].write_bytes(damage)
    assert drop_command_memos(cache) == 1  # (it would answer first)
    again = mplint("--cache-dir", str(cache), ".", cwd=root)
    assert_no_traceback(again)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    assert len(memo_entries(cache, "folders")) == 1  # written again whole


def test_a_memo_whose_facts_were_tampered_with_is_ignored(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "p")
    run = Counted(monkeypatch, tmp_path / "cache")
    assert run(root) == FOUND
    (entry,) = memo_entries(tmp_path / "cache", "folders")
    data = json.loads(entry.read_text())
    told = next(facts for _settled, _result, facts in data["files"].values() if facts is not None)
    told["starts"] = {"x": [["f()", "a.py", "one"]]}  # a line that is not a number
    entry.write_text(json.dumps(data))
    assert run(root) == FOUND and run.misses == 2


def test_the_memo_keeps_every_field_of_the_project_facts() -> None:
    from dataclasses import fields

    from mplint.project.link import ProjectFacts

    assert set(facts_json(ProjectFacts())) == {field.name for field in fields(ProjectFacts)}


def test_what_a_file_is_told_reads_back_as_it_was(tmp_path: Path) -> None:
    """Every named file of every project fixture: its project facts through the memo's JSON are
    equal, with the same digest (which keys its result)."""
    from mplint.project.session import Session

    told = 0
    for project in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        settings = load_settings(CommandLine(), cwd=str(project))
        session = Session()
        named = []
        for path in runner.discover([str(project)], settings.is_excluded).files:
            source = runner.SourceFile(path, runner.read_source)
            session.add(path, source, True)
            named.append((path, source, settings.codes_for(path), True))
        session.explore(prefilter.may_contain_findings)
        session.add_conftests(prefilter.may_contain_findings)
        runner.summarise_project(session, settings.rule_options, 1, None, named)
        for path, _, codes, _ in named:
            facts = session.facts_for(path).only_for(codes)
            again = facts_of(json.loads(json.dumps(facts_json(facts))))
            assert again == facts and again.digest() == facts.digest(), path
            told += bool(facts)
    assert told >= 10  # the test can fail: many files are told something


def test_the_memo_of_each_fixture_project_gives_its_findings(tmp_path: Path, monkeypatch) -> None:
    from mplint.rules import all_rules

    codes = frozenset(rule.code for rule in all_rules())
    found = 0
    for project in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        root = tmp_path / project.name
        shutil.copytree(project, root)
        age_all(root)
        run = Counted(monkeypatch, tmp_path / "cache" / project.name)
        cold = run(root, codes=codes)
        assert run(root, codes=codes) == cold and run.misses == 1, project.name
        found += len(cold)
    assert found >= 20
