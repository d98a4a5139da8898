"""The protocol: what each request and notification of the Language Server Protocol does.

Diagnostics are published for a document when it is opened, saved, and a moment after each change
(`DEBOUNCE` seconds after the last keystroke), from the unsaved buffer. A buffer that cannot be
checked (it does not parse while being typed) keeps the diagnostics of its last good state, and
one line goes to the client's log: clearing them would make every warning blink out and back at
each keystroke of an unfinished line.

Diagnostics show no fix, so they are checked without building any (no rewrite located, no
guard plan made); the first code action asked for a version of a document checks it
again with its fixes, which are kept with that version.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from mplint import __version__
from mplint.config import ConfigError
from mplint.findings import Finding
from mplint.server.actions import FIX_ALL, fix_action, fix_all_action, noqa_action, overlapping
from mplint.server.documents import Checked, ClientSettings, SettingsCache, check, diagnostic

#: seconds between the last change of a buffer and its check
DEBOUNCE = 0.15


@dataclass
class _Document:
    version: int | None
    checked: Checked
    source: str
    #: what the project told this check (`ProjectFacts.digest`): checked again when it changes
    project: str = ""
    #: the findings with their fixes, once a code action asked for them (this version only)
    fixed: list[Finding] | None = None
    #: the "fix all" action (a list of none or one), once asked for, with the document's version
    fix_all: tuple[int | None, list[types.CodeAction]] | None = None


class MplintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("mplint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = SettingsCache()
        #: the last successful check of each open document
        self.documents: dict[str, _Document] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    # --- checking ---------------------------------------------------------------------------

    def path_of(self, uri: str) -> str:
        return to_fs_path(uri) or uri

    def check_now(self, uri: str, only_if_told_more: bool = False) -> None:
        """Checks the buffer and publishes its diagnostics; with `only_if_told_more`, only when
        the buffer or what its project tells it changed since the last check."""
        document = self.workspace.get_text_document(uri)
        path = self.path_of(uri)
        try:
            settings = self.settings.for_path(path)
        except ConfigError as error:  # nothing to check with: no diagnostics, one line why
            self.log(types.MessageType.Error, f"mplint: configuration error: {error}")
            self.documents.pop(uri, None)
            self.publish(uri, document.version, [])
            return
        checked, told = check(document.source, path, settings, self.unsaved(uri))
        known = self.documents.get(uri)
        if only_if_told_more and known is not None and known.source == document.source and known.project == told:
            return  # neither the buffer nor what its project says changed: its diagnostics stand
        if checked.error is not None:
            self.log(types.MessageType.Info, f"mplint: {checked.error}")
            return  # the last diagnostics stay (see the module's docstring)
        self.documents[uri] = _Document(document.version, checked, document.source, told)
        lines, codec = document.lines, document.position_codec
        self.publish(uri, document.version, [diagnostic(finding, lines, codec) for finding in checked.findings])

    def unsaved(self, uri: str) -> dict[str, str]:
        """The other open buffers, by path."""
        return {
            self.path_of(other): text.source for other, text in self.workspace.text_documents.items() if other != uri
        }

    def publish(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
        )

    def check_later(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()

        async def later() -> None:
            await asyncio.sleep(DEBOUNCE)
            self._pending.pop(uri, None)
            self.check_now(uri)
            self.check_others(uri)

        self._pending[uri] = asyncio.get_running_loop().create_task(later())

    def check_others(self, changed: str) -> None:
        """The other open buffers of the project, where what the changed one does may change a
        finding (a function in `app/cli.py` that now starts a pool, called by `run.py`)."""
        for uri in list(self.workspace.text_documents):
            if uri != changed:
                self.check_now(uri, only_if_told_more=True)

    def check_open_documents(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.check_now(uri)

    def log(self, kind: types.MessageType, message: str) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def current_findings(self, uri: str) -> tuple[list[Finding], str] | None:
        """The findings of the document as it is now, checked afresh if it changed since."""
        known = self.documents.get(uri)
        document = self.workspace.get_text_document(uri)
        if known is None or known.source != document.source:
            self.check_now(uri)
            known = self.documents.get(uri)
            if known is None or known.source != document.source:
                return None
        return known.checked.findings, known.source

    def fix_all(self, uri: str) -> list[types.CodeAction]:
        """The "fix all" action of the document as `findings_with_fixes` last saw it, made once
        for its version (editors ask for code actions whenever the cursor moves)."""
        known = self.documents[uri]
        document = self.workspace.get_text_document(uri)
        if known.fix_all is None or known.fix_all[0] != document.version:
            path = self.path_of(uri)
            try:
                settings = self.settings.for_path(path)
            except ConfigError:
                return []
            action = fix_all_action(uri, document.version, known.source, path, settings, document.lines,
                                    document.position_codec)
            known.fix_all = (document.version, [action] if action is not None else [])
        return known.fix_all[1]

    def findings_with_fixes(self, uri: str) -> tuple[list[Finding], str] | None:
        """`current_findings`, each finding with its fix: the document is checked again with its
        fixes built the first time a code action asks for this version of it."""
        if self.current_findings(uri) is None:
            return None
        known = self.documents[uri]
        if known.fixed is None:
            path = self.path_of(uri)
            try:
                settings = self.settings.for_path(path)
            except ConfigError:
                return known.checked.findings, known.source
            checked, _ = check(known.source, path, settings, self.unsaved(uri), fixes=True)
            known.fixed = checked.findings if checked.error is None else known.checked.findings
        return known.fixed, known.source


server = MplintServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: MplintServer, params: types.InitializeParams) -> None:
    ls.settings.client = ClientSettings.from_client(params.initialization_options)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def _configuration(ls: MplintServer, params: types.DidChangeConfigurationParams) -> None:
    ls.settings.client = ClientSettings.from_client(params.settings)
    ls.settings.forget()
    ls.check_open_documents()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def _watched(ls: MplintServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A `pyproject.toml` changed (or another file the client watches): check again."""
    ls.settings.forget()
    ls.check_open_documents()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: MplintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.check_now(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: MplintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.check_later(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: MplintServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if os.path.basename(ls.path_of(uri)) == "pyproject.toml":
        ls.settings.forget()
        ls.check_open_documents()
    else:
        ls.check_now(uri)
        ls.check_others(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: MplintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    ls.publish(uri, None, [])


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: MplintServer, params: types.HoverParams) -> types.Hover | None:
    from mplint.rules import rule_by_code
    from mplint.rule_pages import rule_url

    known = ls.current_findings(params.text_document.uri)
    if known is None:
        return None
    document = ls.workspace.get_text_document(params.text_document.uri)
    at = document.position_codec.position_from_client_units(document.lines, params.position)
    line, column = at.line + 1, at.character + 1
    parts = []
    for finding in known[0]:
        inside = (finding.line, finding.column) <= (line, column) <= (finding.end_line, finding.end_column)
        rule = rule_by_code(finding.code)
        if inside and rule is not None:
            parts.append(
                f"**{rule.code} {rule.name}**: {rule.summary}\n\n"
                f"*Why:* {rule.why}\n\n*Fix:* {rule.fix}\n\n[{rule.code} documentation]({rule_url(rule)})"
            )
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def _code_actions(ls: MplintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    known = ls.findings_with_fixes(uri)
    if known is None:
        return []
    findings, source = known
    document = ls.workspace.get_text_document(uri)
    lines, codec = document.lines, document.position_codec
    wanted = codec.range_from_client_units(lines, params.range)
    ours = {
        (diag.code, diag.range.start.line): diag
        for diag in params.context.diagnostics if diag.source == "mplint"
    }
    only = params.context.only
    actions: list[types.CodeAction | None] = []
    if not only or any(kind.startswith(types.CodeActionKind.QuickFix) for kind in only):
        for finding in overlapping(findings, types.Range(start=types.Position(line=wanted.start.line, character=0),
                                                          end=types.Position(line=wanted.end.line, character=0))):
            diagnostic = ours.get((finding.code, finding.line - 1))
            actions.append(fix_action(finding, uri, document.version, lines, codec, diagnostic))
            actions.append(noqa_action(finding, uri, document.version, source, lines, codec, diagnostic))
    wants_fix_all = only and any(FIX_ALL.startswith(kind) for kind in only)
    if (wants_fix_all or not only) and any(f.fix is not None and f.fix.safe for f in findings):
        actions += ls.fix_all(uri)
    return [action for action in actions if action is not None]


def serve() -> None:
    server.start_io()
