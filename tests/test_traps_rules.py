"""What the messages of MPL006/MPL009/MPL010/MPL011 claim depends on the code: checked here.

The fixtures check where findings are; these tests check what the findings say where the wording
is chosen from the code (start method, platform, the fix written for this call)."""

from __future__ import annotations

import textwrap

from mplint import lint_source


def findings(source: str, code: str, path: str = "example.py"):
    result = lint_source(textwrap.dedent(source), path, codes=[code], noqa=False)
    assert result.error is None, result.error
    return result.findings


def test_unpicklable_target_names_the_platforms_only_when_the_start_method_is_the_default() -> None:
    default, spawn = findings(
        """
        import multiprocessing as mp
        def main():
            mp.Process(target=lambda: 1).start()
            mp.get_context("spawn").Process(target=lambda: 1).start()
        """,
        "MPL006",
    )
    assert "Windows and macOS" in default.message and "Python 3.14" in default.message
    assert "under the spawn start method this code uses" in spawn.message
    assert "Windows" not in spawn.message


def test_unpicklable_follows_the_start_method_set_by_the_module() -> None:
    source = """
        import multiprocessing as mp
        def main():
            mp.Process(target=lambda: 1).start()
            with mp.Pool(2) as pool:
                pool.map(lambda x: x, [1])
        if __name__ == "__main__":
            mp.set_start_method("{method}")
            main()
        """
    forked = findings(source.format(method="fork"), "MPL006")
    assert [f.line for f in forked] == [6]  # the pool still pickles its tasks
    assert "under any start method" in forked[0].message
    spawned = findings(source.format(method="spawn"), "MPL006")
    assert [f.line for f in spawned] == [4, 6]


def test_unpicklable_local_function_message_gives_its_qualified_name() -> None:
    (finding,) = findings(
        """
        import multiprocessing as mp
        class Job:
            def run(self, items):
                def step(x):
                    return x
                with mp.Pool(2) as pool:
                    return pool.map(step, items)
        """,
        "MPL006",
    )
    assert "`Job.run.<locals>.step`" in finding.message
    assert "move `step` to module level" in finding.message


def test_start_method_in_conftest_is_left_alone() -> None:
    source = 'import multiprocessing\nmultiprocessing.set_start_method("spawn")\n'
    assert findings(source, "MPL009", "tests/conftest.py") == []
    assert len(findings(source, "MPL009", "tests/helpers.py")) == 1


def test_start_method_message_suggests_a_context_of_the_same_module_and_method() -> None:
    (finding,) = findings('import torch.multiprocessing as tmp\ntmp.set_start_method("forkserver")\n', "MPL009")
    assert 'ctx = tmp.get_context("forkserver")' in finding.message
    (fork,) = findings('from multiprocessing import set_start_method\nset_start_method("fork")\n', "MPL009")
    assert 'multiprocessing.get_context("fork")' in fork.message
    assert "spawn or forkserver imports" not in fork.message  # forked children do not import it


def test_target_called_writes_the_fix_for_the_call_at_hand() -> None:
    messages = [
        f.message
        for f in findings(
            """
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor
            def work(a, b=0):
                print(a, b)
            def main():
                mp.Process(target=work(1)).start()
                with mp.Pool(2) as pool:
                    pool.apply_async(work(1, 2)).get()
                    pool.map(work(1), [1])
                with ProcessPoolExecutor() as ex:
                    ex.submit(work(1, b=2))
            """,
            "MPL010",
        )
    ]
    assert "`target=work, args=(1,)`" in messages[0]
    assert "the child does nothing" in messages[0]
    assert "`pool.apply_async(work, (1, 2))`" in messages[1]
    assert "`pool.map(functools.partial(work, 1), ...)`" in messages[2]
    assert "`ex.submit(work, 1, b=2)`" in messages[3]


def test_args_not_tuple_says_what_happens_for_each_kind_of_value() -> None:
    text, number, positional = findings(
        """
        import multiprocessing as mp
        def work(*a):
            pass
        def main():
            mp.Process(target=work, args=("alice"))
            mp.Process(target=work, args=(42))
            with mp.Pool(2) as pool:
                pool.apply(work, (None))
        """,
        "MPL011",
    )
    assert "one argument per character" in text.message and '`args=("alice",)`' in text.message
    assert "creating the `Process` raises" in number.message and "`args=(42,)`" in number.message
    assert "the arguments of `pool.apply(...)`" in positional.message
    assert "fails in the child" in positional.message
