"""Reading a file's bytes (`runner.read_source`): all of them, whatever `fstat` said of its size."""

from __future__ import annotations

import os

import pytest

from mplint import runner


@pytest.mark.parametrize("size", [0, 1, 4095, 70_000, 3 * 2**20 + 7])
def test_every_byte_is_read(tmp_path, size: int) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    assert runner.read_source(str(path)) == path.read_bytes()


@pytest.mark.parametrize("told", [0, 10, 99_990, 100_000, 100_010, 400_000])
def test_a_file_that_grew_or_shrank_since_its_stat_is_read_to_its_end(tmp_path, told: int) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"x" * 100_000)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        assert runner._read_all(descriptor, told) == b"x" * 100_000
    finally:
        os.close(descriptor)
