"""mplint: a linter for Python multiprocessing mistakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mplint.findings import FileError, FileResult, Finding

__version__ = "0.1.0"

__all__ = ["FileError", "FileResult", "Finding", "__version__", "lint_source"]

if TYPE_CHECKING:
    from mplint.engine import lint_source


def __getattr__(name: str) -> Any:
    # The engine imports LibCST (~150 ms): only load it when it is used, so that
    # `mplint --version` and `mplint --help` stay quick.
    if name == "lint_source":
        from mplint.engine import lint_source

        return lint_source
    raise AttributeError(f"module 'mplint' has no attribute {name!r}")
