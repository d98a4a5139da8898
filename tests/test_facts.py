"""The shared facts: what names mean, what objects expressions are, which code runs in a child."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from mplint import apis, prefilter
from mplint.facts import ModuleFacts
from mplint.facts import values as values_module
from mplint.facts.flow import Use


def facts_of(source: str) -> ModuleFacts:
    return ModuleFacts(cst.parse_module(textwrap.dedent(source)))


def call_named(facts: ModuleFacts, text: str):
    matches = [s for s in facts.calls if facts.code(s.node) == text]
    assert len(matches) == 1, f"{text!r}: {len(matches)} calls"
    return matches[0]


@pytest.mark.parametrize(
    "imports, expr, qualname",
    [
        ("import multiprocessing as mp", "mp.Pool()", "multiprocessing.Pool"),
        ("from multiprocessing.pool import Pool as P", "P()", "multiprocessing.pool.Pool"),
        ("from concurrent import futures", "futures.ProcessPoolExecutor()", "concurrent.futures.ProcessPoolExecutor"),
        ("import concurrent.futures", "concurrent.futures.ProcessPoolExecutor()", "concurrent.futures.ProcessPoolExecutor"),
        ("import multiprocessing as mp\nctx = mp.get_context('spawn')", "ctx.Pool()", "multiprocessing.Pool"),
        ("import multiprocessing as mp", "mp.get_context().Process()", "multiprocessing.Process"),
        ("import torch.multiprocessing as tmp", "tmp.spawn()", "torch.multiprocessing.spawn"),
        ("import multiprocessing as mp\nP = mp.Pool\nQ = P", "Q()", "multiprocessing.Pool"),
    ],
)
def test_qualified_names_undo_every_import_form(imports: str, expr: str, qualname: str) -> None:
    facts = facts_of(f"{imports}\n{expr}\n")
    site = call_named(facts, expr)
    assert facts.names.qualname(site.node.func, site.scope) == qualname


@pytest.mark.parametrize(
    "source, expr",
    [
        ("import multiprocessing as mp\nmp = object()\nmp.Pool()\n", "mp.Pool()"),  # rebound
        ("import multiprocessing as mp\ndef f(mp):\n    mp.Pool()\n", "mp.Pool()"),  # a parameter
        ("from .pool import Pool\nPool()\n", "Pool()"),  # a module of the project
        ("import psutil\npsutil.Process()\n", "psutil.Process()"),
        ("Pool()\n", "Pool()"),  # never imported
    ],
)
def test_names_that_are_not_the_api_resolve_to_nothing(source: str, expr: str) -> None:
    facts = facts_of(source)
    site = call_named(facts, expr)
    assert facts.names.api(site.node.func, site.scope) is None


def test_thread_lookalikes_are_in_the_table_as_threads() -> None:
    assert apis.APIS["multiprocessing.dummy.Pool"].kind is apis.Kind.THREAD_POOL
    assert apis.APIS["multiprocessing.pool.ThreadPool"].kind is apis.Kind.THREAD_POOL
    assert apis.APIS["concurrent.futures.ThreadPoolExecutor"].kind is apis.Kind.THREAD_EXECUTOR
    assert apis.APIS["multiprocessing.dummy.Process"].kind is apis.Kind.THREAD_PROCESS


def test_prefilter_follows_the_table() -> None:
    assert prefilter.may_contain_findings(b"import multiprocessing\n")
    assert prefilter.may_contain_findings(b"from concurrent.futures import ProcessPoolExecutor\n")
    assert prefilter.may_contain_findings("import billiard\n")
    assert not prefilter.may_contain_findings(b"from concurrent.futures import ThreadPoolExecutor\n")
    assert not prefilter.may_contain_findings(b"import os\nprint(os.getpid())\n")
    # thread APIs pass only when a rule that judges threads is enabled
    for source in (b"from concurrent.futures import ThreadPoolExecutor\n", "import threading\nthreading.Thread()\n"):
        assert not prefilter.may_contain_findings(source)
        assert prefilter.may_contain_findings(source, threads=True)
    assert not prefilter.may_contain_findings(b"import threading\nprint(1)\n", threads=True)


def test_instances_through_names_loops_lists_subclasses_and_attributes() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        class Worker(mp.Process):
            pass

        class Owner:
            def __init__(self):
                self.pool = mp.Pool(2)

            def use(self):
                self.pool.close()

        procs = [mp.Process(target=print) for _ in range(2)]
        extra = []
        extra.append(Worker())
        for p in procs:
            p.start()
        for e in extra:
            e.start()
        w = Worker()
        w.start()
        """
    )
    for text, kind in [
        ("p.start()", apis.Kind.PROCESS),
        ("e.start()", apis.Kind.PROCESS),
        ("w.start()", apis.Kind.PROCESS),
        ("self.pool.close()", apis.Kind.POOL),
    ]:
        site = call_named(facts, text)
        instance = facts.values.instance_of(site.node.func.value, site.scope)
        assert instance is not None and instance.kind is kind, text


#: every API of the table whose calls make an object the facts follow (a process, a pool, a queue...)
_OBJECT_APIS = sorted(q for q, api in apis.APIS.items() if api.kind in values_module._OBJECT_KINDS)


@pytest.mark.parametrize("qualname", _OBJECT_APIS)
def test_every_object_api_called_through_an_attribute_makes_its_object(qualname: str) -> None:
    # `owner.Pool()`: a call by attribute is answered early by its last name; a name of the
    # table left out of that answer would lose its objects (and every finding about them)
    owner, name = qualname.rsplit(".", 1)
    facts = facts_of(f"import {owner} as owner\nobj = owner.{name}()\n")
    site = call_named(facts, f"owner.{name}()")
    instance = facts.values.instance_of(site.node, site.scope)
    assert instance is not None and instance.kind is apis.APIS[qualname].kind


def test_a_method_call_by_another_name_makes_no_object() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        class Owner:
            def make(self):
                return mp.Pool(2)

            def use(self):
                pool = self.make()
                ctx = mp.get_context("spawn")
                queue = ctx.Queue()
        """
    )
    site = call_named(facts, "self.make()")
    assert facts.values.instance_of(site.node, site.scope) is None
    site = call_named(facts, "ctx.Queue()")
    instance = facts.values.instance_of(site.node, site.scope)
    assert instance is not None and instance.kind is apis.Kind.QUEUE


def test_disagreeing_bindings_make_an_object_unknown() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        import threading

        def pick(flag):
            p = mp.Process(target=print)
            if flag:
                p = threading.Thread(target=print)
            p.start()
        """
    )
    site = call_named(facts, "p.start()")
    assert facts.values.instance_of(site.node.func.value, site.scope) is None


