"""The `[tool.mplint]` settings: their schema, where they are read from, and which rules they enable.

`OPTIONS` is the one description of the configuration: it drives validation here and the
configuration page of the docs. The command line mirrors the same keys and wins over the file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from mplint.globs import Glob
from mplint.options import DEFAULT_OPTIONS, RuleOptions


class ConfigError(Exception):
    """A configuration or usage mistake, phrased for the user (exit code 2)."""


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_glob_table(value: object) -> bool:
    return isinstance(value, dict) and all(_is_str_list(codes) for codes in value.values())


class Option(NamedTuple):  # (cheaper to define than a dataclass: every run reads its settings)
    key: str
    type: str  # as a user would write it in TOML; shown in errors and in the docs
    default: Any
    doc: str
    valid: Callable[[object], bool]
    holds_codes: bool = False  # values (or table values) are rule codes or prefixes
    #: what the command-line option of the same name does with the file's value: "replaces" or
    #: "adds to" it; None when there is no such option
    command_line: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option("select", "list of rule codes", None,
           "Rules to check, replacing the default set (the rules enabled by default). "
           "Codes or prefixes: MPL001, MPL00, MPL.",
           _is_str_list, holds_codes=True, command_line="replaces"),
    Option("extend-select", "list of rule codes", [],
           "Rules to check in addition to `select` (or to the default set).",
           _is_str_list, holds_codes=True, command_line="adds to"),
    Option("ignore", "list of rule codes", [],
           "Rules not to check. Where a selected and an ignored prefix both match a code, "
           "the longer one wins; on a tie the rule is ignored.",
           _is_str_list, holds_codes=True, command_line="adds to"),
    Option("exclude", "list of globs", [],
           "Paths not to check when walking folders, relative to this file's folder. "
           "Matched against the relative path and the file or folder name. "
           "Files named on the command line are checked unless `--force-exclude` is given.",
           _is_str_list, command_line="replaces"),
    Option("extend-exclude", "list of globs", [],
           "More paths not to check, added to `exclude`.",
           _is_str_list, command_line="adds to"),
    Option("per-file-ignores", "table of glob = list of rule codes", {},
           "Rules not to check in the files a glob matches, e.g. "
           '`"tests/*" = ["MPL001"]`.',
           _is_glob_table, holds_codes=True),
    Option("src", "list of folders", [".", "src"],
           "The folders that hold the project's importable code (its source roots), relative to "
           "this file's folder, as ruff's `src`: where `import app.jobs` is looked for when a "
           "call is followed into another module of the project. The folder of each script "
           "comes first, as Python's `sys.path[0]` does.",
           _is_str_list),
    Option("io-bound-calls", "list of qualified names", [],
           "More callables that block on I/O, for MPL004 (`io-bound-process`) and MPL024 "
           "(`cpu-bound-threads`, which they keep silent): a prefix ending "
           'with "." covers a whole module (`"mycompany.http."`), a name without one covers that '
           'callable and what is below it (`"mycompany.rpc.call"`). Added to the built-in list.',
           _is_str_list),
    Option("free-threaded", "boolean", False,
           "The project runs on a free-threaded build of CPython (3.13t and later, `python -X gil=0`), "
           "where threads run Python code in parallel: MPL024 (`cpu-bound-threads`) is then silent, "
           "since CPU-bound threads do speed up there.",
           lambda value: isinstance(value, bool)),
)
OPTIONS_BY_KEY = {option.key: option for option in OPTIONS}


# --- Which rules are enabled ------------------------------------------------------------------


class Selection(NamedTuple):  # (cheaper to define than a dataclass: every run reads its settings)
    """One layer of rule selection: the config file's, then the command line's on top."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def _longest_match(code: str, selectors: Iterable[str]) -> int:
    return max((len(s) for s in selectors if code.startswith(s)), default=-1)


def resolve_codes(rules: Mapping[str, bool], layers: Iterable[Selection]) -> frozenset[str]:
    """The enabled codes, given every rule code with whether it is on by default.

    Each layer starts from the previous layer's result (the first from the default set), or from
    nothing if it has its own `select`. Within a layer the most specific matching selector decides.
    """
    enabled = {code for code, on in rules.items() if on}
    for layer in layers:
        start = set() if layer.select is not None else enabled
        chosen = (*(layer.select or ()), *layer.extend_select)
        next_enabled = set()
        for code in rules:
            selected, ignored = _longest_match(code, chosen), _longest_match(code, layer.ignore)
            if selected > ignored or (selected == ignored == -1 and code in start):
                next_enabled.add(code)
        enabled = next_enabled
    return frozenset(enabled)


