"""Fixes of shared state and of what ends a pool: an update of a shared `Value` put under its own
lock (MPL005), a pool never closed closed and joined after its last use (MPL002)."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from mplint.fixes import Rewrite
from mplint.fixes.rewrite import after_last_use, under_with


def hold_own_lock(update: cst.BaseSmallStatement, name: str, *, safe: bool) -> Rewrite:
    """`v.value += 1` -> `with v.get_lock():` and the update indented under it; changes nothing
    (so is no fix) unless the update is the whole of its line, in an indented block."""
    lock = cst.parse_expression(f"{name}.get_lock()")
    return Rewrite(f"Hold its lock around the update: `with {name}.get_lock():`",
                   under_with(update, lock), safe)


def close_and_join(creation: cst.CSTNode, uses: Sequence[cst.CSTNode], name: str) -> Rewrite:
    """`name.close()` and `name.join()` after the pool's last use in the block of its creation
    (see `_EndAfterLastUse`; otherwise nothing changes and there is no fix). Unsafe: `join()` waits
    for every task, and code after the last use may still have meant to use the pool."""
    return Rewrite(
        f"Close and join the pool after its last use: `{name}.close()`, `{name}.join()`",
        after_last_use(creation, uses, name),
        safe=False,
    )
