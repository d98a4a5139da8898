"""A file written whole (`whole_files.py`): replaced at once, never left half-written, and no
temporary file left behind, whatever happens meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mplint import whole_files
from mplint.whole_files import write_whole


def test_a_file_is_written_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    write_whole(str(path), "first")
    assert path.read_text() == "first"
    write_whole(str(path), b"\xff second")
    assert path.read_bytes() == b"\xff second"
    write_whole(str(path), "é")
    assert path.read_bytes() == "é".encode("utf-8")
    assert os.listdir(tmp_path) == ["entry.json"]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o600  # as `tempfile.mkstemp` made them


def test_a_temporary_name_left_by_another_process_is_passed_over(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "entry.json"
    monkeypatch.setattr(whole_files, "_serial", iter(range(5)))
    stale = tmp_path / f".entry.json.{os.getpid()}.0.tmp"
    stale.write_text("left behind")
    write_whole(str(path), "new")
    assert path.read_text() == "new" and stale.read_text() == "left behind"
    assert sorted(os.listdir(tmp_path)) == [stale.name, "entry.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "entry.json"
    write_whole(str(path), "old")

    def refused(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OSError):
        write_whole(str(path), "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["entry.json"]
    with pytest.raises(OSError):
        write_whole(str(tmp_path / "missing" / "entry.json"), "new")
