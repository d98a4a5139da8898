"""Facts behind the shared-resource rules: repeated calls, unpacked bindings, what a task pickles."""

from __future__ import annotations

from test_facts import call_named, facts_of

from mplint import apis


def test_loops_know_which_calls_repeat_and_which_loops_stop_early() -> None:
    facts = facts_of(
        """
        for x in once():
            every(x)
        else:
            after()
        while test():
            body()
            break
        [elt(y) for y in first() for z in inner(y) if cond(z)]
        for x in xs:
            def later():
                deferred()
            fn = lambda: in_lambda()
        """
    )
    loops = facts.loops
    repeated = {facts.code(s.node) for s in facts.calls if loops.loop_of(s.node) is not None}
    assert repeated == {"every(x)", "test()", "body()", "elt(y)", "inner(y)", "cond(z)"}
    assert not loops.may_stop_early(loops.loop_of(call_named(facts, "every(x)").node))
    assert loops.may_stop_early(loops.loop_of(call_named(facts, "body()").node))


def test_unpacking_a_display_gives_each_name_its_element() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        lock, (queue, n) = mp.Lock(), (mp.Queue(), 3)
        a, b = make()
        use(lock, queue, a)
        """
    )
    site = call_named(facts, "use(lock, queue, a)")
    kinds = [facts.values.instance_of(arg.value, site.scope) for arg in site.node.args]
    assert [k.kind if k else None for k in kinds] == [apis.Kind.LOCK, apis.Kind.QUEUE, None]


def test_carried_values_look_inside_displays_partials_zips_names_and_instances() -> None:
    facts = facts_of(
        """
        import functools, itertools
        import multiprocessing as mp

        class Task:
            def __init__(self, lock):
                self.lock = lock

        class Private:
            def __init__(self):
                self.lock = mp.Lock()
            def __getstate__(self):
                return {}

        def main(param):
            lock = mp.Lock()
            pairs = [(x, lock) for x in range(3)]
            later = []
            later.append(mp.Event())
            m = mp.Manager()
            use(
                functools.partial(f, lock=lock),
                zip(range(3), itertools.repeat(mp.Queue())),
                pairs,
                later,
                {"k": mp.Value("i", 0)},
                Task(mp.Semaphore()),
                param,
                m.Lock(),
                Private(),
            )
        """
    )
    site = call_named(facts, next(facts.code(s.node) for s in facts.calls if facts.code(s.node).startswith("use(")))
    found = [
        [c.instance.kind for c in facts.carried.carried(arg.value, site.scope)] for arg in site.node.args
    ]
    K = apis.Kind
    assert found == [[K.LOCK], [K.QUEUE], [K.LOCK], [K.EVENT], [K.SHARED_VALUE], [K.LOCK], [], [], []]
    private = next(c for c in facts.classes if c.name.value == "Private")
    assert facts.carried.held_by_instance(private) == []


def test_task_payload_covers_arguments_packed_tuples_kwds_and_map_iterables() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        def main(items, args, kwds):
            pool = mp.Pool()
            ex = ProcessPoolExecutor()
            pool.apply_async(f, args, kwds)
            pool.starmap(f, items, chunksize=4)
            ex.map(f, items, args, timeout=3)
            ex.submit(f, 1, key=2)
        """
    )
    payloads = {
        facts.code(d.site.node): [facts.code(e) for e in facts.carried.task_payload(d)]
        for d in facts.workers.dispatches
    }
    assert payloads == {
        # the callable itself is pickled too (a name may be bound to a `partial`)
        "pool.apply_async(f, args, kwds)": ["f", "args", "kwds"],
        "pool.starmap(f, items, chunksize=4)": ["f", "items"],
        "ex.map(f, items, args, timeout=3)": ["f", "items", "args"],
        "ex.submit(f, 1, key=2)": ["1", "2", "f"],
    }


