"""The cheap first steps of checking a file, before anything needs LibCST: decode, the prefilter,
the size limit.

This module imports neither LibCST nor a fact nor a rule, so a run whose files are all settled
here or by the cache never pays for those imports (about 0.2 s of CPU).
"""

from __future__ import annotations

from typing import Collection

from mplint import apis
from mplint.findings import FileError, FileResult
from mplint.rules import rule_defaults, thread_rules
from mplint.source import SourceError, decode

#: LibCST needs about 10 s and 600 MB per MB of dense code: larger files are reported, not parsed
MAX_SOURCE_CHARS = 2 * 2**20


def enabled_codes(codes: Collection[str] | None) -> frozenset[str]:
    """The codes of the rules to run: `codes` (None: the rules enabled by default) that name a rule."""
    known = rule_defaults()
    if codes is None:
        return frozenset(code for code, enabled in known.items() if enabled)
    return frozenset(code for code in codes if code in known)


def _stale_noqa(text: str, path: str, enabled: frozenset[str]) -> list:
    """MPL100 in a file that is not parsed: no rule can report anything there, so every judged
    `# noqa: MPL...` code is stale. (The rule's module is light; it is imported only here.)"""
    if not enabled or "noqa" not in text.lower():
        return []
    from mplint.noqa import without_suppressed
    from mplint.rules.unused_noqa import UnusedNoqa, unused_noqa

    if UnusedNoqa.code not in enabled:
        return []
    return without_suppressed(unused_noqa(text, path, [], enabled), text)


def precheck(
    source: bytes | str, path: str, codes: Collection[str] | None = None, *, parse: bool = False
) -> FileResult | tuple[str, frozenset[str]]:
    """Gives the finished result for a file that needs no parse (it cannot be decoded, or it cannot
    contain a finding, or no rule is enabled, or it is too large), else the decoded text and the
    codes of the rules to run. The runner calls it before deciding whether a file is worth a cache
    look-up or a worker process. With `parse` the prefilter is passed over: the file is wanted for
    what it tells the other modules of its project (its summary), or for what they tell it.
    """
    try:
        text = source if isinstance(source, str) else decode(source)
    except SourceError as error:
        return FileResult(path, error=FileError(path, error.message, error.line, error.column))
    enabled = enabled_codes(codes)
    if not parse and (
        not enabled or not apis.may_contain_findings(text, threads=not enabled.isdisjoint(thread_rules()))
    ):
        return FileResult(path, _stale_noqa(text, path, enabled))
    if len(text) > MAX_SOURCE_CHARS:
        return FileResult(path, error=FileError(
            path,
            f"too large to check ({len(text) / 2**20:.1f} MB; mplint parses files up to "
            f"{MAX_SOURCE_CHARS // 2**20} MB)",
        ))
    return text, enabled
