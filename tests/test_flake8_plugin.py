"""The flake8 plugin, through a real `flake8` process: same findings as the engine, stdin, noqa the
flake8 way, and the plugin listed by `flake8 --version`."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from console import mplint
from expectations import as_noqa, fixture_files
from mplint import __version__, lint_source
from mplint.flake8_plugin import CANNOT_CHECK, Plugin, enabled_codes, flake8_option, rule_settings
from mplint.options import RuleOptions
from mplint.rules import Rule, all_rules

pytestmark = pytest.mark.slow  # real flake8 processes

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_CODES = [rule.code for rule in all_rules() if rule.default_enabled]

BAD = """\
import multiprocessing as mp


def work(n):
    return n * 2


pool = mp.Pool(2)
print(pool.map(work, range(4)))
"""


def flake8(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # --isolated: no configuration file of this checkout or the user's may change what is reported
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def engine_lines(paths: list[Path], *, noqa: bool = True) -> list[str]:
    lines = []
    for path in paths:
        result = lint_source(path.read_bytes(), str(path), codes=DEFAULT_CODES, noqa=noqa)
        assert result.error is None, result.error
        lines += [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]
    return sorted(lines)


def test_flake8_select_mpl_reports_what_the_engine_reports() -> None:
    files = fixture_files(FIXTURES)
    expected = engine_lines(files)
    assert len(expected) >= 10  # the comparison means something only if there are findings to compare
    run = flake8("--select", "MPL", *map(str, files))
    assert run.returncode == 1, run.stderr
    assert sorted(run.stdout.splitlines()) == expected


def test_flake8_output_equals_the_mplint_command(tmp_path: Path) -> None:
    # the same files, named the same way: flake8's default format is mplint's text format
    files = [str(path.relative_to(FIXTURES)) for path in fixture_files(FIXTURES)]
    cli = mplint(*files, cwd=FIXTURES)
    assert cli.returncode == 1, cli.stderr
    run = flake8("--select", "MPL", *files, cwd=FIXTURES)
    # the command marks fixable findings with `[*]`; flake8 has no fixes
    assert sorted(run.stdout.splitlines()) == sorted(line.replace(" [*] ", " ", 1) for line in cli.stdout.splitlines())


def test_flake8_leaves_noqa_to_flake8() -> None:
    # with flake8's noqa handling switched off, every finding shows: the plugin does not filter
    files = fixture_files(FIXTURES)
    run = flake8("--select", "MPL", "--disable-noqa", *map(str, files))
    assert sorted(run.stdout.splitlines()) == engine_lines(files, noqa=False)


def test_stdin_with_display_name_as_editors_call_it() -> None:
    run = flake8("--select", "MPL", "--stdin-display-name", "pkg/tasks.py", "-", stdin=BAD)
    assert run.returncode == 1, run.stderr
    [line] = run.stdout.splitlines()
    [finding] = lint_source(BAD, "pkg/tasks.py").findings
    assert line == f"pkg/tasks.py:8:8: MPL001 {finding.message}"
    assert (finding.line, finding.column) == (8, 8)


@pytest.mark.parametrize(
    "comment, silenced",
    [
        ("  # noqa", True),
        ("  # noqa: MPL001", True),
        ("  # NOQA:MPL001,E501", True),
        ("  # noqa: MPL", True),  # flake8 matches codes by prefix
        ("  # noqa: E501", False),
        ("  # noqa: MPL002", False),
        ("", False),
    ],
)
def test_noqa_the_flake8_way(comment: str, silenced: bool) -> None:
    source = BAD.replace("pool = mp.Pool(2)", "pool = mp.Pool(2)" + comment)
    run = flake8("--select", "MPL", "-", stdin=source)
    assert (run.stdout == "") is silenced, run.stdout
    assert run.returncode == (0 if silenced else 1), run.stderr


def test_noqa_annotated_fixtures_are_silent_through_stdin() -> None:
    for path in fixture_files(FIXTURES / "MPL001")[:3]:
        run = flake8("--select", "MPL", "-", stdin=as_noqa(path.read_text(encoding="utf-8")))
        assert run.stdout == "", (path, run.stdout)


def test_flake8_version_lists_the_plugin() -> None:
    run = flake8("--version")
    assert run.returncode == 0, run.stderr
    assert re.search(rf"\bmplint: {re.escape(__version__)}\b", run.stdout), run.stdout


def test_other_flake8_checks_still_run_beside_the_plugin() -> None:
    run = flake8("--select", "MPL,F", "-", stdin=BAD + "import os\n")
    codes = sorted(line.split()[1] for line in run.stdout.splitlines())
    assert codes == ["F401", "MPL001"], run.stdout


RPC_JOBS = """\
from concurrent.futures import ProcessPoolExecutor

