"""MPL002: processes never joined; pools, executors and managers never closed or shut down."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint.apis import Kind, Methods, methods, vocabulary
from mplint.facts import ModuleFacts
from mplint.facts.flow import Action, Event, Use
from mplint.facts.lifecycles import Lifecycle
from mplint.facts.resolve import owner_of
from mplint.fixes import Rewrite
from mplint.fixes.locking import close_and_join
from mplint.rules.base import Report, Rule

#: how a process is properly ended, as sets of events that together end it (pools, executors
#: and managers: their vocabulary's `ends`, and a `with` block where leaving it ends them)
_PROCESS_ENDINGS: tuple[set[Action], ...] = ({"join"}, {Use.POLL}, {Use.WITH})

#: methods a subclass of the module may define without them ending the object's life
_NOT_ENDINGS = frozenset({"run", "start", "__init__"})

def _process_why(plural: bool = False) -> str:
    it, ends, child = ("them", "they end", "children stay zombies") if plural else (
        "it", "it ends", "child stays a zombie"
    )
    return (
        f"the parent never waits for {it} or reads {'their' if plural else 'its'} exit code, so a "
        f"crash goes unnoticed, the finished {child} (POSIX), and interpreter exit blocks until {ends}"
    )


#: the fix for a process started to run on after the function that starts it returns
_DETACHED_FIX = (
    "keep a handle to reap it later ({returned} or add it to a list that is joined when the "
    "work is done; `multiprocessing.active_children()` also joins the children that have "
    "finished), or create it with `{func}(..., daemon=True)` if it may be killed when the program exits"
)


def _left_running(life: Lifecycle, start: Event, events: list[Event]) -> bool:
    """A function starts the process and does nothing more with it: a child meant to run on
    after the call (fire and forget), for which a `join()` in the function would defeat the design."""
    return (
        life.owner.kind == "function"
        and type(life.owner.node) is cst.FunctionDef
        and all(e.order <= start.order for e in events)
    )


def _owner_name(life: Lifecycle) -> str:
    node = life.owner.node
    return node.name.value if type(node) is cst.FunctionDef else "the function"


class ProcessNotJoined(Rule):
    """Finds child processes that their owner never waits for: a started `Process` (or an instance
    of a subclass) that the function or `__main__` block owning it never joins, and a process pool,
    `ProcessPoolExecutor` or started manager that is never closed, terminated or shut down. Objects
    that are returned, stored on an attribute, put into a collection that leaves the function, or
    passed to another function are someone else's to end and are not reported; neither are daemon
    processes or thread-backed pools. A helper of this module that the object is passed to says
    by its body what happens: one that only uses it (makes a proxy, `def make_shared(manager):
    return manager.dict()`; submits work; starts the process; looks at it) leaves it its
    caller's to end, while one that keeps, returns, ends or passes it on to anything else takes
    it over. An annotated assignment (`pool: Pool = Pool(4)`) binds like a
    plain one; a bare annotation (`pool: Pool`) binds nothing. A name bound to one process or
    pool after another (`pool = Pool()` ... `pool.close()` ... `pool = Pool()`) is followed per
    object, up to the next binding, when every path reaches that binding; when a second pool is
    made on some paths only, ending the name afterwards counts for both. A method reached
    through `getattr` with a literal name (`getattr(pool, "close")()`) is that method; with a
    name chosen at run time (`getattr(pool, name)`) nobody can tell what is done to the object,
    and it is not reported. The pool libraries are judged by their own vocabularies:
    pathos' pools (cached singletons) end with `close()` and `join()` (then `clear()`), with
    `clear()` alone (it closes and joins the cached pool), with `terminate()`, or with pathos'
    `shutdown()` called later by the same function, and leaving a `with` block does not close them; pebble's `ProcessPool` ends
    with `close()` or `stop()` followed by `join()`, or a `with` block (which closes and joins);
    an mpire `WorkerPool` stops its workers after each map, so it is reported only when made with
    `keep_alive=True` and never stopped (`stop_and_join()`, `terminate()`, a `with` block); a
    loky `ProcessPoolExecutor` is shut down like the standard one, and `get_reusable_executor()`
    is loky's to keep, never reported. Not seen: a pathos pool used only as a `with` block."""

    code = "MPL002"
    name = "process-not-joined"
    summary = "Process started but never joined; pool, executor or manager never closed or shut down"
    why = (
        "A process that is started and never joined is never waited for: its exit code (and so any "
        "crash) goes unseen, on POSIX the finished child stays a zombie until something reaps it, "
        "and at interpreter exit multiprocessing joins every non-daemon child, so a child that "
        "never finishes turns into a hang at exit. Starting processes in a loop into one name and "
        "joining that name once after the loop joins only the last of them. `terminate()` and "
        "`kill()` only send a signal: the process is reaped by the `join()` that follows. A pool "
        "that is never closed keeps its worker processes until it is garbage-collected or the "
        "interpreter exits (Python 3.8+ warns `unclosed running multiprocessing pool`); `close()` "
        "without `join()` lets the parent run on while the workers are still finishing, which is "
        "a known source of hangs at interpreter exit. A `ProcessPoolExecutor` that is never shut "
        "down and a manager that is never shut down keep their worker or server processes alive "
        "long after the work is done."
    )
    fix = (
        "Join every process you start, after the work, in a `finally:` when the code in between can "
        "raise; keep processes started in a loop in a list and join each one. End a pool with "
        "`close()` followed by `join()` (in a `finally:`), or with a `with` block when every result "
        "is fetched inside the block: `with Pool()` calls `terminate()` on exit, not "
        "`close()`+`join()`, so results still pending at the end of the block are lost. Use an "
        "executor or a manager as a context manager, or call its `shutdown()` in a `finally:`. "
        "Mark a process `daemon=True` only when it may be killed at exit. A child meant to run on "
        "after the function that starts it returns (a provisioning job that outlives the request) "
        "must not be joined there: keep a handle to reap it later (return it, or keep it in a "
        "list that is joined when the work is done; `multiprocessing.active_children()` joins "
        "the ones that have finished), or make it `daemon=True`."
    )
    autofix = (
        "For a pool that one name holds and nothing closes, adds `pool.close()` and `pool.join()` "
        "right after its last use, when that use is a line of its own in the block that creates "
        "the pool (not a `return`, not inside a loop or a branch). Never a `with` block: leaving "
        "one terminates the workers, and results not fetched yet are lost. Unsafe: `join()` waits "
        "for every task, and the fix does not add the `try`/`finally` that ends the pool when the "
        "work raises."
    )
    bad_example = '''\
import multiprocessing as mp


def crunch(n):
    return sum(i * i for i in range(n))


def run(sizes):
    workers = []
    for n in sizes:
        worker = mp.Process(target=crunch, args=(n,))
        worker.start()
        workers.append(worker)

    pool = mp.Pool(4)
    pending = pool.map_async(crunch, sizes)
    pool.close()
    return pending.get()


if __name__ == "__main__":
    run([10_000, 20_000])
'''
    good_example = '''\
import multiprocessing as mp


def crunch(n):
    return sum(i * i for i in range(n))


def run(sizes):
    workers = []
    for n in sizes:
        worker = mp.Process(target=crunch, args=(n,))
        worker.start()
        workers.append(worker)
    for worker in workers:
        worker.join()

    pool = mp.Pool(4)
    try:
        pending = pool.map_async(crunch, sizes)
        return pending.get()
    finally:
        pool.close()
        pool.join()


if __name__ == "__main__":
    run([10_000, 20_000])
'''
    references = (
        (
            "multiprocessing programming guidelines: joining zombie processes",
            "https://docs.python.org/3/library/multiprocessing.html#programming-guidelines",
        ),
        (
            "multiprocessing.pool.Pool: close(), join(), terminate() and the context manager",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
        (
            "concurrent.futures.Executor.shutdown",
            "https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.Executor.shutdown",
        ),
        (
            "Managers and BaseManager.shutdown",
            "https://docs.python.org/3/library/multiprocessing.html#managers",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        reported: set[object] = set()
        lifecycles = facts.lifecycles
        for life in lifecycles.all:
            # module-level code outside the main guard runs at import time (MPL001's finding: once
            # guarded, this rule looks at it again) or never (`if TYPE_CHECKING:`)
            if life.owner.kind == "module" and not life.site.main_guarded:
                continue
            # a bare `Pool(2)` statement only probes the constructor (typically in a test)
            if life.how not in ("name", "element", "unbound") or life.expected_to_fail:
                continue
            if life.escapes or life.daemon:
                continue
            events = life.events()
            if any(e.use is Use.DAEMON for e in events):
                continue
            if any(
                e.use is Use.CALL and e.method not in _NOT_ENDINGS and lifecycles.defines_method(life, e.method)
                for e in events
            ):
                continue  # the class of the module may end it in a method of its own
            if life.kind is Kind.PROCESS:
                report = self._process(facts, life, events)
            else:
                report = self._pooled(facts, life, events)
            if report is not None and report.node not in reported:
                reported.add(report.node)
                yield report

    # --- processes --------------------------------------------------------------------------

    def _process(self, facts: ModuleFacts, life: Lifecycle, events: list[Event]) -> Report | None:
        joins = [e for e in events if _ends(life, {e.action})]
        for start in (e for e in events if e.calls("start") and not e.expected_to_fail):
            if not any(join.after(start) for join in joins):
                return Report(start.node, self._never_joined(facts, life, start, events))
            loop = life.rebinding_loop
            if (
                loop is not None
                and loop in start.loops
                and loop not in facts.lifecycles.loops_with_break
                and not any(loop in e.loops for e in events if e.use is Use.STORE or e in joins)
                and not self._rebound_before(life, start, joins, loop)
            ):
                assert life.holder is not None
                name = life.holder.name
                last = max(joins, key=lambda e: e.order)
                return Report(
                    start.node,
                    f"process `{name}` is started in a loop that rebinds `{name}` on every pass, so "
                    f"the `{name}.join()` on line {facts.line_of(last.node)} joins only the last one "
                    f"and the others are never waited for; append each to a list and join them all "
                    f"after the loop (`for p in procs: p.join()`), or join inside the loop",
                )
        return None

    @staticmethod
    def _rebound_before(life: Lifecycle, start: Event, joins: list[Event], loop: object) -> bool:
        """Every join after the loop follows another creation bound to the same name: those joins
        are most likely that other process's (the name is reused), so the loop's are unclear."""
        others = [
            other.order
            for other in life.siblings
            if other is not life and loop not in other.loops
        ]
        return all(
            any(start.order < order < join.order for order in others)
            for join in joins
            if join.order > start.order
        )

    def _never_joined(self, facts: ModuleFacts, life: Lifecycle, start: Event, events: list[Event]) -> str:
        holder = life.holder
        detached = _left_running(life, start, events)
        if holder is None:
            text = facts.call_text(life.creation)
            if detached:
                return (
                    f"`{text}.start()` starts a process that nothing can join, since no name keeps "
                    f"it, and `{_owner_name(life)}()` returns while it runs: {_process_why()}; if it is "
                    f"meant to outlive the call, {_DETACHED_FIX.format(returned='bind it and return it', func=facts.code(life.creation.func))}; "
                    f"else bind it and call `proc.join()` after the work"
                )
            return (
                f"`{text}.start()` starts a process that nothing can join, since no name keeps it: "
                f"{_process_why()}; bind it (`proc = {text}`), start it, and call `proc.join()` "
                f"after the work"
            )
        if holder.collection:
            return (
                f"the processes in `{holder.name}` are started but never joined: {_process_why(True)}; "
                f"join each after the work: `for proc in {holder.name}: proc.join()`"
            )
        signals = [e.method for e in events if e.calls(*methods(Kind.PROCESS).terminate)]
        if signals:
            return (
                f"process `{holder.name}` is sent `{signals[0]}()` but never joined: "
                f"`{signals[0]}()` only signals it and does not reap it; call "
                f"`{holder.name}.join()` after `{holder.name}.{signals[0]}()`"
            )
        kept = [store.into.name for store in holder.stores() if store.into is not None]
        if kept:
            return (
                f"process `{holder.name}` is started but never joined, neither directly nor "
                f"through `{kept[0]}`: {_process_why()}; join them all after the work: "
                f"`for {holder.name} in {kept[0]}: {holder.name}.join()`"
            )
        if detached:
            return (
                f"process `{holder.name}` is started but never joined, and `{_owner_name(life)}()` "
                f"returns while it runs: {_process_why()}; if it is meant to outlive the call, "
                f"{_DETACHED_FIX.format(returned=f'return `{holder.name}`', func=facts.code(life.creation.func))}; else call "
                f"`{holder.name}.join()` after the work"
            )
        return (
            f"process `{holder.name}` is started but never joined: {_process_why()}; call "
            f"`{holder.name}.join()` after the work (in a `finally:` if the code in between can raise)"
        )

    # --- pools, executors, managers -----------------------------------------------------------

    def _pooled(self, facts: ModuleFacts, life: Lifecycle, events: list[Event]) -> Report | None:
        verbs = {e.action for e in events}
        if _library_ended(facts, life):
            return None  # pathos' `shutdown()` after it: every cached pool is let go
        if life.kind is Kind.MANAGER_CLASS and "start" not in verbs:
            return None  # a manager class runs no server process until it is started
        if _ends(life, verbs):
            loop = life.rebinding_loop
            if (
                loop is None
                or loop in facts.lifecycles.loops_with_break
                or any(loop in e.loops for e in events if e.use is Use.STORE or _ends(life, {e.action}))
                or _ends_in(life, events, loop)
            ):
                return None
            assert life.holder is not None
            name = life.holder.name
            return Report(
                life.creation,
                f"{_NOUN[life.kind]} `{name}` is created in a loop that rebinds `{name}` on every pass, so only the "
                f"last {_NOUN[life.kind]} is {_ENDED[life.kind]} after the loop and the others keep "
                f"their processes; end each one inside the loop, or use a `with` block",
            )
        return Report(life.creation, self._never_ended(facts, life, verbs), _close_and_join(life, events, verbs))

    def _never_ended(self, facts: ModuleFacts, life: Lifecycle, verbs: set[Action]) -> str:
        text = facts.call_text(life.creation)
        holder = life.holder
        if holder is None:
            use = f"`with {text} as {_SHORT[life.kind]}:` and call its methods inside the block"
            if not _row(life).exit_ends:  # pathos: leaving the block does not close the pool
                use = (
                    f"`pool = {text}` and end it with `pool.close()` then `pool.join()` in a "
                    f"`finally:` (leaving a `with` block does not close this pool)"
                )
            if life.kind is Kind.POOL and "close" in verbs:
                return (
                    f"`{text}` makes a pool that is closed but never joined, since no name keeps "
                    f"it: {_CLOSED_WHY}; bind it (`pool = {text}`) and call `pool.join()` after "
                    f"`pool.close()`, or write {use}"
                )
            return (
                f"`{text}` makes {_A[life.kind]} that is never {_ENDED[life.kind]}, since no "
                f"name keeps it: {_why_not_ended(life)}; write {use}"
            )
        noun = _NOUN[life.kind]
        why = _why_not_ended(life, holder.collection)
        if holder.collection:
            subject, var, each = f"the {noun}s in `{holder.name}` are", noun, f" for each {noun}"
        else:
            subject, var, each = f"{noun} `{holder.name}` is", holder.name, ""
        if life.kind is Kind.POOL:
            row = _row(life)
            if not row.close:  # mpire's pool: one call stops and joins the workers
                end = sorted(min(row.ends, key=len))[0]
                return (
                    f"{subject} never stopped: {why}; call `{var}.{end}()`{each} once its results are "
                    f"fetched (in a `finally:`), or use `with {text} as {var}:`"
                )
            if "close" in verbs:
                return (
                    f"{subject} closed but never joined: {_CLOSED_WHY}; call `{var}.join()` right "
                    f"after `{var}.close()`{each}"
                )
            stopped = sorted(verbs & row.terminate)
            if stopped and any(end >= {stopped[0], "join"} for end in row.ends):  # pebble's stop()
                return (
                    f"{subject} stopped but never joined: `{stopped[0]}()` only tells the workers to "
                    f"stop; call `{var}.join()` right after `{var}.{stopped[0]}()`{each} to wait for them"
                )
            if holder.collection:
                how = f"call `{var}.close()` then `{var}.join()`{each} once its results are fetched"
            elif not row.exit_ends:
                cleared = "".join(f", then `{var}.{m}()`" for m in sorted(row.clear))
                how = (
                    f"call `{var}.close()` then `{var}.join()`{cleared} in a `finally:` (the pool is a "
                    f"cached singleton, and leaving a `with` block does not close it)"
                )
            elif not row.exit_terminates:
                how = (
                    f"use `with {text} as {var}:` (it closes and joins the pool on exit, so pending "
                    f"tasks finish) or call `{var}.close()` then `{var}.join()` in a `finally:`"
                )
            elif verbs & row.pending:
                how = (
                    f"call `{var}.close()` then `{var}.join()` in a `finally:` once the results are "
                    f"fetched (a `with` block would call `terminate()` on exit and lose results not "
                    f"fetched inside it)"
                )
            else:
                how = (
                    f"call `{var}.close()` then `{var}.join()` in a `finally:`, or use "
                    f"`with {text} as {var}:` (it terminates the workers on exit, which is fine when "
                    f"every result is fetched inside the block)"
                )
            return f"{subject} never closed: {why}; {how}"
        if holder.collection:
            return f"{subject} never shut down: {why}; call `{var}.shutdown()`{each}"
        return (
            f"{subject} never shut down: {why}; use `with {text} as {var}:` or call "
            f"`{var}.shutdown()` in a `finally:`"
        )


_CLOSED_WHY = (
    "`close()` only stops new tasks, and without `join()` the workers may still be running when "
    "the interpreter exits, a known source of hangs at exit"
)
_NOUN = {
    Kind.POOL: "pool",
    Kind.PROCESS_EXECUTOR: "executor",
    Kind.MANAGER: "manager",
    Kind.MANAGER_CLASS: "manager",
}
_A = {Kind.POOL: "a pool", Kind.PROCESS_EXECUTOR: "an executor", Kind.MANAGER: "a manager",
      Kind.MANAGER_CLASS: "a manager"}
_SHORT = {Kind.POOL: "pool", Kind.PROCESS_EXECUTOR: "executor", Kind.MANAGER: "manager",
          Kind.MANAGER_CLASS: "manager"}
_ENDED = {
    Kind.POOL: "closed and joined",
    Kind.PROCESS_EXECUTOR: "shut down",
    Kind.MANAGER: "shut down",
    Kind.MANAGER_CLASS: "shut down",
}


def _close_and_join(life: Lifecycle, events: list[Event], verbs: set[Action]) -> Rewrite | None:
    """A multiprocessing pool that one name holds and nothing closes: closed and joined after its last use, when
    that use is a statement of the block that creates it."""
    holder = life.holder
    if life.kind is not Kind.POOL or life.instance.api.methods is not None or holder is None or holder.collection or verbs - _USES:
        return None
    if life.loops or any(e.element or e.expected_to_fail for e in events):
        return None
    return close_and_join(life.site.statement, [e.node for e in events], holder.name)


#: what may happen to a pool the fix closes and joins: calls of its task methods, and no ending,
#: store, escape or `with` of any kind
_USES = frozenset(methods(Kind.POOL).submit)


def _why_not_ended(life: Lifecycle, plural: bool = False) -> str:
    its, it_is = ("their", "they are") if plural else ("its", "it is")
    kind = life.kind
    if kind is Kind.POOL and life.instance.api.methods is not None:  # a library's pool
        return f"{its} worker processes outlive the work until the interpreter exits"
    if kind is Kind.POOL:
        return (
            f"{its} worker processes outlive the work until {it_is} garbage-collected or the "
            f"interpreter exits (`ResourceWarning: unclosed running multiprocessing pool`)"
        )
    if kind is Kind.PROCESS_EXECUTOR:
        return f"{its} worker processes stay alive until {it_is} garbage-collected or the interpreter exits"
    return f"{its} server process keeps running until {it_is} garbage-collected or the interpreter exits"


def _endings(life: Lifecycle) -> tuple[set[Action] | frozenset[str], ...]:
    if life.kind is Kind.PROCESS:
        return _PROCESS_ENDINGS
    row = _row(life)
    return ({Use.WITH}, *row.ends) if row.exit_ends else row.ends


def _row(life: Lifecycle) -> Methods:
    return vocabulary(life.instance.api)


def _library_ended(facts: ModuleFacts, life: Lifecycle) -> bool:
    """The owner calls, after the creation, a function of the library that ends all its pools."""
    library_ends = vocabulary(life.instance.api).library_ends
    if not library_ends:
        return False
    created = False
    for site in facts.calls:
        if site.node is life.creation:
            created = True
        elif created and owner_of(site.scope) is life.owner:
            if facts.names.qualname(site.node.func, site.scope) in library_ends:
                return True
    return False


def _ends(life: Lifecycle, verbs: set[Action]) -> bool:
    """The events `verbs` end the object of `life`."""
    return any(ending <= verbs for ending in _endings(life))


def _ends_in(life: Lifecycle, events: list[Event], loop: object) -> bool:
    return _ends(life, {e.action for e in events if loop in e.loops})
