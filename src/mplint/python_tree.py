"""Python's own tree of a module's text, where Python reads it: partial parsing, the engine (for a
file parsed whole) and the facts' lines ask it, and none of them reports Python's errors."""

from __future__ import annotations

import ast
import gc
import warnings


def python_tree(text: str) -> ast.Module | None:
    """None where Python refuses the text, or cannot read it (syntax newer than the running
    Python, nesting deeper than its parser takes). Made with the collector off: the tree holds no
    cycle, and young collections would only traverse it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not ours to report
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    finally:
        if collecting:
            gc.enable()
