"""MPL008: leaving a `with Pool(...)` block (which terminates the pool) while work is still pending."""

from __future__ import annotations

from typing import Iterator

from mplint.facts import ModuleFacts
from mplint.facts.results import Late, Pending, PoolBlock
from mplint.rules.base import Report, Rule


class PoolResultAfterExit(Rule):
    """Finds work left pending when a `with multiprocessing.Pool(...) as pool:` block ends: an
    `AsyncResult` from `apply_async`/`map_async`/`starmap_async` or a lazy `imap`/
    `imap_unordered` iterator that is first consumed (`.get()`, `.wait()`, iteration, `list()`)
    after the block, and `*_async` calls inside the block whose results are never waited on. A
    `pool.close()` and `pool.join()` inside the block make both safe. `ThreadPool` blocks are
    checked too (they end the same way); `concurrent.futures` executors are not: their `with`
    waits for the work."""

    code = "MPL008"
    name = "pool-result-after-exit"
    summary = "Pool results consumed after, or never waited on before, the end of `with Pool(...)`, which terminates the pool"
    why = (
        "Leaving `with Pool(...) as pool:` calls `pool.terminate()`, not `close()` and `join()`: "
        "the workers are stopped at once and the tasks still queued or running are dropped. "
        "`apply_async`, `map_async` and `imap` return before the work is done, so a result first "
        "asked for after the block never arrives: `.get()` without a timeout waits forever and "
        "an `imap` iterator blocks on its first missing item. Results that are never waited on "
        "are lost silently, callbacks included. Whether it shows depends on timing: the same "
        "code passes with fast tasks and hangs or loses work with slow ones."
    )
    fix = (
        "Consume the results inside the `with` block (`.get()` them, or iterate the `imap` "
        "iterator there), or call `pool.close()` then `pool.join()` as the block's last "
        "statements so every task finishes before the exit. A fire-and-forget `apply_async` with "
        "a callback needs the `close()`/`join()` too. `concurrent.futures.ProcessPoolExecutor` "
        "waits for pending work when its `with` block ends."
    )
    bad_example = '''\
from multiprocessing import Pool


def thumbnail(path):
    return path.replace(".jpg", "_small.jpg")


if __name__ == "__main__":
    paths = ["a.jpg", "b.jpg", "c.jpg"]
    with Pool(4) as pool:
        pending = pool.map_async(thumbnail, paths)
    print(pending.get())
'''
    good_example = '''\
from multiprocessing import Pool


def thumbnail(path):
    return path.replace(".jpg", "_small.jpg")


if __name__ == "__main__":
    paths = ["a.jpg", "b.jpg", "c.jpg"]
    with Pool(4) as pool:
        pending = pool.map_async(thumbnail, paths)
        print(pending.get())
'''
    references = (
        (
            "multiprocessing.pool.Pool: the context manager calls terminate()",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
        (
            "multiprocessing.pool.AsyncResult",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.AsyncResult",
        ),
        (
            "Pool.imap (a lazy iterator)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool.imap",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        results = facts.pool_results
        for late in results.consumed_after_exit():
            yield Report(late.wait.mention or late.wait.node, _late_message(facts, late))
        for pending in results.never_waited():
            yield Report(pending.call, _never_message(facts, pending))


def _pool_text(facts: ModuleFacts, block: PoolBlock) -> str:
    return facts.call_text(block.creation)


def _late_message(facts: ModuleFacts, late: Late) -> str:
    name, block = late.holder.name, late.block
    what = "the lazy `imap` iterator" if late.holder.lazy else "the pool's results"
    wait = "blocks on its first missing item" if late.holder.lazy else "waits forever"
    return (
        f"`{name}` ({what}) is consumed only after the `with {_pool_text(facts, block)}` block "
        f"(line {facts.line_of(block.node)}), whose exit called `terminate()` and dropped the "
        f"tasks not finished by then, so this {wait}; consume `{name}` inside the block, or end "
        f"the block with `pool.close()` and `pool.join()`"
    )


def _never_message(facts: ModuleFacts, pending: Pending) -> str:
    return (
        f"the result of `{facts.call_text(pending.call)}` is never waited for inside the "
        f"`with {_pool_text(facts, pending.block)}` block, whose exit calls `terminate()`: tasks "
        f"still queued or running then are dropped and their work (and callbacks) silently lost; "
        f"keep the result and `.get()` it in the block, or end the block with `pool.close()` and "
        f"`pool.join()`"
    )
