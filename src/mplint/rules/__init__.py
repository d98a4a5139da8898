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
from typing import Iterator

from mplint.rules.base import Report, Rule

__all__ = ["Report", "Rule", "all_rules", "rule_by_code", "rule_defaults", "thread_rules"]

#: the class attributes `rule_defaults` reads, written as every rule writes them (one per line)
_CLASS = re.compile(r"^class\s+\w+", re.MULTILINE)
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


def _rule_classes() -> Iterator[tuple[str, str, int, int]]:
    """(code, module text, start, end) of each rule class, read from the rule modules' source."""
    for name in _rule_modules():
        with open(os.path.join(__path__[0], f"{name}.py"), encoding="utf-8") as file:
            text = file.read()
        starts = [match.start() for match in _CLASS.finditer(text)] + [len(text)]
        for start, end in zip(starts, starts[1:]):  # one class at a time
            code = _CODE.search(text, start, end)
            if code is not None:
                yield code.group(1), text, start, end


@functools.cache
def rule_defaults() -> dict[str, bool]:
    """Each rule's code and whether it is enabled by default, without importing any rule."""
    found: dict[str, bool] = {}
    for code, text, start, end in _rule_classes():
        enabled = _DEFAULT_ENABLED.search(text, start, end)
        found[code] = enabled is None or enabled.group(1) == "True"
    return dict(sorted(found.items()))


@functools.cache
def thread_rules() -> frozenset[str]:
    """The codes of the rules that judge threads (`judges_threads = True`), without importing any."""
    return frozenset(
        code for code, text, start, end in _rule_classes() if _JUDGES_THREADS.search(text, start, end)
    )


def rule_by_code(code: str) -> type[Rule] | None:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    return None
