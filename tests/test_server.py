"""`mplint server` driven by a real LSP client over stdio (pytest-lsp's client, pygls underneath):
the installed console script in a subprocess, as an editor starts it."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Awaitable, Callable

import pytest

types = pytest.importorskip("lsprotocol.types", reason="the server extra is part of the test extra")
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client  # noqa: E402

pytestmark = pytest.mark.slow

SCRIPT = '''\
import multiprocessing


def square(x):
    return x * x


with multiprocessing.Pool(4) as pool:
    print(pool.map(square, range(10)))
'''

MPL001 = (
    '`multiprocessing.Pool(...)` starts a pool of worker processes at import time; under spawn or '
    'forkserver (the default on Windows, macOS, and Linux from Python 3.14) each child re-imports '
    'this module and runs it again: move it under `if __name__ == "__main__":`'
)


def _server_command() -> list[str]:
    script = shutil.which("mplint", path=str(Path(sys.executable).parent))
    assert script is not None, "the mplint console script is installed beside this Python"
    return [script, "server"]


def run(session: Callable[[LanguageClient, Path], Awaitable[None]], root: Path, options: object = None) -> None:
    async def main() -> None:
        client = make_test_lsp_client()
        await client.start_io(*_server_command())
        try:
            await client.initialize_session(types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                initialization_options=options,
            ))
            await asyncio.wait_for(session(client, root), timeout=45)
            await asyncio.wait_for(client.shutdown_session(), timeout=15)
        finally:
            server = client._server  # a failed session must fail the test, not hang it
            if server is not None and server.returncode is None:
                server.kill()
            await asyncio.wait_for(client.stop(), timeout=15)
        assert client.error is None, client.error

    asyncio.run(main())


async def diagnostics_after(client: LanguageClient, uri: str, action: Callable[[], object]) -> list:
    """Does `action`, then waits for the next diagnostics of `uri`."""
    client.diagnostics.pop(uri, None)
    action()
    for _ in range(300):
        if uri in client.diagnostics:
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {uri}")


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> Callable[[], None]:
    return lambda: client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=version, text=text)
    ))


def change_document(client: LanguageClient, path: Path, text: str, version: int) -> Callable[[], None]:
    return lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    ))


def apply_edits(text: str, edits) -> str:
    """What an editor does with a TextEdit list (ASCII buffers: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position) -> int:
        return offsets[min(position.line, len(lines))] + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_diagnostics_on_open_link_to_the_rule_page(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"

    async def session(client: LanguageClient, root: Path) -> None:
        found = await diagnostics_after(client, path.as_uri(), open_document(client, path, SCRIPT))
        assert [(d.code, d.message, d.severity, d.source) for d in found] == [
            ("MPL001", MPL001, types.DiagnosticSeverity.Warning, "mplint")
        ]
        (diagnostic,) = found
        assert diagnostic.range == types.Range(
            start=types.Position(line=7, character=5), end=types.Position(line=7, character=28)
        )
        assert diagnostic.code_description.href.endswith("/docs/rules/MPL001.md")

    run(session, tmp_path)


def test_a_noqa_quick_fix_applied_and_the_diagnostic_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        found = await diagnostics_after(client, uri, open_document(client, path, SCRIPT))
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        ))
        noqa = [a for a in actions if "noqa" in a.title]
        assert [a.title for a in noqa] == ["Suppress MPL001 on this line with `# noqa: MPL001`"]
        assert noqa[0].kind == types.CodeActionKind.QuickFix
        (change,) = noqa[0].edit.document_changes
        fixed = apply_edits(SCRIPT, change.edits)
        assert "with multiprocessing.Pool(4) as pool:  # noqa: MPL001\n" in fixed
        assert await diagnostics_after(client, uri, change_document(client, path, fixed, 2)) == []

    run(session, tmp_path)


def test_hover_on_a_finding_shows_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        await diagnostics_after(client, uri, open_document(client, path, SCRIPT))
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=7, character=10)
        ))
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert hover.contents.value.startswith("**MPL001 unguarded-process-creation**")
        assert "*Why:*" in hover.contents.value and "*Fix:*" in hover.contents.value
        nothing = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=4)
        ))
        assert nothing is None

    run(session, tmp_path)


def test_pyproject_settings_apply_and_are_read_again_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.mplint]\nignore = ["MPL001"]\n')

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        assert await diagnostics_after(client, uri, open_document(client, path, SCRIPT)) == []
        config.write_text('[tool.mplint]\nignore = []\n')
        found = await diagnostics_after(client, uri, lambda: client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)
            ])
        ))
        assert [d.code for d in found] == ["MPL001"]

    run(session, tmp_path)


def test_client_settings_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"
    (tmp_path / "pyproject.toml").write_text('[tool.mplint]\nselect = ["MPL001"]\n')

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        assert await diagnostics_after(client, uri, open_document(client, path, SCRIPT)) == []
        found = await diagnostics_after(client, uri, lambda: client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"mplint": {"select": ["MPL001"]}})
        ))
        assert [d.code for d in found] == ["MPL001"]

    run(session, tmp_path, options={"mplint": {"ignore": ["MPL001"]}})