def test_import_time_and_guards() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        a()
        if __name__ == "__main__":
            b()
        def f():
            c()
        class K:
            d()
        if TYPE_CHECKING:
            e()
        """
    )
    import_time = {facts.code(s.node) for s in facts.calls if s.import_time}
    assert import_time == {"a()", "d()"}
    assert call_named(facts, "b()").main_guarded


def test_workers_through_every_dispatch_form() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        def leaf(x): pass
        def work(x, scale=1): leaf(x)
        def init(cfg): pass
        def submitted(a, b): pass
        def via_lambda(v): pass
        def never(): pass

        class Sub(mp.Process):
            def run(self):
                leaf(0)

        def main(data):
            mp.Process(target=work, args=(data,), kwargs={"scale": 2})
            with mp.Pool(2, initializer=init, initargs=(data,)) as pool:
                pool.map(partial(work, scale=3), data)
                pool.map(lambda v: via_lambda(v), data)
            with ProcessPoolExecutor() as ex:
                ex.submit(submitted, 1, b=data)
        """
    )
    workers = facts.workers
    in_child = {node.name.value for node in workers.child_functions}
    assert in_child == {"leaf", "work", "init", "submitted", "via_lambda", "run"}
    target = next(d for d in workers.dispatches if d.kind == "target")
    assert {k: facts.code(v) for k, v in target.arguments().items()} == {"x": "data", "scale": "2"}
    submitted = next(d for d in workers.dispatches if d.kind == "executor")
    assert {k: facts.code(v) for k, v in submitted.arguments().items()} == {"a": "1", "b": "data"}
    partial_dispatch = next(d for d in workers.dispatches if d.partial is not None)
    assert partial_dispatch.worker is not None and partial_dispatch.worker.name == "work"


@pytest.mark.parametrize(
    "setup, creation, method, pickler",
    [
        ("", "mp.Process(target=print)", None, "pickle"),
        ("", "mp.get_context('spawn').Process(target=print)", "spawn", "pickle"),
        ("ctx = mp.get_context('fork')", "ctx.Pool(2)", "fork", "pickle"),
        ("ctx = mp.get_context()", "ctx.Pool(2)", None, "pickle"),
        ("from multiprocessing.context import ForkServerProcess", "ForkServerProcess(target=print)", "forkserver", "pickle"),
        ("from multiprocessing import pool", "pool.Pool(2)", None, "pickle"),
        ("", "mp.pool.Pool(2, context=mp.get_context('spawn'))", "spawn", "pickle"),
        ("from concurrent.futures import ProcessPoolExecutor as PPE", "PPE()", None, "pickle"),
        ("from concurrent.futures import ProcessPoolExecutor as PPE", "PPE(mp_context=mp.get_context('fork'))", "fork", "pickle"),
        ("import multiprocess", "multiprocess.Pool(2)", None, "dill"),
        ("import multiprocess\nfrom concurrent.futures import ProcessPoolExecutor as PPE",
         "PPE(2, multiprocess.get_context('spawn'))", "spawn", "dill"),
        ("class W(mp.get_context('spawn').Process):\n    pass", "W()", "spawn", "pickle"),
        ("mp.set_start_method('forkserver')", "mp.Process(target=print)", "forkserver", "pickle"),
        ("mp.set_start_method('fork')", "mp.get_context('spawn').Process(target=print)", "spawn", "pickle"),
        ("ctx = mp.get_context(METHOD)", "ctx.Process(target=print)", "unknown", "pickle"),
        ("mp.set_start_method(METHOD)", "mp.Process(target=print)", "unknown", "pickle"),
    ],
)
def test_contexts_tell_start_method_and_pickler(setup: str, creation: str, method, pickler: str) -> None:
    facts = facts_of(f"import multiprocessing as mp\n{setup}\nobj = {creation}\n")
    site = call_named(facts, creation)
    instance = facts.values.instance_of(site.node, site.scope)
    assert instance is not None
    context = facts.contexts.of(instance)
    assert context is not None and (context.method, context.pickler) == (method, pickler)


@pytest.mark.parametrize(
    "setup, creation",
    [
        ("from concurrent.futures import ProcessPoolExecutor as PPE\ndef f(ctx):\n    return PPE(mp_context=ctx)", "PPE(mp_context=ctx)"),
        ("ctx = mp.get_context('spawn')\nctx = mp.get_context('fork')", "ctx.Process(target=print)"),
    ],
)
def test_contexts_that_cannot_be_told(setup: str, creation: str) -> None:
    facts = facts_of(f"import multiprocessing as mp\n{setup}\nobj = {creation}\n")
    site = facts.calls[[facts.code(s.node) for s in facts.calls].index(creation)]
    instance = facts.values.instance_of(site.node, site.scope)
    assert instance is not None
    assert facts.contexts.of(instance) is None


def test_dispatch_context_of_torch_spawn() -> None:
    facts = facts_of(
        """
        import torch.multiprocessing as tmp
        def work(rank): pass
        tmp.spawn(work, nprocs=2)
        tmp.start_processes(work, start_method="fork")
        """
    )
    methods = [facts.contexts.of_dispatch(d).method for d in facts.workers.dispatches]
    assert methods == ["spawn", "fork"]


def test_dispatch_keeps_packed_arguments_and_methods_of_fresh_instances() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def work(name): pass
        def init(n): pass

        class Job:
            def step(self, x): pass

        def main():
            mp.Process(target=work, args=("alice"))
            with mp.Pool(2, init, (1,)) as pool:
                pool.apply_async(work, ("bob",))
                pool.map(Job().step, range(3))
        """
    )
    packed = [facts.code(d.packed_args) if d.packed_args else None for d in facts.workers.dispatches]
    assert packed == ['("alice")', "(1,)", '("bob",)', None]
    method = facts.workers.dispatches[-1]
    assert method.worker is not None and method.worker.name == "step" and method.bound


def test_arguments_map_calls_onto_parameters_and_follow_helpers() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def publish(out, rows):
            for row in rows:
                out.put(row)

        def work(chunk, out, *, tag=None):
            publish(out, chunk)
            out.put_nowait(tag)

        def unrelated(out):
            out = []
            out.put(1)

        class Sink:
            def __init__(self, queue, limit=1):
                self.queue = queue

            def send(self, item):
                self.queue.put(item)

        def main(q, rows):
            work(rows, q, tag="t")
            Sink(q, limit=2)
            mp.Process(target=work, args=(rows, q))
        """
    )
    functions = {info.name: info for info in facts.functions.values()}
    arguments = facts.arguments
    (site, passed), = arguments.callers(functions["work"])
    assert {k: facts.code(v) for k, v in passed.items()} == {"chunk": "rows", "out": "q", "tag": '"t"'}
    (site, passed), = arguments.callers(functions["__init__"])
    assert {k: facts.code(v) for k, v in passed.items()} == {"queue": "q", "limit": "2"}  # self skipped
    puts = arguments.method_calls_on(functions["work"], "out", {"put", "put_nowait"})
    assert sorted(facts.code(s.node) for s in puts) == ["out.put(row)", "out.put_nowait(tag)"]
    # a name rebound in the function is no longer the parameter
    assert arguments.method_calls_on(functions["unrelated"], "out", {"put"}) == []
    put_in_main = [s for s in facts.calls if facts.code(s.node) == "work(rows, q, tag=\"t\")"][0]
    assert arguments.parameter(put_in_main.node.args[1].value, put_in_main.scope) == (functions["main"], "q")


