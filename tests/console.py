"""Running the installed `mplint` console script, as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BAD = "import multiprocessing\n\npool = multiprocessing.Pool(4)\n"  # MPL001 at 3:8 (the call)
CLEAN = (
    "import multiprocessing\n"
    "\n"
    'if __name__ == "__main__":\n'
    "    with multiprocessing.Pool(4) as pool:\n"
    "        print(pool.map(abs, [-1, 2]))\n"
)


def console_script() -> Path:
    script = Path(sys.executable).parent / "mplint"
    if not script.exists():
        pytest.fail(f"the mplint console script is not installed next to {sys.executable}; "
                    "run `pip install -e '.[test]'` in this environment")
    return script


def mplint(*args: str, cwd: Path, stdin: bytes | str = b"") -> subprocess.CompletedProcess[str]:
    if isinstance(stdin, str):
        stdin = stdin.encode()
    done = subprocess.run(
        [str(console_script()), *args], cwd=cwd, input=stdin, capture_output=True, timeout=120
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def stderr_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return done.stderr.splitlines()


def assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def drop_command_memos(cache: Path) -> int:
    """Without the command memo (`command_memo.py`), the next run is the full one: for the tests
    of what sits behind it. How many entries there were."""
    entries = list(cache.glob("commands/*.marshal"))
    for entry in entries:
        entry.unlink()
    return len(entries)
