"""Where the CPU of two workers goes, next to one process, on one corpus.

    python benchmarks/workers_split.py [PATH] [--repeat 5] [--jobs 2]

PATH defaults to this interpreter's standard library (its installed packages left out by
mplint's own default excludes, as in `run.py`). Each round runs `mplint PATH --no-cache` once
with `--jobs 1` and once with `--jobs N`, one after the other, each in a fresh Python process
that reports its own CPU (user + system, `getrusage(RUSAGE_SELF)`), its workers' CPU
(`RUSAGE_CHILDREN`), the page faults of both, and, in the process that checks the files itself
(`--jobs 1`), the CPU of importing LibCST, the facts and the rules (timed on their own before
the run, as a first check would import them: `parallel._freeze_what_lives`) and the CPU spent
inside the checks (`parallel.check_job`). With two workers started by forking (Linux before
Python 3.14), the parent makes those imports before the first worker starts. Each figure is the
median over the rounds. Compare whole runs, against the peers, with `run.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig

#: run in a fresh process: one mplint run over the corpus, then its figures as JSON on stdout
CHILD = r"""
import json, os, resource, sys, time
from mplint import parallel

inside = [0.0]
original = parallel.check_job

def timed(job):
    start = time.process_time()
    try:
        return original(job)
    finally:
        inside[0] += time.process_time() - start

parallel.check_job = timed
from mplint.cli import main

imports = 0.0
if sys.argv[2] == "1":  # the imports a first check makes, timed apart from the checks
    start = time.process_time()
    parallel._freeze_what_lives()
    imports = time.process_time() - start

with open(os.devnull, "w") as sink:
    sys.stdout = sink
    try:
        main([sys.argv[1], "--no-cache", "--jobs", sys.argv[2], "--quiet"])
    except SystemExit:
        pass
    sys.stdout = sys.__stdout__
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "own": own.ru_utime + own.ru_stime, "own faults": own.ru_minflt,
    "workers": workers.ru_utime + workers.ru_stime, "workers faults": workers.ru_minflt,
    "inside checks": inside[0], "imports": imports,
}))
"""


def run(path: str, jobs: int) -> dict[str, float]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, path, str(jobs)], capture_output=True, text=True, env=environment, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    if arguments.jobs < 2:
        parser.error("--jobs: 2 or more (the runs compared with --jobs 1)")
    run(arguments.path, 1)  # mplint's bytecode written, the files in the page cache
    rounds: dict[int, list[dict[str, float]]] = {1: [], arguments.jobs: []}
    for _ in range(arguments.repeat):
        for jobs in rounds:
            rounds[jobs].append(run(arguments.path, jobs))
    print(f"{arguments.path}: medians of {arguments.repeat} rounds; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'':12} {'total CPU s':>11} {'own':>7} {'workers':>8} {'imports':>8} {'in checks':>10} {'faults':>8}")
    for jobs, figures in rounds.items():
        def median(key: str) -> float:
            return statistics.median(figure[key] for figure in figures)

        total = statistics.median(figure["own"] + figure["workers"] for figure in figures)
        faults = statistics.median(figure["own faults"] + figure["workers faults"] for figure in figures)
        alone = f"{median('imports'):8.3f} {median('inside checks'):10.3f}" if jobs == 1 else f"{'':>8} {'':>10}"
        print(f"--jobs {jobs:<5} {total:11.3f} {median('own'):7.3f} {median('workers'):8.3f} {alone} {faults:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
