"""The cheap first steps of checking a file, before anything needs LibCST: decode, the prefilter,
the size limit.

This module imports neither LibCST nor a fact nor a rule, so a run whose files are all settled
here or by the cache never pays for those imports (about 0.2 s of CPU).
"""

from __future__ import annotations

import functools
import re
from typing import Collection

from mplint import prefilter
from mplint.findings import FileError, FileResult
from mplint.rules import rule_defaults, thread_rules
from mplint.source import SourceError, decode, reads_as_ascii

#: LibCST needs about 10 s and 600 MB per MB of dense code: larger files are reported, not parsed
MAX_SOURCE_CHARS = 2 * 2**20


def enabled_codes(codes: Collection[str] | None) -> frozenset[str]:
    """The codes of the rules to run: `codes` (None: the rules enabled by default) that name a rule."""
    known = rule_defaults()
    if codes is None:
        return frozenset(code for code, enabled in known.items() if enabled)
    return frozenset(code for code in codes if code in known)


@functools.lru_cache(maxsize=64)
def _enabled(codes: frozenset[str] | None) -> tuple[frozenset[str], bool]:
    """`enabled_codes(codes)`, and whether a rule that judges threads is among them: made once
    per set of codes (a run's files mostly share one), not once per file."""
    enabled = enabled_codes(codes)
    return enabled, not enabled.isdisjoint(thread_rules())


#: what each comment `noqa.NOQA` reads starts with (that module is imported only past this test):
#: one search of a file where lowering all of it to look for "noqa" cost three times as much
_NOQA_START = re.compile(r"# noqa", re.IGNORECASE), re.compile(rb"# noqa", re.IGNORECASE)


def _stale_noqa(source: bytes | str, path: str, enabled: frozenset[str]) -> list:
    """MPL100 in a file that is not parsed: no rule can report anything there, so every judged
    `# noqa: MPL...` code is stale. (The rule's module is light; it is imported only here.)
    `source`: the text, or the bytes of an ASCII text (`reads_as_ascii`)."""
    if not enabled or _NOQA_START[isinstance(source, bytes)].search(source) is None:  # type: ignore[arg-type]
        return []
    from mplint.noqa import without_suppressed
    from mplint.rules.unused_noqa import UnusedNoqa, unused_noqa

    if UnusedNoqa.code not in enabled:
        return []
    text = source.decode("ascii") if isinstance(source, bytes) else source
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
    # an ASCII file is judged on its bytes, and decoded only when it is kept (most are not)
    ascii_bytes = isinstance(source, bytes) and reads_as_ascii(source)
    try:
        text = source if isinstance(source, str) or ascii_bytes else decode(source)
    except SourceError as error:
        return FileResult(path, error=FileError(path, error.message, error.line, error.column))
    enabled, threads = _enabled(codes if codes is None or isinstance(codes, frozenset) else frozenset(codes))
    if not parse and (not enabled or not prefilter.may_contain_findings(text, threads=threads)):
        return FileResult(path, _stale_noqa(text, path, enabled))
    if isinstance(text, bytes):
        text = text.decode("ascii")
    if len(text) > MAX_SOURCE_CHARS:
        return FileResult(path, error=FileError(
            path,
            f"too large to check ({len(text) / 2**20:.1f} MB; mplint parses files up to "
            f"{MAX_SOURCE_CHARS // 2**20} MB)",
        ))
    return text, enabled