def test_spawn_passes_the_process_index_first() -> None:
    facts = facts_of(
        """
        import torch.multiprocessing as tmp

        def train(rank, model, epochs):
            pass

        def main(model):
            tmp.spawn(train, args=(model, 3), nprocs=4)
        """
    )
    (dispatch,) = facts.workers.dispatches
    assert {k: facts.code(v) for k, v in dispatch.arguments().items()} == {"model": "model", "epochs": "3"}


def _dispatch_of(facts: ModuleFacts, worker: str):
    found = [d for d in facts.workers.dispatches if d.worker is not None and d.worker.name == worker]
    assert len(found) == 1, f"{worker}: {len(found)} dispatches"
    return found[0]


def _arguments(facts: ModuleFacts, dispatch) -> dict[str, str]:
    return {name: facts.code(expr) for name, expr in dispatch.arguments().items()}


def test_process_targets_positional_keyword_bound_and_on_instances() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def positional(a, b): pass
        def keyword(a): pass

        class Job:
            def work(self, n): pass
            def method_target(self, n): pass
            def launch(self, n):
                return mp.Process(target=self.work, args=(n,))

        def main(items):
            mp.Process(None, positional, "name", (items, 2))
            mp.get_context("spawn").Process(target=keyword, kwargs={"a": items})
            job = Job()
            mp.Process(target=job.method_target, args=(items,))
        """
    )
    positional = _dispatch_of(facts, "positional")
    assert positional.kind == "target" and not positional.bound
    assert positional.runner is not None and positional.runner.kind is apis.Kind.PROCESS
    assert _arguments(facts, positional) == {"a": "items", "b": "2"}
    assert _arguments(facts, _dispatch_of(facts, "keyword")) == {"a": "items"}
    for name in ("work", "method_target"):
        bound = _dispatch_of(facts, name)
        assert bound.bound, name
        assert _arguments(facts, bound) == {"n": "n" if name == "work" else "items"}


def test_run_of_subclasses_including_subclasses_of_local_subclasses() -> None:
    facts = facts_of(
        """
        from multiprocessing import Process

        class Base(Process):
            def run(self):
                self.step()

            def step(self): pass

        class Derived(Base):
            def run(self):
                self.helper()

        class Mixin:
            def helper(self): pass

        class Both(Base, Mixin):
            def run(self):
                self.helper()
                self.step()

        class NotAProcess:
            def run(self): pass
        """
    )
    runs = [d for d in facts.workers.dispatches if d.kind == "run"]
    assert sorted(facts.classes[d.worker.cls].name for d in runs) == ["Base", "Both", "Derived"]
    in_child = {
        (facts.classes[info.cls].name, info.name)
        for info in map(facts.functions.get, facts.workers.child_functions)
        if info.cls is not None
    }
    assert ("Base", "step") in in_child and ("Mixin", "helper") in in_child
    assert ("NotAProcess", "run") not in in_child


def test_initializers_of_pools_and_executors_positional_and_keyword() -> None:
    facts = facts_of(
        """
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        def pool_init(cfg): pass
        def pool_init_kw(cfg): pass
        def executor_init(a, b): pass
        def executor_init_positional(): pass

        def main(cfg):
            multiprocessing.Pool(4, pool_init, (cfg,))
            multiprocessing.Pool(initializer=pool_init_kw, initargs=[cfg])
            ProcessPoolExecutor(max_workers=2, initializer=executor_init, initargs=(cfg, 1))
            ProcessPoolExecutor(2, None, executor_init_positional)
        """
    )
    for name, expected in [
        ("pool_init", {"cfg": "cfg"}),
        ("pool_init_kw", {"cfg": "cfg"}),
        ("executor_init", {"a": "cfg", "b": "1"}),
        ("executor_init_positional", {}),
    ]:
        dispatch = _dispatch_of(facts, name)
        assert dispatch.kind == "initializer", name
        assert _arguments(facts, dispatch) == expected, name


@pytest.mark.parametrize(
    "method, call, expected",
    [
        ("map", "pool.map(work, data)", {}),
        ("imap", "pool.imap(work, data, chunksize=4)", {}),
        ("imap_unordered", "pool.imap_unordered(work, data)", {}),
        ("starmap", "pool.starmap(work, pairs)", {}),
        ("map_async", "pool.map_async(work, data)", {}),
        ("starmap_async", "pool.starmap_async(work, pairs)", {}),
        ("apply", "pool.apply(work, (1,), {'b': data})", {"a": "1", "b": "data"}),
        ("apply_async", "pool.apply_async(func=work, args=(data,))", {"a": "data"}),
    ],
)
def test_every_pool_method_dispatches(method: str, call: str, expected: dict[str, str]) -> None:
    facts = facts_of(
        f"""
        from multiprocessing import Pool

        def work(a, b=None): pass

        def main(data, pairs):
            with Pool() as pool:
                {call}
        """
    )
    dispatch = _dispatch_of(facts, "work")
    assert dispatch.kind == "pool" and dispatch.runner is not None and dispatch.runner.kind is apis.Kind.POOL
    assert _arguments(facts, dispatch) == expected


def test_executor_submit_and_map_but_not_thread_executors_or_thread_pools() -> None:
    facts = facts_of(
        """
        import concurrent.futures as cf
        from multiprocessing.pool import ThreadPool

        def submitted(a, b): pass
        def mapped(a): pass
        def threaded(a): pass

        def main(data):
            with cf.ProcessPoolExecutor() as ex:
                ex.submit(submitted, data, b=2)
                list(ex.map(mapped, data))
            with cf.ThreadPoolExecutor() as tex:
                tex.submit(threaded, data)
            with ThreadPool() as tp:
                tp.map(threaded, data)
        """
    )
    assert _arguments(facts, _dispatch_of(facts, "submitted")) == {"a": "data", "b": "2"}
    assert _dispatch_of(facts, "mapped").kind == "executor"
    assert not [d for d in facts.workers.dispatches if d.worker is not None and d.worker.name == "threaded"]
    assert "threaded" not in {f.name.value for f in facts.workers.child_functions}


def test_torch_spawn_passes_the_process_index_first() -> None:
    facts = facts_of(
        """
        import torch.multiprocessing as tmp

        def train(rank, world_size, results): pass

        def main(results):
            tmp.spawn(train, args=(4, results), nprocs=4)
        """
    )
    dispatch = _dispatch_of(facts, "train")
    assert dispatch.kind == "spawn"
    assert _arguments(facts, dispatch) == {"world_size": "4", "results": "results"}


def test_partials_nested_and_with_keywords_are_seen_through() -> None:
    facts = facts_of(
        """
        import functools
        from multiprocessing import Pool, Process

        def work(a, b, c, d=0): pass
        def starred(a, b): pass

        def main(x, y, rest):
            Process(target=functools.partial(functools.partial(work, x), y), args=(1,), kwargs={"d": 2})
            with Pool() as pool:
                pool.map(functools.partial(starred, *rest), [1])
        """
    )
    dispatch = _dispatch_of(facts, "work")
    assert dispatch.partial is not None and facts.code(dispatch.partial).startswith("functools.partial(functools")
    assert _arguments(facts, dispatch) == {"a": "x", "b": "y", "c": "1", "d": "2"}
    assert _arguments(facts, _dispatch_of(facts, "starred")) == {}


def test_class_access_static_and_class_methods_are_not_bound() -> None:
    facts = facts_of(
        """
        from multiprocessing import Pool

        class Tasks:
            def plain(self, x): pass

            @staticmethod
            def static(x): pass

            @classmethod
            def klass(cls, x): pass

        def main(tasks):
            with Pool() as pool:
                pool.apply(Tasks.plain, (tasks, 1))
                pool.apply(Tasks.static, (1,))
                pool.apply(Tasks.klass, (2,))
        """
    )
    plain, static, klass = (_dispatch_of(facts, n) for n in ("plain", "static", "klass"))
    assert not plain.bound and _arguments(facts, plain) == {"self": "tasks", "x": "1"}
    assert not static.bound and _arguments(facts, static) == {"x": "1"}
    assert not klass.bound and _arguments(facts, klass) == {"x": "2"}


def test_child_functions_are_transitive_and_remember_their_dispatches() -> None:
    facts = facts_of(
        """
        from multiprocessing import Pool

        def c(): pass
        def b(): c()
        def a(): b()
        def parent_only(): c()
        def init(): b()

        def main():
            with Pool(initializer=init) as pool:
                pool.apply(a)
            parent_only()
        """
    )
    workers = facts.workers
    by_name = {f.name: f for f in facts.functions.values()}
    assert workers.runs_in_child(by_name["c"]) and not workers.runs_in_child(by_name["parent_only"])
    assert sorted(d.kind for d in workers.dispatches_of(by_name["b"])) == ["initializer", "pool"]
    assert [d.kind for d in workers.dispatches_of(by_name["a"])] == ["pool"]
    assert not workers.runs_in_child(by_name["main"])


def test_reads_exclude_bindings_attribute_names_keywords_and_imports() -> None:
    facts = facts_of(
        """
        import os.path
        from collections import deque as results
        total = 0
        def f(total, key=total):
            global counter
            counter += 1
            obj.total = total
            g(total=1, counter=counter)
            for item in items:
                del item
            return obj.total
        """
    )
    assert [s.kind for _, s in facts.loads["total"]] == ["module", "function"]
    assert [s.kind for _, s in facts.loads["counter"]] == ["function", "function"]
    assert "results" not in facts.loads and "path" not in facts.attribute_loads
    assert [facts.code(a) for a, _ in facts.attribute_loads["total"]] == ["obj.total"]
    assert "item" not in facts.loads


def test_defaults_and_annotations_run_where_the_def_is() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        def f(pool=mp.Pool(2), *, n: int = size()) -> make():
            inner()
        """
    )
    assert {facts.code(s.node) for s in facts.calls if s.import_time} == {"mp.Pool(2)", "size()", "make()"}
    assert call_named(facts, "inner()").scope.kind == "function"