import mycompany.rpc


def ask(name):
    return mycompany.rpc.call("lookup", name)


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=8) as executor:
        print(list(executor.map(ask, ["a", "b"])))
"""


def test_rule_settings_as_flake8_options_match_the_mplint_command(tmp_path: Path) -> None:
    (tmp_path / "rpcjobs.py").write_text(RPC_JOBS)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mplint]\nextend-select = ["MPL004"]\nio-bound-calls = ["mycompany.rpc."]\n'
    )
    cli = mplint("rpcjobs.py", cwd=tmp_path)
    assert cli.returncode == 1, cli.stderr
    assert "MPL004" in cli.stdout

    # on the command line, and from flake8's own configuration file
    run = flake8("--extend-select", "MPL004", "--mplint-io-bound-calls", "mycompany.rpc.", "rpcjobs.py", cwd=tmp_path)
    assert run.stdout == cli.stdout
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nextend-select = MPL004\nmplint-io-bound-calls =\n    other.thing,\n    mycompany.rpc.\n"
    )
    configured = subprocess.run(
        [sys.executable, "-m", "flake8", "rpcjobs.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert configured.stdout == cli.stdout

    # without the setting the call is not known to wait on I/O
    assert flake8("--extend-select", "MPL004", "rpcjobs.py", cwd=tmp_path).stdout == ""


CPU_THREADS = """\
from concurrent.futures import ThreadPoolExecutor


def squares(limit):
    return sum(i * i for i in range(limit))


with ThreadPoolExecutor(max_workers=4) as executor:
    print(list(executor.map(squares, [10, 20])))
