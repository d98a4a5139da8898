"""When a dispatch pickles what it is given, in words: the rules on what pickle cannot send
(MPL006 `unpicklable-callable`, MPL026 `unpicklable-object`) say it the same way.

A pool or executor pickles every task under any start method (mpire's pool forks its workers with
the function in them where it can); a `Process` target, a pool initializer and their arguments are
pickled only when the child is not forked.
"""

from __future__ import annotations

from mplint.facts import Context, Dispatch, ModuleFacts
from mplint.facts.skips import fork_only

_DEFAULT_PLATFORMS = (
    "under spawn (the default on Windows and macOS) and forkserver (the default on Linux from Python 3.14)"
)


def when_pickled(facts: ModuleFacts, dispatch: Dispatch, context: Context, argument: bool) -> str | None:
    """How the dispatch pickles what it is given, or None when it does not (fork) or may not."""
    call = facts.call_text(dispatch.site.node) if dispatch.site is not None else "the call"
    runner = dispatch.runner
    if (
        dispatch.kind == "pool" and not argument and runner is not None and runner.api.inherits_callables
        and context.method not in ("spawn", "forkserver")
    ):
        return None  # mpire: forked workers inherit the function; a method chosen at run time may fork
    if dispatch.kind == "pool" and runner is not None and runner.api.inherits_callables and not argument:
        return f"the pool's workers are not forked here, so `{call}` pickles it and fails"
    if dispatch.kind == "pool":
        return f"a pool pickles every task under any start method, so `{call}` fails"
    if dispatch.kind == "executor":
        return f"a process pool executor pickles every call under any start method, so `{call}` fails"
    if context.method not in ("spawn", "forkserver", None):
        return None  # forked children inherit it; a method chosen at run time may be fork
    if dispatch.kind == "spawn":
        return f"`{call}` pickles it to start each process with the {context.method} start method"
    if dispatch.kind == "target":
        if _never_started(facts, dispatch):
            return None  # the target is pickled by `start()`, and nothing starts this process
        what = "the process's arguments are" if argument else "the process target is"
        fails = "`start()` fails"
    elif dispatch.kind == "initializer":
        what = "the initializer's arguments are" if argument else "the initializer is"
        fails = "the workers fail to start"
    else:
        return None
    if context.method is None:
        if dispatch.scope is not None and fork_only(facts, dispatch.scope):
            return None  # a test skipped where fork is missing: it is meant to run under fork
        return f"{what} pickled {_DEFAULT_PLATFORMS}, so {fails} there"
    return f"{what} pickled under the {context.method} start method this code uses, so {fails}"


def _never_started(facts: ModuleFacts, dispatch: Dispatch) -> bool:
    """The process is bound to a name of its function, which never starts it nor lets it out."""
    if dispatch.runner is None:
        return False
    life = facts.lifecycles.of(dispatch.runner.creation)
    if life is None or life.how != "name" or life.escapes:
        return False
    return not any(e.calls("start", "run") for e in life.events())
