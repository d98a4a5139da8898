"""Fixes: the edits a finding carries, which `--fix` applies.

A rule that knows the one right edit reports it with its finding: `Report(node, message,
fix=Rewrite(...))`. A `Rewrite` is written against the LibCST tree (it returns the fixed module, so
every comment and blank line is kept); the engine turns it into a located `Fix`, the text edits
between the module's code and the fixed code, with 1-based lines and columns as findings have them.
A fix whose plan costs a reading of the whole module (the guard's) is reported as `Planned`: the
plan is made only when the fix is built.

Fixes are built only for a consumer that shows them (`--fix`, `--diff`, the text output's `[*]`
and its "fixable" line, JSON, SARIF, an editor's code actions): a check asked without them
(`lint_source(..., fixes=False)`: flake8, the language server's diagnostics) neither locates a
rewrite nor makes a plan, and its result says so (`FileResult.fixes`).

    mplint.fixes.edits      the text edits between two versions of a source, and applying them
    mplint.fixes.rewrite    small LibCST helpers the rules build their rewrites with
    mplint.fixes.guard      moving module-level work under `if __name__ == "__main__":`
    mplint.fixes.reads      the guard's reading: which top-level statements read which (Python's ast)
    mplint.fixes.apply      fixing one source: rounds, checks, the API editors and --fix use
    mplint.fixes.files      fixing files on disk: atomic writes, unified diffs
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import libcst as cst

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column), exclusive, with `text`.

    Lines and columns are 1-based and count code points, as findings' do; an insertion has
    start == end."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "text": self.text,
        }


@dataclass(frozen=True)
class Fix:
    """What a finding's fix changes: a title for menus, whether it is safe, and the edits."""

    title: str
    applicability: str  # SAFE or UNSAFE
    edits: tuple[Edit, ...]
    #: rules that look at the fixed code only once it is fixed (MPL002 waits for MPL001's guard):
    #: their findings after the fix are not new ones
    reveals: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return self.applicability == SAFE

    def applies(self, unsafe: bool) -> bool:
        """Whether `--fix` applies it (`--unsafe-fixes` given or not)."""
        return self.safe or unsafe

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": self.title,
            "applicability": self.applicability,
            "edits": [edit.as_dict() for edit in self.edits],
        }
        if self.reveals:
            data["reveals"] = list(self.reveals)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fix:
        edits = tuple(
            Edit(e["line"], e["column"], e["end_line"], e["end_column"], e["text"]) for e in data["edits"]
        )
        return cls(str(data["title"]), str(data["applicability"]), edits, tuple(data.get("reveals", ())))


@dataclass(frozen=True)
class Rewrite:
    """A fix as a rule builds it: `transform` gets the module and gives the fixed module."""

    title: str
    transform: Callable[[cst.Module], cst.Module]
    safe: bool = True
    #: see Fix.reveals
    reveals: tuple[str, ...] = ()

    @property
    def applicability(self) -> str:
        return SAFE if self.safe else UNSAFE


@dataclass(frozen=True)
class Planned:
    """A fix that is known only once planned: `plan()` gives the rewrite, or None when there is
    none. Made only when the fix is built; a finding reported with one counts as fixable only if
    the plan gives a rewrite that locates (see `mplint.engine`)."""

    plan: Callable[[], Rewrite | None]


__all__ = ["SAFE", "UNSAFE", "Edit", "Fix", "Planned", "Rewrite"]
