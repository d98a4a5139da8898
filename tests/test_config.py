"""Rule selection semantics and config loading, against a made-up rule set."""

from __future__ import annotations

import pytest

from mplint.config import (
    OPTIONS,
    CommandLine,
    ConfigError,
    Selection,
    check_selectors,
    load_settings,
    read_config,
    resolve_codes,
)

# code -> enabled by default
RULES = {"MPL001": True, "MPL002": True, "MPL010": False, "MPL101": True}


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (Selection(), {"MPL001", "MPL002", "MPL101"}),
        (Selection(select=("MPL0",)), {"MPL001", "MPL002", "MPL010"}),
        (Selection(select=("MPL",)), set(RULES)),  # select can turn on opt-in rules
        (Selection(select=()), set()),
        (Selection(extend_select=("MPL010",)), set(RULES)),
        (Selection(ignore=("MPL00",)), {"MPL101"}),
        (Selection(select=("MPL",), ignore=("MPL001",)), {"MPL002", "MPL010", "MPL101"}),
        (Selection(select=("MPL001",), ignore=("MPL",)), {"MPL001"}),
        (Selection(select=("MPL00",), ignore=("MPL00",)), set()),  # tie: ignore wins
        (Selection(select=("MPL",), ignore=("MPL0",), extend_select=("MPL01",)), {"MPL010", "MPL101"}),
        (Selection(ignore=("MPL0",), extend_select=("MPL002",)), {"MPL002", "MPL101"}),
        (Selection(ignore=("MPL",), extend_select=("MPL",)), set()),
    ],
)
def test_one_layer(layer, expected):
    assert resolve_codes(RULES, [layer]) == expected


@pytest.mark.parametrize(
    ("file", "command_line", "expected"),
    [
        # the command line's own select starts afresh
        (Selection(ignore=("MPL001",)), Selection(select=("MPL001",)), {"MPL001"}),
        # without one it refines what the file chose
        (Selection(select=("MPL001",)), Selection(extend_select=("MPL002",)), {"MPL001", "MPL002"}),
        (Selection(select=("MPL001",)), Selection(ignore=("MPL",)), set()),
        (Selection(ignore=("MPL",)), Selection(extend_select=("MPL1",)), {"MPL101"}),
        (Selection(extend_select=("MPL010",)), Selection(), set(RULES)),
    ],
)
def test_the_command_line_layer_goes_on_top_of_the_file(file, command_line, expected):
    assert resolve_codes(RULES, [file, command_line]) == expected


def test_selectors_are_upper_cased_and_must_match_a_rule():
    assert check_selectors("--select", ["mpl001", " MPL0 "], RULES) == ("MPL001", "MPL0")
    for bad in ["MPL3", "MPL0011", "E", "", "ALL"]:
        with pytest.raises(ConfigError, match=r"^--select: unknown rule code or prefix"):
            check_selectors("--select", ["MPL", bad], RULES)


def test_the_schema_table_holds_the_documented_keys():
    assert [o.key for o in OPTIONS] == [
        "select", "extend-select", "ignore", "exclude", "extend-exclude", "per-file-ignores",
        "src", "io-bound-calls", "free-threaded",
    ]
    for option in OPTIONS:
        assert option.doc and option.type
        assert option.default is None or option.valid(option.default)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_key_rejects_a_value_of_the_wrong_type(tmp_path, option):
    # a number is wrong for every key
    (tmp_path / "pyproject.toml").write_text(f"[tool.mplint]\n{option.key} = 3\n")
    with pytest.raises(ConfigError, match=rf"\[tool.mplint\] {option.key}: expected a {option.type}, got 3$"):
        read_config(str(tmp_path / "pyproject.toml"))


def write_config(folder, body):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text("[tool.mplint]\n" + body + "\n")


def test_settings_from_file_and_command_line(tmp_path):
    write_config(tmp_path, 'select = ["MPL0"]\nignore = ["MPL002"]\n'
                           '[tool.mplint.per-file-ignores]\n"tests/*" = ["MPL00"]\n"conftest.py" = ["MPL"]')
    settings = load_settings(CommandLine(), cwd=str(tmp_path / "sub"), rules=RULES)
    assert settings.config_path == str(tmp_path / "pyproject.toml")
    assert settings.enabled == {"MPL001", "MPL010"}
    assert settings.codes_for(str(tmp_path / "app.py")) == {"MPL001", "MPL010"}
    assert settings.codes_for(str(tmp_path / "tests" / "a" / "t.py")) == {"MPL010"}
    assert settings.codes_for(str(tmp_path / "pkg" / "conftest.py")) == frozenset()

    settings = load_settings(CommandLine(ignore=("MPL01",)), cwd=str(tmp_path), rules=RULES)
    assert settings.enabled == {"MPL001"}


def test_no_config_anywhere_gives_the_defaults(tmp_path):
    settings = load_settings(CommandLine(), cwd=str(tmp_path), rules=RULES)
    assert settings.config_path is None
    assert settings.enabled == {"MPL001", "MPL002", "MPL101"}
    assert settings.codes_for("anything.py") == settings.enabled


def test_excludes_are_anchored_to_their_folders(tmp_path):
    write_config(tmp_path, 'exclude = ["gen/*.py"]\nextend-exclude = ["old"]')
    cwd = tmp_path / "pkg"
    settings = load_settings(CommandLine(extend_exclude=("local/*.py",)), cwd=str(cwd), rules=RULES)
    assert settings.is_excluded(str(tmp_path / "gen" / "a.py"))
    assert not settings.is_excluded(str(cwd / "gen" / "a.py"))
    assert settings.is_excluded(str(cwd / "old"))  # a bare name matches anywhere
    assert settings.is_excluded(str(cwd / "local" / "a.py"))
    assert not settings.is_excluded(str(tmp_path / "local" / "a.py"))

    # --exclude replaces the file's exclude (its extend-exclude stays)
    settings = load_settings(CommandLine(exclude=("x",)), cwd=str(tmp_path), rules=RULES)
    assert not settings.is_excluded(str(tmp_path / "gen" / "a.py"))
    assert settings.is_excluded(str(tmp_path / "x"))
    assert settings.is_excluded(str(tmp_path / "old"))


def test_io_bound_calls_reach_the_rules_through_the_settings(tmp_path):
    write_config(tmp_path / "configured", 'io-bound-calls = ["mycompany.http.", "vendor.rpc.call"]')
    settings = load_settings(CommandLine(), cwd=str(tmp_path / "configured"), rules=RULES)
    assert settings.rule_options.io_bound_calls == ("mycompany.http.", "vendor.rpc.call")
    (tmp_path / "plain").mkdir()
    assert load_settings(CommandLine(), cwd=str(tmp_path / "plain"), rules=RULES).rule_options.io_bound_calls == ()


def test_a_free_threaded_build_is_declared_in_the_settings(tmp_path):
    write_config(tmp_path / "nogil", "free-threaded = true")
    assert load_settings(CommandLine(), cwd=str(tmp_path / "nogil"), rules=RULES).rule_options.free_threaded
    write_config(tmp_path / "gil", "free-threaded = false")
    assert not load_settings(CommandLine(), cwd=str(tmp_path / "gil"), rules=RULES).rule_options.free_threaded
    write_config(tmp_path / "wrong", 'free-threaded = "yes"')
    with pytest.raises(ConfigError, match="free-threaded: expected a boolean"):
        load_settings(CommandLine(), cwd=str(tmp_path / "wrong"), rules=RULES)
