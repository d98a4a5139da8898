"""mplint as a flake8 plugin: a thin adapter over the same engine the `mplint` command runs.

flake8 imports this module only through the `flake8.extension` entry point; the command line never
does, so flake8 is not needed to run mplint.

What flake8 does itself, the plugin leaves to it: `# noqa`, `select`/`ignore`, per-file-ignores,
reading standard input. The plugin asks flake8 for the file's physical lines and hands their text
to the engine, which parses it once with LibCST (flake8's own `ast` tree is not used: requesting it
is what makes this a tree plugin, run once per file).

Loading the plugin imports neither LibCST nor a rule: flake8 loads it for every run, and a file
with nothing to parse never needs them. Which rules are on by default is read from the rules'
source text (`rules.rule_defaults`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar, Iterable, Iterator, Mapping, Sequence

from mplint import __version__
from mplint.config import OPTIONS, Option
from mplint.findings import FileResult
from mplint.options import DEFAULT_OPTIONS, RuleOptions
from mplint.rules import Rule, rule_defaults

#: flake8 selects every code that starts with the plugin's entry-point name by default
FAMILY = "MPL"

#: reported when a file cannot be checked, so that no finding is lost without a word
CANNOT_CHECK = "MPL000"


def _selectors(values: Iterable[str] | None) -> list[str]:
    # flake8 has already split comma-separated values into lists; be lenient about stray spaces
    return [part.strip().upper() for value in values or () for part in value.split(",") if part.strip()]


def enabled_codes(
    select: Iterable[str] | None,
    extend_select: Iterable[str] | None,
    rules: Sequence[type[Rule]] | Mapping[str, bool] | None = None,
) -> frozenset[str]:
    """The rules to run: those enabled by default, plus the opt-in rules that flake8's `select` or
    `extend-select` names more precisely than the whole `MPL` family (`MPL010`, `MPL01`).
    `rules`: the rule classes, or each code and whether it is on by default (None: mplint's,
    `rules.rule_defaults`).

    flake8 selects `MPL` for every installed plugin on its own, so the bare prefix cannot be a
    request for opinionated rules. Which of the findings are shown is flake8's decision.
    """
    if rules is None:
        rules = rule_defaults()
    defaults = rules if isinstance(rules, Mapping) else {rule.code: rule.default_enabled for rule in rules}
    chosen = [s for s in _selectors(select) + _selectors(extend_select) if len(s) > len(FAMILY)]
    return frozenset(
        code for code, on in defaults.items() if on or any(code.startswith(s) for s in chosen)
    )


def rule_settings() -> list[Option]:
    """The `[tool.mplint]` keys that change what rules look for (fields of RuleOptions). Rule
    selection and file exclusion are left out: flake8 has its own options for those."""
    fields = {field.name for field in dataclasses.fields(RuleOptions)}
    return [option for option in OPTIONS if option.key.replace("-", "_") in fields]


def flake8_option(option: Option) -> str:
    return f"--mplint-{option.key}"


class Plugin:
    """The flake8 checker: one instance per file."""

    name = "mplint"
    version = __version__

    codes: ClassVar[frozenset[str]] = frozenset(code for code, on in rule_defaults().items() if on)
    options: ClassVar[RuleOptions] = DEFAULT_OPTIONS

    def __init__(self, tree: Any, lines: Sequence[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        # `[tool.mplint]`'s rule settings as `--mplint-KEY`, also read from flake8's config files.
        # Rule selection is flake8's own --select / --extend-select (see enabled_codes).
        for option in rule_settings():
            if isinstance(option.default, bool):
                manager.add_option(
                    flake8_option(option),
                    default=option.default,
                    action="store_true",
                    parse_from_config=True,
                    help=f"mplint: {option.doc}".replace("%", "%%"),
                )
                continue
            if not isinstance(option.default, list):
                raise NotImplementedError(f"flake8 option for a {option.type}: {option.key}")
            manager.add_option(
                flake8_option(option),
                default="",
                parse_from_config=True,
                comma_separated_list=True,
                metavar="NAMES",
                help=f"mplint: {option.doc} Comma-separated.".replace("%", "%%"),
            )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.codes = enabled_codes(getattr(options, "select", None), getattr(options, "extend_select", None))
        values: dict[str, Any] = {}
        for option in rule_settings():
            field = option.key.replace("-", "_")
            given = getattr(options, f"mplint_{field}", None)
            values[field] = bool(given) if isinstance(option.default, bool) else tuple(given or ())
        cls.options = RuleOptions(**values)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        result = _check(self.filename, "".join(self.lines), self.codes, self.options)
        if result.error is not None:
            # flake8 runs tree plugins only on code `ast` can parse, so this is rare: code LibCST
            # cannot parse, or a bug of ours. Say so where flake8 users look.
            error = result.error
            yield (
                error.line or 1,
                max((error.column or 1) - 1, 0),
                f"{CANNOT_CHECK} mplint could not check this file: {error.message}",
                type(self),
            )
            return
        for finding in result.findings:
            # flake8 wants 0-based columns and prints them 1-based, as mplint does
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


def _check(filename: str, source: str, codes: frozenset[str], options: RuleOptions) -> FileResult:
    """The file checked with what the other modules of its project tell it, read from disk
    through the same resolution and cache as the `mplint` command's (flake8 hands over one file,
    or an editor's unsaved buffer with `--stdin-display-name`), in one parse when it can
    (`runner.check_buffer`); `# noqa` is flake8's. flake8 prints no fix: none is built."""
    from mplint.cache import Cache
    from mplint.config import ConfigError, find_config
    from mplint.runner import check_buffer

    try:
        config = find_config(os.getcwd())
    except ConfigError:
        config = None
    try:
        cache = Cache(Cache.default_folder(Path(os.path.dirname(config)) if config else Path.cwd()))
        return check_buffer(filename, source, codes, options, cache, noqa=False, fixes=False)[0]
    except Exception:  # a bug of ours costs the cross-module findings, never flake8's run
        from mplint.engine import lint_source

        return lint_source(source, filename, codes=codes, options=options, noqa=False, fixes=False)
