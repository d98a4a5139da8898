"""Fixing one source: what `--fix` does to a file and what an editor asks for.

    fixes_for(result, unsafe)            the findings of a `lint_source` result that carry a fix
                                          `--fix` would apply
    apply_fixes(source, fixes)           one round: the fixes that do not overlap an earlier one,
                                          made; gives the new source and the fixes made
    fix_source(source, path, ...)        every applicable fix, in rounds, each round checked; gives
                                          a `FixOutcome`

A round is kept only when its result parses and has no finding the source before it did not have
(compared by rule and message, with numbers left out since lines move; a rule a fix reveals, such
as MPL002 once MPL001's guard is in place, may report the fixed code); otherwise its first fix
alone is tried, and a fix that fails alone is not tried again. Rounds go on until no applicable fix
is left, so fixes whose edits touch are made one after the other, each on the code the previous one
left. Applying the result again changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Collection, Iterable, Sequence

from mplint.findings import FileResult, Finding
from mplint.fixes import Edit, Fix
from mplint.fixes.edits import apply_edits, overlapping
from mplint.fixes.rewrite import compiles
from mplint.options import RuleOptions

#: a bound on rounds, far above what real files need (each round makes or refuses one fix at least)
MAX_ROUNDS = 100


@dataclass
class FixOutcome:
    """What fixing a source did."""

    #: the source as given (decoded)
    original: str
    #: the fixed source (equal to `original` when nothing was fixed)
    source: str
    #: the findings of the source as given
    before: FileResult
    #: the findings of the fixed source
    after: FileResult
    #: the fixes made, in the order they were made (each on the source the previous ones left)
    applied: list[Fix] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.source != self.original

    @property
    def fixed_count(self) -> int:
        """Findings the fixes removed."""
        return max(0, len(self.before.findings) - len(self.after.findings)) if self.changed else 0


def fixes_for(findings: Iterable[Finding], unsafe: bool = False) -> list[Finding]:
    """The findings whose fix `--fix` applies (`--unsafe-fixes` given or not)."""
    return [f for f in findings if f.fix is not None and f.fix.applies(unsafe)]


def apply_fixes(source: str, fixes: Sequence[Fix]) -> tuple[str, list[Fix]]:
    """Makes the fixes whose edits do not touch an edit of an earlier one; the others are left for
    another round (their edits are of `source`, which the made ones changed)."""
    chosen: list[Fix] = []
    edits: list[Edit] = []
    for fix in fixes:
        if fix.edits and not overlapping(fix.edits, edits):
            chosen.append(fix)
            edits.extend(fix.edits)
    return apply_edits(source, edits), chosen


def _shape(finding: Finding) -> tuple[str, str]:
    return finding.code, re.sub(r"\d+", "#", finding.message)


def _no_new_finding(before: FileResult, after: FileResult, made: Sequence[Fix]) -> bool:
    if after.error is not None:
        return False
    revealed = {code for fix in made for code in fix.reveals}
    had = Counter(_shape(f) for f in before.findings)
    has = Counter(_shape(f) for f in after.findings if f.code not in revealed)
    return not (has - had)


def _key(finding: Finding) -> tuple[str, str, str]:
    assert finding.fix is not None
    return finding.code, _shape(finding)[1], finding.fix.title


def fix_source(
    source: str,
    path: str = "<stdin>",
    *,
    codes: Collection[str] | None = None,
    options: RuleOptions | None = None,
    unsafe: bool = False,
    noqa: bool = True,
) -> FixOutcome:
    """Applies every fix `--fix` would (with `unsafe`, the unsafe ones too) to `source`.

    `codes`, `options` and `noqa` are as for `lint_source`. Never raises for bad input: a source
    that cannot be checked comes back unchanged with its error in `before` and `after`.
    """
    from mplint.engine import lint_source

    def lint(text: str) -> FileResult:
        return lint_source(text, path, codes=codes, noqa=noqa, options=options)

    before = lint(source)
    outcome = FixOutcome(source, source, before, before)
    if before.error is not None:
        return outcome
    refused: set[tuple[str, str, str]] = set()
    for _ in range(MAX_ROUNDS):
        candidates = [f for f in fixes_for(outcome.after.findings, unsafe) if _key(f) not in refused]
        if not candidates:
            break
        text, made = apply_fixes(outcome.source, [f.fix for f in candidates])  # type: ignore[misc]
        result = lint(text) if compiles(text) else None
        if result is None or not _no_new_finding(outcome.after, result, made):
            first = candidates[0]
            text, made = apply_fixes(outcome.source, [first.fix])  # type: ignore[list-item]
            result = lint(text) if compiles(text) else None
            if result is None or not _no_new_finding(outcome.after, result, made):
                refused.add(_key(first))
                continue
        if text == outcome.source:
            refused.update(_key(f) for f in candidates)
            continue
        outcome.source, outcome.after = text, result
        outcome.applied += made
    return outcome
