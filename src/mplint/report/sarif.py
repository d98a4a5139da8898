"""SARIF 2.1.0, the format GitHub code scanning and other code-review tools read.

One run; `tool.driver.rules` lists every rule with its documentation (the same text as the docs
pages) and each result points at its rule by id and index. Paths are URIs relative to the working
directory (`%SRCROOT%`), which is the repository root where CI runs mplint. Files that could not be
checked are reported as tool execution notifications, so an upload shows that the run was partial.
Columns count Unicode code points, as the other formats do, and the run says so. A finding with a
fix carries it as a SARIF `fix` (its replacements; an unsafe one says so in its properties), which
code scanning and editors can offer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from mplint import __version__, rule_pages
from mplint.report import level, printable
from mplint.rules import Rule, all_rules

if TYPE_CHECKING:
    from mplint.findings import FileError, Finding
    from mplint.runner import Run

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def artifact_location(path: str, cwd: str) -> dict[str, str]:
    """A file's location: relative to the working directory when it is inside it, else absolute."""
    absolute = os.path.normpath(os.path.join(cwd, path))
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive, on Windows
        relative = os.pardir
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": Path(absolute).as_uri()}
    # quoted as bytes: a name that is not UTF-8 keeps its bytes as %XX escapes, as file URIs do
    return {"uri": quote(os.fsencode(Path(relative).as_posix())), "uriBaseId": SRCROOT}


def _directory_uri(path: str) -> str:
    uri = Path(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _plain_help(rule: type[Rule]) -> str:
    return f"{rule_pages.what_it_does(rule)}\n\nWhy is this bad?\n{rule.why}\n\nHow to fix:\n{rule.fix}"


def rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule_pages.what_it_does(rule)},
        "help": {"text": _plain_help(rule), "markdown": rule_pages.rule_page(rule)},
        "helpUri": rule_pages.rule_url(rule),
        "defaultConfiguration": {"level": level(rule.code), "enabled": rule.default_enabled},
        "properties": {"tags": ["multiprocessing", "correctness"]},
    }


def _region(line: int | None, column: int | None) -> dict[str, int]:
    region = {"startLine": line} if line else {}
    if line and column:
        region["startColumn"] = column
    return region


def _notification(error: FileError, cwd: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(error.path, cwd)}
    region = _region(error.line, error.column)
    if region:
        physical["region"] = region
    return {
        "level": "error",
        "message": {"text": printable(f"{error.path}: could not be checked: {error.message}")},
        "locations": [{"physicalLocation": physical}],
    }


def _fixes(f: Finding, cwd: str) -> dict[str, Any]:
    if f.fix is None:
        return {}
    replacements = [
        {
            "deletedRegion": {
                "startLine": e.line,
                "startColumn": e.column,
                "endLine": e.end_line,
                "endColumn": e.end_column,
            },
            "insertedContent": {"text": e.text},
        }
        for e in f.fix.edits
    ]
    fix = {
        "description": {"text": f.fix.title},
        "artifactChanges": [{"artifactLocation": artifact_location(f.path, cwd), "replacements": replacements}],
        "properties": {"applicability": f.fix.applicability},
    }
    return {"fixes": [fix]}


def sarif_log(run: Run, cwd: str | None = None) -> dict[str, Any]:
    cwd = os.path.abspath(cwd or os.getcwd())
    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": level(f.code),
            "message": {"text": printable(f.message)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(f.path, cwd),
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    }
                }
            ],
            **_fixes(f, cwd),
        }
        for f in run.findings
    ]
    errors = run.errors
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mplint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": rule_pages.DOCS_URL + "rules/index.md",
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not errors,
                        "toolExecutionNotifications": [_notification(e, cwd) for e in errors],
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(cwd)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def write(run: Run, out: TextIO) -> None:
    json.dump(sarif_log(run), out, indent=2)
    out.write("\n")
