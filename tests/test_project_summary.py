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


# --- the link: facts of one module that come from another ---------------------------------------


def _linked(tmp_path, files: dict[str, str]):
    from mplint import prefilter
    from mplint.project.session import Session
    from mplint.runner import summarise_project
    from mplint.config import load_settings

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    session = Session(str(tmp_path))
    for name in files:
        data = (tmp_path / name).read_bytes()
        session.add(str(tmp_path / name), data, prefilter.may_contain_findings(data))
    session.explore(prefilter.may_contain_findings)
    summarise_project(session, load_settings(cwd=str(tmp_path)).rule_options, 1, None)
    return session


PROJECT = {
    "app.py": (
        "import multiprocessing\nimport lib\n\n\ndef main():\n"
        "    with multiprocessing.Pool(2) as pool:\n        pool.map(lib.work, range(3))\n"
    ),
    "lib.py": (
        "import deep\n\n\ndef work(x):\n    return helper(x)\n\n\ndef helper(x):\n    return deep.inner(x)\n\n\n"
        "def other():\n    import multiprocessing\n    with multiprocessing.Pool(2) as pool:\n"
        "        pool.map(square, range(3))\n\n\ndef square(x):\n    return x * x\n"
    ),
    "deep.py": "def inner(x):\n    return x\n",
}


def test_functions_reached_from_another_modules_worker_run_in_a_child(tmp_path) -> None:
    session = _linked(tmp_path, PROJECT)
    lib = session.facts_for(str(tmp_path / "lib.py")).in_child
    assert sorted(lib) == ["helper", "work"]
    assert lib["work"] == (("pool.map(...)", "app.py", 7), ("work()", "lib.py", 4))
    assert lib["helper"] == (("pool.map(...)", "app.py", 7), ("work()", "lib.py", 4), ("helper()", "lib.py", 8))
    # a module that hands nothing to children itself is not asked where its code runs
    assert not session.facts_for(str(tmp_path / "deep.py")).in_child


def test_code_run_in_a_child_through_another_module_is_not_the_parents(tmp_path) -> None:
    session = _linked(tmp_path, PROJECT)
    source = PROJECT["lib.py"]
    facts = ModuleFacts(cst.parse_module(source), "lib.py", source, session.facts_for(str(tmp_path / "lib.py")))
    by_name = {info.name: info for info in facts.functions.values()}
    assert facts.state.in_child(by_name["helper"].scope)
    assert not facts.state.in_child(by_name["other"].scope)
    alone = ModuleFacts(cst.parse_module(source), "lib.py", source)
    assert not alone.state.in_child(next(i for i in alone.functions.values() if i.name == "helper").scope)


def test_a_worker_of_another_module_gets_the_work_of_all_it_reaches(tmp_path) -> None:
    files = {
        "jobs.py": (
            "import multiprocessing\nimport net\n\n\ndef work(u):\n    return net.get(u)\n\n\n"
            "def not_a_worker(u):\n    return net.get(u)\n\n\n"
            "def main(urls):\n    with multiprocessing.Pool(2) as pool:\n        pool.map(work, urls)\n"
        ),
        "net.py": "import client\n\n\ndef get(u):\n    return client.fetch(u)\n",
        "client.py": "import requests\n\n\ndef fetch(u):\n    return requests.get(u, timeout=1)\n",
    }
    session = _linked(tmp_path, files)
    work = session.facts_for(str(tmp_path / "jobs.py")).work["net.get"]
    assert [(text, waits) for text, waits, _ in work.blocking] == [("requests.get(...)", "the network")]
    assert work.blocking[0][2] == (("get()", "net.py", 4), ("fetch()", "client.py", 4), ("requests.get(...)", "client.py", 5))
    assert work.unknown is None


def test_a_module_whose_workers_call_nothing_of_the_project_is_told_nothing(tmp_path) -> None:
    files = {
        "jobs.py": (
            "import multiprocessing\nimport net\n\n\ndef square(x):\n    return x * x\n\n\n"
            "def fetch_all(urls):\n    with multiprocessing.Pool(2) as pool:\n"
            "        pool.map(square, range(3))\n    return [net.get(u) for u in urls]\n"
        ),
        "net.py": "import requests\n\n\ndef get(u):\n    return requests.get(u, timeout=1)\n",
    }
    session = _linked(tmp_path, files)
    assert not session.facts_for(str(tmp_path / "jobs.py"))  # so its first check stands


def test_a_file_is_told_only_what_its_enabled_rules_ask(tmp_path) -> None:
    session = _linked(tmp_path, {
        "jobs.py": (
            "import multiprocessing\nimport net\n\n\ndef work(u):\n    return net.get(u)\n\n\n"
            "def main(urls):\n    with multiprocessing.Pool(2) as pool:\n        pool.map(work, urls)\n"
        ),
        "net.py": "import requests\n\n\ndef get(u):\n    return requests.get(u, timeout=1)\n",
    })
    told = session.facts_for(str(tmp_path / "jobs.py"))
    assert told.work and told.only_for({"MPL004"}) == told
    assert not told.only_for({"MPL001", "MPL003"})  # MPL004 and MPL024 are off: nothing to check again
