"""The shape every rule has: its metadata (which feeds --list-rules, the docs and SARIF) and a check."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Iterable, NamedTuple

from mplint.options import DEFAULT_OPTIONS, RuleOptions

if TYPE_CHECKING:  # neither is imported before a file is parsed: see rules.rule_defaults
    import libcst as cst

    from mplint.facts import ModuleFacts
    from mplint.fixes import Planned, Rewrite


class Report(NamedTuple):
    """A finding before it has a position: the engine locates the node only when needed.

    `fix`, when the rule knows the one right edit, is built with the helpers of `mplint.fixes`
    (a `Planned` one when working it out costs more than the check: it is planned only when the
    fix is built)."""

    node: cst.CSTNode
    message: str
    fix: Rewrite | Planned | None = None


class Rule:
    """Base of all rules. A subclass in any module of `mplint.rules` is registered by being defined.

    The class docstring is the rule's "What it does" paragraph.
    """

    code: ClassVar[str]  # "MPL" + three digits, so flake8's extend-ignore accepts it
    name: ClassVar[str]  # kebab-case slug that reads well after "ignore"
    summary: ClassVar[str]  # one line, for --list-rules
    why: ClassVar[str]  # why the mistake bites: which platform or start method, what happens
    fix: ClassVar[str]  # how to fix it
    bad_example: ClassVar[str]  # a program the rule reports (docs; checked by the tests)
    good_example: ClassVar[str]  # the same program, fixed (docs; checked by the tests)
    references: ClassVar[tuple[tuple[str, str], ...]] = ()  # (title, url)
    default_enabled: ClassVar[bool] = True  # opinionated rules are opt-in
    #: the rule looks at thread APIs (threading.Thread, ThreadPoolExecutor, ...): files that use
    #: only those pass the prefilter when it is enabled (read from the source by rules.thread_rules)
    judges_threads: ClassVar[bool] = False
    #: what `--fix` does for this rule and whether it is safe (the docs' "Fix" section); "" for none
    autofix: ClassVar[str] = ""

    def __init__(self, options: RuleOptions = DEFAULT_OPTIONS) -> None:
        #: settings from the configuration that some rules read (see mplint.options)
        self.options = options

    def check(self, facts: ModuleFacts) -> Iterable[Report]:
        raise NotImplementedError
