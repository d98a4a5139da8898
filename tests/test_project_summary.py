"""Module summaries: what each field holds when read from a module's facts, that they survive
the cache's JSON, and that an entry of another layout is never misread."""

from __future__ import annotations

import json

import libcst as cst
import pytest

from mplint.facts import ModuleFacts
from mplint.project.readings import summarise
from mplint.project.summary import FORMAT, Summary

SOURCE = '''\
import multiprocessing
import threading

import requests

from app import shared

status = {}
names = []


def fetch(url):
    return requests.get(url, timeout=5).text


def crunch(values):
    total = 0
    for value in values:
        total += value * value
    return total


def record(i):
    status[i] = "done"
    shared.results[i] = 1
    shared.count = i


class Job:
    def run(self):
        self.done = True


def background():
    threading.Thread(target=print).start()


def joined():
    thread = threading.Thread(target=print)
    thread.start()
    thread.join()


def setup():
    multiprocessing.set_start_method("spawn")


def tolerant():
    try:
        multiprocessing.set_start_method("spawn")
    except RuntimeError:
        pass


def main(urls):
    job = Job()
    with multiprocessing.Pool(2) as pool:
        pool.map(record, range(3))
        pool.map(shared.work, urls)
    multiprocessing.Process(target=job.run).start()
'''


def summary_of(source: str, path: str = "app/jobs.py") -> Summary:
    return summarise(ModuleFacts(cst.parse_module(source), path, source))


def test_work_keeps_blocking_calls_and_computation() -> None:
    functions = summary_of(SOURCE).functions
    assert functions["fetch"].work.blocking == [(13, "requests.get(...)", "the network")]
    assert functions["crunch"].work.compute == (18, "a loop doing arithmetic")
    assert not functions["crunch"].work.blocking


def test_changes_name_the_module_state_they_touch() -> None:
    functions = summary_of(SOURCE).functions
    targets = [(c.target, c.in_place) for c in functions["record"].changes]
    assert targets == [("=status", False), ("app.shared.results", True), ("app.shared.count", False)]
    assert [c.target for c in functions["Job.run"].changes] == [".done"]
    assert [c.text for c in functions["Job.run"].changes] == ["self.done = ..."]


def test_threads_left_running_and_start_method_setters() -> None:
    functions = summary_of(SOURCE).functions
    assert functions["background"].threads == (35, "threading.Thread(target=print).start()")
    assert functions["joined"].threads is None
    assert functions["setup"].sets_method == (45, 'multiprocessing.set_start_method("spawn")')
    assert functions["tolerant"].sets_method is None


def test_hand_overs_to_children_and_plain_values() -> None:
    summary = summary_of(SOURCE)
    assert [h[0] for h in summary.handed] == ["app.shared.work"]  # `job.run` is the module's own
    assert summary.plain == {"status": "dict", "names": "list"}
    assert summary.functions["record"].child and not summary.functions["main"].child


def test_a_summary_survives_json() -> None:
    summary = summary_of(SOURCE)
    again = Summary.from_json(json.loads(json.dumps(summary.to_json())))
    assert again == summary


def test_an_entry_of_another_format_is_refused() -> None:
    data = summary_of(SOURCE).to_json()
    data["format"] = FORMAT - 1
    with pytest.raises(ValueError):
        Summary.from_json(data)