def test_plain_mutable_values_and_what_is_not_plain() -> None:
    facts = facts_of(
        """
        import collections
        import multiprocessing as mp
        from dataclasses import dataclass

        @dataclass
        class Stats:
            n: int = 0

        class Proxyish:
            def __setattr__(self, name, value): pass

        class Holder:
            items = []
            def __init__(self):
                self.seen = set()
                self.queue = mp.Queue()

        a = []
        b = {k: 1 for k in "ab"}
        c = collections.defaultdict(list)
        d = Stats()
        e = mp.Manager().list()
        f = Proxyish()
        g = make()
        h = []
        h = make()
        list = tuple
        i = list()
        holder = Holder()
        """
    )
    state, scope = facts.state, facts.module_scope
    kinds = {}
    for name in "abcdefghi":
        plain = state.plain(cst.Name(name), scope)
        kinds[name] = (plain.type, plain.is_object) if plain else None
    assert kinds == {
        "a": ("list", False),
        "b": ("dict", False),
        "c": ("defaultdict", False),
        "d": ("Stats", True),
        "e": None,  # made for sharing
        "f": None,  # a class that redirects attribute assignment
        "g": None,  # unknown
        "h": None,  # bindings disagree
        "i": None,  # `list` is not the builtin here
    }
    assert state.plain(cst.parse_expression("holder.seen"), scope).type == "set"
    assert state.plain(cst.parse_expression("holder.items"), scope).type == "list"
    assert state.plain(cst.parse_expression("holder.queue"), scope) is None


def test_mutations_a_function_makes() -> None:
    facts = facts_of(
        """
        def f(acc, obj):
            global total, gone
            acc.append(1)
            acc[0] = 2
            obj.name = 3
            del acc[0]
            acc += [4]
            total += 1
            total = 0
            del gone
            local = []
            local.sort()
            [acc.extend(x) for x in local]
            def inner():
                acc.clear()
            return acc, local
        """
    )
    function = next(iter(facts.functions.values()))
    found = [
        (m.action, facts.code(m.obj) if m.obj is not None else m.name, m.attr, m.writes)
        for m in facts.state.mutations(function)
    ]
    assert found == [
        ("`.append()`", "acc", None, True),
        ("item assignment", "acc", None, True),
        ("attribute assignment", "obj", "name", True),
        ("`del` of an item", "acc", None, False),
        ("in-place `+=`", "acc", None, True),
        ("augmented assignment through `global`", "total", None, True),
        ("assignment through `global`", "total", None, True),
        ("`del`", "gone", None, True),
        ("`.sort()`", "local", None, False),
        ("`.extend()`", "acc", None, True),
    ]
    assert facts.state.returned_names(function) == {"acc", "local"}


