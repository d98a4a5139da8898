"""Fixes: every before/after fixture pair, idempotence, unsafe fixes only with the flag, and the
rounds and checks of `mplint.fixes.apply`."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from expectations import expected_findings, without_expectations
from mplint import lint_source
from mplint.fixes import SAFE, UNSAFE, Edit, Fix, Rewrite
from mplint.fixes.apply import apply_fixes, fix_source, fixes_for
from mplint.fixes.edits import apply_edits, edits_between
from mplint.fixes.rewrite import locate

FIXES = Path(__file__).parent / "fixtures" / "fixes"
PAIRS = sorted(p for p in FIXES.rglob("*.py") if not p.name.endswith(".fixed.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(FIXES))


def _after(before: Path) -> Path:
    return before.with_name(before.stem + ".fixed.py")


def test_there_are_pairs_for_every_rule_with_a_fix() -> None:
    from mplint.rules import all_rules

    with_fix = {rule.code for rule in all_rules() if rule.autofix}
    assert with_fix and with_fix <= {p.parent.name for p in PAIRS}
    for before in PAIRS:
        assert _after(before).is_file(), f"{before} has no {_after(before).name}"


@pytest.mark.parametrize("before", PAIRS, ids=_id)
def test_the_fix_gives_the_fixed_fixture(before: Path) -> None:
    source = before.read_text(encoding="utf-8")
    outcome = fix_source(source, str(before), unsafe=True)
    expected = _after(before).read_text(encoding="utf-8")
    assert without_expectations(outcome.source) == without_expectations(expected)
    # what remains is what the fixed fixture's annotations say
    assert sorted((f.line, f.code) for f in outcome.after.findings) == sorted(expected_findings(expected).elements())


@pytest.mark.parametrize("before", PAIRS, ids=_id)
def test_fixing_twice_changes_nothing_the_second_time(before: Path) -> None:
    for unsafe in (False, True):
        once = fix_source(before.read_text(encoding="utf-8"), str(before), unsafe=unsafe)
        twice = fix_source(once.source, str(before), unsafe=unsafe)
        assert not twice.changed and twice.applied == []


@pytest.mark.parametrize("before", PAIRS, ids=_id)
def test_unsafe_fixes_are_not_made_without_the_flag(before: Path) -> None:
    source = before.read_text(encoding="utf-8")
    outcome = fix_source(source, str(before))
    assert all(fix.safe for fix in outcome.applied)
    unsafe_left = [f for f in lint_source(source, str(before)).findings if f.fix and not f.fix.safe]
    if unsafe_left and not fixes_for(lint_source(source, str(before)).findings):
        assert not outcome.changed


def test_edits_are_the_characters_that_differ() -> None:
    old = 'p = Process(target=f, args=("a"))\r\nx = 1\r\n'
    new = 'p = Process(target=f, args=("a",))\r\nx = 1\r\n'
    assert edits_between(old, new) == (Edit(1, 32, 1, 32, ","),)
    assert apply_edits(old, edits_between(old, new)) == new
    assert edits_between(old, old) == ()
    moved = "a = 1\nb = 2\nc = 3\n"
    assert apply_edits(moved, edits_between(moved, "b = 2\nc = 3\na = 1\n")) == "b = 2\nc = 3\na = 1\n"


@pytest.mark.parametrize("old, new", [
    ("a\nb\nc\n", "a\nb\nc\nd\n"),  # added at the end: every old line is a common head
    ("a\nb\nc\n", "z\na\nb\nc\n"),  # added at the start: every old line is a common tail
    ("x\nx\nx\n", "x\nx\n"),  # head and tail overlap in the same lines
    ("a\nb\nb\na\n", "a\nb\na\n"),
    ("a\r\nb\r\nc", "a\r\nB\r\nc"),
    ("", "a\n"),
    ("keep\n" * 50 + "with Pool() as p:\n    p.map(f, xs)\n" + "end\n" * 3,
     "keep\n" * 50 + 'if __name__ == "__main__":\n    with Pool() as p:\n        p.map(f, xs)\n' + "end\n" * 3),
])
def test_edits_between_any_two_texts_turn_one_into_the_other(old: str, new: str) -> None:
    """The lines both texts begin and end with are left out of the matching: the edits still make
    the new text, and touch no line of the common head or tail."""
    edits = edits_between(old, new)
    assert apply_edits(old, edits) == new
    head = next((i for i, (a, b) in enumerate(zip(old.splitlines(), new.splitlines())) if a != b), None)
    if head is not None:
        assert all(edit.line > head for edit in edits)


def test_overlapping_fixes_wait_for_the_next_round() -> None:
    first = Fix("one", SAFE, (Edit(1, 1, 1, 2, "A"),))
    touching = Fix("two", SAFE, (Edit(1, 2, 1, 3, "B"),))
    apart = Fix("three", SAFE, (Edit(1, 4, 1, 5, "D"),))
    text, made = apply_fixes("abcde", [first, touching, apart])
    assert text == "AbcDe" and made == [first, apart]


def test_a_rewrite_whose_result_does_not_parse_is_no_fix() -> None:
    module = cst.parse_module("x = 1\n")
    # LibCST prints a tree Python cannot compile: a keyword used as a name
    broken = Rewrite("break it", lambda m: m.with_changes(body=[cst.SimpleStatementLine([cst.Expr(cst.Name("class"))])]))
    assert locate(module, broken) is None
    assert locate(module, Rewrite("nothing", lambda m: m)) is None


def test_a_fix_that_adds_a_finding_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rewrite that makes another finding appear: the file is left as it was."""
    from mplint.rules import args_not_tuple

    def bad_fix(facts, value, found):  # type: ignore[no-untyped-def]
        # "fixes" the tuple by creating a pool at import time (MPL001, a new finding)
        return Rewrite(
            "adds a pool",
            lambda module: module.with_changes(body=[*module.body, cst.parse_statement("POOL = multiprocessing.Pool(2)\n")]),
        )

    monkeypatch.setattr(args_not_tuple, "_fix", bad_fix)
    source = 'import multiprocessing\n\n\ndef f(x):\n    pass\n\n\nif __name__ == "__main__":\n    p = multiprocessing.Process(target=f, args=("ab"))\n    p.start()\n    p.join()\n'
    assert [f.code for f in lint_source(source).findings] == ["MPL011"]
    outcome = fix_source(source)
    assert not outcome.changed and outcome.applied == []


