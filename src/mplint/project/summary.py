"""What other modules need to know about a module, read from its facts: a small, serializable
summary, cached by content like findings are.

For each function and method of the module: where it is defined, the call by which it starts
processes itself (if it does), and the functions it calls, each either a function of the module
(`#name`) or a qualified name as the module imports it (`app.jobs.run_all`, `.jobs.run_all`).
Module-level names bound by imports are kept too, so that a package's `__init__.py` that
re-exports `from .cli import main` is seen through.

What the other modules ask of a function besides: the threads it leaves running when it returns
(also one it is handed and starts, and the one it makes and returns),
the `set_start_method(...)` it calls (without `force=True`), its own work (`Work`: the blocking
calls, and why the work may be heavy or unknown, as `facts/workload.py` judges it) and the module
state it changes (`Change`: a module-level value of its module, `self` in a method, or an
attribute of an imported module); and of the module: the callables it hands to children that are
not its own functions, and its module-level plain values (a list, a dict, ...).

Only the functions another module may name are summarised, with those they reach (`Names`): the
link reaches a function of another module only by a name written in some module's text, so a
function whose name no other summarised module's text holds (a test nobody imports), and that
the summarised functions of its module do not call, can be in no chain any module is told; the
summary lists its key in `dropped` instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable

from mplint.closure import closure


CONFTEST = "conftest.py"
KNOWN_METHODS = ("fork", "spawn", "forkserver")
LOCAL = "#"  # a call target that is a function of the same module: `#run_all`, `#Job.run`
FORMAT = 7  # bump when the layout changes


#: how a `Change` names what it changes: a module-level name of its own module (`=status`), an
#: attribute of `self` (`.done`), an attribute rebound on an imported module or changed in place
#: (`app.shared.status`)
OWN, SELF = "=", "."


@dataclass
class Work:
    """A function's own work (the calls of its body; what it calls is linked)."""

    #: (line, call as shown, what it waits for) of each blocking call
    blocking: list[tuple[int, str, str]] = field(default_factory=list)
    #: why it may be CPU-heavy: (line, a short phrase), as `workload.Computation` says it
    compute: tuple[int, str] | None = None
    releases_gil: str | None = None
    local_io: str | None = None
    #: a call whose cost cannot be known and that cannot be another module's function
    unknown: str | None = None
    process_only: str | None = None
    #: calls of unknown cost by a qualified name: another module's function, if the link finds it
    named: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.blocking or self.named) or any(
            (self.compute, self.releases_gil, self.local_io, self.unknown, self.process_only)
        )

    def to_json(self) -> list[Any]:
        return [
            [list(b) for b in self.blocking], list(self.compute) if self.compute else None,
            self.releases_gil, self.local_io, self.unknown, self.process_only, self.named,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Work:
        blocking, compute, gil, local_io, unknown, process_only, named = data
        return cls(
            [(b[0], b[1], b[2]) for b in blocking], (compute[0], compute[1]) if compute else None,
            gil, local_io, unknown, process_only, list(named),
        )


@dataclass
class Change:
    """A change of module state: a module-level value, `self`, an imported module's attribute."""

    line: int
    #: the statement or call as a message shows it: `status[i] = ...`, `self.done = True`
    text: str
    #: what it changes (`OWN` + name, `SELF` + attribute, or a qualified name)
    target: str
    #: an imported module's attribute changed in place (`shared.status[i] = v`): it must be a plain
    #: value of that module; else it is rebound (`shared.count = 1`)
    in_place: bool = False


@dataclass
class Function:
    #: what a message shows: `main()`, `Job.run()`
    shown: str
    line: int
    #: the call by which the function starts processes itself: (line, `Pool(...)`)
    starts: tuple[int, str] | None = None
    #: the target of every call known by name, once each, in the order of the first call
    calls: list[str] = field(default_factory=list)
    #: the call that starts a thread still running when the function returns: (line, text)
    threads: tuple[int, str] | None = None
    #: a `set_start_method(...)` it calls that raises when a method was set before: (line, text)
    sets_method: tuple[int, str] | None = None
    work: Work = field(default_factory=Work)
    changes: list[Change] = field(default_factory=list)
    #: it runs in a child through a dispatch of its own module
    child: bool = False
    #: it runs in a thread through a hand-over of its own module (its calls' work is asked)
    in_thread: bool = False
    #: a thread it is handed and starts, and returns with running (it joins it nowhere):
    #: (position of the parameter, its name, line, text of the start)
    starts_handed: tuple[int, str, int, str] | None = None
    #: the one thread it makes and returns: (line, text of its creation or start, started)
    returns_thread: tuple[int, str, bool] | None = None
    #: the parameters it hands on as they are, each to one call, and uses nowhere else (the link
    #: follows them to a function that starts the thread): (position of the parameter, its name,
    #: the call's target, the argument's position or keyword there, line of the call)
    hands_on: list[tuple[int, str, str, int | None, str | None, int]] = field(default_factory=list)

    def to_json(self) -> list[Any]:
        return [
            self.shown, self.line, list(self.starts) if self.starts else None,
            list(self.calls), list(self.threads) if self.threads else None,
            list(self.sets_method) if self.sets_method else None,
            self.work.to_json() if self.work else None,
            [[c.line, c.text, c.target, c.in_place] for c in self.changes], self.child, self.in_thread,
            list(self.starts_handed) if self.starts_handed else None,
            list(self.returns_thread) if self.returns_thread else None,
            [list(entry) for entry in self.hands_on],
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Function:
        shown, line, starts, calls, threads, sets_method, work, changes, child, in_thread, handed, made, on = data
        return cls(
            shown, line, _pair(starts), list(calls), _pair(threads),
            _pair(sets_method), Work.from_json(work) if work else Work(),
            [Change(c[0], c[1], c[2], c[3]) for c in changes], child, in_thread,
            (handed[0], handed[1], handed[2], handed[3]) if handed else None,
            (made[0], made[1], bool(made[2])) if made else None,
            [(e[0], e[1], e[2], e[3], e[4], e[5]) for e in on],
        )


def _pair(value: list[Any] | None) -> tuple[int, str] | None:
    return (value[0], value[1]) if value else None


@dataclass
class Summary:
    functions: dict[str, Function] = field(default_factory=dict)
    #: module-level names bound by an import: name -> qualified name as imported
    aliases: dict[str, str] = field(default_factory=dict)
    #: every qualified name the module calls that may be another module's function
    external: list[str] = field(default_factory=list)
    #: for a `conftest.py`: the start method it sets for the tests below it
    start_method: str | None = None
    #: callables handed to children that are no function of the module, by qualified name:
    #: (name, line of the hand-over, the hand-over as shown)
    handed: list[tuple[str, int, str]] = field(default_factory=list)
    #: module-level names bound to a plain mutable value: name -> its type ("list", "dict", ...)
    plain: dict[str, str] = field(default_factory=dict)
    #: the module may fork by choice (its text says `fork`): only then do threads matter to it
    forks: bool = True
    #: the keys of the functions left out: no other module can name them, and the functions
    #: summarised do not call them (`Names`)
    dropped: list[str] = field(default_factory=list)
    #: the identifiers of the module's text (`words`; None: not read), which decide what other
    #: modules may name when the summary is read from the cache
    words: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "functions": {key: f.to_json() for key, f in self.functions.items()},
            "aliases": self.aliases,
            "external": self.external,
            "start_method": self.start_method,
            "handed": [list(h) for h in self.handed],
            "plain": self.plain,
            "forks": self.forks,
            "dropped": self.dropped,
            "words": self.words,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        if data.get("format") != FORMAT:
            raise ValueError("another summary format")
        functions = {key: Function.from_json(f) for key, f in data["functions"].items()}
        return cls(
            functions, dict(data["aliases"]), list(data["external"]), data["start_method"],
            [(h[0], h[1], h[2]) for h in data["handed"]], dict(data["plain"]), bool(data["forks"]),
            list(data["dropped"]), list(data["words"]) if data["words"] is not None else None,
        )

    def serves(self, names: Names | None) -> bool:
        """The summary holds every function that modules sharing `names` may name (it was made for
        as many names, or more); None: all of them."""
        if not self.dropped:
            return True
        return names is not None and not any(names.may_name(key) for key in self.dropped)


# --- which functions other modules may name ------------------------------------------------------

#: an identifier of Python's own (ASCII) spelling, as it can stand in a module's text
_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def words(data: bytes) -> list[str] | None:
    """The ASCII identifiers of a module's text, sorted (comments and strings included: more is
    safe); None when the text may not be ASCII-compatible (a NUL byte: UTF-16)."""
    if b"\0" in data:
        return None
    return sorted(word.decode("ascii") for word in set(_WORD.findall(data)))


@dataclass(frozen=True)
class Names:
    """The identifiers of a module's text that the text of another module of the run's summaries
    holds too: the only names by which another module can reach one of its functions.

    The link reaches a function of another module by a call target, a hand-over or a re-export,
    each a qualified name made from a module's text (`names.qualname`: an import binding's
    imported name, and attributes): its last part is an identifier written in that module's text
    (the part of a relative import that the package stands for comes first, never last). So a
    function whose last key part (the class's name for `Cls.__init__`, which a call of `Cls(...)`
    reaches) no other module's text holds is reached from no other module; the module's own
    qualified targets (`own`: it may import itself) count as other modules' names. Names that are
    not ASCII are never left out (the text's encoding is not read here)."""

    shared: frozenset[str]
    #: every identifier of the module's text (`words`), kept with its summary
    words: tuple[str, ...] = ()
    #: the module is a package's `__init__.py`: a name relative to a namespace folder below it may
    #: start with that folder's name, so `X.__init__` is named wherever `__init__` is
    package: bool = False
    own: frozenset[str] = frozenset()
    #: another module may name the module itself. A name reaches a module that is no package's
    #: `__init__.py` only through its stem, written in the text of the module that names it (a
    #: relative import's package stands for packages only, and a package shadows a module of its
    #: name): without another text holding the stem, or a qualified name of its own made of it,
    #: no function of it is reached from elsewhere
    reached: bool = True

    def may_name(self, key: str) -> bool:
        if not self.reached:
            return False
        if not key.isascii():
            return True
        if key.startswith("<"):
            return False  # a nested function: only its own module's calls reach it
        head, _, last = key.rpartition(".")
        if last == "__init__" and head:
            if self.package and ("__init__" in self.shared or "__init__" in self.own):
                return True
            last = head.rpartition(".")[2]
        return last in self.shared or last in self.own

    def with_own(self, targets: Iterable[str], stem: str = "") -> Names:
        """With the module's own qualified names (`stem`: its module's last name part)."""
        targets = list(targets)
        own = self.own | {t.rpartition(".")[2] for t in targets}
        reached = self.reached or any(stem in t.split(".") for t in targets)
        return Names(self.shared, self.words, self.package, own, reached)


def shared_names(modules: dict[str, tuple[list[str], tuple[str, ...]]]) -> dict[str, Names]:
    """For each module (path -> its `words` and the folders its imports are searched in, as the
    resolver finds them), the identifiers its text shares with another module's that may name it.

    A module names another only under the folders its imports are searched in (`Project.find`),
    itself or through the re-exports of the modules it finds there: so only modules connected by
    "found under the other's folders" share names (a library's vendored copy in another project
    shares none with the library)."""
    group = _groups({path: search for path, (_words, search) in modules.items()})
    counts: dict[tuple[str, str], int] = {}
    for path, (text, _search) in modules.items():
        for word in text:
            counts[group[path], word] = counts.get((group[path], word), 0) + 1
    found = {}
    for path, (text, _search) in modules.items():
        stem = _stem(path)
        package = stem == "__init__"
        reached = package or counts.get((group[path], stem), 0) > (stem in text)
        shared = frozenset(w for w in text if counts[group[path], w] > 1)
        found[path] = Names(shared, tuple(text), package, reached=reached)
    return found


def _stem(path: str) -> str:
    name = os.path.basename(path)
    return name[:-3] if name.endswith(".py") else name


def _groups(searches: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each module's group: modules are joined when one lies under a folder the other searches."""
    parent = {path: path for path in searches}

    def root(path: str) -> str:
        while parent[path] != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    by_folder: dict[str, list[str]] = {}
    for path, search in searches.items():
        for folder in search:
            by_folder.setdefault(folder, []).append(path)
    for path in searches:
        folder = os.path.dirname(path)
        while True:
            for other in by_folder.get(folder, ()):
                parent[root(other)] = root(path)
            up = os.path.dirname(folder)
            if up == folder:
                break
            folder = up
    return {path: root(path) for path in searches}


def kept_functions(
    keys: Collection[str], names: Names, calls: dict[str, list[str]], always: Iterable[str]
) -> set[str]:
    """The functions to summarise: those `names` may name, and `always` (they run in a child or a
    thread: the module's own told asks what they call), with every function of the module they
    call (`calls`: key -> the keys of the module's functions it calls)."""
    seeds = {key for key in keys if names.may_name(key)} | set(always)
    return closure(seeds, lambda key: calls.get(key, ()))
