"""The prefilter (`prefilter.py`) and the precheck's reading of ASCII bytes: the shortcuts give the
verdicts of the plain searches over the whole text, and nothing that can be resolved fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mplint import precheck, prefilter
from mplint.findings import FileResult
from mplint.source import decode, reads_as_ascii

#: statements and texts around the import patterns' edges: continuations, `;` and `try:`, a
#: carriage return alone as line end, prose in a docstring, lookalike names
PIECES = [
    "import multiprocessing", "from multiprocessing import Pool", "import os, \\\n    multiprocessing",
    "import os, \\\r\n    multiprocessing", "import os, \\\n\\\n  billiard", "from \\\n multiprocessing import Pool",
    "x = 1; import multiprocessing", "try: import multiprocessing", "  import  concurrent.futures",
    "from concurrent.futures import ProcessPoolExecutor", "ProcessPoolExecutor", "multiprocessing.Pool(2)",
    '"""\nfrom multiprocessing we take\n"""', "# from multiprocessing import Pool", "import multiprocessingx",
    "import mymultiprocessing", "import threading", "threading.Thread(target=f).start()", "Timer(1, f)",
    "os.fork()", "pty.forkpty()", "import os", "from os import fork", "import pebble", "import joblib as j",
    "from loky import get_reusable_executor", "import torch.multiprocessing as mp", "import pathos, mpire",
    "importer = 1", "from_ = 2", "reimport multiprocessing", "\\", "\r", "\n", "\t", ";", ":", " ",
    "import x,\\", "import a.billiard", "print('import multiprocessing')", "from\tjoblib import Parallel",
]


def _same_both_ways(text: str) -> None:
    for source in (text, text.encode()):
        lines = prefilter.import_lines(source)
        for threads in (False, True):
            assert prefilter._decide(source, lines, threads) == prefilter._decide(source, source, threads), (
                source, threads)
            assert prefilter.may_contain_findings(source, threads) == prefilter._decide(source, source, threads)


@pytest.mark.parametrize("piece", PIECES)
def test_each_piece_alone_and_between_lines(piece: str) -> None:
    for text in (piece, f"{piece}\n", f"x = 1\n{piece}\nthreading.Thread()\n", f"import threading\n{piece}\r"):
        _same_both_ways(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=8), st.sampled_from(["\n", "\r\n", "\r", " ", ""]))
def test_the_import_lines_give_the_whole_texts_verdict(pieces: list[str], separator: str) -> None:
    _same_both_ways(separator.join(pieces))


def test_what_passes_and_what_does_not() -> None:
    passes = [
        "import os, \\\n    multiprocessing\nmultiprocessing.Pool()\n",
        "import os, \\\r\n    billiard\n",
        "x = 1; from multiprocessing import Pool\n",
        "from concurrent.futures import ProcessPoolExecutor as P\n",
        "import threading\nthreading.Thread().start()\nimport os\nos.fork()\n",
    ]
    fails = [
        "import multiprocessingx\nmultiprocess\n",
        "from concurrent.futures import ThreadPoolExecutor\n",
        "import threading\nthreading.Thread().start()\n",  # threads alone: only with a thread rule
        "# multiprocessing is not imported here\nimport os\n",
        "import os, \\\nx\nmultiprocessing\n",
    ]
    for text in passes:
        assert prefilter.may_contain_findings(text) and prefilter.may_contain_findings(text.encode()), text
    for text in fails:
        assert not prefilter.may_contain_findings(text) and not prefilter.may_contain_findings(text.encode()), text
    assert prefilter.may_contain_findings(b"import threading\nThread()\n", threads=True)


def test_ascii_bytes_are_read_as_they_are_only_when_python_would() -> None:
    assert reads_as_ascii(b"import os\n")
    assert reads_as_ascii(b"")
    assert reads_as_ascii(b"x = 1\ny = 2\n# the coding of this text is ascii\n")  # a third line is not read
    assert not reads_as_ascii("x = 'é'\n".encode())
    assert not reads_as_ascii(b"x = 1\0\n")
    assert not reads_as_ascii(b"# -*- coding: latin-1 -*-\n")
    assert not reads_as_ascii(b"#!/usr/bin/env python\n# vim: set fileencoding=utf-8 :\n")
    assert not reads_as_ascii(b"\xef\xbb\xbfimport os\n")
    for data in (b"import os\n", b"x = 1\r\ny = 2\n"):
        assert decode(data) == data.decode("ascii")


@pytest.mark.parametrize("data", [
    b"import multiprocessing\nmultiprocessing.Pool(2)\n",
    b"import os\nx = 1  # NoQa: MPL001\n",
    b"import os\nx = 1  # noqa: MPL001\n",
    b"import os\nx = 1  # noqa\n",
    b"# coding: utf-8\nimport multiprocessing\n",
    b"x = 1\0\n",
    "import multiprocessing  # é\n".encode(),
    b"# coding: nonsense\nimport os\n",
])
def test_precheck_gives_for_the_bytes_what_it_gives_for_the_text(data: bytes) -> None:
    codes = ["MPL001", "MPL002", "MPL100"]
    from_bytes = precheck.precheck(data, "x.py", codes)
    try:
        text = decode(data)
    except Exception:
        assert isinstance(from_bytes, FileResult) and from_bytes.error is not None
        return
    assert from_bytes == precheck.precheck(text, "x.py", codes)
    if not isinstance(from_bytes, FileResult):
        assert isinstance(from_bytes[0], str)  # the kept file is handed on decoded


def test_a_stale_noqa_in_any_letter_case_is_found_in_a_file_not_parsed() -> None:
    for data in (b"x = 1  # NOQA: MPL001\n", b"x = 1  # nOqA: MPL001\n", "x = 'é'  # NoQA: MPL001\n".encode()):
        result = precheck.precheck(data, "x.py", ["MPL001", "MPL100"])
        assert isinstance(result, FileResult)
        assert [finding.code for finding in result.findings] == ["MPL100"], data
