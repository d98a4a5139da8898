"""What a run loads: LibCST, the facts and the rules only once a file needs a parse; the rules'
metadata that is needed earlier is read from their source, and agrees with the classes; the collector
runs less often while a file is checked, and is given back its settings after."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from console import BAD, console_script, drop_command_memos, write
from mplint import engine
from mplint.rules import all_rules, rule_defaults, thread_rules

# (rule modules are imported by importlib, which the import-time report does not show; they import
# the facts, which it shows)
HEAVY = ("libcst", "mplint.facts", "mplint.engine")


def imported_modules(*args: str, cwd: Path, stdin: str = "") -> set[str]:
    """The modules the console script imports for `args` (Python's own import-time report)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("MPLINT_CACHE_DIR", None)
    done = subprocess.run(
        [str(console_script()), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
        input=stdin,
    )
    assert done.returncode in (0, 1), done.stderr
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_the_light_rule_metadata_is_what_the_rule_classes_say() -> None:
    assert rule_defaults() == {rule.code: rule.default_enabled for rule in all_rules()}
    assert not all(rule_defaults().values())  # an opt-in rule is among them: the test can fail
    assert thread_rules() == {rule.code for rule in all_rules() if rule.judges_threads}
    assert thread_rules()  # a rule that judges threads is among them


def test_a_run_with_nothing_to_parse_imports_neither_libcst_nor_facts_nor_rules(tmp_path: Path) -> None:
    write(tmp_path, {"plain.py": "x = 1\n", "threads.py": "import threading\n"})
    loaded = imported_modules("--no-cache", ".", cwd=tmp_path)
    assert "mplint.runner" in loaded  # the report is real: the run itself shows in it
    assert not loaded & set(HEAVY)


#: what a run whose files have nothing to parse, and no project module to import, does without:
#: the project-wide analysis (session, resolver and its `sysconfig` look-up, summaries, link,
#: what a project tells a file), the worker processes, the fixes, and a TOML reader when no
#: pyproject.toml is found
NOT_WITHOUT_A_PROJECT = (
    "mplint.project.session", "mplint.project.resolver", "mplint.project.summary",
    "mplint.project.link", "mplint.project.told", "mplint.project.asked", "mplint.parallel",
    "mplint.fixes", "sysconfig", "tomllib", "tomli",
)


@pytest.mark.slow
def test_a_file_with_nothing_to_parse_imports_no_project_analysis(tmp_path: Path) -> None:
    write(tmp_path, {"x.py": "x = 1\n"})
    runs = [("--no-cache", "x.py"), ("x.py",), ("x.py",)]  # no cache, then cold, then warm
    for args in runs:
        drop_command_memos(tmp_path / ".mplint_cache")  # (the warm run is the full one)
        loaded = imported_modules(*args, cwd=tmp_path)
        assert "mplint.runner" in loaded  # the report is real (the prefilter: when a file is read)
        assert not loaded & {*HEAVY, *NOT_WITHOUT_A_PROJECT}, args
    imported_modules("x.py", cwd=tmp_path)
    answered = imported_modules("x.py", cwd=tmp_path)  # by the command memo: less still
    assert "mplint.command_memo" in answered and not answered & {"mplint.runner", "mplint.cli", "click"}
    edited = imported_modules("-", "--stdin-filename", "x.py", cwd=tmp_path, stdin="x = 2\n")
    assert not edited & {*HEAVY, *NOT_WITHOUT_A_PROJECT} - {"mplint.project.told"}  # it returns them
    # nor does it look an entry up: no hash of the linter's sources, no JSON, no temporary file
    assert "mplint.cache" in edited  # (the cache is there: a buffer that could be parsed would use it)
    assert not edited & {"hashlib", "_hashlib", "json", "tempfile"}
    # the standard library is nobody's project: its names are told apart without a session
    write(tmp_path, {"x.py": "import os\nimport collections.abc\nx = os.sep\n"})
    loaded = imported_modules("x.py", cwd=tmp_path)
    assert "mplint.apis" in loaded  # asked whether `os` may be a project module (`scan.not_project`)
    assert not loaded & {*HEAVY, "mplint.project.resolver", "mplint.project.session", "mplint.project.link",
                         "mplint.parallel"}
    # a file that may import a project module takes the project's way, as one that uses the API
    write(tmp_path, {"x.py": "import helpers\n", "helpers.py": "y = 1\n"})
    assert {"mplint.project.session", "mplint.project.link"} <= imported_modules("x.py", cwd=tmp_path)


def test_a_run_answered_by_the_cache_imports_neither(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": BAD})
    first = imported_modules(".", cwd=tmp_path)
    assert set(HEAVY) <= first  # the cold run parses
    assert "tempfile" not in first  # and writes its entries whole without it (`whole_files.py`)
    assert not imported_modules(".", cwd=tmp_path) & set(HEAVY)


def test_checking_a_file_leaves_the_collector_as_it_was() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    original = engine._check

    def spy(*args):
        seen.append(gc.get_threshold())
        return original(*args)

    engine._check = spy
    try:
        result = engine.lint_source(BAD, "bad.py")
    finally:
        engine._check = original
    assert [finding.code for finding in result.findings] == ["MPL001"]
    assert seen and seen[0][0] >= engine.PARSE_GC_THRESHOLD  # collected less often meanwhile
    assert gc.get_threshold() == before


#: what a run with nothing to parse, into an empty cache folder or as an edited buffer, does
#: without: hashlib (OpenSSL's module: the few bytes such a run hashes go through the builtin
#: SHA-256, `digests.py`), `signal.py`'s enumerations (`interrupts.py` uses the C module), and on
#: Python 3.10 and 3.11 `datetime.py`, which click's import would run (`cli._datetime_in_c`)
NOT_WITH_NOTHING_TO_PARSE = ("hashlib", "_hashlib", "_blake2", "signal", *(("datetime",) if sys.version_info < (3, 12) else ()))


def test_a_first_run_and_an_edited_buffer_with_nothing_to_parse_import_less(tmp_path: Path) -> None:
    write(tmp_path, {"x.py": "x = 1\n"})
    first = imported_modules("x.py", "--cache-dir", "cache", cwd=tmp_path)
    assert "mplint.digests" in first and "click" in first  # the report is real: it hashed, and parsed options
    assert not first & set(NOT_WITH_NOTHING_TO_PARSE)
    edited = imported_modules("-", "--stdin-filename", "x.py", "--cache-dir", "cache", cwd=tmp_path, stdin="x = 2\n")
    assert "mplint.runner" in edited and not edited & set(NOT_WITH_NOTHING_TO_PARSE)


def test_standard_input_is_neither_looked_up_nor_recorded_by_the_command_memo() -> None:
    from mplint import command_memo

    assert command_memo._where(["x.py"]) is not None  # (a command it may answer)
    assert command_memo._where(["-", "--stdin-filename", "x.py"]) is None  # no look-up, no record: mplint's code unread
    assert command_memo._where(["--no-cache", "x.py"]) is None


def test_the_cache_s_fingerprint_shares_the_command_memo_s_reading_of_mplint_s_code(monkeypatch, tmp_path: Path) -> None:
    from mplint import identity
    from mplint.cache import Cache

    identity.at_start()  # (as the command memo's record of the run reads them)

    def read_again() -> list[str]:
        raise AssertionError("mplint's sources read twice for the start of one run")

    monkeypatch.setattr(identity, "source_stamps", read_again)
    assert len(Cache(str(tmp_path))._salt) == 64


def test_the_builtin_sha256_and_hashlib_s_give_the_same_digests(monkeypatch) -> None:
    import hashlib

    from mplint import digests

    monkeypatch.setattr(digests, "_hashed", 0)
    monkeypatch.setattr(digests, "_openssl", None)
    small = b"x = 1\n"
    assert digests.sha256_hex(small) == hashlib.sha256(small).hexdigest()
    assert digests._openssl is None  # the builtin hashed it
    digest = digests.sha256()
    digest.update(b"a")
    digest.update(b"b")
    assert digest.hexdigest() == hashlib.sha256(b"ab").hexdigest()
    large = bytes(range(256)) * (digests.BUILTIN_BYTES // 128)
    assert digests.sha256_hex(large) == hashlib.sha256(large).hexdigest()
    assert digests._openssl is hashlib.sha256  # past the limit: OpenSSL's, faster
    assert digests.sha256_hex(small) == hashlib.sha256(small).hexdigest()


def test_click_holds_datetime_s_own_class_and_datetime_imports_whole() -> None:
    probe = ("import sys, mplint.cli, click.types\n"
             "before = 'datetime' in sys.modules\n"
             "import datetime\n"
             "print(before, click.types.datetime is datetime.datetime, hasattr(datetime, 'MAXYEAR'),"
             " datetime.__name__, getattr(datetime, '__file__', None) is not None)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    before, same, *whole = done.stdout.split()
    assert before == str(sys.version_info >= (3, 12))  # 3.10, 3.11: click imported without datetime.py
    assert same == "True" and whole == ["True", "datetime", "True"]


def test_the_rules_metadata_is_kept_and_read_again_when_a_rule_file_changes(monkeypatch, tmp_path: Path) -> None:
    import marshal

    import mplint.rules as rules

    fresh = rules._read_metadata(rules._rule_modules())
    kept = tmp_path / "rule-metadata.marshal"
    monkeypatch.setattr(rules, "_kept_path", lambda: str(kept))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert rules._rule_metadata.__wrapped__() == fresh and kept.exists()  # written
    stamps, found = marshal.loads(kept.read_bytes())
    assert found == fresh and [name for name, *_ in stamps][-1] == "__init__"  # (how they are read, too)
    invented = (("MPL999", True, False),)
    kept.write_bytes(marshal.dumps((stamps, invented)))
    assert rules._rule_metadata.__wrapped__() == invented  # read from the kept file, not the sources
    name, size, mtime = stamps[0]
    kept.write_bytes(marshal.dumps(((( name, size, mtime + 1), *stamps[1:]), invented)))
    assert rules._rule_metadata.__wrapped__() == fresh  # a rule file changed (its time): read again
    for damaged in (b"", b"\x00garbage", marshal.dumps((stamps, (("MPL1", "yes", False),)))):
        kept.write_bytes(damaged)
        assert rules._rule_metadata.__wrapped__() == fresh