def check_selectors(where: str, values: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """Upper-cased selectors; an error naming `where` for one that matches no rule."""
    known = tuple(known)
    out = []
    for value in values:
        selector = value.strip().upper()
        if not selector or not any(code.startswith(selector) for code in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {value!r}")
        out.append(selector)
    return tuple(out)


# --- Reading the file ---------------------------------------------------------------------------


def shown(path: str) -> str:
    """`path` relative to the current folder when it is inside it, as messages show it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # imported by the runs that find a pyproject.toml only
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"{shown(path)}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown(path)}: invalid TOML: {exc}") from None


def _mplint_table(document: dict[str, Any]) -> object | None:
    tool = document.get("tool")
    return tool.get("mplint") if isinstance(tool, dict) else None


def find_config(start: str) -> str | None:
    """The nearest pyproject.toml with a [tool.mplint] table, from `start` upwards."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _mplint_table(_read_toml(candidate)) is not None:
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def read_config(path: str) -> dict[str, Any]:
    """The validated [tool.mplint] table of `path` (not yet checked against the rule codes)."""
    table = _mplint_table(_read_toml(path))
    where = f"{shown(path)}: [tool.mplint]"
    if table is None:
        raise ConfigError(f"{where}: no such table")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    for key, value in table.items():
        option = OPTIONS_BY_KEY.get(key)
        if option is None:
            import difflib  # only on this error path

            close = difflib.get_close_matches(key, OPTIONS_BY_KEY, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(OPTIONS_BY_KEY)})"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        if not option.valid(value):
            raise ConfigError(f"{where} {key}: expected a {option.type}, got {value!r}")
    return table


# --- Settings for a run -------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandLine:
    """The settings given as options; None (or empty) where the option was not given."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    config: str | None = None


@dataclass(frozen=True)
class Settings:
    enabled: frozenset[str]
    exclude: tuple[Glob, ...] = ()
    per_file_ignores: tuple[tuple[Glob, tuple[str, ...]], ...] = ()
    config_path: str | None = None
    #: what some rules read besides selection (the engine hands it to every rule)
    rule_options: RuleOptions = DEFAULT_OPTIONS

    def codes_for(self, path: str) -> frozenset[str]:
        """The codes to check in `path`: the enabled ones minus its per-file ignores."""
        ignored = [
            selector
            for glob, selectors in self.per_file_ignores
            if glob.matches(path, ancestors=True)
            for selector in selectors
        ]
        if not ignored:
            return self.enabled
        return frozenset(code for code in self.enabled if not code.startswith(tuple(ignored)))

    def is_excluded(self, path: str, *, ancestors: bool = False) -> bool:
        """Whether `path` matches `exclude`; with `ancestors`, also when a folder holding it does
        (for `--force-exclude`, where a named file is not reached by walking its folders)."""
        return any(glob.matches(path, ancestors=ancestors) for glob in self.exclude)


def _default_rules() -> dict[str, bool]:
    from mplint.rules import rule_defaults  # read from the rules' source, none is imported

    return rule_defaults()


def config_file(command_line: CommandLine, cwd: str | None = None) -> str | None:
    """The configuration file a run reads: `--config`, else the nearest with a [tool.mplint]."""
    cwd = os.path.abspath(cwd or os.getcwd())
    if command_line.config is not None:
        return os.path.abspath(os.path.join(cwd, command_line.config))
    return find_config(cwd)


def load_settings(
    command_line: CommandLine = CommandLine(),
    *,
    cwd: str | None = None,
    rules: Mapping[str, bool] | None = None,
) -> Settings:
    """Settings from the config file (--config, else the nearest) with the command line on top."""
    cwd = os.path.abspath(cwd or os.getcwd())
    rules = _default_rules() if rules is None else rules
    path = config_file(command_line, cwd)
    table = read_config(path) if path else {}
    base = os.path.dirname(path) if path else cwd
    where = f"{shown(path)}: [tool.mplint]" if path else ""

    def codes(key: str) -> tuple[str, ...]:
        return check_selectors(f"{where} {key}", table.get(key, []), rules)

    file_layer = Selection(
        select=codes("select") if "select" in table else None,
        extend_select=codes("extend-select"),
        ignore=codes("ignore"),
    )
    cli_layer = Selection(
        select=None if command_line.select is None
        else check_selectors("--select", command_line.select, rules),
        extend_select=check_selectors("--extend-select", command_line.extend_select, rules),
        ignore=check_selectors("--ignore", command_line.ignore, rules),
    )
    per_file_ignores = tuple(
        (Glob(pattern, base), check_selectors(f"{where} per-file-ignores {pattern!r}", selectors, rules))
        for pattern, selectors in table.get("per-file-ignores", {}).items()
    )
    if command_line.exclude is not None:
        exclude = [Glob(pattern, cwd) for pattern in command_line.exclude]
    else:
        exclude = [Glob(pattern, base) for pattern in table.get("exclude", [])]
    exclude += [Glob(pattern, base) for pattern in table.get("extend-exclude", [])]
    exclude += [Glob(pattern, cwd) for pattern in command_line.extend_exclude]
    enabled = resolve_codes(rules, (file_layer, cli_layer))
    if not enabled and rules:
        if command_line.select == ():
            culprit = "--select is empty"
        elif file_layer.select == () and command_line.select is None:
            culprit = f"{where} select is empty"
        else:
            culprit = "the selection and the ignores leave nothing"
        raise ConfigError(f"no rule to check: {culprit}; name at least one rule (`mplint --list-rules`)")
    return Settings(
        enabled=enabled,
        exclude=tuple(exclude),
        per_file_ignores=per_file_ignores,
        config_path=path,
        rule_options=RuleOptions(
            io_bound_calls=tuple(table.get("io-bound-calls", ())),
            free_threaded=table.get("free-threaded", False),
        ),
    )
