"""Ctrl-C and SIGTERM: stop at once, whatever the run is doing, and exit as a shell expects.

The signals become an exception of mplint's own (not KeyboardInterrupt, which click would turn
into `Aborted!` and exit status 1), so they unwind through the worker pool, which then kills its
workers instead of waiting for them, and reach the entry point, which exits with 128 + the signal
number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

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


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise Interrupted in the main thread."""
    previous = {signum: signal.signal(signum, _raise) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def in_worker() -> None:
    """A worker process's first step: the parent alone decides when to stop. A Ctrl-C reaches every
    process of the terminal's group; the worker ignores it and is killed by its parent."""
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