def test_fixes_that_do_not_touch_are_made_together() -> None:
    source = 'from multiprocessing import Process\n\n\ndef f(x):\n    pass\n\n\nif __name__ == "__main__":\n    Process(target=f, args=("ab")).start()\n    Process(target=f, args=("cd")).start()\n'
    outcome = fix_source(source, codes=["MPL011"])
    assert outcome.source.count('",)') == 2 and outcome.fixed_count == 2 and not outcome.after.findings
    assert len(outcome.applied) == 2


def test_applicability_of_each_fix() -> None:
    tuple_fix = lint_source('from multiprocessing import Process\n\ndef f(x):\n    pass\n\nif __name__ == "__main__":\n    Process(target=f, args=("ab")).start()\n', codes=["MPL011"]).findings[0].fix
    assert tuple_fix is not None and tuple_fix.applicability == SAFE
    called = lint_source('from multiprocessing import Process\n\ndef f():\n    print(1)\n\nif __name__ == "__main__":\n    Process(target=f()).start()\n', codes=["MPL010"]).findings[0].fix
    assert called is not None and called.applicability == UNSAFE


SCRIPT = 'import multiprocessing\n\n\ndef f(x):\n    return x\n\n\nwith multiprocessing.Pool(2) as pool:\n    print(pool.map(f, [1]))\n'


