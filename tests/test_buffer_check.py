"""An editor's buffer (flake8's file, standard input with a display name) checked with what its
project tells it: in the parse that makes its summary, and again only when the project answers
what that check asked; the result is the one a check against the project's facts gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from mplint import engine, lint_source, prefilter, runner
from mplint.cache import Cache
from mplint.options import DEFAULT_OPTIONS
from mplint.precheck import enabled_codes
from mplint.project.told import ProjectFacts

CODES = enabled_codes(None)
PROJECT = {
    "pyproject.toml": "[project]\nname = 'x'\n",
    "app/__init__.py": "",
    "app/jobs.py": (
        "import multiprocessing\n\n\ndef square(n):\n    return n * n\n\n\n"
        "def main():\n    with multiprocessing.Pool(2) as pool:\n        return pool.map(square, range(9))\n"
    ),
    "app/cli.py": "from app.jobs import main\n",
}
#: buffers of app/tool.py: told nothing by the project, told something (main() starts a pool),
#: and using the API itself
BUFFERS = {
    "own pool": "import multiprocessing\n\npool = multiprocessing.Pool(2)  # noqa: MPL001\n",
    "told": "from app.cli import main\n\nmain()\n",
    "own and told": "import multiprocessing\nfrom app.jobs import main\n\nmain()\nq = multiprocessing.Queue()\n",
    "nothing": "x = 1\n",
}


def project_facts(path: str, buffer: str, cache: Cache | None) -> ProjectFacts:
    """What the project tells the buffer, made the way the check used to: the project summarised
    (the buffer parsed without rules), then the facts linked for it; the check against these is
    the reference for `check_buffer`."""
    data = buffer.encode()
    session = runner._buffer_session(path, data, prefilter.may_contain_findings(data), cache, None)
    runner.summarise_project(session, DEFAULT_OPTIONS, 1, cache)
    return session.facts_for(path).only_for(CODES)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    original = engine._parse_text

    def counting(text, path, *args):
        seen.append(path)
        return original(text, path, *args)

    monkeypatch.setattr(engine, "_parse_text", counting)
    return seen


@pytest.mark.parametrize("noqa", [True, False], ids=["noqa", "noqa off"])
@pytest.mark.parametrize("name", sorted(BUFFERS))
def test_a_buffer_gets_what_a_check_against_its_project_facts_gives(project, monkeypatch, name, noqa) -> None:
    monkeypatch.chdir(project)
    path, buffer = str(project / "app" / "tool.py"), BUFFERS[name]
    facts = project_facts(path, buffer, None)
    expected = lint_source(buffer, path, codes=CODES, options=DEFAULT_OPTIONS, noqa=noqa, project=facts)
    for cache in (None, Cache(project / "cache"), Cache(project / "cache")):  # none, cold, warm
        result, told = runner.check_buffer(path, buffer, CODES, DEFAULT_OPTIONS, cache, noqa=noqa)
        assert result == expected and told.digest() == facts.digest()
    assert bool(expected.findings) == (name != "nothing" and (name != "own pool" or not noqa))


def test_a_buffer_summarised_for_its_project_is_parsed_once(project, monkeypatch) -> None:
    """app/tool.py as an unsaved buffer: it uses the API and imports app.jobs, so it is summarised
    for its project; its check is made in the same parse. Warm, the project's other modules are
    not parsed again."""
    monkeypatch.chdir(project)
    path = str(project / "app" / "tool.py")
    buffer = "import multiprocessing\nfrom app.jobs import square\n\npool = multiprocessing.Pool(2)\n"
    cache = Cache(project / "cache")
    runner.check_buffer(path, buffer + "#\n", CODES, DEFAULT_OPTIONS, cache)  # the project, cached
    parses = _parses(monkeypatch)
    result = runner.check_buffer(path, buffer, CODES, DEFAULT_OPTIONS, cache)[0]
    assert parses == [path]
    assert [(f.line, f.code) for f in result.findings] == [(4, "MPL001")]
    parses.clear()
    facts = project_facts(path, buffer + "##\n", cache)
    lint_source(buffer + "##\n", path, codes=CODES, options=DEFAULT_OPTIONS, project=facts)
    assert parses == [path, path]  # the way it was done before: summarised, then checked


def test_a_buffer_is_checked_with_the_collector_off_and_it_is_on_again_after(project: Path, monkeypatch) -> None:
    """No collection runs while a buffer is parsed and checked (its tree and the facts' records
    would only be traversed); the collector is as it was afterwards, on or off."""
    import contextlib
    import gc

    passes: list[int] = []
    states: list[bool] = []
    inside = [False]
    allocated: list[int] = []
    check = runner._check_buffer

    def checking(*args, **kwargs):  # type: ignore[no-untyped-def]
        inside[0] = True
        try:
            states.append(gc.isenabled())
            return check(*args, **kwargs)
        finally:
            inside[0] = False
            allocated.append(gc.get_count()[0])  # what a pass would have looked at

    def counted(phase: str, info: dict) -> None:
        if phase == "start" and inside[0]:
            passes.append(info["generation"])

    monkeypatch.setattr(runner, "_check_buffer", checking)
    path = str(project / "app" / "tool.py")
    script = "import multiprocessing\n" + "".join(f"v{i} = [{i}, ({i},)]\n" for i in range(3000))
    script += "pool = multiprocessing.Pool(2)\n"
    assert gc.isenabled()
    gc.callbacks.append(counted)
    try:
        result, _ = runner.check_buffer(path, script, CODES, DEFAULT_OPTIONS, None)
    finally:
        gc.callbacks.remove(counted)
    assert [f.code for f in result.findings] == ["MPL001"] and states == [False]
    assert passes == [] and gc.isenabled()
    assert allocated[0] > 700  # (Python's threshold)
    monkeypatch.setattr(runner, "_without_collections", contextlib.nullcontext)
    gc.callbacks.append(counted)
    try:
        runner.check_buffer(path, script, CODES, DEFAULT_OPTIONS, None)
    finally:
        gc.callbacks.remove(counted)
    assert passes and states[-1]  # the same check with the collector on: it runs
    gc.disable()
    try:
        runner.check_buffer(path, "x = 1\n", CODES, DEFAULT_OPTIONS, None)
        assert not gc.isenabled()
    finally:
        gc.enable()
