"""Facts through indirection: workers bound to a name by functools.partial or passed as a
parameter, objects handed to helpers, getattr on a known pool, annotated assignments."""

from __future__ import annotations

import textwrap

import libcst as cst

from mplint.facts import Dispatch, ModuleFacts


def facts_of(source: str) -> ModuleFacts:
    return ModuleFacts(cst.parse_module(textwrap.dedent(source)))


def workers_of(facts: ModuleFacts) -> dict[int, str | None]:
    """{line of the dispatch: the worker's name (None when unknown)}."""
    return {
        facts.line_of(d.site.node): d.worker.name if d.worker is not None else None
        for d in facts.workers.dispatches
        if d.site is not None
    }


def arguments(facts: ModuleFacts, dispatch: Dispatch) -> dict[str, str]:
    return {name: facts.code(value) for name, value in dispatch.arguments().items()}


def test_a_partial_bound_to_a_name_is_seen_through_with_its_arguments() -> None:
    facts = facts_of(
        """
        import functools
        from multiprocessing import Pool

        def download(s3, bucket, key): pass

        def main(s3, keys):
            work = functools.partial(download, s3, "assets")
            again = functools.partial(work)
            with Pool() as pool:
                pool.map(work, keys)
                pool.map(again, keys)
        """
    )
    assert workers_of(facts) == {11: "download", 12: "download"}
    first = facts.workers.dispatches[0]
    assert facts.code(first.callable) == "work"
    assert first.partial is not None and facts.code(first.partial).startswith("functools.partial(download")
    assert arguments(facts, first) == {"s3": "s3", "bucket": '"assets"'}


def test_a_named_partial_is_not_followed_where_it_cannot_be_known() -> None:
    facts = facts_of(
        """
        import functools
        from multiprocessing import Pool

        def download(bucket, key): pass
        def upload(bucket, key): pass

        bucket = "assets"
        module_work = functools.partial(download, bucket)

        def shadowed(keys):
            bucket = "other"  # the module-level partial's `bucket` is not this one
            with Pool() as pool:
                pool.map(module_work, keys)

        def same(keys):
            with Pool() as pool:
                pool.map(module_work, keys)

        def rebound(keys, fast):
            work = functools.partial(download, "a")
            if fast:
                work = functools.partial(upload, "a")
            with Pool() as pool:
                pool.map(work, keys)
        """
    )
    assert workers_of(facts) == {14: None, 18: "download", 25: None}


def test_annotated_assignments_bind_like_plain_ones_and_bare_annotations_bind_nothing() -> None:
    facts = facts_of(
        """
        from multiprocessing import Pool
        from multiprocessing.pool import Pool as PoolType

        def run():
            pool: PoolType = Pool(4)
            pool.map(abs, [1])
            pool.close()

        def declared():
            pool: PoolType
            pool = Pool(2)
            pool.terminate()
        """
    )
    first, second = facts.lifecycles.all
    assert first.how == "name" and [e.method for e in first.events()] == ["map", "close"]
    assert second.how == "name" and [e.method for e in second.events()] == ["terminate"]


def test_bound_values_are_every_binding_of_a_name_or_nothing() -> None:
    facts = facts_of(
        """
        ROOT = "/data"

        def main(given, items, fast):
            path = "/tmp"
            limit = 1 if fast else 2
            count = 1
            count += 1
            for item in items:
                pass
            print(ROOT, path, limit, count, given, item, unbound)
        """
    )
    site = next(s for s in facts.calls if facts.code(s.node.func) == "print")
    shown = {}
    for arg in site.node.args:
        bound = facts.values.bound_values(arg.value, site.scope)
        shown[arg.value.value] = None if bound is None else [facts.code(v) for v, _ in bound]
    assert shown == {
        "ROOT": ['"/data"'], "path": ['"/tmp"'], "limit": ["1 if fast else 2"],
        "count": None, "given": None, "item": None, "unbound": None,
    }


