"""MPL025: a pool task with a success callback, no error callback, and a result nobody reads."""

from __future__ import annotations

from typing import Iterator

from mplint.facts import ModuleFacts
from mplint.rules.base import Report, Rule


class CallbackWithoutErrorCallback(Rule):
    """Finds `pool.apply_async(...)`, `map_async(...)` and `starmap_async(...)` calls (of a
    multiprocessing `Pool` or `ThreadPool`, and mpire's `apply_async`) given a `callback=` but no
    `error_callback=`, whose result is thrown away or bound to a name that nothing reads again.
    Silent when the call passes an `error_callback=` (any value but `None`), when the result is
    kept anywhere (a list, a return, another call: it may reach a `.get()`), and when `*args` or
    `**kwargs` may carry the error callback. Not seen: a result kept in a list whose elements are
    never read. A `with` block that ends without `close()` and `join()` also loses the task
    itself: MPL008 reports that as well."""

    code = "MPL025"
    name = "callback-without-error-callback"
    summary = "`apply_async(..., callback=...)` without `error_callback=` and a result nobody reads: worker errors vanish"
    why = (
        "The `callback` of `apply_async`, `map_async` and `starmap_async` runs only when the task "
        "succeeds. When the worker raises, the exception is stored in the `AsyncResult` and raised "
        "again only by its `.get()`; with no `error_callback` and a result that is never kept or "
        "never read, nothing ever asks, so the failure disappears without a trace: no traceback, "
        "no log line, just a callback that never ran and data that is silently missing."
    )
    fix = (
        "Pass an `error_callback=` that reports the exception (it receives the exception object: "
        "log it, record it, or re-raise it in the parent), or keep the results and call `.get()` "
        "on each, which raises the worker's exception in the parent."
    )
    bad_example = '''\
import logging
from multiprocessing import Pool


def resize(path):
    return path.replace(".png", "_small.png")


def run(paths):
    done = []
    with Pool(4) as pool:
        for path in paths:
            pool.apply_async(resize, (path,), callback=done.append)
        pool.close()
        pool.join()
    return done


if __name__ == "__main__":
    logging.info(run(["a.png", "b.png"]))
'''
    good_example = '''\
import logging
from multiprocessing import Pool


def resize(path):
    return path.replace(".png", "_small.png")


def report(error):
    logging.error("resize failed: %r", error)


def run(paths):
    done = []
    with Pool(4) as pool:
        for path in paths:
            pool.apply_async(resize, (path,), callback=done.append, error_callback=report)
        pool.close()
        pool.join()
    return done


if __name__ == "__main__":
    logging.info(run(["a.png", "b.png"]))
'''
    references = (
        (
            "multiprocessing.pool.Pool.apply_async: callback and error_callback",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool.apply_async",
        ),
        (
            "multiprocessing.pool.AsyncResult.get",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.AsyncResult.get",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for found in facts.unobserved_callbacks:
            call = facts.call_text(found.site.node)
            result = (
                "its result is thrown away"
                if found.name is None
                else f"its result `{found.name}` is never read"
            )
            yield Report(
                found.site.node,
                f"`{call}` has a `callback=` but no `error_callback=`, and {result}: when the task "
                f"raises, the callback is not called and the exception stays in the `AsyncResult` "
                f"that nothing asks, so the failure vanishes without a trace; pass "
                f"`error_callback=` a function that logs or records the exception, or keep the "
                f"result and call `.get()` on it",
            )