def test_where_code_runs_for_state() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        CONFIG = None
        def setup(): pass
        setup()
        def configure():
            global CONFIG
            CONFIG = 1
        def work(x):
            return CONFIG
        if __name__ == "__main__":
            LATE = 1
            with mp.Pool() as pool:
                pool.map(work, [1])
        """
    )
    state = facts.state
    by_name = {f.name: f for f in facts.functions.values()}
    assert state.in_child(by_name["work"].scope) and not state.in_child(by_name["configure"].scope)
    assert {facts.functions[n].name for n in state.import_time_functions} == {"setup"}
    assigned = [n for n, _ in facts.statements.stores]
    guarded = {facts.code(n).split("=")[0].strip() for n in assigned if state.module_level_binding(n)}
    assert guarded == {"LATE"}
    assert {facts.code(n).split("=")[0].strip() for n in assigned if state.module_level_binding(n) is None} == {"CONFIG"}
    assert [f.name for f in state.global_rebindings.values()] == ["configure"]


@pytest.mark.parametrize(
    "call, kind",
    [
        ("requests.get(url)", "blocking"),
        ("session.get(url)", "blocking"),  # a client made by requests.Session()
        ("requests.Session(timeout=3)", "bookkeeping"),  # making a client waits on nothing
        ("socket.fromfd(fd, 2, 1)", "bookkeeping"),
        ("sock.connect(url)", "blocking"),  # a socket made by socket.socket()
        ("sock.close()", "bookkeeping"),
        ("self_client.put_object()", "blocking"),  # set to None at import, to a boto3 client later
        ("s3.get(key)", "blocking"),  # a boto3 client's get is not dict.get
        ("bucket.download_file(key, path)", "blocking"),  # boto3.Session().resource("s3").Bucket()
        ("helped.list_objects_v2()", "blocking"),  # a client returned by a helper of the module
        ("cached.get_object()", "blocking"),  # a client cached in a global by a helper
        ("time.sleep(1)", "blocking"),
        ("subprocess.run(cmd)", "blocking"),
        ("subprocess.check_output(cmd)", "blocking"),
        ("os.system(cmd)", "blocking"),
        ("subprocess.PIPE()", "bookkeeping"),
        ("np.dot(a, b)", "releases-gil"),
        ("hashlib.sha256(data)", "releases-gil"),
        ("zlib.compress(data)", "releases-gil"),
        ("statistics.median(data)", "compute"),
        ("signal.signal(1, h)", "process-only"),
        ("os.chdir(path)", "process-only"),
        ("os.path.join(a, b)", "bookkeeping"),
        ("os.listdir(path)", "local-io"),
        ("urllib.parse.urlparse(url)", "bookkeeping"),
        ("log.info(msg)", "bookkeeping"),
        ("len(url)", "bookkeeping"),
        ("open(path)", "local-io"),
        ("text.strip()", "bookkeeping"),
        ("table.get(key)", "bookkeeping"),  # dict.get takes a key
        ("jobs.get()", "local-io"),  # queue.get does not: it waits
        ("jobs.get(timeout=1)", "local-io"),
        ("', '.join(text)", "bookkeeping"),
        ("thread.join()", "local-io"),
        ("model.predict(x)", "unknown"),
        ("callback(x)", "unknown"),
        ("parse(x)", "unknown"),  # from a module of the project
        ("helper(x)", "local"),
    ],
)
def test_what_calls_are_for_the_workload(call: str, kind: str) -> None:
    from mplint.facts.workload import Workloads

    facts = facts_of(
        f"""
        import hashlib, logging, os, signal, socket, statistics, subprocess, time, urllib.parse, zlib
        import boto3
        import numpy as np
        import requests
        from .parsing import parse
        log = logging.getLogger()
        session = requests.Session()
        sock = socket.socket()
        s3 = boto3.client("s3")
        bucket = boto3.Session().resource("s3").Bucket("logs")
        self_client = None
        _cached = None
        def init():
            global self_client
            self_client = boto3.client("s3")
        def make_client():
            return boto3.client("s3", region_name="eu-west-1")
        def get_cached():
            global _cached
            if _cached is None:
                _cached = boto3.client("s3")
            return _cached
        helped = make_client()
        cached = get_cached()
        def helper(x): pass
        def f(url, cmd, a, b, data, h, path, msg, text, model, x, callback, key, table, jobs, thread):
            {call}
        """
    )
    site = call_named(facts, call)
    assert Workloads(facts).call_kind(site)[0] == kind


@pytest.mark.parametrize(
    "body, bound, heavy",
    [
        ("requests.get(url)", "I/O-bound", None),
        ("for u in urls:\n        requests.get(u)\n        n *= u", "I/O-bound", None),  # arithmetic while waiting
        ("for i in range(3):\n        time.sleep(2 ** i)", "unknown", None),  # a delay computed for a wait
        ("for u in urls:\n        n += 1\n    requests.get(url)", "I/O-bound", None),  # a counter
        ("for i, u in enumerate(urls):\n        log.info('%d of %d', i + 1, n)\n    requests.get(url)",
         "I/O-bound", None),  # bookkeeping around the I/O
        ("data = requests.get(url).text\n    return [c * 2 for c in data]", "unknown",
         "a comprehension doing arithmetic"),
        ("for row in requests.get(url).json():\n        total += row", "I/O-bound", None),  # a total
        ("for row in requests.get(url).json():\n        total += row ** 2", "unknown", "a loop doing arithmetic"),
        ("requests.get(url)\n    return '%s' % url + '!'", "I/O-bound", None),  # strings
        ("requests.get(url)\n    return f(url)", "unknown", "recursion in `f`"),
        ("return sum(u * u for u in urls)", "CPU-bound", "a comprehension doing arithmetic"),
        ("for u in urls:\n        total += u * u\n    return total", "CPU-bound", "a loop doing arithmetic"),
        ("for u in urls:\n        total += u * u\n    time.sleep(1)", "unknown", "a loop doing arithmetic"),
        ("for u in urls:\n        total += u * u\n    open(url).write(str(total))", "unknown",
         "a loop doing arithmetic"),
        ("for u in urls:\n        n += 1", "unknown", None),  # counting is not computing
        ("return [u * 2 for u in urls], parse(url)", "unknown", "a comprehension doing arithmetic"),
    ],
)
def test_work_has_one_of_three_answers(body: str, bound: str, heavy: str | None) -> None:
    from mplint.facts.workload import Workloads

    source = (
        "import logging, time\nimport requests\nfrom .parsing import parse\nlog = logging.getLogger()\n"
        f"def f(url, urls, n=0, total=0):\n    {body}\n"
    )
    facts = ModuleFacts(cst.parse_module(source))
    function = next(iter(facts.functions.values()))
    work = Workloads(facts).work_of([function])
    assert (work.bound.value, work.compute.what if work.compute else None) == (bound, heavy)


def test_work_in_c_code_that_releases_the_gil_is_cpu_bound_but_does_not_hold_the_gil() -> None:
    from mplint.facts.workload import Bound, Workloads

    source = "import zlib\ndef f(blobs):\n    return [zlib.compress(b) for b in blobs]\n"
    facts = ModuleFacts(cst.parse_module(source))
    work = Workloads(facts).work_of(list(facts.functions.values()))
    assert work.bound is Bound.CPU and work.releases_gil == "zlib.compress" and not work.holds_the_gil


def test_io_bound_calls_from_the_configuration_reach_the_rule() -> None:
    from mplint import lint_source
    from mplint.options import RuleOptions

    source = textwrap.dedent(
        """
        from concurrent.futures import ProcessPoolExecutor
        from mycompany import http

        def fetch(url):
            return http.fetch(url)

        if __name__ == "__main__":
            with ProcessPoolExecutor() as executor:
                print(list(executor.map(fetch, ["a", "b"])))
        """
    )
    assert lint_source(source, codes=["MPL004"]).findings == []  # unknown work: silent
    options = RuleOptions(io_bound_calls=("mycompany.http.",))
    [finding] = lint_source(source, codes=["MPL004"], options=options).findings
    assert finding.line == 9 and "`http.fetch(...)`" in finding.message and "io-bound-calls" in finding.message


def test_functions_registered_by_decorators_are_called_back() -> None:
    facts = facts_of(
        """
        import functools
        from flask import Flask
        app = Flask(__name__)
        @app.route("/")
        def index():
            def inner(): pass
        @functools.lru_cache(maxsize=None)
        def cached(): pass
        class Job:
            @property
            def size(self): pass
            @staticmethod
            def make(): pass
        def plain(): pass
        """
    )
    called_back = {f.name for f in facts.functions.values() if facts.state.called_back(f.scope)}
    assert called_back == {"index", "inner"}


def _function(facts: ModuleFacts, name: str):
    [function] = [f for f in facts.functions.values() if f.name == name]
    return function


def test_lock_regions_cover_with_blocks_and_acquire_release_spans() -> None:
    facts = facts_of(
        """
        def work(counter, lock, f):
            counter.value += 1
            with counter.get_lock():
                counter.value += 2
            lock.acquire()
            counter.value = counter.value + 3
            lock.release()
            counter.value = 4
            with open(f) as handle:
                counter.value += 5
        """
    )
    updates = facts.locks.regions(_function(facts, "work")).unlocked_updates
    assert [facts.code(u.node).strip() for u in updates] == ["counter.value += 1", "counter.value += 5"]
    assert all(facts.code(u.obj) == "counter" and u.index is None for u in updates)


def test_lock_regions_hold_the_with_body_not_its_items_nor_nested_functions() -> None:
    facts = facts_of(
        """
        def work(make_lock, lock, log):
            with make_lock():
                log("held")

                def later():
                    log("not this function's code")

            lock.acquire()
            log("between")
            lock.release()
            log("after")
        """
    )
    regions = facts.locks.regions(_function(facts, "work"))
    locked = sorted(facts.code(call) for call in regions.locked_calls)
    assert regions.takes_locks and locked == ['log("between")', 'log("held")']


def test_shared_values_know_the_route_and_who_races() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        hits = mp.Value("i", 0)
        def by_argument(total, slots, i):
            total.value += 1
            slots[i] += 1
            slots[0] += 1
        def by_global():
            hits.value += 1
        if __name__ == "__main__":
            total = mp.RawValue("i", 0)
            slots = mp.Array("i", 4)
            procs = [mp.Process(target=by_argument, args=(total, slots, i)) for i in range(4)]
            single = mp.Process(target=by_global)
        """
    )
    shared = facts.shared_values
    by_argument, by_global = _function(facts, "by_argument"), _function(facts, "by_global")
    assert shared.many_processes(by_argument) and not shared.many_processes(by_global)
    first, item, constant = facts.locks.regions(by_argument).unlocked_updates
    found = shared.source(first.obj, by_argument.scope)
    assert found is not None and (found.kind_name, found.route, found.has_lock) == ("RawValue", "passed", False)
    assert not shared.slot_is_shared(item.index, by_argument.scope)
    assert shared.slot_is_shared(constant.index, by_argument.scope)
    [update] = facts.locks.regions(by_global).unlocked_updates
    found = shared.source(update.obj, by_global.scope)
    assert found is not None and (found.kind_name, found.route, found.has_lock) == ("Value", "global", True)