def test_a_buffer_that_does_not_parse_keeps_the_last_diagnostics_and_logs_one_line(tmp_path: Path) -> None:
    path = tmp_path / "squares.py"

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        found = await diagnostics_after(client, uri, open_document(client, path, SCRIPT))
        client.diagnostics.pop(uri)
        broken = SCRIPT.replace("print(pool.map(square, range(10)))", "print(pool.map(square, range(10))")
        deep = "import multiprocessing\nx = " + "(" * 5000 + ")" * 5000 + "\n"
        for version, text in enumerate((broken, deep, "\udcff\x00", ""), start=2):
            change_document(client, path, text, version)()
            await asyncio.sleep(0.5)
        # the server still answers, and the broken buffers published nothing over the last good one
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)
        ))
        assert hover is None
        lines = [m.message for m in client.log_messages if m.message.startswith("mplint:")]
        assert any("cannot parse" in line for line in lines), lines
        assert all("\n" not in line for line in lines)
        assert found and [d.code for d in found] == ["MPL001"]

    run(session, tmp_path)


def test_editing_one_module_updates_the_finding_in_the_script_that_calls_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    jobs = tmp_path / "app" / "jobs.py"
    serial = "import multiprocessing\n\n\ndef work(x):\n    return x * x\n\n\ndef main():\n    return [work(x) for x in range(4)]\n"
    parallel = (
        "import multiprocessing\n\n\ndef work(x):\n    return x * x\n\n\ndef main():\n"
        "    with multiprocessing.Pool(2) as pool:\n        return pool.map(work, range(4))\n"
    )
    jobs.write_text(serial)
    script = tmp_path / "run.py"
    entry = "from app.jobs import main\n\nprint(main())\n"
    script.write_text(entry)

    async def session(client: LanguageClient, root: Path) -> None:
        assert await diagnostics_after(client, jobs.as_uri(), open_document(client, jobs, serial)) == []
        assert await diagnostics_after(client, script.as_uri(), open_document(client, script, entry)) == []
        # the unsaved change of app/jobs.py reaches run.py's check
        found = await diagnostics_after(client, script.as_uri(), change_document(client, jobs, parallel, 2))
        assert [(d.code, d.range.start.line) for d in found] == [("MPL001", 2)]
        assert "`main()` (app/jobs.py:8)" in found[0].message, found[0].message
        # and undoing it takes the finding away again
        assert await diagnostics_after(client, script.as_uri(), change_document(client, jobs, serial, 3)) == []

    run(session, tmp_path)


TUPLE = '''\
from multiprocessing import Process


def greet(name):
    print("hello", name)


if __name__ == "__main__":
    worker = Process(target=greet, args=("alice"))
    worker.start()
    worker.join()
'''


def test_a_finding_s_own_fix_and_fix_all_as_code_actions(tmp_path: Path) -> None:
    path = tmp_path / "greet.py"

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        found = await diagnostics_after(client, uri, open_document(client, path, TUPLE))
        assert [d.code for d in found] == ["MPL011"]
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        ))
        fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title]
        assert len(fixes) == 1 and fixes[0].is_preferred and "unsafe" not in fixes[0].title, actions
        (change,) = fixes[0].edit.document_changes
        fixed = apply_edits(TUPLE, change.edits)
        assert 'args=("alice",)' in fixed and fixed.replace('("alice",)', '("alice")') == TUPLE
        # the whole file, as an editor asks on save
        (fix_all,) = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        ))
        assert fix_all.kind == "source.fixAll.mplint"
        (change,) = fix_all.edit.document_changes
        assert apply_edits(TUPLE, change.edits) == fixed
        assert await diagnostics_after(client, uri, change_document(client, path, fixed, 2)) == []

    run(session, tmp_path)


def test_code_actions_give_the_fixes_the_command_line_builds_though_diagnostics_build_none(tmp_path: Path) -> None:
    """The diagnostics are checked without fixes; a code action checks the document again with
    them (a script partial parsing blanks most of, with two guard fixes and a tuple fix)."""
    from mplint import lint_source
    from mplint.fixes.edits import apply_edits as apply_fix

    from test_fixes_on_demand import SCRIPT as BIG

    path = tmp_path / "job.py"
    expected = {
        (f.code, f.line - 1): apply_fix(BIG, f.fix.edits) for f in lint_source(BIG, str(path)).findings
        if f.fix is not None
    }
    assert len(expected) == 3

    async def session(client: LanguageClient, root: Path) -> None:
        uri = path.as_uri()
        found = await diagnostics_after(client, uri, open_document(client, path, BIG))
        given = {}
        for diagnostic in found:
            actions = await client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.QuickFix]),
            ))
            for action in actions:
                (of,) = action.diagnostics
                if "noqa" not in action.title and (of.code, of.range) == (diagnostic.code, diagnostic.range):
                    (change,) = action.edit.document_changes
                    given[diagnostic.code, diagnostic.range.start.line] = apply_edits(BIG, change.edits)
        assert given == expected, [action.title for action in actions]

    run(session, tmp_path)


def test_fix_all_is_made_once_per_version_of_the_document(tmp_path: Path) -> None:
    path = tmp_path / "greet.py"
    fix_all_only = types.CodeActionContext(diagnostics=[], only=["source.fixAll"])
    start = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))

    async def fix_all(client: LanguageClient) -> tuple:
        (action,) = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()), range=start, context=fix_all_only,
        ))
        (change,) = action.edit.document_changes
        return change.text_document.version, change.edits

    async def session(client: LanguageClient, root: Path) -> None:
        await diagnostics_after(client, path.as_uri(), open_document(client, path, TUPLE))
        first = await fix_all(client)
        assert await fix_all(client) == first and first[0] == 1
        other = TUPLE.replace('"alice"', '"bob"')
        await diagnostics_after(client, path.as_uri(), change_document(client, path, other, 2))
        version, edits = await fix_all(client)
        assert version == 2 and 'args=("bob",)' in apply_edits(other, edits)

    run(session, tmp_path)
