"""Findings with partial parsing and without it must be identical: this compares them.

    python benchmarks/partial_equivalence.py PATH... [--select MPL] [--files-only]

Two comparisons, each reported with its count of findings and the differences:

1. the command line, as users run it: `mplint --select MPL --no-cache --format json PATH...`,
   once as is and once with `MPLINT_NO_PARTIAL=1`, the findings and errors sorted;
2. every file that passes the prefilter checked alone with `mplint.lint_source` (no project
   around it, so partial parsing applies to every one of them, also to the files that a run
   over their project parses whole for its summary, and to the large modules of nearly all API
   code that `partial.dense` has parsed whole), blanked and whole, fixes included.

Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from mplint import partial, prefilter
from mplint.discovery import discover
from mplint.engine import lint_source

#: the standard library's installed packages are not the standard library
SKIP = ("site-packages",)


def _run_cli(paths: list[str], select: str, whole: bool) -> list:
    env = dict(os.environ)
    env.pop(partial.DISABLE, None)
    if whole:
        env[partial.DISABLE] = "1"
    command = [sys.executable, "-m", "mplint", "--select", select, "--no-cache", "--format", "json",
               "--exit-zero", f"--extend-exclude={','.join(SKIP)}", *paths]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"mplint gave no JSON: {done.stderr[-2000:]}")
    items = data if isinstance(data, list) else [data]
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def _per_file(paths: list[str], select: str) -> tuple[int, int, list[str]]:
    codes = [code for code in _all_codes() if code.startswith(select)]
    files = discover(paths, lambda path, **_: any(part in SKIP for part in Path(path).parts)).files
    checked = blanked_count = 0
    differences = []
    # a dense module is parsed whole by the command line; alone, its blanking is proven too
    partial.DENSE_FROM = sys.maxsize
    for path in files:
        data = Path(path).read_bytes()
        if not prefilter.may_contain_findings(data, threads=True):
            continue
        checked += 1
        os.environ.pop(partial.DISABLE, None)
        with_partial = lint_source(data, path, codes=codes)
        os.environ[partial.DISABLE] = "1"
        whole = lint_source(data, path, codes=codes)
        os.environ.pop(partial.DISABLE, None)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and partial.blank(text, threads=True) is not None:
            blanked_count += 1
        if _shown(with_partial) != _shown(whole):
            differences.append(f"{path}:\n  partial: {_shown(with_partial)}\n  whole:   {_shown(whole)}")
    return checked, blanked_count, differences


def _shown(result) -> list[str]:
    # the fix too: a blanked check whose finding lacks the fix the whole file gives is a difference
    found = [(f.line, f.column, f.end_line, f.end_column, f.code, f.message, repr(f.fix)) for f in result.findings]
    return [repr(item) for item in sorted(found)] + ([repr(result.error)] if result.error else [])


def _all_codes() -> list[str]:
    from mplint.rules import rule_defaults

    return list(rule_defaults())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--select", default="MPL")
    parser.add_argument("--files-only", action="store_true", help="skip the command-line comparison")
    args = parser.parse_args()
    failed = False
    if not args.files_only:
        blanked, whole = _run_cli(args.paths, args.select, False), _run_cli(args.paths, args.select, True)
        print(f"command line: {len(whole)} findings and errors whole, {len(blanked)} with partial parsing")
        for line in sorted(set(blanked) ^ set(whole)):
            failed = True
            print(("  only partial: " if line in blanked else "  only whole:   ") + line)
    checked, blanked_count, differences = _per_file(args.paths, args.select)
    print(f"files alone: {checked} checked, {blanked_count} partly blanked, {len(differences)} differ")
    for difference in differences:
        failed = True
        print(difference)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
