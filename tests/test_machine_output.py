"""`--format sarif`, `--format github` and `--statistics`, through the installed `mplint` command."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from console import mplint
from mplint import docs
from mplint.findings import FileResult, Finding
from mplint.report import github, sarif, statistics
from mplint.runner import Run
from mplint.rules import all_rules, rule_by_code

pytestmark = pytest.mark.slow  # runs the installed console script in a subprocess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = json.loads((HERE / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

JOBS = """\
import multiprocessing as mp


def work(n):
    return n * 2


pool = mp.Pool(2)
print(pool.map(work, range(4)))
workers = [mp.Process(target=work, args=(i,)) for i in range(3)]
for w in workers:
    w.start()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "jobs.py").write_text(JOBS)
    (tmp_path / "pkg" / "my file, v2.py").write_text(JOBS.replace("mp.Pool(2)", "mp.Pool(3)"))
    (tmp_path / "pkg" / "clean.py").write_text("def f():\n    return 1\n")
    (tmp_path / "pkg" / "broken.py").write_bytes(b"import multiprocessing\nx = 1\0\n")
    return tmp_path


def _json_findings(project: Path) -> list[dict]:
    run = mplint("--format", "json", "pkg", cwd=project)
    return json.loads(run.stdout)


# --- SARIF -------------------------------------------------------------------------------------------


