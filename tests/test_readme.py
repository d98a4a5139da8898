"""The README's commands and example are true."""

from __future__ import annotations

import re
from pathlib import Path

from console import mplint as run

from mplint.config import OPTIONS, read_config
from mplint.discovery import SKIPPED_FOLDER_GLOBS, SKIPPED_FOLDERS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def block_after(marker: str) -> str:
    match = re.search(rf"<!-- {re.escape(marker)} -->\n```\w*\n(.*?)```", README, re.DOTALL)
    assert match, f"no code block after <!-- {marker} --> in README.md"
    return match.group(1)


def test_ci_runs_exactly_the_readme_test_command():
    command = block_after("test-command").strip()
    assert "pytest" in command
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert lines[-1] == command


def test_the_example_output_is_what_mplint_prints(tmp_path):
    (tmp_path / "squares.py").write_text(block_after("example: squares.py"))
    prompt, *expected = block_after("example-output").splitlines()
    assert prompt == "$ mplint squares.py"
    done = run("squares.py", cwd=tmp_path)
    assert done.returncode == 1
    assert (done.stdout + done.stderr).splitlines() == expected


def test_the_example_config_is_valid_and_shows_every_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text(block_after("example-config"))
    table = read_config(str(tmp_path / "pyproject.toml"))
    assert set(table) == {option.key for option in OPTIONS}


def test_the_always_skipped_folders_are_all_named():
    for name in (*SKIPPED_FOLDERS, *SKIPPED_FOLDER_GLOBS):
        assert f"`{name}`" in README, name
