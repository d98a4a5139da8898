"""MPL100: a `# noqa: MPL...` comment that no longer suppresses anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Collection, Iterable

from mplint.findings import Finding
from mplint.noqa import comments
from mplint.rules import rule_defaults
from mplint.rules.base import Report, Rule

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts

#: the family of mplint's codes: other tools' codes in a comment are theirs to judge
FAMILY = "MPL"


class UnusedNoqa(Rule):
    """Finds the codes of mplint's rules in a `# noqa: ...` comment that suppress no finding on the
    comment's line: the mistake was fixed, the code moved, or the comment names the wrong code.
    Only codes of rules that ran on the file are judged (a code of a rule that is not enabled may
    still be needed), and a bare `# noqa` or another tool's codes (`E501`) are left alone; a code
    that names no rule of mplint (a typo) is always reported. A code
    written in lower case (`mpl001`) is reported too: flake8 compares codes as written, so it never
    suppresses anything. Unlike the other rules it reads the findings of the others, so the engine
    runs it last, after every other rule."""

    code = "MPL100"
    name = "unused-noqa"
    summary = "A `# noqa: MPL...` comment that suppresses no finding"
    why = (
        "A suppression that suppresses nothing hides the next real finding on its line: when the "
        "line changes and the mistake it was written for comes back in another form, or a new one "
        "appears, nothing is reported. A stale `# noqa` also tells the reader that the line holds "
        "a known problem that is no longer there, and a code in the wrong case or the wrong code "
        "looks like a suppression while silencing nothing."
    )
    fix = (
        "Remove the codes the message names from the comment, and the comment if none is left. "
        "Write codes in upper case, as `mplint --list-rules` prints them. `mplint --add-noqa` "
        "adds the codes a line does need."
    )
    bad_example = '''\
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    # the pool is closed by its with block: MPL002 needs no suppression, and MPL202 is a typo
    with multiprocessing.Pool(4) as pool:  # noqa: MPL202
        print(pool.map(square, range(10)))
'''
    good_example = '''\
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        print(pool.map(square, range(10)))
'''
    references = (
        ("flake8: selecting and ignoring violations (in-line `# noqa`)",
         "https://flake8.pycqa.org/en/latest/user/violations.html#in-line-ignoring-errors"),
        ("ruff: unused-noqa (RUF100)", "https://docs.astral.sh/ruff/rules/unused-noqa/"),
    )
    default_enabled = False
    #: the engine runs this rule after the others, on their findings (see `mplint.noqa.unused`)
    reads_findings = True

    def check(self, facts: ModuleFacts) -> Iterable[Report]:
        return ()  # nothing to find in the tree: see `reads_findings`


def _reason(code: str, flagged: set[str]) -> str | None:
    """Why `code` of a comment suppresses nothing, given the codes found on its lines; None when
    it does suppress something."""
    if any(found == code or found.startswith(code) for found in flagged):
        return None
    upper = code.upper()
    if upper != code:
        if any(found.startswith(upper) for found in flagged):
            return (f"`# noqa` names `{code}`, which suppresses nothing: codes are compared as written, "
                    f"as flake8 does; write `{upper}`")
        return (f"`# noqa` names `{code}`, which suppresses nothing (codes are compared as written) "
                f"and mplint reports no {upper} finding on this line either: remove it")
    return (f"`# noqa` names `{code}`, but mplint reports no {code} finding on this line: remove "
            f"`{code}` from the comment (a stale suppression hides the next finding here)")


def unused_noqa(text: str, path: str, findings: Iterable[Finding], ran: Collection[str]) -> list[Finding]:
    """The MPL100 findings of a file: `findings` are every other rule's, before suppression, and
    `ran` the codes of the rules that ran on it."""
    found = list(findings)
    known = [code for code in rule_defaults() if code != UnusedNoqa.code]
    result = []
    for noqa in comments(text):
        if noqa.codes is None:
            continue
        flagged = {f.code for f in found if noqa.first_line <= f.line <= noqa.last_line}
        for code in sorted(noqa.codes):
            upper = code.upper()
            if not upper.startswith(FAMILY) or UnusedNoqa.code.startswith(upper):
                continue  # another tool's code, or one that covers this rule itself
            covered = [known_code for known_code in known if known_code.startswith(upper)]
            if any(known_code not in ran for known_code in covered):
                continue  # a rule it names did not run: it may still be needed
            reason = _reason(code, flagged) if covered else (
                f"`# noqa` names `{code}`, which is no rule of mplint (`mplint --list-rules` lists "
                "them): correct the code or remove it"
            )
            if reason is not None:
                result.append(Finding(path, noqa.line, noqa.column + 1, noqa.line, noqa.end_column + 1,
                                      UnusedNoqa.code, UnusedNoqa.name, reason))
    return result
