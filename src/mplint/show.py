"""`--show-files` and `--show-settings`: what a run would check, and with which configuration."""

from __future__ import annotations

import json
import os
from typing import Sequence

from mplint.config import OPTIONS, CommandLine, Option, Settings, config_file, read_config, shown


def files(paths: Sequence[str], settings: Settings, *, force_exclude: bool = False) -> tuple[list[str], list[str]]:
    """One line a file a run would check, saying whether it needs a parse (the prefilter and the
    size limit decide that without LibCST); and the lines for paths that could not be listed."""
    from mplint.discovery import discover
    from mplint.precheck import precheck
    from mplint.runner import read_source

    found = discover(
        [path for path in paths if path != "-"],
        settings.is_excluded,
        force_excluded=(lambda path: settings.is_excluded(path, ancestors=True)) if force_exclude else None,
    )
    lines = []
    for path in found.files:
        source = read_source(path)
        ready = source if not isinstance(source, bytes) else precheck(source, path, settings.codes_for(path))
        if not isinstance(ready, tuple):
            if ready.error is not None:
                lines.append(f"{path}: cannot check: {ready.error.message}")
            else:
                lines.append(f"{path}: no parse (it cannot hold a finding of the rules enabled for it)")
        else:
            lines.append(f"{path}: parse")
    problems = [f"{error.path}: {error.message}" for error in found.errors]
    problems += [f"{path}: no Python file to check" for path in found.empty]
    return lines, problems


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {_toml(item)}" for key, item in value.items()) + " }"
    if value is None:
        return "(the rules enabled by default)"
    return json.dumps(value)


def _origin(option: Option, command_line: CommandLine, table: dict, path: str | None) -> tuple[object, str]:
    in_file = option.key in table
    file_value = table.get(option.key, option.default)
    where = f"{shown(path)}" if path and in_file else "default"
    given = getattr(command_line, option.key.replace("-", "_"), None) if option.command_line else None
    if given is None or (given == () and option.command_line == "adds to"):
        return file_value, where
    flag = f"--{option.key}"
    if option.command_line == "replaces":
        return list(given), flag
    return [*(file_value or []), *given], (f"{where} + {flag}" if in_file else flag)


def settings_report(command_line: CommandLine, settings: Settings, cwd: str | None = None) -> str:
    """Every `[tool.mplint]` key with its value in effect and where that came from (the default,
    the file, an option), as TOML with the origin in a comment; then the rules that will run."""
    path = config_file(command_line, cwd)
    table = read_config(path) if path else {}
    rows = [(option.key, *_origin(option, command_line, table, path)) for option in OPTIONS]
    lines = [f"# configuration file: {shown(path) if path else 'none (no pyproject.toml with [tool.mplint] found)'}",
             "[tool.mplint]"]
    width = max(len(f"{key} = {_toml(value)}") for key, value, _ in rows)
    for key, value, origin in rows:
        lines.append(f"{f'{key} = {_toml(value)}':<{width}}  # {origin}")
    lines.append(f"# rules enabled: {', '.join(sorted(settings.enabled))}")
    return "\n".join(lines)
