"""The most that reading only the reachable top-level definitions could save of partial parsing.

    python benchmarks/partial_bound.py [PATH] [--repeat 3]

PATH defaults to this interpreter's standard library (its installed packages left out). With the
default rules, for each file that passes the prefilter and that partial parsing reads (not `partial.dense`): the CPU of
its reading (`partial.read`: Python's parse, the units, the decisions, the blanking; the best
of `--repeat`), and the share of its lines in top-level functions and classes that the reading
blanks whole (not one of their methods or members kept, not even as a definition). Reading
only the definitions that kept code can reach (Python's parser given only those, cut at the
lines where a top-level `def` or `class` starts) would save at most that share of the reading's
cost: the sum is an upper bound, before the cost of telling which definitions those are.
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from pathlib import Path

from mplint import engine, partial, prefilter
from mplint.python_tree import python_tree


def whole_share(text: str, threads: bool) -> float:
    """The share of `text`'s lines in top-level definitions that partial parsing blanks whole."""
    tree = python_tree(text)
    if tree is None:
        return 0.0
    units = partial.kept_units(tree, threads, partial._LINE_END.split(text)[0::2])
    blanked = 0
    for unit in units:
        if unit.kind == "def" and not unit.keep:
            blanked += unit.last - unit.first + 1
        elif unit.kind == "class" and not (
            unit.keep or any(m.keep or m.outline for m in unit.methods) or any(m.keep for m in unit.members)
        ):
            blanked += unit.last - unit.first + 1
    return blanked / max(len(text.splitlines()), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    threads = any(rule.judges_threads for rule in engine.enabled_rules(None))  # the default rules'
    rows = []
    for path in sorted(Path(arguments.path).rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if not prefilter.may_contain_findings(data, threads):
            continue
        text = data.decode("utf-8", "replace")
        if partial.dense(text):
            continue
        costs = []
        for _ in range(arguments.repeat):
            start = time.process_time()
            partial.read(text, threads)
            costs.append(time.process_time() - start)
        cost, share = min(costs), whole_share(text, threads)
        rows.append((cost * share, cost, share, str(path.relative_to(arguments.path))))
    rows.sort(reverse=True)
    print(f"{'file':45} {'reading s':>9} {'blanked whole':>13} {'at most saved s':>15}")
    for bound, cost, share, name in rows[:10]:
        print(f"{name:45} {cost:9.3f} {share:13.2f} {bound:15.3f}")
    print(f"{len(rows)} files read: reading {sum(r[1] for r in rows):.3f} s, at most saved {sum(r[0] for r in rows):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
