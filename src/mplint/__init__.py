"""mplint: a linter for Python multiprocessing mistakes."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported: the command memo's answer imports nothing else)
if TYPE_CHECKING:
    from typing import Any

    from mplint.engine import lint_source
    from mplint.findings import FileError, FileResult, Finding

__version__ = "0.1.0"

__all__ = ["FileError", "FileResult", "Finding", "__version__", "lint_source"]


def __getattr__(name: str) -> Any:
    # The engine imports LibCST (~150 ms): only load it when it is used, so that
    # `mplint --version` and `mplint --help` stay quick.
    if name == "lint_source":
        from mplint.engine import lint_source

        return lint_source
    if name in ("FileError", "FileResult", "Finding"):  # the findings' dataclasses, when asked for
        from mplint import findings

        return getattr(findings, name)
    raise AttributeError(f"module 'mplint' has no attribute {name!r}")
