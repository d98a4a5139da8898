"""Results of earlier runs, keyed by everything that decides them, so unchanged files are not parsed.

The key is a hash of the file's bytes and path (a rule may look at the file name), the enabled
codes, the rule options, and the linter itself: its version, the modification times of its own
source files (so that an edited checkout of mplint never reads stale results), LibCST's version and
the Python version. A module's own entry holds its result checked without its project's facts, what
that check asked of them (`project/asked.py`) and its summary, all from one parse; a result checked
with the project's facts has an entry of its own, keyed by them too. An entry made by a check that
built no fix (flake8, an editor's diagnostics) says so (`"fixes": null`): it serves only consumers
that show no fix, and a run that shows them checks the file again and replaces it. An entry is a small JSON file
written whole (temporary file, then rename), so concurrent runs cannot leave half an entry; an
entry that cannot be read is treated as missing.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Collection, NamedTuple

from mplint import __version__
from mplint.cache_folder import default_folder
from mplint.file_index import FileIndex
from mplint.findings import FileError, FileResult, Finding
from mplint.identity import at_start
from mplint.options import RuleOptions
from mplint.whole_files import write_whole

if TYPE_CHECKING:
    from mplint.project.asked import Asked
    from mplint.project.summary import Summary

_FORMAT = "4"  # bump when the entry layout changes


def _linter_fingerprint() -> str:
    from mplint.digests import sha256  # (and json below: imported by a run that uses an entry)

    libcst, stamps = at_start()  # (as the command memo's record of this run read them)
    parts = [_FORMAT, __version__, libcst, sys.version, *stamps]
    return sha256("\n".join(parts).encode()).hexdigest()


_FINDING_TYPES = (int, int, int, int, str, str, str)


def _is_int(value: object, minimum: int = 1) -> bool:
    return type(value) is int and value >= minimum


def _result(data: object, path: str) -> FileResult | None:
    """The result an entry holds, if it is exactly what `Cache.put` writes; else None, so that an
    entry damaged or written by something else costs a parse, never a wrong or missing finding."""
    if not isinstance(data, dict) or set(data) != {"findings", "error", "fixes"}:
        return None
    rows, error, fixes = data["findings"], data["error"], data["fixes"]
    built = fixes is not None  # null: checked without building fixes
    if fixes is None:
        fixes = [None] * len(rows) if isinstance(rows, list) else None
    if not isinstance(rows, list) or not isinstance(fixes, list) or len(fixes) != len(rows):
        return None
    if any(fix is not None for fix in fixes):
        from mplint.fixes import Fix  # only an entry that holds a fix needs it
    try:
        fix_objects = [Fix.from_dict(fix) if fix is not None else None for fix in fixes]
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    for row in rows:
        if not (isinstance(row, list) and len(row) == len(_FINDING_TYPES)
                and all(type(value) is kind for value, kind in zip(row, _FINDING_TYPES))
                and all(_is_int(value) for value in row[:4])):
            return None
    if error is not None and not (
        isinstance(error, list) and len(error) == 3 and type(error[0]) is str
        and all(value is None or _is_int(value, 0) for value in error[1:])
    ):
        return None
    return FileResult(
        path,
        [Finding(path, *row, fix=fix) for row, fix in zip(rows, fix_objects)],
        FileError(path, *error) if error is not None else None,
        fixes=built,
    )


def _result_data(result: FileResult) -> dict[str, object]:
    error = result.error
    return {
        "findings": [
            [f.line, f.column, f.end_line, f.end_column, f.code, f.name, f.message]
            for f in result.findings
        ],
        "fixes": [f.fix.as_dict() if f.fix is not None else None for f in result.findings] if result.fixes else None,
        "error": [error.message, error.line, error.column] if error is not None else None,
    }


class Local(NamedTuple):  # (cheaper to define than a dataclass: every run with a cache imports it)
    """A module's own entry: its check without project facts and what the check asked of them;
    with `summarised`, its summary (None: it could not be parsed)."""

    result: FileResult
    asked: Asked
    summarised: bool = False
    summary: Summary | None = None


class Cache:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.fspath(folder)
        self._fingerprint: str | None = None
        self._usable = True

    @property
    def _salt(self) -> str:
        """The linter's fingerprint, taken when an entry is first looked up (a run that looks
        none up, standard input with nothing to parse, neither hashes nor lists mplint's sources)."""
        if self._fingerprint is None:
            self._fingerprint = _linter_fingerprint()
        return self._fingerprint

    @classmethod
    def default_folder(cls, root: str | os.PathLike[str]) -> str:
        return default_folder(root)

    def key(
        self, content: str | None, path: str, codes: Collection[str], options: RuleOptions, project: str = ""
    ) -> str:
        """The key of a file's result: `content` is the hash of its bytes
        (`file_index.content_digest`), `project` the digest of what its project tells it."""
        from mplint.digests import sha256

        digest = sha256()
        for part in (self._salt, path, ",".join(sorted(codes)), repr(options), project, content or ""):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return digest.hexdigest()

    def file_index(self) -> FileIndex:
        """What earlier runs of this linter learned of each file, by the file's stat."""
        return FileIndex(os.path.join(self.folder, f"index-{self._salt[:16]}"), self._prepare)

    def subfolder(self, name: str) -> str:
        """A folder of the cache's own (made, with the cache's marks, if it is not there yet)."""
        folder = os.path.join(self.folder, name)
        self._prepare(folder)
        return folder

    def _entry(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], f"{key[2:]}.json")

    def get(self, key: str, path: str, fixes: bool = True) -> FileResult | None:
        """The result an entry holds; None also when `fixes` are wanted and it was checked
        without them."""
        try:
            data = _read_json(self._entry(key))
        except (OSError, ValueError, RecursionError):
            return None  # missing, or not JSON (or nested too deeply to read): check the file again
        result = _result(data, path)
        return result if result is not None and result.serves(fixes) else None

    def local_key(
        self, content: str | None, path: str, codes: Collection[str], options: RuleOptions, noqa: bool = True
    ) -> str:
        """The key of a module's own entry: its check without project facts, what that check
        asked of them, and its summary (which depends on the code and the file's name only);
        `noqa` False: its findings are not filtered by `# noqa` comments (flake8 does that)."""
        return self.key(content, path, codes, options, "\0local" if noqa else "\0local\0noqa off")

    def get_local(self, key: str, path: str, fixes: bool = True) -> Local | None:
        """The module's own entry, if it is exactly what `put_local` writes (and, when `fixes`
        are wanted, was checked with them)."""
        try:
            data = _read_json(self._entry(key))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or set(data) != {"result", "asked", "summary"}:
            return None
        result = _result(data["result"], path)
        if result is None or not result.serves(fixes):
            return None
        from mplint.project.asked import Asked  # a module's own entry: the project is analysed
        from mplint.project.summary import Summary

        try:
            asked = Asked.from_json(data["asked"])
            made = data["summary"]
            summarised = made is not False
            summary = Summary.from_json(made) if summarised and made is not None else None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        return Local(result, asked, summarised, summary)

    def put_local(self, key: str, local: Local) -> None:
        """`summary` False: none was made; None: the module could not be parsed."""
        summary: object = False
        if local.summarised:
            summary = local.summary.to_json() if local.summary is not None else None
        self._write(key, {"result": _result_data(local.result), "asked": local.asked.to_json(), "summary": summary})

    def put(self, key: str, result: FileResult) -> None:
        self._write(key, _result_data(result))

    def get_data(self, key: str) -> object:
        """An entry's JSON as it was written (None: missing or unreadable): the project memo's."""
        try:
            return _read_json(self._entry(key))
        except (OSError, ValueError, RecursionError):
            return None

    def put_data(self, key: str, data: object) -> None:
        self._write(key, data)

    #: a result as an entry holds it, and back (None: not what `result_data` writes)
    result_data = staticmethod(_result_data)
    result_of = staticmethod(_result)

    def _write(self, key: str, data: object) -> None:
        if not self._usable:
            return
        entry = self._entry(key)
        try:
            self._prepare(os.path.dirname(entry))
            import json

            write_whole(entry, json.dumps(data))  # (`dumps` encodes in C, `dump` to a file in Python)
        except OSError:
            # a read-only or full disk costs speed, never findings: go on without the cache
            self._usable = False

    def _prepare(self, folder: str) -> None:
        if not os.path.exists(self.folder):
            os.makedirs(self.folder, exist_ok=True)
            # keep the cache out of version control and out of backups, as other tools' caches are
            for name, text in ((".gitignore", "# created by mplint\n*\n"),
                               ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# created by mplint\n")):
                with open(os.path.join(self.folder, name), "w", encoding="utf-8") as file:
                    file.write(text)
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise


def _read_json(path: str) -> object:
    import json

    with open(path, encoding="utf-8") as file:
        return json.loads(file.read())