def test_pool_results_follow_pending_results_into_lists_and_out_of_blocks() -> None:
    facts = facts_of(
        """
        from multiprocessing import Pool
        def main(items):
            with Pool() as pool:
                results = []
                for item in items:
                    r = pool.apply_async(len, (item,))
                    results.append(r)
                lazy = pool.imap(len, items)
                pool.apply_async(print)
            for r in results:
                r.get()
            print(list(lazy))
        """
    )
    [body] = facts.pool_results.bodies
    holders = {holder.name: holder for holder in body.holders.values()}
    assert set(holders) == {"results", "lazy"} and holders["results"].listed and holders["lazy"].lazy
    [block] = body.blocks
    late = {found.holder.name: found for found in facts.pool_results.consumed_after_exit()}
    assert set(late) == {"results", "lazy"} and all(found.block is block for found in late.values())
    assert facts.code(late["results"].wait.node) == "r.get()"
    assert late["lazy"].wait.use is Use.CONSUME
    [discarded] = facts.pool_results.never_waited()
    assert facts.code(discarded.call) == "pool.apply_async(print)"


def test_what_a_method_changes_on_its_object_and_progress_bars() -> None:
    facts = facts_of(
        """
        import tqdm
        from tqdm.auto import tqdm as bar_of
        class Stats:
            def __init__(self):
                self.total = 0
                self.names = []
                self.bar = bar_of(total=3)
            def add(self, n):
                self.total += n
                self._note(n)
            def _note(self, n):
                self.names.append(n)
            def rebound(self, n):
                self = Stats()
                self.total = n
            def read(self):
                return self.total
            @staticmethod
            def make(n):
                n.total = 1
        overall = tqdm.tqdm(total=10)
        stats = Stats()
        own = my_bar()
        """
    )
    state = facts.state
    changes = state.self_changes(_function(facts, "add"))
    assert [(c.attr, c.method.name) for c in changes] == [("total", "add"), ("names", "_note")]
    for name in ("rebound", "read", "make"):
        assert state.self_changes(_function(facts, name)) == []
    module = facts.module_scope
    assert facts.code(state.progress_bar(cst.Name("overall"), module)) == "tqdm.tqdm(total=10)"
    assert state.progress_bar(cst.Name("stats"), module) is None
    assert state.progress_bar(cst.Name("own"), module) is None
    add = _function(facts, "add")
    self_bar = cst.Attribute(cst.Name("self"), cst.Name("bar"))
    assert facts.code(state.progress_bar(self_bar, add.scope)) == "bar_of(total=3)"


