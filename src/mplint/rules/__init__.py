"""The rule registry: every `Rule` subclass defined in a module of this package is a rule.

Importing the rules imports LibCST and the facts (about 0.2 s), which a run whose files all pass
through the prefilter or the cache never needs. What such a run needs of the rules, their codes and
whether each is on by default, `rule_defaults` reads from the rule modules' source text without
importing them; the classes stay the one place where that is written (a test compares the two).
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import re

from mplint import beside_bytecode
from mplint.rules.base import Report, Rule

__all__ = ["Report", "Rule", "all_rules", "rule_by_code", "rule_defaults", "thread_rules"]

#: the class attributes `rule_defaults` reads, written as every rule writes them (one per line)
_CLASS = re.compile(r"\nclass\s+\w+")  # after a newline: a literal the search skips to
_CODE = re.compile(r"^[ \t]+code\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DEFAULT_ENABLED = re.compile(r"^[ \t]+default_enabled\s*=\s*(True|False)\b", re.MULTILINE)
_JUDGES_THREADS = re.compile(r"^[ \t]+judges_threads\s*=\s*True\b", re.MULTILINE)


@functools.cache
def all_rules() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for name in _rule_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and "code" in vars(value)
            ):
                if value.code in found:
                    raise RuntimeError(f"two rules claim {value.code}")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def _rule_modules() -> list[str]:
    return [
        info.name for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name != "base"
    ]


@functools.cache
def _rule_metadata() -> tuple[tuple[str, bool, bool], ...]:
    """(code, enabled by default, judges threads) of each rule class: as read before from the same
    source files (`_KEPT`), else read from the rule modules' source in one pass."""
    names = _rule_modules()
    stamps = _stamps([*names, "__init__"])  # (this module's own too: it says how they are read)
    path = _kept_path()
    if stamps is not None and path is not None:
        kept = _read_kept(path)
        if kept is not None and kept[0] == stamps:
            return kept[1]
    found = _read_metadata(names)
    if stamps is not None and path is not None:
        beside_bytecode.write(path, (stamps, found))
    return found


#: where `_rule_metadata` keeps what it read, beside the rules' bytecode, as Python keeps that (a
#: file per Python version; checked against each source file's size and time, as bytecode is)
_KEPT = "rule-metadata"


def _kept_path() -> str | None:
    return beside_bytecode.path_of(os.path.join(__path__[0], "__pycache__"), _KEPT)


def _stamps(names: list[str]) -> tuple[tuple[str, int, int], ...] | None:
    stamps = []
    for name in names:
        try:
            status = os.stat(os.path.join(__path__[0], f"{name}.py"))
        except OSError:
            return None
        stamps.append((name, status.st_size, status.st_mtime_ns))
    return tuple(stamps)


def _read_kept(path: str) -> tuple[object, tuple[tuple[str, bool, bool], ...]] | None:
    kept = beside_bytecode.read(path)
    if not (isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], tuple) and all(
            isinstance(row, tuple) and len(row) == 3 and type(row[0]) is str and type(row[1]) is bool
            and type(row[2]) is bool for row in kept[1])):
        return None  # of another shape: read from the source
    return kept


def _read_metadata(names: list[str]) -> tuple[tuple[str, bool, bool], ...]:
    found = []
    for name in names:
        with open(os.path.join(__path__[0], f"{name}.py"), encoding="utf-8") as file:
            text = file.read()
        # each class statement at the start of a line (the newline added before the text puts
        # each match's start where its `class` is in the text)
        starts = [match.start() for match in _CLASS.finditer("\n" + text)] + [len(text)]
        for start, end in zip(starts, starts[1:]):  # one class at a time
            code = _CODE.search(text, start, end)
            if code is not None:
                enabled = _attribute(_DEFAULT_ENABLED, "default_enabled", text, start, end)
                threads = _attribute(_JUDGES_THREADS, "judges_threads", text, start, end) is not None
                found.append((code.group(1), enabled is None or enabled.group(1) == "True", threads))
    return tuple(found)


def _attribute(pattern: re.Pattern[str], name: str, text: str, start: int, end: int) -> re.Match[str] | None:
    """`pattern` (the class attribute `name` set) in the class at `start:end`; the plain search
    for the name first skips the regular expression's scan of the classes that never set it."""
    return pattern.search(text, start, end) if text.find(name, start, end) >= 0 else None


@functools.cache
def rule_defaults() -> dict[str, bool]:
    """Each rule's code and whether it is enabled by default, without importing any rule."""
    return dict(sorted((code, enabled) for code, enabled, _ in _rule_metadata()))


@functools.cache
def thread_rules() -> frozenset[str]:
    """The codes of the rules that judge threads (`judges_threads = True`), without importing any."""
    return frozenset(code for code, _, threads in _rule_metadata() if threads)


def rule_by_code(code: str) -> type[Rule] | None:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    return None
