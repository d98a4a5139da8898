"""What a module's check asked of its project, so that it is checked once, not twice.

A module's summary and its own check come from one parse, before the project is linked; what the
project tells it is known only after. The check is therefore run against a `Recorder`: project
facts with nothing in them that note every question the rules and facts ask (`starts.get(name)`,
`start_method`, a whole table read). After the link, `Asked.answered_by(facts)` says whether the
module's real project facts answer any of those questions otherwise than the empty facts did. If
none does, the check would have asked the same questions and got the same answers, so its
findings stand; only a module whose answers differ is checked again with its project facts.

`bool(facts)` is a shortcut ("is there anything at all?") that the recorder answers with True
without noting it: code must behave on empty facts as if it had not asked (it does: every such
test only skips look-ups that would find nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts

_TABLES = frozenset(
    field.name for field in dataclasses.fields(ProjectFacts)
    if isinstance(getattr(NO_PROJECT_FACTS, field.name), dict)
)
_SCALARS = frozenset(field.name for field in dataclasses.fields(ProjectFacts)) - _TABLES


@dataclasses.dataclass
class Asked:
    #: table -> the keys looked up in it
    keys: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    #: tables read whole (iterated, measured, compared)
    whole: set[str] = dataclasses.field(default_factory=set)
    #: the other fields read
    scalars: set[str] = dataclasses.field(default_factory=set)

    def answered_by(self, facts: ProjectFacts) -> bool:
        """Some question gets another answer from `facts` than from empty project facts."""
        if facts is NO_PROJECT_FACTS:
            return False
        for name in self.whole:
            if getattr(facts, name):
                return True
        for name, keys in self.keys.items():
            table = getattr(facts, name)
            if table and any(key in table for key in keys):
                return True
        return any(getattr(facts, name) != getattr(NO_PROJECT_FACTS, name) for name in self.scalars)

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": {name: sorted(keys) for name, keys in sorted(self.keys.items())},
            "whole": sorted(self.whole),
            "scalars": sorted(self.scalars),
        }

    @classmethod
    def from_json(cls, data: object) -> Asked:
        """Raises ValueError unless `data` is what `to_json` writes for fields that exist."""
        if not isinstance(data, dict) or set(data) != {"keys", "whole", "scalars"}:
            raise ValueError("not a record of questions")
        keys, whole, scalars = data["keys"], data["whole"], data["scalars"]
        if not (isinstance(keys, dict) and isinstance(whole, list) and isinstance(scalars, list)):
            raise ValueError("not a record of questions")
        if not (set(keys) | set(whole)) <= _TABLES or not set(scalars) <= _SCALARS:
            raise ValueError("questions about facts that no longer exist")
        if not all(isinstance(k, list) and all(type(x) is str for x in k) for k in keys.values()):
            raise ValueError("not a record of questions")
        return cls({name: set(k) for name, k in keys.items()}, set(whole), set(scalars))


class _Table(Mapping):
    """An empty table of the project facts that notes what is asked of it."""

    def __init__(self, name: str, asked: Asked) -> None:
        self._name = name
        self._asked = asked

    def _whole(self) -> None:
        self._asked.whole.add(self._name)

    def __getitem__(self, key: object) -> Any:
        if type(key) is str:
            self._asked.keys.setdefault(self._name, set()).add(key)
        else:
            self._whole()  # a key that cannot be written down: count the table as read
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True  # pragma: no cover - never: the table is empty

    def __iter__(self) -> Iterator[Any]:
        self._whole()
        return iter(())

    def __len__(self) -> int:
        self._whole()
        return 0

    def __eq__(self, other: object) -> bool:
        self._whole()
        return isinstance(other, Mapping) and not other

    def __hash__(self) -> int:  # pragma: no cover - tables are not hashed
        self._whole()
        return 0

    def __repr__(self) -> str:
        self._whole()
        return "{}"


class Recorder(ProjectFacts):
    """Empty project facts that note, in `asked`, every question a check asks of them."""

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "asked", Asked())
        object.__setattr__(self, "_tables", {name: _Table(name, self.asked) for name in _TABLES})

    def __getattribute__(self, name: str) -> Any:
        if name in _TABLES:
            return object.__getattribute__(self, "_tables")[name]
        if name in _SCALARS:
            object.__getattribute__(self, "asked").scalars.add(name)
        return object.__getattribute__(self, name)

    def __bool__(self) -> bool:
        return True  # a shortcut, not a question: see the module's docstring

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)