def test_getattr_with_a_literal_name_is_the_method_and_any_other_name_an_unknown_use() -> None:
    facts = facts_of(
        """
        from multiprocessing import Pool

        def work(x): pass

        def run(name):
            pool = Pool()
            getattr(pool, "map")(work, [1])
            getattr(pool, "close")()
            getattr(pool, "_processes")
            getattr(pool, name)(work, [1])
        """
    )
    assert workers_of(facts) == {8: "work"}
    assert facts.workers.dispatches[0].method == "map"
    (life,) = facts.lifecycles.all
    assert [(e.use.value, e.method) for e in life.events()] == [
        ("call", "map"), ("call", "close"), ("escape", None)
    ]


def test_a_worker_passed_as_a_parameter_is_what_every_call_of_the_helper_passes() -> None:
    facts = facts_of(
        """
        import functools
        from multiprocessing import Pool, Process

        def work(x): pass
        def other(x): pass

        def launch(target, n):
            Process(target=target, args=(n,)).start()

        def outer(fn):
            launch(fn, 1)

        def twice(fn):
            with Pool() as pool:
                pool.map(fn, [1])

        def main(scale):
            outer(work)
            outer(work)
            twice(work)
            twice(other)
        """
    )
    assert workers_of(facts) == {9: "work", 16: None}
    dispatch = facts.workers.dispatches[0]
    assert facts.code(dispatch.callable) == "target" and facts.code(dispatch.passed_in) == "work"
    assert facts.line_of(dispatch.passed_in) == 19 and dispatch.target_scope is not dispatch.scope
    assert arguments(facts, dispatch) == {"x": "n"}


def test_a_parameter_is_not_followed_to_callers_that_cannot_all_be_seen() -> None:
    facts = facts_of(
        """
        import functools
        from multiprocessing import Process

        def work(x): pass

        def escapes(target):
            Process(target=target).start()

        @functools.lru_cache(maxsize=None)
        def decorated(target):
            Process(target=target).start()

        def defaulted(target=work):
            Process(target=target).start()

        def partial_of_locals(target):
            Process(target=target).start()

        def made(target):
            Process(target=target).start()

        HANDLERS = [escapes]

        def main(scale):
            escapes(work)
            decorated(work)
            defaulted()
            partial_of_locals(functools.partial(work, scale))
            made(functools.partial)
        """
    )
    assert set(workers_of(facts).values()) == {None}


def test_a_helper_that_only_uses_an_object_leaves_it_to_its_caller() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        KEPT = []

        def make_shared(m): return m.dict()
        def launch(p):
            print(p.name)
            p.start()
        def through(m): return make_shared(m)
        def ends(m): m.shutdown()
        def keeps(m): KEPT.append(m)
        def returns(m): return m
        def captures(m): return lambda: m.dict()
        def rebinds(m):
            m = None

        def run():
            a = mp.Manager(); make_shared(a)
            b = mp.Manager(); through(b)
            c = mp.Manager(); ends(c)
            d = mp.Manager(); keeps(d)
            e = mp.Manager(); returns(e)
            f = mp.Manager(); captures(f)
            g = mp.Manager(); rebinds(g)
            h = mp.Process(target=print); launch(h)
        """
    )
    escapes = {life.holder.name: life.escapes for life in facts.lifecycles.all}
    assert escapes == {
        "a": False, "b": False, "c": True, "d": True, "e": True, "f": True, "g": True, "h": False
    }
    (process,) = [life for life in facts.lifecycles.all if life.holder.name == "h"]
    assert [(e.use.value, e.method) for e in process.events()] == [("call", "start")]


def test_a_method_another_class_overrides_is_not_followed() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def work(x): pass

        class Base:
            def launch(self, target):
                mp.Process(target=target).start()

            def share(self, manager):
                return manager.dict()

            def run(self):
                self.launch(work)
                manager = mp.Manager()
                self.share(manager)

        class Child(Base):
            def launch(self, target):
                pass

            def share(self, manager):
                manager.shutdown()
        """
    )
    assert workers_of(facts) == {8: None}
    (manager,) = [life for life in facts.lifecycles.all if life.holder is not None]
    assert manager.holder.name == "manager" and manager.escapes
