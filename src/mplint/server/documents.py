"""Checking one editor buffer: the settings that apply to its path, the engine, and the findings as
LSP diagnostics.

Settings come from the `[tool.mplint]` table of the nearest `pyproject.toml` above the file, as on
the command line, with the client's `select`/`ignore` on top (they win, as command-line options
do). They are read again whenever that file changes (its modification time is part of the key).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from mplint.config import CommandLine, ConfigError, Settings, config_file, load_settings
from mplint.findings import FileError, Finding
from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts

#: every finding is a warning: mplint reports mistakes in code that runs, not syntax errors
SEVERITY = types.DiagnosticSeverity.Warning
SOURCE = "mplint"


@dataclass(frozen=True)
class ClientSettings:
    """What the editor's settings may choose (`initializationOptions` or
    `workspace/didChangeConfiguration`, under an `mplint` key or at the top)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()

    @classmethod
    def from_client(cls, value: object) -> "ClientSettings":
        if isinstance(value, dict) and isinstance(value.get("mplint"), dict):
            value = value["mplint"]
        if not isinstance(value, dict):
            return cls()

        def codes(key: str) -> tuple[str, ...] | None:
            given = value.get(key)
            if isinstance(given, str):
                given = given.split(",")
            if not isinstance(given, (list, tuple)):
                return None
            return tuple(str(code).strip() for code in given if str(code).strip())

        return cls(
            select=codes("select"),
            ignore=codes("ignore") or (),
            extend_select=codes("extend-select") or codes("extendSelect") or (),
        )


@dataclass
class Checked:
    """What the last check of a buffer gave."""

    findings: list[Finding] = field(default_factory=list)
    error: FileError | None = None


class SettingsCache:
    """The settings for each configuration file, read again when it changes on disk."""

    def __init__(self) -> None:
        self.client = ClientSettings()
        self._cache: dict[tuple[str | None, int, ClientSettings, str], Settings] = {}

    def for_path(self, path: str) -> Settings:
        """Raises ConfigError for a configuration that cannot be used (its message names the key)."""
        folder = os.path.dirname(os.path.abspath(path))
        command_line = CommandLine(
            select=self.client.select,
            ignore=self.client.ignore,
            extend_select=self.client.extend_select,
        )
        config = config_file(command_line, folder)
        try:
            stamp = os.stat(config).st_mtime_ns if config else 0
        except OSError:
            stamp = -1
        key = (config, stamp, self.client, folder if config is None else "")
        settings = self._cache.get(key)
        if settings is None:
            settings = load_settings(command_line, cwd=folder)
            self._cache[key] = settings
        return settings

    def forget(self) -> None:
        self._cache.clear()


def check(
    source: str, path: str, settings: Settings, unsaved: dict[str, str], fixes: bool = False
) -> tuple[Checked, str]:
    """The findings of one buffer, with its `# noqa` comments applied (none for an excluded file),
    their fixes built only with `fixes` (for code actions: diagnostics show none),
    checked with what the other modules of its project tell it, in one parse when it can
    (`runner.check_buffer`); and the digest of what they told it. They are read from
    disk through the cache the `mplint` command uses, except the other open buffers (`unsaved`),
    read as they are in the editor. A failure of ours in the project step costs the
    cross-module findings, never the server."""
    from mplint.cache import Cache
    from mplint.runner import check_buffer

    if settings.is_excluded(path, ancestors=True):
        return Checked(), NO_PROJECT_FACTS.digest()
    codes, options = settings.codes_for(path), settings.rule_options
    root = Path(os.path.dirname(settings.config_path)) if settings.config_path else Path(path).parent
    try:
        result, told = check_buffer(
            path, source, codes, options, Cache(Cache.default_folder(root)), unsaved, fixes=fixes
        )
    except Exception:
        from mplint.engine import lint_source  # the buffer alone, as if its project said nothing

        result, told = lint_source(source, path, codes=codes, options=options, fixes=fixes), NO_PROJECT_FACTS
    return Checked(result.findings, result.error), told.digest()


def rule_href(code: str) -> str | None:
    from mplint.rule_pages import rule_url
    from mplint.rules import rule_by_code

    rule = rule_by_code(code)
    return rule_url(rule) if rule is not None else None


def diagnostic(finding: Finding, lines: list[str], codec) -> types.Diagnostic:
    """A finding as the client sees it: 0-based lines, columns in the client's units."""
    start = types.Position(line=finding.line - 1, character=finding.column - 1)
    end = types.Position(line=finding.end_line - 1, character=finding.end_column - 1)
    href = rule_href(finding.code)
    return types.Diagnostic(
        range=codec.range_to_client_units(lines, types.Range(start=start, end=end)),
        message=finding.message,
        severity=SEVERITY,
        code=finding.code,
        code_description=types.CodeDescription(href=href) if href else None,
        source=SOURCE,
        data={"name": finding.name},
    )


__all__ = ["Checked", "ClientSettings", "ConfigError", "SettingsCache", "check", "diagnostic"]
