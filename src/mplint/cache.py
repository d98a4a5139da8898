"""Results of earlier runs, keyed by everything that decides them, so unchanged files are not parsed.

The key is a hash of the file's bytes and path (a rule may look at the file name), the enabled
codes, the rule options, and the linter itself: its version, the modification times of its own
source files (so that an edited checkout of mplint never reads stale results), LibCST's version and
the Python version. An entry is a small JSON file written whole (temporary file, then rename), so
concurrent runs cannot leave half an entry; an entry that cannot be read is treated as missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Collection

from mplint import __version__
from mplint.findings import FileError, FileResult, Finding
from mplint.options import RuleOptions

ENV_VAR = "MPLINT_CACHE_DIR"
DEFAULT_FOLDER = ".mplint_cache"
_FORMAT = "1"  # bump when the entry layout changes


def _libcst_version() -> str:
    """LibCST's version file as text, read without importing LibCST (a run that finds every file in
    the cache never imports it)."""
    spec = importlib.util.find_spec("libcst")
    if spec is None or not spec.submodule_search_locations:
        return "?"
    folder = Path(next(iter(spec.submodule_search_locations)))
    try:
        return f"{folder}\n{(folder / '_version.py').read_text(encoding='utf-8')}"
    except OSError:
        return f"{folder}:?"


def _linter_fingerprint() -> str:
    package = Path(__file__).parent
    stamps = sorted(
        f"{path.relative_to(package)}:{path.stat().st_mtime_ns}" for path in package.rglob("*.py")
    )
    parts = [_FORMAT, __version__, _libcst_version(), sys.version, *stamps]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Cache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._salt = _linter_fingerprint()
        self._usable = True

    @classmethod
    def default_folder(cls, root: Path) -> Path:
        return Path(os.environ.get(ENV_VAR) or root / DEFAULT_FOLDER)

    def key(self, source: bytes, path: str, codes: Collection[str], options: RuleOptions) -> str:
        digest = hashlib.sha256()
        for part in (self._salt, path, ",".join(sorted(codes)), repr(options)):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        digest.update(source)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key[2:]}.json"

    def get(self, key: str, path: str) -> FileResult | None:
        try:
            data = json.loads(self._entry(key).read_text(encoding="utf-8"))
            findings = [Finding(path, *row) for row in data["findings"]]
            error = FileError(path, *data["error"]) if data["error"] is not None else None
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing, or written by something else: check the file again
        return FileResult(path, findings, error)

    def put(self, key: str, result: FileResult) -> None:
        if not self._usable:
            return
        error = result.error
        data = {
            "findings": [
                [f.line, f.column, f.end_line, f.end_column, f.code, f.name, f.message]
                for f in result.findings
            ],
            "error": [error.message, error.line, error.column] if error is not None else None,
        }
        import tempfile  # only a run that writes pays for it

        entry = self._entry(key)
        try:
            self._prepare(entry.parent)
            handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file)
            os.replace(temporary, entry)
        except OSError:
            # a read-only or full disk costs speed, never findings: go on without the cache
            self._usable = False

    def _prepare(self, folder: Path) -> None:
        if not self.folder.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            # keep the cache out of version control and out of backups, as other tools' caches are
            (self.folder / ".gitignore").write_text("# created by mplint\n*\n", encoding="utf-8")
            (self.folder / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# created by mplint\n", encoding="utf-8"
            )
        folder.mkdir(exist_ok=True)
