"""Checking one file: decode -> prefilter (`mplint.precheck`) -> Python's parse for partial parsing
(`mplint.partial`), else a nesting check (`mplint.nesting`) -> parse once with LibCST -> shared
facts -> rules -> located findings."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import gc
import re
import sys
import threading
import warnings
from typing import Callable, Collection, Iterator, TypeVar

import libcst as cst

from mplint import nesting, partial
from mplint.facts import ModuleFacts
from mplint.findings import FileError, FileResult, Finding
from mplint.fixes import Fix, Planned, Rewrite
from mplint.fixes.reads import python_tree_given
from mplint.fixes.rewrite import locate
from mplint.noqa import without_suppressed
from mplint.options import DEFAULT_OPTIONS, RuleOptions
from mplint.precheck import MAX_SOURCE_CHARS, enabled_codes, precheck
from mplint.python_tree import python_tree
from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts
from mplint.project.summary import Summary
from mplint.project.readings import summarise as summary_of
from mplint.rules import Rule, all_rules
from mplint.rules.unused_noqa import UnusedNoqa, unused_noqa
from mplint.source import without_form_feed_indents

__all__ = ["MAX_SOURCE_CHARS", "enabled_rules", "lint_source", "precheck"]

T = TypeVar("T")

def enabled_rules(codes: Collection[str] | None) -> list[type[Rule]]:
    wanted = enabled_codes(codes)
    return [rule for rule in all_rules() if rule.code in wanted]


def lint_source(
    source: bytes | str,
    path: str = "<stdin>",
    *,
    codes: Collection[str] | None = None,
    noqa: bool = True,
    options: RuleOptions | None = None,
    project: ProjectFacts = NO_PROJECT_FACTS,
    fixes: bool = True,
) -> FileResult:
    """Check one file's source.

    `codes` are the enabled rule codes (None: the rules enabled by default). With `noqa` false the
    findings are not filtered by `# noqa` comments (the flake8 plugin leaves that to flake8).
    `options` are the settings some rules read (None: the defaults). `project` is what the other
    modules of the file's project do (`mplint.project`), for the calls the file makes into them.
    With `fixes` false no finding's fix is built (`Finding.fix` is None, `FileResult.fixes` False):
    for a consumer that never shows one (flake8, an editor's diagnostics), at less cost.
    Never raises: what cannot be checked (bad input, or a bug of mplint's) comes back as
    `FileResult.error`.

    A file that does not import from the modules of the API table cannot have a finding and is
    not parsed, so a syntax error in it goes unreported: mplint is not a syntax checker.
    """
    return check_and_summarise(
        source, path, codes=codes, noqa=noqa, options=options, project=project, fixes=fixes
    )[0]


def check_and_summarise(
    source: bytes | str,
    path: str = "<stdin>",
    *,
    codes: Collection[str] | None = None,
    noqa: bool = True,
    options: RuleOptions | None = None,
    project: ProjectFacts = NO_PROJECT_FACTS,
    summarise: bool = False,
    fixes: bool = True,
) -> tuple[FileResult, Summary | None]:
    """`lint_source`, and with `summarise` the module's summary for the other modules of its
    project, made from the same parse (None when the module cannot be parsed)."""
    try:
        return _lint(source, path, codes, noqa, options, project, summarise, fixes)
    except Exception as error:  # the one net: a bug of ours costs this file, never the run
        return FileResult(
            path,
            error=FileError(
                path,
                f"internal error while checking this file ({type(error).__name__}: {error}); please report it",
                internal=True,
            ),
        ), None


def _lint(
    source: bytes | str,
    path: str,
    codes: Collection[str] | None,
    noqa: bool,
    options: RuleOptions | None,
    project: ProjectFacts,
    summarise: bool,
    fixes: bool,
) -> tuple[FileResult, Summary | None]:
    ready = precheck(source, path, codes, parse=summarise or bool(project))
    if isinstance(ready, FileResult):
        return ready, None
    text, codes_to_run = ready
    rules = enabled_rules(codes_to_run)
    with _fewer_collections():
        checked = _parse_and_check(text, path, rules, options or DEFAULT_OPTIONS, project, summarise, fixes)
    if isinstance(checked, FileResult):
        return checked, None
    findings, summary = checked
    if UnusedNoqa.code in codes_to_run:  # run last: it reads the other rules' findings
        findings = findings + unused_noqa(text, path, findings, codes_to_run)
    if noqa:
        findings = without_suppressed(findings, text)
    return FileResult(path, sorted(findings), fixes=fixes), summary


#: the collector's first-generation threshold while a file is parsed and checked (Python's: 700)
PARSE_GC_THRESHOLD = 10_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """LibCST allocates millions of small objects, almost none of them in reference cycles; at
    Python's threshold the collector traverses the young ones every 700 allocations, which costs
    a tenth of a parse. Collecting less often (not never: peak memory would grow by half) saves
    most of that; the threshold is given back afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], PARSE_GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _parse_and_check(
    text: str,
    path: str,
    rules: list[type[Rule]],
    options: RuleOptions,
    project: ProjectFacts,
    summarise: bool,
    fixes: bool,
) -> tuple[list[Finding], Summary | None] | FileResult:
    # Partial parsing reads Python's tree first; where Python parsed the file, its parser has
    # refused what would hurt LibCST's, and the nesting check is not needed. A file summarised for
    # its project, or checked with what it tells it, is parsed whole (a definition may be used
    # from another module), but Python's tree still clears it of the check, and gives the facts
    # the lines a summary records (`facts/lines.py` would parse it again for them)
    tree: ast.Module | None = None
    if summarise or project:
        tree = python_tree(text)
        python_accepts, blanked = tree is not None, None
    else:
        python_accepts, blanked = partial.read(text, threads=_threads_matter(rules))
    verdict = nesting.Verdict(nesting.SAFE) if python_accepts else nesting.scan(text)
    if verdict.kind == nesting.TOO_DEEP:
        return FileResult(path, error=FileError(
            path, "cannot parse: too many nested parentheses", verdict.line, verdict.column
        ))
    if verdict.kind == nesting.ASK_PYTHON:
        refused = _python_refuses(text, path)
        if refused is not None:
            return FileResult(path, error=refused)
    if blanked is not None:
        try:
            # fixes are not built on the blanked code (it is not the file's): a check that wants
            # them and has a finding that carries one is made again on the whole file
            findings, summary, fixable = _parse_text(blanked, path, rules, options, project, summarise, False)
            if not (fixes and fixable):
                return findings, summary  # the findings are the same either way
        except (cst.ParserSyntaxError, RecursionError):
            pass  # the whole file decides
    try:
        return _parse_text(text, path, rules, options, project, summarise, fixes, tree)[:2]
    except cst.ParserSyntaxError as error:
        # Python's words for a syntax error are the ones users know; where Python accepts the code
        # (or was asked already), LibCST does not support it
        refused = _python_refuses(text, path) if verdict.kind == nesting.SAFE and not python_accepts else None
        return FileResult(path, error=refused or _unsupported_syntax(path, error))
    except RecursionError:
        return FileResult(path, error=FileError(path, "cannot check: the code is nested too deeply"))


def _threads_matter(rules: list[type[Rule]]) -> bool:
    """Whether code that only uses threads is relevant to partial parsing: a rule that judges
    threads runs. (Fork-after-threads asks only about the threads that code which forks reaches
    or is reached from, which partial parsing keeps.)"""
    return any(rule.judges_threads for rule in rules)


def _parse_text(
    text: str,
    path: str,
    rules: list[type[Rule]],
    options: RuleOptions,
    project: ProjectFacts,
    summarise: bool,
    fixes: bool,
    tree: ast.Module | None = None,
) -> tuple[list[Finding], Summary | None, bool]:
    """Parse and check (the fixes built with `fixes`), and whether a rule reported a fix; raises
    LibCST's syntax error, or RecursionError where even a deep stack does not do. `tree` is
    Python's of `text`, when it was made."""
    # Deep but valid code (a long `elif` chain, thousands of implicitly joined strings) can
    # exceed the recursion limit: that step is run again with room for it.
    global _parsed_chars
    for_libcst, column_shifts = without_form_feed_indents(text)
    _parsed_chars += len(for_libcst)
    try:
        module = _parse_module(for_libcst)
    except RecursionError:
        module = _with_deep_stack(_parse_module, for_libcst)
    # the facts' lines are read from Python's tree of the text LibCST parsed (form feeds cut from
    # indentations change it)
    work = (module, path, rules, options, project, summarise, for_libcst, fixes, None if column_shifts else tree)
    try:
        findings, summary, fixable = _check(*work)
    except RecursionError:
        findings, summary, fixable = _with_deep_stack(_check, *work)
    if column_shifts:  # the fixes' edits are of the text without the form feeds: dropped
        findings = [_shifted(finding, column_shifts) for finding in findings]
    return findings, summary, fixable


def _parse_module(text: str) -> cst.Module:
    """LibCST's parse of `text`, without validating each node it makes. Every LibCST node checks
    its own fields when it is made (`CSTNode.__post_init__` calls its `_validate`: whitespace
    against regular expressions, parentheses paired, ...), which serves code that builds trees;
    what its parser builds, its grammar has made valid (validation has no other effect: it
    raises or returns). That is a fifth of the parse (joblib's parallel.py: 70 -> 56 ms). The
    switch is the class's, so the process's: the lock makes the parses of threads that check at
    once take turns; mplint builds no node meanwhile (a check runs in one thread; the deep
    stack's thread parses while its caller waits), and validation is back before anything else
    runs."""
    with _validation_lock:
        node_class = cst.CSTNode
        validating = node_class.__dict__.get("__post_init__")
        node_class.__post_init__ = _made  # type: ignore[method-assign]
        try:
            return cst.parse_module(text)
        finally:
            if validating is not None:
                node_class.__post_init__ = validating  # type: ignore[method-assign]
            else:
                del node_class.__post_init__


def _made(node: cst.CSTNode) -> None:
    """A node the parser made: valid by its grammar."""


_validation_lock = threading.Lock()


#: characters LibCST has parsed since `take_parsed_chars` was last asked
_parsed_chars = 0


def take_parsed_chars() -> int:
    """How many characters LibCST has parsed (what partial parsing kept) since the last call."""
    global _parsed_chars
    parsed, _parsed_chars = _parsed_chars, 0
    return parsed


def _python_refuses(text: str, path: str) -> FileError | None:
    """Python's own parser, for the files that `nesting.scan` cannot clear (its limit of about
    3,000 levels of operators keeps LibCST's parser from overflowing the C stack), and to word the
    error when LibCST cannot parse a file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not ours to report
            compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return FileError(path, f"cannot parse: {error.msg}", error.lineno, error.offset)
    except (RecursionError, MemoryError):
        return FileError(path, "cannot parse: the code is nested too deeply for Python's parser")
    except ValueError as error:  # e.g. null bytes in a str handed to lint_source
        return FileError(path, f"cannot parse: {error}")
    return None


#: room for the deepest code Python compiles (its parser stops at about 3,000 levels, each of which
#: costs several frames in LibCST's code generation and in the rules' recursive helpers)
_DEEP_RECURSION_LIMIT = 60_000
_DEEP_STACK_BYTES = 512 * 1024 * 1024  # address space; only the pages used are committed
_deep_lock = threading.Lock()


def _with_deep_stack(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a thread with a large stack and a raised recursion limit."""
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as error:  # handed back to the caller
            outcome.append((False, error))

    with _deep_lock:  # the recursion limit is the interpreter's: one deep check at a time
        limit = sys.getrecursionlimit()
        stack_size = threading.stack_size(_DEEP_STACK_BYTES)
        try:
            sys.setrecursionlimit(max(limit, _DEEP_RECURSION_LIMIT))
            thread = threading.Thread(target=run, name="mplint-deep-check")
            try:
                thread.start()
            except RuntimeError:  # no thread can be had: report the file as too deep
                raise RecursionError("no room for a deeper check") from None
            threading.stack_size(stack_size)
            thread.join()
        finally:
            threading.stack_size(stack_size)
            sys.setrecursionlimit(limit)
    succeeded, value = outcome[0]
    if not succeeded:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


def _shifted(finding: Finding, shifts: dict[int, int]) -> Finding:
    return dataclasses.replace(
        finding,
        fix=None,
        column=finding.column + shifts.get(finding.line, 0),
        end_column=finding.end_column + shifts.get(finding.end_line, 0),
    )


def _check(
    module: cst.Module,
    path: str,
    rules: list[type[Rule]],
    options: RuleOptions,
    project: ProjectFacts,
    summarise: bool,
    source: str | None = None,
    fixes: bool = True,
    tree: ast.Module | None = None,
) -> tuple[list[Finding], Summary | None, bool]:
    """The findings (with `fixes`, each with its fix built), the summary when asked, and whether
    a rule reported a fix (built or not); `tree` is Python's of `source`, when it was made."""
    facts = ModuleFacts(module, path, source, project, python_tree=tree)
    try:
        if not fixes or tree is None or source is None:
            return _checked(facts, module, path, rules, options, summarise, source, fixes)
        with python_tree_given(source, tree):  # the guard fix's reading parses no text again
            return _checked(facts, module, path, rules, options, summarise, source, fixes)
    finally:
        facts.release()


def _checked(
    facts: ModuleFacts,
    module: cst.Module,
    path: str,
    rules: list[type[Rule]],
    options: RuleOptions,
    summarise: bool,
    source: str | None,
    fixes: bool,
) -> tuple[list[Finding], Summary | None, bool]:
    findings = []
    fixable = False
    for rule in rules:
        for report in rule(options).check(facts):
            fixable = fixable or report.fix is not None
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
                    _located_fix(module, report.fix, source, facts) if fixes and report.fix is not None else None,
                )
            )
    return findings, (summary_of(facts, summarise) if summarise else None), fixable


def _located_fix(
    module: cst.Module, fix: Rewrite | Planned, source: str | None = None, facts: ModuleFacts | None = None
) -> Fix | None:
    """A fix that cannot be built (or planned) is dropped: the finding is reported all the same
    (`source`: the text `module` was parsed from, its code). The fixed module's code reuses what
    the facts' positions generated of the module (`facts`: the module's, which located the
    finding already)."""
    try:
        rewrite = fix.plan() if isinstance(fix, Planned) else fix
        known = facts.top_level_code if facts is not None else None
        return locate(module, rewrite, source, known) if rewrite is not None else None
    except RecursionError:
        raise
    except Exception:
        return None


def _unsupported_syntax(path: str, error: cst.ParserSyntaxError) -> FileError:
    """Python compiled the file but LibCST cannot parse it (a form LibCST does not support)."""
    message = " ".join(error.message.split())
    if len(message) > 160:
        message = message[:157] + "..."
    # the native parser's own account of the line is more reliable than its raw_line
    where = re.search(r"error at (\d+):", error.message)
    line = int(where.group(1)) if where else error.raw_line
    return FileError(path, f"cannot parse: Python accepts this code but LibCST does not ({message})", line)
