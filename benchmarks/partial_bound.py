"""The most that reading only the reachable top-level definitions could save of partial parsing.

    python benchmarks/partial_bound.py [PATH] [--repeat 3]

PATH defaults to this interpreter's standard library (found as a run finds files, its installed
packages left out). With the default rules, for each file that passes the prefilter and that
partial parsing reads (not `partial.dense`): the CPU of its reading (`partial.read`: Python's
parse, the units, the decisions, the blanking; the best of `--repeat`), and the share of its
lines in top-level functions and classes that the blanked text it gives back has blanked whole
(not one of their methods or members kept, not even as a definition). Reading
only the definitions that kept code can reach (Python's parser given only those, cut at the
lines where a top-level `def` or `class` starts) would save at most that share of the reading's
cost: the sum is an upper bound, before the cost of telling which definitions those are.
"""

from __future__ import annotations

import argparse
import ast
import sysconfig
import time
from pathlib import Path

from mplint import engine, partial
from mplint.discovery import discover
from mplint.precheck import precheck
from mplint.python_tree import python_tree


def whole_share(text: str, blanked: str | None) -> float:
    """The share of `text`'s lines in top-level functions and classes that `blanked` (what
    partial parsing made of it) blanks whole: their first line `pass`, every other line empty
    or a lone backslash (`partial.blank_lines`)."""
    tree = python_tree(text)
    if tree is None or blanked is None:
        return 0.0
    lines = blanked.splitlines()
    spared = 0
    for statement in tree.body:
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = min([statement.lineno, *(d.lineno for d in statement.decorator_list)])
        last = statement.end_lineno or first
        if lines[first - 1].strip() in ("pass", "pass \\") and all(
            line in ("", "\\") for line in lines[first:last]
        ):
            spared += last - first + 1
    return spared / max(len(lines), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    threads = any(rule.judges_threads for rule in engine.enabled_rules(None))  # the default rules'
    rows = []
    for path in discover([arguments.path]).files:
        ready = precheck(Path(path).read_bytes(), path)  # decoded and prefiltered as a run does
        if not isinstance(ready, tuple) or partial.dense(ready[0]):
            continue
        text = ready[0]
        costs = []
        for _ in range(arguments.repeat):
            start = time.process_time()
            _, blanked = partial.read(text, threads)
            costs.append(time.process_time() - start)
        cost, share = min(costs), whole_share(text, blanked)
        rows.append((cost * share, cost, share, str(Path(path).relative_to(arguments.path))))
    rows.sort(reverse=True)
    print(f"{'file':45} {'reading s':>9} {'blanked whole':>13} {'at most saved s':>15}")
    for bound, cost, share, name in rows[:10]:
        print(f"{name:45} {cost:9.3f} {share:13.2f} {bound:15.3f}")
    print(f"{len(rows)} files read: reading {sum(r[1] for r in rows):.3f} s, at most saved {sum(r[0] for r in rows):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
