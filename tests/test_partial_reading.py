"""Partial parsing's reading (`mplint.partial`, `mplint.ast_units`): the methods a class defines
under a class-level `if` or `try` are units of their own, as its direct methods are (the facts
take them for methods of the class too), so that one of them using the API does not keep the
whole class; the reader passes over every value that is not a node; a large module that is
nearly all API code is parsed whole. Findings stay the same either way."""

from __future__ import annotations

import pytest

from mplint import partial
from mplint.engine import lint_source

from test_partial_module import _blanked, _findings


BLOCKS = '''\
import sys
import multiprocessing as mp


def work(item):
    return item * 2


class Tests:
    def setUp(self):
        self.items = [1, 2]

    def test_unrelated(self):
        return len("unrelated")

    try:
        import resource
    except ImportError:
        def test_also_unrelated(self):
            return len("also unrelated")

    if sys.platform != "win32":
        def test_pool(self):
            with mp.Pool() as pool:
                return pool.map(work, self.helper())
    else:
        def helper(self):
            return list(self.items)

    if sys.platform == "win32":
        def launch(self):
            return len("one platform")
    else:
        def launch(self):
            mp.Process(target=work, args=(1,)).start()
'''


def test_a_method_under_a_class_level_block_is_a_unit_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = _blanked(BLOCKS)
    # what the method that uses the API reaches is kept: its class, the method it names
    for kept in ("class Tests:", "def test_pool", "def helper", "if sys.platform"):
        assert kept in blanked, kept
    # the others are blanked, under a block or not
    for gone in ('len("unrelated")', 'len("also unrelated")'):
        assert gone not in blanked, gone
    # a method defined twice: the facts know the class's first definition, so a kept one keeps both
    assert 'len("one platform")' in blanked and "mp.Process(target=work" in blanked
    found = _findings(BLOCKS, monkeypatch, blanked=True)
    assert found == _findings(BLOCKS, monkeypatch, blanked=False)
    assert [code for _, _, code, _, _ in found] == ["MPL002"]


CHILD_SETS = '''\
import sys
import multiprocessing as mp


class Worker:
    if sys.platform != "win32":
        def run_job(self):
            self.result = 1

    def start(self):
        proc = mp.Process(target=self.run_job)
        proc.start()
        proc.join()

    try:
        import resource
    except ImportError:
        pass
    else:
        def report(self):
            return self.result

        def unrelated(self):
            return len("unrelated")
'''


def test_a_reader_under_a_block_that_a_finding_shows_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    blanked = _blanked(CHILD_SETS)
    assert "def run_job" in blanked and "def report" in blanked
    assert 'len("unrelated")' not in blanked
    found = _findings(CHILD_SETS, monkeypatch, blanked=True)
    assert found == _findings(CHILD_SETS, monkeypatch, blanked=False)
    assert [code for _, _, code, _, _ in found] == ["MPL003"]
    # the reader is what the finding shows: blanked by hand, the finding is gone
    lines = CHILD_SETS.splitlines()
    first = lines.index("        def report(self):") + 1
    without = partial.blank_lines(CHILD_SETS, [(first, first + 1)])
    assert _findings(without, monkeypatch, blanked=False) == []


MATCHED = '''\
import multiprocessing as mp


def classify(value):
    match value:
        case True:
            return "yes"
        case None:
            return "nothing"
        case 1.5 | -2 | b"raw":
            return "number"
    return "other"


def start():
    mp.Process(target=classify, args=(True,)).start()
'''


def test_the_reader_passes_over_every_value_that_is_not_a_node(monkeypatch: pytest.MonkeyPatch) -> None:
    # `case True:` holds a bool where a node could be: it once stopped the reading with an
    # internal error for the whole file
    assert lint_source(MATCHED, "sample.py").error is None
    accepted, blanked = partial.read(MATCHED, threads=False)
    assert accepted and blanked is None  # all of it is reached from `start`
    unrelated = MATCHED.replace("target=classify", "target=print")
    assert "case True" not in _blanked(unrelated)
    found = _findings(MATCHED, monkeypatch, blanked=True)
    assert found == _findings(MATCHED, monkeypatch, blanked=False)
    assert [code for _, _, code, _, _ in found] == ["MPL002"]


def _module(uses: int, unrelated: int) -> str:
    """A module of `uses` functions that start a pool and `unrelated` ones that do not."""
    parts = ["import multiprocessing as mp\n"]
    for number in range(uses):
        parts.append(
            f"\n\ndef use_{number}(items):\n    with mp.Pool(2) as pool:\n"
            f"        return pool.map(len, items)  # a Pool, a Process or a Queue\n"
        )
    for number in range(unrelated):
        parts.append(f"\n\ndef unrelated_{number}(items):\n    return sorted(items, key=len)[{number}:]\n")
    return "".join(parts)


def test_a_large_module_of_api_code_is_parsed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    dense = _module(uses=300, unrelated=30)
    assert len(dense) > partial.DENSE_FROM and partial.dense(dense)
    assert partial.read(dense, threads=False) == (False, None)  # as with partial parsing off
    found = _findings(dense, monkeypatch, blanked=True)
    assert found == _findings(dense, monkeypatch, blanked=False)
    # the same size with little API code: blanked
    sparse = _module(uses=10, unrelated=400)
    assert len(sparse) > partial.DENSE_FROM and not partial.dense(sparse)
    assert "unrelated_1(" not in _blanked(sparse)
    # a small module is read whatever it holds: its reading costs little
    small = _module(uses=20, unrelated=2)
    assert len(small) < partial.DENSE_FROM and not partial.dense(small)
    assert "unrelated_1(" not in _blanked(small)


HOLDS = '''\
import multiprocessing as mp


class Launcher:
    ctx = mp.get_context("spawn")
    kinds = [int, str]
    kinds.extend((mp.Queue,))

    def launch(self):
        self.ctx.Process(target=lambda: None).start()

    def describe(self):
        return len("unrelated")

    def count(self):
        return len(self.kinds)

    def start_pool(self):
        pool = mp.Pool(4)
        pool.map(abs, [1])


class Worker(mp.Process):
    def run(self):
        return len("in the child")

    def describe(self):
        return len("unrelated too")
'''


def test_a_class_whose_body_holds_api_objects_keeps_their_readers_not_all_its_methods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ctx = get_context()` or a list of the API's types at class level: the names are attributes
    that relevant code gives an API object, and their readers are kept, as for `self.pool =
    Pool()`; the class's other methods are blanked. A class whose bases name the API (a subclass
    of `Process`) keeps all of its methods."""
    blanked = _blanked(HOLDS)
    for kept in ("def launch", "def count", "ctx = mp.get_context", "kinds.extend", "def run", '"unrelated too"'):
        assert kept in blanked, kept
    assert '"unrelated")' not in blanked
    found = _findings(HOLDS, monkeypatch, blanked=True)
    assert found and found == _findings(HOLDS, monkeypatch, blanked=False)