def test_visibility_of_child_changes_to_the_parent() -> None:
    facts = facts_of(
        """
        import multiprocessing
        seen = []
        class Base(multiprocessing.Process):
            pass
        class Worker(Base):
            def run(self):
                self.done = True
                seen.append(1)
        class Other:
            pass
        def main():
            w = Worker()
            w.start()
            print(w.done, seen)
        main()
        """
    )
    visibility = facts.visibility
    worker = next(c for c, info in facts.classes.items() if info.name == "Worker")
    assert {facts.classes[c].name for c in visibility.family(worker)} == {"Base", "Worker"}
    run = _function(facts, "run")
    set_done, append = facts.state.mutations(run)
    assert facts.state.self_attribute(set_done, "self", run) == "done"
    root, plain = visibility.module_object(append)
    assert root.value == "seen" and plain.type == "list"
    assert facts.code(visibility.parent_attribute_read("done", visibility.family(worker))) == "w.done"
    assert visibility.parent_read("seen", facts.module_scope) is not None
    import_time, run_time = visibility.import_and_run_time(facts.module_scope.bindings["seen"])
    assert len(import_time) == 1 and run_time == []
    assert not visibility.fork_is_forced()


@pytest.mark.parametrize(
    "iterable, size",
    [
        ("(1, 2, 3)", "bounded"),
        ("range(4)", "bounded"),
        ("range(WORKERS)", "bounded"),
        ("range(os.cpu_count())", "bounded"),
        ("range(os.process_cpu_count() or 1)", "unknown"),
        ("range(min(8, len(items)))", "bounded"),
        ("range(args.workers)", "bounded"),
        ("range(n_procs)", "bounded"),
        ("items[:4]", "bounded"),
        ("os.listdir(folder)", "unbounded"),
        ("glob.glob('*.log')", "unbounded"),
        ("open(path)", "unbounded"),
        ("sys.stdin", "unbounded"),
        ("cursor.fetchall()", "unbounded"),
        ("enumerate(os.listdir(folder))", "unbounded"),
        ("range(len(items))", "unbounded"),  # a parameter nobody in the module passes
        ("items", "unbounded"),
        ("NAMES", "bounded"),  # a module constant
        ("sys.argv[1:]", "unknown"),  # the person running the program chooses
        ("self.items", "unknown"),
        ("registry.names()", "unknown"),
        ("range(n)", "unknown"),
    ],
)
def test_how_many_items_a_loop_goes_over(iterable: str, size: str) -> None:
    facts = facts_of(
        f"""
        import glob, os, sys
        WORKERS = 4
        NAMES = ["web", "worker"]
        def f(self, items, folder, path, cursor, args, n_procs, registry, n):
            for item in {iterable}:
                pass
        """
    )
    function = next(info for info in facts.functions.values() if info.name == "f")
    loop = function.node.body.body[0]
    judged = facts.fanouts.size_of(loop.iter, function.scope)
    assert judged.size.value == size, judged


def test_unpicklable_objects_in_what_a_dispatch_pickles() -> None:
    facts = facts_of(
        """
        import multiprocessing, threading, queue
        def rows():
            yield 1
        class Holder:
            shared = threading.Lock()
            def __init__(self):
                self.lock = threading.RLock()
                self._more()
            def _more(self):
                self.out = open("x", "wb")
            def run(self):
                self.later = threading.Event()
        class Custom(Holder):
            def __getstate__(self):
                return {}
        def main(items):
            lock = threading.Lock()
            h = Holder()
            with multiprocessing.Pool() as pool:
                pool.apply_async(print, (lock, rows()))
                pool.map(print, (x for x in items))
                pool.map(print, [(x for x in items)])
                pool.apply_async(h.run)
                pool.apply_async(Custom().run)
        """
    )
    first, second = facts.unpicklables.sent_by(facts.workers.dispatches[0])
    assert (facts.code(first.node), first.found.error) == ("lock", "TypeError: cannot pickle '_thread.lock' object")
    assert (facts.code(second.node), second.found.row.what) == ("rows()", "a generator")
    dispatches = facts.workers.dispatches
    assert facts.unpicklables.sent_by(dispatches[1]) == []  # the iterable is read in the parent
    [nested] = facts.unpicklables.sent_by(dispatches[2])
    assert nested.found.row.what == "a generator"
    held = facts.unpicklables.sent_by(dispatches[3])
    assert [(s.attribute, s.found.error) for s in held] == [
        ("lock", "TypeError: cannot pickle '_thread.RLock' object"),
        ("out", "TypeError: cannot pickle '_io.BufferedWriter' object"),
    ]
    assert facts.unpicklables.sent_by(dispatches[4]) == []  # pickles its own way


def test_pipe_ends_that_a_process_sends_on_and_where_the_parent_receives() -> None:
    facts = facts_of(
        """
        import multiprocessing
        def work(rows, conn):
            conn.send(rows)
        def flag(conn):
            conn.send(True)
        def main(rows):
            mine, theirs = multiprocessing.Pipe(False)
            p = multiprocessing.Process(target=work, args=(rows, theirs))
            q = multiprocessing.Process(target=flag, args=(theirs,))
            p.start()
            p.join()
            data = mine.recv()
            iter(mine.recv_bytes, b"")
        """
    )
    producers = facts.producers
    work, flag = (
        facts.values.instance_of(call_named(facts, text).node, facts.module_scope)
        for text in (
            "multiprocessing.Process(target=work, args=(rows, theirs))",
            "multiprocessing.Process(target=flag, args=(theirs,))",
        )
    )
    [sender] = producers.pipe_senders(work)
    assert (facts.code(sender.end), sender.resource.end, sender.worker.name) == ("theirs", 1, "work")
    assert list(producers.pipe_senders(flag)) == []  # a flag cannot fill the pipe
    main = facts.functions[next(n for n, f in facts.functions.items() if f.name == "main")].scope
    assert [facts.code(conn) for _, conn, _ in producers.recvs_in(main)] == ["mine", "mine"]
    assert producers.gets_in(main) == []