def test_proxies_follow_names_self_and_parameters_and_find_changes_to_copies() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp

        def helper(shared):
            shared["k"].append(1)
            shared["k"] = []

        class Holder:
            def __init__(self, manager):
                self.ns = manager.Namespace()

            def touch(self):
                self.ns.items.append(2)
                self.ns.items = []

        def main():
            with mp.Manager() as m:
                d = m.dict()
                helper(d)
                Holder(m).touch()
                plain = {}
                plain["k"].append(3)
                nested = m.dict()
                nested["k"] = m.list()
        """
    )
    proxies = facts.proxies
    site = call_named(facts, "helper(d)")
    assert proxies.proxy_of(site.node.args[0].value, site.scope).type == "dict"
    changes = sorted(facts.code(c.node) for c in proxies.held_changes())
    assert changes == ['self.ns.items.append(2)', 'shared["k"].append(1)']
    nested = call_named(facts, "m.list()")
    holder = proxies.proxy_of(nested.node, nested.scope)
    assert holder is not None and holder.type == "list"
    outer = [s for s in facts.calls if facts.code(s.node) == "m.dict()"]
    assert [proxies.holds_proxies(proxies.proxy_of(s.node, s.scope)) for s in outer] == [False, True]


def test_statements_know_finally_blocks_of_their_own_function_returns_and_with_items() -> None:
    facts = facts_of(
        """
        try:
            body()
        finally:
            cleanup()
            def later():
                not_protected()
        def f(lock):
            with lock:
                inside()
            return made()
        """
    )
    statements = facts.statements
    in_finally = {facts.code(s.node) for s in facts.calls if statements.in_finally(s.node)}
    assert in_finally == {"cleanup()"}
    assert [facts.code(v) for v, _ in statements.returned] == ["made()"]
    (item, _, order), = statements.with_items
    assert facts.code(item.item) == "lock"
    assert order < statements.order(call_named(facts, "inside()").node)


def test_resources_know_pipe_ends_method_calls_and_escapes() -> None:
    facts = facts_of(
        """
        import multiprocessing as mp
        import elsewhere

        def child(conn):
            conn.send(1)

        def main():
            parent, kid = mp.Pipe()
            q = mp.Queue()
            hidden = mp.Queue()
            p = mp.Process(target=child, args=(kid,))
            elsewhere.consume(hidden)
            parent.recv()
            q.put(1)
        """
    )
    resources = facts.resources
    send = call_named(facts, "conn.send(1)")
    end = resources.resource_of(send.node.func.value, send.scope)
    assert end is not None and end.kind == "pipe" and end.end == 1
    recv = call_named(facts, "parent.recv()")
    assert resources.resource_of(recv.node.func.value, recv.scope).end == 0
    assert [facts.code(s.node) for s in resources.method_calls(end)] == ["conn.send(1)"]
    put = call_named(facts, "q.put(1)")
    q = resources.resource_of(put.node.func.value, put.scope)
    hidden = resources.resource_of(call_named(facts, "elsewhere.consume(hidden)").node.args[0].value, put.scope)
    assert not resources.escapes(q) and not resources.escapes(end) and resources.escapes(hidden)


def test_conditions_are_the_tests_handlers_and_with_blocks_around_a_call_in_its_function() -> None:
    facts = facts_of(
        """
        if ready():
            go()
        elif other():
            fallback()
        while more():
            step()
        else:
            done()
        value = left() or right()
        pick = yes() if flag() else no()
        try:
            risky()
        except ValueError:
            handler()
        with suppress(OSError):
            quiet()
        if outer():
            def later(x=default()):
                deferred()
        """
    )
    around = {
        facts.code(s.node): [(c.kind, facts.code(c.test) if c.test is not None else None)
                             for c in facts.conditions.around(s.node)]
        for s in facts.calls
    }
    assert around["ready()"] == []
    assert around["go()"] == [("test", "ready()")]
    assert around["other()"] == [("test", "ready()")]
    assert around["fallback()"] == [("test", "ready()"), ("test", "other()")]
    assert around["more()"] == [] and around["done()"] == []
    assert around["step()"] == [("test", "more()")]
    assert around["left()"] == [] and around["right()"] == [("test", "left()")]
    assert around["flag()"] == [] and around["yes()"] == around["no()"] == [("test", "flag()")]
    assert around["risky()"] == [("try", None)] and around["handler()"] == []
    assert around["quiet()"] == [("with", None)]
    assert around["default()"] == [("test", "outer()")]
    assert around["deferred()"] == []  # a def's body runs when it is called, not under the test
    risky = call_named(facts, "risky()")
    assert facts.conditions.handles(risky, "ValueError") and not facts.conditions.handles(risky, "KeyError")


def test_loops_stop_early_on_their_own_break_and_on_any_return_of_their_function() -> None:
    facts = facts_of(
        """
        def f(xs):
            for x in xs:
                for y in x:
                    inner(y)
                    break
                outer(x)
            for x in xs:
                while again():
                    retry(x)
                    return x
            for x in xs:
                later(x)
                def nested():
                    return 1
        """
    )
    loops = facts.loops
    def stops(call: str) -> bool:
        return loops.may_stop_early(loops.loop_of(call_named(facts, call).node))
    assert stops("inner(y)") and not stops("outer(x)")
    assert stops("retry(x)")
    assert loops.loop_of(call_named(facts, "again()").node) is loops.loop_of(call_named(facts, "retry(x)").node)
    assert not stops("later(x)")


def test_classes_know_their_derivation_and_the_class_whose_method_holds_code() -> None:
    facts = facts_of(
        """
        class Base:
            pass
        class Child(Base):
            def run(self):
                def helper():
                    work()
        class Other:
            pass
        top()
        """
    )
    classes = {info.name: cls for cls, info in facts.classes.items()}
    names = facts.names
    assert names.derives(classes["Child"], classes["Base"])
    assert not names.derives(classes["Base"], classes["Child"])
    assert names.related(classes["Base"], classes["Child"]) and not names.related(classes["Other"], classes["Base"])
    assert names.method_class(call_named(facts, "work()").scope) is classes["Child"]
    assert names.method_class(call_named(facts, "top()").scope) is None


def test_parents_tell_what_holds_a_node_and_which_loop_body_it_is_in() -> None:
    facts = facts_of(
        """
        for job in jobs:
            while busy():
                wait()
            if len(active) >= limit:
                pause()
            helper(lambda: deferred())
        else:
            after()
        """
    )
    helper = call_named(facts, "helper(lambda: deferred())")
    deferred = call_named(facts, "deferred()")
    assert facts.inside(deferred.node, helper.node) and not facts.inside(helper.node, deferred.node)
    loop = facts.module.body[0]
    loops = facts.loops
    assert [facts.code(w.test) for w in loops.whiles] == ["busy()"]
    assert loops.in_body(call_named(facts, "wait()").node, loop)
    assert not loops.in_body(call_named(facts, "after()").node, loop)
    assert not loops.in_body(deferred.node, loop)  # a lambda's body is code of its own
    assert facts.fanouts.caps_live_processes(loop)
