"""Reading the expected findings that fixtures carry inline: `pool = Pool(4)  # error: MPL001`."""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from pathlib import Path

_EXPECT = re.compile(r"#\s*error:\s*(?P<codes>MPL\d{3}(?:[\s,]+MPL\d{3})*)")


def expected_findings(source: str) -> Counter[tuple[int, str]]:
    """(line, code) -> how many findings the fixture expects there.

    Only real comments count (read with the tokenizer), so a string that merely contains the
    marker is no expectation.
    """
    expected: Counter[tuple[int, str]] = Counter()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            match = _EXPECT.search(token.string)
            if match:
                for code in re.split(r"[\s,]+", match.group("codes").strip()):
                    expected[(token.start[0], code)] += 1
    return expected


def as_noqa(source: str) -> str:
    """The same fixture with every expectation turned into a suppression of that code."""
    return _EXPECT.sub(lambda m: "# noqa: " + ",".join(re.split(r"[\s,]+", m.group("codes").strip())), source)


def without_expectations(source: str) -> str:
    """The fixture with its expectation comments removed (a fix keeps comments: a fixed fixture
    carries only the expectations of what remains, so before and after compare without them)."""
    return re.sub(r"[ \t]*" + _EXPECT.pattern + r"[ \t]*$", "", source, flags=re.MULTILINE)


def fixture_files(root: Path) -> list[Path]:
    """The single-file fixtures (the multi-file projects under projects/ have their own test)."""
    return sorted(p for p in root.rglob("*.py") if "projects" not in p.relative_to(root).parts[:1])
