"""Every fixture, through the engine, must produce exactly the findings written on its lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from expectations import as_noqa, expected_findings, fixture_files
from snapshots import UPDATE_COMMAND, difference, render, snapshot_path
from mplint import lint_source
from mplint.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
ALL_CODES = [rule.code for rule in all_rules()]
FILES = fixture_files(FIXTURES)


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_fixture_findings_match_annotations(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    result = lint_source(source, str(path), codes=ALL_CODES, noqa=False)
    assert result.error is None, result.error
    found = Counter((f.line, f.code) for f in result.findings)
    expected = expected_findings(source)
    messages = {(f.line, f.code): f.message for f in result.findings}
    unexpected = {k: messages[k] for k in found - expected}
    missing = sorted(expected - found)
    assert not unexpected and not missing, f"unexpected: {unexpected}\nmissing: {missing}"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_fixture_output_matches_its_snapshot(path: Path, request: pytest.FixtureRequest) -> None:
    """Line, column and the whole message of every finding, pinned in `<fixture>.snap`."""
    source = path.read_text(encoding="utf-8")
    result = lint_source(source, str(path), codes=ALL_CODES, noqa=False)
    assert result.error is None, result.error
    actual = render(result.findings)
    snap = snapshot_path(path)
    if request.config.getoption("--snapshot-update"):
        if not snap.exists() or snap.read_text(encoding="utf-8") != actual:
            snap.write_text(actual, encoding="utf-8")
        return
    assert snap.exists(), f"{_id(path)} has no snapshot {snap.name}: run `{UPDATE_COMMAND}` and review it"
    expected = snap.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{_id(path)}: output differs from {snap.name} (run `{UPDATE_COMMAND}` if the change is meant)\n"
        + difference(path, expected, actual)
    )


def test_every_snapshot_has_its_fixture() -> None:
    orphans = [str(s.relative_to(FIXTURES)) for s in sorted(FIXTURES.rglob("*.snap"))
               if not s.with_name(s.name[: -len(".snap")]).exists()]
    assert not orphans, f"snapshots without a fixture (delete them): {orphans}"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_fixture_annotations_as_noqa_silence_everything(path: Path) -> None:
    source = as_noqa(path.read_text(encoding="utf-8"))
    result = lint_source(source, str(path), codes=ALL_CODES)
    assert result.findings == []


def test_every_rule_has_flagged_and_clean_fixtures() -> None:
    for rule in all_rules():
        folder = FIXTURES / rule.code
        files = fixture_files(folder)
        flagged = [f for f in files if any(c == rule.code for _, c in expected_findings(f.read_text()))]
        clean = [f for f in files if not expected_findings(f.read_text())]
        assert len(flagged) >= 3 and len(clean) >= 3, (rule.code, len(flagged), len(clean))


def test_clean_fixtures_exist_and_are_clean_programs() -> None:
    clean = fixture_files(FIXTURES / "clean")
    assert clean
    for path in clean:
        assert not expected_findings(path.read_text()), f"{path} is in clean/ but expects findings"
