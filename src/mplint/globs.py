"""Path globs as used by `exclude`, `extend-exclude` and `per-file-ignores`.

A glob is written relative to a base folder (the folder of the config file that holds it, or the
current directory for command-line globs). It matches a path when it matches the path relative to
that base or the path's file or folder name, so `tests/*.py`, `migrations` and `__init__.py` all do
what they say. `*` also crosses `/` (as in flake8), and `**/` may match no folder at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field


def _translate(pattern: str) -> str:
    """The regular expression for one glob (we need `**/`, which fnmatch does not know)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern[i] == "*":
            out.append(".*")
            i += 1
            while i < n and pattern[i] == "*":
                i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _normalize(pattern: str) -> str:
    pattern = pattern.replace(os.sep, "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.rstrip("/") or pattern


@dataclass(frozen=True)
class Glob:
    pattern: str
    base: str  # absolute folder the pattern is relative to
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        normalized = _normalize(self.pattern)
        # Case-sensitive everywhere, so a config behaves the same on every machine.
        object.__setattr__(self, "_regex", re.compile(_translate(normalized), re.DOTALL))

    def matches(self, path: str, *, ancestors: bool = False) -> bool:
        """Whether `path` (absolute, or relative to the current directory) matches.

        With `ancestors`, a match on any folder containing the path counts too (used for
        per-file-ignores; the directory walk prunes excluded folders itself).
        """
        absolute = os.path.abspath(path)
        if os.path.isabs(_normalize(self.pattern)):
            relative = absolute.replace(os.sep, "/")
        else:
            relative = os.path.relpath(absolute, self.base).replace(os.sep, "/")
        candidates = [relative]
        if ancestors:
            parts = relative.split("/")
            candidates += ["/".join(parts[:i]) for i in range(1, len(parts))]
        names = {c.rsplit("/", 1)[-1] for c in candidates}
        return any(self._regex.fullmatch(c) for c in (*candidates, *names))


def any_match(globs: tuple[Glob, ...] | list[Glob], path: str, *, ancestors: bool = False) -> bool:
    return any(glob.matches(path, ancestors=ancestors) for glob in globs)
