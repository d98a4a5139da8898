"""Object lifecycles: how each creation is held, and what happens to it, in source order."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from mplint import apis
from mplint.facts import ModuleFacts
from mplint.facts.flow import Action, Use
from mplint.facts.lifecycles import Lifecycle


def facts_of(source: str) -> ModuleFacts:
    return ModuleFacts(cst.parse_module(textwrap.dedent(source)))


def only_lifecycle(source: str) -> tuple[ModuleFacts, Lifecycle]:
    facts = facts_of("import multiprocessing as mp\nfrom contextlib import closing, ExitStack\n" + textwrap.dedent(source).lstrip("\n"))
    lives = facts.lifecycles.all
    assert len(lives) == 1, [facts.code(life.creation) for life in lives]
    return facts, lives[0]


def actions(facts: ModuleFacts, life: Lifecycle) -> list[tuple[Action, int, bool]]:
    return [(e.action, facts.line_of(e.node), e.element) for e in life.events()]


def test_a_named_process_collects_its_method_calls_in_source_order() -> None:
    facts, life = only_lifecycle(
        """
        def run():
            proc = mp.Process(target=print)
            proc.start()
            try:
                pass
            finally:
                proc.join()
        """
    )
    assert life.kind is apis.Kind.PROCESS and life.how == "name"
    assert life.holder is not None and life.holder.name == "proc" and not life.holder.collection
    assert actions(facts, life) == [("start", 5, False), ("join", 9, False)]
    assert not life.escapes
    start, join = life.events()
    assert join.after(start) and not start.after(join)


@pytest.mark.parametrize(
    "body, how",
    [
        ("with mp.Pool() as pool:\n        pool.map(str, [])", "with"),
        ("with closing(mp.Pool()) as pool:\n        pass", "with"),
        ("with ExitStack() as stack:\n        stack.enter_context(mp.Pool())", "with"),
        ("mp.Pool().map(str, [])", "unbound"),
        ("mp.Pool()", "discarded"),
        ("return mp.Pool()", "escape"),
        ("register(mp.Pool())", "escape"),
        ("self.pool = mp.Pool()", "escape"),
        ("pools = [mp.Pool() for _ in range(2)]", "element"),
        ("pools = []\n    pools.append(mp.Pool())", "element"),
        ("pool = mp.Pool(2) if fast else mp.Pool(1)", "name"),
    ],
)
def test_how_a_creation_is_held(body: str, how: str) -> None:
    source = f"def run(self, register, fast):\n    {body}\n"
    facts = facts_of("import multiprocessing as mp\nfrom contextlib import closing, ExitStack\n" + source)
    assert {life.how for life in facts.lifecycles.all} == {how}


@pytest.mark.parametrize(
    "use",
    [
        "return proc",
        "yield proc",
        "self.proc = proc",
        "other = proc",
        "register(proc)",
        "threading.Thread(target=lambda: proc.join())",
        "atexit.register(proc.join)",
        "bucket = [proc]\n    return bucket",
    ],
)
def test_every_way_out_of_the_owner_is_an_escape(use: str) -> None:
    source = (
        "def run(self, register):\n"
        "    proc = mp.Process(target=print)\n"
        "    proc.start()\n"
        f"    {use}\n"
    )
    _, life = only_lifecycle(source)
    assert life.escapes


@pytest.mark.parametrize(
    "use, escapes",
    [
        ("cache = mp.Manager().dict()", True),
        ("self.queue = mp.Manager().Queue()", True),
        ("mp.Manager().shutdown()", False),
        ("mp.Manager().start()", False),
    ],
)
def test_a_manager_made_for_one_proxy_is_owned_by_the_proxy(use: str, escapes: bool) -> None:
    _, life = only_lifecycle(f"def run(self):\n    {use}\n")
    assert life.how == "unbound" and life.escapes is escapes


def test_stores_into_a_local_list_follow_the_list() -> None:
    facts, life = only_lifecycle(
        """
        def run(items):
            procs = []
            for item in items:
                proc = mp.Process(target=print, args=(item,))
                proc.start()
                procs.append(proc)
            for proc in procs:
                proc.join()
        """
    )
    assert actions(facts, life) == [("start", 7, False), (Use.STORE, 8, False), ("join", 10, True)]
    store = life.holder.events[1]
    assert store.into is not None and store.into.name == "procs" and store.into.collection
    assert not life.escapes


def test_a_list_that_escapes_takes_its_elements_along() -> None:
    _, life = only_lifecycle(
        """
        def run(items):
            procs = []
            for item in items:
                proc = mp.Process(target=print, args=(item,))
                proc.start()
                procs.append(proc)
            return procs
        """
    )
    assert life.escapes


def test_a_store_into_a_parameter_is_an_escape() -> None:
    _, life = only_lifecycle(
        """
        def run(started):
            proc = mp.Process(target=print)
            proc.start()
            started.append(proc)
        """
    )
    assert life.escapes


@pytest.mark.parametrize(
    "loop",
    [
        "for proc in procs:\n        proc.join()",
        "[proc.join() for proc in procs]",
        "list(map(mp.Process.join, procs))",
        "list(map(lambda p: p.join(), procs))",
        "for i, proc in enumerate(procs):\n        proc.join()",
        "for proc, name in zip(procs, names):\n        proc.join()",
        "for proc in reversed(procs):\n        proc.join()",
        "for i in range(len(procs)):\n        procs[i].join()",
    ],
)
def test_joining_the_elements_of_a_collection(loop: str) -> None:
    source = (
        "def run(names):\n"
        "    procs = [mp.Process(target=print, args=(n,)) for n in names]\n"
        "    for proc in procs:\n"
        "        proc.start()\n"
        f"    {loop}\n"
    )
    facts, life = only_lifecycle(source)
    assert life.how == "element"
    assert [(v, element) for v, _, element in actions(facts, life)] == [("start", True), ("join", True)]


def test_a_lazy_map_that_nobody_consumes_joins_nothing() -> None:
    facts, life = only_lifecycle(
        """
        def run(names):
            procs = [mp.Process(target=print, args=(n,)) for n in names]
            for proc in procs:
                proc.start()
            map(mp.Process.join, procs)
        """
    )
    assert [v for v, _, _ in actions(facts, life)] == ["start"]
    assert not life.escapes


def test_loops_daemon_flags_and_polling() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        class Quiet(mp.Process):
            def __init__(self):
                super().__init__(daemon=True)

        def run(items):
            for item in items:
                proc = mp.Process(target=print, args=(item,))
                proc.start()
            proc.join()
            flagged = mp.Process(target=print)
            flagged.daemon = True
            flagged.start()
            quiet = Quiet()
            quiet.start()
            polled = mp.Process(target=print)
            polled.start()
            while polled.is_alive():
                pass
        """
    )
    looped, flagged, quiet, polled = facts.lifecycles.all
    assert isinstance(looped.rebinding_loop, cst.For)
    start = next(e for e in looped.events() if e.calls("start"))
    assert looped.rebinding_loop in start.loops
    assert [e.action for e in flagged.events()] == [Use.DAEMON, "start"]
    assert quiet.daemon and quiet.instance.cls is not None
    assert [e.action for e in polled.events()] == ["start", Use.POLL]


