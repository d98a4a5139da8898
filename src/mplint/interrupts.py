"""Ctrl-C and SIGTERM: stop at once, whatever the run is doing, and exit as a shell expects.

The signals become an exception of mplint's own (not KeyboardInterrupt, which click would turn
into `Aborted!` and exit status 1), so they unwind through the worker pool, which then kills its
workers instead of waiting for them, and reach the entry point, which exits with 128 + the signal
number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import contextlib
import sys

TYPE_CHECKING = False  # (typing is not imported: the console script opens this first, memo answers too)
if TYPE_CHECKING:
    from typing import Any, Iterator, NoReturn

# The C module `signal.py` wraps: the same functions and numbers, without the enumerations the
# wrapper builds at import (about 0.5 ms of every run); the enumerations are imported for a name
import _signal as signal

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)
)


class Interrupted(BaseException):
    """A stop signal arrived. A BaseException, so that no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        from signal import Signals

        super().__init__(Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


#: the last stop signal that arrived (None: none): where its exception was swallowed (raised in a
#: `__del__` or a weakref callback, whose exceptions Python ignores, or wrapped by `__set_name__`
#: into a RuntimeError), the entry point still knows the run was interrupted
received: int | None = None
#: how many `signals_as_exceptions` blocks are open: the outermost one resets `received`
_open = 0
#: back to the start of the terminal's line, and clear it (a progress line may be on it)
CLEAR_LINE = "\r\033[K"


def _raise(signum: int, frame: object) -> None:
    global received
    received = signum
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise Interrupted in the main thread; where Python
    ignores that exception (a `__del__`, a weakref callback), it prints nothing (`received`
    tells the entry point; it is reset as the outermost block starts: the console script's
    opens as its first step, so a signal during the start-up ends the run as a later one does)."""
    global received, _open
    if not _open:
        received = None
    previous = {signum: signal.signal(signum, _raise) for signum in SIGNALS}
    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)

    sys.unraisablehook = quiet
    _open += 1  # (once the handlers are set: where they cannot be, off the main thread, it stays shut)
    try:
        yield
    finally:
        _open -= 1
        sys.unraisablehook = hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def entry_point() -> Iterator[None]:
    """An entry point's block: signals as exceptions within it (`signals_as_exceptions`), and a
    run a signal stopped ends as interrupted (`exit_interrupted`), whether its exception came
    out, was swallowed (raised in a `__del__`: the run went on to its exit) or wrapped (into
    `__set_name__`'s RuntimeError). Blocks nest: the inner one reports, the outer one lets its
    exit through."""
    try:
        with signals_as_exceptions():
            yield
    except Interrupted as stop:
        exit_interrupted(stop.signum)
    except BaseException:
        if received is not None:
            exit_interrupted(received)
        raise


def exit_interrupted(signum: int) -> NoReturn:
    """End the run as interrupted by `signum`: one line on stderr, exit status 128 + its number
    (once: the signal is reported, `received` forgets it, and an outer entry point lets the exit
    through)."""
    global received
    received = None
    stop = Interrupted(signum)
    stream = sys.stderr
    try:
        stream.write(f"{CLEAR_LINE if stream.isatty() else ''}mplint: interrupted ({stop})\n")
        stream.flush()
    except (OSError, ValueError, AttributeError):  # (no stderr, or a closed one: the status says it)
        pass
    sys.exit(stop.exit_status)


def in_worker() -> None:
    """A worker process's first step: the parent alone decides when to stop. A Ctrl-C reaches every
    process of the terminal's group; the worker ignores it and is killed by its parent."""
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
