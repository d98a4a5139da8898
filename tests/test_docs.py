"""The rule docs: every committed page is what the generator makes now, and every example does what its
page says (the bad one is reported by its rule and nothing else, the good one by nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console import mplint
from mplint import docs, lint_source
from mplint.config import OPTIONS
from mplint.rules import Rule, all_rules

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RULES = all_rules()
ALL_CODES = [rule.code for rule in RULES]


def _id(rule: type[Rule]) -> str:
    return rule.code


def test_committed_docs_are_up_to_date() -> None:
    stale = docs.problems(DOCS)
    assert not stale, (
        "the docs under docs/ do not match the rule metadata:\n  "
        + "\n  ".join(stale)
        + f"\nregenerate them from the repository root with:  {docs.REGENERATE}"
    )


def test_a_new_rule_without_a_page_is_reported_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs.write(tmp_path)
    assert docs.problems(tmp_path) == []

    class BrandNew(Rule):
        """Finds nothing; it exists to need a page."""

        code = "MPL999"
        name = "brand-new"
        summary = "A rule added after the docs were generated"
        why = fix = "-"
        bad_example = good_example = "pass\n"

    monkeypatch.setattr(docs, "all_rules", lambda: (*RULES, BrandNew))
    assert docs.problems(tmp_path) == ["rules/MPL999.md: missing", "rules/index.md: out of date"]
    docs.write(tmp_path)
    assert docs.problems(tmp_path) == []

    monkeypatch.setattr(docs, "all_rules", lambda: RULES)  # the rule is gone again
    assert docs.problems(tmp_path) == [
        "rules/index.md: out of date",
        "rules/MPL999.md: generated for a rule that no longer exists",
    ]
    assert "removed rules/MPL999.md" in docs.write(tmp_path)
    assert not (tmp_path / "rules" / "MPL999.md").exists()


def test_hand_written_pages_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    notes = tmp_path / "rules" / "notes.md"
    notes.write_text("# Notes kept by hand\n")
    docs.write(tmp_path)
    assert notes.read_text() == "# Notes kept by hand\n"
    assert docs.problems(tmp_path) == []


def test_check_command_names_the_regenerate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "MPL001.md: missing" in err
    assert f"regenerate with: {docs.REGENERATE}" in err
    assert docs.main([str(tmp_path)]) == 0
    assert docs.main(["--check", str(tmp_path)]) == 0


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_bad_example_is_reported_by_its_rule_alone(rule: type[Rule]) -> None:
    alone = lint_source(rule.bad_example, docs.EXAMPLE_PATH, codes=[rule.code], noqa=False)
    assert alone.error is None, alone.error
    assert alone.findings, f"{rule.code}'s bad_example is not reported by {rule.code}"
    everything = lint_source(rule.bad_example, docs.EXAMPLE_PATH, codes=ALL_CODES, noqa=False)
    others = sorted({f.code for f in everything.findings} - {rule.code})
    assert not others, f"{rule.code}'s bad_example also trips {others}: keep the example to one mistake"


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_good_example_is_clean_for_every_rule(rule: type[Rule]) -> None:
    result = lint_source(rule.good_example, docs.EXAMPLE_PATH, codes=ALL_CODES, noqa=False)
    assert result.error is None, result.error
    assert result.findings == [], [f"{f.line}: {f.code} {f.message}" for f in result.findings]


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_rule_metadata_fills_every_section(rule: type[Rule]) -> None:
    assert re.fullmatch(r"MPL\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rule.name), rule.name
    assert rule.summary.strip() and "\n" not in rule.summary
    assert docs.what_it_does(rule)
    assert rule.why.strip() and rule.fix.strip()
    assert rule.bad_example != rule.good_example
    assert rule.references, f"{rule.code} has no references"
    for title, url in rule.references:
        assert title.strip() and url.startswith("https://"), (title, url)


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_page_has_the_sections_in_order(rule: type[Rule]) -> None:
    page = docs.rule_page(rule)
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    assert headings == ["What it does", "Why is this bad?", "Example", "Use instead", "How to fix", "Fix", "References"]
    assert page.startswith(f"# {rule.name} ({rule.code})\n")
    assert rule.bad_example.rstrip() in page and rule.good_example.rstrip() in page
    # the page shows the finding the engine really reports for its example
    finding = lint_source(rule.bad_example, docs.EXAMPLE_PATH, codes=[rule.code]).findings[0]
    assert f"{docs.EXAMPLE_PATH}:{finding.line}:{finding.column}: {rule.code} {finding.message}" in page


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_the_fix_section_says_whether_the_fix_is_safe(rule: type[Rule]) -> None:
    section = docs.rule_page(rule).split("## Fix\n\n", 1)[1].split("\n## ", 1)[0]
    if rule.autofix:
        assert section.strip() == rule.autofix and re.search(r"\b(Safe|Unsafe)\b", rule.autofix)
    else:
        assert "does not change this code" in section


def test_inherited_docstring_does_not_count() -> None:
    class Undocumented(Rule):
        code = "MPL998"

    with pytest.raises(ValueError, match="MPL998 has no docstring"):
        docs.what_it_does(Undocumented)


def test_index_lists_every_rule_with_a_link() -> None:
    index = docs.pages()["rules/index.md"]
    for rule in RULES:
        assert f"| [{rule.code}]({rule.code}.md) | {rule.name} |" in index


def test_configuration_page_describes_every_key_of_the_schema() -> None:
    page = docs.pages()["configuration.md"]
    for option in OPTIONS:
        assert f"| `{option.key}` | {option.type} |" in page
        assert option.doc.replace("|", "\\|") in page
    assert "| `select` | list of rule codes | not set | `--select` |" in page


@pytest.mark.slow
def test_explain_prints_the_committed_page(tmp_path: Path) -> None:
    for rule in RULES:
        done = mplint("--explain", rule.code.lower(), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        committed = (DOCS / docs.rule_path(rule)).read_text(encoding="utf-8")
        assert done.stdout == committed.split("\n", 2)[2]  # the page without its generated-by marker
    by_name = mplint("--explain", RULES[0].name, cwd=tmp_path)
    assert by_name.stdout == docs.rule_page(RULES[0])


def test_explain_an_unknown_rule_is_a_usage_error(tmp_path: Path) -> None:
    done = mplint("--explain", "MPL0", cwd=tmp_path)
    assert done.returncode == 2
    assert "no rule 'MPL0'; `mplint --list-rules` lists them" in done.stderr
    assert done.stdout == ""