def test_module_code_is_owned_by_the_module_and_functions_reaching_it_escape() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def stop():
            pool.terminate()

        if __name__ == "__main__":
            pool = mp.Pool()
            worker = mp.Process(target=print)
            worker.start()
        """
    )
    pool, worker = facts.lifecycles.all
    assert pool.owner.kind == "module" and pool.site.main_guarded
    assert pool.escapes  # stop() may end it
    assert not worker.escapes and [e.action for e in worker.events()] == ["start"]


def test_expected_failures_are_marked() -> None:
    facts, life = only_lifecycle(
        """
        def test_bad_size():
            with pytest.raises(ValueError):
                mp.Pool(0)
        """
    )
    assert life.expected_to_fail


def test_files_without_tracked_objects_are_not_walked() -> None:
    facts = facts_of("import multiprocessing as mp\nq = mp.Queue()\n")
    assert facts.lifecycles.all == []


# --- the values fixes the lifecycles rely on ----------------------------------------------------


def test_a_none_placeholder_does_not_hide_the_process() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        def run():
            proc = None
            proc = mp.Process(target=print)
            proc.start()
        """
    )
    site = next(s for s in facts.calls if facts.code(s.node) == "proc.start()")
    assert facts.started_kind(site) is apis.Kind.PROCESS


def test_a_name_stored_into_the_list_it_is_read_back_from_is_still_a_process() -> None:
    # `proc` is bound twice: to a Process, and by a loop over a list that holds `proc` itself
    facts = facts_of(
        """
        import multiprocessing as mp
        procs = []
        for n in range(2):
            proc = mp.Process(target=print)
            procs.append(proc)
        for proc in procs:
            proc.start()
        """
    )
    site = next(s for s in facts.calls if facts.code(s.node) == "proc.start()")
    assert facts.started_kind(site) is apis.Kind.PROCESS
    procs = cst.Name("procs")
    assert facts.values.element_of(procs, facts.module_scope).kind is apis.Kind.PROCESS


def test_a_list_extended_by_a_comprehension_holds_its_elements() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        procs = []
        procs += [mp.Process(target=print) for _ in range(2)]
        """
    )
    assert facts.values.element_of(cst.Name("procs"), facts.module_scope).kind is apis.Kind.PROCESS


def test_a_self_referencing_name_alone_is_unknown() -> None:
    facts = facts_of("x = x\n")
    assert facts.values.instance_of(cst.Name("x"), facts.module_scope) is None


def test_a_collection_stored_into_another_is_an_escape() -> None:
    _, life = only_lifecycle(
        """
        def run(names):
            procs = []
            proc = mp.Process(target=print)
            proc.start()
            procs.append(proc)
            batches = []
            batches.append(procs)
        """
    )
    assert life.escapes


def test_a_unittest_assertion_looks_at_the_object_without_keeping_it() -> None:
    _, life = only_lifecycle(
        """
        def test_truthy(self):
            proc = mp.Process(target=print)
            self.assertTrue(proc)
            self.assertIsNone(proc.exitcode)
        """
    )
    assert not life.escapes and not any(e.calls("start") for e in life.events())


@pytest.mark.parametrize(
    "later, followed",
    [
        ("pool = 3", True),
        ("pool = pool.close() or 3", None),  # the right-hand side still sees the pool
        ("with ThreadPoolExecutor() as pool:\n                pass", True),
        ("if fast:\n                pool = 3", False),  # rebound on some paths only
    ],
)
def test_a_name_reused_for_something_else_is_followed_up_to_the_rebinding(later: str, followed: bool | None) -> None:
    facts, life = only_lifecycle(
        f"""
        from concurrent.futures import ThreadPoolExecutor
        def run(fast):
            pool = mp.Pool()
            pool.map(str, [])
            {later}
            pool.close()
        """
    )
    if followed is None:
        assert life.how == "name" and [e.action for e in life.events()] == ["map", "close"]
    elif followed:
        assert life.how == "name" and [e.action for e in life.events()] == ["map"]
    else:
        assert life.how == "unknown"
