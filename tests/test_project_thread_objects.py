"""Thread objects across modules (MPL016's project facts): a function's summary says when it
starts the thread it is handed or makes the thread it returns, and only then."""

from __future__ import annotations

import json

import libcst as cst

from mplint.facts import ModuleFacts
from mplint.project.readings import summarise
from mplint.project.summary import Summary

SOURCE = '''\
import threading

worker = threading.Thread(target=print)


def launch(thread):
    thread.start()


def launch_named(thread, name):
    thread.name = name
    thread.start()


def launch_and_wait(thread):
    thread.start()
    thread.join()


def launch_and_return(thread):
    thread.start()
    return thread


def later(thread):
    def go():
        thread.start()
    return go


class Runner:
    def launch(self, thread):
        thread.start()


def background(target):
    return threading.Thread(target=target, daemon=True)


def running(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def finished(target):
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return thread


def module_thread():
    return worker


def one_or_other(flag):
    if flag:
        return threading.Thread(target=print)
    return threading.Thread(target=input)
'''


def functions() -> dict:
    return summarise(ModuleFacts(cst.parse_module(SOURCE), "app/threads.py", SOURCE)).functions


def test_a_thread_handed_in_and_started_is_told_with_its_parameter() -> None:
    found = functions()
    assert found["launch"].starts_handed == (0, "thread", 7, "thread.start()")
    assert found["launch_named"].starts_handed == (0, "thread", 12, "thread.start()")


def test_a_thread_handed_in_and_joined_returned_or_started_later_is_not() -> None:
    found = functions()
    for name in ("launch_and_wait", "launch_and_return", "later", "Runner.launch", "background"):
        assert found[name].starts_handed is None, name


def test_the_thread_a_function_makes_and_returns_and_whether_it_runs() -> None:
    found = functions()
    assert found["background"].returns_thread == (37, "threading.Thread(...)", False)
    assert found["running"].returns_thread == (42, "thread.start()", True)


def test_a_joined_thread_one_made_elsewhere_or_two_threads_are_not_returned_threads() -> None:
    found = functions()
    for name in ("finished", "module_thread", "one_or_other", "launch_and_return"):
        assert found[name].returns_thread is None, name


def test_the_thread_fields_survive_json() -> None:
    summary = summarise(ModuleFacts(cst.parse_module(SOURCE), "app/threads.py", SOURCE))
    again = Summary.from_json(json.loads(json.dumps(summary.to_json())))
    assert again == summary
    assert again.functions["running"].returns_thread == (42, "thread.start()", True)


HANDS_ON = '''\
from app import start


def hand(thread):
    start.go(thread)


def hand_by_keyword(flag, worker):
    start.go(flag, thread=worker)


def hand_locally(thread):
    hand(thread)


def hand_and_join(thread):
    start.go(thread)
    thread.join()


def hand_twice(thread):
    start.go(thread)
    start.again(thread)


def behind_star(thread, rest):
    start.go(*rest, thread)


def hand_and_return(thread):
    start.go(thread)
    return thread


class Relay:
    def hand(self, thread):
        start.go(thread)
'''


def test_a_thread_handed_on_as_it_is_to_one_call_is_recorded_for_the_link() -> None:
    found = summarise(ModuleFacts(cst.parse_module(HANDS_ON), "app/relay.py", HANDS_ON)).functions
    assert found["hand"].hands_on == [(0, "thread", "app.start.go", 0, None, 5)]
    assert found["hand_by_keyword"].hands_on == [
        (0, "flag", "app.start.go", 0, None, 9), (1, "worker", "app.start.go", None, "thread", 9)
    ]
    assert found["hand_locally"].hands_on == [(0, "thread", "#hand", 0, None, 13)]
    for name in ("hand_and_join", "hand_twice", "behind_star", "hand_and_return", "Relay.hand"):
        assert found[name].hands_on == [], name
    summary = summarise(ModuleFacts(cst.parse_module(HANDS_ON), "app/relay.py", HANDS_ON))
    assert Summary.from_json(json.loads(json.dumps(summary.to_json()))) == summary
