"""How long an editor waits for mplint's diagnostics after a change, through `mplint server`.

    python benchmarks/server_latency.py [--lines 2000] [--rounds 15]

Needs the server extra (`pip install -e '.[server]'`) and pytest-lsp's client (in the test extra).
It starts `mplint server` as an editor does, opens a generated module of about `--lines` lines
that uses a pool (so it is parsed and has a finding), then changes one line `--rounds` times and
measures, for each change, the wall time from sending `textDocument/didChange` to receiving its
`textDocument/publishDiagnostics`. That includes the server's debounce (the time it waits for the
next keystroke before checking); the table shows it with and without. The first check (the
`didOpen`, which also imports LibCST and the rules) is shown apart. Then it asks for the code
actions at the finding, twice: diagnostics are checked without building fixes, so the first
request for a version of the document builds them (a check with its fixes), the second is
answered from what the first kept. The load average is printed: on a shared machine, compare
figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

from generated import module
from mplint.server.app import DEBOUNCE

async def measure(lines: int, rounds: int) -> tuple[float, list[float], int, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="mplint-lsp-bench-"))
    path = folder / "big_module.py"
    text = module(lines)
    path.write_text(text)
    uri = path.as_uri()
    command = shutil.which("mplint", path=os.path.dirname(sys.executable)) or "mplint"
    client = make_test_lsp_client()
    await client.start_io(command, "server")
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=folder.as_uri()
        ))

        async def published() -> None:
            while uri not in client.diagnostics:
                await asyncio.sleep(0.002)

        start = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        ))
        await asyncio.wait_for(published(), 60)
        first = time.perf_counter() - start
        findings = len(client.diagnostics[uri])
        waits = []
        for version in range(2, rounds + 2):
            changed = text.replace("scale=0)", f"scale={version})", 1)
            client.diagnostics.pop(uri, None)
            start = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=changed)],
            ))
            await asyncio.wait_for(published(), 60)
            waits.append(time.perf_counter() - start)
        actions = []
        for _ in range(2):
            found = client.diagnostics[uri]
            start = time.perf_counter()
            await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=found[0].range,
                context=types.CodeActionContext(diagnostics=list(found)),
            )), 60)
            actions.append(time.perf_counter() - start)
        await client.shutdown_session()
    finally:
        await client.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return first, waits, findings, actions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    first, waits, findings, actions = asyncio.run(measure(args.lines, args.rounds))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"mplint server, a {args.lines}-line module ({findings} finding), {args.rounds} changes; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"| what | median s | min s | max s |\n|---|---|---|---|")
    print(f"| first check (didOpen, imports LibCST and the rules) | {first:.3f} | | |")
    print(f"| change -> diagnostics | {statistics.median(waits):.3f} | {min(waits):.3f} | {max(waits):.3f} |")
    check = [wait - DEBOUNCE for wait in waits]
    print(f"| the same less the {DEBOUNCE} s debounce | {statistics.median(check):.3f} | "
          f"{min(check):.3f} | {max(check):.3f} |")
    print(f"| code actions at the finding, first request for this version | {actions[0]:.3f} | | |")
    print(f"| the same, asked again | {actions[1]:.3f} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
