"""The memo of the project side of a run: what each named file is told by its project, kept so
that a warm run with nothing changed reads one entry instead of every kept module's summary.

The project side of a run (`runner.py`) turns the session's view of the project (which files,
their bytes, what they import, how the resolver placed them) into one outcome per named file:
its check without project facts stands (and its result), or its `ProjectFacts`, with which it
is checked (or found in the cache under their digest). Computing it reads every kept module's
cache entry, decodes its summary and links them all. The memo keeps the outcomes instead, keyed
by everything the computation starts from:

- the linter itself, the rule options and each named file's enabled codes (the cache's salt),
  and whether the run builds fixes (a result checked without them serves no run that shows them);
- every file of the session: its path (and as it was given), the hash of its bytes (which the
  stat-keyed index gives without reading it), whether it uses the API, what it imports, its
  module name, package and search folders, and each project's root and source roots (`src`);
- the `conftest.py` files of each named test module.

What the link asks of the file system besides is the resolver's: folder listings and whether a
path is a folder. The entry records every listing (by a hash of its names) and every such answer
the whole computation saw, and a look-up lists them again: one that differs (a module added
that shadows another, a folder renamed) is a miss. An entry that cannot be read or has another
shape is a miss too, never a wrong result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Sequence

from mplint import listings as folder_views
from mplint.findings import FileResult
from mplint.project.told import NO_PROJECT_FACTS, Chain, ProjectFacts, RemoteWork
from mplint.project.resolver import Folders

FORMAT = "1"


@dataclass(frozen=True)
class Outcome:
    """What the project side decides for one named file: its check without project facts stands
    (`settled`, with that result; None: the prefilter's stands), or it is checked with `project`."""

    settled: bool
    result: FileResult | None
    project: ProjectFacts = NO_PROJECT_FACTS


class LinkMemo:
    """Reads and writes outcomes in the cache (`store` is the cache: `key`, `get_data`,
    `put_data`, `result_data`, `result_of`)."""

    def __init__(self, store: Any, options: object, noqa: bool = True, fixes: bool = True) -> None:
        self._store = store
        self._options = options
        self._noqa = noqa
        self._fixes = fixes

    def key(self, session: Any, named: Iterable[tuple[str, Collection[str], bool]]) -> str:
        """The key of the session's state before the link; `named`: (path, codes, uses the API)."""
        digest = hashlib.sha256()

        def part(*values: object) -> None:
            digest.update(repr(values).encode("utf-8", "surrogatepass"))
            digest.update(b"\n")

        part(FORMAT, self._noqa, self._fixes)
        for root, project in sorted(session.projects.by_root().items()):
            part("project", root, project.roots)
        for path, file in sorted(session.files.items()):
            ref = file.ref
            part("file", path, file.given, file.origin.digest, file.uses_api, file.named, file.pinned_wanted,
                 file.may_import, sorted(file.imports), ref.name, ref.package, ref.search)
        for path, codes, uses_api in sorted((p, sorted(c), u) for p, c, u in named):
            part("named", path, codes, uses_api)
        for path, conftests in sorted(session.conftests.items()):
            part("conftests", path, conftests)
        return self._store.key(digest.hexdigest(), "\0project memo", (), self._options, "\0memo")

    def get(self, key: str, folders: Folders) -> dict[str, Outcome] | None:
        """The outcomes an entry holds, if the resolver would see today what it saw then."""
        data = self._store.get_data(key)
        try:
            return _outcomes(data, folders, self._store.result_of)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None

    def put(self, key: str, folders: Folders, outcomes: dict[str, Outcome]) -> None:
        listings, dirs = folder_views.recorded(*folders.seen())
        files = {
            path: [outcome.settled,
                   self._store.result_data(outcome.result) if outcome.result is not None else None,
                   None if outcome.settled else facts_json(outcome.project)]
            for path, outcome in sorted(outcomes.items())
        }
        self._store.put_data(key, {
            "format": FORMAT,
            "folders": listings,
            "dirs": dirs,
            "files": files,
        })


def _outcomes(data: object, folders: Folders, result_of: Any) -> dict[str, Outcome] | None:
    if not isinstance(data, dict) or set(data) != {"format", "folders", "dirs", "files"}:
        return None
    if data["format"] != FORMAT:
        return None
    files = data["files"]
    if not isinstance(files, dict) or not folder_views.still_seen(data["folders"], data["dirs"], folders.entries,
                                                                   folders.is_dir):
        return None
    outcomes: dict[str, Outcome] = {}
    for path, (settled, result, facts) in files.items():
        if type(settled) is not bool:
            return None
        found = None
        if result is not None:
            found = result_of(result, path)
            if found is None:
                return None
        outcomes[path] = Outcome(settled, found, NO_PROJECT_FACTS if settled else facts_of(facts))
    return outcomes


# --- ProjectFacts as JSON ------------------------------------------------------------------------

_CHAINS = ("starts", "threads", "sets_method", "in_child")
_WORK_TEXTS = ("compute", "releases_gil", "local_io", "unknown", "process_only")


def facts_json(facts: ProjectFacts) -> dict[str, Any]:
    data: dict[str, Any] = {name: dict(getattr(facts, name)) for name in _CHAINS}
    data["start_method"] = facts.start_method
    data["package"] = facts.package
    data["imported_state"] = dict(facts.imported_state)
    data["changes"] = {name: [[chain, state] for chain, state in found] for name, found in facts.changes.items()}
    data["self_changes"] = {name: [[attr, chain] for attr, chain in found] for name, found in facts.self_changes.items()}
    data["thread_args"] = {name: [position, parameter, chain] for name, (position, parameter, chain)
                           in facts.thread_args.items()}
    data["thread_makers"] = {name: [started, chain] for name, (started, chain) in facts.thread_makers.items()}
    data["work"] = {
        name: {"blocking": [[text, waits, chain] for text, waits, chain in work.blocking],
               **{field: getattr(work, field) for field in _WORK_TEXTS}}
        for name, work in facts.work.items()
    }
    return data


def facts_of(data: object) -> ProjectFacts:
    """Raises ValueError unless `data` is what `facts_json` writes."""
    fields = {*_CHAINS, "start_method", "package", "imported_state", "changes", "self_changes", "work",
              "thread_args", "thread_makers"}
    if not isinstance(data, dict) or set(data) != fields:
        raise ValueError("not project facts")
    told: dict[str, Any] = {name: {_text(k): _chain(v) for k, v in _table(data[name])} for name in _CHAINS}
    told["start_method"] = _text(data["start_method"]) if data["start_method"] is not None else None
    told["package"] = _text(data["package"])
    told["imported_state"] = {_text(k): _text(v) for k, v in _table(data["imported_state"])}
    told["changes"] = {
        _text(k): tuple((_chain(chain), _text(state)) for chain, state in _rows(v, 2))
        for k, v in _table(data["changes"])
    }
    told["self_changes"] = {
        _text(k): tuple((_text(attr), _chain(chain)) for attr, chain in _rows(v, 2))
        for k, v in _table(data["self_changes"])
    }
    told["work"] = {_text(k): _work(v) for k, v in _table(data["work"])}
    told["thread_args"] = {
        _text(k): (_line(position), _text(parameter), _chain(chain))
        for k, (position, parameter, chain) in ((k, _row(v, 3)) for k, v in _table(data["thread_args"]))
    }
    told["thread_makers"] = {
        _text(k): (_flag(started), _chain(chain))
        for k, (started, chain) in ((k, _row(v, 2)) for k, v in _table(data["thread_makers"]))
    }
    facts = ProjectFacts(**told)
    return facts if facts else NO_PROJECT_FACTS


def _work(data: object) -> RemoteWork:
    if not isinstance(data, dict) or set(data) != {"blocking", *_WORK_TEXTS}:
        raise ValueError("not a function's work")
    blocking = tuple((_text(text), _text(waits), _chain(chain)) for text, waits, chain in _rows(data["blocking"], 3))
    texts = {name: None if data[name] is None else _text(data[name]) for name in _WORK_TEXTS}
    return RemoteWork(blocking, **texts)


def _table(data: object) -> Sequence[tuple[Any, Any]]:
    if not isinstance(data, dict):
        raise ValueError("not a table")
    return list(data.items())


def _rows(data: object, width: int) -> list[list[Any]]:
    if not isinstance(data, list) or not all(isinstance(row, list) and len(row) == width for row in data):
        raise ValueError("not a list of rows")
    return data


def _row(data: object, width: int) -> list[Any]:
    if not isinstance(data, list) or len(data) != width:
        raise ValueError("not a row")
    return data


def _flag(value: object) -> bool:
    if type(value) is not bool:
        raise ValueError("not a flag")
    return value


def _chain(data: object) -> Chain:
    rows = _rows(data, 3)
    return tuple((_text(shown), _text(where), _line(line)) for shown, where, line in rows)


def _text(value: object) -> str:
    if type(value) is not str:
        raise ValueError("not a text")
    return value


def _line(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("not a line")
    return value
