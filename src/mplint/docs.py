"""The rule documentation, generated from each rule's own metadata: one Markdown page per rule and
an index. `mplint --explain CODE` prints the same page; SARIF output links to it.

    python -m mplint.docs           write the pages under ./docs
    python -m mplint.docs --check   exit 1 if a committed page is missing, stale or left over
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Sequence

from mplint.rules import Rule, all_rules

#: where the committed docs/ folder of this repository is published
DOCS_URL = "https://github.com/mplint/mplint/blob/main/docs/"

REGENERATE = "python -m mplint.docs"

_GENERATED = f"<!-- Generated from the rule metadata by `{REGENERATE}`: edit the rule, not this page. -->\n"

#: the file name the examples are checked under, in the pages and in the tests
EXAMPLE_PATH = "example.py"


def rule_path(rule: type[Rule]) -> str:
    return f"rules/{rule.code}.md"


def rule_url(rule: type[Rule]) -> str:
    return DOCS_URL + rule_path(rule)


def what_it_does(rule: type[Rule]) -> str:
    """The rule's class docstring: its own, never one inherited from a base class."""
    doc = vars(rule).get("__doc__")
    if not doc or not doc.strip():
        raise ValueError(f"rule {rule.code} has no docstring: it is the 'What it does' section of its docs")
    return inspect.cleandoc(doc)


def _code_block(source: str, language: str = "python") -> str:
    return f"```{language}\n{source.rstrip()}\n```"


def _reported(rule: type[Rule]) -> str:
    """What mplint prints for the bad example: the page shows real output, kept fresh by the tests."""
    from mplint.engine import lint_source  # the rules' metadata alone does not need the engine

    result = lint_source(rule.bad_example, EXAMPLE_PATH, codes=[rule.code])
    return "\n".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings)


def enabling(rule: type[Rule]) -> str:
    if rule.default_enabled:
        return "This rule is enabled by default."
    return (
        "This rule is not enabled by default. Enable it with "
        f'`extend-select = ["{rule.code}"]` under `[tool.mplint]` in pyproject.toml, '
        f"or `--extend-select {rule.code}` on the command line."
    )


def rule_page(rule: type[Rule]) -> str:
    """The rule's page in Markdown, with the sections readers of linter docs look for."""
    parts = [
        f"# {rule.name} ({rule.code})",
        rule.summary,
        enabling(rule) + f" Silence one line with `# noqa: {rule.code}`.",
        "## What it does",
        what_it_does(rule),
        "## Why is this bad?",
        rule.why,
        "## Example",
        _code_block(rule.bad_example),
        "mplint reports:",
        _code_block(_reported(rule), "text"),
        "## Use instead",
        _code_block(rule.good_example),
        "## How to fix",
        rule.fix,
    ]
    if rule.references:
        parts += ["## References", "\n".join(f"- [{title}]({url})" for title, url in rule.references)]
    return "\n\n".join(parts) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def index_page(rules: Sequence[type[Rule]]) -> str:
    rows = "\n".join(
        f"| [{rule.code}]({rule.code}.md) | {rule.name} | {_cell(rule.summary)} | "
        f"{'yes' if rule.default_enabled else 'no'} |"
        for rule in rules
    )
    return (
        "# Rules\n\n"
        "Every rule has a page with what it finds, why it bites, an example and its fix. "
        "Rules that are not enabled by default are opinionated: enable them with `extend-select`.\n\n"
        "| Code | Name | What it finds | On by default |\n"
        "| --- | --- | --- | --- |\n"
        f"{rows}\n"
    )


def pages(rules: Sequence[type[Rule]] | None = None) -> dict[str, str]:
    """Every generated page: its path under docs/ -> its content."""
    rules = all_rules() if rules is None else rules
    generated = {rule_path(rule): _GENERATED + "\n" + rule_page(rule) for rule in rules}
    generated["rules/index.md"] = _GENERATED + "\n" + index_page(rules)
    return generated


def explain(code: str) -> str | None:
    """The rule's page as the terminal shows it (`mplint --explain CODE`); None for an unknown code."""
    from mplint.rules import rule_by_code

    rule = rule_by_code(code.strip())
    return None if rule is None else rule_page(rule)


def _generated_here(root: Path) -> set[str]:
    """The pages under `root` that this module wrote (they carry its marker)."""
    found = set()
    for path in root.rglob("*.md"):
        try:
            if path.read_text(encoding="utf-8").startswith(_GENERATED):
                found.add(path.relative_to(root).as_posix())
        except (OSError, UnicodeDecodeError):
            continue
    return found


def problems(root: Path) -> list[str]:
    """What is wrong with the committed pages under `root`: one line each, empty when all is fresh."""
    expected = pages()
    out = []
    for name, content in expected.items():
        path = root / name
        if not path.is_file():
            out.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != content:
            out.append(f"{name}: out of date")
    for name in sorted(_generated_here(root) - expected.keys()):
        out.append(f"{name}: generated for a rule that no longer exists")
    return out


def write(root: Path) -> list[str]:
    """Write every page under `root`, remove generated pages of rules that are gone; what changed."""
    changed = []
    for name in sorted(_generated_here(root) - pages().keys()):
        (root / name).unlink()
        changed.append(f"removed {name}")
    for name, content in pages().items():
        path = root / name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="\n")
        changed.append(f"wrote {name}")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mplint.docs", description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="docs", type=Path, help="the docs folder (default: docs)")
    parser.add_argument("--check", action="store_true", help="only report missing, stale or left-over pages")
    args = parser.parse_args(argv)
    if args.check:
        found = problems(args.root)
        for line in found:
            print(f"{args.root / line}", file=sys.stderr)
        if found:
            print(f"regenerate with: {REGENERATE} {args.root}", file=sys.stderr)
        return 1 if found else 0
    for line in write(args.root):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