def test_reach_knows_handed_over_functions_worker_setup_and_what_the_parent_runs() -> None:
    facts = facts_of(
        """
        import functools, multiprocessing

        def _init(cfg): ...
        def _open(url): ...
        def called(): ...
        def setup(): ...
        def accessor(): ...
        def helper(): ...

        def serve(q):
            setup()
            for item in iter(q.get, None):
                helper()

        def work(q):
            called()

        def main():
            init = functools.partial(_init, 1)
            kw = dict(initializer=_open)
            called()
            multiprocessing.Process(target=serve, args=(None,)).start()
            multiprocessing.Process(target=work, args=(None,)).start()

        if __name__ == "__main__":
            main()
        """
    )
    names = lambda nodes: sorted(n.name.value for n in nodes)  # noqa: E731
    assert names(facts.reach.handed_over_only) == ["_init", "_open"]
    assert names(facts.reach._setup[1]) == ["setup"]  # work() is nothing but simple statements
    assert names(facts.reach.parent_reached) == ["called", "main"]


@pytest.mark.parametrize(
    "expr, small",
    [
        ("os.getpid()", True),
        ("len(rows)", True),
        ("delay", True),
        ("(i, os.getpid())", True),
        ("f'{i} done in {elapsed()}'", True),
        ("count", True),
        ("traceback.format_exc()", False),
        ("rows", False),
        ("'<p>' * size", False),
        ("trace", False),
        ("str(rows)", False),
    ],
)
def test_payloads_know_which_values_are_small(expr: str, small: bool) -> None:
    facts = facts_of(
        f"""
        import os, time, traceback

        def elapsed():
            return round(time.monotonic(), 3)

        def work(delay, rows, size):
            trace = []
            count = 0
            for i in range(3):
                count += 1
                trace.append(i)
            print({expr})

        work(2, open("f").readlines(), 10)
        """
    )
    site = call_named(facts, f"print({expr})")
    assert facts.payloads.small(site.node.args[0].value, site.scope) is small


@pytest.mark.parametrize(
    "guard, fork_only",
    [
        ('@pytest.mark.skipif(sys.platform == "win32", reason="")', True),
        ('@pytest.mark.skipif(sys.platform.startswith(("win", "cygwin")), reason="")', True),
        ('@pytest.mark.skipif(os.name != "posix", reason="")', True),
        ('@pytest.mark.skipif(not hasattr(os, "fork"), reason="")', True),
        ('@unittest.skipIf(platform.system() == "Windows", "")', True),
        ('@unittest.skipUnless(sys.platform.startswith("linux"), "")', True),
        ('@unittest.skipUnless("fork" in multiprocessing.get_all_start_methods(), "")', True),
        ('@pytest.mark.skipif(sys.platform == "win32" and sys.version_info < (3, 8), reason="")', False),
        ('@pytest.mark.skipif(sys.platform == "darwin", reason="")', False),
        ('@unittest.skipUnless(sys.platform == "win32", "")', False),
        ('@unittest.skipIf(hasattr(os, "fork"), "")', False),
        ("@pytest.mark.slow", False),
    ],
)
def test_skips_know_tests_meant_for_fork(guard: str, fork_only: bool) -> None:
    from mplint.facts.skips import fork_only as is_fork_only

    facts = facts_of(
        f"""
        import multiprocessing, os, platform, sys, unittest
        import pytest

        {guard}
        def test_it():
            print()
        """
    )
    site = call_named(facts, "print()")
    assert is_fork_only(facts, site.scope) is fork_only


def test_what_is_added_to_a_collection_is_read_per_name_and_scope() -> None:
    # the module's calls are indexed once by the name they add to (`Values.added_elements`)
    facts = facts_of(
        """
        import multiprocessing as mp
        procs = []
        procs.append(mp.Process(target=print))
        seen = set()
        seen.add(1)
        def f():
            procs = []
            procs.insert(0, 2)
            procs.append(3)
            seen.add(4)
            other.append(5)
            procs.append()
        procs += [6]
        """
    )
    module = facts.module_scope
    function = next(info.scope for info in facts.functions.values() if info.name == "f")

    def added(name, scope):
        return [facts.code(node) for node in facts.values.added_elements(name, scope)]

    assert added("procs", module) == ["mp.Process(target=print)", "6"]
    assert added("procs", function) == ["2", "3"]
    assert added("seen", module) == ["1", "4"]
    assert added("seen", function) == [] and added("other", module) == []


def test_calls_by_name_are_judged_with_the_configured_blocking_calls() -> None:
    from mplint.facts.workload import Workloads

    facts = facts_of(
        """
        import mycompany.http
        def f():
            mycompany.http.fetch()
        """
    )
    site = call_named(facts, "mycompany.http.fetch()")
    assert Workloads(facts).call_kind(site) == ("unknown", "mycompany.http.fetch")
    assert Workloads(facts, ("mycompany.http.",)).call_kind(site)[0] == "blocking"
    assert Workloads(facts).call_kind(site)[0] == "unknown"  # the tables of one are not another's


def test_a_qualified_name_is_kept_per_expression_and_scope() -> None:
    # the names are memoised by the ids of the expression and the scope (`Names.qualname`): an
    # expression made and dropped must not answer for the next one made at the same address
    facts = facts_of(
        """
        import multiprocessing as mp
        from os import path as p
        def f(mp):
            pass
        """
    )
    module = facts.module_scope
    inner = next(info.scope for info in facts.functions.values() if info.name == "f")
    for text, expected in [("mp.Pool", "multiprocessing.Pool"), ("p.join", "os.path.join")] * 50:
        assert facts.names.qualname(cst.parse_expression(text), module) == expected
    name = cst.parse_expression("mp.Pool")
    assert facts.names.qualname(name, module) == "multiprocessing.Pool"
    assert facts.names.qualname(name, inner) is None  # a parameter there
    assert facts.names.qualname(name, module) == "multiprocessing.Pool"
