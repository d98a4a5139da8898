"""Multi-file fixture projects (`tests/fixtures/projects/<name>/`): each is checked as one run on
its folder, and every file's findings must be exactly the ones written on its lines; the whole
output (paths, lines, columns, messages, files that cannot be checked) is pinned in
`projects/<name>.snap`, rewritten with `--snapshot-update`."""

from __future__ import annotations

import tokenize
from collections import Counter
from pathlib import Path

import pytest

from expectations import expected_findings
from mplint.config import load_settings
from mplint.discovery import discover
from mplint.rules import all_rules
from mplint.runner import Run, lint_paths

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
NAMES = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir())
ALL_CODES = tuple(rule.code for rule in all_rules())


def check(folder: Path, *paths: str) -> Run:
    settings = load_settings(cwd=str(folder))
    settings = type(settings)(**{**settings.__dict__, "enabled": frozenset(ALL_CODES)})
    return lint_paths(list(paths or ["."]), settings)


def render(run: Run) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in run.findings]
    lines += [f"{e.path}:{e.line or 0}: cannot check: {e.message}\n" for e in run.errors]
    return "".join(lines)


def annotated(folder: Path) -> Counter[tuple[str, int, str]]:
    expected: Counter[tuple[str, int, str]] = Counter()
    for path in discover([str(folder)]).files:
        try:
            source = Path(path).read_text(encoding="utf-8")
            found = expected_findings(source)
        except (UnicodeDecodeError, SyntaxError, tokenize.TokenError):
            continue  # the fixtures that cannot be read carry no annotations
        relative = str(Path(path).relative_to(folder))
        for (line, code), count in found.items():
            expected[(relative, line, code)] += count
    return expected


@pytest.mark.parametrize("name", NAMES)
def test_project_findings_match_annotations_in_every_file(name: str, monkeypatch) -> None:
    folder = PROJECTS / name
    monkeypatch.chdir(folder)
    run = check(folder)
    assert not [e for e in run.errors if e.internal], run.errors
    found = Counter((f.path, f.line, f.code) for f in run.findings)
    expected = annotated(folder)
    messages = {(f.path, f.line, f.code): f.message for f in run.findings}
    unexpected = {k: messages[k] for k in found - expected}
    missing = sorted(expected - found)
    assert not unexpected and not missing, f"unexpected: {unexpected}\nmissing: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_project_output_matches_its_snapshot(name: str, monkeypatch, request) -> None:
    folder = PROJECTS / name
    monkeypatch.chdir(folder)
    actual = render(check(folder))
    snap = PROJECTS / f"{name}.snap"
    if request.config.getoption("--snapshot-update", default=False):
        if not snap.exists() or snap.read_text(encoding="utf-8") != actual:
            snap.write_text(actual, encoding="utf-8")
        return
    assert snap.exists(), f"{name} has no snapshot: run pytest with --snapshot-update and review it"
    assert actual == snap.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_each_named_file_alone_gets_the_same_findings(name: str, monkeypatch) -> None:
    """As pre-commit passes only the changed files: the modules they reach are read, not reported."""
    folder = PROJECTS / name
    monkeypatch.chdir(folder)
    whole = check(folder)
    for path in discover(["."]).files:
        alone = check(folder, path)
        assert alone.findings == [f for f in whole.findings if f.path == path]
