"""The prefilter: whether a file can hold a finding at all, read from its text without parsing it.

What it asks is derived from the API table (`apis.py`: its markers, the top-level packages of its
APIs), so a new entry cannot be missed by it. Every fact about an API starts from an import
binding a name of the table (relative imports name the project's own modules), so a file must
both mention a marker (the name of a family, `ProcessPoolExecutor`) and import from one of the
table's top-level packages (`apis.IMPORT_ROOTS`). A comment or a docstring can make a file pass;
nothing that can be resolved makes one fail.

How it stays cheap (it reads every file of a run; most of them fail): a plain substring search
costs about 0.5 ns a byte, a regular expression without a literal first character several times
that. So the file's import lines are cut out first, by two expressions that start with a literal
(`mport`, `from`) and take the rest of the line (with its backslash continuations): about 2.5% of
a file's bytes. Only a file whose import lines name a package of the table is searched for the
markers, and only one with both for an import statement naming that package (`_import_pattern`).
The import lines hold every text that statement can match, so cutting them out first changes no
verdict (`tests/test_prefilter.py` compares both ways).
"""

from __future__ import annotations

import functools
import re

from mplint.apis import IMPORT_ROOTS, MARKERS, PAIRED_MARKERS, THREAD_MARKERS, THREAD_ROOTS


def _import_pattern(roots: frozenset[str]) -> str:
    """An import statement that names a root: `from multiprocessing...`, `import os,
    multiprocessing`, also after `;` or `try:` on the line, and over backslash continuations.
    Each scan stops where its statement ends, so the search stays linear on any input."""
    names = "|".join(re.escape(root) for root in sorted(roots))
    return (
        rf"(?m)(?:^|[;:\r])[ \t]*(?:from[ \t]+(?:{names})\b"
        rf"|import[ \t]+(?:[\w. \t,]|\\\r?\n)*?\b(?:{names})\b)"
    )


@functools.cache
def _patterns(roots: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[bytes]]:
    """The import pattern of `roots`, as text and as bytes, compiled the first time a file has
    the markers that go with it: most files are rejected before."""
    pattern = _import_pattern(roots)
    return re.compile(pattern), re.compile(pattern.encode())


#: the rest of each line from `mport` (with the lines a backslash continues) and from `from `:
#: what `_import_pattern` matches of a statement lies in them (its `from` form on one line, its
#: `import` form on the line of `import` and the lines its backslashes continue)
_IMPORT_LINES = r"mport(?:[^\n]*\\\r?\n)*[^\n]*", r"from[ \t][^\n]*"
_LINES_TEXT = tuple(re.compile(pattern) for pattern in _IMPORT_LINES)
_LINES_BYTES = tuple(re.compile(pattern.encode()) for pattern in _IMPORT_LINES)


def import_lines(source: bytes | str) -> bytes | str:
    """The parts of `source`'s lines that may belong to an import statement, one a line."""
    if isinstance(source, bytes):
        imports, froms = _LINES_BYTES
        return b"\n".join(imports.findall(source) + froms.findall(source))
    imports_text, froms_text = _LINES_TEXT
    return "\n".join(imports_text.findall(source) + froms_text.findall(source))


def _fewest(markers: frozenset[str]) -> tuple[str, ...]:
    """The markers without those that hold another (a text without `Thread` has no
    `ThreadPoolExecutor`): one search fewer of every file for each one dropped."""
    return tuple(sorted(m for m in markers if not any(other != m and other in m for other in markers)))


class _Api:
    """One way of using the API a file may have: a marker of `markers` and an import of `roots`,
    each as text and as bytes."""

    def __init__(self, markers: frozenset[str], roots: frozenset[str]) -> None:
        self.roots = roots
        self.markers_text = _fewest(markers)
        self.markers_bytes = tuple(marker.encode() for marker in self.markers_text)
        self.roots_text = tuple(sorted(roots))
        self.roots_bytes = tuple(root.encode() for root in self.roots_text)

    def used(self, source: bytes | str, imports: bytes | str) -> bool:
        """The file (`imports`: its `import_lines`) mentions a marker and imports a root."""
        binary = isinstance(source, bytes)
        roots, markers = (self.roots_bytes, self.markers_bytes) if binary else (self.roots_text, self.markers_text)
        if not any(root in imports for root in roots):  # type: ignore[operator]
            return False
        # a marker is often in the import lines themselves (`from threading import Thread`):
        # found there, it is in the text (they are parts of it), and the text is not searched
        if not any(marker in imports for marker in markers) and not any(marker in source for marker in markers):  # type: ignore[operator]
            return False
        return _patterns(self.roots)[binary].search(source) is not None  # type: ignore[arg-type]


#: the table's markers with its top-level packages
_MAIN = _Api(MARKERS, IMPORT_ROOTS)
#: each paired root with its own markers (`os` with `fork(`)
_PAIRED = tuple(_Api(markers, frozenset({root})) for root, markers in sorted(PAIRED_MARKERS.items()))
#: the markers and top-level packages of thread APIs (`multiprocessing.dummy` and `ThreadPool`
#: pass already by "multiprocess"): files that use threads alone are parsed only when a rule that
#: judges threads (`Rule.judges_threads`) runs
_THREADS = _Api(THREAD_MARKERS, THREAD_ROOTS)


def may_contain_findings(source: bytes | str, threads: bool = False) -> bool:
    """False when no rule can fire, so the file need not be parsed. With `threads` (a rule that
    judges threads is enabled), a file that uses only thread APIs passes too."""
    return _decide(source, import_lines(source), threads)


def _decide(source: bytes | str, imports: bytes | str, threads: bool) -> bool:
    """The verdict, the import statements looked for in `imports` first (`import_lines`, or the
    whole source: the same verdict)."""
    if _MAIN.used(source, imports):
        return True
    uses_threads = _THREADS.used(source, imports)
    if threads and uses_threads:
        return True
    # `os.fork()` matters only beside threads the module starts itself (fork-after-threads)
    return uses_threads and any(paired.used(source, imports) for paired in _PAIRED)
