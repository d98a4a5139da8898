"""mplint: a linter for Python multiprocessing mistakes."""

__version__ = "0.1.0"

from mplint.engine import lint_source  # noqa: E402  (after __version__: engine imports it)
from mplint.findings import FileError, FileResult, Finding  # noqa: E402

__all__ = ["FileError", "FileResult", "Finding", "__version__", "lint_source"]
