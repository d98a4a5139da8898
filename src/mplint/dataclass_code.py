"""The methods `dataclasses` generates, compiled once and kept between runs, as Python keeps a
module's bytecode.

A dataclass's `__init__`, `__repr__`, `__eq__`, `__setattr__`, ... are written as source text and
compiled when its class is defined: about a thousand compilations for LibCST's node classes at
every start, 0.07 s of the 0.18 s its import costs, and a dozen for the classes a run with nothing
to parse defines. Inside `kept()`, `dataclasses` compiles through `_exec`, which looks the text up
first among the code objects compiled for it before: a file per module that defines the classes
(LibCST's and mplint's only), beside mplint's own bytecode (`__pycache__`), so that a run reads
the code of the classes it defines and no other, keyed by the text itself and read only with the
bytecode format (`importlib.util.MAGIC_NUMBER`) it was written with. A code object is what
compiling its text gives, so a class defined from a kept one is the class compiling would have
made; a text not among them is compiled as `exec` would, and the module's file written again
when the outermost `kept()` closes (not where Python writes no bytecode,
`sys.dont_write_bytecode`; where it cannot be written, it is not). Outside `kept()`,
`dataclasses` is as it was.
"""

# (no `from __future__ import annotations` here: a text is compiled with the future flags of the
# code that asked for it, and `exec` given a text inherits those of the frame that calls it)

import __future__
import builtins
import contextlib
import os
import sys
import threading
from types import CodeType
from typing import Any, Dict, Iterator, Optional

from mplint import beside_bytecode

#: the packages whose classes' code is kept (a class another package defines meanwhile, e.g. in
#: another thread, is compiled as `exec` would)
PACKAGES = frozenset({"libcst", "mplint"})
#: the compiler flags that `from __future__ import ...` sets
_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag

#: where the files are: beside mplint's own bytecode
FOLDER = os.path.join(os.path.dirname(__file__), "__pycache__")

_lock = threading.RLock()
_depth = 0
#: by module: the code objects read from its file (text -> code), those used, those compiled since
_read: Dict[str, Dict[str, CodeType]] = {}
_used: Dict[str, Dict[str, CodeType]] = {}
_compiled: Dict[str, Dict[str, CodeType]] = {}


def _magic() -> bytes:
    import importlib.util

    return importlib.util.MAGIC_NUMBER


def _file_of(module: str) -> Optional[str]:
    return beside_bytecode.path_of(FOLDER, f"dataclass-code.{module}")


def _load(module: str) -> Dict[str, CodeType]:
    """The code objects kept for `module`'s classes; none when nothing readable is kept (they are
    compiled again, and written again)."""
    path = _file_of(module)
    found = None if path is None else beside_bytecode.read(path, _magic)
    if not isinstance(found, dict):
        return {}
    return {text: code for text, code in found.items() if isinstance(text, str) and isinstance(code, CodeType)}


def _code_for(text: str, module: str) -> CodeType:
    with _lock:
        read = _read.get(module)
        if read is None:
            read = _read[module] = _load(module)
        code = read.get(text)
        if code is not None:
            _used.setdefault(module, {})[text] = code
            return code
        code = compile(text, "<string>", "exec", dont_inherit=True)
        _compiled.setdefault(module, {})[text] = code
        return code


def _exec(source: Any, globals: Optional[Dict[str, Any]] = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it: a text for a class of LibCST's or mplint's is compiled
    from what is kept (where the frame that asked compiled no future flag in), anything else as
    `exec` would."""
    caller = sys._getframe(1)
    if globals is None:  # as `exec`: the caller's namespaces
        globals = caller.f_globals
        if locals is None:
            locals = caller.f_locals
    if isinstance(source, str):
        flags = caller.f_code.co_flags & _FUTURE_FLAGS
        module = globals.get("__name__")
        if flags or not isinstance(module, str) or module.partition(".")[0] not in PACKAGES:
            source = compile(source, "<string>", "exec", flags=flags, dont_inherit=True)
        else:
            source = _code_for(source, module)
    builtins.exec(source, globals, locals)


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """While it lasts, the classes `dataclasses` makes use the code kept by earlier runs; what it
    compiled is written as the outermost one closes."""
    global _depth
    import dataclasses

    with _lock:
        _depth += 1
        if _depth == 1:
            dataclasses.exec = _exec  # type: ignore[attr-defined]  # (a module's name, before builtins')
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                vars(dataclasses).pop("exec", None)
                _save()


def _save() -> None:
    """Write again the file of each module for which a text was compiled: what this process used
    of it and compiled (so it holds what its classes ask, not every text ever asked)."""
    for module, compiled in list(_compiled.items()):
        del _compiled[module]
        codes = {**_used.get(module, {}), **compiled}
        _read.setdefault(module, {}).update(compiled)
        _used.setdefault(module, {}).update(compiled)
        path = _file_of(module)
        if path is not None:
            beside_bytecode.write(path, codes, _magic())
