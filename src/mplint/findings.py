"""What checking one file produces: findings, or the reason it could not be checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mplint.fixes import Fix


@dataclass(frozen=True, order=True)
class Finding:
    """One rule violation. Lines and columns are 1-based; the end is exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    #: the edits that fix it, when the rule knows them (`--fix` applies the safe ones)
    fix: Fix | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FileError:
    """Why a file could not be checked, as one line a user can act on."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    #: a bug of mplint's rather than a property of the file: never cached, so a fix takes effect
    internal: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: FileError | None = None
    #: whether the findings' fixes were built; False: checked without them (flake8, an editor's
    #: diagnostics), so a finding without one may still have one, and a consumer that shows fixes
    #: must not take this result
    fixes: bool = field(default=True, compare=False)

    def serves(self, fixes: bool) -> bool:
        """Whether this result will do for a consumer that shows fixes (`fixes`) or not: a result
        without findings has no fix to miss."""
        return self.fixes or not fixes or not self.findings
