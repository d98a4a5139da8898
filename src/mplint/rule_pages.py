"""The page of one rule, in Markdown, from the rule's own metadata: what `mplint --explain CODE`
prints, what SARIF output carries and links to, and what `python -m mplint.docs` writes under
docs/rules/ (with the index and the configuration page; see docs.py).
"""

from __future__ import annotations

import inspect

from mplint.rules import Rule, all_rules

#: where the committed docs/ folder of this repository is published
DOCS_URL = "https://github.com/mplint/mplint/blob/main/docs/"

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


def autofix_section(rule: type[Rule]) -> str:
    """What `mplint --fix` does for the rule: its metadata, or that it leaves the code alone."""
    if rule.autofix:
        return rule.autofix
    return (
        "`mplint --fix` does not change this code: the right edit depends on what the program "
        "is meant to do."
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
        "## Fix",
        autofix_section(rule),
    ]
    if rule.references:
        parts += ["## References", "\n".join(f"- [{title}]({url})" for title, url in rule.references)]
    return "\n\n".join(parts) + "\n"


def explain(code_or_name: str) -> str | None:
    """A rule's page, for `mplint --explain MPL001` (or its name); None when there is no such rule."""
    wanted = code_or_name.strip().lower()
    for rule in all_rules():
        if wanted in (rule.code.lower(), rule.name):
            return rule_page(rule)
    return None