@pytest.mark.parametrize("name", ["conftest.py", "__init__.py", "test_jobs.py", "jobs_test.py", "setup.py"])
def test_the_guard_fix_is_only_for_scripts(name: str) -> None:
    [finding] = lint_source(SCRIPT, f"pkg/{name}", codes=["MPL001"]).findings
    assert finding.fix is None
    assert lint_source(SCRIPT, "pkg/jobs.py", codes=["MPL001"]).findings[0].fix is not None


def test_no_guard_fix_next_to_a_guard_it_cannot_merge_with() -> None:
    with_else = SCRIPT + 'if __name__ == "__main__":\n    pass\nelse:\n    pass\n'
    assert lint_source(with_else, "jobs.py", codes=["MPL001"]).findings[0].fix is None
    two = SCRIPT + 'if __name__ == "__main__":\n    pass\n' * 2
    assert lint_source(two, "jobs.py", codes=["MPL001"]).findings[0].fix is None


def test_findings_the_guard_reveals_are_not_new_ones() -> None:
    """MPL002 looks at a pool only once it is guarded: the MPL001 fix is kept, MPL002 then reports."""
    source = 'import multiprocessing\n\n\ndef f(x):\n    return x\n\n\npool = multiprocessing.Pool(2)\nprint(pool.map(f, [1]))\n'
    outcome = fix_source(source, "jobs.py")
    assert outcome.changed and [f.code for f in outcome.after.findings] == ["MPL002"]


POOL = 'import multiprocessing as mp\n\n\ndef sq(n):\n    return n * n\n\n\ndef run(xs):\n    pool = mp.Pool(2)\n    out = pool.map(sq, xs)\n    return out\n'


def test_the_pool_is_closed_and_joined_only_with_unsafe_fixes() -> None:
    [finding] = lint_source(POOL, codes=["MPL002"]).findings
    assert finding.fix is not None and finding.fix.applicability == UNSAFE
    assert not fix_source(POOL, codes=["MPL002"]).changed
    fixed = fix_source(POOL, codes=["MPL002"], unsafe=True)
    assert "    out = pool.map(sq, xs)\n    pool.close()\n    pool.join()\n    return out\n" in fixed.source
    assert not fixed.after.findings


def test_a_pool_last_used_in_a_loop_or_a_return_gets_no_fix() -> None:
    looped = POOL.replace("    out = pool.map(sq, xs)\n", "    for x in xs:\n        out = pool.map(sq, [x])\n")
    returned = POOL.replace("    out = pool.map(sq, xs)\n    return out\n", "    return pool.map(sq, xs)\n")
    for source in (looped, returned):
        assert [f.fix for f in lint_source(source, codes=["MPL002"]).findings] == [None]


COUNTER = 'import multiprocessing as mp\n\n\ndef work(v{extra}):\n{body}    v.value += 1\n\n\nif __name__ == "__main__":\n    v = mp.Value("i", 0)\n    ps = [mp.Process(target=work, args=(v{args})) for _ in range(2)]\n    for p in ps:\n        p.start()\n    for p in ps:\n        p.join()\n'


def test_the_value_lock_fix_is_safe_unless_another_lock_is_taken() -> None:
    plain = COUNTER.format(extra="", body="", args=",")
    [finding] = lint_source(plain, codes=["MPL005"]).findings
    assert finding.fix is not None and finding.fix.applicability == SAFE
    assert "    with v.get_lock():\n        v.value += 1\n" in fix_source(plain, codes=["MPL005"]).source
    other = COUNTER.format(extra=", lock", body="    lock.acquire()\n    lock.release()\n", args=", mp.Lock()")
    [finding] = lint_source(other, codes=["MPL005"]).findings
    assert finding.fix is not None and finding.fix.applicability == UNSAFE
    no_lock = plain.replace('mp.Value("i", 0)', 'mp.Value("i", 0, lock=False)')
    assert [f.fix for f in lint_source(no_lock, codes=["MPL005"]).findings] == [None]
