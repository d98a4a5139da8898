"""A checked module's tree is freed when its check returns, not left to the collector: the
facts refer to one another, and a tree held from a reference cycle waits for a collection pass
over all of it (`ModuleFacts.release`)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from mplint.engine import check_and_summarise
from mplint.project.asked import Recorder

FIXTURES = Path(__file__).parent / "fixtures"
#: files whose checks ask the facts with back-references (lifecycles of names rebound and held
#: in collections, workers, shared state) and carry fixes
CHECKED = [
    "MPL002/bad_collections_never_joined.py",
    "MPL002/bad_annotated_assignments.py",
    "MPL001/bad_class_constructed_at_import.py",
]


def _garbage_after(check) -> list[object]:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        check()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


@pytest.mark.parametrize("name", CHECKED)
@pytest.mark.parametrize("summarise", [False, True])
def test_no_tree_is_left_to_the_collector(name: str, summarise: bool) -> None:
    path = FIXTURES / name
    text = path.read_text()

    def check() -> None:
        result, _summary = check_and_summarise(text, str(path), summarise=summarise, project=Recorder())
        assert result.findings  # checked, facts asked

    left = [o for o in _garbage_after(check) if type(o).__module__.startswith(("libcst", "mplint"))]
    assert left == []
