"""A module is checked once, in the parse that makes its summary, noting what the check asks of
its project; it is checked again only when its project answers one of those questions otherwise
than empty facts do (`project/asked.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mplint import parallel, runner
from mplint.cache import Cache
from mplint.config import CommandLine, load_settings
from mplint.engine import lint_source
from mplint.project.asked import Asked, Recorder
from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts

PROJECTS = Path(__file__).parent / "fixtures" / "projects"


def test_the_recorder_notes_each_question_and_answers_as_empty_facts_do() -> None:
    recorder = Recorder()
    assert recorder.starts.get("app.cli.main") is None
    assert "app.jobs.run" not in recorder.starts
    assert recorder.start_method is None
    assert recorder.asked.keys == {"starts": {"app.cli.main", "app.jobs.run"}}
    assert recorder.asked.scalars == {"start_method"}
    assert not recorder.asked.whole
    assert list(recorder.starts.items()) == []
    assert recorder.asked.whole == {"starts"}


def test_only_an_answer_that_differs_from_empty_facts_counts() -> None:
    chain = (("main()", "app/cli.py", 3), ("Pool()", "app/cli.py", 4))
    facts = ProjectFacts(starts={"app.cli.main": chain})
    assert Asked(keys={"starts": {"app.cli.main"}}).answered_by(facts)
    assert not Asked(keys={"starts": {"app.other"}}).answered_by(facts)
    assert Asked(whole={"starts"}).answered_by(facts)
    assert not Asked(scalars={"start_method"}).answered_by(facts)
    assert Asked(scalars={"start_method"}).answered_by(ProjectFacts(start_method="fork"))
    assert not Asked(whole={"starts"}, scalars={"start_method"}).answered_by(NO_PROJECT_FACTS)


def test_a_record_survives_the_cache_and_a_damaged_one_is_refused() -> None:
    asked = Asked(keys={"starts": {"b", "a"}}, whole={"starts"}, scalars={"start_method"})
    assert Asked.from_json(asked.to_json()) == asked
    for damaged in ([], {"keys": {}}, {"keys": {"nope": ["a"]}, "whole": [], "scalars": []},
                    {"keys": {"starts": [1]}, "whole": [], "scalars": []},
                    {"keys": {}, "whole": [], "scalars": ["nope"]}):
        with pytest.raises(ValueError):
            Asked.from_json(damaged)


def test_a_check_against_the_recorder_finds_what_a_check_without_project_finds() -> None:
    source = "import multiprocessing\nfrom app.cli import main\nmain()\nmultiprocessing.Pool(2)\n"
    recorder = Recorder()
    recorded = lint_source(source, "run.py", project=recorder)
    assert recorded == lint_source(source, "run.py")
    assert "app.cli.main" in recorder.asked.keys["starts"]


def _run(tree: Path, jobs: list, cache: Cache | None = None) -> runner.Run:
    settings = load_settings(CommandLine())
    real = parallel.run_jobs

    def counting(todo, workers):
        jobs.append(sorted((job.path, job.record) for job in todo))
        return real(todo, workers)

    parallel.run_jobs = counting  # the runner imports it when it has files to parse
    try:
        return runner.lint_paths([str(tree)], settings, jobs=1, cache=cache)
    finally:
        parallel.run_jobs = real


@pytest.mark.parametrize(
    ("name", "again"),
    [
        ("entry_chain", {"bin/tool", "run.py", "run_package.py"}),
        ("daemonic_chain", {"app.py"}),
        ("negatives", set()),
        # fork pinned by a conftest.py above them: their checks read the start method
        ("conftest_fork", {"tests/unit/test_workers.py", "hooked/test_hooked.py"}),
    ],
)
def test_each_file_is_parsed_once_unless_its_project_answers_its_check(
    name: str, again: set[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / name
    shutil.copytree(PROJECTS / name, tree)
    monkeypatch.chdir(tree)
    jobs: list = []
    run = _run(tree, jobs)
    first, *rest = jobs
    assert all(record for _path, record in first)
    checked_again = {path for batch in rest for path, _record in batch} & {path for path, _ in first}
    assert {str(Path(path).relative_to(tree)) for path in checked_again} == again
    # and a warm run parses nothing
    cache = Cache(tmp_path / "cache")
    cold = _run(tree, [], cache)
    warm_jobs: list = []
    warm = _run(tree, warm_jobs, cache)
    assert all(batch == [] for batch in warm_jobs)
    assert warm.findings == cold.findings == run.findings
