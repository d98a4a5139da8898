"""`mplint server`: the language server (LSP over stdio) for editors.

It needs the `server` extra (`pip install 'mplint[server]'`, which brings pygls and lsprotocol);
the linter itself does not. The modules:

- `edits.py`: text changes as LSP edits (the smallest replacement between two texts);
- `documents.py`: checking one buffer with the settings that apply to it, findings as diagnostics;
- `actions.py`: the code actions for a finding (its fixes, a `# noqa`) and for a whole file;
- `app.py`: the protocol: which request or notification does what.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Serve over stdin/stdout until the client says exit; 2 when the extra is not installed."""
    try:
        from mplint.server.app import serve
    except ImportError as missing:  # pygls or lsprotocol absent
        print(
            f"mplint server: needs the server extra ({missing.name} is not installed): "
            "pip install 'mplint[server]'",
            file=sys.stderr,
        )
        return 2
    serve()
    return 0
