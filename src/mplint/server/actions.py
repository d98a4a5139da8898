"""What the editor offers for findings: each finding's own fixes, a `# noqa` for it, and for the
whole file "fix all" (`source.fixAll.mplint`, the kind editors run on save)."""

from __future__ import annotations

from typing import Sequence

from lsprotocol import types

from mplint.add_noqa import with_noqa
from mplint.findings import Finding
from mplint.server.edits import smallest_edit

FIX_ALL = "source.fixAll.mplint"


def _workspace_edit(uri: str, version: int | None, old: str, new: str, lines, codec) -> types.WorkspaceEdit | None:
    edit = smallest_edit(old, new)
    if edit is None:
        return None
    edit.range = codec.range_to_client_units(lines, edit.range)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])])


def noqa_action(
    finding: Finding, uri: str, version: int | None, source: str, lines, codec,
    diagnostic: types.Diagnostic | None,
) -> types.CodeAction | None:
    new, changed = with_noqa(source, [finding])
    if not changed:
        return None
    edit = _workspace_edit(uri, version, source, new, lines, codec)
    if edit is None:
        return None
    return types.CodeAction(
        title=f"Suppress {finding.code} on this line with `# noqa: {finding.code}`",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic] if diagnostic is not None else None,
        edit=edit,
    )


def overlapping(findings: Sequence[Finding], wanted: types.Range) -> list[Finding]:
    """The findings whose range touches `wanted` (0-based, code points)."""
    first, last = wanted.start.line + 1, wanted.end.line + 1
    return [finding for finding in findings if finding.line <= last and finding.end_line >= first]


def _text_edits(fix, lines, codec) -> list[types.TextEdit]:
    """A fix's edits (1-based, end exclusive, in code points) in the client's units."""
    return [
        types.TextEdit(
            range=codec.range_to_client_units(lines, types.Range(
                start=types.Position(line=edit.line - 1, character=edit.column - 1),
                end=types.Position(line=edit.end_line - 1, character=edit.end_column - 1),
            )),
            new_text=edit.text,
        )
        for edit in fix.edits
    ]


def fix_action(
    finding: Finding, uri: str, version: int | None, lines, codec, diagnostic: types.Diagnostic | None,
) -> types.CodeAction | None:
    """The finding's own fix, labelled unsafe where `--fix` would need `--unsafe-fixes`."""
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.CodeAction(
        title=f"{finding.code}: {fix.title}" + ("" if fix.safe else " (unsafe fix)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic] if diagnostic is not None else None,
        is_preferred=fix.safe,
        edit=types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(text_document=document, edits=_text_edits(fix, lines, codec))
        ]),
    )


def fix_all_action(
    uri: str, version: int | None, source: str, path: str, settings, lines, codec,
) -> types.CodeAction | None:
    """Every safe fix of the buffer, made as `mplint --fix` makes them (in rounds, each checked)."""
    from mplint.fixes.apply import fix_source

    outcome = fix_source(source, path, codes=settings.codes_for(path), options=settings.rule_options)
    edit = _workspace_edit(uri, version, source, outcome.source, lines, codec)
    if edit is None:
        return None
    count = len(outcome.applied)
    return types.CodeAction(
        title=f"mplint: fix all safe fixes ({count} fix{'' if count == 1 else 'es'})",
        kind=FIX_ALL,
        edit=edit,
    )
