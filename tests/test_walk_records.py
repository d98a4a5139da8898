"""Facts read from what the one walk records instead of walking a body again: the order calls are
made in, the computing loop of a function, the parts of a test, lock-held regions and what a
helper does with its parameter."""

from __future__ import annotations

import textwrap

import libcst as cst

from mplint.facts import ModuleFacts
from mplint.facts.arithmetic import computing_loop
from mplint.facts.handed import Handed
from mplint.facts.workload import Workloads


def facts_of(source: str) -> ModuleFacts:
    return ModuleFacts(cst.parse_module(textwrap.dedent(source)))


def function(facts: ModuleFacts, name: str):
    (info,) = [f for f in facts.functions.values() if f.name == name]
    return info


def steps(facts: ModuleFacts, name: str | None) -> list[str]:
    info = function(facts, name) if name is not None else None
    return [
        facts.code(step.site.node) if step.kind == "call" else "exit"
        for step in facts.order._own_steps(info)
    ]


def test_a_functions_steps_are_its_calls_in_the_order_they_are_made_and_its_with_exits() -> None:
    facts = facts_of(
        """
        def work():
            outer(inner())
            with lock():
                body()
            later = lambda: never()
        """
    )
    assert steps(facts, "work") == [
        "inner()", "outer(inner())", "lock()", "body()", "exit",
    ]


def test_a_body_on_one_line_is_its_functions_and_a_defs_decorators_and_defaults_are_nobodys() -> None:
    facts = facts_of(
        """
        def outer():
            @decorate(made())
            def inner(value=default()): return size(value)
            class Box(base()):
                field = computed()
            return inner
        """
    )
    assert steps(facts, "outer") == []
    assert steps(facts, "inner") == ["size(value)"]


def test_neither_branch_of_a_test_on_a_fork_is_followed_also_on_one_line() -> None:
    facts = facts_of(
        """
        import os

        pid = os.fork()
        if pid == 0: os._exit(child())
        else: parent()
        if os.fork():
            in_parent()
        elif other():
            in_elif()
        if ready():
            shown()
        """
    )
    assert steps(facts, None) == ["os.fork()", "os.fork()", "ready()", "shown()"]


def computing(source: str, name: str) -> str | None:
    facts = facts_of(source)
    loop = computing_loop(Workloads(facts), function(facts, name))
    return facts.code(loop) if loop is not None else None


def test_the_computing_loop_is_the_first_to_end_reading_each_iterable_first() -> None:
    found = computing(
        """
        def work(rows, matrix):
            return [sum(a * a for a in row) for row in (b * 2 for b in matrix)]
        """,
        "work",
    )
    assert found == "(b * 2 for b in matrix)"


def test_a_loop_that_waits_or_only_counts_does_not_compute() -> None:
    source = """
        import time

        def waits(rows):
            for row in rows:
                total = row * 2
                time.sleep(1)

        def counts(rows):
            n = 0
            for row in rows:
                n += 1
                time.sleep(2 ** n)
        """
    assert computing(source, "waits") is None
    assert computing(source, "counts") is None


def test_the_names_and_calls_of_a_test_are_recorded_by_the_walk() -> None:
    facts = facts_of(
        """
        import sys
        if sys.platform == "win32" and check(level()):
            pass
        """
    )
    (test,) = [node for node in facts._collected.spans if isinstance(node, cst.Comparison)]
    assert [name.value for name in facts.names_in(test)] == ["sys", "platform"]
    (boolean,) = [node for node in facts._collected.spans if isinstance(node, cst.BooleanOperation)]
    assert [facts.code(site.node) for site in facts.calls_in(boolean)] == ["check(level())", "level()"]


def test_an_update_in_a_with_lock_block_is_held_and_one_outside_is_not() -> None:
    facts = facts_of(
        """
        def bump(counter, lock):
            with lock:
                counter.value += 1
            counter.value = counter.value + 1
            lock.acquire()
            counter.value += 2
            lock.release()
        """
    )
    regions = facts.locks.regions(function(facts, "bump"))
    assert [facts.code(update.node) for update in regions.unlocked_updates] == ["counter.value = counter.value + 1"]
    assert regions.takes_locks


def test_a_helper_that_only_submits_to_a_pool_leaves_it_to_its_caller() -> None:
    facts = facts_of(
        """
        def submit(pool, jobs):
            for job in jobs:
                pool.apply_async(run, (job,))

        def finish(pool):
            pool.close()

        def capture(pool):
            return lambda: pool.map(run, [])
        """
    )
    handed = Handed(facts)
    assert handed.kept(function(facts, "submit"), "pool") == frozenset()
    assert handed.kept(function(facts, "finish"), "pool") is None
    assert handed.kept(function(facts, "capture"), "pool") is None
