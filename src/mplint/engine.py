"""Checking one file: decode -> prefilter -> parse once -> shared facts -> rules -> located findings."""

from __future__ import annotations

from typing import Collection

import libcst as cst

from mplint import apis
from mplint.facts import ModuleFacts
from mplint.findings import FileError, FileResult, Finding
from mplint.noqa import without_suppressed
from mplint.options import DEFAULT_OPTIONS, RuleOptions
from mplint.rules import Rule, all_rules
from mplint.source import SourceError, decode


def enabled_rules(codes: Collection[str] | None) -> list[type[Rule]]:
    if codes is None:
        return [rule for rule in all_rules() if rule.default_enabled]
    wanted = set(codes)
    return [rule for rule in all_rules() if rule.code in wanted]


def precheck(
    source: bytes | str, path: str, codes: Collection[str] | None = None
) -> FileResult | tuple[str, list[type[Rule]]]:
    """The cheap first steps: decode, then the prefilter.

    Gives the finished result for a file that needs no parse (it cannot be decoded, or it mentions
    no API of the table, or no rule is enabled), else the decoded text and the rules to run. The
    runner calls it before deciding whether a file is worth a cache look-up or a worker process.
    """
    try:
        text = source if isinstance(source, str) else decode(source)
    except SourceError as error:
        return FileResult(path, error=FileError(path, error.message, error.line, error.column))
    rules = enabled_rules(codes)
    if not rules or not apis.may_contain_findings(text):
        return FileResult(path)
    return text, rules


def lint_source(
    source: bytes | str,
    path: str = "<stdin>",
    *,
    codes: Collection[str] | None = None,
    noqa: bool = True,
    options: RuleOptions | None = None,
) -> FileResult:
    """Check one file's source.

    `codes` are the enabled rule codes (None: the rules enabled by default). With `noqa` false the
    findings are not filtered by `# noqa` comments (the flake8 plugin leaves that to flake8).
    `options` are the settings some rules read (None: the defaults).
    Never raises for bad input: what cannot be checked comes back as `FileResult.error`.

    A file that mentions no module of the API table cannot have a finding and is not parsed, so a
    syntax error in it goes unreported: mplint is not a syntax checker.
    """
    ready = precheck(source, path, codes)
    if isinstance(ready, FileResult):
        return ready
    text, rules = ready
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return FileResult(path, error=_syntax_error(text, path, error))
    except RecursionError:
        return FileResult(path, error=FileError(path, "cannot parse: the code is nested too deeply"))
    try:
        findings = _check(module, path, rules, options or DEFAULT_OPTIONS)
    except RecursionError:
        return FileResult(path, error=FileError(path, "cannot check: the code is nested too deeply"))
    except Exception as error:  # a bug of ours must not hide the other files' findings
        return FileResult(
            path,
            error=FileError(
                path,
                f"internal error while checking this file ({type(error).__name__}: {error}); please report it",
                internal=True,
            ),
        )
    if noqa:
        findings = without_suppressed(findings, text)
    return FileResult(path, sorted(findings))


def _check(
    module: cst.Module, path: str, rules: list[type[Rule]], options: RuleOptions
) -> list[Finding]:
    facts = ModuleFacts(module, path)
    findings = []
    for rule in rules:
        for report in rule(options).check(facts):
            where = facts.position(report.node)
            findings.append(
                Finding(
                    path,
                    where.start.line,
                    where.start.column + 1,
                    where.end.line,
                    where.end.column + 1,
                    rule.code,
                    rule.name,
                    report.message,
                )
            )
    return findings


def _syntax_error(text: str, path: str, error: cst.ParserSyntaxError) -> FileError:
    """Where the syntax error is, as Python itself says it: LibCST's native parser often reports
    the line after the mistake (`def f(:` on line 3 comes back as line 4)."""
    import ast  # only on this failure path

    try:
        compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        if python_error.lineno is not None:
            return FileError(path, f"cannot parse: {python_error.msg}", python_error.lineno, python_error.offset)
    except (RecursionError, MemoryError, ValueError):
        pass
    # Python accepts what LibCST does not (newer syntax), or gave no position: LibCST's account
    message = " ".join(error.message.split())
    return FileError(path, f"cannot parse: {message}", error.raw_line, error.raw_column + 1)
