"""Where a cold run's CPU goes, phase by phase.

    python benchmarks/partial_phases.py PATH [--select MPL] [--whole]

Runs `mplint PATH --no-cache --jobs 1` in this process, each phase's function wrapped by a timer
(CPU seconds of this process, `time.process_time`), and prints the phases: the imports at
start-up, reading and prefiltering every file, the nesting check, partial parsing's own cost
(Python's parse and the reading of the units), LibCST's parse of what is kept, the facts' walk,
the rules (with the facts they ask for, computed lazily), and what is left (discovery, the
project session, reporting). `--whole` sets `MPLINT_NO_PARTIAL=1` first. The timers add a little
to each call: compare phases within one run, and whole runs with `benchmarks/run.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import inspect
import io
import os
import sys
import time
from collections import Counter
from typing import Callable

STARTED = time.process_time()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--select", default=None)
    parser.add_argument("--whole", action="store_true", help="partial parsing off")
    args = parser.parse_args()
    if args.whole:
        os.environ["MPLINT_NO_PARTIAL"] = "1"
    import libcst

    from mplint import cli, engine, nesting, partial, precheck, runner
    from mplint.facts import ModuleFacts
    from mplint.rules import all_rules

    rules = all_rules()
    imported = time.process_time() - STARTED
    spent: Counter[str] = Counter()

    def timed(owner: object, name: str, phase: str) -> None:
        function: Callable = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                done = function(*args, **kwargs)
                return iter(list(done)) if inspect.isgenerator(done) else done  # a rule's reports
            finally:
                spent[phase] += time.process_time() - start

        setattr(owner, name, wrapper)

    for owner in (precheck, engine):  # the runner imports it where it calls it, the engine once
        timed(owner, "precheck", "read + prefilter (precheck)")
    timed(runner, "read_source", "read + prefilter (precheck)")
    timed(nesting, "scan", "nesting check")
    timed(partial, "blank", "partial parsing: Python's parse + units")
    if hasattr(partial, "read"):  # what the engine calls (Python's parse, then the units)
        timed(partial, "read", "partial parsing: Python's parse + units")
    timed(libcst, "parse_module", "LibCST parse")
    timed(ModuleFacts, "__init__", "facts: the walk")
    timed(gc, "collect", "full collections (parallel.py, every 128 KB)")
    timed(engine, "without_form_feed_indents", "form feeds (source.without_form_feed_indents)")
    timed(engine, "unused_noqa", "MPL100 and noqa")
    timed(engine, "without_suppressed", "MPL100 and noqa")
    for rule in rules:
        timed(rule, "check", "rules (and the facts they ask)")
    command = ["mplint", args.path, "--no-cache", "--jobs", "1", "--exit-zero", "--format", "json"]
    if args.select:
        command += ["--select", args.select]
    sys.argv = command
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main()
        except SystemExit:
            pass
    run = time.process_time() - start
    total = time.process_time() - STARTED
    print(f"{'phase':45} {'CPU s':>7} {'share':>6}")
    print(f"{'start-up: Python and the imports':45} {imported:7.2f} {imported / total:6.0%}")
    for phase, seconds in spent.most_common():
        print(f"{phase:45} {seconds:7.2f} {seconds / total:6.0%}")
    rest = run - sum(spent.values())
    print(f"{'the rest (discovery, session, engine, report)':45} {rest:7.2f} {rest / total:6.0%}")
    print(f"{'total':45} {total:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
