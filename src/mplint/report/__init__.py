"""Output formats. Each format is one module of this package, named as `--format` spells it, with

    def write(run: mplint.runner.Run, out: TextIO) -> None

which prints the run's findings (already sorted by path, line, column) to `out`, and nothing else
there: problems with files and the summary go to stderr, written by the command line, whatever the
format.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Callable, TextIO

if TYPE_CHECKING:
    from mplint.runner import Run

Writer = Callable[["Run", TextIO], None]

#: the formats that print a finding's fix (or mark it fixable); the others print none, and with
#: `--quiet` (no "fixable" line) a run in one of them builds no fix
SHOWS_FIXES = frozenset({"text", "json", "sarif"})


def formats() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def printable(text: str) -> str:
    """`text` as valid Unicode, for the formats read by other programs (JSON, XML).

    A file name that is not valid UTF-8 (`bad\\xffname.py`) reaches Python with its undecodable
    bytes as lone surrogates, which no JSON or XML consumer accepts: each such byte is written as
    `\\xff`, as Python prints it, and the rest of the name is kept.
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that do not stand for bytes
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def writer(name: str) -> Writer:
    return importlib.import_module(f"{__name__}.{name}").write


def level(code: str) -> str:
    """How machine formats rank a finding: the rules on by default find bugs ("error"), the opt-in
    rules are opinions ("warning")."""
    from mplint.rules import rule_defaults

    return "error" if rule_defaults().get(code, True) else "warning"


def statistics(run: Run) -> str:
    """One line per rule with findings, most frequent first: count, code, name."""
    counts: dict[tuple[str, str], int] = {}
    for finding in run.findings:
        counts[finding.code, finding.name] = counts.get((finding.code, finding.name), 0) + 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for _, count in rows), default=1)
    return "\n".join(f"{count:>{width}}  {code}  {name}" for (code, name), count in rows)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(run: Run) -> str:
    """One line for stderr: what was found, in how many files, out of how many checked."""
    checked = _count(run.files_checked, "file") + " checked"
    if run.errors:
        checked += f", {_count(len(run.errors), 'file')} could not be checked"
    findings = run.findings
    if run.fixed:
        return (
            f"Found {_count(len(findings) + run.fixed, 'finding')} ({run.fixed} fixed, "
            f"{len(findings)} remaining); {checked}."
        )
    if not findings:
        return f"No findings ({checked})."
    return f"Found {_count(len(findings), 'finding')} in {_count(run.files_with_findings, 'file')} ({checked})."


def fixable(run: Run) -> str | None:
    """The line after the summary that says how many findings `--fix` would fix, if any."""
    safe = sum(1 for f in run.findings if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in run.findings if f.fix is not None and not f.fix.safe)
    if run.unsafe_fixes:
        if run.fixed is not None:
            return None  # every fix was made: those left could not be
        safe, unsafe = 0, safe + unsafe
    if run.fixed is not None:
        safe = 0  # the safe fixes were just made: those left could not be
    if safe:
        more = f" ({unsafe} more with `--fix --unsafe-fixes`)" if unsafe else ""
        return f"{safe} fixable with `--fix`{more}."
    return f"{unsafe} fixable with `--fix --unsafe-fixes`." if unsafe else None
