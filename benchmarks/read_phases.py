"""What a cold run costs before anything is parsed, step by step, on one corpus.

    python benchmarks/read_phases.py [PATH] [--repeat 5]

PATH defaults to this interpreter's standard library (its installed packages left out, as in
`run.py`). In this process, each step over every file found, CPU seconds (`time.process_time`),
the median of `--repeat` rounds, the steps interleaved within each round: discovery; reading
(`runner.read_source`); the check that lets an ASCII file be judged on its bytes
(`source.reads_as_ascii`) and the decoding of the others (`source.decode`); the prefilter cut
in its parts (the import lines, the verdict through them) and, beside it, the same verdict asked
of the whole text (what the import lines spare); the search for a `# noqa` in the files not
parsed; the whole precheck as a run makes it (`precheck.precheck`); and the stat index's
entries written as a cold run writes them (`file_index.FileIndex.save`, into a new folder each
round). Compare the whole runs with `run.py`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from typing import Callable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from mplint import precheck, prefilter
    from mplint.discovery import discover
    from mplint.file_index import FileIndex, Known, now_ns
    from mplint.runner import read_source
    from mplint.source import SourceError, decode, reads_as_ascii

    def excluded(path: str) -> bool:
        return "site-packages" in path.split(os.sep)

    files = discover([args.path], excluded).files
    datas = [data for data in map(read_source, files) if isinstance(data, bytes)]
    ascii_files = [data for data in datas if reads_as_ascii(data)]
    others = [data for data in datas if not reads_as_ascii(data)]

    def texts() -> list[bytes | str]:
        found: list[bytes | str] = []
        for data in datas:
            if reads_as_ascii(data):
                found.append(data)
                continue
            try:
                found.append(decode(data))
            except SourceError:
                pass
        return found

    sources = texts()
    lines = [prefilter.import_lines(source) for source in sources]
    noqa = precheck._NOQA_START

    def save_index() -> None:
        with tempfile.TemporaryDirectory() as folder:
            index = FileIndex(folder)
            seen = now_ns()
            for path in files:
                index.record(os.path.abspath(path), os.stat(path), seen + 10**10, Known("0" * 64, {"imports": []}))
            index.save()

    steps: dict[str, Callable[[], object]] = {
        "discovery": lambda: discover([args.path], excluded),
        "read every file": lambda: [read_source(path) for path in files],
        "ASCII check (reads_as_ascii)": lambda: [reads_as_ascii(data) for data in datas],
        "decode the others": lambda: [_decoded(data, decode) for data in others],
        "prefilter: the import lines": lambda: [prefilter.import_lines(source) for source in sources],
        "prefilter: the verdict through them": lambda: [
            prefilter._decide(source, imports, False) for source, imports in zip(sources, lines)],
        "(the verdict through the whole text)": lambda: [
            prefilter._decide(source, source, False) for source in sources],
        "a `# noqa` searched for": lambda: [noqa[isinstance(s, bytes)].search(s) for s in sources],  # type: ignore
        "precheck of every file, as a run": lambda: [precheck.precheck(data, "x.py") for data in datas],
        "stat index written (cold run)": save_index,
    }
    spent: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeat):
        for name, step in steps.items():
            start = time.process_time()
            step()
            spent[name].append(time.process_time() - start)
    size = sum(map(len, datas))
    print(f"{len(files)} files, {size / 1e6:.1f} MB ({len(ascii_files)} ASCII), "
          f"{sum(map(len, lines)) / 1e6:.2f} MB of import lines; load average {os.getloadavg()[0]:.2f}; "
          f"CPU s, medians of {args.repeat}")
    print("| step | CPU s |\n|---|---|")
    for name, times in spent.items():
        print(f"| {name} | {statistics.median(times):.4f} |")
    return 0


def _decoded(data: bytes, decode: Callable[[bytes], str]) -> str | None:
    try:
        return decode(data)
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
