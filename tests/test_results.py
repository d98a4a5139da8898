"""Pending pool results as queries of the flow fact: what the flow records of a result's name,
and which results are waited for only after their pool's `with` block, or never."""

from __future__ import annotations

import textwrap

import libcst as cst

from mplint.facts import ModuleFacts
from mplint.facts.flow import Use


def facts_of(source: str) -> ModuleFacts:
    header = "from multiprocessing import Pool\n\n\ndef work(x):\n    return x\n\n\n"
    return ModuleFacts(cst.parse_module(header + textwrap.dedent(source).lstrip("\n")))


def late(facts: ModuleFacts) -> list[tuple[str, int, str]]:
    return [
        (found.holder.name, facts.line_of(found.wait.mention), facts.code(found.wait.mention))
        for found in facts.pool_results.consumed_after_exit()
    ]


def never(facts: ModuleFacts) -> list[int]:
    return [facts.line_of(pending.call) for pending in facts.pool_results.never_waited()]


def test_the_flow_records_loops_over_a_name_and_builtins_that_run_through_it() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                it = pool.imap(work, range(3))
                for x in it:
                    pass
                values = list(it)
                yield from it
        """
    )
    key = next(k for k in facts.flow.uses if k[1] == "it")
    assert [e.use for e in facts.flow.uses[key]] == [Use.ITERATE, Use.CONSUME, Use.CONSUME]
    assert all(facts.code(e.mention) == "it" for e in facts.flow.uses[key])


def test_a_result_waited_for_after_the_block_is_late_at_its_first_wait() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
            print(r.ready())
            return r.get()
        """
    )
    assert late(facts) == [("r", 11, "r")] and never(facts) == []


def test_a_list_of_results_is_followed_through_the_loops_over_it() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                results = []
                for i in range(3):
                    r = pool.apply_async(work, (i,))
                    results.append(r)
            for i, r in enumerate(results):
                print(i, r.get())
        """
    )
    assert late(facts) == [("results", 15, "r")]


def test_an_imap_iterator_consumed_after_the_block_is_late() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                it = pool.imap(work, range(3))
            return sorted(it)
        """
    )
    assert [name for name, _, _ in late(facts)] == ["it"]
    assert facts.pool_results.bodies[0].holders[next(iter(facts.pool_results.bodies[0].holders))].lazy


def test_a_result_only_looked_at_is_never_waited_for() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
                print(r)
                pool.apply_async(work, (2,))
        """
    )
    assert never(facts) == [10, 12]


def test_results_waited_in_the_block_joined_or_handed_on_are_not_findings() -> None:
    facts = facts_of(
        """
        def inside():
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
                r.wait()
            return r.get()


        def joined():
            with Pool(2) as pool:
                pool.apply_async(work, (1,))
                pool.close()
                pool.join()


        def handed_on(keep):
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
                keep(r)
            return r.get()


        def bound_method(run):
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
                run(r.get)


        def synchronised(queue):
            with Pool(2) as pool:
                pool.apply_async(work, (1,))
                queue.get()
        """
    )
    assert late(facts) == [] and never(facts) == []


def test_a_generator_of_results_is_not_followed() -> None:
    facts = facts_of(
        """
        def main():
            with Pool(2) as pool:
                results = (pool.apply_async(work, (i,)) for i in range(3))
            for r in results:
                r.get()
        """
    )
    assert late(facts) == [] and never(facts) == []


def test_a_callback_result_counts_as_read_by_any_use_of_its_variable_only() -> None:
    facts = facts_of(
        """
        def done(x):
            pass


        def unread(obj):
            pool = Pool(2)
            r = pool.apply_async(work, (1,), callback=done)
            obj.r = dict(r=1)
            r = None


        def printed():
            pool = Pool(2)
            r = pool.apply_async(work, (1,), callback=done)
            print(r)


        def closure():
            pool = Pool(2)
            r = pool.apply_async(work, (1,), callback=done)
            return lambda: r.get()
        """
    )
    assert [(facts.line_of(u.site.node), u.name) for u in facts.unobserved_callbacks] == [(14, "r")]


def test_a_result_lent_to_a_helper_of_the_module_may_be_waited_for_there() -> None:
    facts = facts_of(
        """
        def collect(result):
            return result.get()


        def main():
            with Pool(2) as pool:
                r = pool.apply_async(work, (1,))
                collect(r)
        """
    )
    key = next(k for k in facts.flow.uses if k[1] == "r")
    assert [e.use for e in facts.flow.uses[key]] == [Use.LENT]
    assert late(facts) == [] and never(facts) == []