"""


def test_a_free_threaded_build_silences_mpl024_under_both_commands(tmp_path: Path) -> None:
    (tmp_path / "squares.py").write_text(CPU_THREADS)
    (tmp_path / "pyproject.toml").write_text('[tool.mplint]\nextend-select = ["MPL024"]\n')
    cli = mplint("squares.py", cwd=tmp_path)
    assert cli.returncode == 1 and "MPL024" in cli.stdout, cli.stderr
    assert flake8("--extend-select", "MPL024", "squares.py", cwd=tmp_path).stdout == cli.stdout
    assert flake8("--extend-select", "MPL024", "--mplint-free-threaded", "squares.py", cwd=tmp_path).stdout == ""
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-select = MPL024\nmplint-free-threaded = true\n")
    configured = subprocess.run(
        [sys.executable, "-m", "flake8", "squares.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert configured.returncode == 0 and configured.stdout == "", configured.stdout + configured.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.mplint]\nextend-select = ["MPL024"]\nfree-threaded = true\n')
    quiet = mplint("squares.py", cwd=tmp_path)
    assert quiet.returncode == 0 and "MPL024" not in quiet.stdout, quiet.stdout


def test_every_rule_setting_has_a_flake8_option() -> None:
    # a new field of RuleOptions needs a [tool.mplint] key, and the plugin derives its option from it
    fields = {field.name for field in dataclasses.fields(RuleOptions)}
    assert {option.key.replace("-", "_") for option in rule_settings()} == fields
    run = flake8("--help")
    for option in rule_settings():
        assert flake8_option(option) in run.stdout


# --- the adapter itself, without a flake8 process ---------------------------------------------------


def test_columns_are_zero_based_for_flake8() -> None:
    [(line, col, text, kind)] = list(Plugin(None, BAD.splitlines(keepends=True), "x.py").run())
    finding = lint_source(BAD, "x.py").findings[0]
    assert (line, col + 1) == (finding.line, finding.column)
    assert text == f"MPL001 {finding.message}"
    assert kind is Plugin


def test_a_file_mplint_cannot_check_is_reported_not_dropped() -> None:
    lines = ["import multiprocessing\n", "x = (\n"]  # flake8 itself would stop at E999 first
    [(line, col, text, _)] = list(Plugin(None, lines, "x.py").run())
    assert text.startswith(f"{CANNOT_CHECK} mplint could not check this file: cannot parse")
    assert line >= 1 and col >= 0


class _OptIn(Rule):
    """An opinionated rule."""

    code = "MPL050"
    name = "opinionated-thing"
    default_enabled = False


class _OnByDefault(Rule):
    """A rule on by default."""

    code = "MPL001"
    name = "default-thing"


@pytest.mark.parametrize(
    "select, extend_select, enabled",
    [
        (None, None, {"MPL001"}),
        (["MPL"], None, {"MPL001"}),  # what flake8 selects for the plugin anyway
        (None, ["MPL"], {"MPL001"}),
        (["MPL050"], None, {"MPL001", "MPL050"}),
        (None, ["E", "mpl05"], {"MPL001", "MPL050"}),
        (["MPL0"], None, {"MPL001", "MPL050"}),
        (None, ["MPL06"], {"MPL001"}),
    ],
)
def test_opt_in_rules_follow_flake8_select(select, extend_select, enabled) -> None:
    assert enabled_codes(select, extend_select, (_OnByDefault, _OptIn)) == enabled


def test_mplint_itself_never_imports_flake8() -> None:
    # flake8 must not be needed for the command line: checking a file works with flake8 made unimportable
    code = (
        "import sys; sys.modules['flake8'] = None\n"
        "import mplint, mplint.engine\n"
        f"r = mplint.lint_source({BAD!r}, 'x.py')\n"
        "assert [f.code for f in r.findings] == ['MPL001'], r\n"
        "assert not any(m.startswith('flake8') and sys.modules[m] for m in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


# Each line: a finding and a noqa comment in some form. mplint must suppress exactly what flake8
# suppresses, whatever the form; flake8 is the reference (a real flake8 process).
NOQA_FORMS = '''\
import multiprocessing

p1 = multiprocessing.Pool(1)  # NOQA: mpl001
p2 = multiprocessing.Pool(
    2,
)  # noqa: MPL001
p3 = multiprocessing.Pool(3)  # NoQa:MPL001
p4 = multiprocessing.Pool(4)  # noqa : MPL001
p5 = multiprocessing.Pool(5)  # noqa:MPL001,MPL002
p6 = multiprocessing.Pool(6)  # noqa: MPL
p7 = multiprocessing.Pool(7)  # noqa:  MPL002
p8 = multiprocessing.Pool(  # noqa: MPL001
    8)
p9 = multiprocessing.Pool(9) + \\
    0  # noqa: MPL001
p10 = multiprocessing.Pool("""
""")  # noqa: MPL001
p11 = multiprocessing.Pool(11)  #noqa:MPL001
p12 = multiprocessing.Pool(12)  # noqa: MPL001 because the pool lives as long as the program
p13 = multiprocessing.Pool(13)  # noqa:E501 MPL001
p14 = multiprocessing.Pool(14)  # noqa: mpl
p15 = multiprocessing.Pool(15)  # noqa:E501 # noqa:MPL001
p16 = multiprocessing.Pool(16); s = "# noqa"
p17 = multiprocessing.Pool(17)  # noqa:MPL002
p18 = multiprocessing.Pool(18)  #  noqa
'''


def test_mplint_suppresses_exactly_what_flake8_suppresses(tmp_path: Path) -> None:
    (tmp_path / "forms.py").write_text(NOQA_FORMS)
    reference = flake8("--select", "MPL", "forms.py", cwd=tmp_path)
    assert reference.returncode == 1, reference.stderr
    cli = mplint("--no-cache", "forms.py", cwd=tmp_path)
    assert cli.stdout.splitlines() == reference.stdout.splitlines()
    # and the comparison is not empty on either side: some forms suppress, some do not
    flagged = {int(line.split(":")[1]) for line in cli.stdout.splitlines()}
    assert flagged == {3, 4, 18, 22, 24, 25}


def test_flake8_on_a_file_with_nothing_to_parse_imports_neither_libcst_nor_a_rule(tmp_path: Path) -> None:
    """flake8 loads the plugin for every run: loading it and checking a file that the prefilter
    settles cost no LibCST, fact or rule import; a file to parse does import them (the test can
    fail)."""
    (tmp_path / "plain.py").write_text("x = 1\n")
    (tmp_path / "bad.py").write_text(BAD)

    def imported(name: str) -> set[str]:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "flake8", "--isolated", "--select", "MPL", name],
            capture_output=True, text=True, cwd=tmp_path, timeout=300,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}

    heavy = {"libcst", "mplint.facts", "mplint.engine"}
    plain = imported("plain.py")
    assert "mplint.runner" in plain and not plain & heavy  # the plugin ran: the check shows in the report
    assert not any(name.startswith("mplint.rules.") and name != "mplint.rules.base" for name in plain)
    assert heavy <= imported("bad.py")