def test_sarif_validates_against_the_sarif_2_1_0_schema(project: Path) -> None:
    run = mplint("--format", "sarif", "pkg", cwd=project)
    assert run.returncode == 2, run.stderr  # a file could not be checked
    log = json.loads(run.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_the_schema_check_can_fail(project: Path) -> None:
    log = json.loads(mplint("--format", "sarif", "pkg", cwd=project).stdout)
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)
    del log["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_sarif_results_match_the_findings(project: Path) -> None:
    [log_run] = json.loads(mplint("--format", "sarif", "pkg", cwd=project).stdout)["runs"]
    rules = log_run["tool"]["driver"]["rules"]
    got = []
    for result in log_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        region = physical["region"]
        got.append(
            (
                physical["artifactLocation"]["uri"],
                region["startLine"],
                region["startColumn"],
                region["endLine"],
                region["endColumn"],
                result["ruleId"],
                result["message"]["text"],
                result["level"],
            )
        )
    expected = [
        (
            f["path"].replace(" ", "%20").replace(",", "%2C"),
            f["line"],
            f["column"],
            f["end_line"],
            f["end_column"],
            f["code"],
            f["message"],
            "error",
        )
        for f in _json_findings(project)
    ]
    assert len(expected) >= 4
    assert sorted(got) == sorted(expected)
    assert log_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"


def test_sarif_rules_carry_their_docs(project: Path) -> None:
    [log_run] = json.loads(mplint("--format", "sarif", "pkg", cwd=project).stdout)["runs"]
    driver = log_run["tool"]["driver"]
    assert driver["name"] == "mplint"
    assert [r["id"] for r in driver["rules"]] == [rule.code for rule in all_rules()]
    for descriptor in driver["rules"]:
        rule = rule_by_code(descriptor["id"])
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == docs.what_it_does(rule)
        assert rule.why in descriptor["help"]["text"] and rule.fix in descriptor["help"]["text"]
        assert descriptor["help"]["markdown"] == docs.rule_page(rule)
        # the help URI is the rule's page in the committed docs
        assert descriptor["helpUri"] == docs.DOCS_URL + docs.rule_path(rule)
        assert (ROOT / "docs" / docs.rule_path(rule)).is_file()
        # GitHub code scanning truncates longer descriptions
        assert len(descriptor["shortDescription"]["text"]) <= 1024


def test_sarif_reports_unchecked_files_as_notifications(project: Path) -> None:
    [log_run] = json.loads(mplint("--format", "sarif", "pkg", cwd=project).stdout)["runs"]
    [invocation] = log_run["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "null byte" in note["message"]["text"]
    physical = note["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "pkg/broken.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == 2


def test_sarif_of_a_clean_run(project: Path) -> None:
    run = mplint("--format", "sarif", "pkg/clean.py", cwd=project)
    assert run.returncode == 0, run.stderr
    log = json.loads(run.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


@pytest.mark.parametrize(
    "path, expected",
    [
        ("pkg/a.py", {"uri": "pkg/a.py", "uriBaseId": "%SRCROOT%"}),
        ("./pkg/../a b.py", {"uri": "a%20b.py", "uriBaseId": "%SRCROOT%"}),
        ("/work/repo/pkg/a.py", {"uri": "pkg/a.py", "uriBaseId": "%SRCROOT%"}),
        ("/elsewhere/a.py", {"uri": "file:///elsewhere/a.py"}),
        ("../a.py", {"uri": "file:///work/a.py"}),
        ("<stdin>", {"uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%"}),
    ],
)
def test_sarif_paths_are_relative_to_the_working_directory(path: str, expected: dict) -> None:
    assert sarif.artifact_location(path, "/work/repo") == expected


# --- GitHub annotations ------------------------------------------------------------------------------


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Read a workflow command back as the Actions runner does."""
    assert line.startswith("::")
    head, message = line[2:].split("::", 1)
    level, _, props = head.partition(" ")
    properties = dict(item.split("=", 1) for item in props.split(","))
    return level, {k: _unescape(v) for k, v in properties.items()}, _unescape(message)


def test_github_annotations_carry_each_finding(project: Path) -> None:
    run = mplint("--format", "github", "pkg", cwd=project)
    assert run.returncode == 2, run.stderr
    commands = [parse_command(line) for line in run.stdout.splitlines()]
    findings = [c for c in commands if c[1]["title"].startswith("MPL")]
    assert sorted(
        (p["file"], int(p["line"]), int(p["col"]), int(p["endLine"]), int(p["endColumn"]), p["title"], m, level)
        for level, p, m in findings
    ) == sorted(
        (f["path"], f["line"], f["column"], f["end_line"], f["end_column"], f"{f['code']} {f['name']}",
         f["message"], "error")
        for f in _json_findings(project)
    )
    [broken] = [c for c in commands if c[1]["file"] == "pkg/broken.py"]
    assert broken[0] == "error" and broken[1]["line"] == "2" and "null byte" in broken[2]


def test_github_escaping() -> None:
    line = github.command("error", {"file": "a,b:c%.py", "line": 3}, "50% done\nnext: line\r")
    assert line == "::error file=a%2Cb%3Ac%25.py,line=3::50%25 done%0Anext: line%0D"
    assert parse_command(line) == ("error", {"file": "a,b:c%.py", "line": "3"}, "50% done\nnext: line\r")


# --- statistics --------------------------------------------------------------------------------------


def test_statistics_count_findings_per_rule_beside_the_summary(project: Path) -> None:
    expected = Counter(f["code"] for f in _json_findings(project))
    assert sum(expected.values()) >= 4
    plain = mplint("pkg", cwd=project)
    run = mplint("--statistics", "pkg", cwd=project)
    assert run.returncode == plain.returncode == 2
    assert run.stdout == plain.stdout  # the findings are printed as ever
    lines = run.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Found "))
    before, summary = lines[:at], lines[at:]  # the summary, and how many --fix would fix
    assert summary == plain.stderr.splitlines()[-len(summary):]
    rows = [line.split() for line in before if not line.startswith("mplint: error:")]
    assert {code: int(count) for count, code, _ in rows} == dict(expected)
    assert all(name == rule_by_code(code).name for _, code, name in rows)


def test_statistics_leave_machine_output_parseable(project: Path) -> None:
    run = mplint("--statistics", "--format", "json", "pkg", cwd=project)
    assert len(json.loads(run.stdout)) >= 4


def test_statistics_order_most_frequent_first() -> None:
    def finding(code: str, line: int) -> Finding:
        return Finding("a.py", line, 1, line, 2, code, f"name-{code}", "m")

    findings = [finding("MPL002", 1), finding("MPL001", 2)] + [finding("MPL003", n) for n in range(3, 13)]
    run = Run([FileResult("a.py", findings)])
    assert statistics(run).splitlines() == [
        "10  MPL003  name-MPL003",
        " 1  MPL001  name-MPL001",
        " 1  MPL002  name-MPL002",
    ]
