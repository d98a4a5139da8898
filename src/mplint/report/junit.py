"""JUnit XML, the test report CI systems show (GitLab's `artifacts: reports: junit`, Jenkins, Azure
Pipelines, CircleCI...).

One test suite, `mplint`; one test case a finding (failed: its class name is the file, its name the
code and place, the failure's type the code and its message mplint's), one passing test case for
each file checked without a finding, and one test case in error for each file that could not be
checked. Text is written as XML 1.0 allows: names that are not UTF-8 as `report.printable` says,
control characters as `\\x..`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TextIO
from xml.etree import ElementTree

from mplint.report import printable

if TYPE_CHECKING:
    from mplint.runner import Run

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", printable(value))


def _case(parent: ElementTree.Element, classname: str, name: str) -> ElementTree.Element:
    return ElementTree.SubElement(
        parent, "testcase", {"classname": _text(classname), "name": _text(name), "file": _text(classname), "time": "0"}
    )


def document(run: Run) -> ElementTree.Element:
    findings, errors = run.findings, run.errors
    with_findings = {f.path for f in findings}
    clean = [r.path for r in run.results if r.error is None and r.path not in with_findings]
    counts = {
        "tests": str(len(findings) + len(clean) + len(errors)),
        "failures": str(len(findings)),
        "errors": str(len(errors)),
        "skipped": "0",
        "time": "0",
    }
    root = ElementTree.Element("testsuites", {"name": "mplint", **counts})
    suite = ElementTree.SubElement(root, "testsuite", {"name": "mplint", **counts})
    for error in errors:
        case = _case(suite, error.path, "could not be checked")
        ElementTree.SubElement(case, "error", {"message": _text(error.message), "type": "mplint"}).text = \
            _text(f"{error.path}: {error.message}")
    for f in findings:
        case = _case(suite, f.path, f"{f.code} {f.name} at line {f.line}, column {f.column}")
        ElementTree.SubElement(case, "failure", {"message": _text(f.message), "type": f.code}).text = \
            _text(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}")
    for path in sorted(clean):
        _case(suite, path, "no findings")
    return root


def write(run: Run, out: TextIO) -> None:
    tree = ElementTree.ElementTree(document(run))
    ElementTree.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    tree.write(out, encoding="unicode")
    out.write("\n")
